"""Writes DIR/sparse.onnx, one linear layer 'wide' (1024 -> 1024, 0.25% of
its weights non-zero: the sparse kernel is the faster at any batch on any
CPU the kernels run on: 4x or more here, 2.3x or more built with ASan, which
slows it more than the dense one), an input DIR/x.npy of 8 rows and numpy's output
DIR/expected/y.npy."""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

out = sys.argv[1]
rng = np.random.default_rng(0)
w = rng.standard_normal((1024, 1024)).astype(np.float32)
w[rng.random(w.shape) >= 0.0025] = 0
b = rng.standard_normal(1024).astype(np.float32)
x = rng.standard_normal((8, 1024)).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="wide", transB=1)], "sparse",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1024])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1024])],
    [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
     os.path.join(out, "sparse.onnx"))
np.save(os.path.join(out, "x.npy"), x)
os.makedirs(os.path.join(out, "expected"), exist_ok=True)
np.save(os.path.join(out, "expected", "y.npy"),
        (x.astype(np.float64) @ w.T.astype(np.float64) + b).astype(np.float32))
print(f"{np.count_nonzero(w)} non-zero")
