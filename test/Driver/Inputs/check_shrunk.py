"""Runs a masked model (.mlir) and its pruned ONNX versions, one keeping the
784-pixel input (a Gather picks the pixels read) and one with a narrowed
input, on the same Fashion-MNIST-shaped inputs, and checks they agree.
Usage: MASKED.mlir GATHER.onnx SHRUNK.onnx WORKDIR (PATH holds shears)."""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

masked, gather, shrunk, work = sys.argv[1:]
x = np.random.default_rng(0).random((8, 784), dtype=np.float32)
np.save(f"{work}/x.npy", x)

g = onnx.load(gather)
dims = [d.dim_param or d.dim_value for d in g.graph.input[0].type.tensor_type.shape.dim]
gathers = [n for n in g.graph.node if n.op_type == "Gather"]
index = {t.name: t for t in g.graph.initializer}
width = numpy_helper.to_array(index[gathers[0].input[1]]).size
print(f"{os.path.basename(gather)}: input [{dims[0]}, {dims[1]}], a Gather reads {width} features")

s = onnx.load(shrunk)
dims = [d.dim_param or d.dim_value for d in s.graph.input[0].type.tensor_type.shape.dim]
doc = s.graph.input[0].doc_string
kept = [int(v) for v in doc.rsplit(":", 1)[1].split(",")]
print(f"{os.path.basename(shrunk)}: input [{dims[0]}, {dims[1]}], doc_string lists {len(kept)} kept features")
np.save(f"{work}/x_kept.npy", np.ascontiguousarray(x[:, kept]))

def run(model, inputs, out):
    subprocess.run(["shears", "run", model, "--input", f"input={inputs}", "--output-dir", out],
                   check=True, stdout=subprocess.DEVNULL)
    return np.load(f"{out}/output.npy")

a = run(masked, f"{work}/x.npy", f"{work}/masked")
b = run(gather, f"{work}/x.npy", f"{work}/gather")
c = run(shrunk, f"{work}/x_kept.npy", f"{work}/shrunk")
if not (np.allclose(a, b, rtol=1e-4, atol=1e-5) and np.allclose(a, c, rtol=1e-4, atol=1e-5)):
    sys.exit(f"outputs differ: {np.abs(a - b).max()} {np.abs(a - c).max()}")
print("outputs of masked, gather and shrunk models agree")
