// RUN: shears-opt %s --pass-pipeline="builtin.module(gpu.module(shears-align-shared-memory))" | FileCheck %s
// RUN: shears-opt %s --pass-pipeline="builtin.module(gpu.module(shears-align-shared-memory),gpu.module(convert-gpu-to-nvvm))" | FileCheck %s --check-prefix=NVVM

// Workgroup attributions get a 32-byte alignment, for 128-bit accesses and
// WMMA;
// one that states its own keeps it.
// CHECK-LABEL: gpu.func @kernel
// CHECK-SAME: workgroup(%{{.*}} : memref<8x132xf32, #gpu.address_space<workgroup>> {llvm.align = 32 : i64}, %{{.*}} : memref<4xf32, #gpu.address_space<workgroup>> {llvm.align = 64 : i64})
// CHECK-SAME: private(%{{.*}} : memref<4xf32, #gpu.address_space<private>>)
// The NVVM lowering puts it on the shared variable.
// NVVM: llvm.mlir.global internal @__wg_kernel_0() {addr_space = 3 : i32, alignment = 32 : i64} : !llvm.array<1056 x f32>
// NVVM: llvm.mlir.global internal @__wg_kernel_1() {addr_space = 3 : i32, alignment = 64 : i64} : !llvm.array<4 x f32>
gpu.module @kernels {
  gpu.func @kernel(%out: memref<4xf32>)
      workgroup(%slice : memref<8x132xf32, #gpu.address_space<workgroup>>,
                %small : memref<4xf32, #gpu.address_space<workgroup>> {llvm.align = 64 : i64})
      private(%own : memref<4xf32, #gpu.address_space<private>>) kernel {
    %c0 = arith.constant 0 : index
    %v = vector.load %slice[%c0, %c0] {alignment = 16 : i64} : memref<8x132xf32, #gpu.address_space<workgroup>>, vector<4xf32>
    vector.store %v, %small[%c0] : memref<4xf32, #gpu.address_space<workgroup>>, vector<4xf32>
    vector.store %v, %own[%c0] : memref<4xf32, #gpu.address_space<private>>, vector<4xf32>
    %w = vector.load %own[%c0] : memref<4xf32, #gpu.address_space<private>>, vector<4xf32>
    vector.store %w, %out[%c0] : memref<4xf32>, vector<4xf32>
    gpu.return
  }
}
