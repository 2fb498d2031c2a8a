#!/usr/bin/python3
"""GPU correctness and speed on a machine with a GPU, prepared on one without.

    gpu.py prepare --out DIR [--models a,b,...] [--batches 1,8] [--gemm N,...] [--bin build/bin]
    gpu.py run DIR OUT [--runs 20]

`prepare` (here, with the build): compiles each model with `shears compile --target cuda`
into DIR/<case>.so, writes seeded inputs for each batch and the CPU path's outputs as
references (`shears run`), builds bench/gpu_runner.c against the C runtime, copies
libshears_runtime.so, and writes DIR/manifest.json. Models are names from build/models or
models/ (fashion_mnist_mlp, fashion_mnist_cnn, resnet18, mobilenet_v2, squeezenet1_1, ...),
`NAME-pruned` for NAME pruned by 50% of its channels, and `gemmN` (--gemm) an N x N x N f32
MatMul whose right side is a weight. It prints the bundle's size: the device tool carries at
most 64 MiB, so large sets go in two bundles.

`run` (on the GPU machine, Python's standard library only): runs every case with
gpu_runner, compares its outputs with the references (|gpu - cpu| <= 1e-4 + 1e-4 |cpu|),
and writes OUT/results.json and OUT/results.md: per case the check, the latency and the
GPU time from CUDA events (medians of --runs), and GFLOP/s for the GEMMs.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOL = 1e-4


def prepare(args):
    import numpy as np
    import onnx

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    shears = args.bin / "shears"
    cases = []

    def model_path(name):
        for d in (args.bin.parent / "models", ROOT / "models"):
            if (d / f"{name}.onnx").is_file():
                return d / f"{name}.onnx"
        sys.exit(f"no model {name}.onnx in build/models or models/")

    def add(name, onnx_path, batches, flops=None):
        lib = out / f"{name}.so"
        subprocess.run([shears, "compile", onnx_path, "--target", "cuda", "-o", lib], check=True)
        lib.with_suffix(".h").unlink(missing_ok=True)
        model = onnx.load(str(onnx_path), load_external_data=False)
        for batch in batches:
            feeds = []
            rng = np.random.default_rng(batch)
            for value in model.graph.input:
                if value.name in {i.name for i in model.graph.initializer}:
                    continue
                dims = [d.dim_value if d.HasField("dim_value") else batch
                        for d in value.type.tensor_type.shape.dim]
                path = out / f"{name}.b{batch}.{value.name}.npy"
                np.save(path, rng.standard_normal(dims).astype(np.float32))
                feeds.append(f"{value.name}={path.name}")
            ref = out / f"{name}.b{batch}.ref"
            ref.mkdir(exist_ok=True)
            subprocess.run([shears, "run", onnx_path, "--output-dir", ref,
                            *(f"--input={f.split('=')[0]}={out / f.split('=')[1]}" for f in feeds)],
                           check=True, stdout=subprocess.DEVNULL)
            cases.append({"case": f"{name} b{batch}", "library": lib.name, "inputs": feeds,
                          "reference": ref.name, "flops": flops})

    for name in [m for m in args.models.split(",") if m]:
        if name.endswith("-pruned"):
            base = name[:-len("-pruned")]
            pruned = out / f"{name}.onnx"
            subprocess.run([shears, "prune", model_path(base), "--sparsity", "0.5",
                            "--granularity", "channel", "-o", pruned], check=True,
                           stdout=subprocess.DEVNULL)
            add(name, pruned, args.batch_list)
            pruned.unlink()
        else:
            add(name, model_path(name), args.batch_list)
    sys.path.insert(0, str(ROOT / "bench"))
    import cpu  # the CPU benchmark's MatMul models: x [n, n] @ a weight [n, n]
    for n in [int(v) for v in args.gemm.split(",") if v]:
        case = cpu.matmul_case(args, n, n, n, out)
        add(f"gemm{n}", case["path"], [1], flops=2 * n ** 3)
        case["path"].unlink()

    subprocess.run(["clang-22", "-O2", "-std=c11", f"-I{ROOT / 'include'}",
                    ROOT / "bench" / "gpu_runner.c", f"-L{args.bin.parent / 'lib'}",
                    "-lshears_runtime", "-ldl", "-Wl,-rpath,$ORIGIN", "-o", out / "gpu_runner"],
                   check=True)
    shutil.copy(args.bin.parent / "lib" / "libshears_runtime.so", out)
    shutil.copy(Path(__file__), out / "gpu.py")
    (out / "manifest.json").write_text(json.dumps(cases, indent=1) + "\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{len(cases)} cases in {out}: {size / 2**20:.1f} MiB"
          f"{' (over the device tool 64 MiB: split the models over two bundles)' if size > 64 * 2**20 else ''}")


def read_npy(path):
    """(shape, values) of a little-endian f32/f64/i64/i32 .npy file, without numpy."""
    data = Path(path).read_bytes()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path} is not a .npy file")
    major = data[6]
    length, start = ((struct.unpack("<H", data[8:10])[0], 10) if major == 1
                     else (struct.unpack("<I", data[8:12])[0], 12))
    header = eval(data[start:start + length].decode("latin1"))  # numpy's own dict literal
    codes = {"<f4": "f", "<f8": "d", "<i8": "q", "<i4": "i"}
    if header["descr"] not in codes or header["fortran_order"]:
        raise ValueError(f"{path}: unsupported dtype {header['descr']}")
    code = codes[header["descr"]]
    count = 1
    for d in header["shape"]:
        count *= d
    body = data[start + length:]
    return header["shape"], struct.unpack(f"<{count}{code}", body[:count * struct.calcsize(code)])


def compare(out_dir, ref_dir):
    """(ok, worst abs diff, message) over every reference output."""
    worst, messages = 0.0, []
    for ref in sorted(Path(ref_dir).glob("*.npy")):
        got = Path(out_dir) / ref.name
        if not got.is_file():
            return False, worst, f"no output {ref.name}"
        rshape, rvals = read_npy(ref)
        gshape, gvals = read_npy(got)
        if rshape != gshape:
            return False, worst, f"{ref.name}: shape {gshape}, expected {rshape}"
        bad = 0
        for a, b in zip(gvals, rvals):
            diff = abs(a - b)
            worst = max(worst, diff)
            if not diff <= TOL + TOL * abs(b):
                bad += 1
        if bad:
            messages.append(f"{ref.name}: {bad} of {len(rvals)} elements differ")
    return not messages, worst, "; ".join(messages)


def run(args):
    bundle, out = args.bundle.resolve(), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    cases = json.loads((bundle / "manifest.json").read_text())
    env = dict(os.environ, LD_LIBRARY_PATH=str(bundle))
    results = []
    for case in cases:
        outputs = out / case["case"].replace(" ", "-")
        outputs.mkdir(exist_ok=True)
        cmd = [str(bundle / "gpu_runner"), str(bundle / case["library"]), "--runs",
               str(args.runs), "-o", str(outputs),
               *(f"{f.split('=')[0]}={bundle / f.split('=')[1]}" for f in case["inputs"])]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        row = {"case": case["case"]}
        if proc.returncode != 0:
            row.update(check="FAIL", error=(proc.stderr.strip() or proc.stdout.strip())[-500:])
        else:
            timing = json.loads(proc.stdout.strip().splitlines()[-1])
            ok, worst, message = compare(outputs, bundle / case["reference"])
            row.update(check="ok" if ok else "FAIL", max_abs_diff=worst, **timing)
            if message:
                row["error"] = message
            if case.get("flops") and timing["gpu_ms"] > 0:
                row["gflops"] = case["flops"] / timing["gpu_ms"] / 1e6
        results.append(row)
        print(json.dumps(row), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    lines = ["| case | check | max abs diff | latency ms | GPU ms (events) | GFLOP/s |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in results:
        lines.append(f"| {r['case']} | {r['check']} | {r.get('max_abs_diff', float('nan')):.3g} | "
                     f"{r.get('latency_ms', float('nan')):.3f} | {r.get('gpu_ms', float('nan')):.3f} | "
                     f"{r.get('gflops', float('nan')):.0f} |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(r["check"] == "ok" for r in results) else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare")
    prep.add_argument("--out", required=True, type=Path)
    prep.add_argument("--models", default="fashion_mnist_mlp,fashion_mnist_cnn,resnet18")
    prep.add_argument("--batches", default="1,8")
    prep.add_argument("--gemm", default="", help="sizes N of N x N x N MatMuls, e.g. 2048")
    prep.add_argument("--bin", type=Path, default=ROOT / "build" / "bin")
    go = sub.add_parser("run")
    go.add_argument("bundle", type=Path)
    go.add_argument("out", type=Path)
    go.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    if args.command == "prepare":
        args.batch_list = [int(b) for b in args.batches.split(",")]
        return prepare(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
