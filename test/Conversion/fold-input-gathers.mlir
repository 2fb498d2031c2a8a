// RUN: shears-opt %s --shears-fold-input-gathers --split-input-file | FileCheck %s

// Features 3 and 1 of 4 gathered (indices in a blob, as the importer and
// shears-eliminate-dead-neurons make them): the layer reads all four
// through a weight with their columns in place, zeros elsewhere
// ([0, 2, 0, 1]).
// CHECK-LABEL: func.func @linear
// CHECK-NOT: shears.gather
// CHECK: %[[W:.+]] = shears.constant dense_resource<{{.+}}> : tensor<1x4xf32>
// CHECK: shears.linear %arg0, %[[W]] : (tensor<?x4xf32>, tensor<1x4xf32>) -> tensor<?x1xf32>
// CHECK: "0x040000000000000000000040000000000000803F"
func.func @linear(%x: tensor<?x4xf32>) -> tensor<?x1xf32> {
  %idx = shears.constant dense_resource<kept> : tensor<2xi64>
  %g = shears.gather %x, %idx {axis = 1 : i64} : (tensor<?x4xf32>, tensor<2xi64>) -> tensor<?x2xf32>
  %w = shears.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %y = shears.linear %g, %w : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32>
  return %y : tensor<?x1xf32>
}

{-#
  dialect_resources: {
    builtin: {
      kept: "0x0800000003000000000000000100000000000000"
    }
  }
#-}

// -----

// A feature gathered twice gets both columns (1 + 2); a negative index
// counts from the end. Two layers read the gather: both fold.
// CHECK-LABEL: func.func @twice
// CHECK-NOT: shears.gather
// CHECK: shears.linear %arg0, %{{.+}} : (tensor<?x3xf32>, tensor<1x3xf32>) -> tensor<?x1xf32>
// CHECK: shears.linear %arg0, %{{.+}} : (tensor<?x3xf32>, tensor<1x3xf32>) -> tensor<?x1xf32>
// CHECK-DAG: "0x04000000000000000000404000000000"
// CHECK-DAG: "0x0400000000000000000000000000C040"
func.func @twice(%x: tensor<?x3xf32>) -> (tensor<?x1xf32>, tensor<?x1xf32>) {
  %idx = shears.constant dense<[1, -2]> : tensor<2xi64>
  %g = shears.gather %x, %idx {axis = 1 : i64} : (tensor<?x3xf32>, tensor<2xi64>) -> tensor<?x2xf32>
  %w = shears.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %y = shears.linear %g, %w : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32>
  %idx2 = shears.constant dense<[2]> : tensor<1xi64>
  %g2 = shears.gather %x, %idx2 {axis = 1 : i64} : (tensor<?x3xf32>, tensor<1xi64>) -> tensor<?x1xf32>
  %w2 = shears.constant dense<[[6.0]]> : tensor<1x1xf32>
  %z = shears.linear %g2, %w2 : (tensor<?x1xf32>, tensor<1x1xf32>) -> tensor<?x1xf32>
  return %y, %z : tensor<?x1xf32>, tensor<?x1xf32>
}

// -----

// A convolution's input channels: channel 2 of 3, the filter's column in
// place ([0, 0, 2] for each of its 1x1 taps).
// CHECK-LABEL: func.func @conv
// CHECK-NOT: shears.gather
// CHECK: shears.conv2d %arg0, %{{.+}} : (tensor<1x3x4x4xf32>, tensor<1x3x1x1xf32>) -> tensor<1x1x4x4xf32>
// CHECK: "0x04000000000000000000000000000040"
func.func @conv(%x: tensor<1x3x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %idx = shears.constant dense<[2]> : tensor<1xi64>
  %g = shears.gather %x, %idx {axis = 1 : i64} : (tensor<1x3x4x4xf32>, tensor<1xi64>) -> tensor<1x1x4x4xf32>
  %w = shears.constant dense<[[[[2.0]]]]> : tensor<1x1x1x1xf32>
  %y = shears.conv2d %g, %w : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// Dense, one feature of 200 gathered for 2 outputs: 398 multiply-adds added
// for one feature copied is more than the copy costs, so the gather stays.
// Sparse (one weight of 10 non-zero), 39 zero columns for 10 outputs cost
// nothing: folded.
// CHECK-LABEL: func.func @cost
// CHECK: %[[G:.+]] = shears.gather %arg0
// CHECK: shears.linear %[[G]], %{{.+}} : (tensor<?x1xf32>, tensor<2x1xf32>) -> tensor<?x2xf32>
// CHECK: shears.linear %arg1, %{{.+}} : (tensor<?x40xf32>, tensor<10x40xf32>) -> tensor<?x10xf32>
func.func @cost(%x: tensor<?x200xf32>, %x2: tensor<?x40xf32>) -> (tensor<?x2xf32>, tensor<?x10xf32>) {
  %idx = shears.constant dense<[0]> : tensor<1xi64>
  %g = shears.gather %x, %idx {axis = 1 : i64} : (tensor<?x200xf32>, tensor<1xi64>) -> tensor<?x1xf32>
  %w = shears.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %y = shears.linear %g, %w : (tensor<?x1xf32>, tensor<2x1xf32>) -> tensor<?x2xf32>
  %idx2 = shears.constant dense<[5]> : tensor<1xi64>
  %g2 = shears.gather %x2, %idx2 {axis = 1 : i64} : (tensor<?x40xf32>, tensor<1xi64>) -> tensor<?x1xf32>
  %w2 = shears.constant dense<[[1.0], [0.0], [0.0], [0.0], [0.0], [0.0], [0.0], [0.0], [0.0], [0.0]]> : tensor<10x1xf32>
  %z = shears.linear %g2, %w2 : (tensor<?x1xf32>, tensor<10x1xf32>) -> tensor<?x10xf32>
  return %y, %z : tensor<?x2xf32>, tensor<?x10xf32>
}

// -----

// Not a gather of the layer's input channels (rows), not constant indices,
// not a constant weight: left alone.
// CHECK-LABEL: func.func @others
// CHECK-COUNT-3: shears.gather
func.func @others(%x: tensor<4x3xf32>, %i: tensor<2xi64>, %wv: tensor<1x2xf32>) -> (tensor<2x1xf32>, tensor<4x1xf32>, tensor<4x1xf32>) {
  %rows = shears.constant dense<[0, 1]> : tensor<2xi64>
  %g = shears.gather %x, %rows {axis = 0 : i64} : (tensor<4x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  %w = shears.constant dense<[[1.0, 2.0, 3.0]]> : tensor<1x3xf32>
  %y = shears.linear %g, %w : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<2x1xf32>
  %g2 = shears.gather %x, %i {axis = 1 : i64} : (tensor<4x3xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  %w2 = shears.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %z = shears.linear %g2, %w2 : (tensor<4x2xf32>, tensor<1x2xf32>) -> tensor<4x1xf32>
  %cols = shears.constant dense<[0, 2]> : tensor<2xi64>
  %g3 = shears.gather %x, %cols {axis = 1 : i64} : (tensor<4x3xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  %v = shears.linear %g3, %wv : (tensor<4x2xf32>, tensor<1x2xf32>) -> tensor<4x1xf32>
  return %y, %z, %v : tensor<2x1xf32>, tensor<4x1xf32>, tensor<4x1xf32>
}
