#!/usr/bin/env python3
"""A/B timing of two builds of one model in one process.

    bench/ab.py A.so B.so [--batch 8] [--threads 2] [--rounds 8] [--runs 5]
    bench/ab.py M.so M.so --env-b SHEARS_EXP=1      # one library, a variant by environment

Loads both libraries (`shears compile` output; each carries its own copy of
the kernels and their thread pool), runs them on the same input in rounds
that alternate which goes first (A B, B A, ...), and prints each round's best
time of each and B's time over A's, then the median and the range of those
ratios. Two builds compared in separate processes differ by the host's phase
of the moment (docs/CPUCodegen.md); compared like this they share it.
`--env-a/--env-b NAME=VALUE` set environment variables around each side's
runs, for kernels that read a variant switch at call time. The outputs of A
and B are compared once (largest absolute difference printed).
"""
import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def _import_shears():
    sys.path.insert(0, str(REPO / "build" / "python"))
    import shears  # noqa: E402
    return shears


def _env(pairs, parser):
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            parser.error(f"expected NAME=VALUE, got '{pair}'")
        out[name] = value
    return out


def _input(model, batch, path):
    if path:
        return [np.load(path)]
    rng = np.random.default_rng(0)
    feeds = []
    for spec in model.inputs:
        shape = [batch if (d is None or d < 0) else d for d in spec.shape]
        feeds.append(rng.standard_normal(shape).astype(spec.dtype))
    return feeds


@contextlib.contextmanager
def _environment(env):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _outputs(model, feeds, env):
    with _environment(env):
        out = model(*feeds)
    return [np.array(o) for o in (out if isinstance(out, tuple) else (out,))]


def _best(model, feeds, env, runs):
    best = float("inf")
    with _environment(env):
        for _ in range(runs):
            t0 = time.perf_counter()
            model(*feeds)
            best = min(best, time.perf_counter() - t0)
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", type=Path, help="library A (the reference)")
    p.add_argument("b", type=Path, help="library B (the variant)")
    p.add_argument("--input", type=Path, help=".npy for the model's only input (default: seeded normal)")
    p.add_argument("--batch", type=int, default=1, help="batch of the generated input (default 1)")
    p.add_argument("--threads", type=int, default=1, help="threads of both (default 1)")
    p.add_argument("--rounds", type=int, default=8, help="alternating rounds (default 8)")
    p.add_argument("--runs", type=int, default=5, help="runs a side a round, best kept (default 5)")
    p.add_argument("--env-a", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--env-b", action="append", default=[], metavar="NAME=VALUE")
    args = p.parse_args()
    if args.rounds < 1 or args.runs < 1 or args.batch < 1:
        p.error("--rounds, --runs and --batch must be at least 1")
    for lib in (args.a, args.b):
        if not lib.is_file():
            p.error(f"no such library: {lib}")
    env_a, env_b = _env(args.env_a, p), _env(args.env_b, p)
    shears = _import_shears()
    a = shears.load_library(args.a, threads=args.threads)
    b = a if args.b.resolve() == args.a.resolve() else shears.load_library(args.b, threads=args.threads)
    feeds = _input(a, args.batch, args.input)
    out_a = _outputs(a, feeds, env_a)
    out_b = _outputs(b, feeds, env_b)
    diff = max(float(np.max(np.abs(x - y))) for x, y in zip(out_a, out_b))
    print(f"max |A - B| = {diff:.3g}")
    ratios = []
    for r in range(args.rounds):
        sides = [("a", a, env_a), ("b", b, env_b)]
        if r % 2:
            sides.reverse()
        t = {name: _best(m, feeds, env, args.runs) for name, m, env in sides}
        ratios.append(t["b"] / t["a"])
        print(f"round {r + 1}: A {t['a'] * 1e3:8.3f} ms  B {t['b'] * 1e3:8.3f} ms  B/A {ratios[-1]:.3f}",
              flush=True)
    print(f"B/A median {statistics.median(ratios):.3f}, range {min(ratios):.3f}-{max(ratios):.3f}")


if __name__ == "__main__":
    main()
