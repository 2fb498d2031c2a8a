#!/usr/bin/python3
"""Runs a model through Shears and ONNX Runtime on the same input and compares the outputs.

    check_numerics.py --model M.onnx --batch B --workdir D [--seed S] [--tol 1e-4]
                      [--bin build/bin] [--aot] [--data auto|random|fashion-mnist]
                      [--device cpu|cuda|cuda-emulated] [--gpu-precision fp32|tf32|fp16|bf16]

Writes one input per model input to D/<name>.b<B>.npy: real Fashion-MNIST test images (a seeded
choice) for a model whose input is [N, 1, 28, 28] or [N, 784] (--data auto, the default, or
--data fashion-mnist), otherwise seeded standard-normal noise of the input's shape with batch B
(the first dimension; any other symbolic dimension is an error). Then runs ONNX Runtime into
D/ort.b<B>/ and Shears into D/jit.b<B>/ (shears-run, JIT) or, with --aot, D/aot.b<B>/
(shears-compile to D/lib<model>.so, reused while newer than the model and shears-compile, then
shears-example-run-model), and compares every output: |ort - shears| <= tol + tol*|ort|.
--device cuda runs Shears on the GPU (shears-run --device cuda, shears-compile --target cuda);
cuda-emulated runs the GPU pipeline's code on the CPU (shears-run --device cuda --emulate-gpu,
JIT only), with --gpu-precision for its large products and convolutions (tensor cores: pass a
--tol that the precision allows). Their outputs go to D/<mode>-<device>[-<precision>].b<B>/.

Prints the per-output comparison, then one summary line
    numerics OK <model> batch <B> (jit|aot): max abs diff X
or `numerics FAIL <model> batch <B> (jit|aot): <why>`; exits 0 only when everything matches.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx

UTILS = Path(__file__).resolve().parent
sys.path.insert(0, str(UTILS))
from ort_compare import compare_dirs, graph_inputs, run_ort  # noqa: E402

NUMPY_DTYPES = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32,
}
FASHION_SHAPES = ((1, 28, 28), (784,))


class Failure(Exception):
    pass


def input_shape(name, dims, batch):
    if not dims:
        raise Failure(f"input '{name}' is a scalar; there is no batch dimension")
    rest = dims[1:]
    if any(d is None for d in rest):
        raise Failure(f"input '{name}' has symbolic dimensions besides the batch: {dims}")
    if dims[0] is not None and dims[0] != batch:
        raise Failure(f"input '{name}' has a static batch of {dims[0]}, not {batch}")
    return (batch, *rest)


def fashion_images(shape, seed):
    import fashion_mnist
    images, _ = fashion_mnist.load("test")
    idx = np.random.default_rng(seed).choice(len(images), shape[0], replace=False)
    return np.ascontiguousarray(images[idx].reshape(shape))


def make_inputs(model, batch, seed, data, workdir):
    """Writes the inputs; returns {name: path}."""
    specs = graph_inputs(model)
    if not specs:
        raise Failure("the model has no inputs")
    rng = np.random.default_rng(seed)
    inputs = {}
    for name, elem, dims in specs:
        shape = input_shape(name, dims, batch)
        dtype = NUMPY_DTYPES.get(elem)
        if dtype is None:
            raise Failure(f"input '{name}' has ONNX element type "
                          f"{onnx.TensorProto.DataType.Name(elem)}, which this script cannot fill")
        fashion = (data == "fashion-mnist" or
                   (data == "auto" and len(specs) == 1 and tuple(shape[1:]) in FASHION_SHAPES))
        if fashion:
            if tuple(shape[1:]) not in FASHION_SHAPES or dtype != np.float32:
                raise Failure(f"input '{name}' (f32 expected) of shape {shape} cannot hold "
                              "Fashion-MNIST images")
            if batch > 10000:
                raise Failure("Fashion-MNIST has 10000 test images")
            x = fashion_images(shape, seed)
        elif np.issubdtype(dtype, np.floating):
            x = rng.standard_normal(shape).astype(dtype)
        else:
            x = rng.integers(0, 10, shape, dtype=dtype)
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        path = workdir / f"{safe}.b{batch}.npy"
        np.save(path, x)
        inputs[name] = path
    return inputs, fashion


def run(cmd, what):
    start = time.time()
    proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout)
        raise Failure(f"{what} exited with {proc.returncode}")
    return time.time() - start


def fresh_dir(path):
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.npy"):
        old.unlink()
    return path


DEVICE_FLAGS = {"cpu": [], "cuda": ["--device=cuda"],
                "cuda-emulated": ["--device=cuda", "--emulate-gpu"]}


def run_shears(args, stem, inputs):
    mode = "aot" if args.aot else "jit"
    suffix = "" if args.device == "cpu" else f"-{args.device}"
    gpu = []
    if args.gpu_precision != "fp32":
        suffix += f"-{args.gpu_precision}"
        gpu = [f"--gpu-precision={args.gpu_precision}"]
    out = fresh_dir(args.workdir / f"{mode}{suffix}.b{args.batch}")
    feeds = [f"{n}={p}" for n, p in inputs.items()]
    if not args.aot:
        tool = args.bin / "shears-run"
        t = run([tool, args.model, *(f"--input={f}" for f in feeds), f"--output-dir={out}",
                 *DEVICE_FLAGS[args.device], *gpu], "shears-run")
        return out, f"shears-run {t:.1f} s"
    if args.device == "cuda-emulated":
        raise Failure("the GPU emulation runs in the JIT only (no --aot)")
    compile_tool, runner = args.bin / "shears-compile", args.bin / "shears-example-run-model"
    for tool in (compile_tool, runner):
        if not tool.is_file():
            raise Failure(f"{tool} does not exist")
    lib = args.workdir / f"lib{stem}{suffix}.so"
    newest_source = max(args.model.stat().st_mtime, compile_tool.stat().st_mtime)
    if lib.is_file() and lib.stat().st_mtime > newest_source:
        timing = "shears-compile reused"
    else:
        compile_cmd = [compile_tool, args.model, "-o", lib, f"--target={args.device}", *gpu]
        timing = f"shears-compile {run(compile_cmd, 'shears-compile'):.1f} s"
    t = run([runner, lib, *feeds, "-o", out], "shears-example-run-model")
    return out, f"{timing}, run {t:.1f} s"


def check(args):
    for path, what in ((args.model, "model"), (args.bin, "--bin directory")):
        if not path.exists():
            raise Failure(f"{what} {path} does not exist")
    if args.batch < 1:
        raise Failure("--batch must be positive")
    args.workdir.mkdir(parents=True, exist_ok=True)
    stem = args.model.name.removesuffix(".onnx")
    inputs, fashion = make_inputs(args.model, args.batch, args.seed, args.data, args.workdir)

    ref = fresh_dir(args.workdir / f"ort.b{args.batch}")
    start = time.time()
    ok, err = run_ort(args.model, inputs, ref)
    if not ok:
        sys.stderr.write(err + "\n")
        raise Failure("ONNX Runtime failed")
    ort_time = time.time() - start
    out, shears_time = run_shears(args, stem, inputs)
    print(f"{'Fashion-MNIST test images' if fashion else 'random input'}; "
          f"onnxruntime {ort_time:.1f} s, {shears_time}")

    lines = []
    ok, worst = compare_dirs(ref, out, rtol=args.tol, atol=args.tol, log=lines.append)
    print("\n".join(lines))
    if not ok:
        raise Failure("outputs differ: " + "; ".join(l for l in lines if ": ok:" not in l))
    if fashion and len(inputs) == 1:
        a, b = (np.load(next(d.glob("*.npy"))) for d in (ref, out))
        if a.ndim == 2 and a.shape[1] > 1:
            agree = a.argmax(1) == b.argmax(1)
            print(f"predicted classes agree on {int(agree.sum())} of {len(a)} images")
            # Within tolerance, only a near-tie may flip the top class.
            top2 = np.sort(a, axis=1)[:, -2:]
            clear = top2[:, 1] - top2[:, 0] > 2 * args.tol * (1 + np.abs(top2[:, 1]))
            if (~agree & clear).any():
                raise Failure("predicted classes differ")
    return worst


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--batch", required=True, type=int)
    p.add_argument("--workdir", required=True, type=Path)
    p.add_argument("--seed", type=int, default=0, help="input seed (default 0)")
    p.add_argument("--tol", type=float, default=1e-4, help="rtol and atol (default 1e-4)")
    p.add_argument("--bin", type=Path, default=UTILS.parent / "build" / "bin",
                   help="directory of the Shears tools (default: build/bin)")
    p.add_argument("--aot", action="store_true",
                   help="shears-compile + shears-example-run-model instead of shears-run")
    p.add_argument("--data", choices=("auto", "random", "fashion-mnist"), default="auto")
    p.add_argument("--device", choices=tuple(DEVICE_FLAGS), default="cpu",
                   help="where Shears runs the model (default cpu)")
    p.add_argument("--gpu-precision", choices=("fp32", "tf32", "fp16", "bf16"), default="fp32",
                   help="what the GPU's large products and convolutions multiply in "
                        "(not with --device cpu; default fp32)")
    args = p.parse_args()
    mode = "aot" if args.aot else "jit"
    if args.device != "cpu":
        mode += f", {args.device}"
    label = f"{args.model.name.removesuffix('.onnx')} batch {args.batch} ({mode})"
    try:
        worst = check(args)
    except Failure as e:
        print(f"numerics FAIL {label}: {e}")
        return 1
    print(f"numerics OK {label}: max abs diff {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
