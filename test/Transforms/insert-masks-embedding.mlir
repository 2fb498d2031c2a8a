// Embedding tables ([vocab, dim], their columns the output channels) are
// scored like filters: by column for granularity=channel (a [1, dim] mask),
// by weight otherwise (the mask in the table's own layout).
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 granularity=channel" | FileCheck %s --check-prefix=CHANNEL
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5" | FileCheck %s --check-prefix=WEIGHTS
// Criteria that need measured inputs leave tables alone.
// RUN: %python -c "import numpy as np; np.savez('%t.npz', fc=np.ones(2, np.float32))"
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 criterion=activation activations=%t.npz" | FileCheck %s --check-prefix=ACTIVATION

// Column 0 (|0.1| + |0.2| + |0.3|) goes, column 1 (6) stays.
// CHANNEL: %[[M:.*]] = shears.constant dense_resource<emb.mask> : tensor<1x2xi1>
// CHANNEL: shears.mask %{{.*}}, %[[M]] : tensor<3x2xf32>, tensor<1x2xi1>
// CHANNEL: emb.mask: "0x010000000001"
// The three smallest of 0.1, 1, 0.2, 2, 0.3, 3 go: the first column.
// WEIGHTS: shears.mask %{{.*}}, %{{.*}} : tensor<3x2xf32>, tensor<3x2xi1>
// WEIGHTS: emb.mask: "0x01000000000100010001"
// ACTIVATION-NOT: emb.mask

func.func @main(%ids: tensor<?xi64>) -> tensor<?x1xf32> {
  %table = shears.constant dense<[[0.1, 1.0], [0.2, 2.0], [0.3, 3.0]]> : tensor<3x2xf32> loc("emb.weight")
  %e = shears.gather %table, %ids : (tensor<3x2xf32>, tensor<?xi64>) -> tensor<?x2xf32> loc("emb")
  %w = shears.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32> loc("fc.weight")
  %y = shears.linear %e, %w : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32> loc("fc")
  return %y : tensor<?x1xf32>
}
