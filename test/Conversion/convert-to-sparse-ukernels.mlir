// RUN: shears-opt %s --shears-convert-to-ukernels --split-input-file | FileCheck %s
// RUN: shears-opt %s --shears-convert-to-ukernels=sparse-density=0 --split-input-file | FileCheck %s --check-prefix=DENSE
// RUN: shears-opt %s --shears-convert-to-ukernels=sparse-density=0.05 --split-input-file | FileCheck %s --check-prefix=LOWER

// A linear layer whose weight is 1/8 non-zero (at most the default 0.2) runs
// on spgemm: the weight becomes its compressed rows, in 32-bit words:
// row starts [0, 1, 1, 2, 2] (int32), columns [0, 3], values [2.0, -1.0].
// The bias is the epilogue's, as for gemm (flags 1).
// CHECK-LABEL: func.func @sparse
// CHECK: %[[W:.+]] = shears.constant dense_resource<w.sparse> : tensor<9xf32>
// CHECK: shears.ukernel "spgemm" ins(%arg0, %[[W]], %{{.+}} : tensor<?x4xf32>, tensor<9xf32>, tensor<4xf32>)
// CHECK-SAME: iparams = [4, 4, 2, 1]
// CHECK: w.sparse: "0x040000000000000001000000010000000200000002000000000000000300000000000040000080BF"
// With sparse-density=0, or a density below the layer's, gemm.
// DENSE-LABEL: func.func @sparse
// DENSE: shears.ukernel "gemm"
// LOWER-LABEL: func.func @sparse
// LOWER: shears.ukernel "gemm"
func.func @sparse(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = shears.constant dense<[[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32> loc("w")
  %b = shears.constant dense<0.5> : tensor<4xf32>
  %y = shears.linear %x, %w, %b : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// Half of the weight non-zero: gemm.
// CHECK-LABEL: func.func @half
// CHECK: shears.ukernel "gemm"
func.func @half(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = shears.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32> loc("w")
  %y = shears.linear %x, %w : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
