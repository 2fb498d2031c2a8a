#!/usr/bin/python3
"""Writes a small ONNX file for the importer tests: make_onnx.py KIND OUT_PATH.

Malformed kinds: truncated notproto cycle missing-init bad-init-size dims-overflow
conv-zero-stride maxpool-zero-stride avgpool-zero-kernel conv-zero-dilation unsqueeze-repeated
gemm-1d gather-out-of-range raw-and-typed-data node-without-outputs unknown-op-opset11
huge-pad conv-huge-pads
external-data-escape external-data-symlink external-data-symlink-dir external-data-dev-zero
external-data-fifo external-data-offset-overflow external-data-bad-offset (the last six make
what their data needs next to OUT_PATH: links, a FIFO, a file outside its folder). Valid kinds (they pass onnx.checker): unsupported gemm-notrans
shape-subgraph flatten-subgraph trilu external-data opset11 dropout-identity nan-weights two-batches
dynamic-reduction.
"""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT = TensorProto.FLOAT


def tensor(name, shape, elem=FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, initializers=(), opset=13):
    graph = helper.make_graph(nodes, "test", inputs, outputs, list(initializers))
    return helper.make_model(graph, producer_name="make_onnx.py",
                             opset_imports=[helper.make_opsetid("", opset)])


def weights(name, shape):
    """Deterministic float32 initializer (raw_data)."""
    return numpy_helper.from_array(np.arange(np.prod(shape), dtype=np.float32).reshape(shape) / 10, name)


def matmul_model(w):
    return model([helper.make_node("MatMul", ["x", w.name], ["y"], name="matmul")],
                 [tensor("x", ["N", 4])], [tensor("y", ["N", 4])], [w])


def truncated():
    data = matmul_model(weights("w", [4, 4])).SerializeToString()
    return data[: len(data) // 2]


def notproto():
    # '/' (0x2f) reads as a tag with wire type 7, which does not exist.
    return b"// this is not an ONNX model\n\xff\xfe\x00\x01garbage\n"


def cycle():
    return model([helper.make_node("Relu", ["b"], ["a"], name="relu_a"),
                  helper.make_node("Relu", ["a"], ["b"], name="relu_b")],
                 [tensor("x", [2])], [tensor("a", [2])])


def missing_init():
    return model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add_ghost")],
                 [tensor("x", [2, 3])], [tensor("y", [2, 3])])


def bad_init_size():
    w = TensorProto(name="w", data_type=FLOAT, dims=[4, 4], raw_data=b"\0" * 10)  # [4, 4] needs 64
    return matmul_model(w)


def zero_window(op, attribute, values):
    """A window op whose `attribute` holds a zero (ONNX's shape inference divided by it)."""
    attrs = {"kernel_shape": [2, 2]} if op != "Conv" else {}
    attrs[attribute] = values
    inputs = ["x", "w"] if op == "Conv" else ["x"]
    inits = [weights("w", [2, 1, 3, 3])] if op == "Conv" else []
    return model([helper.make_node(op, inputs, ["y"], name="window", **attrs)],
                 [tensor("x", [1, 1, 8, 8])], [tensor("y", None)], inits)


def unsqueeze_repeated():
    """Unsqueeze whose axes name one dimension twice (read past the input's dims)."""
    axes = numpy_helper.from_array(np.array([1, -3], np.int64), "axes")
    return model([helper.make_node("Unsqueeze", ["x", "axes"], ["y"], name="unsq")],
                 [tensor("x", ["N", 4])], [tensor("y", None)], [axes])


def dims_overflow():
    w = TensorProto(name="w", data_type=FLOAT, dims=[2**40, 2**40], raw_data=b"\0" * 4)
    return matmul_model(w)


def gemm_1d():
    return model([helper.make_node("Gemm", ["x", "w"], ["y"], name="gemm")],
                 [tensor("x", [4])], [tensor("y", [3])], [weights("w", [4, 3])])


def gather_out_of_range():
    index = numpy_helper.from_array(np.array([1, 7], np.int64), "index")
    return model([helper.make_node("Gather", ["x", "index"], ["y"], name="gather", axis=1)],
                 [tensor("x", ["N", 4])], [tensor("y", ["N", 2])], [index])


def raw_and_typed_data():
    w = weights("w", [4, 4])
    w.float_data.extend([0.0] * 16)
    return matmul_model(w)


def node_without_outputs():
    """At opset 11, so that ONNX's version converter would see it (it crashed)."""
    return model([helper.make_node("Relu", ["x"], [], name="relu")],
                 [tensor("x", [2])], [tensor("x", [2])], opset=11)


def unknown_op_opset11():
    return model([helper.make_node("Frobnicate", ["x"], ["y"], name="frob")],
                 [tensor("x", [2])], [tensor("y", [2])], opset=11)


def nan_weights():
    w = weights("w", [4, 4])
    data = numpy_helper.to_array(w).copy()
    data[1, 2], data[3, 0] = np.nan, np.inf
    return matmul_model(numpy_helper.from_array(data, "w"))


def two_batches():
    return model([helper.make_node("Add", ["x", "y"], ["z"], name="add")],
                 [tensor("x", ["N", 4]), tensor("y", ["M", 4])], [tensor("z", ["N", 4])])


def dynamic_reduction():
    return model([helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")],
                 [tensor("x", [2, "K"])], [tensor("y", [2, 4])], [weights("w", [4, 4])])


def huge_pad():
    pads = numpy_helper.from_array(np.array([0, 2**40, 0, 0], np.int64), "pads")
    return model([helper.make_node("Pad", ["x", "pads"], ["y"], name="pad")],
                 [tensor("x", [1, 4])], [tensor("y", None)], [pads])


def conv_huge_pads():
    return model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv",
                                   pads=[2**40, 0, 0, 0])],
                 [tensor("x", [1, 1, 4, 4])], [tensor("y", None)], [weights("w", [1, 1, 1, 1])])


def node(op, inputs, outputs=("y",), **attrs):
    return helper.make_node(op, list(inputs), list(outputs), name=op.lower(), **attrs)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


# One node on x [2, 3, 4, 4] (and its constant inputs) that ONNX's schema or
# Shears's own checks must refuse.
def bad_node(op, inputs, initializers=(), opset=13, **attrs):
    return model([node(op, inputs, **attrs)], [tensor("x", [2, 3, 4, 4])], [tensor("y", None)],
                 initializers, opset=opset)


CATALOGUE = {
    "no-outputs": lambda: model([node("Relu", ["x"])], [tensor("x", [2])], []),
    "input-without-type": lambda: model([node("Relu", ["x"])], [helper.make_value_info("x", onnx.TypeProto())],
                                        [tensor("y", [2])]),
    "string-input": lambda: model([node("Identity", ["x"])], [tensor("x", [2], TensorProto.STRING)],
                                  [tensor("y", [2], TensorProto.STRING)]),
    "negative-dim": lambda: matmul_model(onnx.TensorProto(name="w", data_type=FLOAT, dims=[4, -4])),
    "opset-too-new": lambda: model([node("Relu", ["x"])], [tensor("x", [2])], [tensor("y", [2])], opset=99),
    "no-default-opset": lambda: helper.make_model(
        helper.make_graph([node("Relu", ["x"])], "test", [tensor("x", [2])], [tensor("y", [2])]),
        opset_imports=[helper.make_opsetid("com.example", 1)]),
    "float-strides": lambda: bad_node("MaxPool", ["x"], kernel_shape=[2, 2], strides=[1.5, 1.5]),
    "relu-two-inputs": lambda: bad_node("Relu", ["x", "x"]),
    "reshape-two-inferred": lambda: bad_node("Reshape", ["x", "shape"], [ints("shape", [-1, -1])]),
    "reshape-wrong-count": lambda: bad_node("Reshape", ["x", "shape"], [ints("shape", [5, 19])]),
    "concat-mismatch": lambda: model([node("Concat", ["x", "w"], axis=1)], [tensor("x", [2, 3, 4, 4])],
                                     [tensor("y", None)], [weights("w", [2, 3, 5, 4])]),
    "transpose-repeated-perm": lambda: bad_node("Transpose", ["x"], perm=[0, 0, 1, 2]),
    "softmax-axis": lambda: bad_node("Softmax", ["x"], axis=7),
    "split-sizes": lambda: model([node("Split", ["x", "split"], ["a", "b"], axis=1)], [tensor("x", [2, 3, 4, 4])],
                                 [tensor("a", None), tensor("b", None)], [ints("split", [1, 1])]),
    "gather-axis": lambda: bad_node("Gather", ["x", "index"], [ints("index", [0])], axis=9),
    "slice-step-zero": lambda: bad_node("Slice", ["x", "starts", "ends", "axes", "steps"],
                                        [ints("starts", [0]), ints("ends", [2]), ints("axes", [1]), ints("steps", [0])]),
    "flatten-axis": lambda: bad_node("Flatten", ["x"], axis=9),
    "matmul-mismatch": lambda: model([node("MatMul", ["x", "w"])], [tensor("x", [2, 5])], [tensor("y", None)],
                                     [weights("w", [4, 3])]),
    "conv-channels": lambda: bad_node("Conv", ["x", "w"], [weights("w", [8, 5, 3, 3])]),
    "external-data-missing": lambda: external("absent.data"),
    "constant-without-value": lambda: model([helper.make_node("Constant", [], ["c"], name="const")
                                             , node("Add", ["x", "c"])], [tensor("x", [2])], [tensor("y", [2])]),
    "squeeze-non-one": lambda: bad_node("Squeeze", ["x", "axes"], [ints("axes", [1])]),
    "add-not-broadcastable": lambda: model([node("Add", ["x", "w"])], [tensor("x", [2, 3])], [tensor("y", None)],
                                           [weights("w", [4])]),
    "duplicate-input": lambda: model([node("Add", ["x", "x"])], [tensor("x", [2]), tensor("x", [2])],
                                     [tensor("y", [2])]),
    "declared-shape-wrong": lambda: model([node("Relu", ["x"])], [tensor("x", [2, 3])], [tensor("y", [2, 4])]),
    # Names with control characters are printed escaped.
    "hardsigmoid-unknown-attribute": lambda: bad_node("HardSigmoid", ["x"], gamma=0.5),
    "mod-on-integers": lambda: model([node("Mod", ["x", "x"])],
                                     [tensor("x", [2, 3], TensorProto.INT32)],
                                     [tensor("y", [2, 3], TensorProto.INT32)]),
    "size-two-dynamic": lambda: model([node("Size", ["x"])], [tensor("x", ["N", "M"])],
                                      [tensor("y", [], TensorProto.INT64)]),
    "cast-to-uint8": lambda: model([node("Cast", ["x"], to=TensorProto.UINT8)],
                                   [tensor("x", [2, 3])], [tensor("y", [2, 3], TensorProto.UINT8)]),
    "einsum-diagonal": lambda: model([node("Einsum", ["x"], equation="ii->i")], [tensor("x", [3, 3])],
                                     [tensor("y", [3])], opset=12),
    "tile-dynamic": lambda: model([node("Tile", ["x", "repeats"])], [tensor("x", ["N", 3])],
                                  [tensor("y", ["M", 3])], [ints("repeats", [2, 1])]),
    "range-computed": lambda: model([node("Range", ["zero", "x", "one"])],
                                    [tensor("x", [], TensorProto.INT64)],
                                    [tensor("y", ["N"], TensorProto.INT64)],
                                    [numpy_helper.from_array(np.array(0, np.int64), "zero"),
                                     numpy_helper.from_array(np.array(1, np.int64), "one")]),
    "scatternd-computed": lambda: model([node("ScatterND", ["x", "index", "u"])],
                                        [tensor("x", [4, 4]), tensor("index", [2, 1], TensorProto.INT64),
                                         tensor("u", [2, 4])], [tensor("y", [4, 4])]),
    "scatternd-out-of-range": lambda: bad_node("ScatterND", ["x", "index", "u"],
                                               [ints("index", [[0], [2]]),
                                                weights("u", [2, 3, 4, 4])]),
    "dropout-training": lambda: bad_node("Dropout", ["x", "ratio", "training"],
                                         [numpy_helper.from_array(np.array(0.5, np.float32),
                                                                  "ratio"),
                                          numpy_helper.from_array(np.array(True), "training")]),
    "resize-crop": lambda: bad_node("Resize", ["x", "roi", "scales"],
                                    [weights("roi", [8]), weights("scales", [4])],
                                    coordinate_transformation_mode="tf_crop_and_resize"),
    "resize-batch": lambda: model([node("Resize", ["x", "", "scales"])], [tensor("x", ["N", 3, 4, 4])],
                                  [tensor("y", None)],
                                  [numpy_helper.from_array(np.array([2, 1, 2, 2], np.float32), "scales")]),
    "convtranspose-3d": lambda: model([node("ConvTranspose", ["x", "w"])], [tensor("x", [1, 2, 4, 4, 4])],
                                      [tensor("y", None)], [weights("w", [2, 3, 3, 3, 3])]),
    "dropout-mask-dynamic": lambda: model([node("Dropout", ["x"], ["y", "mask"])],
                                          [tensor("x", ["N", 3])],
                                          [tensor("y", ["N", 3]),
                                           tensor("mask", ["N", 3], TensorProto.BOOL)]),
    "unprintable-names": lambda: model([helper.make_node("Fr\x02b", ["x"], ["y"], name="re\x01lu")],
                                       [tensor("x", [2])], [tensor("y", [2])]),
    # 17 tensors of 2^32 - 1 floats (each under the per-tensor limit): 272 GiB.
    "many-large-tensors": lambda: model(
        [helper.make_node("Pad", ["x", "pads"], ["t0"], name="pad")]
        + [helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"], name=f"relu{i}") for i in range(16)],
        [tensor("x", [1, 1])], [tensor("t16", None)], [ints("pads", [0, 0, 0, 2**32 - 2])]),
}


def unsupported():
    return model([helper.make_node("Relu", ["x"], ["r"], name="relu_0"),
                  helper.make_node("Det", ["r"], ["d1"], name="det_a"),
                  helper.make_node("Det", ["x"], ["d2"], name="det_b"),
                  helper.make_node("Hardmax", ["r"], ["e"], name="hardmax_0")],
                 [tensor("x", [3, 3])], [tensor("d1", []), tensor("d2", []), tensor("e", [3, 3])])


def gemm_notrans():
    w = helper.make_tensor("w", FLOAT, [4, 3], (np.arange(12) / 10 - 0.5).tolist())  # float_data
    b = helper.make_tensor("b", FLOAT, [3], [0.5, -1.0, 2.0])
    return model([helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="gemm", alpha=1.0, beta=1.0,
                                   transA=0, transB=0)],
                 [tensor("x", ["N", 4])], [tensor("y", ["N", 3])], [w, b])


def shape_subgraph():
    """x.view(x.size(0), -1) as torch.onnx (opset 13) exports it."""
    def const(name, value):
        return helper.make_node("Constant", [], [name], name=name.removesuffix("_output_0"),
                                value=numpy_helper.from_array(np.array(value, dtype=np.int64)))
    return model([helper.make_node("Shape", ["input"], ["/Shape_output_0"], name="/Shape"),
                  const("/Constant_output_0", 0),
                  helper.make_node("Gather", ["/Shape_output_0", "/Constant_output_0"],
                                   ["/Gather_output_0"], name="/Gather", axis=0),
                  const("/Constant_2_output_0", [0]),
                  helper.make_node("Unsqueeze", ["/Gather_output_0", "/Constant_2_output_0"],
                                   ["/Unsqueeze_output_0"], name="/Unsqueeze"),
                  const("/Constant_1_output_0", [-1]),
                  helper.make_node("Concat", ["/Unsqueeze_output_0", "/Constant_1_output_0"],
                                   ["/Concat_output_0"], name="/Concat", axis=0),
                  helper.make_node("Reshape", ["input", "/Concat_output_0"], ["output"],
                                   name="/Reshape")],
                 [tensor("input", ["N", 3, 4, 4])], [tensor("output", ["N", 48])])


def flatten_subgraph():
    """x.flatten(2) as torch.onnx (opset 13) exports it: Shape -> Slice -> Concat -> Reshape."""
    def const(name, value):
        return helper.make_node("Constant", [], [name], name=name.removesuffix("_output_0"),
                                value=numpy_helper.from_array(np.array(value, dtype=np.int64)))
    return model([helper.make_node("Shape", ["input"], ["/Shape_output_0"], name="/Shape"),
                  const("/Constant_output_0", [0]), const("/Constant_1_output_0", [0]),
                  const("/Constant_2_output_0", [2]),
                  helper.make_node("Slice", ["/Shape_output_0", "/Constant_1_output_0",
                                             "/Constant_2_output_0", "/Constant_output_0"],
                                   ["/Slice_output_0"], name="/Slice"),
                  const("/Constant_3_output_0", [-1]),
                  helper.make_node("Concat", ["/Slice_output_0", "/Constant_3_output_0"],
                                   ["/Concat_output_0"], name="/Concat", axis=0),
                  helper.make_node("Reshape", ["input", "/Concat_output_0"], ["output"],
                                   name="/Reshape")],
                 [tensor("input", ["N", 3, 4, 4])], [tensor("output", ["N", 3, 16])])


def trilu():
    """A causal mask as nn.Transformer.generate_square_subsequent_mask exports it at opset 14
    (Trilu of -inf above the diagonal), added to the input; and the lower triangle of the
    input from diagonal -1."""
    k = numpy_helper.from_array(np.array(1, dtype=np.int64), "k")
    k2 = numpy_helper.from_array(np.array(-1, dtype=np.int64), "k2")
    inf = numpy_helper.from_array(np.full((4, 4), -np.inf, np.float32), "inf")
    return model([helper.make_node("Trilu", ["inf", "k"], ["mask"], name="/Trilu"),
                  helper.make_node("Add", ["input", "mask"], ["masked"], name="/Add"),
                  helper.make_node("Softmax", ["masked"], ["soft"], name="/Softmax", axis=-1),
                  helper.make_node("Trilu", ["input", "k2"], ["low"], name="/Trilu_1", upper=0),
                  helper.make_node("Add", ["soft", "low"], ["output"], name="/Add_1")],
                 [tensor("input", ["N", 4, 4])], [tensor("output", ["N", 4, 4])], [k, k2, inf],
                 opset=14)


def conv1d():
    """A 1-D convolution (padded, dilated, 2 groups), max pooling (strided, padded) and
    average pooling (SAME_UPPER) over [N, C, L], as audio models have them."""
    w = weights("w", [6, 2, 3])
    b = numpy_helper.from_array(np.linspace(-1, 1, 6).astype(np.float32), "b")
    return model([helper.make_node("Conv", ["input", "w", "b"], ["c"], name="/conv",
                                   pads=[2, 1], dilations=[2], group=2),
                  helper.make_node("MaxPool", ["c"], ["m"], name="/pool", kernel_shape=[3],
                                   strides=[2], pads=[1, 1]),
                  helper.make_node("AveragePool", ["m"], ["output"], name="/avg",
                                   kernel_shape=[2], auto_pad="SAME_UPPER")],
                 [tensor("input", ["N", 4, 17])], [tensor("output", ["N", 6, 8])], [w, b])


def casts():
    """Casts between floats, integers and bool, and a CastLike (opset 15), summed back in f32:
    truncation toward zero, x != 0, f16 and f64 rounding."""
    T = TensorProto
    cast = lambda x, y, to: helper.make_node("Cast", [x], [y], name=y, to=to)
    add = lambda a, b, y: helper.make_node("Add", [a, b], [y], name=y)
    return model([cast("input", "i32", T.INT32), cast("i32", "i64", T.INT64),
                  cast("i64", "i8", T.INT8), cast("i8", "trunc", FLOAT),
                  cast("input", "bool", T.BOOL), cast("bool", "ones", FLOAT),
                  cast("input", "half", T.FLOAT16), cast("half", "rounded", FLOAT),
                  cast("input", "double", T.DOUBLE),
                  helper.make_node("CastLike", ["double", "input"], ["like"], name="like"),
                  add("trunc", "ones", "s0"), add("s0", "rounded", "s1"),
                  add("s1", "like", "output")],
                 [tensor("input", ["N", 3, 5])], [tensor("output", ["N", 3, 5])], opset=15)


def reductions():
    """ReduceL1, ReduceSumSquare, ReduceLogSum (of positives), ReduceLogSumExp (kept and
    dropped dims) and ReduceProd, summed into one output of [N, 4]."""
    red = lambda op, x, y, **a: helper.make_node(op, [x], [y], name=y, **a)
    add = lambda a, b, y: helper.make_node("Add", [a, b], [y], name=y)
    return model([red("ReduceL1", "input", "l1", axes=[2], keepdims=0),
                  red("ReduceSumSquare", "input", "sq", axes=[-1], keepdims=0),
                  helper.make_node("Abs", ["input"], ["abs"], name="abs"),
                  red("ReduceLogSum", "abs", "logsum", axes=[2], keepdims=0),
                  red("ReduceLogSumExp", "input", "lse_kept", axes=[2]),
                  helper.make_node("Squeeze", ["lse_kept", "two"], ["lse"], name="lse"),
                  red("ReduceLogSumExp", "input", "lse_dropped", axes=[2], keepdims=0),
                  red("ReduceProd", "input", "prod", axes=[2], keepdims=0),
                  add("l1", "sq", "s0"), add("s0", "logsum", "s1"), add("s1", "lse", "s2"),
                  add("s2", "lse_dropped", "s3"), add("s3", "prod", "output")],
                 [tensor("input", ["N", 4, 6])], [tensor("output", ["N", 4])],
                 [numpy_helper.from_array(np.array([2], np.int64), "two")])


def size():
    """x.numel() with a dynamic batch flattens x whole: Size is 12 times the batch."""
    zero = numpy_helper.from_array(np.array([0], np.int64), "zero")
    return model([helper.make_node("Size", ["input"], ["n"], name="size"),
                  helper.make_node("Unsqueeze", ["n", "zero"], ["shape"], name="unsqueeze"),
                  helper.make_node("Reshape", ["input", "shape"], ["output"], name="reshape")],
                 [tensor("input", ["N", 3, 4])], [tensor("output", ["M"])], [zero])


def tile_range_einsum():
    """Tile (repeats [1, 2, 1]), a float Range added to it, an int64 Range of the input's
    width (position ids) cast and added, Einsum as a matmul with a weight over the dynamic
    batch, a transpose, and a batched matmul of two activations."""
    f = lambda name, v: numpy_helper.from_array(np.array(v, np.float32), name)
    return model([helper.make_node("Tile", ["input", "repeats"], ["tiled"], name="tile"),
                  helper.make_node("Range", ["start", "limit", "delta"], ["ramp"], name="ramp"),
                  helper.make_node("Add", ["tiled", "ramp"], ["a0"], name="a0"),
                  helper.make_node("Shape", ["input"], ["shape"], name="shape"),
                  helper.make_node("Gather", ["shape", "two"], ["width"], name="width"),
                  helper.make_node("Range", ["zero", "width", "one"], ["ids"], name="ids"),
                  helper.make_node("Cast", ["ids"], ["fids"], name="fids", to=FLOAT),
                  helper.make_node("Add", ["a0", "fids"], ["a1"], name="a1"),
                  helper.make_node("Einsum", ["a1", "w"], ["e0"], name="linear",
                                   equation="bij, jk -> bik"),
                  helper.make_node("Einsum", ["e0"], ["e1"], name="transpose", equation="bik->bki"),
                  helper.make_node("Einsum", ["e1", "e0"], ["output"], name="bmm",
                                   equation="bki,bil->bkl")],
                 [tensor("input", ["N", 3, 4])], [tensor("output", ["N", 5, 5])],
                 [ints("repeats", [1, 2, 1]), f("start", 0.5), f("limit", 2.5), f("delta", 0.5),
                  numpy_helper.from_array(np.array(2, np.int64), "two"),
                  numpy_helper.from_array(np.array(0, np.int64), "zero"),
                  numpy_helper.from_array(np.array(1, np.int64), "one"),
                  numpy_helper.from_array(np.linspace(-1, 1, 20, dtype=np.float32).reshape(4, 5), "w")])


def slice_assignment():
    """What torch exports for Swin's shifted windows, on input [N, 4, 4]: F.pad's pads reversed
    pairwise at import time (Reshape [-1, 2], Slice with step -1, Transpose, Reshape [-1]),
    a mask written by slice assignment (ScatterND of index tensors built from Ranges,
    Reshape, Expand, Unsqueeze and Concat), the batch folded into a reshape and read back with
    Shape / Div, a training-mode Dropout of ratio 0; ScatterND with reduction add (a position
    updated twice) and a Slice of step -2 along the last axis."""
    n = lambda op, inputs, out, **a: helper.make_node(op, inputs, [out], name=out, **a)
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)
    return model([n("Reshape", ["fpad", "pairs"], "p2"),
                  n("Slice", ["p2", "minus1", "lowest", "zero1", "minus1"], "p3"),
                  n("Transpose", ["p3"], "p4", perm=[1, 0]),
                  n("Reshape", ["p4", "flat"], "pads"),
                  n("Pad", ["input", "pads"], "padded"),
                  n("Range", ["r0", "r1", "one"], "rows"),
                  n("Reshape", ["rows", "column"], "rows2"),
                  n("Expand", ["rows2", "grid"], "rows3"),
                  n("Unsqueeze", ["rows3", "last"], "rows4"),
                  n("Range", ["c0", "c1", "one"], "cols"),
                  n("Expand", ["cols", "grid"], "cols3"),
                  n("Unsqueeze", ["cols3", "last"], "cols4"),
                  n("Concat", ["rows4", "cols4"], "index", axis=-1),
                  n("ConstantOfShape", ["size"], "zeros"),
                  n("ScatterND", ["zeros", "index", "updates"], "mask0"),
                  n("ScatterND", ["mask0", "twice", "bumps"], "mask", reduction="add"),
                  n("Add", ["padded", "mask"], "masked"),
                  n("Shape", ["masked"], "shape"),
                  n("Gather", ["shape", "zero"], "batch"),
                  n("Mul", ["batch", "five"], "rows5"),
                  n("Unsqueeze", ["rows5", "zero1"], "rows6"),
                  n("Concat", ["rows6", "six"], "merged", axis=0),
                  n("Reshape", ["masked", "merged"], "flat2"),
                  n("Shape", ["flat2"], "shape2"),
                  n("Gather", ["shape2", "zero"], "rows7"),
                  n("Div", ["rows7", "five"], "batch2"),
                  n("Unsqueeze", ["batch2", "zero1"], "batch3"),
                  n("Concat", ["batch3", "five1", "six"], "split", axis=0),
                  n("Reshape", ["flat2", "split"], "restored"),
                  helper.make_node("Dropout", ["restored", "ratio", "training"],
                                   ["kept", "dropped"], name="dropout"),
                  n("Slice", ["kept", "minus1", "lowest", "minus1", "minus2"], "output")],
                 [tensor("input", ["N", 4, 4])], [tensor("output", ["N", 5, 6])],
                 [i64("fpad", [2, 0, 1, 0, 0, 0]), i64("pairs", [-1, 2]), i64("minus1", [-1]),
                  i64("lowest", [-2**63 + 1]), i64("zero1", [0]), i64("flat", [-1]),
                  i64("r0", 1), i64("r1", 3), i64("c0", 2), i64("c1", 5), i64("one", 1),
                  i64("column", [-1, 1]), i64("grid", [2, 3]), i64("last", [-1]),
                  i64("size", [5, 6]), i64("zero", 0), i64("five", 5), i64("five1", [5]),
                  i64("six", [6]),
                  numpy_helper.from_array(np.arange(1, 7, dtype=np.float32).reshape(2, 3),
                                          "updates"),
                  numpy_helper.from_array(np.array(0, np.float32), "ratio"),
                  numpy_helper.from_array(np.array(True), "training"),
                  i64("twice", [[4, 5], [0, 0], [4, 5]]), i64("minus2", [-2]),
                  numpy_helper.from_array(np.array([10, 20, 30], np.float32), "bumps")],
                 opset=16)


def decoder():
    """An image decoder: conv, nearest 2x upsampling, conv, a strided ConvTranspose, a grouped
    one with output_padding, linear and cubic (align_corners) downsampling, and a last conv,
    over a dynamic batch of [3, 8, 8] images."""
    rng = np.random.default_rng(0)
    w = lambda name, shape: numpy_helper.from_array(
        rng.normal(0, 0.3, shape).astype(np.float32), name)
    f = lambda name, v: numpy_helper.from_array(np.array(v, np.float32), name)
    conv = lambda x, wn, y, **a: helper.make_node("Conv", [x, wn, wn + "_b"], [y], name=y, **a)
    resize = lambda x, scales, y, **a: helper.make_node("Resize", [x, "", scales], [y], name=y,
                                                        **a)
    return model([conv("input", "w1", "c1", pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", ["c1"], ["r1"], name="r1"),
                  resize("r1", "up", "up1", mode="nearest"),
                  conv("up1", "w2", "c2", pads=[1, 1, 1, 1]),
                  helper.make_node("ConvTranspose", ["c2", "t1", "t1_b"], ["ct1"], name="ct1",
                                   strides=[2, 2], pads=[1, 1, 1, 1]),
                  helper.make_node("ConvTranspose", ["ct1", "t2"], ["ct2"], name="ct2",
                                   strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1],
                                   group=2),
                  resize("ct2", "half", "down1", mode="linear"),
                  resize("down1", "three_quarters", "down2", mode="cubic",
                         coordinate_transformation_mode="align_corners"),
                  conv("down2", "w3", "output")],
                 [tensor("input", ["N", 3, 8, 8])], [tensor("output", ["N", 2, 22, 22])],
                 [w("w1", [8, 3, 3, 3]), w("w1_b", [8]), w("w2", [8, 8, 3, 3]), w("w2_b", [8]),
                  w("t1", [8, 4, 4, 4]), w("t1_b", [4]), w("t2", [4, 2, 3, 3]),
                  w("w3", [2, 4, 3, 3]), w("w3_b", [2]), f("up", [1, 1, 2, 2]),
                  f("half", [1, 1, 0.5, 0.5]), f("three_quarters", [1, 1, 0.75, 0.75])])


def external(location):
    """MatMul + Add whose two initializers live in one external file (the second at an offset)."""
    w, b = weights("w", [4, 4]), numpy_helper.from_array(np.array([1, 2, 3, 4], np.float32), "b")
    offset = 0
    for t in (w, b):
        n = len(t.raw_data)
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", str(offset)), ("length", str(n))):
            t.external_data.add(key=k, value=v)
        offset += n
    return model([helper.make_node("MatMul", ["x", "w"], ["xw"], name="matmul"),
                  helper.make_node("Add", ["xw", "b"], ["y"], name="add")],
                 [tensor("x", ["N", 4])], [tensor("y", ["N", 4])], [w, b])


def external_data(out):
    data = out.with_name(out.name + ".data")
    data.write_bytes(weights("w", [4, 4]).raw_data + np.array([1, 2, 3, 4], np.float32).tobytes())
    return external(data.name)


def external_link(out, how):
    """External data that the model's folder reaches only through a symbolic link (to a file
    outside it, through a linked directory, to /dev/zero) or that is a FIFO."""
    import os
    outside = out.parent.parent / (out.stem + ".outside")
    outside.mkdir(exist_ok=True)
    secret = outside / "secret.data"
    secret.write_bytes(weights("w", [4, 4]).raw_data + np.array([1, 2, 3, 4], np.float32).tobytes())
    if how == "file":
        link = out.with_name(out.stem + ".link.data")
        link.unlink(missing_ok=True)
        link.symlink_to(os.path.relpath(secret, out.parent))
        return external(link.name)
    if how == "dir":
        link = out.with_name(out.stem + ".linkdir")
        link.unlink(missing_ok=True)
        link.symlink_to(os.path.relpath(outside, out.parent))
        return external(link.name + "/secret.data")
    if how == "dev-zero":
        link = out.with_name(out.stem + ".zero.data")
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/zero")
        return external(link.name)
    fifo = out.with_name(out.stem + ".fifo.data")
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    return external(fifo.name)


def external_numbers(out, offset):
    """Valid external data whose second tensor's offset is `offset`."""
    m = external_data(out)
    entries = m.graph.initializer[1].external_data
    for e in entries:
        if e.key == "offset":
            e.value = offset
    return m


def opset11():
    lo = numpy_helper.from_array(np.array(-1.0, np.float32), "clip_min")
    hi = numpy_helper.from_array(np.array(2.0, np.float32), "clip_max")
    return model([helper.make_node("Clip", ["x", "clip_min", "clip_max"], ["c"], name="clip"),
                  helper.make_node("Softmax", ["c"], ["y"], name="softmax", axis=1)],
                 [tensor("x", ["N", 5])], [tensor("y", ["N", 5])], [lo, hi], opset=11)


def dropout_identity():
    ratio = numpy_helper.from_array(np.array(0.5, np.float32), "ratio")
    return model([helper.make_node("Relu", ["x"], ["r"], name="relu"),
                  helper.make_node("Dropout", ["r", "ratio"], ["d"], name="dropout"),
                  helper.make_node("Identity", ["d"], ["y"], name="identity")],
                 [tensor("x", ["N", 8])], [tensor("y", ["N", 8])], [ratio])


def clip_computed():
    """Clip whose lower bound is a graph input and upper bound a constant."""
    hi = numpy_helper.from_array(np.array(2.0, np.float32), "hi")
    return model([helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clip")],
                 [tensor("x", ["N", 5]), tensor("lo", [])], [tensor("y", ["N", 5])], [hi])


def class_token():
    """A ViT's class token broadcast over the batch, as torch.onnx writes
    token.expand(x.shape[0], -1, -1): the target shape is computed from x's."""
    def const(name, value):
        return helper.make_node("Constant", [], [name], name=name,
                                value=numpy_helper.from_array(np.array(value, dtype=np.int64)))
    token = numpy_helper.from_array(np.linspace(-1, 1, 4, dtype=np.float32).reshape(1, 1, 4), "token")
    return model([helper.make_node("Shape", ["x"], ["shape"], name="shape"),
                  const("zero", 0), const("axes", [0]), const("rest", [-1, -1]), const("three", [3]),
                  helper.make_node("Gather", ["shape", "zero"], ["n"], name="gather", axis=0),
                  helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], name="unsqueeze"),
                  helper.make_node("Concat", ["n1", "rest"], ["target"], name="concat", axis=0),
                  helper.make_node("ConstantOfShape", ["three"], ["ones"], name="ones",
                                   value=numpy_helper.from_array(np.array([1], np.int64))),
                  const("minus_one", -1),
                  helper.make_node("Mul", ["ones", "minus_one"], ["minus"], name="minus"),
                  helper.make_node("Equal", ["target", "minus"], ["is_any"], name="equal"),
                  helper.make_node("Where", ["is_any", "ones", "target"], ["sizes"], name="where"),
                  helper.make_node("Expand", ["token", "sizes"], ["tokens"], name="expand"),
                  helper.make_node("Concat", ["tokens", "x"], ["y"], name="cat", axis=1)],
                 [tensor("x", ["N", 3, 4])], [tensor("y", ["N", 4, 4])], [token])


def constant_of_shape():
    """A float ConstantOfShape of a constant shape, added to the input."""
    shape = numpy_helper.from_array(np.array([2, 3], np.int64), "shape")
    return model([helper.make_node("ConstantOfShape", ["shape"], ["c"], name="fill",
                                   value=numpy_helper.from_array(np.array([1.5], np.float32))),
                  helper.make_node("Add", ["x", "c"], ["y"], name="add")],
                 [tensor("x", ["N", 2, 3])], [tensor("y", ["N", 2, 3])], [shape])


MALFORMED = {
    "truncated": truncated, "notproto": notproto, "cycle": cycle, "missing-init": missing_init,
    "bad-init-size": bad_init_size, "dims-overflow": dims_overflow,
    "conv-zero-stride": lambda: zero_window("Conv", "strides", [0, 1]),
    "maxpool-zero-stride": lambda: zero_window("MaxPool", "strides", [1, 0]),
    "avgpool-zero-kernel": lambda: zero_window("AveragePool", "kernel_shape", [0, 2]),
    "conv-zero-dilation": lambda: zero_window("Conv", "dilations", [1, 0]),
    "unsqueeze-repeated": unsqueeze_repeated,
    "gemm-1d": gemm_1d, "gather-out-of-range": gather_out_of_range,
    "raw-and-typed-data": raw_and_typed_data, "node-without-outputs": node_without_outputs,
    "unknown-op-opset11": unknown_op_opset11, "huge-pad": huge_pad, "conv-huge-pads": conv_huge_pads,
    "external-data-escape": lambda out: external("../../etc/passwd"),
    "external-data-symlink": lambda out: external_link(out, "file"),
    "external-data-symlink-dir": lambda out: external_link(out, "dir"),
    "external-data-dev-zero": lambda out: external_link(out, "dev-zero"),
    "external-data-fifo": lambda out: external_link(out, "fifo"),
    "external-data-offset-overflow": lambda out: external_numbers(out, "9223372036854775000"),
    "external-data-bad-offset": lambda out: external_numbers(out, "12abc"),
}
MALFORMED.update(CATALOGUE)
VALID = {
    "unsupported": unsupported, "gemm-notrans": gemm_notrans, "shape-subgraph": shape_subgraph,
    "flatten-subgraph": flatten_subgraph, "trilu": trilu, "conv1d": conv1d, "casts": casts,
    "reductions": reductions, "size": size, "tile-range-einsum": tile_range_einsum,
    "slice-assignment": slice_assignment,
    "decoder": decoder,
    "external-data": external_data, "opset11": opset11, "dropout-identity": dropout_identity,
    "nan-weights": nan_weights, "two-batches": two_batches, "dynamic-reduction": dynamic_reduction,
    "clip-computed": clip_computed, "class-token": class_token,
    "constant-of-shape": constant_of_shape,
}
NEEDS_OUT = {"external-data", "external-data-escape", "external-data-symlink",
             "external-data-symlink-dir", "external-data-dev-zero", "external-data-fifo",
             "external-data-offset-overflow", "external-data-bad-offset"}


def main(argv):
    kinds = {**MALFORMED, **VALID}
    if len(argv) != 3 or argv[1] not in kinds:
        sys.stderr.write(f"usage: make_onnx.py KIND OUT_PATH\nKIND: {' '.join(kinds)}\n")
        return 2
    kind, out = argv[1], Path(argv[2])
    result = kinds[kind](out) if kind in NEEDS_OUT else kinds[kind]()
    out.write_bytes(result if isinstance(result, bytes) else result.SerializeToString())
    if kind in VALID:
        onnx.checker.check_model(str(out), full_check=True)  # by path: finds external data
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
