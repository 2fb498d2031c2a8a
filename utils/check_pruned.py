#!/usr/bin/python3
"""Masked model == physically pruned model: shears-eliminate-dead-neurons, checked with ONNX Runtime.

    check_pruned.py --model M.onnx --workdir D [--bin build/bin] [--fraction 0.3]
                    [--pattern aligned|random] [--seed S] [--input X.npy] [--tol 1e-4]
                    [--min-reduction PERCENT]

Zeroes a --fraction of the output channels (weight rows, filters) of every Conv and Gemm/MatMul
with initializer weights except the last one; keeps the bias of every third zeroed channel and
zeroes the others. `aligned` zeroes the same channel indices in every layer, so the channels that
residual adds, depthwise convolutions and concats couple die together; `random` picks them per
layer. Writes D/masked.onnx, then

    shears-translate --import-onnx masked.onnx | shears-opt --shears-eliminate-dead-neurons
        --canonicalize | shears-translate --export-onnx -o D/pruned.onnx

and, as the baseline that differs only by the pass, the same without it (D/baseline.onnx,
canonicalize folds batch_norm). Runs masked.onnx and pruned.onnx under ONNX Runtime on the same
input (--input, else <model>.input.npy next to the model, else seeded noise) and compares every
output (|a-b| <= tol + tol*|a|). Prints one summary line

    pruned OK <model>: max abs diff X, parameters B -> P (-R%), ...

or `pruned FAIL <model>: <why>`; exits 0 only if the outputs match and the pruned model has
fewer parameters than the baseline, by at least --min-reduction percent.
"""
import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

UTILS = Path(__file__).resolve().parent
sys.path.insert(0, str(UTILS))
from ort_compare import compare_dirs, run_ort  # noqa: E402


class Failure(Exception):
    pass


def weighted_layers(graph):
    """[(node, weight initializer, output-channel axis, bias initializer or None)]."""
    inits = {i.name: i for i in graph.initializer}
    layers = []
    for node in graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Conv" and node.input[1] in inits:
            axis = 0
        elif node.op_type == "Gemm" and node.input[1] in inits:
            axis = 0 if attrs.get("transB", 0) else 1
        elif node.op_type == "MatMul" and node.input[1] in inits:
            axis = 1
        else:
            continue
        bias = node.input[2] if len(node.input) > 2 and node.input[2] in inits else None
        if bias is not None and len(inits[bias].dims) != 1:
            bias = None
        layers.append((node, inits[node.input[1]], axis, bias and inits[bias]))
    return layers


def mask_model(model, fraction, pattern, seed):
    """Zeroes channels in place; returns the number of zeroed channels."""
    rng = np.random.default_rng(seed)
    zeroed = 0
    for node, weight, axis, bias in weighted_layers(model.graph)[:-1]:
        w = numpy_helper.to_array(weight).copy()
        channels = w.shape[axis]
        if pattern == "aligned":
            dead = [c for c in range(channels) if (c * 7 + seed) % 10 < fraction * 10]
        else:
            dead = sorted(rng.choice(channels, int(channels * fraction), replace=False))
        if len(dead) >= channels:
            dead = dead[:-1]
        index = [slice(None)] * w.ndim
        index[axis] = dead
        w[tuple(index)] = 0
        weight.CopyFrom(numpy_helper.from_array(w, weight.name))
        if bias is not None:
            b = numpy_helper.to_array(bias).copy()
            b[[c for k, c in enumerate(dead) if k % 3]] = 0
            bias.CopyFrom(numpy_helper.from_array(b, bias.name))
        zeroed += len(dead)
    return zeroed


def parameters(path):
    model = onnx.load(str(path))
    return sum(int(np.prod(i.dims)) for i in model.graph.initializer
               if i.data_type == onnx.TensorProto.FLOAT)


def channels(path):
    """Output channels of all weighted layers."""
    return sum(w.dims[axis] for _, w, axis, _ in weighted_layers(onnx.load(str(path)).graph))


def pipeline(tools, src, dst, passes):
    """Import, shears-opt with `passes`, export; stderr of a failing stage goes to ours."""
    steps = [[str(tools / "shears-translate"), "--import-onnx", str(src)],
             [str(tools / "shears-opt"), *passes],
             [str(tools / "shears-translate"), "--export-onnx", "-o", str(dst)]]
    data = b""
    for step in steps:
        proc = subprocess.run(step, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr.decode(errors="replace"))
            raise Failure(f"{Path(step[0]).name} exited with {proc.returncode}")
        data = proc.stdout


def make_input(model_path, given, workdir, seed):
    graph = onnx.load(str(model_path), load_external_data=False).graph
    inits = {i.name for i in graph.initializer}
    names = [i for i in graph.input if i.name not in inits]
    if len(names) != 1:
        raise Failure(f"expects a single-input model, got {[i.name for i in names]}")
    name = names[0].name
    if given:
        return {name: given}
    default = model_path.with_suffix(".input.npy")
    if default.is_file():
        return {name: str(default)}
    dims = [d.dim_value if d.HasField("dim_value") else 1
            for d in names[0].type.tensor_type.shape.dim]
    path = workdir / "input.npy"
    np.save(path, np.random.default_rng(seed).standard_normal(dims).astype(np.float32))
    return {name: str(path)}


def check(args):
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    model = onnx.load(str(args.model))
    zeroed = mask_model(model, args.fraction, args.pattern, args.seed)
    masked, baseline, pruned = work / "masked.onnx", work / "baseline.onnx", work / "pruned.onnx"
    onnx.save(model, str(masked))
    pipeline(args.bin, masked, baseline, ["--canonicalize"])
    pipeline(args.bin, masked, pruned, ["--shears-eliminate-dead-neurons", "--canonicalize"])
    inputs = make_input(args.model, args.input, work, args.seed)
    for path, out in ((masked, work / "masked"), (pruned, work / "pruned")):
        for old in out.glob("*.npy"):
            old.unlink()
        ok, err = run_ort(path, inputs, out)
        if not ok:
            sys.stderr.write(err + "\n")
            raise Failure(f"ONNX Runtime failed on {path}")
    lines = []
    ok, worst = compare_dirs(work / "masked", work / "pruned", rtol=args.tol, atol=args.tol,
                             log=lines.append)
    if not ok:
        raise Failure("outputs differ: " + "; ".join(l for l in lines if ": ok:" not in l))
    before, after = parameters(baseline), parameters(pruned)
    reduction = 100.0 * (before - after) / before
    if after >= before or reduction < args.min_reduction:
        raise Failure(f"parameters {before} -> {after} (-{reduction:.1f}%), expected at least "
                      f"-{args.min_reduction:g}% and at least one parameter fewer")
    return (f"max abs diff {worst:.3g}, parameters {before} -> {after} "
            f"(-{reduction:.1f}%), channels {channels(baseline)} -> "
            f"{channels(pruned)} ({zeroed} zeroed, {args.pattern} {args.fraction:g})")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--workdir", required=True, type=Path)
    p.add_argument("--bin", type=Path, default=UTILS.parent / "build" / "bin",
                   help="directory of shears-opt and shears-translate")
    p.add_argument("--fraction", type=float, default=0.3)
    p.add_argument("--pattern", choices=["aligned", "random"], default="aligned")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--input", help="input .npy (default <model>.input.npy)")
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--min-reduction", type=float, default=0.0,
                   help="fail below this parameter reduction, in percent")
    args = p.parse_args()
    name = args.model.name.removesuffix(".onnx")
    try:
        summary = check(args)
    except Failure as e:
        print(f"pruned FAIL {name}: {e}")
        return 1
    print(f"pruned OK {name}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
