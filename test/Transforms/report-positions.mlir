// RUN: shears-opt %s --shears-report -o /dev/null | FileCheck %s

// MACs per sample count every position of the batch's sample: a
// sequence-first [L, N, C] linear layer (as torch's MultiheadAttention
// exports its projections) runs at L = 5 positions, a batch-first one too;
// with a static batch, dim 0 is the batch.
// CHECK: seq_first    shears.linear  6x4             24          24      0.0%           120
// CHECK: batch_first  shears.linear  6x4             24          24      0.0%           120
// CHECK: static       shears.linear  6x4             24          24      0.0%           120
func.func @main(%x: tensor<5x?x4xf32>, %y: tensor<?x5x4xf32>, %z: tensor<2x5x4xf32>) -> (tensor<5x?x6xf32>, tensor<?x5x6xf32>, tensor<2x5x6xf32>) {
  %w = shears.constant dense<1.0> : tensor<6x4xf32>
  %a = shears.linear %x, %w : (tensor<5x?x4xf32>, tensor<6x4xf32>) -> tensor<5x?x6xf32> loc("seq_first")
  %b = shears.linear %y, %w : (tensor<?x5x4xf32>, tensor<6x4xf32>) -> tensor<?x5x6xf32> loc("batch_first")
  %c = shears.linear %z, %w : (tensor<2x5x4xf32>, tensor<6x4xf32>) -> tensor<2x5x6xf32> loc("static")
  return %a, %b, %c : tensor<5x?x6xf32>, tensor<?x5x6xf32>, tensor<2x5x6xf32>
}
