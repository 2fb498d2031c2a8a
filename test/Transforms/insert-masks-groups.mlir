// RUN: shears-opt %s --shears-insert-masks="sparsity=0.4 granularity=channel" | FileCheck %s
// A group takes the sparsity its producers are given: overriding one of
// them prunes the whole group; overriding only a consumer (c reads the
// group) prunes nothing of it.
// RUN: shears-opt %s --shears-insert-masks="sparsity=0 granularity=channel layer-sparsity=^a$=0.4" | FileCheck %s
// RUN: shears-opt %s --shears-insert-masks="sparsity=0 granularity=channel layer-sparsity=^c$=0.4" | FileCheck %s --check-prefix=CONSUMER
// CONSUMER-NOT: shears.mask

// Two convolutions meet at a residual add, so their output channels are one
// group scored by the sum of both filters' L1 norms: (1+10, 10+1, 5+5).
// Channel 2 goes from both; alone, each layer would have dropped a
// different channel. The last convolution reaches the result: no mask.
// CHECK-DAG: shears.constant dense_resource<a.mask> : tensor<3x1x1x1xi1>
// CHECK-DAG: shears.constant dense_resource<b.mask> : tensor<3x1x1x1xi1>
// CHECK-NOT: c.mask
// CHECK: a.mask: "0x01000000010100"
// CHECK: b.mask: "0x01000000010100"
func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %wa = shears.constant dense<[[[[1.0]], [[0.0]]], [[[10.0]], [[0.0]]], [[[5.0]], [[0.0]]]]> : tensor<3x2x1x1xf32>
  %wb = shears.constant dense<[[[[10.0]], [[0.0]]], [[[1.0]], [[0.0]]], [[[5.0]], [[0.0]]]]> : tensor<3x2x1x1xf32>
  %a = shears.conv2d %x, %wa : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32> loc("a")
  %b = shears.conv2d %x, %wb : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32> loc("b")
  %s = shears.add %a, %b : (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %r = shears.relu %s : tensor<1x3x4x4xf32>
  %wc = shears.constant dense<1.0> : tensor<3x3x1x1xf32>
  %c = shears.conv2d %r, %wc : (tensor<1x3x4x4xf32>, tensor<3x3x1x1xf32>) -> tensor<1x3x4x4xf32> loc("c")
  return %c : tensor<1x3x4x4xf32>
}
