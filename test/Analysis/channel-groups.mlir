// RUN: shears-opt %s --shears-print-channel-groups --split-input-file --verify-diagnostics -o /dev/null

// A residual add ties the channels of both producers (the stem and the
// block's second conv); batch_norm's parameters follow them, and flatten
// after global pooling hands them to the classifier one feature each. The
// classifier's own channels reach the function result.
func.func @residual(%x: tensor<1x4x8x8xf32>, %wa: tensor<8x4x1x1xf32>, %wb: tensor<8x8x3x3xf32>, %wl: tensor<10x8xf32>) -> tensor<1x10xf32> {
  // expected-remark @+2 {{group 0: 8 channels, prunable}}
  // expected-remark @+1 {{group 0 producer offset 0 block 1}}
  %a = shears.conv2d %x, %wa : (tensor<1x4x8x8xf32>, tensor<8x4x1x1xf32>) -> tensor<1x8x8x8xf32>
  %ra = shears.relu %a : tensor<1x8x8x8xf32>
  // expected-remark @+2 {{group 0 producer offset 0 block 1}}
  // expected-remark @+1 {{group 0 consumer offset 0 block 1}}
  %b = shears.conv2d %ra, %wb {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x8x8x8xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x8x8xf32>
  %s = shears.add %ra, %b : (tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %p = shears.constant dense<1.0> : tensor<8xf32>
  // expected-remark @+4 {{group 0 parameter operand 1 dim 0 offset 0 block 1}}
  // expected-remark @+3 {{group 0 parameter operand 2 dim 0 offset 0 block 1}}
  // expected-remark @+2 {{group 0 parameter operand 3 dim 0 offset 0 block 1}}
  // expected-remark @+1 {{group 0 parameter operand 4 dim 0 offset 0 block 1}}
  %n = shears.batch_norm %s, %p, %p, %p, %p : (tensor<1x8x8x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %g = shears.global_avg_pool %n : (tensor<1x8x8x8xf32>) -> tensor<1x8x1x1xf32>
  %f = shears.flatten %g : (tensor<1x8x1x1xf32>) -> tensor<1x8xf32>
  // expected-remark @+3 {{group 0 consumer offset 0 block 1}}
  // expected-remark @+2 {{group 1: 10 channels, not prunable: reaches a function result at 'func.return'}}
  // expected-remark @+1 {{group 1 producer offset 0 block 1}}
  %l = shears.linear %f, %wl : (tensor<1x8xf32>, tensor<10x8xf32>) -> tensor<1x10xf32>
  return %l : tensor<1x10xf32>
}

// -----

// Concat: the second producer's channels start at 2 in the consumer; a
// [C,1,1] scale after the concat is a parameter of both groups.
func.func @concat(%x: tensor<1x4x8x8xf32>, %wa: tensor<2x4x1x1xf32>, %wb: tensor<3x4x1x1xf32>, %wc: tensor<6x5x1x1xf32>) -> tensor<1x6x8x8xf32> {
  // expected-remark @+2 {{group 0: 2 channels, prunable}}
  // expected-remark @+1 {{group 0 producer offset 0 block 1}}
  %a = shears.conv2d %x, %wa : (tensor<1x4x8x8xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x8x8xf32>
  // expected-remark @+2 {{group 1: 3 channels, prunable}}
  // expected-remark @+1 {{group 1 producer offset 0 block 1}}
  %b = shears.conv2d %x, %wb : (tensor<1x4x8x8xf32>, tensor<3x4x1x1xf32>) -> tensor<1x3x8x8xf32>
  %c = shears.concat %a, %b {axis = 1 : i64} : (tensor<1x2x8x8xf32>, tensor<1x3x8x8xf32>) -> tensor<1x5x8x8xf32>
  %k = shears.constant dense<2.0> : tensor<5x1x1xf32>
  // expected-remark @+2 {{group 0 parameter operand 1 dim 0 offset 0 block 1}}
  // expected-remark @+1 {{group 1 parameter operand 1 dim 0 offset 2 block 1}}
  %m = shears.mul %c, %k : (tensor<1x5x8x8xf32>, tensor<5x1x1xf32>) -> tensor<1x5x8x8xf32>
  // expected-remark @+4 {{group 0 consumer offset 0 block 1}}
  // expected-remark @+3 {{group 1 consumer offset 2 block 1}}
  // expected-remark @+2 {{group 2: 6 channels, not prunable: reaches a function result}}
  // expected-remark @+1 {{group 2 producer offset 0 block 1}}
  %y = shears.conv2d %m, %wc : (tensor<1x5x8x8xf32>, tensor<6x5x1x1xf32>) -> tensor<1x6x8x8xf32>
  return %y : tensor<1x6x8x8xf32>
}

// -----

// Flatten: each channel is a block of 4 features of the linear layer's input.
func.func @flatten(%x: tensor<?x1x2x2xf32>, %wa: tensor<3x1x1x1xf32>, %wl: tensor<5x12xf32>) -> tensor<?x5xf32> {
  // expected-remark @+2 {{group 0: 3 channels, prunable}}
  // expected-remark @+1 {{group 0 producer offset 0 block 1}}
  %a = shears.conv2d %x, %wa : (tensor<?x1x2x2xf32>, tensor<3x1x1x1xf32>) -> tensor<?x3x2x2xf32>
  %f = shears.flatten %a : (tensor<?x3x2x2xf32>) -> tensor<?x12xf32>
  // expected-remark @+3 {{group 0 consumer offset 0 block 4}}
  // expected-remark @+2 {{group 1: 5 channels, not prunable}}
  // expected-remark @+1 {{group 1 producer offset 0 block 1}}
  %l = shears.linear %f, %wl : (tensor<?x12xf32>, tensor<5x12xf32>) -> tensor<?x5xf32>
  return %l : tensor<?x5xf32>
}

// -----

// A depthwise convolution passes channels through: its filter is a second
// producer of the same group. A grouped (not depthwise) convolution mixes
// channels within its groups: neither its input nor its output channels can
// go alone (its groups would become unequal).
func.func @depthwise_grouped(%x: tensor<1x4x8x8xf32>, %wa: tensor<4x4x1x1xf32>, %wd: tensor<4x1x3x3xf32>, %wc: tensor<4x4x1x1xf32>, %wg: tensor<4x2x1x1xf32>, %wo: tensor<2x4x1x1xf32>) -> tensor<1x2x8x8xf32> {
  // expected-remark @+2 {{group 0: 4 channels, prunable}}
  // expected-remark @+1 {{group 0 producer offset 0 block 1}}
  %a = shears.conv2d %x, %wa : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  // expected-remark @+1 {{group 0 producer offset 0 block 1}}
  %d = shears.conv2d %a, %wd {groups = 4 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x8x8xf32>
  // expected-remark @+3 {{group 0 consumer offset 0 block 1}}
  // expected-remark @+2 {{group 1: 4 channels, not prunable: feeds the grouped convolution 'shears.conv2d'}}
  // expected-remark @+1 {{group 1 producer offset 0 block 1}}
  %c = shears.conv2d %d, %wc : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  // expected-remark @+2 {{group 2: 4 channels, not prunable: is made by the grouped convolution 'shears.conv2d'}}
  // expected-remark @+1 {{group 2 producer offset 0 block 1}}
  %g = shears.conv2d %c, %wg {groups = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x8x8xf32>
  // expected-remark @+3 {{group 2 consumer offset 0 block 1}}
  // expected-remark @+2 {{group 3: 2 channels, not prunable: reaches a function result}}
  // expected-remark @+1 {{group 3 producer offset 0 block 1}}
  %o = shears.conv2d %g, %wo : (tensor<1x4x8x8xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}

// -----

// Softmax over the channels mixes them; a slice along them drops some (the
// channels it keeps and those it drops form separate groups). All stay, with
// the op named in the reason.
func.func @softmax_slice(%x: tensor<?x4xf32>, %w: tensor<6x4xf32>, %w2: tensor<3x6xf32>, %w3: tensor<5x4xf32>) -> (tensor<?x6xf32>, tensor<?x2xf32>) {
  // expected-remark @+2 {{group 0: 6 channels, not prunable: flows into 'shears.softmax'}}
  // expected-remark @+1 {{group 0 producer offset 0 block 1}}
  %a = shears.linear %x, %w : (tensor<?x4xf32>, tensor<6x4xf32>) -> tensor<?x6xf32>
  %s = shears.softmax %a {axis = 1 : i64} : tensor<?x6xf32>
  // expected-remark @+6 {{group 1: 1 channels, not prunable: 'shears.slice'}}
  // expected-remark @+5 {{group 1 producer offset 0 block 1}}
  // expected-remark @+4 {{group 2: 2 channels, not prunable: 'shears.slice'}}
  // expected-remark @+3 {{group 2 producer offset 1 block 1}}
  // expected-remark @+2 {{group 3: 2 channels, not prunable: 'shears.slice'}}
  // expected-remark @+1 {{group 3 producer offset 3 block 1}}
  %b = shears.linear %x, %w3 : (tensor<?x4xf32>, tensor<5x4xf32>) -> tensor<?x5xf32>
  %c = shears.slice %b {axes = array<i64: 1>, starts = array<i64: 1>, ends = array<i64: 3>, steps = array<i64: 1>} : (tensor<?x5xf32>) -> tensor<?x2xf32>
  return %s, %c : tensor<?x6xf32>, tensor<?x2xf32>
}
