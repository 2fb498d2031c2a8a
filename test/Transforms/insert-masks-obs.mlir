// criterion=obs (SparseGPT): each layer's weights pruned column by column,
// the weights kept updated through the inverse Hessian of the layer's
// inputs (Gram matrices from `shears calibrate --gram`).
// fc's two inputs are always equal (H = [[1, 1], [1, 1]]): the first
// column goes (its score w^2 / U_00^2 is the lower, U the Cholesky factor
// of H^-1, as in SparseGPT) and the second takes its part: 0.5 -> 1.4901,
// the least-squares fit (1 + 0.5 * 1.01) / 1.01 with damp 0.01.
// RUN: %python -c "import numpy as np; np.savez('%t.npz', **{'fc.gram': np.ones((2, 2), np.float32), 'conv.gram': np.eye(8, dtype=np.float32)})"
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 criterion=obs hessians=%t.npz" | FileCheck %s
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 criterion=obs hessians=%t.npz" --shears-fold-masks | FileCheck %s --check-prefix=FOLDED
// RUN: shears-opt %s --shears-insert-masks="granularity=n:m n=1 m=2 criterion=obs hessians=%t.npz" | FileCheck %s --check-prefix=NM

// Errors.
// RUN: %python -c "import numpy as np; np.savez('%t.shape.npz', **{'fc.gram': np.ones((3, 3), np.float32), 'conv.gram': np.eye(8, dtype=np.float32)})"
// RUN: %python -c "import numpy as np; np.savez('%t.nan.npz', **{'fc.gram': np.full((2, 2), np.nan, np.float32), 'conv.gram': np.eye(8, dtype=np.float32)})"
// RUN: %python -c "import numpy as np; np.savez('%t.fc.npz', **{'fc.gram': np.ones((2, 2), np.float32)})"
// RUN: not shears-opt %s --shears-insert-masks="criterion=obs" 2>&1 | FileCheck %s --check-prefix=NO-HESSIANS
// RUN: not shears-opt %s --shears-insert-masks="criterion=obs hessians=%t.npz granularity=channel" 2>&1 | FileCheck %s --check-prefix=CHANNEL
// RUN: not shears-opt %s --shears-insert-masks="criterion=obs hessians=%t.npz scope=global" 2>&1 | FileCheck %s --check-prefix=GLOBAL
// RUN: not shears-opt %s --shears-insert-masks="criterion=obs hessians=%t.npz damp=0" 2>&1 | FileCheck %s --check-prefix=DAMP
// RUN: not shears-opt %s --shears-insert-masks="criterion=obs hessians=%t.shape.npz" 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not shears-opt %s --shears-insert-masks="criterion=obs hessians=%t.nan.npz" 2>&1 | FileCheck %s --check-prefix=NAN
// RUN: not shears-opt %s --shears-insert-masks="criterion=obs hessians=%t.fc.npz" 2>&1 | FileCheck %s --check-prefix=MISSING

// CHECK-LABEL: func @layers
// CHECK: %[[W:.*]] = shears.constant dense_resource<fc.weight.obs> : tensor<1x2xf32>
// CHECK: %[[M:.*]] = shears.constant dense_resource<fc.mask> : tensor<1x2xi1>
// CHECK: %[[MW:.*]] = shears.mask %[[W]], %[[M]]
// CHECK: shears.linear %arg0, %[[MW]]
// CHECK: dense_resource<conv.weight.obs> : tensor<1x2x2x2xf32>
// CHECK: fc.weight.obs: "0x040000000000000090BBBE3F"
// CHECK: fc.mask: "0x010000000001"
// With H = I nothing moves: the convolution's four largest weights stay.
// CHECK: conv.weight.obs: "0x04000000000000000000000000000000000000000000004000004040000080400000A040"
// CHECK: conv.mask: "0x010000000000000001010101"
// FOLDED-NOT: shears.mask
// FOLDED: "0x040000000000000090BBBE3F"
// N:M (1 of every 2 input channels at each kernel position).
// NM: fc.mask: "0x010000000001"
// NM: conv.mask: "0x010000000000000001010101"

// NO-HESSIANS: criterion=obs needs hessians=FILE.npz
// CHANNEL: criterion=obs prunes granularity=unstructured or n:m only
// GLOBAL: criterion=obs prunes each layer at its sparsity (scope=layer)
// DAMP: damp must be positive, got 0
// SHAPE: Gram matrix 'fc.gram' has shape [3x3], expected [2x2]
// NAN: error: shears-insert-masks: '{{.*}}nan.npz:fc.gram.npy' holds 4 NaN or infinite values
// MISSING: has no Gram matrix for layer 'conv' (expected 'conv.gram', as shears calibrate --gram writes)

func.func @layers(%x: tensor<?x2xf32>, %img: tensor<1x2x3x3xf32>) -> (tensor<?x1xf32>, tensor<1x1x2x2xf32>) {
  %w = shears.constant dense<[[1.0, 0.5]]> : tensor<1x2xf32> loc("fc.weight")
  %y = shears.linear %x, %w : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32> loc("fc")
  %wc = shears.constant dense<[[[[0.0, 0.0], [0.0, 1.0]], [[2.0, 3.0], [4.0, 5.0]]]]> : tensor<1x2x2x2xf32> loc("conv.weight")
  %c = shears.conv2d %img, %wc : (tensor<1x2x3x3xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> loc("conv")
  return %y, %c : tensor<?x1xf32>, tensor<1x1x2x2xf32>
}
