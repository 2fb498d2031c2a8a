#!/usr/bin/python3
"""How much smaller does unstructured pruning make a model's file?

    bench/sparse.py [--models models/fashion_mnist_mlp.onnx,models/fashion_mnist_cnn.onnx]
                    [--sparsities 0.5,0.7,0.8,0.9,0.95] [--scope global]
                    [--workdir build/bench/sparse] [--json out.json]

For each model and sparsity S: `shears prune MODEL --sparsity S --scope SCOPE` (unstructured,
magnitude), written twice: with sparse initializers (the default) and with
--sparse-initializers=false. Columns: the fraction of the dense model's weights still non-zero,
the bytes of each file, and each file's size as a fraction of the dense model's file; "sparse
inits" counts the weights stored as sparse_initializer. The issue's target is the 90% MLP row:
sparse file <= 0.2x the dense file.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import onnx

ROOT = Path(__file__).resolve().parents[1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="models/fashion_mnist_mlp.onnx,models/fashion_mnist_cnn.onnx")
    p.add_argument("--sparsities", default="0.5,0.7,0.8,0.9,0.95")
    p.add_argument("--scope", default="global", choices=["global", "layer"])
    p.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    p.add_argument("--workdir", default=str(ROOT / "build" / "bench" / "sparse"))
    p.add_argument("--json")
    args = p.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"{'model':<22} {'sparsity':>8} {'nonzero':>8} {'dense B':>9} {'pruned dense B':>14} "
          f"{'pruned sparse B':>15} {'dense-stored':>12} {'sparse-stored':>13} {'sparse inits':>12}")
    for model in args.models.split(","):
        model = Path(model) if Path(model).is_absolute() else ROOT / model
        base = model.stat().st_size
        for s in args.sparsities.split(","):
            files = {}
            for kind, flag in (("sparse", []), ("dense", ["--sparse-initializers=false"])):
                out = work / f"{model.stem}.s{s}.{kind}.onnx"
                proc = subprocess.run([f"{args.bin}/shears", "prune", str(model), "--sparsity", s,
                                       "--scope", args.scope, "-o", str(out)] + flag,
                                      capture_output=True, text=True)
                if proc.returncode:
                    sys.exit(proc.stderr)
                files[kind] = out
                report = proc.stdout
            m = onnx.load(str(files["sparse"]))
            nonzero = int(report.split("after:")[1].split("parameters,")[1].split("nonzero")[0])
            dense_params = int(report.split("before:")[1].split("parameters")[0])
            row = {"model": model.stem, "sparsity": float(s), "nonzero_fraction": nonzero / dense_params,
                   "dense_bytes": base, "pruned_dense_bytes": files["dense"].stat().st_size,
                   "pruned_sparse_bytes": files["sparse"].stat().st_size,
                   "sparse_initializers": len(m.graph.sparse_initializer)}
            rows.append(row)
            print(f"{row['model']:<22} {s:>8} {row['nonzero_fraction']:>8.3f} {base:>9} "
                  f"{row['pruned_dense_bytes']:>14} {row['pruned_sparse_bytes']:>15} "
                  f"{row['pruned_dense_bytes'] / base:>11.3f}x {row['pruned_sparse_bytes'] / base:>12.3f}x "
                  f"{row['sparse_initializers']:>12}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
