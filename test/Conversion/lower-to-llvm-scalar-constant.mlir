// RUN: shears-opt %s --shears-lower-to-llvm | FileCheck %s

// A rank-0 weight blob (an ONNX scalar initializer, such as an exponent or
// an epsilon) becomes a plain dense constant: a rank-0
// global needs its value as a splat, which a resource blob cannot give.
// CHECK: llvm.mlir.global private constant @{{.*}}(3.000000e+00 : f32)
// CHECK: llvm.intr.pow
func.func @main(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %three = shears.constant dense_resource<three> : tensor<f32>
  %0 = shears.pow %x, %three : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      three: "0x0400000000004040"
    }
  }
#-}
