#!/usr/bin/python3
"""ONNX -> MLIR -> ONNX round trip through shears-translate, checked with ONNX Runtime.

    roundtrip.py --translate build/bin/shears-translate --model X.onnx --input X.input.npy
                 --workdir D [--tol 1e-4]

Imports X.onnx to D/X.mlir, exports that to D/X.rt.onnx, runs onnx.checker (full check) on the
result, runs both models under ONNX Runtime on the same input (D/ref, D/rt) and compares every
output (|a-b| <= tol + tol*|a|). --input may be FILE.npy for a single-input model or NAME=FILE.npy,
repeated. Prints one summary line; exits 0 only if everything matches.
"""
import argparse
import subprocess
import sys
from pathlib import Path

import onnx

from ort_compare import compare_dirs, graph_inputs, run_ort


class Failure(Exception):
    pass


def bind_inputs(model_path, specs):
    names = [name for name, _, _ in graph_inputs(model_path)]
    if len(specs) == 1 and "=" not in specs[0]:
        if len(names) != 1:
            raise Failure(f"model has inputs {names}; use --input NAME=FILE.npy")
        return {names[0]: specs[0]}
    inputs = dict(s.split("=", 1) for s in specs if "=" in s)
    if len(inputs) != len(specs):
        raise Failure("with several --input, each must be NAME=FILE.npy")
    return inputs


def translate(tool, flag, src, dst):
    proc = subprocess.run([str(tool), flag, str(src), "-o", str(dst)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout)
        raise Failure(f"shears-translate {flag} exited with {proc.returncode}")
    if not Path(dst).is_file():
        raise Failure(f"shears-translate {flag} wrote no {dst}")


def roundtrip(args):
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    stem = args.model.name.removesuffix(".onnx")
    mlir, rt = work / f"{stem}.mlir", work / f"{stem}.rt.onnx"
    for path in (args.model, args.translate):
        if not path.is_file():
            raise Failure(f"{path} does not exist")
    inputs = bind_inputs(args.model, args.input)
    for path in inputs.values():
        if not Path(path).is_file():
            raise Failure(f"input {path} does not exist")

    translate(args.translate, "--import-onnx", args.model, mlir)
    translate(args.translate, "--export-onnx", mlir, rt)
    try:
        onnx.checker.check_model(str(rt), full_check=True)
    except Exception as e:  # checker and shape inference raise several exception types
        raise Failure(f"onnx.checker rejects {rt}: {' '.join(str(e).split())[:400]}")

    for model, out in ((args.model, work / "ref"), (rt, work / "rt")):
        for old in out.glob("*.npy"):
            old.unlink()
        ok, err = run_ort(model, inputs, out)
        if not ok:
            sys.stderr.write(err + "\n")
            raise Failure(f"ONNX Runtime failed on {model}")

    lines = []
    ok, worst = compare_dirs(work / "ref", work / "rt", rtol=args.tol, atol=args.tol, log=lines.append)
    if not ok:
        raise Failure("outputs differ: " + "; ".join(l for l in lines if ": ok:" not in l))
    return worst


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--translate", required=True, type=Path, help="path to shears-translate")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--input", required=True, action="append", help="FILE.npy or NAME=FILE.npy")
    p.add_argument("--workdir", required=True, type=Path)
    p.add_argument("--tol", type=float, default=1e-4, help="rtol and atol (default 1e-4)")
    args = p.parse_args()
    try:
        worst = roundtrip(args)
    except Failure as e:
        print(f"roundtrip FAIL {args.model.name}: {e}")
        return 1
    print(f"roundtrip OK {args.model.name}: max abs diff {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
