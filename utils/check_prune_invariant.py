#!/usr/bin/python3
"""Checks that a physically pruned model computes what its masked version does.

    check_prune_invariant.py --model M.onnx --options "sparsity=0.5 granularity=channel"
                             [--batch 2] [--tol 1e-4] [--seed 0]

Builds two modules from M.onnx with the package (PYTHONPATH must hold build/python):
masked = canonicalize + shears-insert-masks{OPTIONS} + shears-fold-masks, and
pruned = shears-prune{OPTIONS} (which also removes dead channels). Both are compiled and run
on the same seeded random input; outputs must agree within |a-b| <= tol + tol*|a|, and the
pruned model must have fewer parameters than the dense one when the options prune channels.
The pruned model is also exported to ONNX: the file must pass onnx.checker, ONNX Runtime must
give the outputs of Shears's compiled pruned model (same tolerance), and it must shrink by the
bytes of the parameters removed (within 5%). With
granularity=channel and no layer-sparsity, every layer but the classifier (whose channels are
the model's outputs) keeps its channels minus the asked-for fraction, within one channel; layers
matching --kept keep all of theirs instead (a transformer's residual stream, whose channels
LayerNorm normalizes together, while its attention heads and MLP neurons go).
Prints one line: `prune OK <model> {OPTIONS}: params D -> P, file ratio F, max abs diff X,
ORT max abs diff Y`.
"""
import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import shears

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ort_compare import run_ort  # noqa: E402


def channels(module, workdir):
    """{layer name: output channels} from shears-report."""
    import json
    path = f"{workdir}/report.json"
    module.clone().run_pipeline(f'shears-report{{table=false json="{path}"}}')
    with open(path) as f:
        return {l["name"]: l["output_channels"] for l in json.load(f)["layers"]}


def sparsity_met(dense, pruned, options, workdir, kept=None):
    """Layers whose removed channels miss floor(sparsity * channels) by more than one, or that
    lost channels though they match the regex `kept`."""
    opts = dict(o.split("=", 1) for o in options.split())
    if opts.get("granularity") != "channel" or {"layer-sparsity", "exclude", "round-to"} & set(opts):
        return []
    sparsity = float(opts["sparsity"])
    before, after = channels(dense, workdir), channels(pruned, workdir)
    layers = list(before)[:-1]  # the classifier's channels are the outputs

    def expected(name):
        return 0 if kept and re.search(kept, name) else int(sparsity * before[name])
    # Layers without channels of their own (a gather) have none to lose.
    return [f"{n}: {before[n]} -> {after.get(n)}" for n in layers if before[n] is not None and (
            after.get(n) is None or abs(before[n] - after[n] - expected(n)) > 1)]


def parameters(module, path):
    """Weight and bias elements of the exported model's initializers, stored
    dense so that the file's size follows the parameters' count."""
    module.export_onnx(path, sparse_initializers=False)
    return sum(int(np.prod(t.dims)) for t in onnx.load(path).graph.initializer)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--options", required=True)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", default="/tmp")
    p.add_argument("--kept", help="regex of layers that must keep every channel")
    args = p.parse_args()

    dense = shears.import_onnx(args.model)
    masked = dense.clone()
    masked.run_pipeline(f"canonicalize,shears-insert-masks{{{args.options}}},shears-fold-masks")
    pruned = dense.clone()
    pruned.run_pipeline(f"shears-prune{{{args.options}}}")

    model = shears.compile(masked)
    spec = model.inputs[0]
    shape = [args.batch if d is None else d for d in spec.shape]
    x = np.random.default_rng(args.seed).standard_normal(shape).astype(np.float32)
    a, b = model(x), shears.compile(pruned)(x)
    diff = float(np.max(np.abs(a - b)))
    ok = a.shape == b.shape and bool(np.all(np.abs(a - b) <= args.tol + args.tol * np.abs(a)))
    dense_path, pruned_path = f"{args.workdir}/dense.onnx", f"{args.workdir}/pruned.onnx"
    before = parameters(dense, dense_path)
    after = parameters(pruned, pruned_path)
    if "channel" in args.options and after >= before:
        ok = False
    missed = sparsity_met(dense, pruned, args.options, args.workdir, args.kept)
    if missed:
        print("sparsity not met within one channel: " + "; ".join(missed))
        ok = False
    file_ratio = os.path.getsize(pruned_path) / os.path.getsize(dense_path)
    # The removed parameters' bytes are gone from the file (names, shapes and other fixed
    # overhead stay, which weighs in small models).
    if os.path.getsize(dense_path) - os.path.getsize(pruned_path) < 0.95 * 4 * (before - after):
        ok = False
    onnx.checker.check_model(onnx.load(pruned_path), full_check=True)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        np.save(f"{tmp}/x.npy", x)
        ran, err = run_ort(pruned_path, {spec.name: f"{tmp}/x.npy"}, tmp)
        if not ran:
            print(f"ONNX Runtime failed on the pruned model: {err}")
            return 1
        outputs = [f for f in os.listdir(tmp) if f.endswith(".npy") and f != "x.npy"]
        c = np.load(f"{tmp}/{outputs[0]}")
    ort_diff = float(np.max(np.abs(b - c)))
    ok = ok and c.shape == b.shape and bool(np.all(np.abs(b - c) <= args.tol + args.tol * np.abs(b)))
    name = args.model.rsplit("/", 1)[-1]
    print(f"prune {'OK' if ok else 'FAIL'} {name} {{{args.options}}}: params {before} -> {after}, "
          f"file ratio {file_ratio:.3f}, max abs diff {diff:.3g}, ORT max abs diff {ort_diff:.3g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
