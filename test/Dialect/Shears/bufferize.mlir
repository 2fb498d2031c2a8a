// RUN: shears-opt %s --one-shot-bufferize="bufferize-function-boundaries" --split-input-file | FileCheck %s

// A conv2d whose residual is also its output computes in the residual's
// buffer: no allocation, no copy.
// CHECK-LABEL: func.func @in_place
// CHECK: %[[R:.+]] = memref.alloc
// CHECK: shears.ukernel "conv2d" {{.*}} outs(%[[R]] :
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
// CHECK: shears.ukernel "conv2d" ins(%arg0, %arg1, %arg2, %[[R]] : {{.*}}) outs(%[[R]] :
// CHECK: return %[[R]]
func.func @in_place(%x: tensor<1x8x4x4xf32>, %w: tensor<1x1x8x8xf32>, %b: tensor<8xf32>) -> tensor<1x8x4x4xf32> {
  %e = tensor.empty() : tensor<1x8x4x4xf32>
  %r = shears.ukernel "conv2d" ins(%x, %w, %b : tensor<1x8x4x4xf32>, tensor<1x1x8x8xf32>, tensor<8xf32>) outs(%e : tensor<1x8x4x4xf32>) iparams = [8, 4, 4, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4, 1, 1, 0] fparams = [0.0, 0.0] -> tensor<1x8x4x4xf32>
  %c = shears.ukernel "conv2d" ins(%x, %w, %b, %r : tensor<1x8x4x4xf32>, tensor<1x1x8x8xf32>, tensor<8xf32>, tensor<1x8x4x4xf32>) outs(%r : tensor<1x8x4x4xf32>) iparams = [8, 4, 4, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4, 1, 19, 0] fparams = [0.0, 0.0] -> tensor<1x8x4x4xf32>
  return %c : tensor<1x8x4x4xf32>
}

// -----

// Where the residual is read after the kernel, or the kernel may not
// compute in it (maxpool2d), the output gets a buffer of its own (the
// kernel does not read its output: no copy).
// CHECK-LABEL: func.func @read_after
// CHECK: %[[R:.+]] = memref.alloc
// CHECK: shears.ukernel "gemm" {{.*}} outs(%[[R]] :
// CHECK: %[[C:.+]] = memref.alloc
// CHECK-NOT: memref.copy
// CHECK: shears.ukernel "gemm" ins(%arg0, %arg1, %[[R]] : {{.*}}) outs(%[[C]] :
func.func @read_after(%x: tensor<2x4xf32>, %w: tensor<1x4x32xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %e = tensor.empty() : tensor<2x4xf32>
  %r = shears.ukernel "gemm" ins(%x, %w : tensor<2x4xf32>, tensor<1x4x32xf32>) outs(%e : tensor<2x4xf32>) iparams = [4, 4, 2, 0] fparams = [0.0, 0.0] -> tensor<2x4xf32>
  %g = shears.ukernel "gemm" ins(%x, %w, %r : tensor<2x4xf32>, tensor<1x4x32xf32>, tensor<2x4xf32>) outs(%r : tensor<2x4xf32>) iparams = [4, 4, 2, 2] fparams = [0.0, 0.0] -> tensor<2x4xf32>
  return %g, %r : tensor<2x4xf32>, tensor<2x4xf32>
}

// CHECK-LABEL: func.func @not_in_place_kernel
// CHECK: %[[R:.+]] = memref.alloc
// CHECK: shears.ukernel "maxpool2d" {{.*}} outs(%[[R]] :
// CHECK: %[[C:.+]] = memref.alloc
// CHECK-NOT: memref.copy
// CHECK: shears.ukernel "maxpool2d" ins(%arg0, %[[R]] : {{.*}}) outs(%[[C]] :
func.func @not_in_place_kernel(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %r = shears.ukernel "maxpool2d" ins(%x : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x2x2xf32>) iparams = [2, 4, 4, 2, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2, 2, 0, 0] fparams = [0.0, 0.0] -> tensor<1x2x2x2xf32>
  %p = shears.ukernel "maxpool2d" ins(%x, %r : tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>) outs(%r : tensor<1x2x2x2xf32>) iparams = [2, 4, 4, 2, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2, 2, 2, 0] fparams = [0.0, 0.0] -> tensor<1x2x2x2xf32>
  return %p : tensor<1x2x2x2xf32>
}
