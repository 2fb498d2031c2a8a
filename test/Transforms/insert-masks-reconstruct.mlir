// granularity=channel with reconstruct: the layers that read pruned channels
// are refit by least squares on their calibration inputs (the Gram matrix
// E[x x^T] and the mean E[x] from `shears calibrate --gram`), with an
// intercept that goes into their bias.
// fc1's third channel (the smallest filter) goes. fc2 reads fc1's channels
// 0 and 1, always equal (E[a^2] = 1, E[a] = 0), and channel 2, always 1:
// y = a + a + 2 * 1. Refit without channel 2, the two equal inputs keep 2a
// between them and the constant 2 becomes fc2's bias (it had none).
// RUN: %python -c "import numpy as np; np.savez('%t.npz', **{'fc1.gram': np.eye(2, dtype=np.float32), 'fc1.mean': np.zeros(2, np.float32), 'fc2.gram': np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], np.float32), 'fc2.mean': np.array([0, 0, 1], np.float32)})"
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.34 granularity=channel reconstruct=true hessians=%t.npz" | FileCheck %s
// RUN: shears-opt %s --pass-pipeline='builtin.module(shears-prune{sparsity=0.34 granularity=channel reconstruct=true hessians=%t.npz})' | FileCheck %s --check-prefix=PRUNED
// Without the means the fit has no intercept, and the bias stays.
// RUN: %python -c "import numpy as np; np.savez('%t.nomean.npz', **{'fc1.gram': np.eye(2, dtype=np.float32), 'fc2.gram': np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], np.float32)})"
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.34 granularity=channel reconstruct=true hessians=%t.nomean.npz" | FileCheck %s --check-prefix=NOMEAN

// Errors.
// RUN: not shears-opt %s --shears-insert-masks="granularity=channel reconstruct=true" 2>&1 | FileCheck %s --check-prefix=NO-HESSIANS
// RUN: not shears-opt %s --shears-insert-masks="reconstruct=true hessians=%t.npz" 2>&1 | FileCheck %s --check-prefix=UNSTRUCTURED
// RUN: %python -c "import numpy as np; np.savez('%t.fc1.npz', **{'fc1.gram': np.eye(2, dtype=np.float32)})"
// RUN: not shears-opt %s --shears-insert-masks="sparsity=0.34 granularity=channel reconstruct=true hessians=%t.fc1.npz" 2>&1 | FileCheck %s --check-prefix=MISSING

// CHECK-LABEL: func @main
// CHECK: shears.mask
// CHECK: %[[B2:.*]] = shears.constant dense_resource<fc2.bias.refit> : tensor<1xf32>
// CHECK: %[[W2:.*]] = shears.constant dense_resource<fc2.weight.refit> : tensor<1x3xf32>
// CHECK: shears.linear %{{.*}}, %[[W2]], %[[B2]]
// 0.99502 = 2 / 2.01 for each equal input (damp 0.01 of the mean diagonal
// 1), 0 for the channel that went; the bias 2.
// CHECK: fc2.bias.refit: "0x0400000000000040"
// CHECK: fc2.weight.refit: "0x04000000F3B97E3FF3B97E3F00000000"
// PRUNED: shears.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x2xf32>, tensor<1x2xf32>, tensor<1xf32>) -> tensor<?x1xf32>
// NOMEAN: shears.linear %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<1x3xf32>) -> tensor<?x1xf32>
// NOMEAN-NOT: fc2.bias.refit

// NO-HESSIANS: reconstruct needs hessians=FILE.npz
// UNSTRUCTURED: reconstruct refits the layers after granularity=channel only
// MISSING: has no Gram matrix for layer 'fc2', which reads pruned channels (expected 'fc2.gram', as shears calibrate --gram writes)

func.func @main(%x: tensor<?x2xf32>) -> tensor<?x1xf32> {
  %w1 = shears.constant dense<[[1.0, 0.0], [0.9, 0.0], [0.5, 0.0]]> : tensor<3x2xf32> loc("fc1.weight")
  %h = shears.linear %x, %w1 : (tensor<?x2xf32>, tensor<3x2xf32>) -> tensor<?x3xf32> loc("fc1")
  %w2 = shears.constant dense<[[1.0, 1.0, 2.0]]> : tensor<1x3xf32> loc("fc2.weight")
  %y = shears.linear %h, %w2 : (tensor<?x3xf32>, tensor<1x3xf32>) -> tensor<?x1xf32> loc("fc2")
  return %y : tensor<?x1xf32>
}
