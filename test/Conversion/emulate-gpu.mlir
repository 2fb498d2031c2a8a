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

// Threads that wait for each other cannot run one after another.
func.func @barrier() {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{cannot emulate a kernel with barriers}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.barrier
    gpu.terminator
  }
  return
}
