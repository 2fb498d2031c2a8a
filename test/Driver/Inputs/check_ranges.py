"""Recomputes, with numpy, the statistics `shears calibrate --quantization`
wrote for a model of Gemm and Relu nodes, and the minmax scales and zero
points `shears quantize` chose from them: usage MODEL.onnx SAMPLES.npy
STATS.npz QUANTIZED.onnx."""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mlp_forward import gemm_inputs  # noqa: E402

model_path, samples_path, stats_path, quantized_path = sys.argv[1:]
# In f32, as the compiled model computes.
inputs = gemm_inputs(model_path, np.load(samples_path), np.float32)

stats = np.load(stats_path)
quantized = onnx.load(quantized_path)
params = {t.name: numpy_helper.to_array(t) for t in quantized.graph.initializer}
for name, x in inputs.items():
    lo, hi = stats[name + ".range"]
    if not np.allclose([lo, hi], [x.min(), x.max()], rtol=1e-5, atol=1e-6):
        sys.exit(f"{name}: range [{lo}, {hi}], numpy [{x.min()}, {x.max()}]")
    got = stats[name + ".histogram"]
    limit = max(abs(lo), abs(hi))
    want, _ = np.histogram(x, bins=len(got), range=(-limit, limit))
    # Values on a bin edge may round into either bin.
    moved = np.abs(got - want).sum() / 2
    if got.sum() != x.size or moved > 1e-3 * x.size:
        sys.exit(f"{name}: histogram of {got.sum()} counts, {moved} in other bins "
                 f"than numpy's ({x.size} values)")
    # minmax: [min(lo, 0), max(hi, 0)] onto [0, 255].
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255
    zero_point = np.clip(np.round(-lo / scale), 0, 255)
    q_scale = params[name + "/input_scale"]
    quantize = next(n for n in quantized.graph.node if n.name == name + "/input_quantize")
    q_zero = params[quantize.input[2]]
    if not np.isclose(q_scale, scale, rtol=1e-6) or q_zero != zero_point:
        sys.exit(f"{name}: scale {q_scale} zero point {q_zero}, numpy {scale} {zero_point}")
    print(f"{name}: range, {len(got)}-bin histogram, scale and zero point match")
