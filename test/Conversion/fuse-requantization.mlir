// RUN: shears-opt %s --shears-fuse-requantization --split-input-file | FileCheck %s

// A qconv2d read only by integer kernels that quantize it alike (scale 0.5,
// zero point 3) quantizes its output to u8 (flag 512, OUT_SCALE and
// OUT_ZERO_POINT set); they read the bytes (flag 256). tensor.dim follows.
// CHECK-LABEL: func.func @chain
// CHECK: %[[E:.+]] = tensor.empty(%{{.+}}) : tensor<?x4x8x8xui8>
// CHECK: %[[A:.+]] = shears.ukernel "qconv2d" ins(%arg0, {{.+}}) outs(%[[E]] : tensor<?x4x8x8xui8>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 529, 0] fparams = [0.000000e+00, 0.000000e+00, 2.500000e-01, 0.000000e+00, 5.000000e-01, 3.000000e+00] -> tensor<?x4x8x8xui8>
// CHECK: tensor.dim %[[A]], %c0 : tensor<?x4x8x8xui8>
// CHECK: shears.ukernel "qconv2d" ins(%[[A]], {{.+}}) outs({{.+}} : tensor<?x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 257, 0]
// CHECK: shears.ukernel "qconv2d" ins(%[[A]], {{.+}}) outs({{.+}} : tensor<?x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 257, 0]
func.func @chain(%x: tensor<?x4x8x8xf32>, %w: tensor<1x3x3x1x32x4xi8>, %s: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<?x4x8x8xf32>, tensor<?x4x8x8xf32>) {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?x4x8x8xf32>
  %e = tensor.empty(%d) : tensor<?x4x8x8xf32>
  %a = shears.ukernel "qconv2d" ins(%x, %w, %s, %b : tensor<?x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<?x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 17, 0] fparams = [0.0, 0.0, 0.25, 0.0, 0.0, 0.0] -> tensor<?x4x8x8xf32>
  %d2 = tensor.dim %a, %c0 : tensor<?x4x8x8xf32>
  %e2 = tensor.empty(%d2) : tensor<?x4x8x8xf32>
  %y = shears.ukernel "qconv2d" ins(%a, %w, %s, %b : tensor<?x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e2 : tensor<?x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 1, 0] fparams = [0.0, 0.0, 0.5, 3.0, 0.0, 0.0] -> tensor<?x4x8x8xf32>
  %z = shears.ukernel "qconv2d" ins(%a, %w, %s, %b : tensor<?x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e2 : tensor<?x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 1, 0] fparams = [0.0, 0.0, 0.5, 3.0, 0.0, 0.0] -> tensor<?x4x8x8xf32>
  return %y, %z : tensor<?x4x8x8xf32>, tensor<?x4x8x8xf32>
}

// -----

// Not when a user reads it as an f32 (a residual) or quantizes it otherwise.
// CHECK-LABEL: func.func @mixed
// CHECK-NOT: ui8
func.func @mixed(%x: tensor<1x4x8x8xf32>, %w: tensor<1x3x3x1x32x4xi8>, %s: tensor<4xf32>, %b: tensor<4xf32>, %e: tensor<1x4x8x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) {
  %a = shears.ukernel "qconv2d" ins(%x, %w, %s, %b : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<1x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 1, 0] fparams = [0.0, 0.0, 0.25, 0.0, 0.0, 0.0] -> tensor<1x4x8x8xf32>
  %y = shears.ukernel "qconv2d" ins(%a, %w, %s, %b, %a : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>, tensor<1x4x8x8xf32>) outs(%e : tensor<1x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 3, 0] fparams = [0.0, 0.0, 0.5, 3.0, 0.0, 0.0] -> tensor<1x4x8x8xf32>
  %b2 = shears.ukernel "qconv2d" ins(%x, %w, %s, %b : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<1x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 1, 0] fparams = [0.0, 0.0, 0.25, 0.0, 0.0, 0.0] -> tensor<1x4x8x8xf32>
  %p = shears.ukernel "qconv2d" ins(%b2, %w, %s, %b : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<1x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 1, 0] fparams = [0.0, 0.0, 0.5, 3.0, 0.0, 0.0] -> tensor<1x4x8x8xf32>
  %q = shears.ukernel "qconv2d" ins(%b2, %w, %s, %b : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<1x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 1, 0] fparams = [0.0, 0.0, 0.5, 4.0, 0.0, 0.0] -> tensor<1x4x8x8xf32>
  return %y, %p, %q : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>
}

// -----

// Read by an integer kernel as its input and by another as its residual (a
// residual block's output): the producer writes the f32 output and its u8
// copy (flag 16384, two results); the integer kernel reads the copy, the
// residual and the function's result the f32 one. (The kernel between them
// hands the last one bytes: flags 512, then 256.) Static shapes: the pass
// loads the tensor dialect for its tensor.empty.
// CHECK-LABEL: func.func @residual
// CHECK: %[[E:.+]] = tensor.empty() : tensor<1x4x8x8xui8>
// CHECK: %[[A:.+]]:2 = shears.ukernel "qconv2d" ins(%arg0, {{.+}}) outs(%arg4, %[[E]] : tensor<1x4x8x8xf32>, tensor<1x4x8x8xui8>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 16385, 0] fparams = [0.000000e+00, 0.000000e+00, 2.500000e-01, 0.000000e+00, 5.000000e-01, 3.000000e+00] -> tensor<1x4x8x8xf32>, tensor<1x4x8x8xui8>
// CHECK: %[[Y:.+]] = shears.ukernel "qconv2d" ins(%[[A]]#1, {{.+}}) outs({{.+}}) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 769, 0]
// CHECK: shears.ukernel "qconv2d" ins(%[[Y]], %arg1, %arg2, %arg3, %[[A]]#0 : {{.+}}) outs({{.+}}) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 259, 0]
// CHECK: return %{{.+}}, %[[A]]#0
func.func @residual(%x: tensor<1x4x8x8xf32>, %w: tensor<1x3x3x1x32x4xi8>, %s: tensor<4xf32>, %b: tensor<4xf32>, %e: tensor<1x4x8x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) {
  %a = shears.ukernel "qconv2d" ins(%x, %w, %s, %b : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<1x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 1, 0] fparams = [0.0, 0.0, 0.25, 0.0, 0.0, 0.0] -> tensor<1x4x8x8xf32>
  %y = shears.ukernel "qconv2d" ins(%a, %w, %s, %b : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<1x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 1, 0] fparams = [0.0, 0.0, 0.5, 3.0, 0.0, 0.0] -> tensor<1x4x8x8xf32>
  %z = shears.ukernel "qconv2d" ins(%y, %w, %s, %b, %a : tensor<1x4x8x8xf32>, tensor<1x3x3x1x32x4xi8>, tensor<4xf32>, tensor<4xf32>, tensor<1x4x8x8xf32>) outs(%e : tensor<1x4x8x8xf32>) iparams = [4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 1, 3, 0] fparams = [0.0, 0.0, 0.5, 7.0, 0.0, 0.0] -> tensor<1x4x8x8xf32>
  return %z, %a : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>
}
