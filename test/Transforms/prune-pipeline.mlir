// The shears-prune pipeline: canonicalize, insert-masks, fold-masks,
// eliminate-dead-neurons, canonicalize. Its options are insert-masks' own
// (parsed and checked by that pass) and eliminate-dead-neurons'
// shrink-inputs; lists in braces and quoted values pass through whole.
// RUN: shears-opt %s --pass-pipeline='builtin.module(shears-prune{sparsity=0.5 granularity=channel layer-sparsity={^fc2$=0,"^fc1$=0.5"}})' | FileCheck %s --check-prefix=CHANNEL
// RUN: shears-opt %s --pass-pipeline='builtin.module(shears-prune{granularity=channel sparsity=0.5 shrink-inputs=true exclude=^fc2$})' | FileCheck %s --check-prefix=SHRINK
// RUN: not shears-opt %s --pass-pipeline='builtin.module(shears-prune{bogus=1})' 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not shears-opt %s --pass-pipeline='builtin.module(shears-prune{sparsity=1.5})' 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not shears-opt %s --pass-pipeline='builtin.module(shears-prune{shrink-inputs=maybe})' 2>&1 | FileCheck %s --check-prefix=SHRINK-VALUE

// fc1's two weakest rows go with fc2's columns that read them, and input 3,
// which no row that stays reads, is gathered away; with shrink-inputs the
// model takes three features.
// CHANNEL: func.func @main(%arg0: tensor<?x4xf32>)
// CHANNEL: tensor<2x3xf32>) -> tensor<?x2xf32>
// CHANNEL: tensor<3x2xf32>) -> tensor<?x3xf32>
// SHRINK: func.func @main(%arg0: tensor<?x3xf32>
// UNKNOWN: no such option bogus
// RANGE: error: shears-insert-masks: sparsity must be in [0, 1), got 1.5
// SHRINK-VALUE: 'maybe' is invalid value for boolean argument

func.func @main(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w1 = shears.constant dense<[[1.0, 1.0, 1.0, 0.0], [0.1, 0.1, 0.1, 0.1], [2.0, 2.0, 2.0, 0.0], [0.2, 0.2, 0.2, 0.2]]> : tensor<4x4xf32> loc("fc1.weight")
  %h = shears.linear %x, %w1 : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32> loc("fc1")
  %r = shears.relu %h : tensor<?x4xf32>
  %w2 = shears.constant dense<1.0> : tensor<3x4xf32> loc("fc2.weight")
  %y = shears.linear %r, %w2 : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32> loc("fc2")
  return %y : tensor<?x3xf32>
}
