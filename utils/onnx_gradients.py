#!/usr/bin/python3
"""Gradients of a classification loss with respect to an ONNX model's weights.

    onnx_gradients.py MODEL.onnx -o GRADS.npz [--samples 2048] [--batch 128] [--seed 0]
                      [--squared] [--input NAME=X.npy ... --labels Y.npy]

Evaluates MODEL's graph with PyTorch ops (a small interpreter: Conv, Gemm, MatMul, pooling,
BatchNormalization, LayerNormalization and the decomposed LayerNorm and GELU that transformers
export (ReduceMean, Pow, Sqrt, Erf), elementwise and shape ops; anything else is an error naming
the op and the node) and takes the mean cross-entropy of its first output (logits) against the labels. Every
float initializer is a leaf tensor, and GRADS.npz (np.savez, uncompressed) gets one float32 array
per float initializer, keyed by its name and of its shape: the gradient of the loss averaged over
all samples, or with --squared the root-mean-square of the per-batch gradients (Molchanov-style
accumulation). `shears-insert-masks{criterion=taylor gradients=GRADS.npz}` scores each weight by
|w * g| from it. Non-float initializers are skipped.

Data: by default --samples Fashion-MNIST training images (utils/fashion_mnist.py, a seeded random
subset) reshaped to the model's single input, e.g. [N,784] or [N,1,28,28]. For other models give
each input as --input NAME=X.npy (first axis: samples) and the int labels as --labels Y.npy.
Prints one line: `gradients <model>: S samples, T tensors -> GRADS.npz`.
"""
import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, numpy_helper

FLOAT_TYPES = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16}
INT_TYPES = {TensorProto.INT64: torch.int64, TensorProto.INT32: torch.int32,
             TensorProto.INT16: torch.int16, TensorProto.INT8: torch.int8,
             TensorProto.UINT8: torch.uint8, TensorProto.BOOL: torch.bool}
OPS = {}


class UnsupportedOp(Exception):
    pass


class GraphError(Exception):
    pass


def op(*names):
    def register(fn):
        for name in names:
            OPS[name] = fn
        return fn
    return register


def densify(model):
    """Moves `model`'s sparse initializers (as `shears prune` writes them)
    into its dense initializers, in place; returns the model."""
    for sparse in list(model.graph.sparse_initializer):
        values = numpy_helper.to_array(sparse.values)
        indices = numpy_helper.to_array(sparse.indices)
        shape = tuple(sparse.dims)
        if indices.ndim == 2:  # [NNZ, rank] coordinates
            indices = np.ravel_multi_index(tuple(indices.T), shape)
        dense = np.zeros(int(np.prod(shape)), values.dtype)
        dense[indices] = values
        model.graph.initializer.append(numpy_helper.from_array(dense.reshape(shape),
                                                               sparse.values.name))
    del model.graph.sparse_initializer[:]
    return model


class Interpreter:
    """Runs an ONNX graph with torch ops; float initializers are leaves that require grad."""

    def __init__(self, model, dtype=torch.float32):
        self.graph, self.dtype = model.graph, dtype
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        for node in self.graph.node:
            if node.domain not in ("", "ai.onnx") or node.op_type not in OPS:
                raise UnsupportedOp(f"unsupported ONNX op '{node.op_type}' (node '{node.name}', "
                                    f"output '{node.output[0] if node.output else ''}')")
        self.params, self.consts = {}, {}
        for init in self.graph.initializer:
            if init.data_type in FLOAT_TYPES:
                self.params[init.name] = self.tensor(numpy_helper.to_array(init)).requires_grad_()
            else:
                self.consts[init.name] = self.tensor(numpy_helper.to_array(init))
        self.inputs = [i for i in self.graph.input if i.name not in self.params and i.name not in self.consts]
        # name -> function: the graph sees transforms[name](params[name]) in
        # place of the parameter (fine-tuning's fake quantization).
        self.transforms = {}

    def tensor(self, array):
        array = np.asarray(array)
        if array.dtype.kind == "f":
            return torch.tensor(array, dtype=self.dtype)
        return torch.from_numpy(array.copy())

    def run(self, feeds):
        """Returns the graph's outputs for `feeds` (name -> tensor)."""
        env = {**self.params, **self.consts, **feeds}
        env.update({n: f(self.params[n]) for n, f in self.transforms.items()})
        for node in self.graph.node:
            try:
                missing = [n for n in node.input if n and n not in env]
                if missing:
                    raise ValueError(f"input {missing} is neither fed nor computed before")
                ins = [env[name] if name else None for name in node.input]
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
                attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
                outs = OPS[node.op_type](self, ins, attrs, len(node.output))
                outs = outs if isinstance(outs, (tuple, list)) else (outs,)
                for i, name in enumerate(node.output):
                    if name and i >= len(outs):
                        raise UnsupportedOp(f"output {i} of {node.op_type} is not supported")
                    if name:
                        env[name] = outs[i]
            except Exception as e:
                raise GraphError(f"node '{node.name}' ({node.op_type}): {e}") from e
        return [env[o.name] for o in self.graph.output]


def opt(ins, k):
    """Optional input k, None when absent."""
    return ins[k] if k < len(ins) else None


def ints(t):
    return [int(v) for v in t.tolist()] if t is not None else None


def spatial_pads(attrs, x, kernel, strides, dilations):
    """ONNX pads [b1..bn, e1..en] of a Conv/pool after resolving auto_pad."""
    n, auto = len(kernel), attrs.get("auto_pad", "NOTSET")
    if auto == "VALID":
        return [0] * 2 * n
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0] * 2 * n
        for i, (size, k, s, d) in enumerate(zip(x.shape[2:], kernel, strides, dilations)):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, big = total // 2, total - total // 2
            pads[i], pads[i + n] = (small, big) if auto == "SAME_UPPER" else (big, small)
        return pads
    return list(attrs.get("pads", [0] * 2 * n))


def torch_pads(pads):
    """ONNX pads [b1..bn, e1..en] -> F.pad's (b_n, e_n, ..., b_1, e_1)."""
    n = len(pads) // 2
    return [p for i in reversed(range(n)) for p in (pads[i], pads[i + n])]


def window(attrs, x, kernel):
    n = len(kernel)
    strides = list(attrs.get("strides", [1] * n))
    dilations = list(attrs.get("dilations", [1] * n))
    return strides, dilations, spatial_pads(attrs, x, kernel, strides, dilations)


@op("Conv")
def conv(ctx, ins, attrs, _):
    x, w, b = ins[0], ins[1], opt(ins, 2)
    kernel = list(attrs.get("kernel_shape", w.shape[2:]))
    strides, dilations, pads = window(attrs, x, kernel)
    fn = (F.conv1d, F.conv2d, F.conv3d)[len(kernel) - 1]
    n = len(kernel)
    if pads[:n] == pads[n:]:
        return fn(x, w, b, strides, pads[:n], dilations, attrs.get("group", 1))
    return fn(F.pad(x, torch_pads(pads)), w, b, strides, 0, dilations, attrs.get("group", 1))


@op("MaxPool")
def max_pool(ctx, ins, attrs, n_out):
    x, kernel = ins[0], list(attrs["kernel_shape"])
    strides, dilations, pads = window(attrs, x, kernel)
    fn = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[len(kernel) - 1]
    x = F.pad(x, torch_pads(pads), value=-math.inf) if any(pads) else x
    return fn(x, kernel, strides, 0, dilations, bool(attrs.get("ceil_mode", 0)))


@op("AveragePool")
def average_pool(ctx, ins, attrs, _):
    x, kernel = ins[0], list(attrs["kernel_shape"])
    strides, _, pads = window(attrs, x, kernel)
    fn = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[len(kernel) - 1]
    pool = lambda t: fn(F.pad(t, torch_pads(pads)), kernel, strides, 0,  # noqa: E731
                        bool(attrs.get("ceil_mode", 0)), True)
    if attrs.get("count_include_pad", 0) or not any(pads):
        return pool(x)
    return pool(x) / pool(torch.ones_like(x[:1, :1]))  # divide by the count of real pixels


@op("GlobalAveragePool")
def global_average_pool(ctx, ins, attrs, _):
    return ins[0].mean(dim=tuple(range(2, ins[0].dim())), keepdim=True)


@op("BatchNormalization")
def batch_norm(ctx, ins, attrs, _):
    x, scale, bias, mean, var = ins[:5]
    shape = [1, -1] + [1] * (x.dim() - 2)
    inv = scale.reshape(shape) / torch.sqrt(var.reshape(shape) + attrs.get("epsilon", 1e-5))
    return (x - mean.reshape(shape)) * inv + bias.reshape(shape)


@op("Gemm")
def gemm(ctx, ins, attrs, _):
    a, b, c = ins[0], ins[1], opt(ins, 2)
    a = a.t() if attrs.get("transA", 0) else a
    b = b.t() if attrs.get("transB", 0) else b
    y = attrs.get("alpha", 1.0) * (a @ b)
    return y if c is None else y + attrs.get("beta", 1.0) * c


@op("MatMul")
def matmul(ctx, ins, attrs, _):
    return torch.matmul(ins[0], ins[1])


def elementwise(fn):
    return lambda ctx, ins, attrs, _: fn(*ins)


OPS.update({
    "Add": elementwise(torch.add), "Sub": elementwise(torch.sub), "Mul": elementwise(torch.mul),
    "Div": elementwise(lambda a, b: a / b if a.is_floating_point()
                       else torch.div(a, b, rounding_mode="trunc")),
    "Relu": elementwise(torch.relu), "Sigmoid": elementwise(torch.sigmoid),
    "Tanh": elementwise(torch.tanh), "Identity": elementwise(lambda x: x),
    # What transformers export (decomposed LayerNorm and GELU, attention masks).
    "Pow": elementwise(torch.pow), "Sqrt": elementwise(torch.sqrt), "Erf": elementwise(torch.erf),
    "Exp": elementwise(torch.exp), "Neg": elementwise(torch.neg),
    "Equal": elementwise(torch.eq), "Where": elementwise(torch.where),
})


def reduction(fn):
    def reduce(ctx, ins, attrs, _):
        x = ins[0]
        # Axes are an attribute of ReduceMean before opset 18, an input of ReduceSum from 13.
        axes = ints(opt(ins, 1)) if opt(ins, 1) is not None else attrs.get("axes")
        if not axes:
            if attrs.get("noop_with_empty_axes", 0):
                return x
            axes = list(range(x.dim()))
        return fn(x, dim=tuple(a % x.dim() for a in axes), keepdim=bool(attrs.get("keepdims", 1)))
    return reduce


OPS.update({"ReduceMean": reduction(torch.mean), "ReduceSum": reduction(torch.sum)})


@op("Expand")
def expand(ctx, ins, attrs, _):
    x = ins[0]
    return x.expand(torch.broadcast_shapes(x.shape, tuple(ints(ins[1]))))


@op("ConstantOfShape")
def constant_of_shape(ctx, ins, attrs, _):
    value = numpy_helper.to_array(attrs["value"]) if "value" in attrs else np.zeros(1, np.float32)
    return ctx.tensor(np.full(ints(ins[0]), value.reshape(-1)[0], value.dtype))


@op("LayerNormalization")
def layer_norm(ctx, ins, attrs, _):
    x, scale, bias = ins[0], ins[1], opt(ins, 2)
    axis = attrs.get("axis", -1) % x.dim()
    return F.layer_norm(x, x.shape[axis:], scale, bias, attrs.get("epsilon", 1e-5))


@op("Dropout")
def dropout(ctx, ins, attrs, _):
    return ins[0], torch.ones_like(ins[0], dtype=torch.bool)


@op("Clip")
def clip(ctx, ins, attrs, _):
    if ctx.opset >= 11:
        lo, hi = [t.item() if t is not None else None for t in (opt(ins, 1), opt(ins, 2))]
    else:
        lo, hi = attrs.get("min"), attrs.get("max")
    return ins[0] if lo is None and hi is None else torch.clamp(ins[0], lo, hi)


@op("Softmax")
def softmax(ctx, ins, attrs, _):
    x = ins[0]
    if ctx.opset >= 13:
        return F.softmax(x, attrs.get("axis", -1))
    axis = attrs.get("axis", 1) % x.dim()
    return F.softmax(x.reshape(math.prod(x.shape[:axis]), -1), 1).reshape(x.shape)


@op("Flatten")
def flatten(ctx, ins, attrs, _):
    x = ins[0]
    axis = attrs.get("axis", 1)
    axis = axis + x.dim() if axis < 0 else axis
    return x.reshape(math.prod(x.shape[:axis]), math.prod(x.shape[axis:]))


@op("Reshape")
def reshape(ctx, ins, attrs, _):
    x, shape = ins[0], ints(ins[1])
    if not attrs.get("allowzero", 0):
        shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)


@op("Transpose")
def transpose(ctx, ins, attrs, _):
    return ins[0].permute(list(attrs.get("perm", reversed(range(ins[0].dim())))))


@op("Concat")
def concat(ctx, ins, attrs, _):
    return torch.cat([t for t in ins if t is not None], attrs["axis"])


@op("Slice")
def slice_(ctx, ins, attrs, _):
    x = ins[0]
    if ctx.opset >= 10:
        starts, ends, axes, steps = [ints(opt(ins, k)) for k in range(1, 5)]
    else:
        starts, ends, axes, steps = attrs["starts"], attrs["ends"], attrs.get("axes"), None
    axes = axes or list(range(len(starts)))
    for start, end, axis, step in zip(starts, ends, axes, steps or [1] * len(starts)):
        r = range(*slice(start, end, step).indices(x.shape[axis]))
        x = x.index_select(axis, torch.tensor(r, dtype=torch.int64))
    return x


@op("Split")
def split(ctx, ins, attrs, n_out):
    x, axis = ins[0], attrs.get("axis", 0)
    sizes = ints(opt(ins, 1)) or attrs.get("split")
    if not sizes:
        chunk = -(-x.shape[axis] // n_out)
        sizes = [min(chunk, x.shape[axis] - i * chunk) for i in range(n_out)]
    return torch.split(x, list(sizes), axis)


@op("Pad")
def pad(ctx, ins, attrs, _):
    if attrs.get("mode", "constant") != "constant":
        raise UnsupportedOp(f"Pad mode '{attrs['mode']}' is not supported (only constant)")
    x = ins[0]
    if ctx.opset >= 11:
        pads, axes = ints(ins[1]), ints(opt(ins, 3))
        value = opt(ins, 2).item() if opt(ins, 2) is not None else 0.0
    else:
        pads, value, axes = list(attrs["pads"]), attrs.get("value", 0.0), None
    if axes is not None:
        full = [0] * 2 * x.dim()
        for i, a in enumerate(a % x.dim() for a in axes):
            full[a], full[a + x.dim()] = pads[i], pads[i + len(axes)]
        pads = full
    return F.pad(x, torch_pads(pads), value=value)


@op("Gather")
def gather(ctx, ins, attrs, _):
    x, idx = ins
    axis = attrs.get("axis", 0) % x.dim()
    idx = torch.where(idx < 0, idx + x.shape[axis], idx).long()
    out = x.index_select(axis, idx.reshape(-1))
    return out.reshape(x.shape[:axis] + idx.shape + x.shape[axis + 1:])


@op("Constant")
def constant(ctx, ins, attrs, _):
    (key, value), = attrs.items()
    if key == "value":
        return ctx.tensor(numpy_helper.to_array(value))
    if key in ("value_float", "value_floats", "value_int", "value_ints"):
        return ctx.tensor(np.array(value, np.float32 if "float" in key else np.int64))
    raise UnsupportedOp(f"Constant attribute '{key}' is not supported")


@op("Shape")
def shape(ctx, ins, attrs, _):
    dims = list(ins[0].shape)
    return torch.tensor(dims[attrs.get("start", 0):attrs.get("end", len(dims))], dtype=torch.int64)


@op("Unsqueeze")
def unsqueeze(ctx, ins, attrs, _):
    x = ins[0]
    axes = ints(opt(ins, 1)) or list(attrs["axes"])
    for a in sorted(a % (x.dim() + len(axes)) for a in axes):
        x = x.unsqueeze(a)
    return x


@op("Squeeze")
def squeeze(ctx, ins, attrs, _):
    x = ins[0]
    axes = ints(opt(ins, 1)) if opt(ins, 1) is not None else attrs.get("axes")
    if axes is None:
        return x.reshape([d for d in x.shape if d != 1])
    for a in sorted((a % x.dim() for a in axes), reverse=True):
        x = x.squeeze(a)
    return x


@op("Cast")
def cast(ctx, ins, attrs, _):
    to = attrs["to"]
    if to in FLOAT_TYPES:
        return ins[0].to(ctx.dtype)
    if to not in INT_TYPES:
        raise UnsupportedOp(f"Cast to {TensorProto.DataType.Name(to)} is not supported")
    return ins[0].to(INT_TYPES[to])


def loss_of(interp, feeds, labels):
    """Mean cross-entropy of the model's first output against `labels`."""
    logits = interp.run(feeds)[0]
    return F.cross_entropy(logits.reshape(logits.shape[0], -1), labels)


def gradients(interp, feeds, labels, batch, squared=False, log=None):
    """{initializer: float32 array}: batch-size-weighted mean (or RMS) of per-batch gradients."""
    names = list(interp.params)
    acc = {n: torch.zeros_like(interp.params[n]) for n in names}
    total = len(labels)
    for start in range(0, total, batch):
        batch_feeds = {k: v[start:start + batch] for k, v in feeds.items()}
        y = labels[start:start + batch]
        loss = loss_of(interp, batch_feeds, y)
        grads = torch.autograd.grad(loss, [interp.params[n] for n in names], allow_unused=True)
        for n, g in zip(names, grads):
            if g is not None:
                acc[n] += len(y) * (g * g if squared else g)
        if log:
            log(f"batch {start // batch + 1}/{-(-total // batch)}: loss {loss.item():.4f}")
    out = {n: a / total for n, a in acc.items()}
    return {n: (a.sqrt() if squared else a).detach().numpy().astype(np.float32) for n, a in out.items()}


def load_data(interp, args):
    """(feeds: name -> tensor, labels) with a seeded subset of at most args.samples samples."""
    if args.input:
        arrays = {}
        for spec in args.input:
            name, _, path = spec.partition("=")
            arrays[name] = np.load(path)
        labels = np.load(args.labels)
        names = sorted(i.name for i in interp.inputs)
        if sorted(arrays) != names:
            raise ValueError(f"the model's inputs are {names}, --input gives {sorted(arrays)}")
    else:
        if len(interp.inputs) != 1:
            raise ValueError(f"the model has {len(interp.inputs)} inputs; give them with --input")
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import fashion_mnist
        images, labels = fashion_mnist.load("train")
        inp = interp.inputs[0]
        dims = [d.dim_value for d in inp.type.tensor_type.shape.dim][1:]
        if not all(dims) or math.prod(dims) != 784:
            raise ValueError(f"input '{inp.name}' of shape {['N'] + dims} does not take 28x28 images; "
                             "use --input NAME=X.npy --labels Y.npy")
        arrays = {inp.name: images.reshape([-1] + dims)}
    n = len(labels)
    if any(len(a) != n for a in arrays.values()):
        raise ValueError("inputs and labels differ in their number of samples")
    idx = np.arange(n)
    if args.samples < n:
        idx = np.sort(np.random.default_rng(args.seed).choice(n, args.samples, replace=False))
    feeds = {k: interp.tensor(a[idx]) for k, a in arrays.items()}
    return feeds, torch.from_numpy(labels[idx].astype(np.int64))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="ONNX model")
    p.add_argument("-o", "--output", required=True, help="output .npz, keyed by initializer name")
    p.add_argument("--samples", type=int, default=2048, help="samples used (default 2048)")
    p.add_argument("--batch", type=int, default=128, help="mini-batch size (default 128)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample subset (default 0)")
    p.add_argument("--squared", action="store_true",
                   help="root-mean-square of the per-batch gradients instead of their mean")
    p.add_argument("--input", action="append", metavar="NAME=X.npy",
                   help="model input NAME from X.npy (repeat for several inputs)")
    p.add_argument("--labels", metavar="Y.npy", help="int class labels, with --input")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args()
    if bool(args.input) != bool(args.labels):
        p.error("--input and --labels go together")
    tmp = f"{args.output}.tmp{os.getpid()}"
    try:
        interp = Interpreter(densify(onnx.load(args.model)))
        feeds, labels = load_data(interp, args)
        log = None if args.quiet else lambda m: print(m, file=sys.stderr, flush=True)
        grads = gradients(interp, feeds, labels, args.batch, args.squared, log)
        with open(tmp, "wb") as f:
            np.savez(f, **grads)
        os.replace(tmp, args.output)
    except Exception as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        print(f"onnx_gradients.py: error: {args.model}: {e}", file=sys.stderr)
        return 1
    print(f"gradients {Path(args.model).name}: {len(labels)} samples, {len(grads)} tensors -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
