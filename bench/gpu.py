#!/usr/bin/python3
"""GPU correctness and speed on a machine with a GPU, prepared on one without.

    gpu.py prepare --out DIR [--models a,b,...] [--batches 1,8] [--tile-batch 64] [--gemm N,...]
                   [--precisions fp32,tf32,fp16] [--bin build/bin]
    gpu.py run DIR OUT [--runs 20] [--timeout 120] [--torch]

`prepare` (here, with the build): compiles each model with `shears compile --target cuda`
into DIR/<case>.so, writes seeded inputs for each batch and the CPU path's outputs as
references (`shears run`), builds bench/gpu_runner.c against the C runtime, copies
libshears_runtime.so, and writes DIR/manifest.json. Models are names from build/models or
models/ (fashion_mnist_mlp, fashion_mnist_cnn, resnet18, mobilenet_v2, squeezenet1_1, ...),
`NAME-pruned` for NAME pruned by 50% of its channels, and `gemmN` (--gemm) an N x N x N f32
MatMul of two inputs (generated on the GPU machine, so the bundle stays small). --tile-batch B
adds a batch-B case per model made there from the largest prepared batch repeated (its inputs
and references alike), so large batches cost the bundle nothing. --precisions compiles every
case once per `--gpu-precision` (cases and libraries of tf32 and fp16 named with it; their
outputs are checked within 1e-2, a GEMM's within 5e-3 of its magnitude; bf16's within 5e-2 and
2e-2). It prints the bundle's size:
the device tool carries at most 64 MiB, so large sets go in two bundles.

`run` (on the GPU machine, Python's standard library; numpy for the GEMMs' inputs and check):
runs every case with gpu_runner (at most --timeout seconds each), compares its outputs with
the references (|gpu - cpu| <= 1e-4 + 1e-4 |cpu|; a GEMM's first rows against numpy's float64
product, relative to the row's magnitude), and writes OUT/results.json and OUT/results.md
after every case: the check, the latency and the GPU time from CUDA events (medians of
--runs; they include the copies of inputs and outputs), the kernels' own time in a run and
the longest kernel's (events around each launch, in as many more runs), and GFLOP/s for the
GEMMs over the whole call and over their longest kernel (the product itself). --torch adds PyTorch's numbers on the same GPU, where it
is installed: cuBLAS's fp32 and TF32 GEMMs and torchvision's resnet18 (random weights, eager).
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOL = 1e-4
# Tensor cores round the operands to 10 bits of mantissa (tf32, fp16) or 7 (bf16).
REDUCED_TOL = {"tf32": 1e-2, "fp16": 1e-2, "bf16": 5e-2}


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

    precisions = [p for p in args.precisions.split(",") if p]

    def compile_cuda(onnx_path, name, precision):
        """The library of `name` for `precision` and the case's name suffix."""
        suffix = "" if precision == "fp32" else f".{precision}"
        lib = out / f"{name}{suffix}.so"
        subprocess.run([shears, "compile", onnx_path, "--target", "cuda",
                        f"--gpu-precision={precision}", "-o", lib], check=True)
        lib.with_suffix(".h").unlink(missing_ok=True)
        return lib, "" if precision == "fp32" else f" {precision}"

    def add(name, onnx_path, batches, flops=None):
        libs = [compile_cuda(onnx_path, name, p) + (p,) for p in precisions]
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
            for lib, suffix, precision in libs:
                cases.append({"case": f"{name} b{batch}{suffix}", "library": lib.name,
                              "inputs": feeds, "reference": ref.name, "flops": flops,
                              "precision": precision})
        if args.tile_batch and flops is None:
            base = max(batches)
            for lib, suffix, precision in libs:
                cases.append({"case": f"{name} b{args.tile_batch}{suffix}", "library": lib.name,
                              "tile": [f"{name} b{base}{suffix}", args.tile_batch // base],
                              "precision": precision})

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
    from onnx import helper
    for n in [int(v) for v in args.gemm.split(",") if v]:
        path = out / f"gemm{n}.onnx"
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")], f"gemm{n}",
            [helper.make_tensor_value_info(v, onnx.TensorProto.FLOAT, [n, n]) for v in "xw"],
            [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [n, n])])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                    ir_version=8), str(path))
        for precision in precisions:
            lib, suffix = compile_cuda(path, f"gemm{n}", precision)
            cases.append({"case": f"gemm {n}{suffix}", "library": lib.name, "flops": 2 * n ** 3,
                          "generate": {"x": [n, n], "w": [n, n]}, "precision": precision})
        path.unlink()

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


def npy_parts(path):
    """(header dict, header length, bytes) of a .npy file, without numpy."""
    data = Path(path).read_bytes()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path} is not a .npy file")
    length, start = ((struct.unpack("<H", data[8:10])[0], 10) if data[6] == 1
                     else (struct.unpack("<I", data[8:12])[0], 12))
    return eval(data[start:start + length].decode("latin1")), start + length, data  # numpy's literal


def read_npy(path):
    """(shape, values) of a little-endian f32/f64/i64/i32 .npy file, without numpy."""
    header, offset, data = npy_parts(path)
    codes = {"<f4": "f", "<f8": "d", "<i8": "q", "<i4": "i"}
    if header["descr"] not in codes or header["fortran_order"]:
        raise ValueError(f"{path}: unsupported dtype {header['descr']}")
    code = codes[header["descr"]]
    count = 1
    for d in header["shape"]:
        count *= d
    return header["shape"], struct.unpack(f"<{count}{code}", data[offset:offset + count * struct.calcsize(code)])


def tile_npy(source, target, times):
    """Writes `source` repeated `times` along its first dimension (a larger batch) to `target`."""
    header, offset, data = npy_parts(source)
    header["shape"] = (header["shape"][0] * times, *header["shape"][1:])
    text = repr(header).encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    Path(target).write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text
                             + data[offset:] * times)


def compare(out_dir, ref_dir, tol=TOL):
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
            if not diff <= tol + tol * abs(b):
                bad += 1
        if bad:
            messages.append(f"{ref.name}: {bad} of {len(rvals)} elements differ")
    return not messages, worst, "; ".join(messages)


def generate(case, work):
    """Random inputs of a GEMM case, written with numpy; returns the feeds and a checker."""
    import numpy as np
    rng = np.random.default_rng(0)
    arrays = {name: rng.standard_normal(shape, dtype=np.float32)
              for name, shape in case["generate"].items()}
    feeds = []
    for name, array in arrays.items():
        np.save(work / f"{name}.npy", array)
        feeds.append(f"{name}={work / f'{name}.npy'}")

    def check(outputs):
        # The first 64 rows against float64; fp32 sums of n products differ by ~sqrt(n) ulps.
        got = np.load(outputs / "y.npy")[:64].astype(np.float64)
        want = arrays["x"][:64].astype(np.float64) @ arrays["w"].astype(np.float64)
        worst = float(np.abs(got - want).max())
        scale = float(np.abs(want).max())
        precision = case.get("precision", "fp32")
        if precision == "fp32":
            ok = worst <= 1e-5 * scale * np.sqrt(want.shape[1])
        else:  # operands rounded to 10 bits: ~7e-4 of the magnitude at 4.5 sigma; bf16 8 times
            ok = worst <= (2e-2 if precision == "bf16" else 5e-3) * scale
        return ok, worst, "" if ok else f"max abs diff {worst:.3g} for values up to {scale:.3g}"
    return feeds, check


def torch_baselines(gemms, runs):
    """PyTorch on the same GPU: cuBLAS GEMMs (fp32, TF32) and torchvision's resnet18."""
    try:
        import torch
        import torchvision
    except ImportError as e:
        return [{"case": "torch", "check": "n/a", "error": str(e)}]
    if not torch.cuda.is_available():
        return [{"case": "torch", "check": "n/a", "error": "torch sees no GPU"}]

    def timed(fn):
        for _ in range(3):
            fn()
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        times = []
        for _ in range(runs):
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop))
        return sorted(times)[len(times) // 2]

    rows = []
    for n in gemms:
        a = torch.randn(n, n, device="cuda")
        b = torch.randn(n, n, device="cuda")
        for tf32 in (False, True):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            ms = timed(lambda: a @ b)
            rows.append({"case": f"torch gemm {n} {'tf32' if tf32 else 'fp32'}", "check": "n/a",
                         "gpu_ms": ms, "gflops": 2 * n ** 3 / ms / 1e6})
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    model = torchvision.models.resnet18().cuda().eval()
    with torch.no_grad():
        for batch in (1, 8, 64):
            x = torch.randn(batch, 3, 224, 224, device="cuda")
            rows.append({"case": f"torch resnet18 b{batch} fp32", "check": "n/a",
                         "gpu_ms": timed(lambda: model(x))})
    return rows


def write_results(out, results):
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    nan = float("nan")
    lines = ["| case | check | max abs diff | latency ms | GPU ms (events) | GFLOP/s "
             "| kernels ms | longest kernel ms | kernel GFLOP/s |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        lines.append(f"| {r['case']} | {r['check']} | {r.get('max_abs_diff', nan):.3g} | "
                     f"{r.get('latency_ms', nan):.3f} | {r.get('gpu_ms', nan):.3f} | "
                     f"{r.get('gflops', nan):.0f} | {r.get('kernels_ms', nan):.3f} | "
                     f"{r.get('longest_kernel_ms', nan):.3f} | {r.get('kernel_gflops', nan):.0f} |")
    for r in results:
        if r.get("error"):
            lines.append(f"\n{r['case']}: {r['error']}")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    return lines


def run(args):
    bundle, out = args.bundle.resolve(), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="shears-gpu-"))
    cases = json.loads((bundle / "manifest.json").read_text())
    by_name = {case["case"]: case for case in cases}
    env = dict(os.environ, LD_LIBRARY_PATH=str(bundle))
    results = []
    for case in cases:
        outputs = work / case["case"].replace(" ", "-")
        outputs.mkdir()
        check = None
        if "tile" in case:  # a larger batch made of a prepared one, references alike
            source, times = by_name[case["tile"][0]], case["tile"][1]
            feeds = []
            for feed in source["inputs"]:
                name, file = feed.split("=")
                tile_npy(bundle / file, work / f"{outputs.name}.{name}.npy", times)
                feeds.append(f"{name}={work / f'{outputs.name}.{name}.npy'}")
            reference = work / f"{outputs.name}.ref"
            reference.mkdir()
            for ref in (bundle / source["reference"]).glob("*.npy"):
                tile_npy(ref, reference / ref.name, times)
        elif "generate" in case:
            try:
                feeds, check = generate(case, work)
            except ImportError as e:
                results.append({"case": case["case"], "check": "FAIL", "error": f"needs numpy: {e}"})
                continue
        else:
            feeds = [f"{f.split('=')[0]}={bundle / f.split('=')[1]}" for f in case["inputs"]]
            reference = bundle / case["reference"]
        cmd = [str(bundle / "gpu_runner"), str(bundle / case["library"]), "--runs",
               str(args.runs), "-o", str(outputs), *feeds]
        row = {"case": case["case"]}
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            proc = None
            row.update(check="FAIL", error=f"timed out after {args.timeout} s")
        if proc is not None and proc.returncode != 0:
            row.update(check="FAIL", error=(proc.stderr.strip() or proc.stdout.strip())[-500:]
                       or f"exit status {proc.returncode}")
        elif proc is not None:
            timing = json.loads(proc.stdout.strip().splitlines()[-1])
            tol = REDUCED_TOL.get(case.get("precision", "fp32"), TOL)
            ok, worst, message = check(outputs) if check else compare(outputs, reference, tol)
            row.update(check="ok" if ok else "FAIL", max_abs_diff=worst, **timing)
            if message:
                row["error"] = message
            if case.get("flops") and timing["gpu_ms"] > 0:
                row["gflops"] = case["flops"] / timing["gpu_ms"] / 1e6
            if case.get("flops") and timing.get("longest_kernel_ms", 0) > 0:
                row["kernel_gflops"] = case["flops"] / timing["longest_kernel_ms"] / 1e6
        results.append(row)
        print(json.dumps(row), flush=True)
        write_results(out, results)
        shutil.rmtree(outputs)
    if args.torch:
        gemms = sorted({int(c["case"].split()[1]) for c in cases if c["case"].startswith("gemm ")})
        for row in torch_baselines(gemms, args.runs):
            results.append(row)
            print(json.dumps(row), flush=True)
        write_results(out, results)
    shutil.rmtree(work)
    print("\n".join(write_results(out, results)))
    return 0 if all(r["check"] in ("ok", "n/a") for r in results) else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare")
    prep.add_argument("--out", required=True, type=Path)
    prep.add_argument("--models", default="fashion_mnist_mlp,fashion_mnist_cnn,resnet18")
    prep.add_argument("--batches", default="1,8")
    prep.add_argument("--tile-batch", type=int, default=0,
                      help="also a batch made on the GPU machine from the largest one, e.g. 64")
    prep.add_argument("--gemm", default="", help="sizes N of N x N x N MatMuls, e.g. 4096")
    prep.add_argument("--precisions", default="fp32",
                      help="--gpu-precision values to compile every case for, e.g. fp32,tf32,bf16")
    prep.add_argument("--bin", type=Path, default=ROOT / "build" / "bin")
    go = sub.add_parser("run")
    go.add_argument("bundle", type=Path)
    go.add_argument("out", type=Path)
    go.add_argument("--runs", type=int, default=20)
    go.add_argument("--timeout", type=int, default=120, help="seconds a case may take")
    go.add_argument("--torch", action="store_true", help="PyTorch's numbers on the same GPU")
    args = p.parse_args()
    if args.command == "prepare":
        args.batch_list = [int(b) for b in args.batches.split(",")]
        return prepare(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
