// Weight sharing: each layer's non-zero weights become the centroids of a
// 1-D k-means with 2^bits - 1 clusters; zeros stay, a -0.0 as +0.0 (fc1's
// last weight: a pruned weight is codebook entry 0, whatever its sign).
// RUN: shears-opt %s --shears-share-weights="linear-bits=2" | FileCheck %s --check-prefix=LINEAR
// RUN: shears-opt %s --shears-share-weights="linear-bits=2 init=density" | FileCheck %s --check-prefix=DENSITY
// RUN: shears-opt %s --shears-share-weights="linear-bits=2 layer-bits=^fc2$=3,^fc=2 conv-bits=2" | FileCheck %s --check-prefix=OVERRIDE
// RUN: shears-opt %s --shears-share-weights="linear-bits=2 exclude=^fc1$" | FileCheck %s --check-prefix=EXCLUDE
// RUN: shears-opt %s --shears-share-weights="linear-bits=2 init=random seed=3" | FileCheck %s --check-prefix=RANDOM
// Sharing twice changes nothing the second time.
// RUN: shears-opt %s --shears-share-weights="linear-bits=2" > %t.once.mlir
// RUN: shears-opt %t.once.mlir --shears-share-weights="linear-bits=2" > %t.twice.mlir
// RUN: diff %t.once.mlir %t.twice.mlir

// Errors.
// RUN: not shears-opt %s --shears-share-weights="linear-bits=1" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not shears-opt %s --shears-share-weights="conv-bits=9" 2>&1 | FileCheck %s --check-prefix=CONV-BITS
// RUN: not shears-opt %s --shears-share-weights="layer-bits=fc1" 2>&1 | FileCheck %s --check-prefix=ENTRY
// RUN: not shears-opt %s --shears-share-weights="layer-bits=(=4" 2>&1 | FileCheck %s --check-prefix=ENTRY-REGEX
// RUN: not shears-opt %s --shears-share-weights="iterations=0" 2>&1 | FileCheck %s --check-prefix=ITERATIONS
// RUN: not shears-opt %s --shears-share-weights="init=kmeans++" 2>&1 | FileCheck %s --check-prefix=INIT

// fc1's weights 1, 2, 3, 10, 11, 12 (and two zeros), 3 clusters started at
// 1, 6.5 and 12 (linear): {1, 2, 3} -> 2, {10, 11, 12} -> 11, the middle
// one stays empty. Density starts at the quantiles 2, 10 and 12:
// {1, 2, 3} -> 2, {10, 11} -> 10.5, {12} -> 12. fc2's -4, -3, 2, 4 start at
// -4, 0, 4: -4 and -3 merge into -3.5. The convolution has eight values and
// conv-bits 8: they stay.
// LINEAR-LABEL: func @layers
// LINEAR: shears.constant dense_resource<fc1.weight> : tensor<1x8xf32>
// LINEAR: fc1.weight: "0x040000000000000000000040000000400000004000003041000030410000304100000000",
// LINEAR: fc2.weight: "0x04000000000060C0000060C00000004000008040",
// LINEAR: conv.weight: "0x04000000CDCCCC3DCDCC4C3E9A99993ECDCCCC3E0000003F9A99193F3333333FCDCC4C3F"
// DENSITY: fc1.weight: "0x040000000000000000000040000000400000004000002841000028410000404100000000",
// With 3 bits (7 clusters) fc2 keeps its four values; the convolution with
// 2 bits: {0.1, 0.2} -> 0.15, {0.3, 0.4, 0.5} -> 0.4, {0.6, 0.7, 0.8} -> 0.7.
// OVERRIDE: fc1.weight: "0x040000000000000000000040000000400000004000003041000030410000304100000000",
// OVERRIDE: fc2.weight: "0x04000000000080C0000040C00000004000008040",
// OVERRIDE: conv.weight: "0x040000009A99193E9A99193ECDCCCC3ECDCCCC3ECDCCCC3E3333333F3333333F3333333F"
// EXCLUDE: shears.constant dense<{{\[\[}}0.000000e+00, 1.000000e+00, 2.000000e+00, 3.000000e+00, 1.000000e+01, 1.100000e+01, 1.200000e+01, -0.000000e+00]]> : tensor<1x8xf32>
// EXCLUDE-NOT: fc1.weight:
// EXCLUDE: fc2.weight: "0x04000000000060C0000060C00000004000008040",
// Random: started at drawn weights, fc1 settles at 2, 10, 11.5.
// RANDOM: fc1.weight: "0x040000000000000000000040000000400000004000002041000038410000384100000000",

// BITS: linear-bits must be in [2, 8], got 1
// CONV-BITS: conv-bits must be in [2, 8], got 9
// ENTRY: layer-bits entry 'fc1' is not REGEX=BITS
// ENTRY-REGEX: layer-bits entry '(=4': invalid regex
// ITERATIONS: iterations must be positive, got 0
// INIT: for the --init option: Cannot find option named 'kmeans++'!

func.func @layers(%x: tensor<?x8xf32>, %img: tensor<1x2x4x4xf32>) -> (tensor<?x4xf32>, tensor<1x1x3x3xf32>) {
  %w1 = shears.constant dense<[[0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, -0.0]]> : tensor<1x8xf32> loc("fc1.weight")
  %h = shears.linear %x, %w1 : (tensor<?x8xf32>, tensor<1x8xf32>) -> tensor<?x1xf32> loc("fc1")
  %w2 = shears.constant dense<[[-4.0], [-3.0], [2.0], [4.0]]> : tensor<4x1xf32> loc("fc2.weight")
  %y = shears.linear %h, %w2 : (tensor<?x1xf32>, tensor<4x1xf32>) -> tensor<?x4xf32> loc("fc2")
  %wc = shears.constant dense<[[[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6], [0.7, 0.8]]]]> : tensor<1x2x2x2xf32> loc("conv.weight")
  %c = shears.conv2d %img, %wc {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x3x3xf32> loc("conv")
  return %y, %c : tensor<?x4xf32>, tensor<1x1x3x3xf32>
}
