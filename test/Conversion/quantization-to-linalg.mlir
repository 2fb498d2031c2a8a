// RUN: shears-opt %s --convert-shears-to-linalg --canonicalize --split-input-file --verify-diagnostics | FileCheck %s

// A quantize read by a dequantize lowers with it into one generic on f32:
// no ui8 tensor is left.
// CHECK-LABEL: func @fake_quantize
// CHECK-NOT: ui8
// CHECK-DAG: %[[MAX:.+]] = arith.constant 2.550000e+02 : f32
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg0, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<?x8xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>)
// CHECK: ^bb0(%[[X:.+]]: f32, %[[S:.+]]: f32, %[[Z:.+]]: f32, %[[S2:.+]]: f32, %[[Z2:.+]]: f32, %{{.+}}: f32):
// CHECK: %[[D:.+]] = arith.divf %[[X]], %[[S]]
// CHECK: %[[R:.+]] = math.roundeven %[[D]]
// CHECK: %[[A:.+]] = arith.addf %[[R]], %[[Z]]
// CHECK: %[[LO:.+]] = arith.maximumf %[[A]], %[[ZERO]]
// CHECK: %[[HI:.+]] = arith.minimumf %[[LO]], %[[MAX]]
// CHECK: %[[C:.+]] = arith.subf %[[HI]], %[[Z2]]
// CHECK: arith.mulf %[[C]], %[[S2]]
// CHECK-NOT: shears.
func.func @fake_quantize(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %s = shears.constant dense<0.5> : tensor<f32>
  %zp = shears.constant dense<3> : tensor<ui8>
  %q = shears.quantize %x, %s, %zp : (tensor<?x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x8xui8>
  %dq = shears.dequantize %q, %s, %zp : (tensor<?x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x8xf32>
  return %dq : tensor<?x8xf32>
}

// -----

// Per-channel i8 weights: scale and zero point read along the axis.
// CHECK: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK: #[[AXIS:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func @dequantize_weights
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[AXIS]], #[[AXIS]], #[[ID]]]
// CHECK-SAME: ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<2x3xi8>, tensor<2xf32>, tensor<2xf32>)
// CHECK: arith.sitofp
// CHECK: arith.subf
// CHECK: arith.mulf
func.func @dequantize_weights() -> tensor<2x3xf32> {
  %w = shears.constant dense<[[1, -2, 3], [4, 5, -128]]> : tensor<2x3xi8>
  %s = shears.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %zp = shears.constant dense<0> : tensor<2xi8>
  %dq = shears.dequantize %w, %s, %zp {axis = 0 : i64} : (tensor<2x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xf32>
  return %dq : tensor<2x3xf32>
}

// -----

// A quantize to i8 on its own: the integers, saturated to [-128, 127].
// CHECK-LABEL: func @quantize_i8
// CHECK-DAG: arith.constant 1.270000e+02 : f32
// CHECK-DAG: arith.constant -1.280000e+02 : f32
// CHECK: linalg.generic
// CHECK: math.roundeven
// CHECK: arith.maximumf
// CHECK: arith.fptosi %{{.+}} : f32 to i8
// CHECK: -> tensor<4xi8>
func.func @quantize_i8(%x: tensor<4xf32>) -> tensor<4xi8> {
  %s = shears.constant dense<0.1> : tensor<f32>
  %zp = shears.constant dense<0> : tensor<i8>
  %q = shears.quantize %x, %s, %zp : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @quantize_ui8_alone(%x: tensor<4xf32>) -> tensor<4xui8> {
  %s = shears.constant dense<0.1> : tensor<f32>
  %zp = shears.constant dense<0> : tensor<ui8>
  // expected-error @+2 {{'shears.quantize' op to 'ui8' lowers only together with the shears.dequantize that reads it}}
  // expected-error @+1 {{failed to legalize operation 'shears.quantize'}}
  %q = shears.quantize %x, %s, %zp : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xui8>
  return %q : tensor<4xui8>
}

// -----

func.func @scale_not_constant(%x: tensor<4xi8>, %s: tensor<f32>) -> tensor<4xf32> {
  %zp = shears.constant dense<0> : tensor<i8>
  // expected-error @+2 {{'shears.dequantize' op needs a constant scale and zero point to be lowered}}
  // expected-error @+1 {{failed to legalize operation 'shears.dequantize'}}
  %dq = shears.dequantize %x, %s, %zp : (tensor<4xi8>, tensor<f32>, tensor<i8>) -> tensor<4xf32>
  return %dq : tensor<4xf32>
}

// -----

// A dequantize of a dynamic_quantize: the range of the input (one reduction,
// starting from 0), the scale and zero point from it, then the fake
// quantization with them.
// CHECK-LABEL: func @dynamic
// CHECK: %[[R:.+]]:2 = linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]
// CHECK: arith.minimumf
// CHECK: arith.maximumf
// CHECK: %[[LO:.+]] = tensor.extract %[[R]]#0[]
// CHECK: %[[HI:.+]] = tensor.extract %[[R]]#1[]
// CHECK: arith.subf %[[HI]], %[[LO]]
// CHECK: arith.select
// CHECK: math.roundeven
// CHECK: linalg.generic {{.+}} ins(%arg0 : tensor<?x8xf32>)
// CHECK: math.roundeven
// CHECK-NOT: shears.
func.func @dynamic(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %q, %s, %zp = shears.dynamic_quantize %x : tensor<?x8xf32>
  %dq = shears.dequantize %q, %s, %zp : (tensor<?x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x8xf32>
  return %dq : tensor<?x8xf32>
}
