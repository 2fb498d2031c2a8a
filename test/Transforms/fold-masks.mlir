// RUN: shears-opt %s --shears-fold-masks | FileCheck %s

// A [4x1] mask drops rows 0 and 1 of the weight; the old constants go.
// CHECK-LABEL: func @main
// CHECK-NOT: shears.mask
// CHECK: %[[W:.+]] = shears.constant dense_resource<fc1.weight> : tensor<4x2xf32>
// CHECK: shears.linear %arg0, %[[W]]
// CHECK: fc1.weight: "0x04000000000000000000000000000000000000000000404000000000CDCC4CBE00008040"
func.func @main(%x: tensor<?x2xf32>) -> tensor<?x4xf32> {
  %w = shears.constant dense<[[1.0, -2.0], [0.5, 0.1], [3.0, 0.0], [-0.2, 4.0]]> : tensor<4x2xf32> loc("fc1.weight")
  %m = shears.constant dense<[[false], [false], [true], [true]]> : tensor<4x1xi1>
  %wm = shears.mask %w, %m : tensor<4x2xf32>, tensor<4x1xi1>
  %h = shears.linear %x, %wm : (tensor<?x2xf32>, tensor<4x2xf32>) -> tensor<?x4xf32> loc("fc1")
  return %h : tensor<?x4xf32>
}
