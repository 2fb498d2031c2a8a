#!/usr/bin/python3
"""Writes a model with sparse tensors for the importer's tests: make_sparse.py KIND DIR.

DIR/KIND.onnx is y = x @ W for x [2, 4] and a sparse W [4, 6] (Add for the Constant kind).
Valid kinds (they pass onnx.checker) also write DIR/x.npy and DIR/expected/y.npy (numpy's
result): linear (INT64 linear indices in raw_data), coordinates (indices [NNZ, 2]), typed
(indices in int64_data, values in float_data), empty (no non-zero value), constant (a
Constant node's sparse_value). Malformed kinds: int32-indices, indices-shape, out-of-range,
descending, duplicate, values-2d, negative-coordinate, coordinate-past-dim, too-large,
too-dense (an f64 tensor of 2^32 elements: 32 GiB dense), also-dense (a sparse and a dense
initializer of one name).
"""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)
W = rng.standard_normal((4, 6)).astype(np.float32)
W[rng.random(W.shape) < 0.7] = 0
NZ = np.flatnonzero(W)


def sparse(indices, values=None, dims=(4, 6)):
    values = W.ravel()[NZ] if values is None else values
    return helper.make_sparse_tensor(numpy_helper.from_array(np.asarray(values), "W"),
                                     numpy_helper.from_array(np.asarray(indices), ""), list(dims))


def matmul(sp, initializers=()):
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="matmul")], "sparse",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 6])],
                              list(initializers), sparse_initializer=[sp])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def typed():
    sp = sparse(NZ)
    sp.values.ClearField("raw_data")
    sp.values.float_data.extend(W.ravel()[NZ].tolist())
    sp.indices.ClearField("raw_data")
    sp.indices.int64_data.extend(NZ.tolist())
    return matmul(sp)


def constant():
    value = helper.make_attribute("sparse_value", sparse(NZ))
    node = helper.make_node("Constant", [], ["W"], name="const")
    node.attribute.append(value)
    graph = helper.make_graph([node, helper.make_node("MatMul", ["x", "W"], ["y"], name="matmul")],
                              "sparse", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 6])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


VALID = {
    "linear": lambda: matmul(sparse(NZ)),
    "coordinates": lambda: matmul(sparse(np.stack(np.unravel_index(NZ, W.shape), 1))),
    "typed": typed,
    "empty": lambda: matmul(sparse(np.zeros(0, np.int64), np.zeros(0, np.float32))),
    "constant": constant,
}
MALFORMED = {
    "int32-indices": lambda: matmul(sparse(NZ.astype(np.int32))),
    "indices-shape": lambda: matmul(sparse(NZ[:-1])),
    "out-of-range": lambda: matmul(sparse(np.append(NZ[:-1], 24))),
    "descending": lambda: matmul(sparse(NZ[::-1].copy())),
    "duplicate": lambda: matmul(sparse(np.append(NZ[:-1], NZ[-2]))),
    "values-2d": lambda: matmul(sparse(NZ, W.ravel()[NZ].reshape(1, -1))),
    "negative-coordinate": lambda: matmul(sparse(
        np.stack(np.unravel_index(NZ, W.shape), 1) * np.array([1, -1]))),
    "coordinate-past-dim": lambda: matmul(sparse(
        np.stack(np.unravel_index(NZ, W.shape), 1) + np.array([0, 6]))),
    "too-large": lambda: matmul(sparse(NZ, dims=(2**20, 2**20))),
    "too-dense": lambda: matmul(sparse(np.array([5]), np.array([1.0]), dims=(2**16, 2**16))),
    "also-dense": lambda: matmul(sparse(NZ), [numpy_helper.from_array(W, "W")]),
}


def main(argv):
    kinds = {**VALID, **MALFORMED}
    if len(argv) != 3 or argv[1] not in kinds:
        sys.stderr.write(f"usage: make_sparse.py KIND DIR\nKIND: {' '.join(kinds)}\n")
        return 2
    kind, out = argv[1], Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    m = kinds[kind]()
    (out / f"{kind}.onnx").write_bytes(m.SerializeToString())
    if kind in VALID:
        onnx.checker.check_model(m)
        x = rng.standard_normal((2, 4)).astype(np.float32)
        np.save(out / "x.npy", x)
        (out / "expected").mkdir(exist_ok=True)
        w = W if kind != "empty" else np.zeros_like(W)
        np.save(out / "expected" / "y.npy", x @ w)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
