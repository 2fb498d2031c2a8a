#!/usr/bin/python3
"""Imports, runs and prunes torchvision's classifiers: the model table of issue 9.

    check_torchvision.py --workdir D [--bin build/bin] [--models a,b,...] [--opset 13]
                         [--batch 1] [--sparsity 0.3] [--tol 1e-4] [--markdown]
                         [--device cpu|cuda|cuda-emulated]

For each model (default: one of each family, make_models.TORCHVISION) exports D/<model>.onnx
with make_models.py (seeded random weights, dynamic batch; reused when present), then
  import  shears-translate --import-onnx;
  run     check_numerics.py at --batch: Shears (JIT, on --device) against ONNX Runtime within
          --tol;
  prune   shears prune --sparsity S --granularity channel (magnitude) to D/<model>.pruned.onnx;
  pruned  check_numerics.py on the pruned file: ONNX Runtime == Shears on it.
A step runs only when the one before it passed. Prints one line per model

    <model>: import ok|FAIL, run ok|FAIL|-, prune ok (params P -> Q)|FAIL|-, pruned ok|FAIL|-

(with --markdown, a table), the first line of the error of a failing step after it, and exits 0
only when every step of every model passed.
"""
import argparse
import subprocess
import sys
from pathlib import Path

UTILS = Path(__file__).resolve().parent
sys.path.insert(0, str(UTILS))
import make_models  # noqa: E402


def run(cmd, timeout=1800):
    """(ok, first line of the error): runs `cmd`, returns whether it exited 0."""
    try:
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout} s"
    except OSError as e:
        return False, str(e)
    if p.returncode == 0:
        return True, p.stdout
    text = (p.stderr.strip() or p.stdout.strip()).splitlines()
    errors = [line for line in text if "error" in line.lower() or "FAIL" in line]
    return False, (errors or text or [f"exit {p.returncode}"])[0][:300]


def parameters(report):
    """The before/after parameter counts from `shears prune`'s summary."""
    counts = [line.split()[1] for line in report.splitlines()
              if line.startswith(("before:", "after:"))]
    return " -> ".join(counts)


def check(name, args):
    row = {"model": name}
    model = args.workdir / f"{name}.onnx"
    if not model.exists():
        ok, err = run([sys.executable, UTILS / "make_models.py", "--out", args.workdir,
                       "--models", name, "--opset", args.opset])
        if not ok:
            row["export"] = "FAIL"
            row["error"] = err
            return row
    steps = [
        ("import", lambda: run([args.bin / "shears-translate", "--import-onnx", model,
                                "-o", args.workdir / f"{name}.mlir"])),
        ("run", lambda: run([sys.executable, UTILS / "check_numerics.py", "--bin", args.bin,
                             "--model", model, "--batch", args.batch, "--workdir",
                             args.workdir / f"{name}.run", "--tol", args.tol,
                             "--device", args.device])),
        ("prune", lambda: run([args.bin / "shears", "prune", model, "--sparsity",
                               args.sparsity, "--granularity", "channel", "-o",
                               args.workdir / f"{name}.pruned.onnx"])),
        ("pruned", lambda: run([sys.executable, UTILS / "check_numerics.py", "--bin", args.bin,
                                "--model", args.workdir / f"{name}.pruned.onnx", "--batch",
                                args.batch, "--workdir", args.workdir / f"{name}.pruned.run",
                                "--tol", args.tol, "--device", args.device])),
    ]
    for step, fn in steps:
        ok, out = fn()
        if not ok:
            row[step] = "FAIL"
            row["error"] = f"{step}: {out}"
            break
        row[step] = f"ok (params {parameters(out)})" if step == "prune" else "ok"
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", required=True, type=Path)
    p.add_argument("--bin", type=Path, default=UTILS.parent / "build" / "bin")
    p.add_argument("--models", default=",".join(make_models.TORCHVISION))
    p.add_argument("--opset", type=int, default=make_models.OPSET)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--sparsity", type=float, default=0.3)
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--device", choices=("cpu", "cuda", "cuda-emulated"), default="cpu",
                   help="where Shears runs the models (check_numerics.py --device)")
    args = p.parse_args()
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in make_models.MODELS]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}")
    if not 0 < args.sparsity < 1 or args.batch < 1:
        p.error("--sparsity must be in (0, 1) and --batch positive")
    args.workdir.mkdir(parents=True, exist_ok=True)
    steps = ("import", "run", "prune", "pruned")
    if args.markdown:
        print("| model | " + " | ".join(steps) + " | first error |")
        print("| --- " * (len(steps) + 2) + "|")
    failed = 0
    for name in names:
        row = check(name, args)
        cells = [row.get(s, "FAIL" if "export" in row else "-") for s in steps]
        failed += any(c != "ok" and not c.startswith("ok ") for c in cells)
        if args.markdown:
            print(f"| {name} | " + " | ".join(cells) + f" | {row.get('error', '')} |")
        else:
            print(f"{name}: " + ", ".join(f"{s} {c}" for s, c in zip(steps, cells)))
            if "error" in row:
                print(f"  {row['error']}")
        sys.stdout.flush()
    print(f"{len(names) - failed} of {len(names)} models pass every step")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
