// int8 quantization: per-channel i8 weights, calibrated ui8 inputs.
// RUN: %python -c "import numpy as np; np.savez('%t.npz', **{'fc1.range': np.array([-1, 3], np.float32), 'fc1.histogram': np.array([0, 0, 1, 1, 10, 5, 2, 1], np.float32), 'fc2.range': np.array([0, 2], np.float32), 'fc2.histogram': np.array([0, 0, 0, 0, 4, 0, 0, 1], np.float32)})"
// RUN: shears-opt %s --shears-quantize="statistics=%t.npz" | FileCheck %s --check-prefix=MINMAX
// RUN: shears-opt %s --shears-quantize="statistics=%t.npz method=percentile percentile=90" | FileCheck %s --check-prefix=PERCENTILE
// RUN: shears-opt %s --shears-quantize="statistics=%t.npz method=entropy" | FileCheck %s --check-prefix=ENTROPY
// RUN: shears-opt %s --shears-quantize="activations=none exclude=^fc2$" | FileCheck %s --check-prefix=WEIGHTS
// RUN: shears-opt %s --shears-quantize="activations=dynamic" | FileCheck %s --check-prefix=DYNAMIC
// RUN: shears-opt %s --shears-quantize="activations=none weights=int4 group-size=1" | FileCheck %s --check-prefix=INT4
// RUN: shears-opt %s --shears-quantize="activations=none weights=binary" | FileCheck %s --check-prefix=BINARY
// RUN: shears-opt %s --shears-quantize="activations=none weights=int4 group-size=3" | FileCheck %s --check-prefix=INT4-LARGE
// RUN: shears-opt %s --shears-quantize="activations=none reduce-range=true" | FileCheck %s --check-prefix=REDUCED
// Quantizing twice changes nothing the second time.
// RUN: shears-opt %s --shears-quantize="statistics=%t.npz" --shears-quantize="statistics=%t.npz" | FileCheck %s --check-prefix=MINMAX

// Errors.
// RUN: not shears-opt %s --shears-quantize 2>&1 | FileCheck %s --check-prefix=NO-STATISTICS
// RUN: %python -c "import numpy as np; np.savez('%t.fc1.npz', **{'fc1.range': np.array([-1, 3], np.float32), 'fc1.histogram': np.ones(8, np.float32)})"
// RUN: not shears-opt %s --shears-quantize="statistics=%t.fc1.npz" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not shears-opt %s --shears-quantize="statistics=%t.npz method=percentile percentile=0" 2>&1 | FileCheck %s --check-prefix=PERCENT
// RUN: not shears-opt %s --shears-quantize="statistics=%t.npz method=kl" 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: not shears-opt %s --shears-quantize="activations=none exclude=(" 2>&1 | FileCheck %s --check-prefix=REGEX
// RUN: not shears-opt %s --shears-quantize="activations=none weights=int4 group-size=0" 2>&1 | FileCheck %s --check-prefix=GROUP-ZERO
// RUN: not shears-opt %s --shears-quantize="activations=none weights=binary reduce-range=true" 2>&1 | FileCheck %s --check-prefix=REDUCED-BINARY

// fc1's input: [-1, 3] onto [0, 255]: scale 4/255, zero point 64.
// MINMAX-LABEL: func @mlp
// MINMAX: %[[S1:.+]] = shears.constant dense<0.0156862{{[0-9]*}}> : tensor<f32>
// MINMAX: %[[Z1:.+]] = shears.constant dense<64> : tensor<ui8>
// MINMAX: %[[Q1:.+]] = shears.quantize %arg0, %[[S1]], %[[Z1]] : (tensor<?x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x2xui8>
// MINMAX: %[[X1:.+]] = shears.dequantize %[[Q1]], %[[S1]], %[[Z1]] : (tensor<?x2xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x2xf32>
// Weights: channel 0 [1.27, -0.5] -> scale 0.01, [127, -50]; channel 1 all
// zero -> scale 1.
// MINMAX: %[[W1:.+]] = shears.constant dense_resource<fc1.weight.quantized> : tensor<2x2xi8>
// MINMAX: %[[WS1:.+]] = shears.constant dense_resource<fc1.weight.scale> : tensor<2xf32>
// MINMAX: %[[WZ1:.+]] = shears.constant dense<0> : tensor<2xi8>
// MINMAX: %[[DW1:.+]] = shears.dequantize %[[W1]], %[[WS1]], %[[WZ1]] {axis = 0 : i64} : (tensor<2x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x2xf32>
// MINMAX: %[[H:.+]] = shears.linear %[[X1]], %[[DW1]], %{{.+}} :
// fc2's input: [0, 2]: scale 2/255, zero point 0.
// MINMAX: %[[S2:.+]] = shears.constant dense<0.00784313{{[0-9]*}}> : tensor<f32>
// MINMAX: %[[Z2:.+]] = shears.constant dense<0> : tensor<ui8>
// MINMAX: shears.quantize %{{.+}}, %[[S2]], %[[Z2]]
// MINMAX-NOT: shears.quantize
// MINMAX: fc1.weight.quantized: "0x400000007FCE0000"
// MINMAX: fc1.weight.scale: "0x040000000AD7233C0000803F"

// The histogram folds to |x| counts [11, 6, 2, 1] in bins of 0.75; 90% lie
// below 2.25: [-1, 2.25], scale 3.25/255, zero point 78.
// PERCENTILE: shears.constant dense<0.0127450{{[0-9]*}}> : tensor<f32>
// PERCENTILE: shears.constant dense<78> : tensor<ui8>

// Fewer bins than levels: nothing to clip, the range seen.
// ENTROPY: shears.constant dense<0.0156862{{[0-9]*}}> : tensor<f32>
// ENTROPY: shears.constant dense<64> : tensor<ui8>

// WEIGHTS-LABEL: func @mlp
// WEIGHTS-NOT: shears.quantize
// WEIGHTS: shears.dequantize %{{.+}} {axis = 0 : i64} : (tensor<2x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x2xf32>
// WEIGHTS: shears.linear
// WEIGHTS-NOT: shears.dequantize
// WEIGHTS: shears.linear

// Dynamic: each linear layer's input quantized with its own range at run
// time; no statistics.
// DYNAMIC-LABEL: func @mlp
// DYNAMIC: %[[Q:.+]], %[[S:.+]], %[[Z:.+]] = shears.dynamic_quantize %arg0 : tensor<?x2xf32>
// DYNAMIC: %[[X:.+]] = shears.dequantize %[[Q]], %[[S]], %[[Z]] : (tensor<?x2xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x2xf32>
// DYNAMIC: shears.linear %[[X]]
// DYNAMIC: shears.dynamic_quantize
// DYNAMIC-NOT: shears.quantize

// int4 in groups of 1: fc1's [1.27, -0.5, 0, 0] are rows of one, scales
// max|w| / 7 (1 for zeros), values in [-8, 7], reshaped back.
// INT4-LABEL: func @mlp
// INT4: %[[Q:.+]] = shears.constant dense_resource<fc1.weight.quantized> : tensor<4x1xi8>
// INT4: %[[D:.+]] = shears.dequantize %[[Q]], %{{.+}}, %{{.+}} {axis = 0 : i64} : (tensor<4x1xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x1xf32>
// INT4: %[[W:.+]] = shears.reshape %[[D]] : (tensor<4x1xf32>) -> tensor<2x2xf32>
// INT4: shears.linear %arg0, %[[W]]
// INT4: fc1.weight.quantized: "0x4000000007F90000"
// INT4: fc1.weight.scale: "0x04000000{{[0-9A-F]+}}0000803F0000803F"

// A group larger than a channel's weights: each channel is one group, with
// nothing padded (quantize-layer-weights.mlir pads a channel's last group).
// INT4-LARGE: %[[D:.+]] = shears.dequantize %{{.+}} {axis = 0 : i64} : (tensor<2x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x2xf32>
// INT4-LARGE-NEXT: shears.linear %arg0, %[[D]]
// INT4-LARGE: fc1.weight.quantized: "0x4000000007FD0000"

// reduce-range: fc1's [1.27, -0.5] onto [-64, 64]: scale 1.27 / 64, values
// [64, -25].
// REDUCED: fc1.weight.quantized: "0x4000000040E70000"
// REDUCED: fc1.weight.scale: "0x040000005C8FA23C0000803F"

// Binary: the signs (+1 for 0) and the mean |w| per output channel:
// (1.27 + 0.5) / 2 = 0.885, and 1 for the channel of zeros.
// BINARY: dense_resource<fc1.weight.quantized> : tensor<2x2xi8>
// BINARY: fc1.weight.quantized: "0x4000000001FF0101"
// BINARY: fc1.weight.scale: "0x040000005C8F623F0000803F"

// NO-STATISTICS: activations=static needs the activation statistics (statistics=FILE.npz, from shears calibrate --quantization)
// MISSING: no statistics for layer 'fc2' in '{{.+}}' (expected 'fc2.range' and 'fc2.histogram', as shears calibrate --quantization writes)
// PERCENT: percentile must be in (0, 100], got 0
// METHOD: for the --method option: Cannot find option named 'kl'!
// REGEX: exclude '(' is not a valid regex
// GROUP-ZERO: group-size must be positive, got 0
// REDUCED-BINARY: error: shears-quantize: reduce-range is for weights=int8

func.func @mlp(%x: tensor<?x2xf32>) -> tensor<?x3xf32> {
  %w1 = shears.constant dense<[[1.27, -0.5], [0.0, 0.0]]> : tensor<2x2xf32> loc("fc1.weight")
  %b1 = shears.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %h = shears.linear %x, %w1, %b1 : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<?x2xf32> loc("fc1")
  %r = shears.relu %h : tensor<?x2xf32>
  %w2 = shears.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32> loc("fc2.weight")
  %y = shears.linear %r, %w2 : (tensor<?x2xf32>, tensor<3x2xf32>) -> tensor<?x3xf32> loc("fc2")
  return %y : tensor<?x3xf32>
}
