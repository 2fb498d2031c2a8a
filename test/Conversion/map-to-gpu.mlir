// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{block-size=64}))" --split-input-file | FileCheck %s
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{block-size=64},convert-parallel-loops-to-gpu,canonicalize))" --split-input-file | FileCheck %s --check-prefix=LAUNCH
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu,convert-parallel-loops-to-gpu))" --split-input-file | FileCheck %s --check-prefix=FUSE
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu,canonicalize,cse))" --split-input-file | FileCheck %s --check-prefix=BLOCK
// RUN: not shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{block-size=0}))" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// A reduction between two parallel dimensions: the parallel ones go first
// and are collapsed into one (n * 5 elements), tiled by the block size; the
// reduction runs in each thread, its sum carried in a register (one load
// before the loop, one store after). Threads past the end do nothing.
// CHECK-LABEL: func.func @rowsum
// CHECK: %[[N:.+]] = arith.muli %{{.+}}, %c5
// CHECK: scf.parallel (%[[B:.+]]) = (%{{.+}}) to (%[[N]]) step (%[[STEP:.+]]) {
// CHECK: scf.parallel (%[[T:.+]]) = (%{{.+}}) to (%[[STEP]]) step
// CHECK: scf.if
// CHECK: %[[J:.+]] = arith.remsi
// CHECK: %[[I:.+]] = arith.divsi
// CHECK: %[[INIT:.+]] = memref.load %arg1[%[[I]], %[[J]]]
// CHECK: %[[SUM:.+]] = scf.for %[[K:.+]] = %{{.+}} to %c3 step %{{.+}} iter_args(%[[ACC:.+]] = %[[INIT]]) -> (f32) {
// CHECK: %[[X:.+]] = memref.load %arg0[%[[I]], %[[K]], %[[J]]]
// CHECK: %[[NEXT:.+]] = arith.addf %[[X]], %[[ACC]]
// CHECK: scf.yield %[[NEXT]]
// CHECK: memref.store %[[SUM]], %arg1[%[[I]], %[[J]]]
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
// LAUNCH-LABEL: func.func @rowsum
// LAUNCH: gpu.launch blocks({{.*}}) in ({{.*}} = %{{.+}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c64, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}})
func.func @rowsum(%x: memref<?x3x5xf32>, %y: memref<?x5xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>], iterator_types = ["parallel", "reduction", "parallel"]} ins(%x : memref<?x3x5xf32>) outs(%y : memref<?x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A static op smaller than a block gets as many threads as it has elements.
// LAUNCH-LABEL: func.func @small
// LAUNCH: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c10, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}})
func.func @small(%x: memref<2x5xf32>, %y: memref<2x5xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : memref<2x5xf32>) outs(%y : memref<2x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  return
}

// -----

// No parallel dimension: one thread.
// CHECK-LABEL: func.func @total
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.for %{{.+}} = %{{.+}} to %c8
// LAUNCH-LABEL: func.func @total
// LAUNCH: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}})
func.func @total(%x: memref<8xf32>, %y: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]} ins(%x : memref<8xf32>) outs(%y : memref<f32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A named convolution: its four parallel loops collapse into one, and each
// thread computes the 4 output channels of one pixel (a register block: the
// channel loop steps by 4), so each input value loaded serves 4
// accumulators, carried through the channel and window loops: 2 * 6 * 6
// threads. (canonicalize and cse merge the 4 loads of the same input.)
// BLOCK-LABEL: func.func @conv
// BLOCK: scf.parallel (%[[T:.+]]) = (%c0) to (%c72) step (%c1)
// BLOCK-COUNT-4: memref.load %arg2
// BLOCK: scf.for {{.*}} iter_args({{.*}}, {{.*}}, {{.*}}, {{.*}}) -> (f32, f32, f32, f32)
// BLOCK: scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32)
// BLOCK: scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32)
// BLOCK: %[[X:.+]] = memref.load %arg0
// BLOCK-NOT: memref.load %arg0
// BLOCK-COUNT-4: arith.mulf %[[X]]
// BLOCK-COUNT-4: memref.store %{{.+}}, %arg2
// BLOCK-NOT: memref.store
// BLOCK: return
// LAUNCH-LABEL: func.func @conv
// LAUNCH: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c64{{.*}}, {{.*}})
func.func @conv(%x: memref<2x3x8x8xf32>, %w: memref<4x3x3x3xf32>, %y: memref<2x4x6x6xf32>) {
  linalg.conv_2d_nchw_fchw ins(%x, %w : memref<2x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%y : memref<2x4x6x6xf32>)
  return
}

// -----

// The sum lands in the first column of the matrix it reads: its element is
// read through another view during the loop, so it stays in memory.
// CHECK-LABEL: func.func @aliased
// CHECK: scf.for
// CHECK-NOT: iter_args
// CHECK: memref.store
func.func @aliased(%a: memref<4x4xf32>) {
  %col = memref.subview %a[0, 0] [4, 1] [1, 1] : memref<4x4xf32> to memref<4xf32, strided<[4]>>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%a : memref<4x4xf32>) outs(%col : memref<4xf32, strided<[4]>>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  return
}

// BAD: error: block-size must be between 1 and 1024 threads, got 0

// -----

// Fusion: a convolution into a workspace view, then the relu of each of its
// elements into another view at a disjoint offset: one kernel. The relu
// reads the element the same thread has just stored. (The buffers are
// allocations, as shears-place-on-device leaves them: function arguments
// might alias each other.)
// FUSE-LABEL: func.func @conv_relu
// FUSE-COUNT-1: gpu.launch
// FUSE-NOT: gpu.launch
// FUSE: return
func.func @conv_relu(%n: index, %w: memref<4x3x3x3xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c576 = arith.constant 576 : index
  %cst = arith.constant 0.0 : f32
  %x = memref.alloc(%n) : memref<?x3x8x8xf32>
  %ws = memref.alloc(%n) : memref<?xi8>
  %s = arith.maxui %n, %c1 : index
  %o0 = arith.muli %s, %c0 : index
  %o1 = arith.muli %s, %c576 : index
  %y = memref.view %ws[%o0][%n] : memref<?xi8> to memref<?x4x6x6xf32>
  %z = memref.view %ws[%o1][%n] : memref<?xi8> to memref<?x4x6x6xf32>
  linalg.conv_2d_nchw_fchw ins(%x, %w : memref<?x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%y : memref<?x4x6x6xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : memref<?x4x6x6xf32>) outs(%z : memref<?x4x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %cst : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// No fusion where the relu's output overlaps the convolution's (at 288
// bytes of 576 per image), nor where an op reads another element than the
// one the thread wrote (a transpose).
// FUSE-LABEL: func.func @overlap
// FUSE-COUNT-2: gpu.launch
func.func @overlap(%n: index, %w: memref<4x3x3x3xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c288 = arith.constant 288 : index
  %cst = arith.constant 0.0 : f32
  %x = memref.alloc(%n) : memref<?x3x8x8xf32>
  %ws = memref.alloc(%n) : memref<?xi8>
  %s = arith.maxui %n, %c1 : index
  %o0 = arith.muli %s, %c0 : index
  %o1 = arith.muli %s, %c288 : index
  %y = memref.view %ws[%o0][%n] : memref<?xi8> to memref<?x4x6x6xf32>
  %z = memref.view %ws[%o1][%n] : memref<?xi8> to memref<?x4x6x6xf32>
  linalg.conv_2d_nchw_fchw ins(%x, %w : memref<?x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%y : memref<?x4x6x6xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : memref<?x4x6x6xf32>) outs(%z : memref<?x4x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %cst : f32
    linalg.yield %r : f32
  }
  return
}
// FUSE-LABEL: func.func @transpose
// FUSE-COUNT-2: gpu.launch
func.func @transpose() {
  %x = memref.alloc() : memref<4x4xf32>
  %a = memref.alloc() : memref<4x4xf32>
  %z = memref.alloc() : memref<4x4xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : memref<4x4xf32>) outs(%a : memref<4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  linalg.transpose ins(%a : memref<4x4xf32>) outs(%z : memref<4x4xf32>) permutation = [1, 0]
  return
}
