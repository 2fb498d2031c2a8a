// Channels and input features that nothing reads go, whatever computes them.
// RUN: shears-opt %s --split-input-file --shears-eliminate-dead-neurons | FileCheck %s
// RUN: shears-opt %s --split-input-file --shears-eliminate-dead-neurons=shrink-inputs | FileCheck %s --check-prefix=SHRINK

// fc1 reads input features 0 and 2 only: its weight loses columns 1 and 3
// and it reads the kept features through a gather; the model's input stays.
// CHECK-LABEL: func.func @inputs(%arg0: tensor<?x4xf32>)
// CHECK: %[[IDX:.+]] = shears.constant dense<[0, 2]> : tensor<2xi64>
// CHECK: %[[X:.+]] = shears.gather %arg0, %[[IDX]] {axis = 1 : i64} : (tensor<?x4xf32>, tensor<2xi64>) -> tensor<?x2xf32>
// CHECK: %[[W:.+]] = shears.constant dense_resource<fc1.weight> : tensor<3x2xf32>
// CHECK: shears.linear %[[X]], %[[W]], %{{.+}} : (tensor<?x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<?x3xf32>
// CHECK: fc1.weight: "0x04000000{{0000803F00004040000000400000804000004040000080BF}}"
// With shrink-inputs the argument itself loses them.
// SHRINK-LABEL: func.func @inputs(%arg0: tensor<?x2xf32> {shears.kept_features = array<i64: 0, 2>})
// SHRINK-NOT: shears.gather
// SHRINK: shears.linear %arg0, %{{.+}}, %{{.+}} : (tensor<?x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<?x3xf32>
func.func @inputs(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w = shears.constant dense<[[1.0, 0.0, 3.0, 0.0], [2.0, 0.0, 4.0, 0.0], [3.0, 0.0, -1.0, 0.0]]> : tensor<3x4xf32> loc("fc1.weight")
  %b = shears.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %y = shears.linear %x, %w, %b : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<?x3xf32> loc("fc1")
  return %y : tensor<?x3xf32>
}

// -----

// fc2 never reads fc1's neuron 1 (an input-channel mask zeroed its column):
// fc1 loses the row and its bias entry although both are non-zero.
// CHECK-LABEL: func.func @unread
// CHECK: shears.linear %arg0, %{{.+}}, %{{.+}} : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
// CHECK: shears.relu %{{.+}} : tensor<?x2xf32>
// CHECK: shears.linear %{{.+}}, %{{.+}} : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32>
func.func @unread(%x: tensor<?x2xf32>) -> tensor<?x1xf32> {
  %w1 = shears.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %b1 = shears.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %h = shears.linear %x, %w1, %b1 : (tensor<?x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<?x3xf32> loc("fc1")
  %r = shears.relu %h : tensor<?x3xf32>
  %w2 = shears.constant dense<[[1.0, 0.0, 2.0]]> : tensor<1x3xf32>
  %y = shears.linear %r, %w2 : (tensor<?x3xf32>, tensor<1x3xf32>) -> tensor<?x1xf32> loc("fc2")
  return %y : tensor<?x1xf32>
}

// -----

// An input also read by something that is not a layer keeps every feature.
// CHECK-LABEL: func.func @shared
// CHECK-NOT: shears.gather
// CHECK: shears.linear %arg0, %{{.+}} : (tensor<?x2xf32>, tensor<1x2xf32>)
// SHRINK-LABEL: func.func @shared(%arg0: tensor<?x2xf32>)
func.func @shared(%x: tensor<?x2xf32>) -> (tensor<?x1xf32>, tensor<?x2xf32>) {
  %w = shears.constant dense<[[1.0, 0.0]]> : tensor<1x2xf32>
  %y = shears.linear %x, %w : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32> loc("fc")
  %z = shears.relu %x : tensor<?x2xf32>
  return %y, %z : tensor<?x1xf32>, tensor<?x2xf32>
}
