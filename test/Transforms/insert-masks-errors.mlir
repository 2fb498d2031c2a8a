// RUN: not shears-opt %s --shears-insert-masks="sparsity=1.0" 2>&1 | FileCheck %s --check-prefix=SPARSITY
// RUN: not shears-opt %s --shears-insert-masks="granularity=n:m n=4 m=2" 2>&1 | FileCheck %s --check-prefix=NM
// RUN: not shears-opt %s --shears-insert-masks="exclude=nothing-like-this" 2>&1 | FileCheck %s --check-prefix=REGEX
// RUN: not shears-opt %s --shears-insert-masks="criterion=wanda" 2>&1 | FileCheck %s --check-prefix=CRITERION
// RUN: not shears-opt %s --shears-insert-masks="granularity=filter" 2>&1 | FileCheck %s --check-prefix=GRANULARITY

// RUN: not shears-opt %s --shears-insert-masks="round-to=0" 2>&1 | FileCheck %s --check-prefix=ROUND
// ROUND: error: shears-insert-masks: round-to must be positive
// SPARSITY: error: shears-insert-masks: sparsity must be in [0, 1), got 1{{$}}
// NM: error: shears-insert-masks: n:m needs 1 <= n <= m, got 4:2
// REGEX: error: shears-insert-masks: exclude regex 'nothing-like-this' matches no layer
// CRITERION: for the --criterion option: Cannot find option named 'wanda'!
// GRANULARITY: for the --granularity option: Cannot find option named 'filter'!

func.func @main(%x: tensor<?x2xf32>) -> tensor<?x4xf32> {
  %w = shears.constant dense<1.0> : tensor<4x2xf32>
  %h = shears.linear %x, %w : (tensor<?x2xf32>, tensor<4x2xf32>) -> tensor<?x4xf32> loc("fc1")
  return %h : tensor<?x4xf32>
}
