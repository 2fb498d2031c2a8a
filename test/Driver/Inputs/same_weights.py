#!/usr/bin/python3
"""same_weights.py A.onnx B.onnx: whether both models hold the same initializers (sparse ones
made dense), by name, shape, type and bits. Prints "same weights: N initializers" or what
differs."""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def weights(path):
    model = onnx.load(path)
    result = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for s in model.graph.sparse_initializer:
        values = numpy_helper.to_array(s.values)
        dense = np.zeros(int(np.prod(s.dims)), values.dtype)
        dense[numpy_helper.to_array(s.indices)] = values
        result[s.values.name] = dense.reshape(tuple(s.dims))
    return result


a, b = weights(sys.argv[1]), weights(sys.argv[2])
if a.keys() != b.keys():
    print(f"different initializers: {sorted(a.keys() ^ b.keys())}")
    sys.exit(1)
differ = [k for k in a if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape
          or a[k].tobytes() != b[k].tobytes()]
print(f"differ: {differ}" if differ else f"same weights: {len(a)} initializers")
sys.exit(1 if differ else 0)
