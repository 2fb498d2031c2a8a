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
