#!/usr/bin/python3
"""Is a model quantized to int8 by Shears smaller and faster than float, and than ONNX Runtime?

    bench/quantize.py [--models resnet18,fashion_mnist_cnn,fashion_mnist_mlp] [--batches 1,8]
                      [--weights int8|int4|binary] [--group-size 64]
                      [--target-cpu haswell] [--reduce-range]
                      [--method minmax] [--runs 5] [--min-round-ms 250] [--max-seconds 1800]
                      [--gemm-sizes 256,512,1024,2048] [--workdir build/bench/quantize]
                      [--json out.json]

For each model:
  quantize `shears quantize MODEL.onnx --calibration input=calib.npy --method METHOD` into
           --workdir: calibrated on 512 Fashion-MNIST training images for the Fashion-MNIST
           models, on 16 random normal images for the others (random weights: the issue's
           resnet18 case); the file sizes of both;
  compile  `shears-compile` of the f32 and the int8 (QDQ) file;
With --weights int4 or binary, weight-only instead (`--activations none --weights W`, int4 in
groups of --group-size; no calibration): linear layers run on Shears's wqgemm, which reads the
weights in 4 or 1 bits; the columns say int4 or binary where they say int8 here.
then, per batch, in interleaved rounds on one thread (bench/prune.py's measure: every variant a
slice of back-to-back calls per round, the order rotated): Shears f32, Shears int8, ONNX Runtime
on the f32 file and ONNX Runtime on the QDQ file (ORT turns QDQ into its own integer kernels where
it can). Columns: the four medians, and int8 Shears against each: ORT f32 ÷ Shears int8 (the
issue's target: at least 3) and ORT int8 ÷ Shears int8 (above 1: Shears is faster).

--target-cpu compiles every model for that CPU (`shears-compile --target-cpu`, into
--workdir/CPU): haswell runs the AVX2 kernels, whose integer ones take weights in [-64, 64] only,
which --reduce-range asks `shears quantize` for (the other int8 layers then run in f32).

GEMM: a one-node Gemm y = x[M,K] W^T (M = N = K in --gemm-sizes, random weights) quantized the
same way and compiled; Shears's qgemm in GOP/s (2*M*N*K per call, median of --runs slices) as a
share of this core's VNNI and AMX peaks, which bench/vnni_peak.cpp measures (24 chains of
vpdpbusd; tdpbusd on tiles in L1), and Shears's f32 gemm on the same shapes against the f32 FMA
peak.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cpu  # noqa: E402  (first: it sets the BLAS thread count before numpy loads)
import prune  # noqa: E402  (tools, compilation and interleaved timing)
import numpy as np  # noqa: E402
import onnx  # noqa: E402
from cpu import Budget, Failure, fmt  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402

REPO = cpu.REPO
DEFAULT_MODELS = "resnet18,fashion_mnist_cnn,fashion_mnist_mlp"


def calibration(args, model, name):
    """The calibration samples of `model` as a .npy in the workdir."""
    (input_name, shape), = cpu.input_specs(model, 1)
    path = args.workdir / f"{name}.calib.npy"
    if name.startswith("fashion_mnist"):
        sys.path.insert(0, str(REPO / "utils"))
        import fashion_mnist
        samples = fashion_mnist.calibration_images(512)
    else:
        samples = np.random.default_rng(0).standard_normal((16, *shape[1:]), dtype=np.float32)
    np.save(path, samples.reshape((-1, *shape[1:])).astype(np.float32))
    return input_name, path


def int8_options(args):
    """`shears quantize` options for int8, and the file suffix that marks them."""
    return (["--reduce-range"], ".rr") if args.reduce_range else ([], "")


def quantize(args, model_path, name, model):
    flags, suffix = int8_options(args)
    if args.weights == "int8":
        out = args.workdir / f"{name}.int8{suffix}.{args.method}.onnx"
    else:
        out = args.workdir / f"{name}.{args.weights}.g{args.group_size}.onnx"
    if not prune.stale(out, model_path, args.bin / "shears"):
        return out, None
    if args.weights == "int8":
        input_name, calib = calibration(args, model, name)
        options = ["--calibration", f"{input_name}={calib}", "--calibration-batch", "8",
                   "--method", args.method, *flags]
    else:
        options = ["--activations", "none", "--weights", args.weights, "--group-size",
                   str(args.group_size)]
    text = prune.run_tool(args, "shears", ["quantize", model_path, *options, "-o", out])
    return out, text.strip()


def bench_models(args, budget, rt):
    rows = []
    for name in args.models:
        model_path = cpu.find_model(args, name)
        model = onnx.load(str(model_path), load_external_data=False)
        print(f"{name}: {model_path}", flush=True)
        int8_path, summary = quantize(args, model_path, name, model)
        if summary:
            print("  " + summary.replace("\n", "\n  "), flush=True)
        variants = [("f32", model_path), ("int8", int8_path)]
        sos, _ = prune.compile_all(args, [p for _, p in variants])
        compiled = [(key, rt.load(sos[p]), p) for key, p in variants]
        for _, m, _ in compiled:
            m.set_threads(1)
        for batch in args.batches:
            if budget.left() <= 0:
                print(f"  {name} batch {batch}: skip (--max-seconds)", flush=True)
                continue
            print(f"  {name} batch {batch}:", flush=True)
            res, notes = prune.measure(args, compiled, cpu.input_specs(model, batch), budget)
            med = {k: {e: statistics.median(v[e]) if v[e] else None for e in ("shears", "ort")}
                   for k, v in res.items()}
            row = OrderedDict(
                model=name, batch=batch, method=args.method, weights=args.weights,
                bytes_f32=model_path.stat().st_size, bytes_int8=int8_path.stat().st_size,
                shears_f32_ms=med["f32"]["shears"], shears_int8_ms=med["int8"]["shears"],
                ort_f32_ms=med["f32"]["ort"], ort_int8_ms=med["int8"]["ort"],
                rounds={k: {e: v[e] for e in ("shears", "ort")} for k, v in res.items()},
                notes="; ".join(notes))
            rows.append(row)
            print(f"  {name} batch {batch}: Shears f32 {fmt(row['shears_f32_ms'])} "
                  f"{args.weights} {fmt(row['shears_int8_ms'])} ms; ORT f32 "
                  f"{fmt(row['ort_f32_ms'])} {args.weights} {fmt(row['ort_int8_ms'])} ms",
                  flush=True)
        for _, m, _ in compiled:
            m.close()
    return rows


def gemm_model(args, size):
    m = k = n = size
    w = np.random.default_rng(1).standard_normal((n, k), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w"], ["y"], name="gemm", transB=1)], f"gemm_{size}",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [m, n])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=7)
    path = args.workdir / f"gemm_{size}.onnx"
    cpu.write_if_changed(model, path)
    flags, suffix = int8_options(args)
    int8 = args.workdir / f"gemm_{size}.int8{suffix}.onnx"
    if prune.stale(int8, path, args.bin / "shears"):
        calib = args.workdir / f"gemm_{size}.calib.npy"
        np.save(calib, np.random.default_rng(2).standard_normal((m, k), dtype=np.float32))
        prune.run_tool(args, "shears", ["quantize", path, "--calibration", f"x={calib}",
                                        "--calibration-batch", str(m), *flags,
                                        "-o", int8])
    return path, int8


def bench_gemm(args, rt):
    exe = args.workdir / "vnni_peak"
    source = REPO / "bench" / "vnni_peak.cpp"
    if prune.stale(exe, source) and subprocess.run(
            ["clang++-22", "-O2", str(source), "-o", str(exe)]).returncode:
        raise Failure(f"cannot build {source}")
    probe = subprocess.run([str(exe)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if probe.returncode:
        raise Failure(f"{probe.stderr.strip() or exe.name + ' failed'} "
                      f"(--gemm-sizes '' skips the GEMM section)")
    peak = json.loads(probe.stdout)
    rows = []
    for size in args.gemm_sizes:
        f32, int8 = gemm_model(args, size)
        sos, _ = prune.compile_all(args, [f32, int8])
        row = OrderedDict(m=size, k=size, n=size)
        x = np.random.default_rng(3).standard_normal((size, size), dtype=np.float32)
        for key, path in (("f32", f32), ("int8", int8)):
            model = rt.load(sos[path])
            model.set_threads(1)
            model.set_inputs([x])
            model.run()
            times = [prune.shears_slice(model, args.min_round_ms)[0] for _ in range(args.runs)]
            model.close()
            row[f"{key}_ms"] = statistics.median(times)
            row[f"{key}_gops"] = 2 * size ** 3 / row[f"{key}_ms"] / 1e6
        row["int8_share"] = row["int8_gops"] / peak["int8_gops"]
        row["amx_share"] = (row["int8_gops"] / peak["amx_int8_gops"]
                            if peak.get("amx_int8_gops") else None)
        row["f32_share"] = row["f32_gops"] / peak["f32_gflops"]
        rows.append(row)
        print(f"  gemm {size}: int8 {row['int8_gops']:.0f} GOP/s "
              f"({row['int8_share']:.0%} of {peak['int8_gops']:.0f}), f32 "
              f"{row['f32_gops']:.0f} GFLOP/s ({row['f32_share']:.0%} of "
              f"{peak['f32_gflops']:.0f})", flush=True)
    return rows, peak


def x(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def model_table(rows, q="int8"):
    lines = [f"| model | batch | file f32 → {q} | Shears f32 ms | Shears {q} ms | ORT f32 ms | "
             f"ORT {q} (QDQ) ms | Shears f32 ÷ {q} | ORT f32 ÷ Shears {q} | "
             f"ORT {q} ÷ Shears {q} |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['batch']} | {r['bytes_f32'] / 1e6:.2f} → "
            f"{r['bytes_int8'] / 1e6:.2f} MB ({r['bytes_int8'] / r['bytes_f32']:.3f}x) | "
            f"{fmt(r['shears_f32_ms'])} | {fmt(r['shears_int8_ms'])} | {fmt(r['ort_f32_ms'])} | "
            f"{fmt(r['ort_int8_ms'])} | {x(r['shears_f32_ms'], r['shears_int8_ms'])} | "
            f"{x(r['ort_f32_ms'], r['shears_int8_ms'])} | "
            f"{x(r['ort_int8_ms'], r['shears_int8_ms'])} |")
    return lines


def gemm_table(rows, peak):
    amx = peak.get("amx_int8_gops") or 0
    lines = [f"Peaks of one core (bench/vnni_peak.cpp): int8 {peak['int8_gops']:.0f} GOP/s "
             f"(vpdpbusd), " + (f"{amx:.0f} GOP/s (AMX tdpbusd, tiles in L1), " if amx else "")
             + f"f32 {peak['f32_gflops']:.0f} GFLOP/s (FMA).", "",
             "| M=N=K | int8 ms | int8 GOP/s | % of VNNI peak | % of AMX peak | f32 ms | "
             "f32 GFLOP/s | % of f32 peak | f32 ÷ int8 |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        amx_share = f"{r['amx_share']:.0%}" if r.get("amx_share") else "-"
        lines.append(f"| {r['m']} | {fmt(r['int8_ms'])} | {r['int8_gops']:.0f} | "
                     f"{r['int8_share']:.0%} | {amx_share} | {fmt(r['f32_ms'])} | "
                     f"{r['f32_gops']:.0f} | {r['f32_share']:.0%} | "
                     f"{x(r['f32_ms'], r['int8_ms'])} |")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated (default: %(default)s)")
    p.add_argument("--batches", default="1,8", help="comma-separated (default: %(default)s)")
    p.add_argument("--method", default="minmax", help="calibration method (default minmax)")
    p.add_argument("--weights", default="int8", choices=["int8", "int4", "binary"],
                   help="int8 (static, calibrated; the default), or int4 or binary weights only")
    p.add_argument("--group-size", type=int, default=64, help="--weights int4: weights per scale")
    p.add_argument("--target-cpu", help="compile for this CPU (shears-compile --target-cpu)")
    p.add_argument("--reduce-range", action="store_true",
                   help="int8 weights in [-64, 64] (shears quantize --reduce-range)")
    p.add_argument("--runs", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--min-round-ms", type=float, default=250,
                   help="each variant's slice of a round (default 250 ms)")
    p.add_argument("--gemm-sizes", default="256,512,1024,2048",
                   help="M=N=K of the GEMM section, comma-separated ('' to skip)")
    p.add_argument("--max-seconds", type=float, default=1800, help="time budget (default 1800)")
    p.add_argument("--no-ort", action="store_true", help="time Shears only")
    p.add_argument("--bin", type=Path, default=REPO / "build" / "bin", help="Shears tools")
    p.add_argument("--runtime", type=Path, default=REPO / "build" / "lib" / "libshears_runtime.so")
    p.add_argument("--model-dir", type=Path, help="looked in first for NAME.onnx")
    p.add_argument("--workdir", type=Path, default=REPO / "build" / "bench" / "quantize",
                   help="quantized models and compiled libraries (default build/bench/quantize; "
                        "a folder per --target-cpu in it)")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args()
    args.models = [m for m in args.models.split(",") if m]
    args.batches = cpu.parse_batches(p, args.batches)
    args.gemm_sizes = cpu.parse_list(p, "--gemm-sizes", args.gemm_sizes) if args.gemm_sizes else []
    if args.runs < 1:
        p.error("--runs must be positive")
    if args.min_round_ms < 0:
        p.error("--min-round-ms must not be negative")
    if args.target_cpu:
        args.workdir = args.workdir / args.target_cpu
    args.workdir.mkdir(parents=True, exist_ok=True)
    head = cpu.run_header([args.bin / "shears", args.runtime])
    print(head, flush=True)
    start = time.time()
    budget = Budget(args.max_seconds)
    rt = cpu.ShearsRuntime(args.runtime)
    try:
        rows = bench_models(args, budget, rt)
        gemm_rows, peak = bench_gemm(args, rt) if args.gemm_sizes else ([], None)
    except Failure as e:
        print(f"quantize.py: error: {e}", file=sys.stderr)
        return 1
    what = (f"int8 ({args.method})" if args.weights == "int8" else
            f"{args.weights} weights" + (f" (groups of {args.group_size})"
                                         if args.weights == "int4" else ""))
    lines = ["", f"{what} against f32, one thread, medians of {args.runs} "
             f"interleaved rounds, ms per batch ({time.time() - start:.0f} s in all):", ""]
    lines += model_table(rows, args.weights)
    if gemm_rows:
        lines += ["", "GEMM (one thread):", ""] + gemm_table(gemm_rows, peak)
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"header": head, "argv": sys.argv, "rows": rows,
                                         "gemm": gemm_rows, "peak": peak}, indent=1,
                                        default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
