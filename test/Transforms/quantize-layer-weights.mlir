// int4 on a convolution (groups along its input channels and window
// flattened), a channel shorter than a group (one group, no padding), and
// layer-weights choosing each layer's format by the regex on its name.
// RUN: shears-opt %s --shears-quantize="activations=none weights=int4 group-size=3" | FileCheck %s --check-prefix=INT4
// RUN: shears-opt %s --shears-quantize="activations=none weights=binary group-size=3 layer-weights=^conv$=int4,^fc=int8,conv=int8" | FileCheck %s --check-prefix=MIXED
// With static activations int4 leaves convolutions in int8 (the integer
// convolution kernels take a scale per channel), unless an entry asks.
// RUN: %python -c "import numpy as np; np.savez('%t.npz', **{n + k: np.array(v, np.float32) for n in ('conv', 'fc', 'out') for k, v in (('.range', [0, 1]), ('.histogram', [1] * 8))})"
// RUN: shears-opt %s --shears-quantize="statistics=%t.npz weights=int4 group-size=3" | FileCheck %s --check-prefix=STATIC
// RUN: shears-opt %s --shears-quantize="statistics=%t.npz weights=int4 group-size=3 layer-weights=conv=int4" | FileCheck %s --check-prefix=STATIC-ASKED

// Errors.
// RUN: not shears-opt %s --shears-quantize="activations=none layer-weights=conv=int2" 2>&1 | FileCheck %s --check-prefix=BAD-FORMAT
// RUN: not shears-opt %s --shears-quantize="activations=none layer-weights=conv" 2>&1 | FileCheck %s --check-prefix=NO-FORMAT
// RUN: not shears-opt %s --shears-quantize="activations=none layer-weights=(=int8" 2>&1 | FileCheck %s --check-prefix=BAD-REGEX

// conv's channels [1.4, -0.6, 0.2, 0] and [0, 0, 0, 2.1] in groups of 3,
// padded to 6: scales 0.2, 1, 1, 0.3 and values [7, -3, 1], [0, 0, 0],
// [0, 0, 0], [7, 0, 0]; dequantized, reshaped to the padded channels,
// sliced to 4 and reshaped to the filter.
// INT4-LABEL: func @cnn
// INT4: %[[Q:.+]] = shears.constant dense_resource<conv.weight.quantized> : tensor<4x3xi8>
// INT4: %[[D:.+]] = shears.dequantize %[[Q]], %{{.+}}, %{{.+}} {axis = 0 : i64} : (tensor<4x3xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x3xf32>
// INT4: %[[P:.+]] = shears.reshape %[[D]] : (tensor<4x3xf32>) -> tensor<2x6xf32>
// INT4: %[[S:.+]] = shears.slice %[[P]] {{.+}} : (tensor<2x6xf32>) -> tensor<2x4xf32>
// INT4: %[[W:.+]] = shears.reshape %[[S]] : (tensor<2x4xf32>) -> tensor<2x1x2x2xf32>
// INT4: shears.conv2d %arg0, %[[W]]
// fc's 8 inputs: 3 groups a channel, the last padded.
// INT4: shears.dequantize {{.+}} -> tensor<6x3xf32>
// INT4: shears.reshape {{.+}} -> tensor<2x9xf32>
// INT4: shears.slice {{.+}} -> tensor<2x8xf32>
// INT4: shears.linear
// out's 2 inputs: one group a channel, as it is.
// INT4: shears.dequantize {{.+}} : (tensor<2x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x2xf32>
// INT4-NEXT: shears.linear
// INT4: conv.weight.quantized: "0x4000000007FD01000000000000070000"
// INT4: conv.weight.scale: "0x04000000CDCC4C3E0000803F0000803F9999993E"

// conv int4 (the first entry that matches wins over "conv=int8"), fc int8,
// and out, which no entry matches, binary.
// MIXED-LABEL: func @cnn
// MIXED: shears.dequantize {{.+}} -> tensor<4x3xf32>
// MIXED: shears.conv2d
// MIXED: shears.dequantize {{.+}} : (tensor<2x8xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x8xf32>
// MIXED-NEXT: shears.linear
// MIXED: shears.dequantize {{.+}} : (tensor<2x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x2xf32>
// MIXED-NEXT: shears.linear
// MIXED: conv.weight.quantized: "0x4000000007FD01000000000000070000"
// fc int8: [1 .. 8] by 8 / 127 and [-1, 0.5, 0, .., 0.25] by 1 / 127.
// MIXED: fc.weight.quantized: "0x40000000102030404F5F6F7F8140000000000020"
// out binary: the signs.
// MIXED: out.weight.quantized: "0x4000000001FFFF01"

// STATIC-LABEL: func @cnn
// STATIC: shears.dequantize {{.+}} : (tensor<2x1x2x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x1x2x2xf32>
// STATIC-NEXT: shears.conv2d
// STATIC: shears.dequantize {{.+}} -> tensor<6x3xf32>
// STATIC-ASKED-LABEL: func @cnn
// STATIC-ASKED: shears.dequantize {{.+}} -> tensor<4x3xf32>

// BAD-FORMAT: layer-weights entry 'conv=int2' is not REGEX=FORMAT (FORMAT int8, int4 or binary)
// NO-FORMAT: layer-weights entry 'conv' is not REGEX=FORMAT
// BAD-REGEX: layer-weights entry '(=int8': invalid regex: parentheses not balanced

func.func @cnn(%x: tensor<?x1x3x3xf32>) -> tensor<?x2xf32> {
  %w = shears.constant dense<[[[[1.4, -0.6], [0.2, 0.0]]], [[[0.0, 0.0], [0.0, 2.1]]]]> : tensor<2x1x2x2xf32> loc("conv.weight")
  %c = shears.conv2d %x, %w : (tensor<?x1x3x3xf32>, tensor<2x1x2x2xf32>) -> tensor<?x2x2x2xf32> loc("conv")
  %f = shears.flatten %c : (tensor<?x2x2x2xf32>) -> tensor<?x8xf32>
  %w1 = shears.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [-1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25]]> : tensor<2x8xf32> loc("fc.weight")
  %h = shears.linear %f, %w1 : (tensor<?x8xf32>, tensor<2x8xf32>) -> tensor<?x2xf32> loc("fc")
  %w2 = shears.constant dense<[[1.0, -2.0], [-3.0, 4.0]]> : tensor<2x2xf32> loc("out.weight")
  %y = shears.linear %h, %w2 : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32> loc("out")
  return %y : tensor<?x2xf32>
}
