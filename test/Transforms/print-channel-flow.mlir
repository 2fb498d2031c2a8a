// RUN: shears-opt %s --shears-print-channel-flow --split-input-file --verify-diagnostics

// Channels of the residual add tie both operands to the result; the conv cuts
// the flow of input channels and starts its own from the filter's dim 0.
func.func @residual(%x: tensor<?x8x4x4xf32>, %w: tensor<8x8x3x3xf32>, %b: tensor<8xf32>) -> tensor<?x128xf32> {
  // expected-remark @+2 {{prunable: weight out dim 0, in dim 1, result dim 1, input dim 1, groups 1}}
  // expected-remark @+1 {{flow: 0.0->0.0 identity 1.0->0.1 identity 2.0->0.1 identity}}
  %c = shears.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<?x8x4x4xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  // expected-remark @+1 {{flow: 0.0->0.0 identity 0.1->0.1 identity 0.2->0.2 identity 0.3->0.3 identity}}
  %r = shears.relu %c : tensor<?x8x4x4xf32>
  // expected-remark @+1 {{flow: 0.0->0.0 identity 0.1->0.1 identity 0.2->0.2 identity 0.3->0.3 identity 1.0->0.0 identity 1.1->0.1 identity 1.2->0.2 identity 1.3->0.3 identity}}
  %a = shears.add %r, %x : (tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32>
  // Flatten keeps the elements' order: channel c becomes the block of
  // features [16c, 16c + 16) (ChannelGroups works out where).
  // expected-remark @+1 {{flow: 0->0 reshape}}
  %f = shears.flatten %a : (tensor<?x8x4x4xf32>) -> tensor<?x128xf32>
  return %f : tensor<?x128xf32>
}

// -----

// Depthwise convolution ties its input channel to its output channel; concat
// offsets the second operand's channels; a per-channel [C,1,1] bias broadcast
// maps its dim 0 to the channel dim; softmax over channels does not flow.
func.func @depthwise_concat(%x: tensor<1x4x4x4xf32>, %dw: tensor<4x1x3x3xf32>, %p: tensor<8x1x1xf32>) -> tensor<1x8x2x2xf32> {
  // expected-remark @+2 {{prunable: weight out dim 0, in dim 1, result dim 1, input dim 1, groups 4}}
  // expected-remark @+1 {{flow: 0.0->0.0 identity 1.0->0.1 identity 0.1->0.1 identity}}
  %d = shears.conv2d %x, %dw {groups = 4 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x4x4xf32>
  // expected-remark @+1 {{flow: 0.0->0.0 identity 0.1->0.1 offset(0) 0.2->0.2 identity 0.3->0.3 identity 1.0->0.0 identity 1.1->0.1 offset(4) 1.2->0.2 identity 1.3->0.3 identity}}
  %c = shears.concat %d, %x {axis = 1 : i64} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x8x4x4xf32>
  // expected-remark @+1 {{flow: 0.0->0.0 identity 0.1->0.1 identity 0.2->0.2 identity 0.3->0.3 identity 1.0->0.1 identity}}
  %s = shears.mul %c, %p : (tensor<1x8x4x4xf32>, tensor<8x1x1xf32>) -> tensor<1x8x4x4xf32>
  // expected-remark @+1 {{flow: 0.0->0.0 identity 0.2->0.2 identity 0.3->0.3 identity}}
  %m = shears.softmax %s {axis = 1 : i64} : tensor<1x8x4x4xf32>
  // expected-remark @+1 {{flow: 0.0->0.0 identity 0.1->0.1 identity}}
  %p2 = shears.max_pool %m {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x8x4x4xf32>) -> tensor<1x8x2x2xf32>
  return %p2 : tensor<1x8x2x2xf32>
}

// -----

// A linear layer: rows of the weight are result features; an embedding
// table's columns are the result's last dim.
func.func @linear_gather(%x: tensor<?x16xf32>, %w: tensor<4x16xf32>, %t: tensor<100x16xf32>, %i: tensor<?x3xi64>) -> (tensor<?x4xf32>, tensor<?x3x16xf32>) {
  // expected-remark @+2 {{prunable: weight out dim 0, in dim 1, result dim 1, input dim 1, groups 1}}
  // expected-remark @+1 {{flow: 0.0->0.0 identity 1.0->0.1 identity}}
  %l = shears.linear %x, %w : (tensor<?x16xf32>, tensor<4x16xf32>) -> tensor<?x4xf32>
  // expected-remark @+2 {{prunable: weight out dim 1, in dim -1, result dim 2, input dim -1, groups 1}}
  // expected-remark @+1 {{flow: 0.1->0.2 identity 1.0->0.0 identity 1.1->0.1 identity}}
  %g = shears.gather %t, %i : (tensor<100x16xf32>, tensor<?x3xi64>) -> tensor<?x3x16xf32>
  return %l, %g : tensor<?x4xf32>, tensor<?x3x16xf32>
}
