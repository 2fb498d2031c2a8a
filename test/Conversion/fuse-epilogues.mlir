// RUN: shears-opt %s --shears-fuse-epilogues --split-input-file | FileCheck %s

// conv -> add(residual) -> relu becomes one kernel: the residual joins the
// inputs, flags = bias | residual | relu << 4 = 19.
// CHECK-LABEL: func.func @residual_relu
// CHECK: %[[K:.+]] = shears.ukernel "conv2d" ins(%arg0, %arg1, %arg2, %arg3 : {{.*}}) outs(%{{.+}} : tensor<1x8x4x4xf32>)
// CHECK-SAME: iparams = [8, 4, 4, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4, 1, 19, 0]
// CHECK-NOT: shears.add
// CHECK-NOT: shears.relu
// CHECK: return %[[K]]
func.func @residual_relu(%x: tensor<1x8x4x4xf32>, %w: tensor<1x1x8x8xf32>, %b: tensor<8xf32>, %r: tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> {
  %e = tensor.empty() : tensor<1x8x4x4xf32>
  %c = shears.ukernel "conv2d" ins(%x, %w, %b : tensor<1x8x4x4xf32>, tensor<1x1x8x8xf32>, tensor<8xf32>) outs(%e : tensor<1x8x4x4xf32>) iparams = [8, 4, 4, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4, 1, 1, 0] fparams = [0.0, 0.0] -> tensor<1x8x4x4xf32>
  %a = shears.add %r, %c : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  %y = shears.relu %a : tensor<1x8x4x4xf32>
  return %y : tensor<1x8x4x4xf32>
}

// -----

// clip (ReLU6) records its bounds; a missing bound is the largest float.
// CHECK-LABEL: func.func @clip
// CHECK: shears.ukernel "gemm" {{.*}} iparams = [4, 4, 2, 32] fparams = [0.000000e+00, 6.000000e+00]
// CHECK-LABEL: func.func @clip_min_only
// CHECK: fparams = [-1.000000e+00, 3.402823e+38]
func.func @clip(%x: tensor<2x4xf32>, %w: tensor<1x4x32xf32>) -> tensor<2x4xf32> {
  %e = tensor.empty() : tensor<2x4xf32>
  %g = shears.ukernel "gemm" ins(%x, %w : tensor<2x4xf32>, tensor<1x4x32xf32>) outs(%e : tensor<2x4xf32>) iparams = [4, 4, 2, 0] fparams = [0.0, 0.0] -> tensor<2x4xf32>
  %y = shears.clip %g {min = 0.0 : f32, max = 6.0 : f32} : tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
func.func @clip_min_only(%x: tensor<2x4xf32>, %w: tensor<1x4x32xf32>) -> tensor<2x4xf32> {
  %e = tensor.empty() : tensor<2x4xf32>
  %g = shears.ukernel "gemm" ins(%x, %w : tensor<2x4xf32>, tensor<1x4x32xf32>) outs(%e : tensor<2x4xf32>) iparams = [4, 4, 2, 0] fparams = [0.0, 0.0] -> tensor<2x4xf32>
  %y = shears.clip %g {min = -1.0 : f32} : tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Not fused: a result with two users, an add after the activation (the
// kernels add the residual before it), and an add that broadcasts.
// CHECK-LABEL: func.func @not_fused
// CHECK: %[[G:.+]] = shears.ukernel "gemm" {{.*}} iparams = [4, 4, 2, 0]
// CHECK: shears.relu %[[G]]
// CHECK: shears.add %[[G]]
// CHECK: %[[H:.+]] = shears.ukernel "gemm" {{.*}} iparams = [4, 4, 2, 16]
// CHECK: shears.add %[[H]]
// CHECK: %[[B:.+]] = shears.ukernel "gemm" {{.*}} iparams = [4, 4, 2, 0]
// CHECK: shears.add %[[B]], %arg2
func.func @not_fused(%x: tensor<2x4xf32>, %w: tensor<1x4x32xf32>, %row: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %e = tensor.empty() : tensor<2x4xf32>
  %g = shears.ukernel "gemm" ins(%x, %w : tensor<2x4xf32>, tensor<1x4x32xf32>) outs(%e : tensor<2x4xf32>) iparams = [4, 4, 2, 0] fparams = [0.0, 0.0] -> tensor<2x4xf32>
  %r = shears.relu %g : tensor<2x4xf32>
  %s = shears.add %g, %x : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %h = shears.ukernel "gemm" ins(%x, %w : tensor<2x4xf32>, tensor<1x4x32xf32>) outs(%e : tensor<2x4xf32>) iparams = [4, 4, 2, 0] fparams = [0.0, 0.0] -> tensor<2x4xf32>
  %hr = shears.relu %h : tensor<2x4xf32>
  %t = shears.add %hr, %x : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %bc = shears.ukernel "gemm" ins(%x, %w : tensor<2x4xf32>, tensor<1x4x32xf32>) outs(%e : tensor<2x4xf32>) iparams = [4, 4, 2, 0] fparams = [0.0, 0.0] -> tensor<2x4xf32>
  %u = shears.add %bc, %row : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %r, %s, %t, %u : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// A residual that a kernel computed and no op reads after the add is the
// fused kernel's output too: it computes in the residual's buffer (conv2d
// and gemm). A read after the add or by the kernel itself, or a kernel that
// cannot (maxpool2d), keeps the output it had.
// CHECK-LABEL: func.func @in_place
// CHECK: %[[R:.+]] = shears.ukernel "conv2d" ins(%arg0,
// CHECK: %[[U:.+]] = shears.ukernel "conv2d" ins(%[[R]],
// CHECK: %[[C:.+]] = shears.ukernel "conv2d" ins(%[[U]], %arg1, %arg2, %[[R]] : {{.*}}) outs(%[[R]] : tensor<1x8x4x4xf32>)
// CHECK-SAME: iparams = [8, 4, 4, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4, 1, 19, 0]
// CHECK: return %[[C]]
func.func @in_place(%x: tensor<1x8x4x4xf32>, %w: tensor<1x1x8x8xf32>, %b: tensor<8xf32>) -> tensor<1x8x4x4xf32> {
  %e = tensor.empty() : tensor<1x8x4x4xf32>
  %r = shears.ukernel "conv2d" ins(%x, %w, %b : tensor<1x8x4x4xf32>, tensor<1x1x8x8xf32>, tensor<8xf32>) outs(%e : tensor<1x8x4x4xf32>) iparams = [8, 4, 4, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4, 1, 1, 0] fparams = [0.0, 0.0] -> tensor<1x8x4x4xf32>
  %u = shears.ukernel "conv2d" ins(%r, %w, %b : tensor<1x8x4x4xf32>, tensor<1x1x8x8xf32>, tensor<8xf32>) outs(%e : tensor<1x8x4x4xf32>) iparams = [8, 4, 4, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4, 1, 1, 0] fparams = [0.0, 0.0] -> tensor<1x8x4x4xf32>
  %c = shears.ukernel "conv2d" ins(%u, %w, %b : tensor<1x8x4x4xf32>, tensor<1x1x8x8xf32>, tensor<8xf32>) outs(%e : tensor<1x8x4x4xf32>) iparams = [8, 4, 4, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4, 1, 1, 0] fparams = [0.0, 0.0] -> tensor<1x8x4x4xf32>
  %a = shears.add %r, %c : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  %y = shears.relu %a : tensor<1x8x4x4xf32>
  return %y : tensor<1x8x4x4xf32>
}

// CHECK-LABEL: func.func @read_after
// CHECK: %[[E:.+]] = tensor.empty
// CHECK: %[[R:.+]] = shears.ukernel "gemm"
// CHECK: shears.ukernel "gemm" ins(%arg0, %arg1, %[[R]] : {{.*}}) outs(%[[E]] :
// CHECK-LABEL: func.func @read_by_the_kernel
// CHECK: %[[E:.+]] = tensor.empty
// CHECK: %[[R:.+]] = shears.ukernel "gemm"
// CHECK: shears.ukernel "gemm" ins(%[[R]], %arg1, %[[R]] : {{.*}}) outs(%[[E]] :
func.func @read_after(%x: tensor<2x4xf32>, %w: tensor<1x4x32xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %e = tensor.empty() : tensor<2x4xf32>
  %r = shears.ukernel "gemm" ins(%x, %w : tensor<2x4xf32>, tensor<1x4x32xf32>) outs(%e : tensor<2x4xf32>) iparams = [4, 4, 2, 0] fparams = [0.0, 0.0] -> tensor<2x4xf32>
  %g = shears.ukernel "gemm" ins(%x, %w : tensor<2x4xf32>, tensor<1x4x32xf32>) outs(%e : tensor<2x4xf32>) iparams = [4, 4, 2, 0] fparams = [0.0, 0.0] -> tensor<2x4xf32>
  %a = shears.add %g, %r : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %later = shears.relu %r : tensor<2x4xf32>
  return %a, %later : tensor<2x4xf32>, tensor<2x4xf32>
}
func.func @read_by_the_kernel(%x: tensor<2x4xf32>, %w: tensor<1x4x32xf32>) -> tensor<2x4xf32> {
  %e = tensor.empty() : tensor<2x4xf32>
  %r = shears.ukernel "gemm" ins(%x, %w : tensor<2x4xf32>, tensor<1x4x32xf32>) outs(%e : tensor<2x4xf32>) iparams = [4, 4, 2, 0] fparams = [0.0, 0.0] -> tensor<2x4xf32>
  %g = shears.ukernel "gemm" ins(%r, %w : tensor<2x4xf32>, tensor<1x4x32xf32>) outs(%e : tensor<2x4xf32>) iparams = [4, 4, 2, 0] fparams = [0.0, 0.0] -> tensor<2x4xf32>
  %a = shears.add %g, %r : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %a : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @not_in_place_kernel
// CHECK: %[[E:.+]] = tensor.empty
// CHECK: %[[R:.+]] = shears.ukernel "maxpool2d"
// CHECK: shears.ukernel "maxpool2d" ins(%arg0, %[[R]] : {{.*}}) outs(%[[E]] :
func.func @not_in_place_kernel(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %r = shears.ukernel "maxpool2d" ins(%x : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x2x2xf32>) iparams = [2, 4, 4, 2, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2, 2, 0, 0] fparams = [0.0, 0.0] -> tensor<1x2x2x2xf32>
  %p = shears.ukernel "maxpool2d" ins(%x : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x2x2xf32>) iparams = [2, 4, 4, 2, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2, 2, 0, 0] fparams = [0.0, 0.0] -> tensor<1x2x2x2xf32>
  %a = shears.add %p, %r : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %a : tensor<1x2x2x2xf32>
}
