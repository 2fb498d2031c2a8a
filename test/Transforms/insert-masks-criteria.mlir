// The criteria that read side inputs: taylor (gradients per initializer) and
// activation (input-channel norms per layer), and per-layer overrides.
// RUN: %python -c "import numpy as np; np.savez('%t.grad.npz', **{'fc1.weight': np.array([[1, .01], [10, 10], [.01, 1], [1, .1]], np.float32), 'fc2.weight': np.ones((3, 4))})"
// RUN: %python -c "import numpy as np; np.savez('%t.norms.npz', fc1=np.array([10, .1], np.float32), fc2=np.ones(4, np.float32))"
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 criterion=taylor gradients=%t.grad.npz" | FileCheck %s --check-prefix=TAYLOR
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 granularity=channel criterion=taylor gradients=%t.grad.npz" | FileCheck %s --check-prefix=TAYLOR-CHANNEL
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 criterion=activation activations=%t.norms.npz" | FileCheck %s --check-prefix=ACTIVATION
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 layer-sparsity=fc2=0" | FileCheck %s --check-prefix=OVERRIDE-DENSE
// RUN: shears-opt %s --shears-insert-masks="sparsity=0 layer-sparsity=^fc1$=0.25" | FileCheck %s --check-prefix=OVERRIDE-ONLY
// RUN: shears-opt %s --shears-insert-masks="sparsity=0.5 scope=global layer-sparsity=fc1=0.25" | FileCheck %s --check-prefix=OVERRIDE-GLOBAL

// Errors.
// RUN: %python -c "import numpy as np; np.savez('%t.short.npz', **{'fc1.weight': np.ones((4, 2), np.float32)})"
// RUN: %python -c "import numpy as np; np.savez('%t.shape.npz', **{'fc1.weight': np.ones((2, 4), np.float32), 'fc2.weight': np.ones((3, 4))})"
// RUN: %python -c "import numpy as np; np.savez_compressed('%t.zip.npz', fc1=np.ones(2, np.float32), fc2=np.ones(4, np.float32))"
// RUN: %python -c "import numpy as np; np.savez('%t.int.npz', fc1=np.ones(2, np.int64), fc2=np.ones(4, np.float32))"
// RUN: %python -c "open('%t.bad.npz', 'wb').write(b'not a zip archive at all, just some bytes')"
// RUN: not shears-opt %s --shears-insert-masks="criterion=taylor" 2>&1 | FileCheck %s --check-prefix=NO-GRADIENTS
// RUN: not shears-opt %s --shears-insert-masks="criterion=activation" 2>&1 | FileCheck %s --check-prefix=NO-NORMS
// RUN: not shears-opt %s --shears-insert-masks="criterion=taylor gradients=%t.short.npz" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not shears-opt %s --shears-insert-masks="criterion=taylor gradients=%t.shape.npz" 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not shears-opt %s --shears-insert-masks="criterion=activation activations=%t.grad.npz" 2>&1 | FileCheck %s --check-prefix=MISSING-NORMS
// RUN: not shears-opt %s --shears-insert-masks="criterion=activation activations=%t.zip.npz" 2>&1 | FileCheck %s --check-prefix=COMPRESSED
// RUN: not shears-opt %s --shears-insert-masks="criterion=activation activations=%t.int.npz" 2>&1 | FileCheck %s --check-prefix=INT
// RUN: not shears-opt %s --shears-insert-masks="criterion=activation activations=%t.bad.npz" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not shears-opt %s --shears-insert-masks="criterion=taylor gradients=%t.none.npz" 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: not shears-opt %s --shears-insert-masks="layer-sparsity=fc1" 2>&1 | FileCheck %s --check-prefix=OVERRIDE-SYNTAX
// RUN: not shears-opt %s --shears-insert-masks="layer-sparsity=fc1=1.5" 2>&1 | FileCheck %s --check-prefix=OVERRIDE-RANGE
// RUN: not shears-opt %s --shears-insert-masks="layer-sparsity=conv=0.5" 2>&1 | FileCheck %s --check-prefix=OVERRIDE-MATCH

// fc1's weight [[1, -2], [0.5, 0.1], [3, 0], [-0.2, 4]].
func.func @main(%x: tensor<?x2xf32>) -> tensor<?x3xf32> {
  %w1 = shears.constant dense<[[1.0, -2.0], [0.5, 0.1], [3.0, 0.0], [-0.2, 4.0]]> : tensor<4x2xf32> loc("fc1.weight")
  %h = shears.linear %x, %w1 : (tensor<?x2xf32>, tensor<4x2xf32>) -> tensor<?x4xf32> loc("fc1")
  %w2 = shears.constant dense<1.0> : tensor<3x4xf32> loc("fc2.weight")
  %y = shears.linear %h, %w2 : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32> loc("fc2")
  return %y : tensor<?x3xf32>
}

// |w * g| = [[1, .02], [5, 1], [.03, 0], [.2, .4]]: 0, .02, .03 and .2 go,
// where magnitude alone would drop 0, .1, .2 and .5.
// TAYLOR: fc1.mask: "0x010000000100010100000001"
// Rows sum to 1.02, 6, .03, .6: rows 2 and 3 go.
// TAYLOR-CHANNEL: fc1.mask: "0x0100000001010000"

// |w| * norm = [[10, .2], [5, .01], [30, 0], [2, .4]]: the second input
// barely moves the output, so its weights go first, the large -2 and 4 too.
// ACTIVATION: fc1.mask: "0x010000000100010001000100"

// OVERRIDE-DENSE: fc1.mask
// OVERRIDE-DENSE-NOT: fc2.mask
// Only fc1, at 2 of its 8 weights (0 and 0.1).
// OVERRIDE-ONLY-NOT: fc2.mask
// OVERRIDE-ONLY: fc1.mask: "0x010000000101010001000101"
// OVERRIDE-ONLY-NOT: fc2.mask
// fc1 keeps its 25 %; fc2 alone meets the global threshold, at 50 %.
// OVERRIDE-GLOBAL: fc1.mask: "0x010000000101010001000101"
// OVERRIDE-GLOBAL: fc2.mask: "0x01000000000000000000010101010101"

// NO-GRADIENTS: error: shears-insert-masks: criterion=taylor needs gradients=FILE.npz
// NO-NORMS: error: shears-insert-masks: criterion=activation needs activations=FILE.npz
// MISSING: error: loc("fc2"): shears-insert-masks: '{{.*}}short.npz' has no gradient for weight 'fc2.weight'
// SHAPE: error: loc("fc1"): shears-insert-masks: gradient 'fc1.weight' has shape [2x4], its weight [4x2]
// MISSING-NORMS: error: loc("fc1"): shears-insert-masks: '{{.*}}grad.npz' has no input norms for layer 'fc1'
// COMPRESSED: error: shears-insert-masks: '{{.*}}zip.npz': entry 'fc1.npy' is compressed; write the archive with numpy.savez, not numpy.savez_compressed
// INT: error: shears-insert-masks: '{{.*}}int.npz:fc1.npy' holds i64 elements; expected f32 or f64
// BAD: error: shears-insert-masks: '{{.*}}bad.npz' is not a valid .npz archive: no zip end-of-central-directory record
// NONE: error: shears-insert-masks: cannot open '{{.*}}none.npz': No such file or directory
// OVERRIDE-SYNTAX: error: shears-insert-masks: layer-sparsity entry 'fc1' is not REGEX=SPARSITY
// OVERRIDE-RANGE: error: shears-insert-masks: layer-sparsity entry 'fc1=1.5': sparsity must be in [0, 1)
// OVERRIDE-MATCH: error: shears-insert-masks: layer-sparsity regex 'conv' matches no layer
