// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 granularity=channel" | FileCheck %s
// RUN: %python -c "import numpy as np; np.savez('%t.norms.npz', q=np.ones(4, np.float32), k=np.ones(4, np.float32), v=np.ones(4, np.float32), o=np.array([1, 1, 20, 20], np.float32))"
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 granularity=channel criterion=activation activations=%t.norms.npz" | FileCheck %s --check-prefix=ACTIVATION

// Channels that reshapes turn into heads are pruned as heads: the Q, K and V
// projections lose the same head, all of its rows, scored by the mean of its
// rows' L1 norms over the three layers (relative to each layer's mean). Head
// 0 has the larger rows in Q and V; head 1 in K, by less.
// CHECK-DAG: %[[QM:.*]] = shears.constant dense_resource<q.mask> : tensor<4x1xi1>
// CHECK-DAG: %[[KM:.*]] = shears.constant dense_resource<k.mask> : tensor<4x1xi1>
// CHECK-DAG: %[[VM:.*]] = shears.constant dense_resource<v.mask> : tensor<4x1xi1>
// CHECK-NOT: o.mask
// CHECK: q.mask: "0x0100000001010000"
// CHECK: k.mask: "0x0100000001010000"
// CHECK: v.mask: "0x0100000001010000"
// With input norms (criterion=activation), a head also counts by what it
// carries into the output projection: sum |w| * norm over its columns there,
// relative to the layer's mean column. Head 1's outputs are 20 times larger:
// it stays, and head 0 goes (by its Q, K, V rows alone head 1 would go).
// ACTIVATION: q.mask: "0x0100000000000101"
// ACTIVATION: k.mask: "0x0100000000000101"
// ACTIVATION: v.mask: "0x0100000000000101"
func.func @heads(%x: tensor<?x3x4xf32>) -> tensor<?x3x4xf32> {
  %wq = shears.constant dense<[[4.0, 0.0, 0.0, 0.0], [4.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %wk = shears.constant dense<[[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %wv = shears.constant dense<[[3.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %wo = shears.constant dense<1.0> : tensor<4x4xf32>
  %q = shears.linear %x, %wq : (tensor<?x3x4xf32>, tensor<4x4xf32>) -> tensor<?x3x4xf32> loc("q")
  %k = shears.linear %x, %wk : (tensor<?x3x4xf32>, tensor<4x4xf32>) -> tensor<?x3x4xf32> loc("k")
  %v = shears.linear %x, %wv : (tensor<?x3x4xf32>, tensor<4x4xf32>) -> tensor<?x3x4xf32> loc("v")
  %qh = shears.reshape %q : (tensor<?x3x4xf32>) -> tensor<?x3x2x2xf32>
  %qt = shears.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x3x2x2xf32>) -> tensor<?x2x3x2xf32>
  %kh = shears.reshape %k : (tensor<?x3x4xf32>) -> tensor<?x3x2x2xf32>
  %kt = shears.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x3x2x2xf32>) -> tensor<?x2x2x3xf32>
  %vh = shears.reshape %v : (tensor<?x3x4xf32>) -> tensor<?x3x2x2xf32>
  %vt = shears.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x3x2x2xf32>) -> tensor<?x2x3x2xf32>
  %s = shears.matmul %qt, %kt : (tensor<?x2x3x2xf32>, tensor<?x2x2x3xf32>) -> tensor<?x2x3x3xf32>
  %p = shears.softmax %s {axis = 3 : i64} : tensor<?x2x3x3xf32>
  %o = shears.matmul %p, %vt : (tensor<?x2x3x3xf32>, tensor<?x2x3x2xf32>) -> tensor<?x2x3x2xf32>
  %ot = shears.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x2x3x2xf32>) -> tensor<?x3x2x2xf32>
  %of = shears.reshape %ot : (tensor<?x3x2x2xf32>) -> tensor<?x3x4xf32>
  %y = shears.linear %of, %wo : (tensor<?x3x4xf32>, tensor<4x4xf32>) -> tensor<?x3x4xf32> loc("o")
  return %y : tensor<?x3x4xf32>
}
