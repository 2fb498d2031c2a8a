// RUN: shears-opt %s --shears-lower-ukernels=isa=generic --split-input-file | FileCheck %s

// A call of the ISA's kernel: operand addresses (base + offset * 4) in a
// stack array in the entry block, the first input's sizes in another, the
// parameters in constant globals.
// CHECK-DAG: memref.global "private" constant @[[IP:__shears_uk_params_[0-9]+]] : memref<4xi64> = dense<[16, 20, 2, 0]>
// CHECK-DAG: memref.global "private" constant @[[FP:__shears_uk_params_[0-9]+]] : memref<2xf32> = dense<0.000000e+00>
// CHECK-LABEL: func.func @gemm
// CHECK: %[[BUFS:.+]] = memref.alloca() : memref<3xindex>
// CHECK: %[[DIMS:.+]] = memref.alloca() : memref<2xindex>
// CHECK: %[[A:.+]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK: %[[AOFF:.+]], %{{.+}}:2, %{{.+}}:2 = memref.extract_strided_metadata %arg0
// CHECK: memref.store %{{.+}}, %[[BUFS]][%c0]
// CHECK: memref.store %{{.+}}, %[[BUFS]][%c1]
// CHECK: memref.store %{{.+}}, %[[BUFS]][%c2]
// CHECK: %[[N:.+]] = memref.dim %arg0, %c0
// CHECK: memref.store %[[N]], %[[DIMS]]
// CHECK: memref.get_global @[[IP]]
// CHECK: memref.get_global @[[FP]]
// CHECK: call @shears_uk_gemm_generic(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
// CHECK-NOT: shears.ukernel
// CHECK: func.func private @shears_uk_gemm_generic(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr)
func.func @gemm(%a: memref<?x16xf32>, %b: memref<1x16x32xf32>, %c: memref<?x20xf32>) {
  shears.ukernel "gemm" ins(%a, %b : memref<?x16xf32>, memref<1x16x32xf32>) outs(%c : memref<?x20xf32>) iparams = [16, 20, 2, 0] fparams = [0.0, 0.0]
  return
}

// -----

// Strided views go through dense copies: the input is copied in, the output
// copied back out after the call.
// CHECK-LABEL: func.func @strided
// CHECK: %[[IN:.+]] = memref.alloc() : memref<1x8x4x4xf32>
// CHECK: memref.copy %arg0, %[[IN]]
// CHECK: %[[OUT:.+]] = memref.alloc() : memref<1x8x4x4xf32>
// CHECK: call @shears_uk_dwconv2d_generic
// CHECK: memref.copy %[[OUT]], %arg2
// CHECK: memref.dealloc %[[IN]]
// CHECK: memref.dealloc %[[OUT]]
func.func @strided(%x: memref<1x8x4x4xf32, strided<[512, 32, 4, 1]>>, %w: memref<8x1x3x3xf32>, %y: memref<1x8x4x4xf32, strided<[256, 32, 4, 1], offset: 16>>) {
  shears.ukernel "dwconv2d" ins(%x, %w : memref<1x8x4x4xf32, strided<[512, 32, 4, 1]>>, memref<8x1x3x3xf32>) outs(%y : memref<1x8x4x4xf32, strided<[256, 32, 4, 1], offset: 16>>) iparams = [8, 4, 4, 8, 3, 3, 1, 1, 1, 1, 1, 1, 4, 4, 8, 0, 0] fparams = [0.0, 0.0]
  return
}

// -----

// An NCHW output that is dense within each image (a slice of a concat along
// channels) is written in place: no copy, its image stride in OUT_STRIDE
// (the last iparam), its offset in the address.
// CHECK-DAG: memref.global "private" constant @[[SIP:__shears_uk_params_[0-9]+]] : memref<17xi64> = dense<[8, 4, 4, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4, 1, 0, 384]>
// CHECK-LABEL: func.func @concat_slice
// CHECK-NOT: memref.alloc(
// CHECK-NOT: memref.copy
// CHECK: %[[OFF:.+]], %{{.+}}:4, %{{.+}}:4 = memref.extract_strided_metadata %arg2
// CHECK: memref.get_global @[[SIP]]
// CHECK: call @shears_uk_conv2d_generic
// CHECK-NOT: memref.copy
func.func @concat_slice(%x: memref<?x8x4x4xf32>, %w: memref<1x1x8x8xf32>, %y: memref<?x8x4x4xf32, strided<[384, 16, 4, 1], offset: 128>>) {
  shears.ukernel "conv2d" ins(%x, %w : memref<?x8x4x4xf32>, memref<1x1x8x8xf32>) outs(%y : memref<?x8x4x4xf32, strided<[384, 16, 4, 1], offset: 128>>) iparams = [8, 4, 4, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4, 1, 0, 0] fparams = [0.0, 0.0]
  return
}

// -----

// isa=host picks this machine's variant; an unknown one is an error.
// RUN: not shears-opt %s --shears-lower-ukernels=isa=sse9 --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: unknown micro-kernel ISA 'sse9' (avx512, avx2, generic or host)
