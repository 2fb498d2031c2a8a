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

// Softmax over the channels mixes them: they stay, with the op named in the
// reason. A slice along channels keeps some, which reach the function
// result here, and drops others, which stay prunable (the slice's bounds
// follow their removal).
func.func @softmax_slice(%x: tensor<?x4xf32>, %w: tensor<6x4xf32>, %w2: tensor<3x6xf32>, %w3: tensor<5x4xf32>) -> (tensor<?x6xf32>, tensor<?x2xf32>) {
  // expected-remark @+2 {{group 0: 6 channels, not prunable: flows into 'shears.softmax'}}
  // expected-remark @+1 {{group 0 producer offset 0 block 1}}
  %a = shears.linear %x, %w : (tensor<?x4xf32>, tensor<6x4xf32>) -> tensor<?x6xf32>
  %s = shears.softmax %a {axis = 1 : i64} : tensor<?x6xf32>
  // expected-remark @+6 {{group 1: 1 channels, prunable}}
  // expected-remark @+5 {{group 1 producer offset 0 block 1}}
  // expected-remark @+4 {{group 2: 2 channels, not prunable: reaches a function result}}
  // expected-remark @+3 {{group 2 producer offset 1 block 1}}
  // expected-remark @+2 {{group 3: 2 channels, prunable}}
  // expected-remark @+1 {{group 3 producer offset 3 block 1}}
  %b = shears.linear %x, %w3 : (tensor<?x4xf32>, tensor<5x4xf32>) -> tensor<?x5xf32>
  %c = shears.slice %b {axes = array<i64: 1>, starts = array<i64: 1>, ends = array<i64: 3>, steps = array<i64: 1>} : (tensor<?x5xf32>) -> tensor<?x2xf32>
  return %s, %c : tensor<?x6xf32>, tensor<?x2xf32>
}

// -----

// Attention as torch.nn.MultiheadAttention exports it: one projection packs
// Q, K and V (sliced apart), each is reshaped so that its 4 heads of 4
// features join the batch dim, and the heads come back as the output
// projection's input features. A reshape that splits single features over
// two dims cannot carry them, so the projection's channels are taken in
// blocks of 4 (heads): each head is one channel, at three offsets of the
// projection and one block of the output projection's input. The causal mask
// broadcasts over the heads.
func.func @heads_in_batch(%x: tensor<5x?x16xf32>, %wqkv: tensor<48x16xf32>, %bqkv: tensor<48xf32>, %wo: tensor<16x16xf32>, %mask: tensor<5x5xf32>) -> tensor<5x?x16xf32> {
  // expected-remark @+4 {{group 0: 4 channels, prunable}}
  // expected-remark @+3 {{group 0 producer offset 0 block 4}}
  // expected-remark @+2 {{group 0 producer offset 16 block 4}}
  // expected-remark @+1 {{group 0 producer offset 32 block 4}}
  %qkv = shears.linear %x, %wqkv, %bqkv : (tensor<5x?x16xf32>, tensor<48x16xf32>, tensor<48xf32>) -> tensor<5x?x48xf32>
  %q = shears.slice %qkv {axes = array<i64: 2>, starts = array<i64: 0>, ends = array<i64: 16>, steps = array<i64: 1>} : (tensor<5x?x48xf32>) -> tensor<5x?x16xf32>
  %k = shears.slice %qkv {axes = array<i64: 2>, starts = array<i64: 16>, ends = array<i64: 32>, steps = array<i64: 1>} : (tensor<5x?x48xf32>) -> tensor<5x?x16xf32>
  %v = shears.slice %qkv {axes = array<i64: 2>, starts = array<i64: 32>, ends = array<i64: 48>, steps = array<i64: 1>} : (tensor<5x?x48xf32>) -> tensor<5x?x16xf32>
  %qh = shears.reshape %q : (tensor<5x?x16xf32>) -> tensor<5x?x4xf32>
  %qt = shears.transpose %qh {perm = array<i64: 1, 0, 2>} : (tensor<5x?x4xf32>) -> tensor<?x5x4xf32>
  %kh = shears.reshape %k : (tensor<5x?x16xf32>) -> tensor<5x?x4xf32>
  %kt = shears.transpose %kh {perm = array<i64: 1, 2, 0>} : (tensor<5x?x4xf32>) -> tensor<?x4x5xf32>
  %vh = shears.reshape %v : (tensor<5x?x16xf32>) -> tensor<5x?x4xf32>
  %vt = shears.transpose %vh {perm = array<i64: 1, 0, 2>} : (tensor<5x?x4xf32>) -> tensor<?x5x4xf32>
  %s = shears.matmul %qt, %kt : (tensor<?x5x4xf32>, tensor<?x4x5xf32>) -> tensor<?x5x5xf32>
  %sm = shears.add %s, %mask : (tensor<?x5x5xf32>, tensor<5x5xf32>) -> tensor<?x5x5xf32>
  %p = shears.softmax %sm {axis = 2 : i64} : tensor<?x5x5xf32>
  %o = shears.matmul %p, %vt : (tensor<?x5x5xf32>, tensor<?x5x4xf32>) -> tensor<?x5x4xf32>
  %ot = shears.transpose %o {perm = array<i64: 1, 0, 2>} : (tensor<?x5x4xf32>) -> tensor<5x?x4xf32>
  %of = shears.reshape %ot : (tensor<5x?x4xf32>) -> tensor<?x16xf32>
  // expected-remark @+3 {{group 0 consumer offset 0 block 4}}
  // expected-remark @+2 {{group 1: 16 channels, not prunable: reaches a function result}}
  // expected-remark @+1 {{group 1 producer offset 0 block 1}}
  %y = shears.linear %of, %wo : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %yr = shears.reshape %y : (tensor<?x16xf32>) -> tensor<5x?x16xf32>
  return %yr : tensor<5x?x16xf32>
}

// -----

// Attention written with 4-D heads ([N, L, H, d], as Hugging Face models
// do): separate Q, K and V projections, heads as their own dim. The heads
// of the three projections are one group.
func.func @heads_4d(%x: tensor<?x5x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>) -> tensor<?x5x16xf32> {
  // expected-remark @+2 {{group 0: 4 channels, prunable}}
  // expected-remark @+1 {{group 0 producer offset 0 block 4}}
  %q = shears.linear %x, %wq : (tensor<?x5x16xf32>, tensor<16x16xf32>) -> tensor<?x5x16xf32>
  // expected-remark @+1 {{group 0 producer offset 0 block 4}}
  %k = shears.linear %x, %wk : (tensor<?x5x16xf32>, tensor<16x16xf32>) -> tensor<?x5x16xf32>
  // expected-remark @+1 {{group 0 producer offset 0 block 4}}
  %v = shears.linear %x, %wv : (tensor<?x5x16xf32>, tensor<16x16xf32>) -> tensor<?x5x16xf32>
  %qh = shears.reshape %q : (tensor<?x5x16xf32>) -> tensor<?x5x4x4xf32>
  %qt = shears.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x5x4x4xf32>) -> tensor<?x4x5x4xf32>
  %kh = shears.reshape %k : (tensor<?x5x16xf32>) -> tensor<?x5x4x4xf32>
  %kt = shears.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x5x4x4xf32>) -> tensor<?x4x4x5xf32>
  %vh = shears.reshape %v : (tensor<?x5x16xf32>) -> tensor<?x5x4x4xf32>
  %vt = shears.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x5x4x4xf32>) -> tensor<?x4x5x4xf32>
  %s = shears.matmul %qt, %kt : (tensor<?x4x5x4xf32>, tensor<?x4x4x5xf32>) -> tensor<?x4x5x5xf32>
  %p = shears.softmax %s {axis = 3 : i64} : tensor<?x4x5x5xf32>
  %o = shears.matmul %p, %vt : (tensor<?x4x5x5xf32>, tensor<?x4x5x4xf32>) -> tensor<?x4x5x4xf32>
  %ot = shears.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x5x4xf32>) -> tensor<?x5x4x4xf32>
  %of = shears.reshape %ot : (tensor<?x5x4x4xf32>) -> tensor<?x5x16xf32>
  // expected-remark @+3 {{group 0 consumer offset 0 block 4}}
  // expected-remark @+2 {{group 1: 16 channels, not prunable: reaches a function result}}
  // expected-remark @+1 {{group 1 producer offset 0 block 1}}
  %y = shears.linear %of, %wo : (tensor<?x5x16xf32>, tensor<16x16xf32>) -> tensor<?x5x16xf32>
  return %y : tensor<?x5x16xf32>
}

// -----

// Blocks of 3 features reshaped to [2, 3] and transposed: the features of a
// block end up strided in the consumer's input (channel c at c, c + 2 and
// c + 4), which a weight's block cannot describe. Nothing goes.
func.func @strided_blocks(%x: tensor<?x4xf32>, %w: tensor<6x4xf32>, %w2: tensor<3x6xf32>) -> tensor<?x3xf32> {
  // expected-remark @+2 {{group 0: 2 channels, not prunable: reaches 'shears.linear'}}
  // expected-remark @+1 {{group 0 producer offset 0 block 3}}
  %a = shears.linear %x, %w : (tensor<?x4xf32>, tensor<6x4xf32>) -> tensor<?x6xf32>
  %r = shears.reshape %a : (tensor<?x6xf32>) -> tensor<?x2x3xf32>
  %t = shears.transpose %r {perm = array<i64: 0, 2, 1>} : (tensor<?x2x3xf32>) -> tensor<?x3x2xf32>
  %f = shears.reshape %t : (tensor<?x3x2xf32>) -> tensor<?x6xf32>
  // expected-remark @+3 {{group 0 consumer offset 0 block 1}}
  // expected-remark @+2 {{group 1: 3 channels, not prunable: reaches a function result}}
  // expected-remark @+1 {{group 1 producer offset 0 block 1}}
  %y = shears.linear %f, %w2 : (tensor<?x6xf32>, tensor<3x6xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}
