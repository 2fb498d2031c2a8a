// RUN: shears-opt %s --canonicalize --split-input-file | FileCheck %s
// RUN: shears-opt %s --canonicalize --split-input-file --mlir-print-debuginfo --mlir-print-local-scope | FileCheck %s --check-prefix=LOC

// batch_norm after a convolution with constant weights folds into it:
// w' = w * g / sqrt(v + eps), b' = (b - m) * g / sqrt(v + eps) + beta.
// CHECK-LABEL: func @fold_bn_conv
// CHECK-NOT: shears.batch_norm
// CHECK-DAG: %[[W:.*]] = shears.constant dense_resource<bn_folded> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = shears.constant dense_resource<bn_folded_bias> : tensor<2xf32>
// CHECK: %[[C:.*]] = shears.conv2d %arg0, %[[W]], %[[B]]
// CHECK: return %[[C]]
func.func @fold_bn_conv(%x: tensor<?x1x4x4xf32>) -> tensor<?x2x4x4xf32> {
  %w = shears.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %b = shears.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %g = shears.constant dense<[2.0, 4.0]> : tensor<2xf32>
  %beta = shears.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %m = shears.constant dense<[1.0, 3.0]> : tensor<2xf32>
  %v = shears.constant dense<[4.0, 16.0]> : tensor<2xf32>
  %c = shears.conv2d %x, %w, %b : (tensor<?x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  %y = shears.batch_norm %c, %g, %beta, %m, %v {epsilon = 0.0 : f32} : (tensor<?x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  return %y : tensor<?x2x4x4xf32>
}
// Folded weights [1*2/2, 2*4/4] = [1, 2]; bias [(1-1)*1+0.5, (1-3)*1+0] = [0.5, -2].
// CHECK: bn_folded: "0x040000000000803F00000040"
// CHECK: bn_folded_bias: "0x040000000000003F000000C0"

// -----

// A convolution with another user keeps its batch_norm.
// CHECK-LABEL: func @keep_bn_shared_conv
// CHECK: shears.batch_norm
func.func @keep_bn_shared_conv(%x: tensor<1x1x4x4xf32>, %p: tensor<2xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = shears.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = shears.conv2d %x, %w : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y = shears.batch_norm %c, %p, %p, %p, %p : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y, %c : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Reshape and flatten of constants fold; the blob is shared, not copied.
// CHECK-LABEL: func @reshape_constant
// CHECK-NEXT: %[[C:.*]] = shears.constant dense_resource<blob> : tensor<6xf32>
// CHECK-NEXT: %[[D:.*]] = shears.constant dense<{{\[}}[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
// CHECK-NEXT: return %[[C]], %[[D]]
func.func @reshape_constant() -> (tensor<6xf32>, tensor<2x3xi64>) {
  %c = shears.constant dense_resource<blob> : tensor<2x3xf32>
  %r = shears.reshape %c : (tensor<2x3xf32>) -> tensor<6xf32>
  %d = shears.constant dense<[[[1, 2, 3]], [[4, 5, 6]]]> : tensor<2x1x3xi64>
  %f = shears.flatten %d : (tensor<2x1x3xi64>) -> tensor<2x3xi64>
  return %r, %f : tensor<6xf32>, tensor<2x3xi64>
}

// -----

// Chains of reshapes collapse; a reshape to the same type disappears.
// CHECK-LABEL: func @reshape_chain
// CHECK-NEXT: %[[R:.*]] = shears.reshape %arg0 : (tensor<?x4x2xf32>) -> tensor<?x8xf32>
// CHECK-NEXT: return %[[R]], %arg0
func.func @reshape_chain(%x: tensor<?x4x2xf32>) -> (tensor<?x8xf32>, tensor<?x4x2xf32>) {
  %a = shears.reshape %x : (tensor<?x4x2xf32>) -> tensor<?x2x2x2xf32>
  %b = shears.reshape %a : (tensor<?x2x2x2xf32>) -> tensor<?x8xf32>
  %c = shears.reshape %x : (tensor<?x4x2xf32>) -> tensor<?x4x2xf32>
  return %b, %c : tensor<?x8xf32>, tensor<?x4x2xf32>
}

// -----

// pow by a constant 1, 2 or 0.5 is x, x * x or sqrt(x); other exponents, and
// ones that broadcast x to a larger shape, stay.
// CHECK-LABEL: func.func @pow
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>
// CHECK: %[[SQ:.*]] = shears.mul %[[X]], %[[X]]
// CHECK: %[[RT:.*]] = shears.sqrt %[[SQ]]
// CHECK: %[[P3:.*]] = shears.pow %[[RT]], %{{.*}} : (tensor<?x4xf32>, tensor<f32>)
// CHECK: %[[PB:.*]] = shears.pow %{{.*}}, %{{.*}} : (tensor<4xf32>, tensor<2x4xf32>)
// CHECK: return %[[P3]], %[[PB]]
func.func @pow(%x: tensor<?x4xf32>, %y: tensor<4xf32>) -> (tensor<?x4xf32>, tensor<2x4xf32>) {
  %one = shears.constant dense<1.0> : tensor<f32>
  %two = shears.constant dense<2.0> : tensor<f32>
  %half = shears.constant dense<0.5> : tensor<4xf32>
  %three = shears.constant dense<3.0> : tensor<f32>
  %twos = shears.constant dense<2.0> : tensor<2x4xf32>
  %0 = shears.pow %x, %one : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %1 = shears.pow %0, %two : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %2 = shears.pow %1, %half : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %3 = shears.pow %2, %three : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %4 = shears.pow %y, %twos : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %3, %4 : tensor<?x4xf32>, tensor<2x4xf32>
}

// -----

// The LayerNorm that PyTorch writes out below opset 17 becomes one
// shears.layer_norm (pow(d, 2) or d * d for the square).
// CHECK-LABEL: func.func @raise_layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x5x16xf32>)
// CHECK-DAG: %[[S:.*]] = shears.constant dense<1.500000e+00> : tensor<16xf32>
// CHECK-DAG: %[[B:.*]] = shears.constant dense<2.500000e-01> : tensor<16xf32>
// CHECK: %[[N:.*]] = shears.layer_norm %[[X]], %[[S]], %[[B]] {axis = 2 : i64, epsilon = 9.99999997E-7 : f32}
// CHECK-NEXT: return %[[N]]
func.func @raise_layer_norm(%x: tensor<?x5x16xf32>) -> tensor<?x5x16xf32> {
  %two = shears.constant dense<2.0> : tensor<f32>
  %eps = shears.constant dense<1.0e-6> : tensor<f32>
  %s = shears.constant dense<1.5> : tensor<16xf32>
  %b = shears.constant dense<0.25> : tensor<16xf32>
  %m = shears.reduce_mean %x {axes = array<i64: 2>} : (tensor<?x5x16xf32>) -> tensor<?x5x1xf32>
  %d = shears.sub %x, %m : (tensor<?x5x16xf32>, tensor<?x5x1xf32>) -> tensor<?x5x16xf32>
  %p = shears.pow %d, %two : (tensor<?x5x16xf32>, tensor<f32>) -> tensor<?x5x16xf32>
  %v = shears.reduce_mean %p {axes = array<i64: 2>} : (tensor<?x5x16xf32>) -> tensor<?x5x1xf32>
  %e = shears.add %v, %eps : (tensor<?x5x1xf32>, tensor<f32>) -> tensor<?x5x1xf32>
  %r = shears.sqrt %e : tensor<?x5x1xf32>
  %n = shears.div %d, %r : (tensor<?x5x16xf32>, tensor<?x5x1xf32>) -> tensor<?x5x16xf32>
  %y = shears.mul %n, %s : (tensor<?x5x16xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  %z = shears.add %y, %b : (tensor<?x5x16xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  return %z : tensor<?x5x16xf32>
}

// -----

// Means over other dims than the normalized ones stay as they are.
// CHECK-LABEL: func.func @not_layer_norm
// CHECK-NOT: shears.layer_norm
func.func @not_layer_norm(%x: tensor<?x5x16xf32>) -> tensor<?x5x16xf32> {
  %eps = shears.constant dense<1.0e-6> : tensor<f32>
  %s = shears.constant dense<1.5> : tensor<16xf32>
  %b = shears.constant dense<0.25> : tensor<16xf32>
  %m = shears.reduce_mean %x {axes = array<i64: 1>} : (tensor<?x5x16xf32>) -> tensor<?x1x16xf32>
  %d = shears.sub %x, %m : (tensor<?x5x16xf32>, tensor<?x1x16xf32>) -> tensor<?x5x16xf32>
  %p = shears.mul %d, %d : (tensor<?x5x16xf32>, tensor<?x5x16xf32>) -> tensor<?x5x16xf32>
  %v = shears.reduce_mean %p {axes = array<i64: 1>} : (tensor<?x5x16xf32>) -> tensor<?x1x16xf32>
  %e = shears.add %v, %eps : (tensor<?x1x16xf32>, tensor<f32>) -> tensor<?x1x16xf32>
  %r = shears.sqrt %e : tensor<?x1x16xf32>
  %n = shears.div %d, %r : (tensor<?x5x16xf32>, tensor<?x1x16xf32>) -> tensor<?x5x16xf32>
  %y = shears.mul %n, %s : (tensor<?x5x16xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  %z = shears.add %y, %b : (tensor<?x5x16xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  return %z : tensor<?x5x16xf32>
}

// -----

// The MatMul + Add that exporters write for a linear layer on 3-D inputs
// becomes one linear layer with a bias, in either operand order and from a
// [1, 1, out] constant; the layer keeps its location (its name).
// CHECK-LABEL: func @fold_bias_into_linear
// CHECK-DAG: %[[B:.*]] = shears.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK-DAG: %[[B2:.*]] = shears.constant dense_resource<bias> : tensor<3xf32>
// CHECK: %[[L:.*]] = shears.linear %arg0, %{{.*}}, %[[B]] :
// CHECK: %[[L2:.*]] = shears.linear %arg0, %{{.*}}, %[[B2]] :
// LOC: shears.linear {{.*}} loc("proj")
// LOC: shears.linear {{.*}} loc("proj2")
// CHECK-NOT: shears.add
// CHECK: return %[[L]], %[[L2]]
func.func @fold_bias_into_linear(%x: tensor<?x5x4xf32>) -> (tensor<?x5x3xf32>, tensor<?x5x3xf32>) {
  %w = shears.constant dense<1.0> : tensor<3x4xf32>
  %b = shears.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %b3 = shears.constant dense<[[[1.0, 2.0, 3.0]]]> : tensor<1x1x3xf32>
  %l = shears.linear %x, %w : (tensor<?x5x4xf32>, tensor<3x4xf32>) -> tensor<?x5x3xf32> loc("proj")
  %y = shears.add %b, %l : (tensor<3xf32>, tensor<?x5x3xf32>) -> tensor<?x5x3xf32>
  %l2 = shears.linear %x, %w : (tensor<?x5x4xf32>, tensor<3x4xf32>) -> tensor<?x5x3xf32> loc("proj2")
  %y2 = shears.add %l2, %b3 : (tensor<?x5x3xf32>, tensor<1x1x3xf32>) -> tensor<?x5x3xf32>
  return %y, %y2 : tensor<?x5x3xf32>, tensor<?x5x3xf32>
}

// -----

// The add stays where the layer has another user, already has a bias, or the
// constant is not one number per feature.
// CHECK-LABEL: func @keep_bias_add
// CHECK-COUNT-3: shears.add
func.func @keep_bias_add(%x: tensor<?x5x4xf32>) -> (tensor<?x5x3xf32>, tensor<?x5x3xf32>, tensor<?x5x3xf32>, tensor<?x5x3xf32>) {
  %w = shears.constant dense<1.0> : tensor<3x4xf32>
  %b = shears.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %rows = shears.constant dense<1.0> : tensor<5x1xf32>
  %l = shears.linear %x, %w : (tensor<?x5x4xf32>, tensor<3x4xf32>) -> tensor<?x5x3xf32>
  %y = shears.add %l, %b : (tensor<?x5x3xf32>, tensor<3xf32>) -> tensor<?x5x3xf32>
  %l2 = shears.linear %x, %w, %b : (tensor<?x5x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<?x5x3xf32>
  %y2 = shears.add %l2, %b : (tensor<?x5x3xf32>, tensor<3xf32>) -> tensor<?x5x3xf32>
  %l3 = shears.linear %x, %w : (tensor<?x5x4xf32>, tensor<3x4xf32>) -> tensor<?x5x3xf32>
  %y3 = shears.add %l3, %rows : (tensor<?x5x3xf32>, tensor<5x1xf32>) -> tensor<?x5x3xf32>
  return %l, %y, %y2, %y3 : tensor<?x5x3xf32>, tensor<?x5x3xf32>, tensor<?x5x3xf32>, tensor<?x5x3xf32>
}
