// RUN: shears-opt %s --shears-emulate-gpu --split-input-file --verify-diagnostics | FileCheck %s

// A launch becomes loops over blocks z, y, x and threads z, y, x around its
// body, which reads the loop variables for the ids and the launch's sizes
// for the dimensions; device memory operations become host ones, and a
// weight's device copy is the weight itself.
// CHECK-LABEL: func.func @kernel
// CHECK-NOT: gpu.
// CHECK: %[[D:.+]] = memref.alloc(%{{.+}}) : memref<?xf32>
// CHECK: memref.copy %arg0, %[[D]]
// CHECK: %[[GX:.+]] = arith.ceildivui
// CHECK: scf.for %{{.+}} = %{{.+}} to %c1 step
// CHECK: scf.for %{{.+}} = %{{.+}} to %c1 step
// CHECK: scf.for %[[BX:.+]] = %{{.+}} to %[[GX]] step
// CHECK: scf.for %{{.+}} = %{{.+}} to %c1 step
// CHECK: scf.for %{{.+}} = %{{.+}} to %c1 step
// CHECK: scf.for %[[TX:.+]] = %{{.+}} to %c64 step
// CHECK: %[[BASE:.+]] = arith.muli %[[BX]], %c64
// CHECK: %[[I:.+]] = arith.addi %[[BASE]], %[[TX]]
// CHECK: memref.load %[[D]][%[[I]]]
// CHECK: memref.store %{{.+}}, %[[D]][%[[I]]]
// CHECK: memref.copy %[[D]], %arg1
// CHECK: memref.dealloc %[[D]]
// CHECK: return %arg2 : !llvm.ptr
// CHECK-LABEL: func.func @shears_release
// CHECK-NEXT: return
func.func @kernel(%x: memref<?xf32>, %y: memref<?xf32>, %w: !llvm.ptr, %slot: !llvm.ptr) -> !llvm.ptr {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c4_i64 = arith.constant 4 : i64
  %n = memref.dim %x, %c0 : memref<?xf32>
  %d = gpu.alloc (%n) : memref<?xf32>
  gpu.memcpy %d, %x : memref<?xf32>, memref<?xf32>
  %blocks = arith.ceildivui %n, %c64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %blocks, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %base = arith.muli %bx, %sx : index
    %i = arith.addi %base, %tx : index
    %in = arith.cmpi ult, %i, %n : index
    scf.if %in {
      %v = memref.load %d[%i] : memref<?xf32>
      %two = arith.addf %v, %v : f32
      memref.store %two, %d[%i] : memref<?xf32>
    }
    gpu.terminator
  }
  gpu.memcpy %y, %d : memref<?xf32>, memref<?xf32>
  gpu.dealloc %d : memref<?xf32>
  %dw = func.call @shears_gpu_constant(%slot, %w, %c4_i64) : (!llvm.ptr, !llvm.ptr, i64) -> !llvm.ptr
  return %dw : !llvm.ptr
}
func.func private @shears_gpu_constant(!llvm.ptr, !llvm.ptr, i64) -> !llvm.ptr
func.func private @shears_gpu_release_constant(!llvm.ptr)
func.func @shears_release(%slot: !llvm.ptr) {
  func.call @shears_gpu_release_constant(%slot) : (!llvm.ptr) -> ()
  return
}

// -----

// Barriers: each phase between them runs for every thread of the block
// before the next; shared memory is one buffer, private memory one slice per
// thread of a buffer, and a value computed from ids (%next) is computed
// again in the phase that uses it.
// CHECK-LABEL: func.func @phases
// CHECK: %[[SHARED:.*]] = memref.alloc() : memref<4xf32>
// CHECK: %[[OWN:.*]] = memref.alloc(%{{.*}}) : memref<?x1xf32>
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// The first phase, over threads z, y, x.
// CHECK:   scf.for
// CHECK:   scf.for
// CHECK:   scf.for %[[T1:.*]] = %{{.*}} to %c4
// CHECK:     memref.subview %[[OWN]][%{{.*}}, 0] [1, 1] [1, 1]
// CHECK:     memref.store %{{.*}}, %[[SHARED]][%[[T1]]]
// CHECK-NOT: gpu.barrier
// The second phase.
// CHECK:   scf.for
// CHECK:   scf.for
// CHECK:   scf.for %[[T2:.*]] = %{{.*}} to %c4
// CHECK:     %[[NEXT:.*]] = arith.addi %[[T2]], %c1
// CHECK:     %[[WRAPPED:.*]] = arith.remui %[[NEXT]], %c4
// CHECK:     memref.load %[[SHARED]][%[[WRAPPED]]]
// CHECK:     memref.store %{{.*}}, %arg0[%[[T2]]]
// CHECK: memref.dealloc %[[SHARED]]
// CHECK: memref.dealloc %[[OWN]]
func.func @phases(%out: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c2 = arith.constant 2.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             workgroup(%shared : memref<4xf32, #gpu.address_space<workgroup>>)
             private(%own : memref<1xf32, #gpu.address_space<private>>) {
    %c0 = arith.constant 0 : index
    %i = arith.index_cast %tx : index to i32
    %f = arith.sitofp %i : i32 to f32
    memref.store %f, %shared[%tx] : memref<4xf32, #gpu.address_space<workgroup>>
    %twice = arith.mulf %f, %c2 : f32
    memref.store %twice, %own[%c0] : memref<1xf32, #gpu.address_space<private>>
    %next = arith.addi %tx, %c1 : index
    gpu.barrier
    %wrapped = arith.remui %next, %c4 : index
    %other = memref.load %shared[%wrapped] : memref<4xf32, #gpu.address_space<workgroup>>
    %mine = memref.load %own[%c0] : memref<1xf32, #gpu.address_space<private>>
    %sum = arith.addf %other, %mine : f32
    memref.store %sum, %out[%tx] : memref<4xf32>
    gpu.terminator
  }
  return
}

// -----

// A thread's value read from memory before a barrier would have to live
// across it: such a kernel keeps it in private memory, or cannot be emulated.
func.func @value_across_barrier(%x: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<4xf32>
    gpu.barrier
    // expected-error @+1 {{cannot emulate: a value crosses a barrier and is not computed from ids and constants}}
    memref.store %v, %x[%tx] : memref<4xf32>
    gpu.terminator
  }
  return
}

// -----

// Threads must all reach a barrier: one under a condition is not emulated.
func.func @barrier_under_condition(%c: i1) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    // expected-error @+1 {{cannot emulate barriers inside this op: only inside loops without loop-carried values}}
    scf.if %c {
      gpu.barrier
    }
    gpu.terminator
  }
  return
}

// -----

// WMMA fragments: the first thread of each warp runs the matrix operations
// on whole matrices, each fragment in 16x16 floats of private memory (5
// slots here). A start shared by two of a loop's fragments is copied into
// each one's memory, the loop then carries nothing, and the product
// accumulates in the memory of the fragment it updates.
// CHECK-LABEL: func.func @fragments
// CHECK: %[[ALL:.+]] = memref.alloc(%{{.+}}) : memref<?x1280xf32>
// CHECK: %[[OWN:.+]] = memref.subview %[[ALL]]
// CHECK: %[[LANE:.+]] = arith.remui %{{.+}}, %c32
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[LANE]], %{{.+}}
// CHECK: scf.if %[[FIRST]] {
// CHECK:   memref.store %cst, %[[OWN]]
// CHECK: scf.if
// CHECK:   arith.addi %c768
// CHECK:   arith.addi %c1024
// CHECK: scf.for %{{.+}} = %c0 to %arg2 step %c1 {
// CHECK-NOT: iter_args
// CHECK:   scf.if
// CHECK:     memref.load %arg0
// CHECK:     arith.addi %c256
// CHECK:     memref.store %{{.+}}, %{{.+}}[%{{.+}}] : memref<1280xf32
// CHECK:   scf.if
// CHECK:     memref.load %arg0
// CHECK:   scf.if
// CHECK:     scf.for %{{.+}} = %{{.+}} to %c8{{.*}} step %{{.+}} iter_args
// CHECK:       arith.mulf
// CHECK:       arith.addf
// CHECK:     arith.addi %c768
// CHECK:     memref.store
// The stored fragment is the loop's first (slot 768).
// CHECK: scf.if
// CHECK:   arith.addi %c768
// CHECK:   memref.load
// CHECK:   memref.store %{{.+}}, %arg1
func.func @fragments(%a: memref<8x16xf32>, %out: memref<16x16xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %init = gpu.subgroup_mma_constant_matrix %zero : !gpu.mma_matrix<16x16xf32, "COp">
    %sums:2 = scf.for %k = %c0 to %n step %c1 iter_args(%s = %init, %t = %init) -> (!gpu.mma_matrix<16x16xf32, "COp">, !gpu.mma_matrix<16x16xf32, "COp">) {
      %x = gpu.subgroup_mma_load_matrix %a[%c0, %c0] {leadDimension = 16 : index, transpose} : memref<8x16xf32> -> !gpu.mma_matrix<16x8xf32, "AOp">
      %y = gpu.subgroup_mma_load_matrix %a[%c0, %c0] {leadDimension = 16 : index} : memref<8x16xf32> -> !gpu.mma_matrix<8x16xf32, "BOp">
      %p = gpu.subgroup_mma_compute %x, %y, %s {a_transpose} : !gpu.mma_matrix<16x8xf32, "AOp">, !gpu.mma_matrix<8x16xf32, "BOp"> -> !gpu.mma_matrix<16x16xf32, "COp">
      gpu.barrier
      scf.yield %p, %t : !gpu.mma_matrix<16x16xf32, "COp">, !gpu.mma_matrix<16x16xf32, "COp">
    }
    gpu.subgroup_mma_store_matrix %sums#0, %out[%c0, %c0] {leadDimension = 16 : index} : !gpu.mma_matrix<16x16xf32, "COp">, memref<16x16xf32>
    gpu.terminator
  }
  return
}

// -----

// A fragment access whose rows are not the memref's: an error, not wrong
// numbers.
func.func @fragment_layout(%a: memref<16x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    // expected-error @+1 {{cannot emulate a fragment access to a memref whose rows are not its leading dimension}}
    %x = gpu.subgroup_mma_load_matrix %a[%c0, %c0] {leadDimension = 16 : index} : memref<16x32xf32> -> !gpu.mma_matrix<16x16xf32, "COp">
    gpu.subgroup_mma_store_matrix %x, %a[%c0, %c0] {leadDimension = 32 : index} : !gpu.mma_matrix<16x16xf32, "COp">, memref<16x32xf32>
    gpu.terminator
  }
  return
}

// -----

// mma.sync (bf16, m16n8k16): each thread stores its 10 registers into a
// shared exchange (4 of A, 2 of B, 4 of C as bits), then, in a phase of its
// own, computes the outputs it holds from its warp's registers: the 16
// products of a row of A (the bf16 in a register's low or high half, made
// f32 by a shift) and a column of B, added to its C.
// CHECK-LABEL: func.func @mma_sync
// CHECK: %[[X:.+]] = memref.alloc() : memref<320xi32>
// CHECK: scf.for
// CHECK-COUNT-10: memref.store %{{.+}}, %[[X]]
// CHECK: scf.for %[[T:.+]] = %{{.+}} to %c32 step
// CHECK: arith.remui %{{.+}}, %c32
// CHECK: scf.for %{{.+}} = %{{.+}} to %c16{{.*}} step %{{.+}} iter_args
// CHECK:   memref.load %[[X]]
// CHECK:   arith.shrui
// CHECK:   arith.shli
// CHECK:   arith.bitcast %{{.+}} : i32 to f32
// CHECK:   arith.mulf
// CHECK:   arith.addf
// CHECK: memref.store %{{.+}}, %arg1
// CHECK: memref.dealloc %[[X]]
func.func @mma_sync(%a: memref<32x4xi32>, %c: memref<32x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %a0 = memref.load %a[%tx, %c0] : memref<32x4xi32>
    %a1 = memref.load %a[%tx, %c1] : memref<32x4xi32>
    %a2 = memref.load %a[%tx, %c2] : memref<32x4xi32>
    %a3 = memref.load %a[%tx, %c3] : memref<32x4xi32>
    %x0 = memref.load %c[%tx, %c0] : memref<32x4xf32>
    %x1 = memref.load %c[%tx, %c1] : memref<32x4xf32>
    %x2 = memref.load %c[%tx, %c2] : memref<32x4xf32>
    %x3 = memref.load %c[%tx, %c3] : memref<32x4xf32>
    %d = nvvm.mma.sync A[%a0, %a1, %a2, %a3] B[%a0, %a1] C[%x0, %x1, %x2, %x3]
      {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
       multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
       shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
    %d2 = llvm.extractvalue %d[2] : !llvm.struct<(f32, f32, f32, f32)>
    memref.store %d2, %c[%tx, %c2] : memref<32x4xf32>
    gpu.terminator
  }
  return
}
