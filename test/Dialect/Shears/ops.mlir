// RUN: shears-opt %s | FileCheck %s
// RUN: shears-opt %s | shears-opt | FileCheck %s
// RUN: shears-opt --mlir-print-op-generic %s | shears-opt | FileCheck %s

// CHECK-LABEL: func @mlp
func.func @mlp(%x: tensor<?x784xf32>) -> tensor<?x10xf32> {
  // CHECK: shears.constant dense_resource<w1> : tensor<4x784xf32>
  %w1 = shears.constant dense_resource<w1> : tensor<4x784xf32>
  %b1 = shears.constant dense<0.5> : tensor<4xf32>
  // CHECK: shears.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x784xf32>, tensor<4x784xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %h = shears.linear %x, %w1, %b1 : (tensor<?x784xf32>, tensor<4x784xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  // CHECK: shears.relu %{{.*}} : tensor<?x4xf32>
  %r = shears.relu %h : tensor<?x4xf32>
  %w2 = shears.constant dense<1.0> : tensor<10x4xf32>
  // CHECK: shears.linear %{{.*}}, %{{.*}} : (tensor<?x4xf32>, tensor<10x4xf32>) -> tensor<?x10xf32>
  %y = shears.linear %r, %w2 : (tensor<?x4xf32>, tensor<10x4xf32>) -> tensor<?x10xf32>
  // CHECK: shears.softmax %{{.*}} {axis = 1 : i64} : tensor<?x10xf32>
  %s = shears.softmax %y {axis = 1 : i64} : tensor<?x10xf32>
  return %s : tensor<?x10xf32>
}

// CHECK-LABEL: func @cnn
func.func @cnn(%x: tensor<?x3x32x32xf32>, %w: tensor<8x3x3x3xf32>, %dw: tensor<8x1x3x3xf32>,
               %p: tensor<8xf32>) -> tensor<?x16xf32> {
  // CHECK: shears.conv2d %{{.*}}, %{{.*}}, %{{.*}} {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
  %c = shears.conv2d %x, %w, %p {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x3x32x32xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<?x8x16x16xf32>
  // CHECK: shears.conv2d %{{.*}}, %{{.*}} {groups = 8 : i64, pads = array<i64: 1, 1, 1, 1>}
  %d = shears.conv2d %c, %dw {groups = 8 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x8x16x16xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x16x16xf32>
  // CHECK: shears.batch_norm {{.*}} {epsilon = 1.000000e-03 : f32}
  %bn = shears.batch_norm %d, %p, %p, %p, %p {epsilon = 1.0e-3 : f32} : (tensor<?x8x16x16xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x16x16xf32>
  // CHECK: shears.clip %{{.*}} {max = 6.000000e+00 : f32, min = 0.000000e+00 : f32} : tensor<?x8x16x16xf32>
  %r6 = shears.clip %bn {min = 0.0 : f32, max = 6.0 : f32} : tensor<?x8x16x16xf32>
  // CHECK: shears.add
  %a = shears.add %r6, %c : (tensor<?x8x16x16xf32>, tensor<?x8x16x16xf32>) -> tensor<?x8x16x16xf32>
  // CHECK: shears.max_pool %{{.*}} {ceil_mode = true, kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<?x8x16x16xf32>) -> tensor<?x8x8x8xf32>
  %m = shears.max_pool %a {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, ceil_mode = true} : (tensor<?x8x16x16xf32>) -> tensor<?x8x8x8xf32>
  // CHECK: shears.avg_pool %{{.*}} {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>}
  %ap = shears.avg_pool %m {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x8x8x8xf32>) -> tensor<?x8x4x4xf32>
  // CHECK: shears.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>) -> tensor<?x16x4x4xf32>
  %cat = shears.concat %ap, %ap {axis = 1 : i64} : (tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>) -> tensor<?x16x4x4xf32>
  // CHECK: shears.global_avg_pool %{{.*}} : (tensor<?x16x4x4xf32>) -> tensor<?x16x1x1xf32>
  %g = shears.global_avg_pool %cat : (tensor<?x16x4x4xf32>) -> tensor<?x16x1x1xf32>
  // CHECK: shears.flatten %{{.*}} : (tensor<?x16x1x1xf32>) -> tensor<?x16xf32>
  %f = shears.flatten %g : (tensor<?x16x1x1xf32>) -> tensor<?x16xf32>
  %s = shears.sigmoid %f : tensor<?x16xf32>
  %t = shears.tanh %s : tensor<?x16xf32>
  %m2 = shears.mul %t, %s : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  %d2 = shears.div %m2, %s : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  // CHECK: shears.sub %{{.*}}, %{{.*}} : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %one = shears.constant dense<1.0> : tensor<16xf32>
  %o = shears.sub %d2, %one : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return %o : tensor<?x16xf32>
}

// CHECK-LABEL: func @shapes
func.func @shapes(%x: tensor<2x6x4xf32>, %ids: tensor<2x5xi64>, %table: tensor<100x8xf32>)
    -> (tensor<2x5x8xf32>, tensor<4x6x2xf32>, tensor<2x3x4xf32>, tensor<2x2x4xf32>, tensor<12x4xf32>, tensor<2x8x6xf32>, tensor<2x4x4xf32>) {
  // CHECK: shears.gather %{{.*}}, %{{.*}} : (tensor<100x8xf32>, tensor<2x5xi64>) -> tensor<2x5x8xf32>
  %e = shears.gather %table, %ids : (tensor<100x8xf32>, tensor<2x5xi64>) -> tensor<2x5x8xf32>
  // CHECK: shears.transpose %{{.*}} {perm = array<i64: 2, 1, 0>}
  %t = shears.transpose %x {perm = array<i64: 2, 1, 0>} : (tensor<2x6x4xf32>) -> tensor<4x6x2xf32>
  // CHECK: shears.slice %{{.*}} {axes = array<i64: 1>, ends = array<i64: 6>, starts = array<i64: 1>, steps = array<i64: 2>}
  %s = shears.slice %x {axes = array<i64: 1>, starts = array<i64: 1>, ends = array<i64: 6>, steps = array<i64: 2>} : (tensor<2x6x4xf32>) -> tensor<2x3x4xf32>
  // CHECK: shears.split %{{.*}} {axis = 1 : i64, sizes = array<i64: 2, 4>} : (tensor<2x6x4xf32>) -> (tensor<2x2x4xf32>, tensor<2x4x4xf32>)
  %a, %b = shears.split %x {axis = 1 : i64, sizes = array<i64: 2, 4>} : (tensor<2x6x4xf32>) -> (tensor<2x2x4xf32>, tensor<2x4x4xf32>)
  // CHECK: shears.reshape %{{.*}} : (tensor<2x6x4xf32>) -> tensor<12x4xf32>
  %r = shears.reshape %x : (tensor<2x6x4xf32>) -> tensor<12x4xf32>
  // CHECK: shears.pad %{{.*}} {pads = array<i64: 0, 1, 0, 0, 1, 2>, value = 1.000000e+00 : f32}
  %p = shears.pad %x {pads = array<i64: 0, 1, 0, 0, 1, 2>, value = 1.0 : f32} : (tensor<2x6x4xf32>) -> tensor<2x8x6xf32>
  // CHECK: shears.matmul %{{.*}}, %{{.*}} : (tensor<2x4x6xf32>, tensor<2x6x4xf32>) -> tensor<2x4x4xf32>
  %tt = shears.transpose %x {perm = array<i64: 0, 2, 1>} : (tensor<2x6x4xf32>) -> tensor<2x4x6xf32>
  %mm = shears.matmul %tt, %x : (tensor<2x4x6xf32>, tensor<2x6x4xf32>) -> tensor<2x4x4xf32>
  return %e, %t, %s, %a, %r, %p, %mm : tensor<2x5x8xf32>, tensor<4x6x2xf32>, tensor<2x3x4xf32>, tensor<2x2x4xf32>, tensor<12x4xf32>, tensor<2x8x6xf32>, tensor<2x4x4xf32>
}

// CHECK-LABEL: func @mask
// CHECK: shears.mask %arg0, %arg1 : tensor<4x8xf32>, tensor<4x1xi1>
func.func @mask(%w: tensor<4x8xf32>, %m: tensor<4x1xi1>) -> tensor<4x8xf32> {
  %0 = shears.mask %w, %m : tensor<4x8xf32>, tensor<4x1xi1>
  return %0 : tensor<4x8xf32>
}

// shears.ukernel round-trips on tensors and on memrefs.
// CHECK-LABEL: func.func @ukernel
// CHECK: shears.ukernel "gemm" ins(%arg0, %arg1 : tensor<4x16xf32>, tensor<1x16x32xf32>) outs(%arg2 : tensor<4x20xf32>) iparams = [16, 20, 2, 16] fparams = [0.000000e+00, 0.000000e+00] -> tensor<4x20xf32>
// CHECK: shears.ukernel "gemm" ins(%arg3, %arg4 : memref<4x16xf32>, memref<1x16x32xf32>) outs(%arg5 : memref<4x20xf32>) iparams = [16, 20, 2, 0] fparams = [0.000000e+00, 0.000000e+00]{{$}}
func.func @ukernel(%x: tensor<4x16xf32>, %w: tensor<1x16x32xf32>, %o: tensor<4x20xf32>, %mx: memref<4x16xf32>, %mw: memref<1x16x32xf32>, %mo: memref<4x20xf32>) -> tensor<4x20xf32> {
  %0 = shears.ukernel "gemm" ins(%x, %w : tensor<4x16xf32>, tensor<1x16x32xf32>) outs(%o : tensor<4x20xf32>) iparams = [16, 20, 2, 16] fparams = [0.0, 0.0] -> tensor<4x20xf32>
  shears.ukernel "gemm" ins(%mx, %mw : memref<4x16xf32>, memref<1x16x32xf32>) outs(%mo : memref<4x20xf32>) iparams = [16, 20, 2, 0] fparams = [0.0, 0.0]
  return %0 : tensor<4x20xf32>
}

// Per-tensor activations (ui8) and per-channel weights (i8).
// CHECK-LABEL: func @quantization
// CHECK: %[[Q:.+]] = shears.quantize %arg0, %arg1, %arg2 : (tensor<?x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x8xui8>
// CHECK: shears.dequantize %[[Q]], %arg1, %arg2 : (tensor<?x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x8xf32>
// CHECK: shears.dequantize %arg3, %arg4, %arg5 {axis = 0 : i64} : (tensor<4x8xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x8xf32>
func.func @quantization(%x: tensor<?x8xf32>, %s: tensor<f32>, %zp: tensor<ui8>, %wq: tensor<4x8xi8>, %ws: tensor<4xf32>, %wzp: tensor<4xi8>) -> (tensor<?x8xf32>, tensor<4x8xf32>) {
  %q = shears.quantize %x, %s, %zp : (tensor<?x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x8xui8>
  %dq = shears.dequantize %q, %s, %zp : (tensor<?x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x8xf32>
  %w = shears.dequantize %wq, %ws, %wzp {axis = 0 : i64} : (tensor<4x8xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x8xf32>
  return %dq, %w : tensor<?x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func @dynamic_quantize
// CHECK: %{{.+}}, %{{.+}}, %{{.+}} = shears.dynamic_quantize %arg0 : tensor<?x8xf32>
func.func @dynamic_quantize(%x: tensor<?x8xf32>) -> (tensor<?x8xui8>, tensor<f32>, tensor<ui8>) {
  %q, %s, %zp = shears.dynamic_quantize %x : tensor<?x8xf32>
  return %q, %s, %zp : tensor<?x8xui8>, tensor<f32>, tensor<ui8>
}

// CHECK-LABEL: func @elementwise
func.func @elementwise(%x: tensor<?x4xf32>, %y: tensor<4xf32>) -> tensor<?x4xf32> {
  // CHECK: shears.pow %{{.*}}, %{{.*}} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %0 = shears.pow %x, %y : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  // CHECK: shears.max
  %1 = shears.max %0, %y : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  // CHECK: shears.min
  %2 = shears.min %1, %x : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  // CHECK: shears.exp %{{.*}} : tensor<?x4xf32>
  %3 = shears.exp %2 : tensor<?x4xf32>
  // CHECK: shears.log
  %4 = shears.log %3 : tensor<?x4xf32>
  // CHECK: shears.neg
  %5 = shears.neg %4 : tensor<?x4xf32>
  // CHECK: shears.abs
  %6 = shears.abs %5 : tensor<?x4xf32>
  // CHECK: shears.sqrt
  %7 = shears.sqrt %6 : tensor<?x4xf32>
  // CHECK: shears.reciprocal
  %8 = shears.reciprocal %7 : tensor<?x4xf32>
  // CHECK: shears.erf
  %9 = shears.erf %8 : tensor<?x4xf32>
  // CHECK: shears.softplus
  %10 = shears.softplus %9 : tensor<?x4xf32>
  // CHECK: shears.hard_swish
  %11 = shears.hard_swish %10 : tensor<?x4xf32>
  // CHECK: shears.leaky_relu %{{.*}} {alpha = 2.500000e-01 : f32} : tensor<?x4xf32>
  %12 = shears.leaky_relu %11 {alpha = 0.25 : f32} : tensor<?x4xf32>
  // CHECK: shears.elu %{{.*}} : tensor<?x4xf32>
  %13 = shears.elu %12 : tensor<?x4xf32>
  // CHECK: shears.hard_sigmoid %{{.*}} {alpha = 5.000000e-01 : f32} : tensor<?x4xf32>
  %14 = shears.hard_sigmoid %13 {alpha = 0.5 : f32} : tensor<?x4xf32>
  return %14 : tensor<?x4xf32>
}

// CHECK-LABEL: func @reductions
func.func @reductions(%x: tensor<?x8x4x4xf32>) -> (tensor<?x8x1x1xf32>, tensor<?x4xf32>, tensor<f32>) {
  // CHECK: shears.reduce_mean %{{.*}} {axes = array<i64: 2, 3>} : (tensor<?x8x4x4xf32>) -> tensor<?x8x1x1xf32>
  %m = shears.reduce_mean %x {axes = array<i64: 2, 3>} : (tensor<?x8x4x4xf32>) -> tensor<?x8x1x1xf32>
  // CHECK: shears.reduce_max %{{.*}} {axes = array<i64: 1, 3>, keepdims = false} : (tensor<?x8x4x4xf32>) -> tensor<?x4xf32>
  %x2 = shears.reduce_max %x {axes = array<i64: 1, 3>, keepdims = false} : (tensor<?x8x4x4xf32>) -> tensor<?x4xf32>
  // CHECK: shears.reduce_l2 %{{.*}} {axes = array<i64: 0, 1>, keepdims = false} : (tensor<?x4xf32>) -> tensor<f32>
  %n = shears.reduce_l2 %x2 {axes = array<i64: 0, 1>, keepdims = false} : (tensor<?x4xf32>) -> tensor<f32>
  return %m, %x2, %n : tensor<?x8x1x1xf32>, tensor<?x4xf32>, tensor<f32>
}

// CHECK-LABEL: func @expand
func.func @expand(%token: tensor<1x1x8xf32>, %x: tensor<?x3x32x32xf32>) -> (tensor<?x1x8xf32>, tensor<2x4x8xf32>) {
  // CHECK: shears.expand %{{.*}} sizes of %{{.*}} : tensor<?x3x32x32xf32> {source_dims = array<i64: 0>} : tensor<1x1x8xf32> -> tensor<?x1x8xf32>
  %0 = shears.expand %token sizes of %x : tensor<?x3x32x32xf32> {source_dims = array<i64: 0>} : tensor<1x1x8xf32> -> tensor<?x1x8xf32>
  // CHECK: shears.expand %{{.*}} {source_dims = array<i64>} : tensor<1x1x8xf32> -> tensor<2x4x8xf32>
  %1 = shears.expand %token {source_dims = array<i64>} : tensor<1x1x8xf32> -> tensor<2x4x8xf32>
  return %0, %1 : tensor<?x1x8xf32>, tensor<2x4x8xf32>
}

// CHECK-LABEL: func @layer_norm
func.func @layer_norm(%x: tensor<?x5x16xf32>, %s: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<?x5x16xf32> {
  // CHECK: shears.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {axis = 2 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<?x5x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  %0 = shears.layer_norm %x, %s, %b {axis = 2 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x5x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x5x16xf32>
  return %0 : tensor<?x5x16xf32>
}

// CHECK-LABEL: func @cast
func.func @cast(%x: tensor<?x4xf32>) -> tensor<?x4xi1> {
  // CHECK: shears.cast %{{.*}} : tensor<?x4xf32> to tensor<?x4xi64>
  %i = shears.cast %x : tensor<?x4xf32> to tensor<?x4xi64>
  // CHECK: shears.cast %{{.*}} : tensor<?x4xi64> to tensor<?x4xi1>
  %b = shears.cast %i : tensor<?x4xi64> to tensor<?x4xi1>
  return %b : tensor<?x4xi1>
}

// CHECK-LABEL: func @compare_where
func.func @compare_where(%x: tensor<?x4xf32>, %y: tensor<4xf32>) -> tensor<?x4xf32> {
  // CHECK: shears.less %{{.*}}, %{{.*}} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xi1>
  %c = shears.less %x, %y : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xi1>
  // CHECK: shears.equal
  %e = shears.equal %x, %y : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xi1>
  // CHECK: shears.greater
  %g = shears.greater %y, %x : (tensor<4xf32>, tensor<?x4xf32>) -> tensor<?x4xi1>
  // CHECK: shears.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x4xi1>, tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %w = shears.where %c, %x, %y : (tensor<?x4xi1>, tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %w : tensor<?x4xf32>
}

// CHECK-LABEL: func @decoder
func.func @decoder(%x: tensor<?x4x4x4xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<?x6x4x4xf32> {
  // CHECK: shears.conv_transpose %{{.*}}, %{{.*}} {groups = 2 : i64, pads = array<i64: 1, 1, 0, 0>, strides = array<i64: 2, 2>} : (tensor<?x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<?x6x8x8xf32>
  %0 = shears.conv_transpose %x, %w {groups = 2 : i64, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>} : (tensor<?x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<?x6x8x8xf32>
  // CHECK: shears.resize %{{.*}} {coordinate_transformation_mode = "align_corners", mode = "linear", scales = array<f32: 1.000000e+00, 1.000000e+00, 5.000000e-01, 5.000000e-01>} : (tensor<?x6x8x8xf32>) -> tensor<?x6x4x4xf32>
  %1 = shears.resize %0 {mode = "linear", coordinate_transformation_mode = "align_corners", scales = array<f32: 1.0, 1.0, 0.5, 0.5>} : (tensor<?x6x8x8xf32>) -> tensor<?x6x4x4xf32>
  return %1 : tensor<?x6x4x4xf32>
}
