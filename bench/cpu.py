#!/usr/bin/python3
"""CPU benchmarks of Shears (AOT) against ONNX Runtime, OpenBLAS and PyTorch on the same machine.

    bench/cpu.py [--models resnet18,mobilenet_v2,squeezenet1_1,resnet50,fashion_mnist_cnn,fashion_mnist_mlp]
                 [--batches 1,8] [--threads 1,2] [--runs 10] [--runs-large 3] [--rounds 3]
                 [--max-seconds 900] [--backends shears,ort[,torch]] [--json results.json]
    bench/cpu.py --gemm [--gemm-sizes 256,512,1024,2048] [--gemm-conv-model resnet18] [--runs 10]
    bench/cpu.py --compile [MODEL]        (default resnet50)
    bench/cpu.py --layers resnet18 [--batches 1] [--runs 10]
    bench/cpu.py --profile resnet18 [--batches 1] [--threads 1] [--runs 10]
    bench/cpu.py --contend [--models resnet50] --threads 1   (latency or --profile beside a
                                           memory copy on another CPU)
    bench/cpu.py --slow-cpu [--models resnet50] --threads 2  (latency or --profile with one
                                           CPU about a fifth slower than the other)
    bench/cpu.py --all                    (latency, --gemm, --compile resnet50 and the pruned
                                           resnet18 of bench/prune.py, in one run)

Latency mode (the default), for each model, batch and thread count N of --threads:
  shears  shears-compile once (batch-independent .so in --workdir), then shearsModelRun timed
          in process through the C runtime (ctypes over build/lib/libshears_runtime.so), on N
          threads set with shearsModelSetThreads. A runtime without that function runs Shears
          at its default only: the table says so, and Shears's cells for N > 1 are "n/a".
  ort     ONNX Runtime (npm onnxruntime-node, bench/ort_bench.js) with N intra-op threads, all
          graph optimizations, the model loaded once.
  torch   (not in the default --backends) Debian's PyTorch in eager mode (inference_mode) with N
          threads, on the same architecture (torchvision, or the Fashion-MNIST models' classes)
          with random weights: latency does not depend on the weight values. Its BatchNorms
          are not folded.
Each measurement is one untimed warm-up run (three for PyTorch), then --runs timed runs
(--runs-large for batches of 8 and more, unless --runs of them at the batch-1 speed of the
slowest backend take at most a second: three runs of a 0.4 ms model are noise), and that
--rounds times, the backends taking turns (Shears, ORT, Shears, ...), so that a slow phase of a
shared host falls on both; the table gives medians over all rounds in ms and Shears / ORT at
each thread count, the median of the rounds' own ratios (below 1: Shears is faster). At 1
thread both sides run on the same CPU (this process and ORT's, which inherits the mask): the
vCPUs of a shared host differ in speed. Inputs are random. Shears's CPU time / wall time over
its timed runs is kept in the JSON (about 1 on one thread, up to N on N threads), and a 1-thread
measurement that used more than one core is flagged under the table.

GEMM mode (--gemm): one-node ONNX models, compiled by Shears and run through the C runtime on
one thread (--threads: one count), against numpy's matmul on Debian's OpenBLAS in a subprocess
(bench/numpy_gemm.py, with OPENBLAS_NUM_THREADS etc. set to the same count and
OPENBLAS_CORETYPE unset, so that OpenBLAS picks its kernels for this CPU; where it falls back to
a generic core, Prescott say, on a CPU it does not know, the best of Cooperlake, SkylakeX and
Haswell that the CPU's flags allow is named instead, and the table says so):
  MatMul  y = x[M,K] @ W[K,N], W a float32 initializer, for M = N = K in --gemm-sizes;
  Conv    every distinct convolution of --gemm-conv-model (default resnet18) at batch 1, as a
          one-node Conv model with its real shapes and attributes (random weights, no bias);
          its im2col GEMM is M = Cout, K = Cin*KH*KW, N = OH*OW, and numpy times that GEMM,
          W[Cout,K] @ cols[K,N] (so without the im2col itself). Grouped convolutions are skipped.
Prints ms, GFLOP/s (2*M*N*K per call) of each, and Shears as % of OpenBLAS.

Compile mode (--compile MODEL, default resnet50): `shears compile MODEL.onnx -o X.so`
(--compile-runs times, a fresh output each time): wall time, CPU time and peak RSS of that
process and its children (os.wait4), against the model's weight bytes (the sum of its
initializers' sizes), as peak RSS / weight bytes.

Layer mode (--layers MODEL): every node of MODEL is cut out as a one-node ONNX model with the
shapes it has at the batch given, then compiled by Shears and timed by Shears and ONNX Runtime
(one thread each, or --threads); prints per-node latency, GFLOP/s of convolutions and Gemms for
both, and a summary by kind. Identical nodes (op, attributes, shapes) are compiled once and
counted as often as they occur.

Contended (--contend, with latency or --profile at --threads 1): a process pinned to the last
CPU this one may use copies a 128 MB buffer to another and back over and over (numpy, i.e.
memcpy) while the section runs on the first; both backends run beside it alike. It stands in for
the memory traffic of another tenant of a shared host, whose slow phases otherwise come and go at
random: layers that read activations or filters from memory slow down, and by how much differs
between Shears and ORT (docs/CPUCodegen.md, "What is not done yet").

Slow CPU (--slow-cpu, with latency or --profile at --threads 2 or more): a process pinned to the
last CPU this one may use spins about 50 us in every 250-300 us while the section runs, so that
the thread on that CPU runs about a fifth slower, in short gaps. It stands in for the phases of a
shared host in which one vCPU runs 10-30% slower than the other for seconds (stop 57), when a
kernel call that gives each thread an equal part takes as long as its slower thread's part.

Pruned models: 50% channel-pruned resnet18 compiled by Shears against dense resnet18 in ONNX
Runtime (dense-ORT ms / pruned-Shears ms, and pruned-ORT ms / pruned-Shears ms) comes from
    bench/prune.py --models resnet18 --sparsities 0.5 --batches 1,8
which --all runs as its last section.

--max-seconds caps each section: a measurement gets fewer runs when it would not fit, and one
whose estimate (from its warm-up, or from batch 1 scaled by the batch) exceeds the time left is
skipped ("skip"). Models are looked up as models/NAME.onnx, then build/models/NAME.onnx
(--model-dir adds one); a torchvision model found nowhere is exported into build/models by
utils/make_models.py (opset 13, seeded random weights), e.g. resnet50.
"""
import argparse
import contextlib
import ctypes
import datetime
import importlib.util
import itertools
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections import OrderedDict, defaultdict
from pathlib import Path

# numpy's OpenBLAS starts a thread per core when it loads; they compete with the Shears runtime's
# workers in this process, which does no BLAS work itself (2 Shears threads on 2 cores ran at the
# speed of 1 in about half the processes). numpy_gemm.py sets its own counts.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx
from onnx import helper, numpy_helper, shape_inference

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "utils"))
from ort_compare import graph_inputs  # noqa: E402
DEFAULT_MODELS = "resnet18,mobilenet_v2,squeezenet1_1,resnet50,fashion_mnist_cnn,fashion_mnist_mlp"
BACKENDS = ("shears", "ort", "torch")
DEFAULT_BACKENDS = "shears,ort"
DEFAULT_GEMM_SIZES = "256,512,1024,2048"
DEFAULT_COMPILE_MODEL = "resnet50"
OPSET = 13  # that of utils/make_models.py's exports
EXPORT_DIR = REPO / "build" / "models"  # where find_model has utils/make_models.py export models
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "GOTO_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


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
        self.path = Path(path)
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
        # int shearsModelSetThreads(ShearsModel *, int threads, char **error): newer runtimes.
        self.has_threads = hasattr(lib, "shearsModelSetThreads")
        if self.has_threads:
            sig["shearsModelSetThreads"] = (ctypes.c_int, [vp, ctypes.c_int, ctypes.POINTER(vp)])
        # int shearsModelSetBatchChunk(ShearsModel *, int64_t images, char **error): newer ones.
        self.has_batch_chunk = hasattr(lib, "shearsModelSetBatchChunk")
        if self.has_batch_chunk:
            sig["shearsModelSetBatchChunk"] = (ctypes.c_int,
                                               [vp, ctypes.c_int64, ctypes.POINTER(vp)])
        for name, (res, args) in sig.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args

    def threads_note(self):
        """Why Shears ran at one thread count only, or None when it can be set."""
        if self.has_threads:
            return None
        return (f"Shears ran on 1 thread only: {self.path} has no shearsModelSetThreads yet, "
                f"so Shears's cells at more than 1 thread are n/a (the one thread is set through "
                f"the compiled library's shears_uk_set_num_threads where it exports it; a "
                f"measurement that kept more than one core busy is flagged below)")

    def _check(self, error, what):
        msg = ctypes.cast(error, ctypes.c_char_p).value.decode() if error.value else "unknown error"
        self.lib.shearsFreeString(error)
        raise Failure(f"{what}: {msg}")

    def load(self, so_path):
        return ShearsModel(self, so_path)


class ShearsModel:
    def __init__(self, rt, so_path):
        self.rt, lib = rt, rt.lib
        self.so_path = Path(so_path)
        error = ctypes.c_void_p()
        self.handle = lib.shearsModelLoadLibrary(str(so_path).encode(), ctypes.byref(error))
        if not self.handle:
            rt._check(error, f"cannot load {so_path}")
        self.num_outputs = lib.shearsModelNumOutputs(self.handle)
        self.arrays, self.tensors = [], []

    def set_threads(self, threads):
        """Runs the model on `threads` threads from now on. Returns False, changing nothing but
        the pinning below, when the runtime has no shearsModelSetThreads: then only threads == 1
        can be measured, and this makes sure of it where the library exports its kernels'
        shears_uk_set_num_threads (whose default is every CPU)."""
        if self.rt.has_threads:
            error = ctypes.c_void_p()
            if self.rt.lib.shearsModelSetThreads(self.handle, threads, ctypes.byref(error)):
                self.rt._check(error, f"shearsModelSetThreads({threads}) on {self.so_path.name}")
            return True
        if threads == 1:
            try:
                # dlopen of the same file returns the handle the runtime opened: the same pool.
                fn = ctypes.CDLL(str(self.so_path)).shears_uk_set_num_threads
                fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_int]
                fn(1)
            except (OSError, AttributeError):
                pass
        return False

    def set_batch_chunk(self, images):
        """At most `images` images a call of a batch-separable model (0: the runtime's choice);
        a runtime without shearsModelSetBatchChunk runs whole batches, and only 0 is allowed."""
        if self.rt.has_batch_chunk:
            error = ctypes.c_void_p()
            if self.rt.lib.shearsModelSetBatchChunk(self.handle, images, ctypes.byref(error)):
                self.rt._check(error, f"shearsModelSetBatchChunk({images}) on {self.so_path.name}")
        elif images:
            raise Failure(f"{self.rt.path} has no shearsModelSetBatchChunk: --batch-chunk needs a "
                          f"newer runtime")

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
    target = getattr(args, "target_cpu", None)
    proc = subprocess.run([str(tool), str(model_path), "-o", str(so_path)]
                          + (["--target-cpu", target] if target else []),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise Failure(f"shears-compile {model_path.name} failed:\n{proc.stdout[-2000:]}")
    return time.time() - start


# --------------------------------------------------------------------------------------------
# Models and inputs
# --------------------------------------------------------------------------------------------

def find_model(args, name):
    """models/NAME.onnx or build/models/NAME.onnx (after --model-dir); a model found nowhere is
    exported into build/models by utils/make_models.py when that script knows it (torchvision's)."""
    dirs = ([args.model_dir] if args.model_dir else []) + [REPO / "models", EXPORT_DIR]
    for d in dirs:
        p = Path(d) / f"{name}.onnx"
        if p.is_file():
            return p
    script, out = REPO / "utils" / "make_models.py", EXPORT_DIR
    print(f"  no {name}.onnx: exporting it into {out} with {script.relative_to(REPO)}", flush=True)
    proc = subprocess.run([sys.executable, str(script), "--out", str(out), "--models", name],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    path = out / f"{name}.onnx"
    if proc.returncode != 0 or not path.is_file():
        raise Failure(f"no {name}.onnx in {', '.join(map(str, dirs))}, and {script.name} could not "
                      f"export it (exit {proc.returncode}):\n{proc.stdout.strip()[-1500:]}")
    return path


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
    elif name == "fashion_mnist_mlp":
        from make_models import MLP  # utils/: LeNet-300-100, what models/train_fashion_mnist.py trains
        model = MLP()
    elif hasattr(torchvision.models, name):
        model = getattr(torchvision.models, name)(weights=None)
    else:
        raise Failure(f"no PyTorch architecture for {name}")
    return model.eval()


def weight_bytes(model):
    """(bytes, count) of the initializers, from their dims and types (external data not read)."""
    total = 0
    for init in model.graph.initializer:
        try:
            itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(init.data_type)).itemsize
        except AttributeError:  # onnx < 1.13
            itemsize = np.dtype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[init.data_type]).itemsize
        total += int(np.prod(init.dims, dtype=np.int64)) * itemsize
    return total, len(model.graph.initializer)


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------

# Runs argv[2:] as a child and writes its exit status and rusage (wait4: the child's own, and
# that of the children it waited for) as JSON to argv[1].
RUSAGE_HELPER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump(dict(exit=os.waitstatus_to_exitcode(status), user_s=ru.ru_utime,
                   sys_s=ru.ru_stime, maxrss_kib=ru.ru_maxrss), f)
"""


class Budget:
    def __init__(self, seconds):
        self.deadline = time.time() + seconds

    def left(self):
        return self.deadline - time.time()


def skip_note(estimate, budget):
    return f"skip (~{estimate:.0f} s > {max(budget.left(), 0):.0f} s left)"


@contextlib.contextmanager
def one_cpu(threads):
    """With one thread, what runs inside (this thread, and every process it starts: they inherit
    the mask) runs on one and the same CPU. The vCPUs of a shared host differ in speed: on stop
    44's Xeon, OpenBLAS ran at 145 GFLOP/s in its own process where the same library ran at 98
    beside Shears's kernel in one, and pinned to one CPU the two sides agreed within 2-4%
    whichever CPU it was. With more threads nothing is pinned."""
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if threads != 1 or not allowed or len(allowed) < 2:
        yield
        return
    os.sched_setaffinity(0, {min(allowed)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


@contextlib.contextmanager
def beside(flag, loop, what, settle):
    """Runs `loop` (Python source) in a process pinned to the last CPU this one may use (one_cpu
    measures on the first) for as long as the block runs, `settle` seconds after it starts."""
    other = max(os.sched_getaffinity(0))
    code = f"import os\nos.sched_setaffinity(0, {{{other}}})\n" + loop
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(settle)
        if proc.poll() is not None:
            raise Failure(f"{flag}: the process beside exited ({proc.returncode})")
        print(f"({what} on CPU {other} throughout: {flag})", flush=True)
        yield
    finally:
        proc.kill()
        proc.wait()


def contention(enabled):
    """With `enabled`, a memory copy loop beside the block (its buffers allocated and copying
    after a second)."""
    if not enabled:
        return contextlib.nullcontext()
    return beside("--contend", "import numpy as np\n"
                  "a = np.ones(32 << 20, np.float32)\n"
                  "b = np.zeros_like(a)\n"
                  "while True:\n"
                  "    np.copyto(b, a)\n"
                  "    np.copyto(a, b)\n", "a memory copy runs", 1.0)


def slow_cpu(enabled):
    """With `enabled`, a process beside the block that spins about 50 us in every 250-300 us (its
    sleeps of 200 us overshoot)."""
    if not enabled:
        return contextlib.nullcontext()
    return beside("--slow-cpu", "import time\n"
                  "clock = time.perf_counter\n"
                  "while True:\n"
                  "    end = clock() + 50e-6\n"
                  "    while clock() < end:\n"
                  "        pass\n"
                  "    time.sleep(200e-6)\n", "a fifth of the time spun away", 0.5)


def time_calls(fn, runs, budget, estimate=None, warmup=1, usage=None):
    """`warmup` untimed calls, then up to `runs` timed calls that fit in the budget.

    Returns (times in ms, note) or (None, why) when skipped. With a dict `usage`, stores in
    usage["cpu_per_wall"] this process's CPU time (all threads, user + system) over the timed
    calls divided by their wall time: about the number of cores the calls kept busy."""
    if estimate is not None and estimate > budget.left():
        return None, skip_note(estimate, budget)
    for _ in range(warmup):
        start = time.perf_counter()
        fn()
        warm = time.perf_counter() - start
    n = max(1, min(runs, int(budget.left() / max(warm, 1e-9))))
    times = []
    before = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    after = resource.getrusage(resource.RUSAGE_SELF)
    if usage is not None:
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        usage["cpu_per_wall"] = cpu / max(sum(times) / 1e3, 1e-9)
    return times, ("" if n == runs else f"{n} runs")


def cores_note(what, threads, cpu_per_wall):
    """A note when a measurement on `threads` threads kept a number of cores busy that does not
    fit: more than one on one thread, or much less than asked (other load on the machine took
    the cores, or the threads waited)."""
    if cpu_per_wall is None:
        return None
    if threads == 1 and cpu_per_wall > 1.3:
        return f"{what} kept {cpu_per_wall:.1f} cores busy (CPU time / wall time): not one thread"
    if cpu_per_wall < (0.8 if threads == 1 else 0.6 * threads):
        return (f"{what} kept only {cpu_per_wall:.2f} cores busy (CPU time / wall time) on "
                f"{threads} thread(s): other load on the machine, or its threads waited")
    return None


def ort_times(args, model_path, specs, threads, runs, budget, estimate, profile=None):
    """bench/ort_bench.js's timed runs; with `profile` (a path prefix) also ORT's own profile."""
    if estimate is not None and estimate > budget.left():
        return None, skip_note(estimate, budget)
    cmd = [os.environ.get("NODE", "node"), str(REPO / "bench" / "ort_bench.js"), str(model_path),
           "--runs", str(runs), "--threads", str(threads)]
    if profile:
        cmd += ["--profile", str(profile)]
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


def fmt_ratio(r):
    return "-" if r is None else f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"


def markdown(head, rows, right_from=1):
    """A markdown table; columns from `right_from` on are right-aligned."""
    align = ["---" if i < right_from else "---:" for i in range(len(head))]
    return ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"] + \
        ["| " + " | ".join(r) + " |" for r in rows]


# --------------------------------------------------------------------------------------------
# Latency mode
# --------------------------------------------------------------------------------------------

def bench_latency(args):
    budget = Budget(args.max_seconds)
    rt = ShearsRuntime(args.runtime) if "shears" in args.backends else None
    rows = []
    per_sample = {}  # (model, backend, threads) -> seconds per sample at the smallest batch measured

    def short_runs(name, batch):
        # --runs of this batch take at most a second at the slowest backend's batch-1 speed.
        known = [s for key, s in per_sample.items() if key[0] == name]
        return bool(known) and max(known) * batch * args.runs <= 1.0

    for name in args.models:
        model_path = find_model(args, name)
        model = onnx.load(str(model_path), load_external_data=False)
        compiled = tmodel = compiled_batch = None
        compile_s = None
        for batch in args.batches:
            specs = input_specs(model, batch)
            inputs = random_inputs(specs)
            runs = args.runs if batch < 8 or short_runs(name, batch) else args.runs_large
            row = OrderedDict(model=name, batch=batch)
            notes = []

            def estimate(key):
                s = per_sample.get((name,) + key)
                return None if s is None else s * batch * (runs + 1)

            # Rounds alternate the backends, so that a phase of the host (a neighbour's load, a
            # clock change: seconds to minutes) weighs on each alike; the median is over every
            # round's timed runs.
            collected, skipped, round_medians, spans = {}, {}, {}, {}
            for threads, round_, backend in itertools.product(args.threads, range(args.rounds),
                                                              args.backends):
                with one_cpu(threads):
                    key = (backend, threads)
                    col = f"{backend}_{threads}t"
                    if col in skipped:
                        continue
                    usage = {}
                    if backend == "shears":
                        if compiled is None:
                            so = args.workdir / f"lib{name}.so"
                            compile_s = shears_compile(args, model_path, so)
                            compiled = rt.load(so)
                            compiled.set_batch_chunk(args.batch_chunk)
                        if compiled_batch != batch:
                            compiled.set_inputs(inputs)
                            compiled_batch = batch
                        if not compiled.set_threads(threads) and threads != 1:
                            skipped[col] = "n/a"
                            print(f"  {name} batch {batch} shears {threads}T: n/a "
                                  f"(no shearsModelSetThreads)", flush=True)
                            continue
                        times, note = time_calls(compiled.run, runs, budget, estimate(key),
                                                 usage=usage)
                    elif backend == "ort":
                        times, note = ort_times(args, model_path, specs, threads, runs, budget,
                                                estimate(key))
                    else:
                        import torch
                        torch.set_num_threads(threads)
                        if tmodel is None:
                            tmodel = torch_model(name)
                        x = [torch.from_numpy(a) for a in inputs]

                        def call():
                            with torch.inference_mode():
                                tmodel(*x)
                        # A new thread count makes the first few calls slow (pool start-up).
                        times, note = time_calls(call, runs, budget, estimate(key), warmup=3)
                        # Its OpenMP workers spin a while after the last call: let them sleep
                        # before Shears's CPU time is measured again.
                        time.sleep(0.5)
                    if times is None:  # Over the budget: no further rounds either.
                        skipped[col] = None
                    else:
                        collected.setdefault(col, []).extend(times)
                    med = median(times)
                    round_medians.setdefault(col, []).append(med)
                    if "cpu_per_wall" in usage:
                        spans.setdefault(col, []).append(usage["cpu_per_wall"])
                    if med is not None and (name,) + key not in per_sample:
                        per_sample[(name,) + key] = med / 1e3 / batch
                    if note:
                        notes.append(f"{backend} {threads}T: {note}")
                    cores = (f" ({usage['cpu_per_wall']:.2f} cores)" if "cpu_per_wall" in usage
                             else "")
                    of = f" (round {round_ + 1} of {args.rounds})" if args.rounds > 1 else ""
                    print(f"  {name} batch {batch} {backend} {threads}T{of}: "
                          f"{fmt(med) + ' ms' + cores if med is not None else ''} {note}".rstrip(),
                          flush=True)
            for threads in args.threads:
                for backend in args.backends:
                    col = f"{backend}_{threads}t"
                    row[col] = median(collected[col]) if col in collected else skipped.get(col)
                    if col in spans:  # CPU time / wall time: the round that kept fewest busy.
                        row[f"{col}_cpu_per_wall"] = min(spans[col])
                        note_cores = cores_note(f"Shears {threads}T", threads, min(spans[col]))
                        if note_cores:
                            notes.append(note_cores)
                # The ratio is the median of the rounds' own ratios: a round's two sides ran
                # seconds apart, and a slow phase that caught one side of one round (resnet50:
                # Shears 105 ms against ORT's 58 in a round whose neighbours had 108 / 102 and
                # 60 / 59) would otherwise tip the pooled medians.
                pairs = [a / b for a, b in zip(round_medians.get(f"shears_{threads}t", []),
                                               round_medians.get(f"ort_{threads}t", []))
                         if a is not None and b]
                if pairs:
                    row[f"shears_over_ort_{threads}t"] = median(pairs)
            row["shears_compile_s"] = compile_s
            row["notes"] = "; ".join(dict.fromkeys(notes))
            rows.append(row)
        if compiled is not None:
            compiled.close()
    return rows


def latency_table(rows, backends, threads, threads_note=None):
    names = {"shears": "Shears", "ort": "ORT", "torch": "PyTorch"}
    head = ["model", "batch"]
    for t in threads:
        head += [f"{names[b]} {t}T ms" for b in backends if b != "torch"]
        if "shears" in backends and "ort" in backends:
            head.append(f"Shears / ORT {t}T")
        if "torch" in backends:
            head.append(f"PyTorch {t}T ms")
    cells = []
    for r in rows:
        c = [r["model"], str(r["batch"])]
        for t in threads:
            for b in backends:
                if b == "torch":
                    continue
                v = r.get(f"{b}_{t}t")
                c.append(v if isinstance(v, str) else fmt(v))
            if "shears" in backends and "ort" in backends:
                c.append("n/a" if r.get(f"shears_{t}t") == "n/a" else
                         fmt_ratio(r.get(f"shears_over_ort_{t}t")))
            if "torch" in backends:
                c.append(fmt(r.get(f"torch_{t}t")))
        cells.append(c)
    lines = ([threads_note, ""] if threads_note and "shears" in backends else []) + \
        markdown(head, cells, right_from=1)
    notes = [f"{r['model']} batch {r['batch']}: {r['notes']}" for r in rows if r["notes"]]
    return lines + ([""] + ["- " + n for n in notes] if notes else [])


# --------------------------------------------------------------------------------------------
# GEMM mode
# --------------------------------------------------------------------------------------------

def write_if_changed(model, path):
    """Saves `model` unless `path` already holds the same bytes (so its .so stays fresh)."""
    data = model.SerializeToString()
    if not path.is_file() or path.read_bytes() != data:
        path.write_bytes(data)


def matmul_case(args, m, k, n, gemm_dir):
    w = np.random.default_rng(1).standard_normal((k, n), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")], f"matmul_{m}x{k}x{n}",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [m, n])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=7)
    path = gemm_dir / f"matmul_{m}x{k}x{n}.onnx"
    write_if_changed(model, path)
    return OrderedDict(kind="MatMul", what=f"{m}x{k} @ {k}x{n}", m=m, k=k, n=n, count=1,
                       nodes=[], path=path, specs=[("x", (m, k))])


def conv_cases(args, name, gemm_dir):
    """One case per distinct convolution of model `name` at batch 1 (im2col GEMM shapes)."""
    model = onnx.load(str(find_model(args, name)))
    for i in list(model.graph.input) + list(model.graph.output):
        dims = i.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_value = 1
    model = shape_inference.infer_shapes(model, strict_mode=True)
    g = model.graph
    init_shapes = {i.name: list(i.dims) for i in g.initializer}
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(g.input) + list(g.value_info) + list(g.output)}
    cases, skipped = OrderedDict(), []
    for node in g.node:
        if node.op_type != "Conv":
            continue
        w, x, y = init_shapes.get(node.input[1]), shapes.get(node.input[0]), shapes.get(node.output[0])
        if not w or not x or not y or len(w) != 4:
            skipped.append(f"{node.name} (not a 2-D convolution with a constant filter)")
            continue
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        if group != 1:
            skipped.append(f"{node.name} (group {group})")
            continue
        attrs = [a for a in node.attribute if a.name != "group"]
        key = (tuple(x), tuple(w), attr_key(node))
        if key in cases:
            cases[key]["count"] += 1
            cases[key]["nodes"].append(node.name)
            continue
        cout, cin, kh, kw = w
        m, k, n = cout, cin * kh * kw, y[2] * y[3]
        filt = np.random.default_rng(2).standard_normal(w, dtype=np.float32)
        conv = helper.make_node("Conv", ["x", "w"], ["y"], name="conv")
        conv.attribute.extend(attrs)
        graph = helper.make_graph(
            [conv], f"conv_{len(cases)}",
            [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, x)],
            [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, y)],
            [numpy_helper.from_array(filt, "w")])
        sub = helper.make_model(graph, opset_imports=model.opset_import, ir_version=model.ir_version)
        stride = next((max(a.ints) for a in node.attribute if a.name == "strides"), 1)
        tag = f"{name}_conv{len(cases):02d}_{cin}x{x[2]}x{x[3]}_{cout}k{kh}x{kw}s{stride}"
        path = gemm_dir / f"{tag}.onnx"
        write_if_changed(sub, path)
        cases[key] = OrderedDict(
            kind=f"Conv {kh}x{kw}" + (f" s{stride}" if stride > 1 else ""),
            what=f"{cin}x{x[2]}x{x[3]} -> {cout}x{y[2]}x{y[3]}", m=m, k=k, n=n, count=1,
            nodes=[node.name], path=path, specs=[("x", tuple(x))])
    return list(cases.values()), skipped


# The cores that OpenBLAS's DYNAMIC_ARCH falls back to for a CPU it does not know (0.3.21 takes
# an Emerald Rapids Xeon, family 6 model 207, for a Prescott: SSE3 kernels at a sixth of the
# speed of its AVX-512 ones), and the core to name instead for what the CPU has, best first.
OPENBLAS_FALLBACK_CORES = {"Prescott", "Core2", "Nehalem", "Katmai", "Coppermine", "Northwood",
                           "Banias", "Atom"}
OPENBLAS_CORE_FOR_FLAGS = (({"avx512_bf16", "avx512bw", "avx512vl"}, "Cooperlake"),
                           ({"avx512f", "avx512bw", "avx512vl", "avx512dq"}, "SkylakeX"),
                           ({"avx2", "fma"}, "Haswell"))
openblas_coretype = {}  # "core": the OPENBLAS_CORETYPE numpy_gemm sets, once decided
GEMM_ROUND_SECONDS, GEMM_ROUND_RUNS_MAX = 0.25, 1000


def cpu_flags():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def numpy_gemm(args, m, k, n, threads, budget, runs):
    """Times in ms of numpy's matmul [m,k] @ [k,n] in a subprocess on `threads` BLAS threads.
    OpenBLAS picks its kernels for this CPU (OPENBLAS_CORETYPE unset) unless it falls back to a
    generic core where the CPU has AVX2 or AVX-512: then the best core for those is named."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if openblas_coretype.get("core"):
        env["OPENBLAS_CORETYPE"] = openblas_coretype["core"]
    for var in BLAS_THREAD_VARS:
        env[var] = str(threads)
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "numpy_gemm.py"), "--shape", f"{m},{k},{n}",
         "--runs", str(runs), "--max-seconds", str(max(budget.left(), 1))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if proc.returncode != 0:
        raise Failure(f"bench/numpy_gemm.py failed on {m}x{k}x{n}: {proc.stderr.strip()[-1500:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if "core" not in openblas_coretype:
        picked = out["blas"].get("openblas_core")
        flags = cpu_flags()
        better = next((core for need, core in OPENBLAS_CORE_FOR_FLAGS if need <= flags), None)
        openblas_coretype["core"] = None
        if picked in OPENBLAS_FALLBACK_CORES and better:
            openblas_coretype.update(core=better, picked=picked)
            return numpy_gemm(args, m, k, n, threads, budget, runs)
    return out["results"][0]["times_ms"], out["blas"]


def blas_description(blas):
    if not blas:
        return "numpy (BLAS unknown)"
    lib = blas.get("openblas_config") or ", ".join(blas.get("libraries", [])) or "an unknown BLAS"
    core = f", core {blas['openblas_core']}" if "openblas_core" in blas else ""
    if openblas_coretype.get("core"):
        core += (f" (OPENBLAS_CORETYPE={openblas_coretype['core']}: left to itself, this OpenBLAS "
                 f"took this CPU for a {openblas_coretype['picked']})")
    threads = f", {blas['openblas_threads']} thread(s)" if "openblas_threads" in blas else ""
    return f"numpy {blas.get('numpy', '?')} on {lib}{core}{threads}"


def bench_gemm(args):
    if len(args.threads) != 1:
        raise Failure("--gemm takes one thread count (--threads N, default 1)")
    threads = args.threads[0]
    budget = Budget(args.max_seconds)
    rt = ShearsRuntime(args.runtime)
    gemm_dir = args.workdir / "gemm"
    gemm_dir.mkdir(parents=True, exist_ok=True)
    cases = [matmul_case(args, s, s, s, gemm_dir) for s in args.gemm_sizes]
    skipped = []
    if args.gemm_conv_model:
        convs, skipped = conv_cases(args, args.gemm_conv_model, gemm_dir)
        cases += convs
    if threads != 1 and not rt.has_threads:
        raise Failure(rt.threads_note().split(" (")[0].replace("cells at more than 1 thread are n/a",
                                                f"--gemm cannot run it on {threads} threads"))
    print(f"GEMM: {len(cases)} shapes, Shears and numpy on {threads} thread(s)", flush=True)
    blas, notes = None, []
    with one_cpu(threads):  # Shears and numpy on the same CPU (one_cpu)
        for c in cases:
            flops = 2 * c["m"] * c["n"] * c["k"]
            c["flops"] = flops
            so = c["path"].with_name(f"lib{c['path'].stem}.so")
            shears_compile(args, c["path"], so)
            m = rt.load(so)
            m.set_threads(threads)
            m.set_inputs(random_inputs(c["specs"]))
            # Rounds that alternate Shears and numpy, as in the latency section, each at least
            # GEMM_ROUND_SECONDS of calls on either side: 10 calls of a 0.3 ms GEMM had put the
            # whole of a side's rounds into one phase of a drifting host (256^3 at 56% of OpenBLAS
            # twice, against 96% alternating every 60 ms in one process).
            start = time.perf_counter()
            m.run()
            call_s = max(time.perf_counter() - start, 1e-6)
            runs = max(args.runs, min(GEMM_ROUND_RUNS_MAX, int(GEMM_ROUND_SECONDS / call_s)))
            shears_times, numpy_times, spans = [], [], []
            for _ in range(args.rounds):
                usage = {}
                times, note = time_calls(m.run, runs, budget, usage=usage)
                shears_times += times
                spans.append(usage.get("cpu_per_wall", 1.0))
                times, blas = numpy_gemm(args, c["m"], c["k"], c["n"], threads, budget, runs)
                numpy_times += times
            m.close()
            c["shears_ms"], c["numpy_ms"] = median(shears_times), median(numpy_times)
            c["shears_cpu_per_wall"] = min(spans)
            note_cores = cores_note(f"{c['kind']} {c['what']}: Shears", threads, c["shears_cpu_per_wall"])
            if note_cores:
                notes.append(note_cores)
            c["shears_gflops"] = flops / c["shears_ms"] / 1e6
            c["numpy_gflops"] = flops / c["numpy_ms"] / 1e6
            c["shears_pct_of_blas"] = 100 * c["shears_gflops"] / c["numpy_gflops"]
            if note:
                notes.append(f"{c['kind']} {c['what']}: Shears {note}")
            print(f"  {c['kind']} {c['what']} (M={c['m']} N={c['n']} K={c['k']}): Shears "
                  f"{fmt(c['shears_ms'])} ms {c['shears_gflops']:.1f} GFLOP/s, numpy "
                  f"{fmt(c['numpy_ms'])} ms {c['numpy_gflops']:.1f} GFLOP/s", flush=True)
    if blas and not any("openblas" in p.lower() for p in blas.get("libraries", [])):
        notes.append("numpy did not load OpenBLAS: install libopenblas0-pthread "
                     "(update-alternatives libblas.so.3)")
    head = ["kind", "shape", "count", "M", "N", "K", "Shears ms", "Shears GFLOP/s",
            "OpenBLAS ms", "OpenBLAS GFLOP/s", "Shears % of OpenBLAS"]
    cells = [[c["kind"], c["what"], str(c["count"]), str(c["m"]), str(c["n"]), str(c["k"]),
              fmt(c["shears_ms"]), f"{c['shears_gflops']:.1f}", fmt(c["numpy_ms"]),
              f"{c['numpy_gflops']:.1f}", f"{c['shears_pct_of_blas']:.0f}%"] for c in cases]
    lines = [f"GEMM, {threads} thread(s): Shears (compiled one-node models, C runtime) against "
             f"{blas_description(blas)}; medians over {args.rounds} rounds that alternate the "
             f"two, each of at least {args.runs} runs and {GEMM_ROUND_SECONDS} s a side; "
             f"GFLOP/s = 2*M*N*K / time."
             + (f" Conv rows: the distinct convolutions of {args.gemm_conv_model} at batch 1 as "
                f"im2col GEMMs (M = Cout, K = Cin*KH*KW, N = OH*OW; numpy times W[M,K] @ cols[K,N] "
                f"without the im2col), count = how often each occurs." if args.gemm_conv_model
                else ""), ""] + markdown(head, cells, right_from=2)
    notes += [f"skipped {s}" for s in skipped]
    if notes:
        lines += [""] + ["- " + n for n in notes]
    for c in cases:
        c["path"] = str(c["path"])
        del c["specs"]
    return lines, {"blas": blas, "threads": threads, "rows": cases}


# --------------------------------------------------------------------------------------------
# Compile mode
# --------------------------------------------------------------------------------------------

def bench_compile(args, name):
    if name.endswith(".onnx") and Path(name).is_file():  # a path rather than a model name
        model_path, name = Path(name).resolve(), Path(name).stem
    else:
        model_path = find_model(args, name)
    wbytes, ninit = weight_bytes(onnx.load(str(model_path), load_external_data=False))
    tool = args.bin / "shears"
    if not tool.is_file():
        raise Failure(f"{tool} does not exist")
    out_dir = args.workdir / "compile"
    out_dir.mkdir(parents=True, exist_ok=True)
    so, log_path = out_dir / f"lib{name}.so", out_dir / f"lib{name}.log"
    runs = []
    for i in range(args.compile_runs):
        for p in (so, so.with_suffix(".h")):
            if p.exists():
                p.unlink()
        cmd = [str(tool), "compile", str(model_path), "-o", str(so)]
        usage_path = out_dir / f"lib{name}.rusage.json"
        with open(log_path, "w") as log:
            start = time.perf_counter()
            # Through a small Python that forks and waits: Linux carries a process's peak RSS
            # across exec, so a child forked from this process (hundreds of MiB with numpy and
            # ONNX loaded) would report at least this process's own peak.
            proc = subprocess.run([sys.executable, "-c", RUSAGE_HELPER, str(usage_path)] + cmd,
                                  stdout=log, stderr=subprocess.STDOUT)
            wall = time.perf_counter() - start
        usage = json.loads(usage_path.read_text()) if usage_path.is_file() else None
        if proc.returncode != 0 or not usage or usage["exit"] != 0 or not so.is_file():
            raise Failure(f"`{' '.join(cmd)}` failed (exit {usage['exit'] if usage else '?'}):\n"
                          f"{log_path.read_text().strip()[-2000:]}")
        runs.append(dict(wall_s=wall, user_s=usage["user_s"], sys_s=usage["sys_s"],
                         peak_rss_bytes=usage["maxrss_kib"] * 1024))
        print(f"  shears compile {model_path.name} ({i + 1}/{args.compile_runs}): {wall:.2f} s, "
              f"peak RSS {usage['maxrss_kib'] / 1024:.0f} MiB", flush=True)
    rss = max(r["peak_rss_bytes"] for r in runs)
    row = OrderedDict(model=name, path=str(model_path), file_bytes=model_path.stat().st_size,
                      weight_bytes=wbytes, initializers=ninit,
                      wall_s=statistics.median(r["wall_s"] for r in runs),
                      cpu_s=statistics.median(r["user_s"] + r["sys_s"] for r in runs),
                      peak_rss_bytes=rss, rss_over_weights=rss / wbytes if wbytes else None,
                      so_bytes=so.stat().st_size, runs=runs)
    mib = 1 << 20
    head = ["model", "ONNX file MiB", "weights MiB (initializers)", "compile s", "CPU s",
            "peak RSS MiB", "peak RSS / weights", ".so MiB"]
    cells = [[name, f"{row['file_bytes'] / mib:.1f}", f"{wbytes / mib:.1f} ({ninit})",
              f"{row['wall_s']:.2f}", f"{row['cpu_s']:.2f}", f"{rss / mib:.0f}",
              f"{row['rss_over_weights']:.2f}x" if wbytes else "-", f"{row['so_bytes'] / mib:.1f}"]]
    lines = [f"`shears compile {model_path.relative_to(REPO) if model_path.is_relative_to(REPO) else model_path}"
             f" -o {so.name}`: median wall and CPU time of {len(runs)} run(s), peak RSS the largest "
             f"(the process and the children it waited for); weights = the initializers' bytes.", ""] \
        + markdown(head, cells)
    return lines, row


# --------------------------------------------------------------------------------------------
# Pruned models (bench/prune.py)
# --------------------------------------------------------------------------------------------

def bench_prune(args):
    """bench/prune.py on resnet18 at 50% channel sparsity, as a subprocess (its progress shows
    as it goes); returns its tables rebuilt from its JSON."""
    json_path = args.workdir / "prune" / "cpu-all.prune.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(REPO / "bench" / "prune.py"), "--models", "resnet18",
           "--sparsities", "0.5", "--batches", ",".join(map(str, args.batches)),
           "--max-seconds", str(args.max_seconds), "--bin", str(args.bin),
           "--runtime", str(args.runtime), "--workdir", str(json_path.parent),
           "--json", str(json_path)]
    if args.model_dir:
        cmd += ["--model-dir", str(args.model_dir)]
    print("  " + " ".join(cmd), flush=True)
    if json_path.exists():
        json_path.unlink()
    proc = subprocess.run(cmd)
    if proc.returncode != 0 or not json_path.is_file():
        raise Failure(f"bench/prune.py failed (exit {proc.returncode})")
    result = json.loads(json_path.read_text())
    import prune  # bench/prune.py, for its tables
    lines = ["Channel-pruned resnet18 (50%) compiled by Shears against dense and pruned resnet18 "
             "in ONNX Runtime (1 thread), from bench/prune.py:", ""] + prune.vs_ort_table(result["rows"])
    return lines, result


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
    if len(args.threads) != 1:
        raise Failure("--layers takes one thread count (--threads N, default 1)")
    threads = args.threads[0]
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
    if threads != 1 and not rt.has_threads:
        raise Failure(rt.threads_note().split(" (")[0].replace("cells at more than 1 thread are n/a",
                                                f"--layers cannot run it on {threads} threads"))
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
        sub_inputs, sub_inits, nodes = [], [], []
        for x in ins:
            if x in inits:
                sub_inits.append(inits[x])
            elif x in consts:
                nodes.append(consts[x])
            else:
                sub_inputs.append(helper.make_tensor_value_info(x, types[x], shapes[x]))
        outs = [helper.make_tensor_value_info(y, types[y], shapes[y]) for y in node.output]
        sub = helper.make_model(
            helper.make_graph(nodes + [node], f"{name}_{node.name}", sub_inputs, outs, sub_inits),
            opset_imports=model.opset_import, ir_version=model.ir_version)
        idx = len(unique)
        path = layer_dir / f"node{idx:03d}.onnx"
        onnx.save(sub, str(path))
        unique[key] = dict(node=node, path=path, count=1, names=[node.name],
                           kind=node_kind(node, init_shapes),
                           shape="x".join(map(str, shapes[node.output[0]])),
                           flops=node_flops(node, shapes, init_shapes),
                           specs=[(v.name, tuple(shapes[v.name])) for v in sub_inputs])
    print(f"{name} batch {batch}: {sum(u['count'] for u in unique.values())} nodes, "
          f"{len(unique)} distinct; compiling and timing each on {threads} thread(s)", flush=True)
    for u in unique.values():
        so = u["path"].with_suffix(".so")
        shears_compile(args, u["path"], so)
        m = rt.load(so)
        m.set_threads(threads)
        m.set_inputs(random_inputs(u["specs"]))
        times, _ = time_calls(m.run, args.runs, budget)
        m.close()
        u["shears"] = median(times)
        times, _ = ort_times(args, u["path"], u["specs"], threads, args.runs, budget, None)
        u["ort"] = median(times)

    t = f"{threads}T"
    total_s = sum(u["shears"] * u["count"] for u in unique.values())
    total_o = sum(u["ort"] * u["count"] for u in unique.values())
    lines = [f"Per node ({name}, batch {batch}, {threads} thread(s); ms are per occurrence, share "
             f"of the Shears sum):", "",
             f"| node(s) | kind | output | count | Shears ms | ORT {t} ms | share | Shears GFLOP/s | ORT GFLOP/s |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for u in sorted(unique.values(), key=lambda u: -u["shears"] * u["count"]):
        gs = f"{u['flops'] / u['shears'] / 1e6:.1f}" if u["flops"] else ""
        go = f"{u['flops'] / u['ort'] / 1e6:.1f}" if u["flops"] else ""
        names = u["names"][0] + (f" (+{u['count'] - 1})" if u["count"] > 1 else "")
        lines.append(f"| {names} | {u['kind']} | {u['shape']} | {u['count']} | {fmt(u['shears'])} | "
                     f"{fmt(u['ort'])} | {100 * u['shears'] * u['count'] / total_s:.1f}% | {gs} | {go} |")
    kinds = defaultdict(lambda: [0.0, 0.0, 0, 0])
    for u in unique.values():
        k = kinds[u["kind"]]
        k[0] += u["shears"] * u["count"]
        k[1] += u["ort"] * u["count"]
        k[2] += u["flops"] * u["count"]
        k[3] += u["count"]
    lines += ["", "By kind:", "",
              f"| kind | nodes | Shears ms | share | ORT {t} ms | Shears / ORT | Shears GFLOP/s | ORT GFLOP/s |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for kind, (s, o, f, c) in sorted(kinds.items(), key=lambda kv: -kv[1][0]):
        lines.append(f"| {kind} | {c} | {fmt(s)} | {100 * s / total_s:.1f}% | {fmt(o)} | "
                     f"{s / o:.1f}x | {f'{f / s / 1e6:.1f}' if f else ''} | "
                     f"{f'{f / o / 1e6:.1f}' if f else ''} |")
    lines += ["", f"Sum over nodes: Shears {fmt(total_s)} ms, ORT {t} {fmt(total_o)} ms "
              f"(run one at a time, so no fusion across nodes)."]
    return lines


# --------------------------------------------------------------------------------------------
# --profile: per layer shape inside the running model, against ONNX Runtime's own profile
# --------------------------------------------------------------------------------------------

def ceil16(c):
    """Channels as ORT's blocked (NCHWc) nodes have them: padded to 16 (24 -> 32, 1000 -> 1008).
    Kernels and nodes are matched on (kind, padded channels, input size, kernel, stride)."""
    return (c + 15) // 16 * 16


def shears_profile_rows(text, runs):
    """{key: [ms, GFLOP, description]} a run, from SHEARS_PROFILE's table of `runs` runs: each
    call site's median call times its calls a run (as ORT's profile gives each node's median),
    its multiply-adds over the runs."""
    lines = []
    for line in text.splitlines():
        f = line.split()
        if len(f) > 6 and f[1].endswith("%") and f[2].isdigit():
            lines.append((float(f[3]) * int(f[2]) / runs, int(f[2]),
                          float(f[4]) * float(f[0]) / runs, " ".join(f[5:])))
    if not lines:
        raise Failure("shears run printed no SHEARS_PROFILE table")
    rows = {}
    conv = re.compile(r"conv2d \S+ [^:]*: n\d+ (\d+)x(\d+)x(\d+) -> (\d+), (\d+)x\d+ s(\d+)")
    pool = re.compile(r"(dwconv2d|maxpool2d) \S+: n\d+ (\d+)x(\d+)x(\d+), (\d+)x\d+ s(\d+)")
    gemm = re.compile(r"gemm \S+: \d+x(\d+) \* \d+x(\d+)")
    for ms, calls, gflop, what in lines:
        if m := conv.match(what):
            c, h, w, cout, k, st = map(int, m.groups())
            key = ("Conv", ceil16(c), h, w, ceil16(cout), k, st)
        elif m := pool.match(what):
            c, h, w, k, st = map(int, m.groups()[1:])
            key = (("Conv dw", ceil16(c), h, w, None, k, st) if m.group(1) == "dwconv2d"
                   else ("MaxPool", ceil16(c), h, w, st))
        elif m := gemm.match(what):
            key = ("Gemm", int(m.group(1)), int(m.group(2)))
        else:
            key = ("other", what)
        row = rows.setdefault(key, [0.0, 0.0, what.split(":")[0] + ":" + what.split(":")[1]])
        row[0] += ms
        row[1] += gflop / 1e3  # GFLOP (GFLOP/s x ms / 1e3)
    return rows


def ort_profile_rows(path):
    """{key: [ms a run, description]} from ONNX Runtime's profile: each node's median time."""
    times, info = defaultdict(list), {}
    for e in json.loads(path.read_text()):
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        a = e["args"]
        ins = [list(x.values())[0] for x in a["input_type_shape"]]
        outs = [list(x.values())[0] for x in a["output_type_shape"]]
        times[e["name"]].append(e["dur"] / 1e3)
        info[e["name"]] = (a["op_name"], ins, outs)
    rows = {}
    for name, ts in times.items():
        op, ins, outs = info[name]
        key = ("other", op)
        if op == "Conv" and len(ins) > 1 and len(ins[0]) == 4:
            (_, c, h, w), wt, o = ins[0], ins[1], outs[0]
            st = max(1, round(h / o[2]))
            kind = "Conv dw" if wt[1] == 1 and wt[0] > 1 else "Conv"
            key = (kind, ceil16(c), h, w, None if kind == "Conv dw" else ceil16(o[1]), wt[2], st)
        elif op == "MaxPool" and len(ins[0]) == 4:
            (_, c, h, w), o = ins[0], outs[0]
            key = ("MaxPool", ceil16(c), h, w, max(1, round(h / o[2])))
        elif op in ("Gemm", "MatMul", "FusedGemm") and len(ins) > 1:
            key = ("Gemm", ins[0][-1], outs[0][-1])
        row = rows.setdefault(key, [0.0, f"{op} {ins[0]}"])
        row[0] += statistics.median(ts)
    return rows


def bench_profile(args):
    """The model as it runs, per layer shape: Shears's kernels (SHEARS_PROFILE=1, shears run)
    against ONNX Runtime's nodes (its own profile, bench/ort_bench.js --profile), same batch and
    threads. Layers of the same shape are summed on both sides."""
    name, batch, threads = args.models[0], args.batches[0], args.threads[0]
    model_path = find_model(args, name)
    specs = input_specs(onnx.load(str(model_path), load_external_data=False), batch)
    work = args.workdir / f"profile-{name}-b{batch}-t{threads}"
    work.mkdir(parents=True, exist_ok=True)
    cmd = [str(args.bin / "shears"), "run", str(model_path), "--output-dir", str(work / "out"),
           "--threads", str(threads)]
    for (input_name, _), array in zip(specs, random_inputs(specs)):
        np.save(work / f"{input_name}.npy", array)
        cmd += ["--input", f"{input_name}={work / f'{input_name}.npy'}"]

    def shears_round():
        # A process of N + 1 runs (`--benchmark N` after the first), each call site's median
        # call: the first run, which page-faults the workspace in (its first writers, the
        # stems, had looked up to 2.7x slower at batch 8 with 10 runs in the totals), and a
        # run the host preempted are each one call of many. (A batch run in chunks calls
        # each kernel once a chunk.)
        proc = subprocess.run(cmd + ["--benchmark", str(args.runs)],
                              env=dict(os.environ, SHEARS_PROFILE="1"), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            raise Failure(f"shears run {model_path.name} failed:\n{proc.stdout[-2000:]}")
        return (float(re.search(r"median ([0-9.]+) ms", proc.stdout).group(1)),
                shears_profile_rows(proc.stdout, args.runs + 1))

    def ort_round():
        for old in work.glob("ort_*.json"):
            old.unlink()
        times, _ = ort_times(args, model_path, specs, threads, args.runs, None, None,
                             profile=work / "ort")
        traces = sorted(work.glob("ort_*.json"))
        if not traces:
            raise Failure(f"ort_bench.js --profile wrote no profile for {model_path.name}")
        return median(times), ort_profile_rows(traces[-1])

    def merged(rounds):
        """Each key's row of the first round, its time the median over the rounds."""
        rows = {}
        for key, row in rounds[0].items():
            rows[key] = [median([r[key][0] for r in rounds if key in r])] + row[1:]
        return rows

    # Rounds that alternate the two, as in the latency section (at 1 thread on one CPU).
    walls, ours, ort_walls, theirs = [], [], [], []
    for _ in range(args.rounds):
        with one_cpu(threads):
            wall, rows = shears_round()
            walls.append(wall)
            ours.append(rows)
            wall, rows = ort_round()
            ort_walls.append(wall)
            theirs.append(rows)
    ours, theirs = merged(ours), merged(theirs)
    wall, ort_wall = median(walls), median(ort_walls)
    # A batch that the threads share evenly runs a share a thread, all at once, each call's
    # kernels on its own thread (shearsModelRun): the profile sums the threads' kernel time.
    shared = threads > 1 and batch % threads == 0
    if shared:
        ours = {k: (v[0] / threads,) + tuple(v[1:]) for k, v in ours.items()}

    t = f"{threads}T"
    lines = [f"Per layer shape inside {name} (batch {batch}, {t}); ms a run, layers of one shape "
             f"summed, the median of {args.rounds} rounds that alternate Shears and ORT; "
             f"GFLOP/s of both from Shears's multiply-adds (ORT pads channels to 16)" +
             (f"; Shears ran a share of the batch a thread, its ms are the {threads} threads' "
              f"sum / {threads}" if shared else "") + ":", "",
             f"| Shears kernel | Shears ms | ORT ms | Shears / ORT | Shears GFLOP/s | ORT GFLOP/s |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    matched = set()
    for key, (ms, gflop, what) in sorted(ours.items(), key=lambda kv: -kv[1][0]):
        other = theirs.get(key)
        matched.add(key)
        o = other[0] if other else None
        lines.append(f"| {what} | {fmt(ms)} | {fmt(o) if o else 'no match'} | "
                     f"{fmt_ratio(ms / o) if o else ''} | {gflop * 1e3 / ms:.1f} | "
                     f"{f'{gflop * 1e3 / o:.1f}' if o else ''} |")
    rest = [(v[0], v[1]) for k, v in theirs.items() if k not in matched]
    total_s = sum(v[0] for v in ours.values())
    total_o = sum(v[0] for v in theirs.values())
    lines += ["", f"Kernels: Shears {fmt(total_s)} ms a run (whole run, median: {fmt(wall)} ms); "
              f"ORT's nodes {fmt(total_o)} ms (whole run, median, profiling on: {fmt(ort_wall)} ms)."]
    if rest:
        lines.append("ORT nodes with no Shears kernel (elementwise ops, pooling, layout changes "
                     "that Shears fuses or runs as loops): " +
                     ", ".join(f"{what} {fmt(ms)} ms" for ms, what in
                               sorted(rest, key=lambda r: -r[0])[:8]) +
                     (f" and {len(rest) - 8} more" if len(rest) > 8 else ""))
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


def run_header(built=()):
    """The first line of a benchmark's output: date, machine, Shears's git revision and when
    each of the files `built` (those that exist) was last built."""
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                         stdout=subprocess.PIPE, text=True).stdout.strip() or "?"
    head = f"{datetime.date.today()}, {machine()}, Shears {rev}"
    stamps = [f"{f.name} {datetime.datetime.fromtimestamp(f.stat().st_mtime):%Y-%m-%d %H:%M}"
              for f in map(Path, built) if f.is_file()]
    return head + (f" (built: {', '.join(stamps)})" if stamps else "")


def parse_list(parser, option, text):
    """"1,32" as [1, 32]; a parser error unless all are positive ints."""
    try:
        values = [int(b) for b in text.split(",") if b]
        if not values or min(values) < 1:
            raise ValueError
    except ValueError:
        parser.error(f"{option} wants comma-separated positive integers, got '{text}'")
    return values


def parse_batches(parser, text):
    """--batches "1,32" as [1, 32]; a parser error unless all are positive ints."""
    return parse_list(parser, "--batches", text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated (default: %(default)s)")
    p.add_argument("--batches", default="1,8", help="comma-separated (default: %(default)s)")
    p.add_argument("--threads", help="comma-separated thread counts of Shears and ORT (default: 1,2 "
                   "for latency; one count, 1, for --gemm and --layers)")
    p.add_argument("--batch-chunk", type=int, default=0,
                   help="images a call when Shears runs a batch-separable model in chunks "
                   "(shearsModelSetBatchChunk; default 0: the runtime's choice; a number at least "
                   "the batch runs it whole)")
    p.add_argument("--runs", type=int, default=10, help="timed runs below batch 8, and in --gemm "
                   "and --layers (default 10)")
    p.add_argument("--runs-large", type=int, default=3, help="timed runs at batch >= 8 (default 3)")
    p.add_argument("--rounds", type=int, default=3, help="rounds that alternate Shears and its "
                   "competitor in the latency section, --gemm and --profile, each with its own "
                   "warm-up and timed runs; times are medians over all rounds, Shears / ORT the "
                   "median of the rounds' ratios (default 3)")
    p.add_argument("--max-seconds", type=float, default=900,
                   help="time budget of each section (default 900)")
    p.add_argument("--backends", default=DEFAULT_BACKENDS,
                   help=f"comma-separated subset of {','.join(BACKENDS)} (default: %(default)s)")
    p.add_argument("--bin", type=Path, default=REPO / "build" / "bin", help="Shears tools")
    p.add_argument("--runtime", type=Path, default=REPO / "build" / "lib" / "libshears_runtime.so")
    p.add_argument("--model-dir", type=Path, help="looked in first for NAME.onnx")
    p.add_argument("--workdir", type=Path, default=REPO / "build" / "bench",
                   help="generated and compiled models (default build/bench)")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--layers", metavar="MODEL", help="per-node profile of MODEL instead")
    p.add_argument("--profile", metavar="MODEL", help="per layer shape inside the running MODEL: "
                   "Shears's kernels (SHEARS_PROFILE) against ONNX Runtime's own profile, at the "
                   "first --batches and --threads")
    p.add_argument("--gemm", action="store_true", help="GEMM mode: MatMul and im2col Conv shapes "
                   "against numpy on OpenBLAS")
    p.add_argument("--gemm-sizes", default=DEFAULT_GEMM_SIZES,
                   help="M = N = K of the MatMul models (default: %(default)s)")
    p.add_argument("--gemm-conv-model", default="resnet18", help="model whose convolutions --gemm "
                   "times as one-node Conv models ('' for none; default: %(default)s)")
    p.add_argument("--compile", nargs="?", const=DEFAULT_COMPILE_MODEL, metavar="MODEL",
                   help="compile time and peak memory of `shears compile MODEL.onnx`; MODEL is a "
                   f"name or a path to a .onnx file (default: {DEFAULT_COMPILE_MODEL})")
    p.add_argument("--compile-runs", type=int, default=1, help="compilations in --compile (default 1)")
    p.add_argument("--contend", action="store_true", help="latency or --profile at --threads 1 "
                   "beside a memory copy pinned to another CPU (a stand-in for a shared host's "
                   "slow phases)")
    p.add_argument("--slow-cpu", action="store_true", help="latency or --profile at --threads 2 "
                   "or more with the last CPU spun a fifth of its time away by another process (a "
                   "stand-in for a shared host's phases in which one vCPU is slower)")
    p.add_argument("--all", action="store_true", help="latency, --gemm, --compile (resnet50 unless "
                   "--compile names another) and bench/prune.py's pruned resnet18, in one run")
    args = p.parse_args()
    if (args.layers or args.profile) and (args.all or args.gemm or args.compile):
        p.error("--layers and --profile go alone")
    if args.all:
        sections = ["latency", "gemm", "compile", "prune"]
        args.compile = args.compile or DEFAULT_COMPILE_MODEL
    else:
        sections = ([s for s, on in (("gemm", args.gemm), ("compile", args.compile),
                                     ("layers", args.layers), ("profile", args.profile)) if on]
                    or ["latency"])
    if args.layers and args.profile:
        p.error("--layers and --profile go alone")
    one_model = args.layers or args.profile
    args.models = [one_model] if one_model else [m for m in args.models.split(",") if m]
    args.batches = parse_batches(p, args.batches)
    args.gemm_sizes = parse_list(p, "--gemm-sizes", args.gemm_sizes) if args.gemm_sizes else []
    if args.threads:
        args.threads = parse_list(p, "--threads", args.threads)
    threads_latency = args.threads or [1, 2]
    if args.threads and len(args.threads) > 1 and ({"gemm", "layers", "profile"} & set(sections)):
        p.error("--gemm, --layers and --profile take one thread count")
    args.backends = [b for b in args.backends.split(",") if b]
    bad = [b for b in args.backends if b not in BACKENDS]
    if bad:
        p.error(f"unknown backend(s) {', '.join(bad)}; known: {', '.join(BACKENDS)} "
                f"(thread counts are --threads)")
    if min(args.runs, args.runs_large, args.rounds, args.compile_runs) < 1:
        p.error("--runs, --runs-large, --rounds and --compile-runs must be positive")
    if args.contend and args.threads != [1]:
        p.error("--contend needs --threads 1 (the copy takes another CPU)")
    if args.slow_cpu and (not args.threads or min(args.threads) < 2):
        p.error("--slow-cpu needs --threads 2 or more (one thread on the slow CPU)")
    if args.contend and args.slow_cpu:
        p.error("--slow-cpu and --contend take the same CPU: one at a time")
    for flag, on in (("--contend", args.contend), ("--slow-cpu", args.slow_cpu)):
        if on and set(sections) - {"latency", "profile"}:
            p.error(f"{flag} goes with latency or --profile only")
        if on and len(os.sched_getaffinity(0)) < 2:
            p.error(f"{flag} needs two CPUs (this process may use one)")
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("OMP_NUM_THREADS", "2")

    head = run_header([args.bin / "shears-compile", args.runtime])
    print(head, flush=True)
    result = {"header": head, "argv": sys.argv}
    outputs, failed = [], False

    def save():
        if args.json:
            args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")

    for section in sections:
        start = time.time()
        print(f"\n== {section} ==", flush=True)
        try:
            with contention(args.contend), slow_cpu(args.slow_cpu):
                if section == "latency":
                    args.threads = threads_latency
                    rows = bench_latency(args)
                    note = ShearsRuntime(args.runtime).threads_note() if "shears" in args.backends else None
                    lines = ["Median latency in ms (Shears / ORT below 1: Shears is faster):", ""] + \
                        latency_table(rows, args.backends, args.threads, note)
                    result["latency"] = {"threads": args.threads, "threads_note": note, "rows": rows}
                elif section == "gemm":
                    args.threads = args.threads if args.threads and len(args.threads) == 1 else [1]
                    lines, result["gemm"] = bench_gemm(args)
                elif section == "compile":
                    lines, result["compile"] = bench_compile(args, args.compile)
                elif section == "prune":
                    lines, result["prune"] = bench_prune(args)
                elif section == "profile":
                    args.threads = args.threads if args.threads and len(args.threads) == 1 else [1]
                    lines = bench_profile(args)
                    result["profile"] = lines
                else:
                    args.threads = args.threads if args.threads and len(args.threads) == 1 else [1]
                    lines = bench_layers(args)
                    result["layers"] = lines
            if args.contend:
                lines = lines + ["", "(Beside a memory copy on another CPU: --contend.)"]
                result["contend"] = True
            if args.slow_cpu:
                lines = lines + ["", f"(CPU {max(os.sched_getaffinity(0))} spun a fifth of its "
                                 "time away by another process: --slow-cpu.)"]
                result["slow_cpu"] = True
        except Failure as e:
            print(f"cpu.py: error: {section}: {e}", file=sys.stderr, flush=True)
            outputs.append([f"{section}: failed: {e}"])
            result.setdefault("errors", {})[section] = str(e)
            failed = True
            save()
            continue
        lines = lines + ["", f"({section}: {time.time() - start:.0f} s)"]
        print("\n" + "\n".join(lines), flush=True)
        outputs.append(lines)
        save()
    if len(sections) > 1:
        print("\n== all sections ==\n\n" + "\n\n".join("\n".join(o) for o in outputs))
    save()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
