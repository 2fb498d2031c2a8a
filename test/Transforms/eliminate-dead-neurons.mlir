// RUN: shears-opt %s --shears-eliminate-dead-neurons --split-input-file | FileCheck %s

// Rows 1 and 3 of fc1 are zero. Row 3's bias is negative: relu makes it 0 and
// it simply goes. Row 1's bias is 2: relu passes 2, which fc2 (it has no
// bias) turns into a bias 2 * fc2[:, 1] = [4, 12].
// CHECK-LABEL: func.func @mlp
// CHECK: %[[W1:.*]] = shears.constant dense_resource<[[W1R:.*]]> : tensor<2x4xf32>
// CHECK: %[[B1:.*]] = shears.constant dense_resource<[[B1R:.*]]> : tensor<2xf32>
// CHECK: %[[H:.*]] = shears.linear %{{.*}}, %[[W1]], %[[B1]] : (tensor<?x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<?x2xf32>
// CHECK: %[[R:.*]] = shears.relu %[[H]] : tensor<?x2xf32>
// CHECK: %[[W2:.*]] = shears.constant dense_resource<[[W2R:.*]]> : tensor<2x2xf32>
// CHECK: %[[B2:.*]] = shears.constant dense_resource<[[B2R:.*]]> : tensor<2xf32>
// CHECK: shears.linear %[[R]], %[[W2]], %[[B2]] : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
// [[1, 2, 3, 4], [5, 6, 7, 8]], [0.5, -1], [[1, 3], [5, 7]], [4, 12]
// CHECK: [[W1R]]: "0x040000000000803F0000004000004040000080400000A0400000C0400000E04000000041"
// CHECK: [[B1R]]: "0x040000000000003F000080BF"
// CHECK: [[W2R]]: "0x040000000000803F000040400000A0400000E040"
// CHECK: [[B2R]]: "0x040000000000804000004041"
func.func @mlp(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w1 = shears.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [5.0, 6.0, 7.0, 8.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %b1 = shears.constant dense<[0.5, 2.0, -1.0, -3.0]> : tensor<4xf32>
  %h = shears.linear %x, %w1, %b1 : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %r = shears.relu %h : tensor<?x4xf32>
  %w2 = shears.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>
  %y = shears.linear %r, %w2 : (tensor<?x4xf32>, tensor<2x4xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// conv -> batch_norm -> relu -> 1x1 conv. Filter 1 is zero with bias 1; its
// constant activation relu(2 * (1 - 0) / sqrt(4) + 0.5) = 1.5 enters the next
// conv's bias as 1.5 * [1, 2]. batch_norm's parameters lose entry 1.
// CHECK-LABEL: func.func @conv_bn_relu_conv
// CHECK: shears.conv2d %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
// CHECK: %[[S:.*]] = shears.constant dense_resource<[[SR:.*]]> : tensor<2xf32>
// CHECK: shears.batch_norm %{{.*}}, %[[S]], %{{.*}}, %{{.*}}, %{{.*}} {{.*}} -> tensor<?x2x4x4xf32>
// CHECK: %[[B:.*]] = shears.constant dense_resource<[[BR:.*]]> : tensor<2xf32>
// CHECK: shears.conv2d %{{.*}}, %{{.*}}, %[[B]] : (tensor<?x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
// [1, 3], [1.5, 3]
// CHECK: [[SR]]: "0x040000000000803F00004040"
// CHECK: [[BR]]: "0x040000000000C03F00004040"
func.func @conv_bn_relu_conv(%x: tensor<?x1x4x4xf32>) -> tensor<?x2x4x4xf32> {
  %w1 = shears.constant dense<[[[[1.0]]], [[[0.0]]], [[[2.0]]]]> : tensor<3x1x1x1xf32>
  %b1 = shears.constant dense<[0.0, 1.0, 0.0]> : tensor<3xf32>
  %c = shears.conv2d %x, %w1, %b1 : (tensor<?x1x4x4xf32>, tensor<3x1x1x1xf32>, tensor<3xf32>) -> tensor<?x3x4x4xf32>
  %s = shears.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %bb = shears.constant dense<[0.0, 0.5, 0.0]> : tensor<3xf32>
  %m = shears.constant dense<[0.0, 0.0, 0.0]> : tensor<3xf32>
  %v = shears.constant dense<[1.0, 4.0, 1.0]> : tensor<3xf32>
  %n = shears.batch_norm %c, %s, %bb, %m, %v {epsilon = 0.0 : f32} : (tensor<?x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3x4x4xf32>
  %r = shears.relu %n : tensor<?x3x4x4xf32>
  %w2 = shears.constant dense<[[[[1.0]], [[1.0]], [[1.0]]], [[[2.0]], [[2.0]], [[2.0]]]]> : tensor<2x3x1x1xf32>
  %y = shears.conv2d %r, %w2 : (tensor<?x3x4x4xf32>, tensor<2x3x1x1xf32>) -> tensor<?x2x4x4xf32>
  return %y : tensor<?x2x4x4xf32>
}

// -----

// Before a zero-padded 3x3 conv a constant channel is not a constant bias (the
// border sees the padding): filter 0 (bias 1) stays, filter 1 (bias -1, 0
// after relu) goes. Filter 2 is alive.
// CHECK-LABEL: func.func @padded
// CHECK: shears.conv2d {{.*}} -> tensor<1x2x4x4xf32>
// CHECK: shears.conv2d {{.*}} : (tensor<1x2x4x4xf32>, tensor<1x2x3x3xf32>) -> tensor<1x1x4x4xf32>
func.func @padded(%x: tensor<1x1x4x4xf32>, %w2: tensor<1x3x3x3xf32>) -> tensor<1x1x4x4xf32> {
  %w1 = shears.constant dense<[[[[0.0]]], [[[0.0]]], [[[2.0]]]]> : tensor<3x1x1x1xf32>
  %b1 = shears.constant dense<[1.0, -1.0, 0.0]> : tensor<3xf32>
  %c = shears.conv2d %x, %w1, %b1 : (tensor<1x1x4x4xf32>, tensor<3x1x1x1xf32>, tensor<3xf32>) -> tensor<1x3x4x4xf32>
  %r = shears.relu %c : tensor<1x3x4x4xf32>
  %w = shears.constant dense<1.0> : tensor<1x3x3x3xf32>
  %y = shears.conv2d %r, %w {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x4x4xf32>, tensor<1x3x3x3xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// Residual add of two producers: channel 1 is dead only in %a (the add still
// carries %b's channel 1) and stays; channel 2 is dead in both and goes from
// both producers and the consumer.
// CHECK-LABEL: func.func @residual
// CHECK: %[[A:.*]] = shears.linear %{{.*}}, %{{.*}} : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
// CHECK: %[[B:.*]] = shears.linear %{{.*}}, %{{.*}} : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
// CHECK: %[[S:.*]] = shears.add %[[A]], %[[B]] : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
// CHECK: shears.linear %[[S]], %{{.*}} : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
func.func @residual(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %wa = shears.constant dense<[[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [2.0, 2.0, 2.0, 2.0]]> : tensor<4x4xf32>
  %wb = shears.constant dense<[[1.0, 1.0, 1.0, 1.0], [3.0, 3.0, 3.0, 3.0], [0.0, 0.0, 0.0, 0.0], [2.0, 2.0, 2.0, 2.0]]> : tensor<4x4xf32>
  %a = shears.linear %x, %wa : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %b = shears.linear %x, %wb : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %s = shears.add %a, %b : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %wc = shears.constant dense<1.0> : tensor<2x4xf32>
  %y = shears.linear %s, %wc : (tensor<?x4xf32>, tensor<2x4xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Concat of 2 and 3 channels into a 1x1 conv: channel 0 of %a and channel 1
// of %b (concat channel 3) go; the consumer keeps columns [1, 2, 4], and the
// [5,1,1] scale between them loses entries 0 and 3.
// CHECK-LABEL: func.func @concat
// CHECK: shears.conv2d {{.*}} -> tensor<1x1x2x2xf32>
// CHECK: shears.conv2d {{.*}} -> tensor<1x2x2x2xf32>
// CHECK: shears.concat {{.*}} : (tensor<1x1x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x3x2x2xf32>
// CHECK: %[[K:.*]] = shears.constant dense_resource<[[KR:.*]]> : tensor<3x1x1xf32>
// CHECK: shears.mul %{{.*}}, %[[K]]
// CHECK: %[[WC:.*]] = shears.constant dense_resource<[[WCR:.*]]> : tensor<1x3x1x1xf32>
// CHECK: shears.conv2d %{{.*}}, %[[WC]] : (tensor<1x3x2x2xf32>, tensor<1x3x1x1xf32>) -> tensor<1x1x2x2xf32>
// [2, 3, 5], [20, 30, 50]
// CHECK: [[KR]]: "0x0400000000000040000040400000A040"
// CHECK: [[WCR]]: "0x040000000000A0410000F04100004842"
func.func @concat(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %wa = shears.constant dense<[[[[0.0]]], [[[1.0]]]]> : tensor<2x1x1x1xf32>
  %wb = shears.constant dense<[[[[1.0]]], [[[0.0]]], [[[1.0]]]]> : tensor<3x1x1x1xf32>
  %a = shears.conv2d %x, %wa : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %b = shears.conv2d %x, %wb : (tensor<1x1x2x2xf32>, tensor<3x1x1x1xf32>) -> tensor<1x3x2x2xf32>
  %c = shears.concat %a, %b {axis = 1 : i64} : (tensor<1x2x2x2xf32>, tensor<1x3x2x2xf32>) -> tensor<1x5x2x2xf32>
  %k = shears.constant dense<[[[1.0]], [[2.0]], [[3.0]], [[4.0]], [[5.0]]]> : tensor<5x1x1xf32>
  %m = shears.mul %c, %k : (tensor<1x5x2x2xf32>, tensor<5x1x1xf32>) -> tensor<1x5x2x2xf32>
  %wc = shears.constant dense<[[[[10.0]], [[20.0]], [[30.0]], [[40.0]], [[50.0]]]]> : tensor<1x5x1x1xf32>
  %y = shears.conv2d %m, %wc : (tensor<1x5x2x2xf32>, tensor<1x5x1x1xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Flatten: channel 1 is the features [4, 8) of the linear layer; its constant
// 3 (bias, through relu) becomes 3 * (sum of those weights) = 3 * 4 = 12 in
// the linear bias.
// CHECK-LABEL: func.func @flatten
// CHECK: shears.conv2d {{.*}} -> tensor<?x2x2x2xf32>
// CHECK: shears.flatten {{.*}} : (tensor<?x2x2x2xf32>) -> tensor<?x8xf32>
// CHECK: %[[B:.*]] = shears.constant dense_resource<[[BR:.*]]> : tensor<1xf32>
// CHECK: shears.linear %{{.*}}, %{{.*}}, %[[B]] : (tensor<?x8xf32>, tensor<1x8xf32>, tensor<1xf32>) -> tensor<?x1xf32>
// 0.5 + 12
// CHECK: [[BR]]: "0x0400000000004841"
func.func @flatten(%x: tensor<?x1x2x2xf32>) -> tensor<?x1xf32> {
  %w1 = shears.constant dense<[[[[1.0]]], [[[0.0]]], [[[1.0]]]]> : tensor<3x1x1x1xf32>
  %b1 = shears.constant dense<[0.0, 3.0, 0.0]> : tensor<3xf32>
  %c = shears.conv2d %x, %w1, %b1 : (tensor<?x1x2x2xf32>, tensor<3x1x1x1xf32>, tensor<3xf32>) -> tensor<?x3x2x2xf32>
  %r = shears.relu %c : tensor<?x3x2x2xf32>
  %f = shears.flatten %r : (tensor<?x3x2x2xf32>) -> tensor<?x12xf32>
  %w2 = shears.constant dense<1.0> : tensor<1x12xf32>
  %b2 = shears.constant dense<0.5> : tensor<1xf32>
  %y = shears.linear %f, %w2, %b2 : (tensor<?x12xf32>, tensor<1x12xf32>, tensor<1xf32>) -> tensor<?x1xf32>
  return %y : tensor<?x1xf32>
}

// -----

// Depthwise chain: the channel goes from the expanding conv, the depthwise
// filter (and its group count) and the projecting conv only where both
// producers are zero (channel 3); channel 0 is zero only in the expansion.
// CHECK-LABEL: func.func @depthwise
// CHECK: shears.conv2d {{.*}} -> tensor<1x3x4x4xf32>
// CHECK: shears.conv2d {{.*}}groups = 3 : i64{{.*}} : (tensor<1x3x4x4xf32>, tensor<3x1x3x3xf32>) -> tensor<1x3x4x4xf32>
// CHECK: shears.conv2d {{.*}} : (tensor<1x3x4x4xf32>, tensor<2x3x1x1xf32>) -> tensor<1x2x4x4xf32>
func.func @depthwise(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %we = shears.constant dense<[[[[0.0]], [[0.0]]], [[[1.0]], [[1.0]]], [[[1.0]], [[2.0]]], [[[0.0]], [[0.0]]]]> : tensor<4x2x1x1xf32>
  %e = shears.conv2d %x, %we : (tensor<1x2x4x4xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x4x4xf32>
  %r = shears.relu %e : tensor<1x4x4x4xf32>
  %wd = shears.constant dense<[[[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]], [[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]], [[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]> : tensor<4x1x3x3xf32>
  %d = shears.conv2d %r, %wd {groups = 4 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x4x4xf32>
  %r2 = shears.clip %d {min = 0.0 : f32, max = 6.0 : f32} : tensor<1x4x4x4xf32>
  %wp = shears.constant dense<1.0> : tensor<2x4x1x1xf32>
  %y = shears.conv2d %r2, %wp : (tensor<1x4x4x4xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Channels that flow into a softmax over them stay; one that flows through
// an elementwise op (sigmoid) goes, its constant sigmoid(0) = 0.5 folded into
// the consumer's bias.
// CHECK-LABEL: func.func @stays
// CHECK: shears.linear {{.*}} -> tensor<?x3xf32>
// CHECK: shears.softmax
// CHECK: shears.linear {{.*}} -> tensor<?x2xf32>
// CHECK: shears.sigmoid {{.*}} : tensor<?x2xf32>
// CHECK: shears.linear {{.*}} -> tensor<?x2xf32>
func.func @stays(%x: tensor<?x4xf32>) -> (tensor<?x3xf32>, tensor<?x2xf32>) {
  %w = shears.constant dense<[[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<3x4xf32>
  %a = shears.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  %s = shears.softmax %a {axis = 1 : i64} : tensor<?x3xf32>
  %b = shears.linear %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
  %g = shears.sigmoid %b : tensor<?x3xf32>
  %w2 = shears.constant dense<1.0> : tensor<2x3xf32>
  %y = shears.linear %g, %w2 : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
  return %s, %y : tensor<?x3xf32>, tensor<?x2xf32>
}

// -----

// Rounds: removing fc1's channel 0 (constant 1, folded into fc2's bias as
// [5, 1]) leaves fc2's row 0 all zero, so a second round removes it too and
// folds relu(5) = 5 into fc3's bias.
// CHECK-LABEL: func.func @rounds
// CHECK: shears.linear {{.*}} -> tensor<?x1xf32>
// CHECK: %[[B2:.*]] = shears.constant dense_resource<[[B2R:.*]]> : tensor<1xf32>
// CHECK: shears.linear %{{.*}}, %{{.*}}, %[[B2]] : (tensor<?x1xf32>, tensor<1x1xf32>, tensor<1xf32>) -> tensor<?x1xf32>
// CHECK: %[[B3:.*]] = shears.constant dense_resource<[[B3R:.*]]> : tensor<1xf32>
// CHECK: shears.linear %{{.*}}, %{{.*}}, %[[B3]] : (tensor<?x1xf32>, tensor<1x1xf32>, tensor<1xf32>) -> tensor<?x1xf32>
// 1, 5
// CHECK: [[B2R]]: "0x040000000000803F"
// CHECK: [[B3R]]: "0x040000000000A040"
func.func @rounds(%x: tensor<?x2xf32>) -> tensor<?x1xf32> {
  %w1 = shears.constant dense<[[0.0, 0.0], [1.0, 1.0]]> : tensor<2x2xf32>
  %b1 = shears.constant dense<[1.0, 0.0]> : tensor<2xf32>
  %h1 = shears.linear %x, %w1, %b1 : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  %r1 = shears.relu %h1 : tensor<?x2xf32>
  %w2 = shears.constant dense<[[5.0, 0.0], [1.0, 1.0]]> : tensor<2x2xf32>
  %h2 = shears.linear %r1, %w2 : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %r2 = shears.relu %h2 : tensor<?x2xf32>
  %w3 = shears.constant dense<[[1.0, 1.0]]> : tensor<1x2xf32>
  %y = shears.linear %r2, %w3 : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32>
  return %y : tensor<?x1xf32>
}

// -----

// A dead channel (zero filter, bias 1) summed over a 4x4 plane holds 16: the
// reduction says so (foldConstantChannel), the channel goes, and the linear
// layer's bias takes 16 * its column ([16, 32]).
// CHECK-LABEL: func.func @through_reduce_sum
// CHECK: shears.conv2d {{.*}} -> tensor<1x1x4x4xf32>
// CHECK: shears.reduce_sum {{.*}} : (tensor<1x1x4x4xf32>) -> tensor<1x1xf32>
// CHECK: %[[B:.*]] = shears.constant dense_resource<[[BR:.*]]> : tensor<2xf32>
// CHECK: shears.linear %{{.*}}, %{{.*}}, %[[B]] : (tensor<1x1xf32>, tensor<2x1xf32>, tensor<2xf32>)
// CHECK: [[BR]]: "0x040000000000804100000042"
func.func @through_reduce_sum(%x: tensor<1x1x4x4xf32>) -> tensor<1x2xf32> {
  %w = shears.constant dense<[[[[1.0]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %b = shears.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %c = shears.conv2d %x, %w, %b : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %s = shears.reduce_sum %c {axes = array<i64: 2, 3>, keepdims = false} : (tensor<1x2x4x4xf32>) -> tensor<1x2xf32>
  %wl = shears.constant dense<[[1.0, 1.0], [1.0, 2.0]]> : tensor<2x2xf32>
  %y = shears.linear %s, %wl : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// An attention head whose Q, K and V rows (and biases) are zero attends
// uniformly to values that are zero: the output projection reads zeros.
// The head goes: the packed projection loses its rows at three offsets, the
// slices move their bounds, the reshapes that merge heads into the batch
// keep their dynamic dim, and the output projection loses the head's
// columns.
// CHECK-LABEL: func @dead_head
// CHECK: %[[QKV:.*]] = shears.linear %arg0, %{{.*}}, %{{.*}} : (tensor<3x?x4xf32>, tensor<6x4xf32>, tensor<6xf32>) -> tensor<3x?x6xf32>
// CHECK: shears.slice %[[QKV]] {axes = array<i64: 2>, ends = array<i64: 2>, starts = array<i64: 0>, steps = array<i64: 1>} : (tensor<3x?x6xf32>) -> tensor<3x?x2xf32>
// CHECK: shears.slice %[[QKV]] {axes = array<i64: 2>, ends = array<i64: 4>, starts = array<i64: 2>, steps = array<i64: 1>}
// CHECK: shears.slice %[[QKV]] {axes = array<i64: 2>, ends = array<i64: 6>, starts = array<i64: 4>, steps = array<i64: 1>}
// CHECK: shears.reshape %{{.*}} : (tensor<3x?x2xf32>) -> tensor<3x?x2xf32>
// CHECK: shears.matmul {{.*}} -> tensor<?x3x3xf32>
// CHECK: %[[O:.*]] = shears.reshape %{{.*}} : (tensor<3x?x2xf32>) -> tensor<?x2xf32>
// CHECK: shears.linear %[[O]], %{{.*}} : (tensor<?x2xf32>, tensor<4x2xf32>) -> tensor<?x4xf32>
func.func @dead_head(%x: tensor<3x?x4xf32>) -> tensor<?x4xf32> {
  %wqkv = shears.constant dense<[[-0.50, -0.25, 0.00, 0.25], [0.50, 0.75, 1.00, -0.50], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.00, 0.25, 0.50, 0.75], [1.00, -0.50, -0.25, 0.00], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.50, 0.75, 1.00, -0.50], [-0.25, 0.00, 0.25, 0.50], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<12x4xf32>
  %bqkv = shears.constant dense<[0.0, 0.1, 0.0, 0.0, 0.1, 0.2, 0.0, 0.0, 0.2, 0.0, 0.0, 0.0]> : tensor<12xf32>
  %wo = shears.constant dense<[[-1.0, -0.5, 0.0, 0.5], [-0.5, 0.0, 0.5, 1.0], [0.0, 0.5, 1.0, -1.0], [0.5, 1.0, -1.0, -0.5]]> : tensor<4x4xf32>
  %qkv = shears.linear %x, %wqkv, %bqkv : (tensor<3x?x4xf32>, tensor<12x4xf32>, tensor<12xf32>) -> tensor<3x?x12xf32>
  %q = shears.slice %qkv {axes = array<i64: 2>, starts = array<i64: 0>, ends = array<i64: 4>, steps = array<i64: 1>} : (tensor<3x?x12xf32>) -> tensor<3x?x4xf32>
  %k = shears.slice %qkv {axes = array<i64: 2>, starts = array<i64: 4>, ends = array<i64: 8>, steps = array<i64: 1>} : (tensor<3x?x12xf32>) -> tensor<3x?x4xf32>
  %v = shears.slice %qkv {axes = array<i64: 2>, starts = array<i64: 8>, ends = array<i64: 12>, steps = array<i64: 1>} : (tensor<3x?x12xf32>) -> tensor<3x?x4xf32>
  %qh = shears.reshape %q : (tensor<3x?x4xf32>) -> tensor<3x?x2xf32>
  %qt = shears.transpose %qh {perm = array<i64: 1, 0, 2>} : (tensor<3x?x2xf32>) -> tensor<?x3x2xf32>
  %kh = shears.reshape %k : (tensor<3x?x4xf32>) -> tensor<3x?x2xf32>
  %kt = shears.transpose %kh {perm = array<i64: 1, 2, 0>} : (tensor<3x?x2xf32>) -> tensor<?x2x3xf32>
  %vh = shears.reshape %v : (tensor<3x?x4xf32>) -> tensor<3x?x2xf32>
  %vt = shears.transpose %vh {perm = array<i64: 1, 0, 2>} : (tensor<3x?x2xf32>) -> tensor<?x3x2xf32>
  %s = shears.matmul %qt, %kt : (tensor<?x3x2xf32>, tensor<?x2x3xf32>) -> tensor<?x3x3xf32>
  %p = shears.softmax %s {axis = 2 : i64} : tensor<?x3x3xf32>
  %o = shears.matmul %p, %vt : (tensor<?x3x3xf32>, tensor<?x3x2xf32>) -> tensor<?x3x2xf32>
  %ot = shears.transpose %o {perm = array<i64: 1, 0, 2>} : (tensor<?x3x2xf32>) -> tensor<3x?x2xf32>
  %of = shears.reshape %ot : (tensor<3x?x2xf32>) -> tensor<?x4xf32>
  %y = shears.linear %of, %wo : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
