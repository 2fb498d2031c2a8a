// Large contractions become shared-memory tiled kernels (shears-map-to-gpu,
// TileContractions.cpp); min-tiles=1 lets these small shapes take the path.
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{min-tiles=1},canonicalize,cse))" --split-input-file | FileCheck %s
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{min-tiles=1}))" --split-input-file | grep -c vector.fma | FileCheck %s --check-prefix=FMAS
// Too few tiles by default (an H200 has 132 multiprocessors), or with the
// option off: the one-thread-per-output mapping.
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu))" --split-input-file | FileCheck %s --check-prefix=FEW
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{min-tiles=1 tile-contractions=false}))" --split-input-file | FileCheck %s --check-prefix=FEW

// A 200x70 @ 70x130 product: 2x2 tiles of 128x128, 256 threads each, both
// operands' 8x128 slices in shared memory (rows padded to 132 floats), the
// 8x8 accumulators and the 8 prefetched elements of a thread in private
// memory. Every edge is guarded: 200 and 130 are not multiples of 128, 70
// not of 8.
// CHECK-LABEL: func.func @matmul
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2, {{.*}} = %c2, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c256, {{.*}} = %c1, {{.*}} = %c1)
// CHECK-SAME: workgroup(%[[ROWS:.*]] : memref<8x132xf32, #gpu.address_space<workgroup>>, %[[COLS:.*]] : memref<8x132xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME: private(%[[ACC:.*]] : memref<64xf32, #gpu.address_space<private>>, %[[FETCHED:.*]] : memref<8xf32, #gpu.address_space<private>>)
// The accumulators start at zero; the first slices are fetched and staged.
// CHECK: vector.store %{{.*}}, %[[ACC]][%c0]
// CHECK: arith.cmpi ult, %{{.*}}, %c70
// CHECK: arith.cmpi ult, %{{.*}}, %c200
// CHECK: memref.load %arg0
// CHECK: memref.store %{{.*}}, %[[FETCHED]][%c0]
// CHECK: arith.cmpi ult, %{{.*}}, %c130
// CHECK: memref.load %arg1
// CHECK: memref.store %{{.*}}, %[[ROWS]]
// CHECK: memref.store %{{.*}}, %[[COLS]]
// CHECK: gpu.barrier
// Each step of 8: fetch the next slices, accumulate from the current ones
// (aligned 4-wide loads), then stage the next ones between two barriers.
// CHECK: scf.for %[[K:.*]] = %c0 to %c70 step %c8 {
// CHECK:   scf.if
// CHECK:     memref.load %arg0
// CHECK:   vector.load %[[ROWS]][%{{.*}}] {alignment = 16 : i64} : memref<8x132xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK:   vector.load %[[COLS]][%{{.*}}] {alignment = 16 : i64}
// CHECK:   vector.fma
// CHECK:   gpu.barrier
// CHECK:   scf.if
// CHECK:     memref.store %{{.*}}, %[[ROWS]]
// CHECK:   gpu.barrier
// CHECK: }
// The outputs are added to the result inside its edges.
// CHECK: scf.if
// CHECK:   memref.load %arg2
// CHECK:   memref.store %{{.*}}, %arg2
// CHECK: gpu.terminator
// 8 steps of 8 rows x 2 column vectors, in each of the three tiled kernels
// of this file.
// FMAS: 384
// FEW-LABEL: func.func @matmul
// FEW-NOT: gpu.barrier
// FEW: scf.parallel
func.func @matmul(%a: memref<200x70xf32>, %b: memref<70x130xf32>, %c: memref<200x130xf32>) {
  linalg.matmul ins(%a, %b : memref<200x70xf32>, memref<70x130xf32>) outs(%c : memref<200x130xf32>)
  return
}

// -----

// A convolution as an implicit GEMM: rows are the filters (128: one tile),
// columns the output pixels (2 x 14 x 14 = 392: 4 tiles), the reduction the
// input channels and taps; the image is read through the op's indexing map.
// CHECK-LABEL: func.func @conv
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}} = %c1, {{.*}} = %c1)
// CHECK: memref.load %arg1[{{.*}}] : memref<128x4x3x3xf32>
// CHECK: affine.apply
// CHECK: memref.load %arg0[{{.*}}] : memref<2x4x16x16xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c36 step %c8
// FEW-LABEL: func.func @conv
// FEW-NOT: gpu.barrier
func.func @conv(%x: memref<2x4x16x16xf32>, %w: memref<128x4x3x3xf32>, %y: memref<2x128x14x14xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<2x4x16x16xf32>, memref<128x4x3x3xf32>) outs(%y : memref<2x128x14x14xf32>)
  return
}

// -----

// A batched product: the batch is the grid's z.
// CHECK-LABEL: func.func @batch
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1, {{.*}} = %c1, {{.*}} = %c3)
func.func @batch(%a: memref<3x100x40xf32>, %b: memref<3x40x70xf32>, %c: memref<3x100x70xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<3x100x40xf32>, memref<3x40x70xf32>) outs(%c : memref<3x100x70xf32>)
  return
}

// -----

// Not contractions of two matrices: a depthwise convolution has no column
// dimension of its own; a product with fewer than 64 rows is not tiled.
// CHECK-LABEL: func.func @depthwise
// CHECK-NOT: gpu.barrier
// CHECK: scf.parallel
// CHECK-LABEL: func.func @thin
// CHECK-NOT: gpu.barrier
// CHECK: scf.parallel
func.func @depthwise(%x: memref<1x66x66x128xf32>, %w: memref<3x3x128xf32>, %y: memref<1x64x64x128xf32>) {
  linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x66x66x128xf32>, memref<3x3x128xf32>) outs(%y : memref<1x64x64x128xf32>)
  return
}
func.func @thin(%a: memref<8x512xf32>, %b: memref<512x512xf32>, %c: memref<8x512xf32>) {
  linalg.matmul ins(%a, %b : memref<8x512xf32>, memref<512x512xf32>) outs(%c : memref<8x512xf32>)
  return
}
