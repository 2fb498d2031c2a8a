"""Runs the MLP with the installed package (wheel.test): JIT and AOT against numpy."""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

import shears

work, model_path = sys.argv[1], sys.argv[2]
print("installed shears from", os.path.dirname(os.path.dirname(shears.__file__)))
print("kernels archive", os.environ.get("SHEARS_KERNELS_ARCHIVE"))

# The reference: the model's Gemm (transB) and Relu nodes in numpy.
model = onnx.load(model_path)
weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
x = np.random.default_rng(0).standard_normal((4, 784), dtype=np.float32)
values = {model.graph.input[0].name: x}
for node in model.graph.node:
    a = values[node.input[0]]
    if node.op_type == "Gemm":
        y = a @ weights[node.input[1]].T + weights[node.input[2]]
    elif node.op_type == "Relu":
        y = np.maximum(a, 0)
    else:
        sys.exit(f"unexpected op {node.op_type}")
    values[node.output[0]] = y
want = values[model.graph.output[0].name]

for what, compiled in (("JIT", lambda: shears.compile(model_path)),
                       ("library", lambda: shears.load_library(
                           shears.compile_library(model_path, os.path.join(work, "mlp.so"))))):
    got = compiled()(x)
    err = float(np.max(np.abs(got - want)))
    if err > 1e-4:
        sys.exit(f"FAIL {what}: max abs diff {err}")
    print(what, "OK", f"max abs diff {err:.2g}")
