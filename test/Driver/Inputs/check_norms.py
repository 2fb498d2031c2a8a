"""Recomputes, with numpy, the input norms `shears calibrate` wrote for a
model of Gemm and Relu nodes: usage MODEL.onnx SAMPLES.npy NORMS.npz."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mlp_forward import gemm_inputs  # noqa: E402

model_path, samples_path, norms_path = sys.argv[1:]
expected = {name: np.sqrt((x ** 2).sum(axis=0))
            for name, x in gemm_inputs(model_path, np.load(samples_path)).items()}
norms = np.load(norms_path)
if sorted(norms.files) != sorted(expected):
    sys.exit(f"layers {sorted(norms.files)}, expected {sorted(expected)}")
for name, want in expected.items():
    got = norms[name]
    if got.dtype != np.float32 or got.shape != want.shape or not np.allclose(got, want, rtol=1e-4):
        sys.exit(f"{name}: got {got.dtype} {got.shape} {got[:4]}, expected {want[:4]}")
    print(f"{name}: {len(want)} norms match")
