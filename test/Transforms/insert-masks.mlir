// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5" | FileCheck %s --check-prefix=UNSTRUCTURED
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 granularity=channel" | FileCheck %s --check-prefix=CHANNEL
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 granularity=channel criterion=l2" | FileCheck %s --check-prefix=CHANNEL
// Rounding what is kept up to a multiple: 3 of fc1's 4 rows would go at
// 75%, 2 with round-to=2 (the same two as at 50%); round-to=4 keeps all.
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.75 granularity=channel round-to=2" | FileCheck %s --check-prefix=CHANNEL
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 granularity=channel round-to=4" | FileCheck %s --check-prefix=ZERO
// RUN: shears-opt %s --shears-insert-masks="granularity=n:m n=1 m=2" | FileCheck %s --check-prefix=NM
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 exclude=fc2" | FileCheck %s --check-prefix=EXCLUDE
// RUN: shears-opt %s --shears-insert-masks="sparsity=0" | FileCheck %s --check-prefix=ZERO
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 criterion=random seed=7" > %t.a
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 criterion=random seed=7" > %t.b
// RUN: diff %t.a %t.b

// fc1's weight [[1, -2], [0.5, 0.1], [3, 0], [-0.2, 4]].
func.func @main(%x: tensor<?x2xf32>) -> tensor<?x3xf32> {
  %w1 = shears.constant dense<[[1.0, -2.0], [0.5, 0.1], [3.0, 0.0], [-0.2, 4.0]]> : tensor<4x2xf32> loc("fc1.weight")
  %h = shears.linear %x, %w1 : (tensor<?x2xf32>, tensor<4x2xf32>) -> tensor<?x4xf32> loc("fc1")
  %w2 = shears.constant dense<1.0> : tensor<3x4xf32> loc("fc2.weight")
  %y = shears.linear %h, %w2 : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32> loc("fc2")
  return %y : tensor<?x3xf32>
}

// The 4 smallest magnitudes of fc1 (0, 0.1, 0.2, 0.5) go; fc2's weights are
// all equal, the first half goes (ties by position).
// UNSTRUCTURED: %[[M1:.+]] = shears.constant dense_resource<fc1.mask> : tensor<4x2xi1>
// UNSTRUCTURED: %[[W1:.+]] = shears.mask %{{.+}}, %[[M1]] : tensor<4x2xf32>, tensor<4x2xi1>
// UNSTRUCTURED: shears.linear %arg0, %[[W1]]
// UNSTRUCTURED: shears.constant dense_resource<fc2.mask> : tensor<3x4xi1>
// UNSTRUCTURED: fc1.mask: "0x010000000101000001000001"
// UNSTRUCTURED: fc2.mask: "0x01000000000000000000010101010101"

// Rows by L1 (3, 0.6, 3, 4.2) or L2 (2.24, 0.51, 3, 4.0): rows 1 and 0 go.
// CHANNEL: shears.constant dense_resource<fc1.mask> : tensor<4x1xi1>
// CHANNEL: fc1.mask: "0x0100000000000101"

// 1:2 keeps the larger of each pair along the input dim.
// NM: fc1.mask: "0x010000000001010001000001"

// EXCLUDE: fc1.mask
// EXCLUDE-NOT: fc2.mask

// ZERO-NOT: shears.mask
