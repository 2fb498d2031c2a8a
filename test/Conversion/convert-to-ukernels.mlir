// The orientation of a convolution depends on the kernels' panel widths:
// `isa` fixes them (the default, host, would make the IR this machine's).
// RUN: shears-opt %s --shears-convert-to-ukernels=isa=avx512 --split-input-file | FileCheck %s
// RUN: shears-opt %s --shears-convert-to-ukernels="isa=avx512 integer-kernels=false" --split-input-file | FileCheck %s --check-prefix=NO-INT
// RUN: shears-opt %s --shears-convert-to-ukernels=isa=avx2 --split-input-file | FileCheck %s --check-prefix=AVX2
// Without Winograd, 3x3 convolutions with unit strides take one of the two
// implicit-GEMM orientations.
// RUN: shears-opt %s --shears-convert-to-ukernels="isa=avx512 winograd=false" --split-input-file | FileCheck %s --check-prefix=NO-WG
// F(4x4, 3x3) where asked, on images of 28x28 and up; F(2x2, 3x3) below.
// By default only over at most 16 input channels; winograd-tile=2 never.
// RUN: shears-opt %s --shears-convert-to-ukernels="isa=avx512 winograd-tile=4" --split-input-file | FileCheck %s --check-prefix=WG4
// RUN: shears-opt %s --shears-convert-to-ukernels="isa=avx512 winograd-tile=2" --split-input-file | FileCheck %s --check-prefix=WG2
// RUN: not shears-opt %s --shears-convert-to-ukernels="winograd-tile=3" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD-TILE
// BAD-TILE: error: winograd-tile must be 0, 2 or 4, got 3
// Without integer kernels, quantized layers run on the f32 ones.
// NO-INT-NOT: "qgemm"
// NO-INT-NOT: "qconv2d"

// A convolution: the filter is packed at compile time into row blocks of 8
// output channels, k-major ([groups, ceil(10/8), 3*3*3, 8]), rows 10 to 15
// zero; the bias is the first operand of the epilogue (flags = 1).
// CHECK-LABEL: func.func @conv
// CHECK-DAG: %[[B:.+]] = shears.constant dense<5.000000e-01> : tensor<10xf32>
// CHECK-DAG: %[[W:.+]] = shears.constant dense_resource<w.packed> : tensor<1x2x27x8xf32>
// CHECK: %[[N:.+]] = tensor.dim %arg0, %c0
// CHECK: %[[E:.+]] = tensor.empty(%[[N]]) : tensor<?x10x16x12xf32>
// CHECK: shears.ukernel "conv2d" ins(%arg0, %[[W]], %[[B]] : {{.*}}) outs(%[[E]] : tensor<?x10x16x12xf32>)
// CHECK-SAME: iparams = [3, 16, 12, 10, 3, 3, 1, 1, 1, 1, 1, 1, 16, 12, 1, 1, 0]
// CHECK-NOT: shears.conv2d
// Row 7 of block 1 (channel 15) is padding: the blob ends in zeros.
// CHECK: w.packed: "0x04{{[0-9A-F]*}}0000803F0000803F000000000000000000000000000000000000000000000000"
func.func @conv(%x: tensor<?x3x16x12xf32>) -> tensor<?x10x16x12xf32> {
  %w = shears.constant dense<1.0> : tensor<10x3x3x3xf32> loc("w")
  %b = shears.constant dense<0.5> : tensor<10xf32>
  %y = shears.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<?x3x16x12xf32>, tensor<10x3x3x3xf32>, tensor<10xf32>) -> tensor<?x10x16x12xf32>
  return %y : tensor<?x10x16x12xf32>
}

// -----

// A strided convolution onto a 7x7 image: its 49 pixels fill 2 panels of
// 32 to 77% and both orientations pack the im2col, while its 64 output
// channels fill 2 panels and the reduction (K = 64*3*3) makes the output's
// transposition cheap: output channels go along the vectors (flag 4,
// channel panels), the filter packed as a GEMM right-hand side [groups,
// ceil(64/32), K, 32]. With unit strides (the direct path packs nothing) and
// a 56x56 image it stays with pixels, or (by default) runs as Winograd
// F(2x2, 3x3) (flag 2048): the filter transformed, 16 GEMM right-hand sides
// [16, ceil(64/32), C, 32].
// CHECK-LABEL: func.func @channel_panels
// CHECK: %[[W:.+]] = shears.constant dense_resource<{{.+}}> : tensor<1x2x576x32xf32>
// CHECK: shears.ukernel "conv2d" ins(%arg0, %[[W]], %{{.+}} : {{.*}})
// CHECK-SAME: iparams = [64, 14, 14, 64, 3, 3, 2, 2, 1, 1, 1, 1, 7, 7, 1, 5, 0]
// CHECK-LABEL: func.func @pixel_panels
// CHECK: shears.constant dense_resource<{{.+}}> : tensor<16x2x64x32xf32>
// CHECK: shears.ukernel "conv2d"
// CHECK-SAME: iparams = [64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 56, 56, 1, 2049, 0]
// WG4-LABEL: func.func @pixel_panels
// WG4: shears.constant dense_resource<{{.+}}> : tensor<36x2x64x32xf32>
// WG4: shears.ukernel "conv2d"
// WG4-SAME: iparams = [64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 56, 56, 1, 6145, 0]
// NO-WG-LABEL: func.func @pixel_panels
// NO-WG: shears.constant dense_resource<{{.+}}> : tensor<1x8x576x8xf32>
// NO-WG: shears.ukernel "conv2d"
// NO-WG-SAME: iparams = [64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 56, 56, 1, 1, 0]
func.func @channel_panels(%x: tensor<1x64x14x14xf32>) -> tensor<1x64x7x7xf32> {
  %w = shears.constant dense<1.0> : tensor<64x64x3x3xf32>
  %b = shears.constant dense<0.5> : tensor<64xf32>
  %y = shears.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x64x14x14xf32>, tensor<64x64x3x3xf32>, tensor<64xf32>) -> tensor<1x64x7x7xf32>
  return %y : tensor<1x64x7x7xf32>
}
// The direct path's wide pixels on a 13x13 image (rows of 15, 195 in 5
// panels of 48 for 169 outputs) lose to channel panels (squeezenet's
// 48x13x13 -> 192: 164 against 150 GFLOP/s).
// NO-WG-LABEL: func.func @small_image
// NO-WG: shears.ukernel "conv2d"
// NO-WG-SAME: iparams = [48, 13, 13, 192, 3, 3, 1, 1, 1, 1, 1, 1, 13, 13, 1, 5, 0]
func.func @pixel_panels(%x: tensor<1x64x56x56xf32>) -> tensor<1x64x56x56xf32> {
  %w = shears.constant dense<1.0> : tensor<64x64x3x3xf32>
  %b = shears.constant dense<0.5> : tensor<64xf32>
  %y = shears.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x64x56x56xf32>, tensor<64x64x3x3xf32>, tensor<64xf32>) -> tensor<1x64x56x56xf32>
  return %y : tensor<1x64x56x56xf32>
}
func.func @small_image(%x: tensor<1x48x13x13xf32>) -> tensor<1x192x13x13xf32> {
  %w = shears.constant dense<1.0> : tensor<192x48x3x3xf32>
  %b = shears.constant dense<0.5> : tensor<192xf32>
  %y = shears.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x48x13x13xf32>, tensor<192x48x3x3xf32>, tensor<192xf32>) -> tensor<1x192x13x13xf32>
  return %y : tensor<1x192x13x13xf32>
}

// -----

// A 1x1 convolution onto 14x14 (resnet50's 256x14x14 -> 1024): 196 pixels
// in AVX-512 pixel panels of 48 fill 5 to 82% (the last one, 4 pixels, is
// packed), in AVX2 ones of 24 to 91%; a reduction of 256 makes transposing
// the output cheap. So channel panels on AVX-512 (resnet50's layer: 7.6 ->
// 6.8-7.1 ms), pixels on AVX2.
// CHECK-LABEL: func.func @pointwise_14x14
// CHECK: shears.ukernel "conv2d"
// CHECK-SAME: iparams = [256, 14, 14, 64, 1, 1, 1, 1, 0, 0, 1, 1, 14, 14, 1, 5, 0]
// AVX2-LABEL: func.func @pointwise_14x14
// AVX2: shears.ukernel "conv2d"
// AVX2-SAME: iparams = [256, 14, 14, 64, 1, 1, 1, 1, 0, 0, 1, 1, 14, 14, 1, 1, 0]
func.func @pointwise_14x14(%x: tensor<1x256x14x14xf32>) -> tensor<1x64x14x14xf32> {
  %w = shears.constant dense<1.0> : tensor<64x256x1x1xf32>
  %b = shears.constant dense<0.5> : tensor<64xf32>
  %y = shears.conv2d %x, %w, %b : (tensor<1x256x14x14xf32>, tensor<64x256x1x1xf32>, tensor<64xf32>) -> tensor<1x64x14x14xf32>
  return %y : tensor<1x64x14x14xf32>
}

// -----

// A stride-2 3x3 convolution onto 28x28 (resnet18's 64x56x56 -> 128): the
// direct path's slice takes 4 bands of 7 rows, each of 7 * 29 wide pixels
// in 5 panels of 48, 18% of the lanes unused (the whole image in 17 panels
// would have left 4%); channel panels waste 32 / K: channel panels. A
// strided 1x1 convolution has no window for the direct path to slide: its
// pixels are packed, and 392 of them in 9 panels of 48 beat 32 channels and
// a reduction of 64 (transposing the output costs 32 / 64).
// CHECK-LABEL: func.func @strided_banded
// CHECK: shears.ukernel "conv2d"
// CHECK-SAME: iparams = [64, 56, 56, 128, 3, 3, 2, 2, 1, 1, 1, 1, 28, 28, 1, 5, 0]
// CHECK-LABEL: func.func @strided_pointwise
// CHECK: shears.ukernel "conv2d"
// CHECK-SAME: iparams = [64, 56, 56, 32, 1, 1, 2, 2, 0, 0, 1, 1, 28, 28, 1, 1, 0]
func.func @strided_banded(%x: tensor<1x64x56x56xf32>) -> tensor<1x128x28x28xf32> {
  %w = shears.constant dense<1.0> : tensor<128x64x3x3xf32>
  %b = shears.constant dense<0.5> : tensor<128xf32>
  %y = shears.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x64x56x56xf32>, tensor<128x64x3x3xf32>, tensor<128xf32>) -> tensor<1x128x28x28xf32>
  return %y : tensor<1x128x28x28xf32>
}
func.func @strided_pointwise(%x: tensor<1x64x56x56xf32>) -> tensor<1x32x28x28xf32> {
  %w = shears.constant dense<1.0> : tensor<32x64x1x1xf32>
  %b = shears.constant dense<0.5> : tensor<32xf32>
  %y = shears.conv2d %x, %w, %b {strides = array<i64: 2, 2>} : (tensor<1x64x56x56xf32>, tensor<32x64x1x1xf32>, tensor<32xf32>) -> tensor<1x32x28x28xf32>
  return %y : tensor<1x32x28x28xf32>
}

// -----

// Few channels on a 14x14 image (the Fashion-MNIST CNN's 32x14x14 -> 32):
// wide pixels of rows of 16 fill 196 of 240 lanes, channel panels 32 of 32
// and read the padded input in place (no packing cost): channel panels.
// NO-WG-LABEL: func.func @few_channels
// NO-WG: shears.ukernel "conv2d"
// NO-WG-SAME: iparams = [32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14, 1, 5, 0]
// By default Winograd, whose 16 GEMMs have a reduction of 32 (the input
// channels) and the transforms 7 tiles a row.
// WG4-LABEL: func.func @few_channels
// WG4: shears.ukernel "conv2d"
// WG4-SAME: iparams = [32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14, 1, 2049, 0]
// CHECK-LABEL: func.func @few_channels
// CHECK: shears.ukernel "conv2d"
// CHECK-SAME: iparams = [32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14, 1, 2049, 0]
func.func @few_channels(%x: tensor<8x32x14x14xf32>) -> tensor<8x32x14x14xf32> {
  %w = shears.constant dense<1.0> : tensor<32x32x3x3xf32>
  %b = shears.constant dense<0.5> : tensor<32xf32>
  %y = shears.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<8x32x14x14xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<8x32x14x14xf32>
  return %y : tensor<8x32x14x14xf32>
}

// -----

// 16 input channels on a 32x32 image (squeezenet1_1's first expand3x3 has
// 16 on 55x55): F(4x4, 3x3) by default (up to 32 input channels), its
// filter transformed into 36 GEMM right-hand sides (flag 4096 with 2048);
// F(2x2, 3x3) with winograd-tile=2, and by default over 64 channels.
// CHECK-LABEL: func.func @few_input_channels
// CHECK: shears.ukernel "conv2d" ins(%arg0, {{.*}}tensor<36x1x16x32xf32>
// CHECK-SAME: iparams = [16, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 32, 32, 1, 6145, 0]
// CHECK: shears.ukernel "conv2d" ins(%arg1, {{.*}}tensor<16x1x64x32xf32>
// CHECK-SAME: iparams = [64, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 32, 32, 1, 2049, 0]
// WG2-LABEL: func.func @few_input_channels
// WG2: shears.ukernel "conv2d" ins(%arg0, {{.*}}tensor<16x1x16x32xf32>
// WG2-SAME: iparams = [16, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 32, 32, 1, 2049, 0]
// WG4-LABEL: func.func @few_input_channels
// WG4: shears.ukernel "conv2d" ins(%arg0, {{.*}}tensor<36x1x16x32xf32>
// WG4-SAME: iparams = [16, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 32, 32, 1, 6145, 0]
// WG4: shears.ukernel "conv2d" ins(%arg1, {{.*}}tensor<36x1x64x32xf32>
func.func @few_input_channels(%x: tensor<1x16x32x32xf32>, %z: tensor<1x64x32x32xf32>) -> (tensor<1x32x32x32xf32>, tensor<1x32x32x32xf32>) {
  %w = shears.constant dense<1.0> : tensor<32x16x3x3xf32>
  %b = shears.constant dense<0.5> : tensor<32xf32>
  %y = shears.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x32x32xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>) -> tensor<1x32x32x32xf32>
  %w2 = shears.constant dense<1.0> : tensor<32x64x3x3xf32>
  %y2 = shears.conv2d %z, %w2, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x64x32x32xf32>, tensor<32x64x3x3xf32>, tensor<32xf32>) -> (tensor<1x32x32x32xf32>)
  return %y, %y2 : tensor<1x32x32x32xf32>, tensor<1x32x32x32xf32>
}

// -----

// Depthwise: its own kernel, the filter as it is; strides, dilations and
// asymmetric pads go into the slots.
// CHECK-LABEL: func.func @depthwise
// CHECK: shears.ukernel "dwconv2d" ins(%arg0, %{{.+}} : tensor<1x4x9x9xf32>, tensor<4x1x3x3xf32>)
// CHECK-SAME: iparams = [4, 9, 9, 4, 3, 3, 2, 2, 0, 1, 1, 1, 4, 5, 4, 0, 0]
func.func @depthwise(%x: tensor<1x4x9x9xf32>) -> tensor<1x4x4x5xf32> {
  %w = shears.constant dense<1.0> : tensor<4x1x3x3xf32>
  %y = shears.conv2d %x, %w {groups = 4 : i64, strides = array<i64: 2, 2>, pads = array<i64: 0, 1, 0, 1>} : (tensor<1x4x9x9xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x4x5xf32>
  return %y : tensor<1x4x4x5xf32>
}

// -----

// Grouped: packed per group ([2 groups, 1 block, 2*1*1, 8]).
// CHECK-LABEL: func.func @grouped
// CHECK: shears.constant dense_resource<{{.+}}> : tensor<2x1x2x8xf32>
// CHECK: shears.ukernel "conv2d"
// CHECK-SAME: iparams = [4, 5, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1, 5, 5, 2, 0, 0]
func.func @grouped(%x: tensor<1x4x5x5xf32>) -> tensor<1x6x5x5xf32> {
  %w = shears.constant dense<1.0> : tensor<6x2x1x1xf32>
  %y = shears.conv2d %x, %w {groups = 2 : i64} : (tensor<1x4x5x5xf32>, tensor<6x2x1x1xf32>) -> tensor<1x6x5x5xf32>
  return %y : tensor<1x6x5x5xf32>
}

// -----

// Linear and MatMul: B packed into panels of 32 columns ([ceil(40/32), K, 32]).
// CHECK-LABEL: func.func @linear
// CHECK: %[[W:.+]] = shears.constant dense_resource<{{.+}}> : tensor<2x16x32xf32>
// CHECK: shears.ukernel "gemm" ins(%arg0, %[[W]], %{{.+}} : tensor<?x16xf32>, tensor<2x16x32xf32>, tensor<40xf32>)
// CHECK-SAME: iparams = [16, 40, 2, 1]
// CHECK-LABEL: func.func @matmul
// CHECK: shears.ukernel "gemm" ins(%arg0, %{{.+}} : tensor<2x?x16xf32>, tensor<1x16x32xf32>)
// CHECK-SAME: iparams = [16, 20, 3, 0]
func.func @linear(%x: tensor<?x16xf32>) -> tensor<?x40xf32> {
  %w = shears.constant dense<1.0> : tensor<40x16xf32>
  %b = shears.constant dense<1.0> : tensor<40xf32>
  %y = shears.linear %x, %w, %b : (tensor<?x16xf32>, tensor<40x16xf32>, tensor<40xf32>) -> tensor<?x40xf32>
  return %y : tensor<?x40xf32>
}
func.func @matmul(%x: tensor<2x?x16xf32>) -> tensor<2x?x20xf32> {
  %w = shears.constant dense<1.0> : tensor<16x20xf32>
  %y = shears.matmul %x, %w : (tensor<2x?x16xf32>, tensor<16x20xf32>) -> tensor<2x?x20xf32>
  return %y : tensor<2x?x20xf32>
}

// -----

// Attention's products of computed operands: bmm, with B packed at run time
// (iparams M, K, N, transposed, A's rank, flags). Q K^T reads K through its
// transpose; a batch dim that broadcasts stays on linalg.
// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:.+]]: tensor<?x17x16xf32>, %[[K:.+]]: tensor<?x17x16xf32>, %[[V:.+]]: tensor<?x17x16xf32>)
// CHECK: %[[S:.+]] = shears.ukernel "bmm" ins(%[[Q]], %[[K]] : tensor<?x17x16xf32>, tensor<?x17x16xf32>)
// CHECK-SAME: iparams = [17, 16, 17, 1, 3, 0]
// CHECK: shears.ukernel "bmm" ins(%[[S]], %[[V]] : tensor<?x17x17xf32>, tensor<?x17x16xf32>)
// CHECK-SAME: iparams = [17, 17, 16, 0, 3, 0]
// CHECK-LABEL: func.func @broadcast_batch
// CHECK-NOT: shears.ukernel
// CHECK: shears.matmul
func.func @attention(%q: tensor<?x17x16xf32>, %k: tensor<?x17x16xf32>, %v: tensor<?x17x16xf32>) -> tensor<?x17x16xf32> {
  %kt = shears.transpose %k {perm = array<i64: 0, 2, 1>} : (tensor<?x17x16xf32>) -> tensor<?x16x17xf32>
  %s = shears.matmul %q, %kt : (tensor<?x17x16xf32>, tensor<?x16x17xf32>) -> tensor<?x17x17xf32>
  %o = shears.matmul %s, %v : (tensor<?x17x17xf32>, tensor<?x17x16xf32>) -> tensor<?x17x16xf32>
  return %o : tensor<?x17x16xf32>
}
func.func @broadcast_batch(%a: tensor<4x5x6xf32>, %b: tensor<1x6x7xf32>) -> tensor<4x5x7xf32> {
  %y = shears.matmul %a, %b : (tensor<4x5x6xf32>, tensor<1x6x7xf32>) -> tensor<4x5x7xf32>
  return %y : tensor<4x5x7xf32>
}

// -----

// Weights that are not constants stay for the linalg path.
// CHECK-LABEL: func.func @dynamic_weights
// CHECK-NOT: shears.ukernel
// CHECK: shears.matmul
func.func @dynamic_weights(%x: tensor<4x16xf32>, %w: tensor<16x20xf32>) -> tensor<4x20xf32> {
  %y = shears.matmul %x, %w : (tensor<4x16xf32>, tensor<16x20xf32>) -> tensor<4x20xf32>
  return %y : tensor<4x20xf32>
}

// -----

// Max pooling: maxpool2d, no weights; the conv slots with groups = C, pads
// top and left (a ceil-mode window past the input reads -inf in the kernel).
// CHECK-LABEL: func.func @max_pool
// CHECK: %[[E:.+]] = tensor.empty(%{{.+}}) : tensor<?x8x56x56xf32>
// CHECK: shears.ukernel "maxpool2d" ins(%arg0 : tensor<?x8x112x112xf32>) outs(%[[E]] : tensor<?x8x56x56xf32>)
// CHECK-SAME: iparams = [8, 112, 112, 8, 3, 3, 2, 2, 0, 0, 1, 1, 56, 56, 8, 0, 0]
func.func @max_pool(%x: tensor<?x8x112x112xf32>) -> tensor<?x8x56x56xf32> {
  %y = shears.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, ceil_mode = true} : (tensor<?x8x112x112xf32>) -> tensor<?x8x56x56xf32>
  return %y : tensor<?x8x56x56xf32>
}

// -----

// A QDQ linear (ui8 input, i8 weights per row) runs on qgemm: the f32 input
// goes in (quantized as it is packed), the weights packed as s8 panels; the
// scales and zero point fold into a scale and bias per output:
// scale = 0.5 * [0.1, 0.2] = [0.05, 0.1]; the rows of the weight sum to 3
// and 0, so bias = [1, 2] - 4 * [3, 0] * [0.05, 0.1] = [0.4, 2].
// CHECK-LABEL: func.func @quantized_linear
// CHECK: %[[B:.+]] = shears.constant dense_resource<w.packed> : tensor<1x16x32x4xi8>
// CHECK: %[[S:.+]] = shears.constant dense_resource<w.scale> : tensor<2xf32>
// CHECK: %[[C:.+]] = shears.constant dense_resource<w.bias> : tensor<2xf32>
// CHECK: shears.ukernel "qgemm" ins(%arg0, %[[B]], %[[S]], %[[C]] : tensor<?x3xf32>, tensor<1x16x32x4xi8>, tensor<2xf32>, tensor<2xf32>)
// Its weights are all in [-64, 64]: flag SHEARS_UK_QUANT_NARROW_WEIGHTS
// (8192), which AVX2 needs.
// CHECK-SAME: iparams = [3, 2, 2, 8193] fparams = [0.000000e+00, 0.000000e+00, 5.000000e-01, 4.000000e+00, 0.000000e+00, 0.000000e+00]
// AVX2-LABEL: func.func @quantized_linear
// AVX2: shears.ukernel "qgemm"
// AVX2-SAME: iparams = [3, 2, 2, 8193]
// CHECK-NOT: shears.quantize
// Column 0 of B (row 0 of the weight) is 1 2 0 (0 past K), column 1 -1 0 1.
// CHECK: w.packed: "0x4000000001020000FF000100000000
// CHECK: w.scale: "0x04000000CDCC4C3DCDCCCC3D"
// CHECK: w.bias: "0x04000000CCCCCC3E00000040"
func.func @quantized_linear(%x: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %s = shears.constant dense<0.5> : tensor<f32>
  %zp = shears.constant dense<4> : tensor<ui8>
  %q = shears.quantize %x, %s, %zp : (tensor<?x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x3xui8>
  %dq = shears.dequantize %q, %s, %zp : (tensor<?x3xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x3xf32>
  %wq = shears.constant dense<[[1, 2, 0], [-1, 0, 1]]> : tensor<2x3xi8> loc("w")
  %ws = shears.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %wz = shears.constant dense<0> : tensor<2xi8>
  %w = shears.dequantize %wq, %ws, %wz {axis = 0 : i64} : (tensor<2x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xf32> loc("w")
  %b = shears.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %y = shears.linear %dq, %w, %b : (tensor<?x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Weights past [-64, 64] (100): qgemm without the flag on AVX-512; on AVX2
// (vpmaddubsw would saturate its 16-bit pairs) f32 gemm on the weights
// dequantized.
// CHECK-LABEL: func.func @wide_weights
// CHECK: shears.ukernel "qgemm"
// CHECK-SAME: iparams = [3, 2, 2, 1]
// AVX2-LABEL: func.func @wide_weights
// AVX2-NOT: qgemm
// AVX2: shears.ukernel "gemm"
// AVX2-NOT: qgemm
// AVX2: return
func.func @wide_weights(%x: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %s = shears.constant dense<0.5> : tensor<f32>
  %zp = shears.constant dense<4> : tensor<ui8>
  %q = shears.quantize %x, %s, %zp : (tensor<?x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x3xui8>
  %dq = shears.dequantize %q, %s, %zp : (tensor<?x3xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x3xf32>
  %wq = shears.constant dense<[[100, 2, 0], [-1, 0, 1]]> : tensor<2x3xi8>
  %ws = shears.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %wz = shears.constant dense<0> : tensor<2xi8>
  %w = shears.dequantize %wq, %ws, %wz {axis = 0 : i64} : (tensor<2x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xf32>
  %y = shears.linear %dq, %w : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Weight-only int8 (no quantize before the layer) runs in f32 with the
// weights dequantized at compile time.
// CHECK-LABEL: func.func @weight_only
// CHECK: shears.ukernel "gemm"
// CHECK-NOT: shears.dequantize
func.func @weight_only(%x: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %wq = shears.constant dense<[[100, 2, 0], [-127, 0, 1]]> : tensor<2x3xi8>
  %ws = shears.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %wz = shears.constant dense<0> : tensor<2xi8>
  %w = shears.dequantize %wq, %ws, %wz {axis = 0 : i64} : (tensor<2x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xf32>
  %y = shears.linear %x, %w : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// int4 weights in groups of 4 along K (the group view [2 * 2, 4], reshaped
// to [2, 8] and sliced to K = 6) run on wqgemm: nibbles q + 8 of k (low)
// and k + 1 (high) in a byte per output channel of a 16-channel panel, 8
// (a zero) past N and K; the scale of each panel's group.
// Row 0 is 1 2 3 4 | -8 7, row 1 -1 -2 -3 -4 | 5 6: bytes 0xA9 0x67, then
// 0xCB 0x45, then 0xF0 0xED.
// CHECK-LABEL: func.func @int4_groups
// CHECK: %[[Q:.+]] = shears.constant dense_resource<w.packed> : tensor<1x48xi8>
// CHECK: %[[S:.+]] = shears.constant dense_resource<w.scale> : tensor<1x2x16xf32>
// CHECK: shears.ukernel "wqgemm" ins(%arg0, %[[Q]], %[[S]], %{{.+}} : tensor<?x6xf32>, tensor<1x48xi8>, tensor<1x2x16xf32>, tensor<2xf32>)
// CHECK-SAME: iparams = [6, 2, 2, 1, 4, 4]
// CHECK-NOT: shears.dequantize
// CHECK: w.packed: "0x40000000A9678888888888888888888888888888CB458888888888888888888888888888F0ED8888888888888888888888888888"
// CHECK: w.scale: "0x040000000000003F0000803F00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000803E000000400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
func.func @int4_groups(%x: tensor<?x6xf32>) -> tensor<?x2xf32> {
  %wq = shears.constant dense<[[1, 2, 3, 4], [-8, 7, 0, 0], [-1, -2, -3, -4], [5, 6, 0, 0]]> : tensor<4x4xi8> loc("w")
  %ws = shears.constant dense<[0.5, 0.25, 1.0, 2.0]> : tensor<4xf32>
  %wz = shears.constant dense<0> : tensor<4xi8>
  %g = shears.dequantize %wq, %ws, %wz {axis = 0 : i64} : (tensor<4x4xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x4xf32> loc("w")
  %r = shears.reshape %g : (tensor<4x4xf32>) -> tensor<2x8xf32>
  %w = shears.slice %r {axes = array<i64: 1>, starts = array<i64: 0>, ends = array<i64: 6>, steps = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x6xf32>
  %b = shears.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %y = shears.linear %x, %w, %b : (tensor<?x6xf32>, tensor<2x6xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Binary weights (every value -1 or 1, a scale per output channel) run on
// wqgemm with 1 bit a weight: bit c of k's 16-bit word is set where channel
// c's weight is 1 (columns 1 0, 0 0, 1 1: words 1, 0, 3).
// CHECK-LABEL: func.func @binary
// CHECK: shears.ukernel "wqgemm" ins(%arg0, %{{.+}}, %{{.+}} : tensor<?x3xf32>, tensor<1x6xi8>, tensor<1x1x16xf32>)
// CHECK-SAME: iparams = [3, 2, 2, 0, 1, 3]
// CHECK: w.packed: "0x40000000010000000300"
func.func @binary(%x: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %wq = shears.constant dense<[[1, -1, 1], [-1, -1, 1]]> : tensor<2x3xi8> loc("w")
  %ws = shears.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %wz = shears.constant dense<0> : tensor<2xi8>
  %w = shears.dequantize %wq, %ws, %wz {axis = 0 : i64} : (tensor<2x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xf32> loc("w")
  %y = shears.linear %x, %w : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// A weight-only layer with no output channels is not taken apart in groups
// (0 rows divide nothing): it stays on gemm.
// CHECK-LABEL: func.func @no_outputs
// CHECK: shears.ukernel "gemm"
// CHECK-SAME: iparams = [3, 0, 2, 0]
func.func @no_outputs(%x: tensor<?x3xf32>) -> tensor<?x0xf32> {
  %wq = shears.constant dense<1> : tensor<0x3xi8>
  %ws = shears.constant dense<0.5> : tensor<0xf32>
  %wz = shears.constant dense<0> : tensor<0xi8>
  %w = shears.dequantize %wq, %ws, %wz {axis = 0 : i64} : (tensor<0x3xi8>, tensor<0xf32>, tensor<0xi8>) -> tensor<0x3xf32>
  %y = shears.linear %x, %w : (tensor<?x3xf32>, tensor<0x3xf32>) -> tensor<?x0xf32>
  return %y : tensor<?x0xf32>
}

// -----

// A QDQ convolution becomes qconv2d: the filter packed in 32-channel panels
// of (kh, kw, channels by 4), the conv2d slots, the folded scale and bias.
// CHECK-LABEL: func.func @quantized_conv
// CHECK: %[[F:.+]] = shears.constant dense_resource<f.packed> : tensor<1x3x3x2x32x4xi8>
// CHECK: shears.ukernel "qconv2d" ins(%arg0, %[[F]], %{{.+}}, %{{.+}} : tensor<?x5x8x8xf32>, tensor<1x3x3x2x32x4xi8>, tensor<4xf32>, tensor<4xf32>)
// CHECK-SAME: iparams = [5, 8, 8, 4, 3, 3, 2, 2, 1, 1, 1, 1, 4, 4, 1, 8193, 0] fparams = [0.000000e+00, 0.000000e+00, 2.500000e-01, 0.000000e+00, 0.000000e+00, 0.000000e+00]
// Grouped convolutions stay in f32.
// CHECK: shears.ukernel "dwconv2d"
func.func @quantized_conv(%x: tensor<?x5x8x8xf32>) -> (tensor<?x4x4x4xf32>, tensor<?x5x8x8xf32>) {
  %s = shears.constant dense<0.25> : tensor<f32>
  %zp = shears.constant dense<0> : tensor<ui8>
  %q = shears.quantize %x, %s, %zp : (tensor<?x5x8x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x5x8x8xui8>
  %dq = shears.dequantize %q, %s, %zp : (tensor<?x5x8x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x5x8x8xf32>
  %fq = shears.constant dense<1> : tensor<4x5x3x3xi8> loc("f")
  %fs = shears.constant dense<0.5> : tensor<4xf32>
  %fz = shears.constant dense<0> : tensor<4xi8>
  %f = shears.dequantize %fq, %fs, %fz {axis = 0 : i64} : (tensor<4x5x3x3xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x5x3x3xf32> loc("f")
  %y = shears.conv2d %dq, %f {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x5x8x8xf32>, tensor<4x5x3x3xf32>) -> tensor<?x4x4x4xf32>
  %dq_ = shears.constant dense<1> : tensor<5x1x3x3xi8>
  %ds = shears.constant dense<0.5> : tensor<5xf32>
  %dz = shears.constant dense<0> : tensor<5xi8>
  %d = shears.dequantize %dq_, %ds, %dz {axis = 0 : i64} : (tensor<5x1x3x3xi8>, tensor<5xf32>, tensor<5xi8>) -> tensor<5x1x3x3xf32>
  %z = shears.conv2d %dq, %d {groups = 5 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x5x8x8xf32>, tensor<5x1x3x3xf32>) -> tensor<?x5x8x8xf32>
  return %y, %z : tensor<?x4x4x4xf32>, tensor<?x5x8x8xf32>
}

// -----

// A dynamic QDQ linear: qgemm with the dynamic flag (8), the weight's scale
// alone, the column sums (3 and 0) and the bias unfolded.
// CHECK-LABEL: func.func @dynamic_linear
// CHECK: shears.ukernel "qgemm" ins(%arg0, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<?x3xf32>, tensor<1x16x32x4xi8>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
// CHECK-SAME: iparams = [3, 2, 2, 8201]
// CHECK: w.scale: "0x04000000CDCCCC3DCDCC4C3E"
// CHECK: w.sums: "0x040000000000404000000000"
func.func @dynamic_linear(%x: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %q, %s, %zp = shears.dynamic_quantize %x : tensor<?x3xf32>
  %dq = shears.dequantize %q, %s, %zp : (tensor<?x3xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x3xf32>
  %wq = shears.constant dense<[[1, 2, 0], [-1, 0, 1]]> : tensor<2x3xi8> loc("w")
  %ws = shears.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %wz = shears.constant dense<0> : tensor<2xi8>
  %w = shears.dequantize %wq, %ws, %wz {axis = 0 : i64} : (tensor<2x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xf32> loc("w")
  %b = shears.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %y = shears.linear %dq, %w, %b : (tensor<?x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Not Winograd: a 7x7 output (its tiles would cover 8x8, and the filter it
// streams is 16/9 the size), 8 input channels (16 GEMMs with a reduction of
// 8 are bound by their stores), a dilated window.
// CHECK-LABEL: func.func @not_winograd
// CHECK-NOT: 2049
// CHECK: return
func.func @not_winograd(%x: tensor<1x64x7x7xf32>, %z: tensor<1x8x28x28xf32>) -> (tensor<1x64x7x7xf32>, tensor<1x64x28x28xf32>, tensor<1x64x5x5xf32>) {
  %w = shears.constant dense<1.0> : tensor<64x64x3x3xf32>
  %b = shears.constant dense<0.5> : tensor<64xf32>
  %y = shears.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x64x7x7xf32>, tensor<64x64x3x3xf32>, tensor<64xf32>) -> tensor<1x64x7x7xf32>
  %w8 = shears.constant dense<1.0> : tensor<64x8x3x3xf32>
  %y8 = shears.conv2d %z, %w8, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x8x28x28xf32>, tensor<64x8x3x3xf32>, tensor<64xf32>) -> tensor<1x64x28x28xf32>
  %yd = shears.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 2, 2>} : (tensor<1x64x7x7xf32>, tensor<64x64x3x3xf32>, tensor<64xf32>) -> tensor<1x64x5x5xf32>
  return %y, %y8, %yd : tensor<1x64x7x7xf32>, tensor<1x64x28x28xf32>, tensor<1x64x5x5xf32>
}
