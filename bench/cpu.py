#!/usr/bin/python3
"""CPU latency of Shears (AOT) against ONNX Runtime and PyTorch, on the same models and machine.

    bench/cpu.py [--models fashion_mnist_cnn,squeezenet1_1,mobilenet_v2,resnet18]
                 [--batches 1,32] [--runs 10] [--runs-large 3] [--max-seconds 900]
                 [--backends shears,ort1,ort2,torch1,torch2] [--json results.json]
    bench/cpu.py --layers resnet18 [--batches 1] [--runs 10]

Latency mode (the default), for each model and batch:
  shears  shears-compile once (batch-independent .so in --workdir), then shearsModelRun timed
          in process through the C runtime (ctypes over build/lib/libshears_runtime.so);
          Shears's code runs on one thread.
  ort1/2  ONNX Runtime (npm onnxruntime-node, bench/ort_bench.js) with 1 or 2 intra-op threads,
          all graph optimizations, the model loaded once.
  torch1/2  Debian's PyTorch in eager mode (inference_mode) with 1 or 2 threads, on the same
          architecture (torchvision, or the Fashion-MNIST CNN's class) with random weights:
          latency does not depend on the weight values. Its BatchNorms are not folded.
Each measurement is one untimed warm-up run (three for PyTorch), then --runs timed runs (--runs-large for batches
of 8 and more); the table gives medians in ms and Shears / ORT (1 thread). Inputs are random.
--max-seconds caps the whole run: a measurement gets fewer runs when it would not fit, and one
whose estimate (from its warm-up, or from batch 1 scaled by the batch) exceeds the time left is
skipped ("skip").

Layer mode (--layers MODEL): every node of MODEL is cut out as a one-node ONNX model with the
shapes it has at the batch given, then compiled by Shears and timed by Shears and ONNX Runtime
(1 thread); prints per-node latency, GFLOP/s of convolutions and Gemms, and a summary by kind.
Identical nodes (op, attributes, shapes) are compiled once and counted as often as they occur.
Models are looked up as models/NAME.onnx, then build/models/NAME.onnx (--model-dir adds one).
"""
import argparse
import ctypes
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import OrderedDict, defaultdict
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, shape_inference

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "utils"))
from ort_compare import graph_inputs  # noqa: E402
DEFAULT_MODELS = "fashion_mnist_cnn,squeezenet1_1,mobilenet_v2,resnet18"
BACKENDS = ("shears", "ort1", "ort2", "torch1", "torch2")


class Failure(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Shears through the C runtime
# --------------------------------------------------------------------------------------------

class ShearsRuntime:
    """ctypes over include/shears-c/Runtime.h."""

    F32 = 0

    def __init__(self, path):
        if not Path(path).is_file():
            raise Failure(f"{path} does not exist (build the shears_runtime target)")
        lib = self.lib = ctypes.CDLL(str(path))
        vp = ctypes.c_void_p
        sig = {
            "shearsModelLoadLibrary": (vp, [ctypes.c_char_p, ctypes.POINTER(vp)]),
            "shearsModelFree": (None, [vp]),
            "shearsModelNumInputs": (ctypes.c_size_t, [vp]),
            "shearsModelNumOutputs": (ctypes.c_size_t, [vp]),
            "shearsTensorWrap": (vp, [ctypes.c_int, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int64),
                                      vp, ctypes.POINTER(vp)]),
            "shearsTensorFree": (None, [vp]),
            "shearsModelRun": (ctypes.c_int, [vp, ctypes.POINTER(vp), ctypes.c_size_t,
                                              ctypes.POINTER(vp), ctypes.POINTER(vp)]),
            "shearsFreeString": (None, [vp]),
        }
        for name, (res, args) in sig.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args

    def _check(self, error, what):
        msg = ctypes.cast(error, ctypes.c_char_p).value.decode() if error.value else "unknown error"
        self.lib.shearsFreeString(error)
        raise Failure(f"{what}: {msg}")

    def load(self, so_path):
        return ShearsModel(self, so_path)


class ShearsModel:
    def __init__(self, rt, so_path):
        self.rt, lib = rt, rt.lib
        error = ctypes.c_void_p()
        self.handle = lib.shearsModelLoadLibrary(str(so_path).encode(), ctypes.byref(error))
        if not self.handle:
            rt._check(error, f"cannot load {so_path}")
        self.num_outputs = lib.shearsModelNumOutputs(self.handle)
        self.arrays, self.tensors = [], []

    def set_inputs(self, arrays):
        self._free_inputs()
        for a in arrays:
            a = np.ascontiguousarray(a, dtype=np.float32)
            shape = (ctypes.c_int64 * a.ndim)(*a.shape)
            error = ctypes.c_void_p()
            t = self.rt.lib.shearsTensorWrap(ShearsRuntime.F32, a.ndim, shape,
                                             a.ctypes.data_as(ctypes.c_void_p), ctypes.byref(error))
            if not t:
                self.rt._check(error, "shearsTensorWrap")
            self.arrays.append(a)
            self.tensors.append(t)
        self.inputs = (ctypes.c_void_p * len(self.tensors))(*self.tensors)
        self.outputs = (ctypes.c_void_p * self.num_outputs)()

    def run(self):
        error = ctypes.c_void_p()
        lib = self.rt.lib
        if lib.shearsModelRun(self.handle, self.inputs, len(self.tensors), self.outputs,
                              ctypes.byref(error)):
            self.rt._check(error, "shearsModelRun")
        for t in self.outputs:
            lib.shearsTensorFree(t)

    def _free_inputs(self):
        for t in self.tensors:
            self.rt.lib.shearsTensorFree(t)
        self.arrays, self.tensors = [], []

    def close(self):
        self._free_inputs()
        self.rt.lib.shearsModelFree(self.handle)


def shears_compile(args, model_path, so_path):
    """Compiles unless so_path is newer than the model and shears-compile; returns seconds or None."""
    tool = args.bin / "shears-compile"
    if not tool.is_file():
        raise Failure(f"{tool} does not exist")
    if so_path.is_file() and so_path.stat().st_mtime > max(model_path.stat().st_mtime,
                                                           tool.stat().st_mtime):
        return None
    start = time.time()
    proc = subprocess.run([str(tool), str(model_path), "-o", str(so_path)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise Failure(f"shears-compile {model_path.name} failed:\n{proc.stdout[-2000:]}")
    return time.time() - start


# --------------------------------------------------------------------------------------------
# Models and inputs
# --------------------------------------------------------------------------------------------

def find_model(args, name):
    dirs = ([args.model_dir] if args.model_dir else []) + [REPO / "models", REPO / "build" / "models"]
    for d in dirs:
        p = Path(d) / f"{name}.onnx"
        if p.is_file():
            return p
    raise Failure(f"no {name}.onnx in {', '.join(map(str, dirs))}")


def input_specs(model, batch):
    """[(name, shape)] of the non-initializer inputs with the first dimension set to `batch`."""
    specs = []
    for name, elem_type, dims in graph_inputs(model):
        if elem_type != onnx.TensorProto.FLOAT:
            raise Failure(f"input {name} is not float32")
        if any(d is None for d in dims[1:]):
            raise Failure(f"input {name} has symbolic dims besides the batch: {dims}")
        specs.append((name, (batch, *dims[1:])))
    return specs


def random_inputs(specs, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape, dtype=np.float32) for _, shape in specs]


def torch_model(name):
    import torchvision
    if name == "fashion_mnist_cnn":
        path = REPO / "models" / "train_fashion_mnist_cnn.py"
        spec = importlib.util.spec_from_file_location("train_fashion_mnist_cnn", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        model = mod.FashionCNN()
    elif hasattr(torchvision.models, name):
        model = getattr(torchvision.models, name)(weights=None)
    else:
        raise Failure(f"no PyTorch architecture for {name}")
    return model.eval()


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------

class Budget:
    def __init__(self, seconds):
        self.deadline = time.time() + seconds

    def left(self):
        return self.deadline - time.time()


def time_calls(fn, runs, budget, estimate=None, warmup=1):
    """`warmup` untimed calls, then up to `runs` timed calls that fit in the budget.

    Returns (times in ms, note) or (None, why) when skipped."""
    if estimate is not None and estimate > budget.left():
        return None, f"skip (~{estimate:.0f} s > {max(budget.left(), 0):.0f} s left)"
    for _ in range(warmup):
        start = time.perf_counter()
        fn()
        warm = time.perf_counter() - start
    n = max(1, min(runs, int(budget.left() / max(warm, 1e-9))))
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times, ("" if n == runs else f"{n} runs")


def ort_times(args, model_path, specs, threads, runs, budget, estimate):
    if estimate is not None and estimate > budget.left():
        return None, f"skip (~{estimate:.0f} s > {max(budget.left(), 0):.0f} s left)"
    cmd = [os.environ.get("NODE", "node"), str(REPO / "bench" / "ort_bench.js"), str(model_path),
           "--runs", str(runs), "--threads", str(threads)]
    for name, shape in specs:
        cmd += ["--shape", f"{name}={','.join(map(str, shape))}"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise Failure(f"ort_bench.js failed on {model_path.name}: {proc.stderr.strip()}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["times_ms"], ""


def median(times):
    return statistics.median(times) if times else None


def fmt(ms):
    if ms is None:
        return "-"
    return f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}" if ms >= 1 else f"{ms:.3f}"


# --------------------------------------------------------------------------------------------
# Latency mode
# --------------------------------------------------------------------------------------------

def bench_latency(args):
    budget = Budget(args.max_seconds)
    rt = ShearsRuntime(args.runtime) if "shears" in args.backends else None
    rows = []
    per_sample = {}  # (model, backend) -> seconds per sample at the smallest batch measured
    for name in args.models:
        model_path = find_model(args, name)
        model = onnx.load(str(model_path), load_external_data=False)
        compiled = tmodel = None
        compile_s = None
        for batch in args.batches:
            specs = input_specs(model, batch)
            inputs = random_inputs(specs)
            runs = args.runs_large if batch >= 8 else args.runs
            row = OrderedDict(model=name, batch=batch)
            notes = []

            def estimate(backend):
                s = per_sample.get((name, backend))
                return None if s is None else s * batch * (runs + 1)

            for backend in args.backends:
                if backend == "shears":
                    if compiled is None:
                        so = args.workdir / f"lib{name}.so"
                        compile_s = shears_compile(args, model_path, so)
                        compiled = rt.load(so)
                    compiled.set_inputs(inputs)
                    times, note = time_calls(compiled.run, runs, budget, estimate(backend))
                elif backend.startswith("ort"):
                    times, note = ort_times(args, model_path, specs, int(backend[3:]), runs,
                                            budget, estimate(backend))
                else:
                    import torch
                    torch.set_num_threads(int(backend[5:]))
                    if tmodel is None:
                        tmodel = torch_model(name)
                    x = [torch.from_numpy(a) for a in inputs]

                    def call():
                        with torch.inference_mode():
                            tmodel(*x)
                    # A new thread count makes the first few calls slow (pool start-up).
                    times, note = time_calls(call, runs, budget, estimate(backend), warmup=3)
                med = median(times)
                row[backend] = med
                if med is not None and (name, backend) not in per_sample:
                    per_sample[(name, backend)] = med / 1e3 / batch
                if note:
                    notes.append(f"{backend}: {note}")
                print(f"  {name} batch {batch} {backend}: "
                      f"{fmt(med) + ' ms' if med is not None else ''} {note}".rstrip(), flush=True)
            row["shears_compile_s"] = compile_s
            row["notes"] = "; ".join(notes)
            rows.append(row)
        if compiled is not None:
            compiled.close()
    return rows


def latency_table(rows, backends):
    head = ["model", "batch"] + [{"shears": "Shears AOT", "ort1": "ORT 1T", "ort2": "ORT 2T",
                                  "torch1": "PyTorch 1T", "torch2": "PyTorch 2T"}[b]
                                 for b in backends]
    ratio = "shears" in backends and "ort1" in backends
    if ratio:
        head.append("Shears / ORT 1T")
    lines = ["| " + " | ".join(head) + " |",
             "| --- | ---: |" + " ---: |" * (len(head) - 2)]
    for r in rows:
        cells = [r["model"], str(r["batch"])] + [fmt(r.get(b)) for b in backends]
        if ratio:
            s, o = r.get("shears"), r.get("ort1")
            cells.append(f"{s / o:.1f}x" if s is not None and o else "-")
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"{r['model']} batch {r['batch']}: {r['notes']}" for r in rows if r["notes"]]
    return lines + ([""] + ["- " + n for n in notes] if notes else [])


# --------------------------------------------------------------------------------------------
# Layer mode
# --------------------------------------------------------------------------------------------

def attr_key(node):
    return tuple(sorted((a.name, str(helper.get_attribute_value(a))) for a in node.attribute))


def node_flops(node, shapes, init_shapes):
    """2 * multiply-adds of Conv and Gemm/MatMul nodes; 0 for the rest."""
    if node.op_type == "Conv":
        w = init_shapes.get(node.input[1]) or shapes.get(node.input[1])
        out = shapes[node.output[0]]
        return 2 * int(np.prod(out)) * int(np.prod(w[1:]))  # w[1] is Cin / group
    if node.op_type in ("Gemm", "MatMul"):
        a, out = shapes[node.input[0]], shapes[node.output[0]]
        k = a[0] if (node.op_type == "Gemm" and any(x.name == "transA" and x.i for x in node.attribute)) else a[-1]
        return 2 * int(np.prod(out)) * int(k)
    return 0


def node_kind(node, init_shapes):
    if node.op_type != "Conv":
        return node.op_type
    w = init_shapes[node.input[1]]
    group = next((a.i for a in node.attribute if a.name == "group"), 1)
    stride = next((list(a.ints) for a in node.attribute if a.name == "strides"), [1, 1])
    kind = f"Conv {w[2]}x{w[3]}"
    if group > 1:
        kind += " depthwise" if group == w[0] else f" group {group}"
    if max(stride) > 1:
        kind += f" s{max(stride)}"
    return kind


def bench_layers(args):
    if len(args.models) != 1:
        raise Failure("--layers takes one model")
    name = args.models[0]
    batch = args.batches[0]
    model_path = find_model(args, name)
    model = onnx.load(str(model_path))
    g = model.graph
    # Fix the batch, then infer every intermediate shape.
    for i in list(g.input) + list(g.output):
        dims = i.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_value = batch
    model = shape_inference.infer_shapes(model, strict_mode=True)
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    init_shapes = {k: list(v.dims) for k, v in inits.items()}
    shapes, types = {}, {}
    for v in list(g.input) + list(g.value_info) + list(g.output):
        t = v.type.tensor_type
        shapes[v.name] = [d.dim_value for d in t.shape.dim]
        types[v.name] = t.elem_type
    consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}

    rt = ShearsRuntime(args.runtime)
    budget = Budget(args.max_seconds)
    layer_dir = args.workdir / f"layers-{name}-b{batch}"
    layer_dir.mkdir(parents=True, exist_ok=True)
    unique = OrderedDict()  # key -> dict
    for node in g.node:
        if node.op_type == "Constant":
            continue
        ins = [x for x in node.input if x]
        key = (node.op_type, attr_key(node),
               tuple(tuple(init_shapes.get(x) or shapes.get(x) or ()) for x in ins))
        if key in unique:
            unique[key]["count"] += 1
            unique[key]["names"].append(node.name)
            continue
        graph_inputs, graph_inits, nodes = [], [], []
        for x in ins:
            if x in inits:
                graph_inits.append(inits[x])
            elif x in consts:
                nodes.append(consts[x])
            else:
                graph_inputs.append(helper.make_tensor_value_info(x, types[x], shapes[x]))
        outs = [helper.make_tensor_value_info(y, types[y], shapes[y]) for y in node.output]
        sub = helper.make_model(
            helper.make_graph(nodes + [node], f"{name}_{node.name}", graph_inputs, outs, graph_inits),
            opset_imports=model.opset_import, ir_version=model.ir_version)
        idx = len(unique)
        path = layer_dir / f"node{idx:03d}.onnx"
        onnx.save(sub, str(path))
        unique[key] = dict(node=node, path=path, count=1, names=[node.name],
                           kind=node_kind(node, init_shapes),
                           shape="x".join(map(str, shapes[node.output[0]])),
                           flops=node_flops(node, shapes, init_shapes),
                           specs=[(v.name, tuple(shapes[v.name])) for v in graph_inputs])
    print(f"{name} batch {batch}: {sum(u['count'] for u in unique.values())} nodes, "
          f"{len(unique)} distinct; compiling and timing each", flush=True)
    for u in unique.values():
        so = u["path"].with_suffix(".so")
        shears_compile(args, u["path"], so)
        m = rt.load(so)
        m.set_inputs(random_inputs(u["specs"]))
        times, _ = time_calls(m.run, args.runs, budget)
        m.close()
        u["shears"] = median(times)
        times, _ = ort_times(args, u["path"], u["specs"], 1, args.runs, budget, None)
        u["ort1"] = median(times)

    total_s = sum(u["shears"] * u["count"] for u in unique.values())
    total_o = sum(u["ort1"] * u["count"] for u in unique.values())
    lines = [f"Per node ({name}, batch {batch}; ms are per occurrence, share of the Shears sum):", "",
             "| node(s) | kind | output | count | Shears ms | ORT 1T ms | share | Shears GFLOP/s | ORT GFLOP/s |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for u in sorted(unique.values(), key=lambda u: -u["shears"] * u["count"]):
        gs = f"{u['flops'] / u['shears'] / 1e6:.1f}" if u["flops"] else ""
        go = f"{u['flops'] / u['ort1'] / 1e6:.1f}" if u["flops"] else ""
        names = u["names"][0] + (f" (+{u['count'] - 1})" if u["count"] > 1 else "")
        lines.append(f"| {names} | {u['kind']} | {u['shape']} | {u['count']} | {fmt(u['shears'])} | "
                     f"{fmt(u['ort1'])} | {100 * u['shears'] * u['count'] / total_s:.1f}% | {gs} | {go} |")
    kinds = defaultdict(lambda: [0.0, 0.0, 0, 0])
    for u in unique.values():
        k = kinds[u["kind"]]
        k[0] += u["shears"] * u["count"]
        k[1] += u["ort1"] * u["count"]
        k[2] += u["flops"] * u["count"]
        k[3] += u["count"]
    lines += ["", "By kind:", "",
              "| kind | nodes | Shears ms | share | ORT 1T ms | Shears / ORT | Shears GFLOP/s |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for kind, (s, o, f, c) in sorted(kinds.items(), key=lambda kv: -kv[1][0]):
        lines.append(f"| {kind} | {c} | {fmt(s)} | {100 * s / total_s:.1f}% | {fmt(o)} | "
                     f"{s / o:.1f}x | {f'{f / s / 1e6:.1f}' if f else ''} |")
    lines += ["", f"Sum over nodes: Shears {fmt(total_s)} ms, ORT 1T {fmt(total_o)} ms "
              f"(run one at a time, so no fusion across nodes)."]
    return lines


# --------------------------------------------------------------------------------------------

def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def parse_batches(parser, text):
    """--batches "1,32" as [1, 32]; a parser error unless all are positive ints."""
    try:
        batches = [int(b) for b in text.split(",") if b]
        if not batches or min(batches) < 1:
            raise ValueError
    except ValueError:
        parser.error("--batches wants positive integers")
    return batches


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated (default: %(default)s)")
    p.add_argument("--batches", default="1,32", help="comma-separated (default: %(default)s)")
    p.add_argument("--runs", type=int, default=10, help="timed runs below batch 8 (default 10)")
    p.add_argument("--runs-large", type=int, default=3, help="timed runs at batch >= 8 (default 3)")
    p.add_argument("--max-seconds", type=float, default=900, help="time budget (default 900)")
    p.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated (default: %(default)s)")
    p.add_argument("--bin", type=Path, default=REPO / "build" / "bin", help="Shears tools")
    p.add_argument("--runtime", type=Path, default=REPO / "build" / "lib" / "libshears_runtime.so")
    p.add_argument("--model-dir", type=Path, help="looked in first for NAME.onnx")
    p.add_argument("--workdir", type=Path, default=REPO / "build" / "bench",
                   help="compiled models (default build/bench)")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--layers", metavar="MODEL", help="per-node profile of MODEL instead")
    args = p.parse_args()
    args.models = [args.layers] if args.layers else [m for m in args.models.split(",") if m]
    args.batches = parse_batches(p, args.batches)
    args.backends = [b for b in args.backends.split(",") if b]
    bad = [b for b in args.backends if b not in BACKENDS]
    if bad:
        p.error(f"unknown backend(s) {', '.join(bad)}; known: {', '.join(BACKENDS)}")
    if args.runs < 1 or args.runs_large < 1:
        p.error("--runs and --runs-large must be positive")
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("OMP_NUM_THREADS", "2")

    head = (f"{datetime.date.today()}, {machine()}, Shears "
            f"{subprocess.run(['git', '-C', str(REPO), 'rev-parse', '--short', 'HEAD'], stdout=subprocess.PIPE, text=True).stdout.strip() or '?'}")
    print(head, flush=True)
    try:
        if args.layers:
            lines = bench_layers(args)
            result = {"header": head, "layers": lines}
        else:
            rows = bench_latency(args)
            lines = ["", "Median latency in ms:", ""] + latency_table(rows, args.backends)
            result = {"header": head, "rows": rows}
    except Failure as e:
        print(f"cpu.py: error: {e}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
