"""Recomputes, with numpy, the input norms `shears calibrate` wrote for a
model of Gemm and Relu nodes: usage MODEL.onnx SAMPLES.npy NORMS.npz."""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

model_path, samples_path, norms_path = sys.argv[1:]
model = onnx.load(model_path)
weights = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
values = {model.graph.input[0].name: np.load(samples_path).astype(np.float64)}
expected = {}
for node in model.graph.node:
    x = values[node.input[0]]
    if node.op_type == "Gemm":
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        w = weights[node.input[1]]
        w = w.T if attrs.get("transB", 0) else w
        expected[node.name] = np.sqrt((x ** 2).sum(axis=0))
        values[node.output[0]] = x @ w + weights[node.input[2]]
    elif node.op_type == "Relu":
        values[node.output[0]] = np.maximum(x, 0)
    else:
        sys.exit(f"unexpected op {node.op_type}")
norms = np.load(norms_path)
if sorted(norms.files) != sorted(expected):
    sys.exit(f"layers {sorted(norms.files)}, expected {sorted(expected)}")
for name, want in expected.items():
    got = norms[name]
    if got.dtype != np.float32 or got.shape != want.shape or not np.allclose(got, want, rtol=1e-4):
        sys.exit(f"{name}: got {got.dtype} {got.shape} {got[:4]}, expected {want[:4]}")
    print(f"{name}: {len(want)} norms match")
