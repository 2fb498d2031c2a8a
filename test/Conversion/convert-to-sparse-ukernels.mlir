// RUN: shears-opt %s --shears-convert-to-ukernels --split-input-file | FileCheck %s
// RUN: shears-opt %s --shears-convert-to-ukernels=sparse-density=0 --split-input-file | FileCheck %s --check-prefix=DENSE
// RUN: shears-opt %s --shears-convert-to-ukernels=sparse-density=0.02 --split-input-file | FileCheck %s --check-prefix=LOWER
// time-sparse times both kernels on the layer, here: which wins depends on
// the machine, the remark says which and why (test/Driver/time-sparse.test
// has a layer whose answer does not).
// RUN: shears-opt %s --shears-convert-to-ukernels="time-sparse explain-sparse" --split-input-file -o /dev/null 2>&1 | FileCheck %s --check-prefix=TIME
// TIME: remark: linear layer ([16, 8], 3 non-zero) runs on {{(gemm|spgemm)}}: spgemm / gemm ms at batch 1: {{[0-9.]+ / [0-9.]+ \([0-9.]+x\)}} 4: {{[0-9.]+ / [0-9.]+ \([0-9.]+x\)}} 8: {{[0-9.]+ / [0-9.]+ \([0-9.]+x\)}} 64: {{[0-9.]+ / [0-9.]+ \([0-9.]+x\)$}}
// RUN: not shears-opt %s --shears-convert-to-ukernels="time-sparse isa=sse9" --split-input-file -o /dev/null 2>&1 | FileCheck %s --check-prefix=ISA
// ISA: error: unknown micro-kernel ISA 'sse9' (avx512, avx2, generic or host)

// A linear layer whose weight is 3/128 non-zero (at most the default 0.2)
// runs on spgemm: the weight becomes one slice of 16 rows, as wide as its
// longest row (1 slot), rows in their order (one slice: ordering them by
// length saves nothing), in 32-bit words: not permuted [0], slice starts
// [0, 1] (int32), rows [0, 1, ..., 15], the slot's columns
// [0, 0, 3, 0 x 12, 7] and values [2.0, 0, -1.0, 0 x 12, 0.5]; then the
// slice again in blocks of 32 columns (one here): block starts [0, 1], the
// slot's column offsets (bytes) [0, 0, 3, 0 x 12, 7] and its values: 73
// words for 128.
// The bias is the epilogue's, as for gemm (flags 1).
// CHECK-LABEL: func.func @sparse
// CHECK: %[[W:.+]] = shears.constant dense_resource<w.sparse> : tensor<73xf32>
// CHECK: shears.ukernel "spgemm" ins(%arg0, %[[W]], %{{.+}} : tensor<?x8xf32>, tensor<73xf32>, tensor<16xf32>)
// CHECK-SAME: iparams = [8, 16, 2, 1]
// CHECK: w.sparse: "0x04000000000000000000000001000000000000000100000002000000030000000400000005000000060000000700000008000000090000000A0000000B0000000C0000000D0000000E0000000F000000000000000000000003000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000070000000000004000000000000080BF0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003F0000000001000000000003000000000000000000000000070000004000000000000080BF0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003F"
// With sparse-density=0, or a density below the layer's, gemm.
// DENSE-LABEL: func.func @sparse
// DENSE: shears.ukernel "gemm"
// LOWER-LABEL: func.func @sparse
// LOWER: shears.ukernel "gemm"
func.func @sparse(%x: tensor<?x8xf32>) -> tensor<?x16xf32> {
  %w = shears.constant dense<[
    [2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5]]> : tensor<16x8xf32> loc("w")
  %b = shears.constant dense<0.5> : tensor<16xf32>
  %y = shears.linear %x, %w, %b : (tensor<?x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A small layer (4 outputs) with 2 of 16 non-zero: its slice, padded to 16
// rows, would take more words (73) than the dense weight (16): gemm.
// CHECK-LABEL: func.func @small
// CHECK: shears.ukernel "gemm"
func.func @small(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = shears.constant dense<[[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32> loc("w")
  %y = shears.linear %x, %w : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
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

// -----

// A 1x1 convolution (stride 1, no padding) with the same weight runs on
// spgemm's planes (flags 1024, with the bias 1025): the same packed words;
// A's rank is 4. Strided, it runs on spconv2d (conv2d's slots).
// CHECK-LABEL: func.func @pointwise
// CHECK-DAG: shears.constant dense_resource<pw.sparse{{(_1)?}}> : tensor<73xf32>
// CHECK: shears.ukernel "spgemm" ins(%arg0, %{{.+}}, %{{.+}} : tensor<?x8x5x5xf32>, tensor<73xf32>, tensor<16xf32>)
// CHECK-SAME: iparams = [8, 16, 4, 1025]
// CHECK-SAME: -> tensor<?x16x5x5xf32>
// CHECK: shears.ukernel "spconv2d"
// CHECK-SAME: iparams = [8, 5, 5, 16, 1, 1, 2, 2, 0, 0, 1, 1, 3, 3, 1, 0, 0]
// DENSE-LABEL: func.func @pointwise
// DENSE: shears.ukernel "conv2d"
// DENSE: shears.ukernel "conv2d"
// TIME: remark: {{.*}}layer 'pc' (1x1, [16, 8], 3 non-zero) runs on {{(conv2d|spgemm)}}: spgemm / conv2d ms at batch 1: {{[0-9.]+ / [0-9.]+ \([0-9.]+x\)$}}
func.func @pointwise(%x: tensor<?x8x5x5xf32>) -> (tensor<?x16x5x5xf32>, tensor<?x16x3x3xf32>) {
  %w = shears.constant dense<[[[[2.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[-1.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]], [[0.5]]]]> : tensor<16x8x1x1xf32> loc("pw")
  %b = shears.constant dense<0.5> : tensor<16xf32>
  %y = shears.conv2d %x, %w, %b : (tensor<?x8x5x5xf32>, tensor<16x8x1x1xf32>, tensor<16xf32>) -> tensor<?x16x5x5xf32> loc("pc")
  %s = shears.conv2d %x, %w {strides = array<i64: 2, 2>} : (tensor<?x8x5x5xf32>, tensor<16x8x1x1xf32>) -> tensor<?x16x3x3xf32> loc("strided")
  return %y, %s : tensor<?x16x5x5xf32>, tensor<?x16x3x3xf32>
}

// -----

// A 3x3 convolution runs on spconv2d, its filter [16, 2, 3, 3] viewed as
// [16, 18] in spgemm's packed layout (73 words for 288), the conv2d slots
// (no channel panels; the bias flag); strided too. Grouped, it stays
// conv2d.
// CHECK-LABEL: func.func @window
// CHECK-DAG: shears.constant dense_resource<k.sparse{{(_1)?}}> : tensor<73xf32>
// CHECK: shears.ukernel "spconv2d" ins(%arg0, %{{.+}}, %{{.+}} : tensor<?x2x6x6xf32>, tensor<73xf32>, tensor<16xf32>)
// CHECK-SAME: iparams = [2, 6, 6, 16, 3, 3, 1, 1, 1, 1, 1, 1, 6, 6, 1, 1, 0]
// CHECK: shears.ukernel "spconv2d"
// CHECK-SAME: iparams = [2, 6, 6, 16, 3, 3, 2, 2, 1, 1, 1, 1, 3, 3, 1, 0, 0]
// CHECK: shears.ukernel "conv2d"
// DENSE-LABEL: func.func @window
// DENSE-NOT: spconv2d
// TIME: remark: {{.*}}layer 'wc' (3x3, [16, 18], 3 non-zero) runs on {{(conv2d|spconv2d)}}: spconv2d / conv2d ms at batch 1:
func.func @window(%x: tensor<?x2x6x6xf32>) -> (tensor<?x16x6x6xf32>, tensor<?x16x3x3xf32>, tensor<?x16x6x6xf32>) {
  %w = shears.constant dense<[[[[0.0, 0.0, 0.0], [0.0, 1.5, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, -2.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]> : tensor<16x2x3x3xf32> loc("k")
  %b = shears.constant dense<0.25> : tensor<16xf32>
  %y = shears.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<?x2x6x6xf32>, tensor<16x2x3x3xf32>, tensor<16xf32>) -> tensor<?x16x6x6xf32> loc("wc")
  %s = shears.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x2x6x6xf32>, tensor<16x2x3x3xf32>) -> tensor<?x16x3x3xf32> loc("ws")
  %gw = shears.constant dense<[[[[0.0, 0.0, 0.0], [0.0, 1.5, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, -2.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]> : tensor<16x1x3x3xf32> loc("gk")
  %g = shears.conv2d %x, %gw {pads = array<i64: 1, 1, 1, 1>, groups = 2 : i64} : (tensor<?x2x6x6xf32>, tensor<16x1x3x3xf32>) -> tensor<?x16x6x6xf32> loc("wg")
  return %y, %s, %g : tensor<?x16x6x6xf32>, tensor<?x16x3x3xf32>, tensor<?x16x6x6xf32>
}

// -----

// A kernel pinned by the discardable attribute shears.kernel (what shears
// report --measure sets after timing the layers itself): gemm for a weight
// that the density alone would run sparse, spgemm without timing (above).
// CHECK-LABEL: func.func @pinned
// CHECK: shears.ukernel "gemm"
// CHECK: shears.ukernel "spgemm"
// DENSE-LABEL: func.func @pinned
// DENSE: shears.ukernel "gemm"
// DENSE: shears.ukernel "gemm"
// Neither is timed.
// TIME-NOT: layer 'pinned
func.func @pinned(%x: tensor<?x8xf32>) -> tensor<?x16xf32> {
  %w = shears.constant dense<[
    [2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5]]> : tensor<16x8xf32> loc("w")
  %a = shears.linear %x, %w {shears.kernel = "gemm"} : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32> loc("pinned_gemm")
  %b = shears.linear %x, %w {shears.kernel = "spgemm"} : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32> loc("pinned_spgemm")
  %y = shears.add %a, %b : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
