// RUN: shears-opt %s --split-input-file --shears-mark-batch-separable | FileCheck %s

// A CNN-like model: convolution, pooling, flatten, linear layer, softmax
// over the classes. Each image's outputs depend on that image only.
// CHECK-LABEL: module attributes {shears.batch_separable}
// CHECK: func.func @main
func.func @main(%x: tensor<?x1x8x8xf32>) -> tensor<?x10xf32> {
  %w = shears.constant dense<0.5> : tensor<4x1x3x3xf32>
  %c = shears.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : (tensor<?x1x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<?x4x8x8xf32>
  %r = shears.relu %c : tensor<?x4x8x8xf32>
  %p = shears.max_pool %r {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x4x8x8xf32>) -> tensor<?x4x4x4xf32>
  %f = shears.flatten %p : (tensor<?x4x4x4xf32>) -> tensor<?x64xf32>
  %lw = shears.constant dense<0.1> : tensor<10x64xf32>
  %b = shears.constant dense<0.2> : tensor<10xf32>
  %b2 = shears.add %b, %b : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
  %l = shears.linear %f, %lw, %b2 : (tensor<?x64xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %s = shears.softmax %l {axis = 1 : i64} : tensor<?x10xf32>
  return %s : tensor<?x10xf32>
}

// -----

// A softmax over the batch mixes its rows.
// CHECK-LABEL: module {
func.func @main(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  %s = shears.softmax %x {axis = 0 : i64} : tensor<?x10xf32>
  return %s : tensor<?x10xf32>
}

// -----

// A reshape that puts two rows into one.
// CHECK-LABEL: module {
func.func @main(%x: tensor<?x4xf32>) -> tensor<?x8xf32> {
  %r = shears.reshape %x : (tensor<?x4xf32>) -> tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}

// -----

// A transpose that moves the batch away from dimension 0 (PyTorch's
// attention, sequence first): not followed, so not separable.
// CHECK-LABEL: module {
func.func @main(%x: tensor<?x8x4xf32>) -> tensor<8x?x4xf32> {
  %t = shears.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<?x8x4xf32>) -> tensor<8x?x4xf32>
  return %t : tensor<8x?x4xf32>
}

// -----

// A reduction over the batch: its result has no batch dimension.
// CHECK-LABEL: module {
func.func @main(%x: tensor<?x4xf32>) -> tensor<1x4xf32> {
  %m = shears.reduce_mean %x {axes = array<i64: 0>} : (tensor<?x4xf32>) -> tensor<1x4xf32>
  return %m : tensor<1x4xf32>
}
