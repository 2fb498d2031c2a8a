// shears-map-to-gpu's tiled kernels on tensor cores (precision=tf32|fp16|
// bf16): the same staging as on CUDA cores, with the slices rounded to the
// precision; for tf32 and fp16 WMMA fragments carried through the reduction
// loop and each added to the result through a per-warp scratch, for bf16
// mma.sync on registers loaded as PTX lays them out.
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{min-tiles=1 precision=tf32},canonicalize,cse))" | FileCheck %s --check-prefix=TF32
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{min-tiles=1 precision=fp16},canonicalize,cse))" | FileCheck %s --check-prefix=FP16
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{min-tiles=1 precision=tf32}))" | grep -c subgroup_mma_compute | FileCheck %s --check-prefix=COMPUTES
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{min-tiles=1 precision=bf16},canonicalize,cse))" | FileCheck %s --check-prefix=BF16
// RUN: shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{min-tiles=1 precision=bf16}))" | grep -c nvvm.mma.sync | FileCheck %s --check-prefix=MMAS
// RUN: not shears-opt %s --pass-pipeline="builtin.module(func.func(shears-map-to-gpu{precision=fp8}))" 2>&1 | FileCheck %s --check-prefix=BAD

// A 200x70 @ 70x130 product: 2x2 tiles of 128x128, 256 threads (8 warps).
// tf32: slices of 8x128 f32 (rows padded to 132), a 16x16 scratch per warp,
// no private accumulators (only the 8 fetched elements).
// TF32-LABEL: func.func @matmul
// TF32-DAG: %[[HALF:.*]] = arith.constant 4096 : i32
// TF32-DAG: %[[MASK:.*]] = arith.constant -8192 : i32
// TF32: gpu.launch blocks({{.*}}) in ({{.*}} = %c2, {{.*}} = %c2, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c256, {{.*}} = %c1, {{.*}} = %c1)
// TF32-SAME: workgroup(%[[ROWS:.*]] : memref<8x132xf32, #gpu.address_space<workgroup>>, %[[COLS:.*]] : memref<8x132xf32, #gpu.address_space<workgroup>>, %[[SCRATCH:.*]] : memref<128x16xf32, #gpu.address_space<workgroup>>)
// TF32-SAME: private(%{{.*}} : memref<8xf32, #gpu.address_space<private>>)
// TF32: %[[ZERO:.*]] = gpu.subgroup_mma_constant_matrix %{{.*}} : !gpu.mma_matrix<16x16xf32, "COp">
// Staged values are rounded to tf32: half a unit of its last place added,
// f32's 13 extra bits cleared.
// TF32: arith.bitcast %{{.*}} : f32 to i32
// TF32: arith.addi %{{.*}}, %[[HALF]] : i32
// TF32: arith.andi %{{.*}}, %[[MASK]] : i32
// TF32: arith.bitcast %{{.*}} : i32 to f32
// TF32: memref.store %{{.*}}, %[[ROWS]]
// TF32: gpu.barrier
// Steps of 8; the warp's 4 row fragments (the slice is k-major: loaded
// transposed) and 2 column fragments, 8 products.
// TF32: %[[SUMS:.*]]:8 = scf.for %{{.*}} = %c0 to %c70 step %c8 iter_args(%[[ACC:[a-z0-9]+]] = %[[ZERO]], %{{.*}} = %[[ZERO]], {{.*}}) -> (!gpu.mma_matrix<16x16xf32, "COp">
// TF32: %[[A:.*]] = gpu.subgroup_mma_load_matrix %[[ROWS]][%c0, %{{.*}}] {leadDimension = 132 : index, transpose} : memref<8x132xf32, #gpu.address_space<workgroup>> -> !gpu.mma_matrix<16x8xf32, "AOp">
// TF32: %[[B:.*]] = gpu.subgroup_mma_load_matrix %[[COLS]][%c0, %{{.*}}] {leadDimension = 132 : index} : memref<8x132xf32, #gpu.address_space<workgroup>> -> !gpu.mma_matrix<8x16xf32, "BOp">
// TF32: %[[SUM:.*]] = gpu.subgroup_mma_compute %[[A]], %[[B]], %[[ACC]] {a_transpose} : !gpu.mma_matrix<16x8xf32, "AOp">, !gpu.mma_matrix<8x16xf32, "BOp"> -> !gpu.mma_matrix<16x16xf32, "COp">
// TF32: gpu.barrier
// TF32: gpu.barrier
// TF32: scf.yield %[[SUM]],
// Each fragment through the warp's scratch, then guarded adds to the result.
// TF32: gpu.subgroup_mma_store_matrix %[[SUMS]]#0, %[[SCRATCH]][%{{.*}}, %c0] {leadDimension = 16 : index}
// TF32-NEXT: gpu.barrier
// TF32: memref.load %[[SCRATCH]]
// TF32: arith.cmpi ult, %{{.*}}, %c200
// TF32: scf.if
// TF32: memref.load %arg2
// TF32: arith.addf
// TF32: memref.store %{{.*}}, %arg2
// TF32: gpu.barrier
// TF32: gpu.subgroup_mma_store_matrix %[[SUMS]]#7
// fp16: slices of 16-bit floats, 16 deep (rows padded to 136), fragments of
// 16x16x16.
// FP16-LABEL: func.func @matmul
// FP16: workgroup(%[[ROWS:.*]] : memref<16x136xf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x136xf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<128x16xf32, #gpu.address_space<workgroup>>)
// FP16-SAME: private(%{{.*}} : memref<16xf32, #gpu.address_space<private>>)
// FP16: arith.truncf %{{.*}} : f32 to f16
// FP16: scf.for %{{.*}} = %c0 to %c70 step %c16 iter_args
// FP16: gpu.subgroup_mma_load_matrix %[[ROWS]][%c0, %{{.*}}] {leadDimension = 136 : index, transpose} : memref<16x136xf16, #gpu.address_space<workgroup>> -> !gpu.mma_matrix<16x16xf16, "AOp">
// FP16: gpu.subgroup_mma_compute {{.*}} : !gpu.mma_matrix<16x16xf16, "AOp">, !gpu.mma_matrix<16x16xf16, "BOp"> -> !gpu.mma_matrix<16x16xf32, "COp">
// 4x2 fragments a warp.
// COMPUTES: 8
// bf16: slices of bf16, 16 deep; 64 accumulators a thread in private memory
// (a warp's 64x32 outputs as 4x4 products of 16x8); per product, A's 4
// registers (pairs of a row at columns 2t, 2t + 8) and B's 2 (pairs of a
// column) packed from the slices, C loaded, mma.sync, D stored back.
// BF16-LABEL: func.func @matmul
// BF16: workgroup(%[[ROWS:.*]] : memref<16x136xbf16, #gpu.address_space<workgroup>>, %[[COLS:.*]] : memref<16x136xbf16, #gpu.address_space<workgroup>>)
// BF16-SAME: private(%[[ACC:.*]] : memref<64xf32, #gpu.address_space<private>>, %{{.*}} : memref<16xf32, #gpu.address_space<private>>)
// BF16: arith.truncf %{{.*}} : f32 to bf16
// BF16: scf.for %{{.*}} = %c0 to %c70 step %c16 {
// BF16: memref.load %[[ROWS]]
// BF16: vector.from_elements %{{.*}}, %{{.*}} : vector<2xbf16>
// BF16: vector.bitcast %{{.*}} : vector<2xbf16> to vector<1xi32>
// BF16: memref.load %[[COLS]]
// BF16: memref.load %[[ACC]][%c0]
// BF16: %[[D:.*]] = nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// BF16: %[[D0:.*]] = llvm.extractvalue %[[D]][0]
// BF16: memref.store %[[D0]], %[[ACC]][%c0]
// BF16: gpu.barrier
// The accumulators go to the result inside its edges.
// BF16: memref.load %[[ACC]]
// BF16: scf.if
// BF16: memref.store %{{.*}}, %arg2
// 4x4 products a warp.
// MMAS: 16
// BAD: error: precision must be fp32, tf32, fp16 or bf16, got 'fp8'
func.func @matmul(%a: memref<200x70xf32>, %b: memref<70x130xf32>, %c: memref<200x130xf32>) {
  linalg.matmul ins(%a, %b : memref<200x70xf32>, memref<70x130xf32>) outs(%c : memref<200x130xf32>)
  return
}
