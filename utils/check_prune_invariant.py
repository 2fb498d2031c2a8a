#!/usr/bin/python3
"""Checks that a physically pruned model computes what its masked version does.

    check_prune_invariant.py --model M.onnx --options "sparsity=0.5 granularity=channel"
                             [--batch 2] [--tol 1e-4] [--seed 0]

Builds two modules from M.onnx with the package (PYTHONPATH must hold build/python):
masked = canonicalize + shears-insert-masks{OPTIONS} + shears-fold-masks, and
pruned = shears-prune{OPTIONS} (which also removes dead channels). Both are compiled and run
on the same seeded random input; outputs must agree within |a-b| <= tol + tol*|a|, and the
pruned model must have fewer parameters than the dense one when the options prune channels.
Prints one line: `prune OK <model> {OPTIONS}: params D -> P, max abs diff X`.
"""
import argparse
import sys

import numpy as np
import onnx
import shears


def parameters(module, path):
    """Weight and bias elements of the exported model's initializers."""
    module.export_onnx(path)
    return sum(int(np.prod(t.dims)) for t in onnx.load(path).graph.initializer)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--options", required=True)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", default="/tmp")
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
    before = parameters(dense, f"{args.workdir}/dense.onnx")
    after = parameters(pruned, f"{args.workdir}/pruned.onnx")
    if "channel" in args.options and after >= before:
        ok = False
    name = args.model.rsplit("/", 1)[-1]
    print(f"prune {'OK' if ok else 'FAIL'} {name} {{{args.options}}}: params {before} -> {after}, "
          f"max abs diff {diff:.3g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
