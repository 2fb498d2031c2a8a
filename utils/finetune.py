#!/usr/bin/python3
"""Fine-tunes a pruned ONNX model with its zeros kept: the recovery loop after
`shears prune`, written back as ONNX that Shears (and any runtime) reads.

    finetune.py PRUNED.onnx -o TUNED.onnx [--epochs 3] [--lr 1e-3] [--batch 128]
                [--teacher DENSE.onnx --distill 0.5 --temperature 4]
                [--gradual SPARSITY] [--l1 L] [--group-lasso L]
                [--data-fraction F --select random|loss] [--seed 0]
                [--quantize int8|int4|binary [--group-size 64] [--exclude REGEX]
                 [--layer-weights REGEX=FORM ...]]
                [--input NAME=X.npy --labels Y.npy] [--json report.json]

The graph runs on PyTorch through utils/onnx_gradients.py's interpreter; every
float initializer of two or more dimensions (convolution filters, linear
weights) is trained, and its zeros stay zero: the mask is taken from the file
and re-applied after each step (biases and other vectors train freely;
scalars, such as an attention's scale, stay as they are). Adam
with the learning rate falling to zero along a cosine, cross-entropy on the
first output (logits).

- `--teacher`: knowledge distillation from the dense model: the loss is
  (1 - a) * cross-entropy + a * T^2 * KL(teacher || student) at temperature T
  (`--distill a`, `--temperature T`).
- `--gradual S`: Zhu and Gupta's gradual pruning: the weights' sparsity rises
  from what the file has to S along the cubic schedule
  s_t = S + (s_0 - S) * (1 - t / n)^3 over the first 75% of the steps, by
  magnitude per tensor, ten times; the masks then hold.
- `--l1 L`: adds L * sum |w| over the weights; `--group-lasso L`: adds
  L * sum of the L2 norms of their output channels (rows), to push whole
  channels to zero before `shears prune --granularity channel`.
- `--data-fraction F`: trains on a fraction of the training data, chosen at
  random or, with `--select loss`, the samples the model gets most wrong
  (highest cross-entropy before training).
- `--quantize FORM`: quantization-aware training for `shears quantize
  --activations none --weights FORM [--group-size G] [--exclude R]
  [--layer-weights R=FORM ...]`. The graph sees every weight that command
  quantizes as it would store it (dequantized); the float weights train
  under it, their gradients passed straight through the rounding
  (BinaryConnect's and XNOR-Net's estimator). The output holds
  the float weights: quantize it with that command, which gives the model
  the accuracies printed were measured on. A Conv followed by a
  BatchNormalization is an error: shears quantize quantizes the filter with
  the batch norm folded in (PyTorch's exporter folds them in eval mode).

Data: Fashion-MNIST's training set by default (utils/fashion_mnist.py),
reshaped to the model's single input; otherwise --input and --labels. Test
accuracy before and after is printed when the model takes Fashion-MNIST
images (`--json` writes it with the run's settings). The output is written
beside its path and renamed over it when done; a loss that is not finite
(training diverged) stops the run with an error and writes nothing.
"""
import argparse
import functools
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from onnx_gradients import Interpreter, densify, load_data  # noqa: E402


def weight_names(interp):
    """Float initializers of rank >= 2: the tensors pruning masks."""
    return [n for n, p in interp.params.items() if p.dim() >= 2]


def quantized_layers(model, interp, form, exclude=None, overrides=()):
    """Initializer name -> (the axis of its output channels, its format),
    for every weight `shears quantize --weights FORM` quantizes: a Conv's
    filter (axis 0), a Gemm's or a MatMul's constant right-hand side of rank
    2 (1, or 0 under transB) and a Gather's constant table of rank 2 (its
    rows); but those of nodes whose name the regex `exclude` matches, as
    `--exclude`. `overrides`: (regex, format) pairs, as `--layer-weights`
    (the first whose regex matches the node's name gives its format)."""
    layers = {}
    readers = {}
    for node in model.graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node.op_type)
    for node in model.graph.node:
        if exclude and re.search(exclude, node.name):
            continue
        if node.op_type == "Conv" and readers.get(node.output[0]) == ["BatchNormalization"]:
            raise ValueError(f"--quantize: node '{node.name}' (Conv) is followed by a "
                             "BatchNormalization, which shears quantize folds into the filter "
                             "before quantizing it; export the model with batch norms folded")
        if node.op_type == "Conv" and len(node.input) > 1:
            name, axis = node.input[1], 0
        elif node.op_type in ("Gemm", "MatMul") and len(node.input) > 1:
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)
            name, axis = node.input[1], 0 if trans_b else 1
        elif node.op_type == "Gather":
            name, axis = node.input[0], 0
        else:
            continue
        param = interp.params.get(name)
        if param is not None and (node.op_type == "Conv" or param.dim() == 2):
            layers[name] = (axis, next((f for r, f in overrides if re.search(r, node.name)), form))
    return layers


def fake_quantize(weight, axis, form, group_size):
    """`weight` as `shears quantize --weights FORM` stores it, dequantized:
    int8 symmetric per output channel, int4 per group of `group_size` along
    an output channel (a channel's last group padded with zeros; one shorter
    than a group is one group), or binary (the sign, zero counted positive,
    times the mean |w| of the channel). Gradients pass straight through to
    `weight` (the straight-through estimator)."""
    rows = weight.movedim(axis, 0)
    flat = rows.reshape(rows.shape[0], -1)
    inner = flat.shape[1]
    grouped = form == "int4"
    size = min(group_size, inner) if grouped else inner
    padded = -(-inner // size) * size
    values = F.pad(flat, (0, padded - inner)).reshape(-1, size)
    with torch.no_grad():
        if form == "binary":
            mean = values.abs().sum(1, keepdim=True, dtype=torch.float64) / size
            scale = torch.where(mean > 0, mean, 1.0).float()
            ints = torch.where(values < 0, -1.0, 1.0)
        else:
            top = 7.0 if grouped else 127.0
            largest = values.abs().amax(1, keepdim=True)
            scale = torch.where(largest > 0, largest / top, 1.0)
            ints = torch.clamp(torch.round(values / scale), -top - 1, top)
        quantized = (ints * scale).reshape(-1, padded)[:, :inner]
    out = flat + (quantized - flat).detach()
    return out.reshape(rows.shape).movedim(0, axis)


def prune_to(tensor, sparsity):
    """Zeros the smallest-magnitude `sparsity` fraction of `tensor` (in place)."""
    k = int(sparsity * tensor.numel())
    if k <= 0:
        return
    threshold = tensor.detach().abs().flatten().kthvalue(k).values
    tensor.data[tensor.detach().abs() <= threshold] = 0


def cubic(step, steps, start, final):
    """Zhu and Gupta's schedule over the first 75% of `steps`."""
    end = max(1, int(0.75 * steps))
    t = min(step, end) / end
    return final + (start - final) * (1 - t) ** 3


def evaluate(interp, feeds, labels, batch=1000):
    with torch.no_grad():
        hits = 0
        for start in range(0, len(labels), batch):
            logits = interp.run({k: v[start:start + batch] for k, v in feeds.items()})[0]
            hits += (logits.reshape(len(logits), -1).argmax(1) == labels[start:start + batch]).sum().item()
    return hits / len(labels)


def test_data(interp):
    """Fashion-MNIST test images shaped for the model's input, or None."""
    if len(interp.inputs) != 1:
        return None
    dims = [d.dim_value for d in interp.inputs[0].type.tensor_type.shape.dim][1:]
    if not all(dims) or int(np.prod(dims)) != 784:
        return None
    import fashion_mnist
    images, labels = fashion_mnist.load("test")
    return ({interp.inputs[0].name: interp.tensor(images.reshape([-1] + dims))},
            torch.from_numpy(labels.astype(np.int64)))


def select(interp, feeds, labels, fraction, how, seed):
    """Indices of the training samples to use."""
    n = len(labels)
    count = max(1, int(round(fraction * n)))
    if count >= n:
        return torch.arange(n)
    if how == "random":
        return torch.from_numpy(np.sort(np.random.default_rng(seed).choice(n, count, replace=False)))
    losses = []
    with torch.no_grad():
        for start in range(0, n, 1000):
            logits = interp.run({k: v[start:start + 1000] for k, v in feeds.items()})[0]
            losses.append(F.cross_entropy(logits.reshape(len(logits), -1),
                                          labels[start:start + 1000], reduction="none"))
    return torch.sort(torch.cat(losses).argsort(descending=True)[:count]).values


def finetune(interp, feeds, labels, args, teacher=None, log=print):
    names = weight_names(interp)
    masks = {n: interp.params[n].detach() != 0 for n in names}
    start_sparsity = {n: 1 - m.float().mean().item() for n, m in masks.items()}
    # Scalars (an attention's sqrt(d) divisor, GELU's sqrt(2), a LayerNorm's
    # epsilon as the exporter writes them) are constants of the computation.
    optimizer = torch.optim.Adam([p for p in interp.params.values() if p.dim() > 0], lr=args.lr)
    n = len(labels)
    steps = args.epochs * -(-n // args.batch)
    # The learning rate falls to zero along a cosine over the run.
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: 0.5 * (1 + np.cos(np.pi * min(i, steps) / max(steps, 1))))
    prune_every = max(1, int(0.75 * steps) // 10)
    generator = torch.Generator().manual_seed(args.seed)
    step = 0
    for epoch in range(args.epochs):
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, args.batch):
            idx = order[start:start + args.batch]
            batch = {k: v[idx] for k, v in feeds.items()}
            logits = interp.run(batch)[0]
            logits = logits.reshape(len(logits), -1)
            loss = F.cross_entropy(logits, labels[idx])
            if teacher is not None and args.distill > 0:
                with torch.no_grad():
                    target = teacher.run(batch)[0].reshape(len(logits), -1)
                temp = args.temperature
                kd = F.kl_div(F.log_softmax(logits / temp, 1), F.softmax(target / temp, 1),
                              reduction="batchmean") * temp * temp
                loss = (1 - args.distill) * loss + args.distill * kd
            if args.l1 > 0:
                loss = loss + args.l1 * sum(interp.params[w].abs().sum() for w in names)
            if args.group_lasso > 0:
                loss = loss + args.group_lasso * sum(
                    interp.params[w].flatten(1).norm(dim=1).sum() for w in names)
            if not torch.isfinite(loss):
                raise ValueError(f"training diverged: the loss is {loss.item()} at step {step + 1} "
                                 f"of {steps} (epoch {epoch + 1}); try a lower --lr")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            with torch.no_grad():
                if args.gradual is not None and step % prune_every == 0 and step <= 0.75 * steps + 1:
                    for w in names:
                        target_sparsity = cubic(step, steps, start_sparsity[w], args.gradual)
                        prune_to(interp.params[w], target_sparsity)
                        masks[w] = interp.params[w].detach() != 0
                for w in names:
                    # masked_fill, not a product: -w * 0 is -0.0, which sparse
                    # formats would store as a value.
                    interp.params[w].masked_fill_(~masks[w], 0.0)
            total += loss.item() * len(idx)
        log(f"epoch {epoch + 1}/{args.epochs}: loss {total / n:.4f}")
    if args.gradual is not None:
        with torch.no_grad():
            for w in names:
                prune_to(interp.params[w], args.gradual)


def write_model(model, interp, path):
    """`model` with its float initializers replaced by the trained values,
    written atomically."""
    for init in model.graph.initializer:
        if init.name in interp.params:
            array = interp.params[init.name].detach().numpy().astype(
                onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[init.data_type])
            init.CopyFrom(numpy_helper.from_array(array, init.name))
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        onnx.save(model, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="pruned ONNX model")
    p.add_argument("-o", "--output", required=True, help="fine-tuned ONNX model to write")
    p.add_argument("--epochs", type=int, default=3, help="passes over the data (default 3)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate (default 1e-3)")
    p.add_argument("--batch", type=int, default=128, help="mini-batch size (default 128)")
    p.add_argument("--teacher", help="dense ONNX model to distill from")
    p.add_argument("--distill", type=float, default=0.5, help="weight of distillation (default 0.5)")
    p.add_argument("--temperature", type=float, default=4.0, help="distillation temperature (default 4)")
    p.add_argument("--gradual", type=float, metavar="S", help="prune gradually to sparsity S")
    p.add_argument("--l1", type=float, default=0.0, help="L1 penalty on the weights")
    p.add_argument("--group-lasso", type=float, default=0.0, help="group-lasso penalty on output channels")
    p.add_argument("--data-fraction", type=float, default=1.0, help="fraction of the data used (default 1)")
    p.add_argument("--select", choices=["random", "loss"], default="random",
                   help="how the fraction is chosen (default random)")
    p.add_argument("--samples", type=int, default=60000, help="training samples at most (default 60000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quantize", choices=["int8", "int4", "binary"],
                   help="train as `shears quantize --activations none --weights FORM` stores the weights")
    p.add_argument("--group-size", type=int, default=64,
                   help="--quantize int4: weights per scale, as shears quantize's (default 64)")
    p.add_argument("--exclude", metavar="REGEX",
                   help="--quantize: layers (ONNX node names) that stay f32, as shears quantize's")
    p.add_argument("--layer-weights", action="append", default=[], metavar="REGEX=FORM",
                   help="--quantize: the format of layers whose node name matches REGEX, as "
                        "shears quantize's (repeatable; the first match wins)")
    p.add_argument("--input", action="append", metavar="NAME=X.npy", help="training input NAME from X.npy")
    p.add_argument("--labels", metavar="Y.npy", help="int class labels, with --input")
    p.add_argument("--json", help="write the settings and accuracies as JSON here")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args()
    if bool(args.input) != bool(args.labels):
        p.error("--input and --labels go together")
    for name, value, low, high in (("--epochs", args.epochs, 0, None), ("--data-fraction", args.data_fraction, 0, 1),
                                   ("--distill", args.distill, 0, 1), ("--l1", args.l1, 0, None),
                                   ("--group-lasso", args.group_lasso, 0, None), ("--gradual", args.gradual, 0, 1)):
        if value is None:
            continue
        if value < low or (high is not None and value > high) or (name == "--data-fraction" and value == 0) \
                or (name == "--gradual" and value >= 1):
            p.error(f"{name} {value} is out of range")
    if args.lr <= 0 or args.batch < 1 or args.temperature <= 0:
        p.error("--lr, --batch and --temperature must be positive")
    if args.group_size < 1:
        p.error(f"--group-size {args.group_size} is not positive")
    if args.exclude is not None:
        try:
            re.compile(args.exclude)
        except re.error as e:
            p.error(f"--exclude '{args.exclude}' is not a valid regex: {e}")
    overrides = []
    for entry in args.layer_weights:
        regex, _, form = entry.rpartition("=")
        if form not in ("int8", "int4", "binary"):
            p.error(f"--layer-weights '{entry}' is not REGEX=FORM (FORM int8, int4 or binary)")
        try:
            re.compile(regex)
        except re.error as e:
            p.error(f"--layer-weights '{entry}': invalid regex: {e}")
        overrides.append((regex, form))
    if (args.exclude is not None or overrides) and not args.quantize:
        p.error("--exclude and --layer-weights go with --quantize")
    log = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    started = time.perf_counter()
    try:
        torch.manual_seed(args.seed)
        model = densify(onnx.load(args.model))
        interp = Interpreter(model)
        if args.quantize:
            layers = quantized_layers(model, interp, args.quantize, args.exclude, overrides)
            if not layers:
                raise ValueError("--quantize: the model has no layer shears quantize quantizes")
            interp.transforms = {name: functools.partial(fake_quantize, axis=axis, form=form,
                                                         group_size=args.group_size)
                                 for name, (axis, form) in layers.items()}
        teacher = Interpreter(densify(onnx.load(args.teacher))) if args.teacher else None
        feeds, labels = load_data(interp, args)
        chosen = select(interp, feeds, labels, args.data_fraction, args.select, args.seed)
        feeds, labels = {k: v[chosen] for k, v in feeds.items()}, labels[chosen]
        test = test_data(interp)
        before = evaluate(interp, *test) if test else None
        finetune(interp, feeds, labels, args, teacher, log)
        after = evaluate(interp, *test) if test else None
        write_model(model, interp, args.output)
    except Exception as e:  # noqa: BLE001 (one message for any failure)
        print(f"finetune.py: error: {args.model}: {e}", file=sys.stderr)
        return 1
    zeros = sum((interp.params[w] == 0).sum().item() for w in weight_names(interp))
    size = sum(interp.params[w].numel() for w in weight_names(interp))
    line = (f"fine-tuned {Path(args.model).name}: {args.epochs} epochs on {len(labels)} samples, "
            f"weights {zeros / size:.1%} zero")
    if before is not None:
        weights = f" with {args.quantize} weights" if args.quantize else ""
        line += f", test accuracy{weights} {before:.2%} -> {after:.2%}"
    print(line + f" -> {args.output} ({time.perf_counter() - started:.0f} s)")
    if args.quantize:
        int4 = args.quantize == "int4" or any(form == "int4" for _, form in overrides)
        group = f" --group-size {args.group_size}" if int4 else ""
        exclude = f" --exclude '{args.exclude}'" if args.exclude else ""
        exclude += "".join(f" --layer-weights '{e}'" for e in args.layer_weights)
        print(f"quantize it: shears quantize {args.output} --activations none "
              f"--weights {args.quantize}{group}{exclude}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "output": args.output, "samples": len(labels),
                       "settings": {k: v for k, v in vars(args).items() if k not in ("json", "quiet")},
                       "weight_sparsity": zeros / size, "accuracy_before": before,
                       "accuracy_after": after}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
