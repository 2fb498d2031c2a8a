// RUN: shears-opt %s --shears-convert-to-ukernels=release-weights | FileCheck %s

// With release-weights a packed weight's original bytes are freed only when
// no op refers to them any more: %shared is still returned after its linear
// layer is packed, so its blob stays whole (two rows of 1.0, 2.0), while
// %alone's constant is gone from the module.
// CHECK-LABEL: func.func @weights
// CHECK-DAG: %[[SHARED:.+]] = shears.constant dense_resource<shared> : tensor<2x2xf32>
// CHECK-DAG: shears.constant dense_resource<shared.packed> : tensor<1x2x32xf32>
// CHECK-DAG: shears.constant dense_resource<alone.packed> : tensor<1x2x32xf32>
// CHECK-NOT: dense_resource<alone>
// CHECK: return %{{.+}}, %{{.+}}, %[[SHARED]]
// CHECK: shared: "0x040000000000803F000000400000803F00000040"
// CHECK-NOT: alone: "
func.func @weights(%x: tensor<1x2xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>, tensor<2x2xf32>) {
  %shared = shears.constant dense_resource<shared> : tensor<2x2xf32> loc("shared")
  %alone = shears.constant dense_resource<alone> : tensor<2x2xf32> loc("alone")
  %y = shears.linear %x, %shared : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  %z = shears.linear %x, %alone : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  return %y, %z, %shared : tensor<1x2xf32>, tensor<1x2xf32>, tensor<2x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      shared: "0x040000000000803F000000400000803F00000040",
      alone: "0x040000000000803F000000400000803F00000040"
    }
  }
#-}
