"""Shears: compile ONNX models with MLIR and run them on numpy arrays.

    import numpy as np
    import shears

    module = shears.import_onnx("model.onnx")    # the model in the shears dialect
    module.run_pipeline("canonicalize")           # any MLIR/Shears pass pipeline
    model = shears.compile(module)                # JIT-compiled for this CPU
    y = model(np.zeros((1, 784), np.float32))     # numpy in, numpy out

    shears.compile_library(module, "model.so")    # ahead of time, C ABI
    model = shears.load_library("model.so")
    module.export_onnx("rewritten.onnx")

    small = shears.prune(module, sparsity=0.5, granularity="channel")
    int8 = shears.quantize(small, calibration=x, method="entropy")  # x: samples
    thin = shears.low_rank(module, rank_by="params", params=0.5, calibration=x)

Every failure raises `shears.Error` whose message holds the compiler's
diagnostics (with locations: ONNX node names or MLIR source lines).
"""

import json
import os
from typing import List, NamedTuple, Optional, Tuple

import numpy as np

from . import _shears
from ._shears import DiagnosticWarning, Error, Module, supported_onnx_ops

# An installed package (utils/make_wheel.py) ships the micro-kernel archives
# that compile_library links into each model; the build tree's package uses
# the build's own.
for _variable, _archive in (("SHEARS_KERNELS_ARCHIVE", "libshears_kernels.a"),
                            ("SHEARS_GPU_RUNTIME_ARCHIVE", "libshears_gpu_runtime.a")):
    _archive = os.path.join(os.path.dirname(__file__), "lib", _archive)
    if os.path.isfile(_archive):
        os.environ.setdefault(_variable, _archive)

__all__ = [
    "CompiledModel",
    "DiagnosticWarning",
    "Error",
    "Module",
    "TensorSpec",
    "allocate",
    "calibrate",
    "compile",
    "compile_library",
    "import_onnx",
    "load",
    "load_library",
    "low_rank",
    "pack",
    "parse",
    "prune",
    "quantize",
    "report",
    "export_onnx",
    "supported_onnx_ops",
    "sensitivity",
    "unpack",
]

for _cls in (Error, DiagnosticWarning, Module):
    _cls.__module__ = __name__

# numpy dtype name -> the runtime's name for it (used in signatures and
# messages, e.g. "f32 [?x784]").
_RUNTIME_NAMES = {
    "float32": "f32",
    "float64": "f64",
    "float16": "f16",
    "int64": "i64",
    "int32": "i32",
    "int8": "i8",
    "uint8": "u8",
    "bool": "i1",
}


def _path(path) -> str:
    """A str path from a str or os.PathLike."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    return path


# --------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------


def import_onnx(path) -> Module:
    """Imports the ONNX model at `path` into the `shears` dialect.

    Opsets 11 to 17 are read (older ones are upgraded), shapes are inferred
    and the weights become resource blobs. Raises shears.Error with the
    importer's diagnostics (located at the ONNX node) on a bad file or an
    unsupported op.
    """
    return _shears._import_onnx(_path(path))


def _looks_like_path(text: str) -> bool:
    if "\n" in text:
        return False
    if os.path.exists(text):
        return True
    # MLIR source always has one of these; a file name rarely does.
    return not any(c in text for c in "{}()=%@\"")


def parse(source) -> Module:
    """Parses MLIR: text, bytecode (`bytes`) or the path of a file of either.

    A `str` is taken as a path when it is one line and names an existing file
    or has none of the characters MLIR source always has; otherwise it is
    MLIR text. Raises shears.Error with the parser's diagnostics.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _shears._parse_string(bytes(source), "<bytes>")
    if isinstance(source, os.PathLike):
        return _shears._parse_file(_path(source))
    if not isinstance(source, str):
        raise TypeError(f"parse() takes MLIR text, bytes or a path, not {type(source).__name__}")
    if _looks_like_path(source):
        return _shears._parse_file(source)
    return _shears._parse_string(source, "<string>")


def load(path) -> Module:
    """Loads a model file: ONNX (by its `.onnx` extension), a .shears pack
    (by its `.shears` extension) or MLIR text or bytecode, like the
    command-line tools do."""
    path = _path(path)
    if path.endswith(".onnx"):
        return import_onnx(path)
    if path.endswith(".shears"):
        return _shears._import_packed(path)
    return _shears._parse_file(path)


def _export_onnx(self: Module, path, sparse_initializers: bool = True,
                 bit_packing: bool = True) -> None:
    """Writes the module as an ONNX model (opset 13) to `path`.

    A floating-point weight is stored as an ONNX sparse_initializer (its
    non-zero values and their INT64 indices) where that takes fewer bytes:
    below about half of an f32 weight non-zero. `sparse_initializers=False`
    keeps every weight dense, as `onnx.checker.check_model(...,
    full_check=True)` needs (docs/SparseStorage.md).

    int4 and binary weights are stored in 4 and 1 bits a value, with the
    opset-13 nodes that unpack them (docs/Quantization.md); `bit_packing=False`
    stores them in int8.

    Raises shears.Error, leaving no file behind, if an op cannot be expressed
    in ONNX (e.g. after lowering to linalg).
    """
    self._export_onnx(_path(path), bool(sparse_initializers), bool(bit_packing))


def _write(self: Module, path, bytecode: bool = False) -> None:
    """Writes the module to `path` as MLIR text, or as MLIR bytecode when
    `bytecode` is true; either is read back by shears.parse / shears.load."""
    self._write(_path(path), bool(bytecode))


Module.export_onnx = _export_onnx
Module.write = _write


# --------------------------------------------------------------------------
# Compiled models
# --------------------------------------------------------------------------


class TensorSpec(NamedTuple):
    """An input or output of a compiled model.

    `shape` has None for a dimension only known when the model runs (e.g.
    the batch).
    """

    name: str
    dtype: np.dtype
    shape: Tuple[Optional[int], ...]

    def type_str(self) -> str:
        """The type as the runtime writes it, e.g. `f32 [?x784]`."""
        dims = "x".join("?" if d is None else str(d) for d in self.shape)
        return f"{_RUNTIME_NAMES.get(self.dtype.name, self.dtype.name)} [{dims}]"

    def __str__(self) -> str:
        return f"{self.name}: {self.type_str()}"


def _specs(raw) -> Tuple[TensorSpec, ...]:
    return tuple(
        TensorSpec(name, np.dtype(dtype), tuple(None if d < 0 else d for d in shape))
        for name, dtype, shape in raw
    )


_MISSING = object()


class CompiledModel:
    """A model compiled for this CPU: call it on numpy arrays.

        y = model(x)                  # inputs by position, in `model.inputs` order
        y = model(input=x)            # or by name
        logits, probs = model(x)      # several outputs come back as a tuple
        outputs = model.run({"input": x})   # {output name: array}

    Element types are strict: an array must have the input's dtype exactly
    (no silent casts); shapes must match every static dimension. Python lists
    and scalars are converted to the input's dtype when that is a safe cast.
    C-contiguous arrays are passed without a copy, and outputs are numpy
    arrays over the buffers the model allocated (no copy either). The GIL is
    released while the model runs, and runs may be concurrent.

    Get one from shears.compile (JIT) or shears.load_library (AOT).
    """

    def __init__(self, native):
        if not isinstance(native, _shears._Model):
            raise TypeError("use shears.compile() or shears.load_library() to get a CompiledModel")
        self._native = native
        self._inputs = _specs(native.inputs)
        self._outputs = _specs(native.outputs)

    @property
    def inputs(self) -> List[TensorSpec]:
        """(name, dtype, shape) of each input, in call order."""
        return list(self._inputs)

    @property
    def outputs(self) -> List[TensorSpec]:
        """(name, dtype, shape) of each output, in return order."""
        return list(self._outputs)

    @property
    def signature(self) -> str:
        """The model's signature as the JSON the compiled code carries."""
        return self._native.signature

    def set_threads(self, threads: int) -> None:
        """Threads the model's kernels use from the next call on, 1 to 1024
        (default: every CPU). Outputs do not depend on it. Raises
        shears.Error for a count out of range."""
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise TypeError(f"threads must be an int, got {type(threads).__name__}")
        self._native.set_threads(threads)

    def set_batch_chunk(self, images: int) -> None:
        """Images per call when the model is batch-separable (each image's
        outputs depend on that image only; the signature's "batch"): a larger
        batch runs as calls on chunks of at most this many images, whose
        intermediates stay in the caches. 0 (the default): as many as keep
        the model's workspace within 16 MiB (divided among the threads when
        a batch that they share evenly runs a share a thread, all at once).
        Outputs do not depend on it.
        Raises shears.Error for a negative count."""
        if isinstance(images, bool) or not isinstance(images, int):
            raise TypeError(f"images must be an int, got {type(images).__name__}")
        self._native.set_batch_chunk(images)

    def __repr__(self) -> str:
        ins = ", ".join(map(str, self._inputs))
        outs = ", ".join(map(str, self._outputs))
        return f"<shears.CompiledModel ({ins}) -> ({outs})>"

    def _as_array(self, index: int, spec: TensorSpec, value) -> np.ndarray:
        if isinstance(value, (list, tuple, int, float, bool)):
            array = np.asarray(value)
            if not np.can_cast(array.dtype, spec.dtype, casting="same_kind"):
                raise Error(
                    f"input '{spec.name}' (#{index}): expected {spec.type_str()}, "
                    f"got values of type {array.dtype}"
                )
            array = array.astype(spec.dtype, copy=False)
        else:
            array = np.asarray(value)
            # The same type in the other byte order is not a different type.
            if array.dtype != spec.dtype and array.dtype.newbyteorder("=") == spec.dtype:
                array = array.astype(spec.dtype)
        # A copy only when the runtime cannot read the array in place.
        return np.require(array, requirements=["C", "A"])

    def _bind(self, args, kwargs):
        specs = self._inputs
        if len(args) > len(specs):
            raise Error(
                f"the model takes {len(specs)} input{'' if len(specs) == 1 else 's'}, "
                f"got {len(args)} positional arguments"
            )
        values = list(args) + [_MISSING] * (len(specs) - len(args))
        names = [spec.name for spec in specs]
        for name, value in kwargs.items():
            if name not in names:
                raise Error(
                    f"the model has no input named '{name}'; its inputs are: "
                    + ", ".join(map(str, specs))
                )
            index = names.index(name)
            if values[index] is not _MISSING:
                raise Error(f"input '{name}' is given twice, by position and by name")
            values[index] = value
        arrays = []
        for index, (spec, value) in enumerate(zip(specs, values)):
            if value is _MISSING:
                raise Error(f"missing input '{spec.name}' (#{index}): expected {spec.type_str()}")
            arrays.append(self._as_array(index, spec, value))
        return arrays

    def __call__(self, *args, **kwargs):
        """Runs the model. Returns one array for a single output, else a
        tuple in `outputs` order. Raises shears.Error naming the input on a
        missing input or a wrong dtype or shape."""
        results = self._native.run(self._bind(args, kwargs))
        return results[0] if len(results) == 1 else tuple(results)

    def run(self, feeds=None, **kwargs) -> dict:
        """Runs the model on inputs given by name (a mapping and/or keyword
        arguments); returns {output name: array}."""
        named = dict(feeds or {})
        named.update(kwargs)
        results = self._native.run(self._bind((), named))
        return {spec.name: array for spec, array in zip(self._outputs, results)}


def _as_module(model) -> Module:
    if isinstance(model, Module):
        return model
    if isinstance(model, (str, os.PathLike)):
        return load(model)
    raise TypeError(f"expected a shears.Module or a model path, not {type(model).__name__}")


def _with_threads(compiled: CompiledModel, threads: Optional[int]) -> CompiledModel:
    if threads is not None:
        compiled.set_threads(threads)
    return compiled


def compile(model, *, threads: Optional[int] = None,  # noqa: A001 (shadows the builtin on purpose)
            device: str = "cpu", time_sparse: bool = True, gpu_arch: str = "sm_90",
            gpu_precision: str = "fp32") -> CompiledModel:
    """JIT-compiles a model for this CPU, or for an NVIDIA GPU.

    `model` is a shears.Module (it is cloned, not changed) or the path of a
    model file (see shears.load). It is lowered by the shears-lower-to-llvm
    pipeline (device="cpu") or shears-lower-to-nvvm (device="cuda": PTX
    kernels that the GPU's driver loads here), unless it was lowered already
    (run_pipeline), and compiled in process with -O3 for the host CPU.
    Raises shears.Error with the diagnostics if lowering or compilation
    fails, and for device="cuda" where there is no CUDA driver or GPU.
    `threads` as in CompiledModel.set_threads. `time_sparse`: a pruned linear
    layer runs on the sparse kernel only where timing both kernels on it, on
    this machine, says that pays (`shears run --time-sparse`); False: its
    density alone decides. With device="cuda": `gpu_arch` is the GPU's
    architecture, "sm_90" or "sm_80" (`shears run --gpu-arch`), and
    `gpu_precision` what large matrix products and convolutions multiply in,
    "fp32", or "tf32", "fp16" or "bf16" on tensor cores (`shears run
    --gpu-precision`; docs/GPU.md says how far their results are from fp32's).
    """
    return _with_threads(CompiledModel(_shears._compile(_as_module(model), device,
                                                        bool(time_sparse), gpu_arch,
                                                        gpu_precision)),
                         threads)


def compile_library(model, path, *, cpu: Optional[str] = None, device: str = "cpu",
                    time_sparse: bool = True, gpu_arch: str = "sm_90",
                    gpu_precision: str = "fp32") -> str:
    """Compiles a model ahead of time into the shared library `path` (linked
    by clang-22) that shears.load_library and C programs over the runtime
    (include/shears-c/Runtime.h) load, like `shears-compile` does.

    `model` is a shears.Module (not changed) or a model path. Code is for
    this machine's CPU, or for `cpu` (an LLVM CPU name such as "x86-64-v2")
    to run on other machines; with device="cuda" its layers run on an NVIDIA
    GPU (PTX embedded; the library needs the GPU's driver only to run, as
    `shears compile --target cuda`; `gpu_arch` "sm_90" or "sm_80",
    `gpu_precision` as in shears.compile). `time_sparse` as in
    shears.compile (not for another `cpu`). Returns `path` as a str.
    """
    path = _path(path)
    _shears._compile_library(_as_module(model), path, cpu or "", device, bool(time_sparse),
                             gpu_arch, gpu_precision)
    return path


def load_library(path, *, threads: Optional[int] = None) -> CompiledModel:
    """Loads a model compiled ahead of time (shears.compile_library or
    `shears-compile`) from its shared library; `threads` as in
    CompiledModel.set_threads."""
    path = _path(path)
    # dlopen searches the library path for a bare name; a file here is meant.
    if os.sep not in path:
        path = os.path.join(os.curdir, path)
    return _with_threads(CompiledModel(_shears._load_library(path)), threads)


def _samples(module: Module, samples) -> List[np.ndarray]:
    """Calibration samples in the order of the model's inputs: one array, a
    list, or a dict by input name; each C-contiguous, first axis the
    samples."""
    if isinstance(samples, np.ndarray):
        samples = [samples]
    if isinstance(samples, dict):
        names = module.input_names
        missing = [n for n in names if n not in samples]
        if missing:
            raise Error(f"missing calibration samples for input '{missing[0]}'")
        samples = [samples[n] for n in names]
    return [np.ascontiguousarray(s) for s in samples]


def calibrate(model, samples, *, batch: int = 256, quantization: bool = False,
              gram: bool = False) -> dict:
    """What `shears calibrate` measures on `samples` (an array, a list of
    arrays, or a dict by input name; first axis the samples), running the
    model through the JIT `batch` samples at a time: per layer, by ONNX node
    name, the L2 norm of each input channel (what prune's activation
    criterion reads); with `quantization` the range and histogram of each
    layer's input ("NAME.range", "NAME.histogram": what quantize reads);
    with `gram` the Gram matrix of each linear layer's and ungrouped
    convolution's inputs ("NAME.gram": what low_rank reads). Returns
    {name: numpy array}; numpy.savez writes it as the .npz the passes
    take."""
    if quantization and gram:
        raise Error("give quantization or gram, not both")
    module = _as_module(model)
    kind = "ranges" if quantization else "grams" if gram else "norms"
    return _shears._calibrate(module, _samples(module, samples), batch, kind)


def _statistics_file(statistics, tmp) -> Optional[str]:
    """The .npz a pass reads: `statistics` as calibrate() returns them (a
    dict, saved into the folder `tmp`), or the path of an .npz, or None."""
    if isinstance(statistics, dict):
        path = os.path.join(tmp, "statistics.npz")
        np.savez(path, **statistics)
        return path
    return None if statistics is None else _path(statistics)


def _pass_options(options: dict) -> str:
    text = []
    for key, value in options.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            # A list option: {a,b}, each item as it is.
            if any(c in str(v) for v in value for c in ',"{}'):
                raise Error(f"the items of option {key} must not hold ',', '\"', '{{' or '}}'")
            text.append(f"{key}={{{','.join(str(v) for v in value)}}}")
            continue
        value = str(value).lower() if isinstance(value, bool) else str(value)
        if '"' in value:
            raise Error(f"option {key} must not contain '\"'")
        text.append(f'{key}="{value}"')
    return " ".join(text)


def quantize(model, *, calibration=None, statistics=None, method: str = "minmax",
             percentile: float = 99.99, weights: str = "int8", group_size: int = 64,
             reduce_range: bool = False, activations: Optional[str] = None,
             exclude: Optional[str] = None, layer_weights: Optional[dict] = None,
             batch: int = 256) -> Module:
    """Quantizes a model, as `shears quantize` does (the shears-quantize pass,
    docs/Quantization.md), and returns the new module (`model` is not
    changed; a path is loaded).

    weights: "int8" (a scale per output channel), "int4" (a scale per
    `group_size` weights of an output channel; convolutions int8 with
    static activations, for the integer kernels) or "binary", and
    `layer_weights` ({regex: format}, the first match wins) for the layers
    whose ONNX node name a regex matches;
    `reduce_range`: int8 weights in [-64, 64], which AVX2's integer kernels
    need (CPUs without AVX512-VNNI run other int8 layers in f32). activations:
    "static" (ui8 with ranges calibrated on `calibration` samples, or read
    from `statistics` as calibrate(quantization=True) returns them or an
    .npz of them; the default when either is given), "dynamic" (linear
    layers' inputs with their own range at run time) or "none" (the default
    otherwise). method: "minmax", "percentile" (at `percentile` of |x|) or
    "entropy". `exclude`: a regex of ONNX node names whose layers stay f32.

        q = shears.quantize("model.onnx", calibration=x, method="entropy")
        shears.compile(q)(x[:1]); q.export_onnx("int8.onnx")
    """
    import tempfile
    module = _as_module(model)
    if activations is None:
        activations = "static" if calibration is not None or statistics is not None else "none"
    if calibration is not None and statistics is not None:
        raise Error("give calibration or statistics, not both")
    if activations == "static" and calibration is None and statistics is None:
        raise Error("activations='static' needs calibration samples or statistics")
    if activations != "static" and (calibration is not None or statistics is not None):
        raise Error("calibration and statistics are for activations='static'")
    with tempfile.TemporaryDirectory() as tmp:
        if calibration is not None:
            statistics = calibrate(module, calibration, batch=batch, quantization=True)
        path = _statistics_file(statistics, tmp)
        options = _pass_options({
            "weights": weights, "group-size": group_size,
            "reduce-range": reduce_range, "activations": activations,
            "method": method, "percentile": percentile,
            "statistics": path if activations == "static" else None, "exclude": exclude,
            "layer-weights": None if not layer_weights else
            [f"{regex}={form}" for regex, form in layer_weights.items()]})
        quantized = module.clone()
        quantized.run_pipeline(f"canonicalize,shears-quantize{{{options}}},canonicalize")
    return quantized


def low_rank(model, *, rank_by: str = "energy", decomposition: str = "svd",
             energy: Optional[float] = None,
             max_error: Optional[float] = None, rank: Optional[int] = None,
             params: Optional[float] = None, macs: Optional[float] = None,
             calibration=None, statistics=None,
             damp: Optional[float] = None, exclude: Optional[str] = None,
             require_saving: bool = True, batch: int = 256) -> Module:
    """Factors linear layers and convolutions into two layers of low rank,
    as `shears lowrank` does (the shears-low-rank pass), where that saves
    parameters, and returns the new module (`model` is not changed; a path
    is loaded).

    rank_by: "energy" (the smallest rank keeping `energy`, default 0.9, of
    the squared singular values), "error" (relative error at most
    `max_error`), "rank" (`rank` for every layer), "params" (ranks chosen
    together so that the layers keep `params` of their parameters) or
    "macs" (... `macs` of their multiply-accumulates). decomposition:
    "svd" (a k x k convolution becomes a k x k one with r filters and a 1 x
    1 one) or "tucker2" (1 x 1 to r_in channels, the k x k core, 1 x 1 to
    the outputs; not data-aware); linear layers are SVD's either way. With
    `calibration` samples (or `statistics`, the Gram matrices as
    calibrate(gram=True) returns them, or an .npz of them) the SVD is
    data-aware: it keeps the layers' outputs on those samples rather than
    their weights. `exclude`: a regex of ONNX node names left as they are.

        half = shears.low_rank("model.onnx", rank_by="params", params=0.5, calibration=x)
    """
    import tempfile
    module = _as_module(model)
    if calibration is not None and statistics is not None:
        raise Error("give calibration or statistics, not both")
    canonical = module.clone()
    canonical.run_pipeline("canonicalize")
    with tempfile.TemporaryDirectory() as tmp:
        if calibration is not None:
            statistics = calibrate(canonical, calibration, batch=batch, gram=True)
        path = _statistics_file(statistics, tmp)
        options = _pass_options({
            "rank-by": rank_by, "decomposition": decomposition, "energy": energy, "max-error": max_error, "rank": rank,
            "params": params, "macs": macs, "statistics": path, "damp": damp, "exclude": exclude,
            "require-saving": require_saving})
        canonical.run_pipeline(f"shears-low-rank{{{options}}}")
    return canonical


def sensitivity(model, samples, labels=None, *, sparsities=(0.3, 0.5, 0.7, 0.9),
                prune_options: str = "", batch: int = 256, latency_batch: int = 0,
                latency_runs: int = 50, threads: Optional[int] = None) -> dict:
    """What `shears sensitivity` measures: each layer pruned alone at each of
    `sparsities` (shears-insert-masks with `prune_options`, e.g.
    "granularity=channel") and run on `samples` (as for calibrate): per
    layer the relative error of the first output against the dense model's
    and, with `labels` (the classes of the samples), the accuracy; and what
    each pruning removes. With `latency_batch`, every model (the dense one
    too) is also timed as shears prune writes it and compile() runs it, on
    that many samples a run (the median of `latency_runs` runs, on `threads`
    threads): "latency_ms" per point, what budget="latency=F" allocates
    with. Returns the report as a dict (the JSON the command writes);
    prune(..., budget=..., sensitivity=report) allocates from it."""
    module = _as_module(model)
    if labels is not None:
        labels = np.ascontiguousarray(labels)
        if labels.dtype not in (np.int32, np.int64):
            raise Error(f"labels must be int32 or int64, got {labels.dtype}")
    text = _shears._sensitivity(module, _samples(module, samples), labels,
                                [float(s) for s in sparsities], prune_options, batch,
                                latency_batch, latency_runs, threads or 0)
    return json.loads(text)


def report(model, *, time_sparse: bool = False, measure: bool = False,
           threads: Optional[int] = None) -> dict:
    """Per-layer parameters, nonzeros, sparsity, MACs and channels of a model (a module or a
    path), as `shears report --json` writes them: {"layers": [...], "totals": {...}}.
    `time_sparse`: each linear layer that may run sparse is timed on this machine as
    shears.compile times it (`shears report --time-sparse`): its "format" becomes the kernel
    picked ("spgemm" or "dense"), "spgemm_over_gemm" gives spgemm's time over gemm's by
    batch and "predicted_ms" the picked kernel's time.
    `measure`: the model is compiled as shears.compile does (those layers on the kernel
    picked) and run here on random inputs at batches 1, 4, 8 and 64 (`shears report
    --measure`): "measured_ms" gives each layer's time inside the model by batch (medians of
    runs), "measured_kernel" the kernel that ran, and "measured" the runs and threads.
    `threads`: the kernels' threads for both (default: every CPU)."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or not 1 <= threads <= 1024):
        raise ValueError(f"threads must be an int from 1 to 1024, got {threads!r}")
    return json.loads(_as_module(model)._report_json(bool(time_sparse), bool(measure),
                                                     threads or 0))


def export_onnx(model, path, *, sparse_initializers: bool = True, bit_packing: bool = True) -> None:
    """Writes a model (a module or a path) as ONNX; see Module.export_onnx."""
    _as_module(model).export_onnx(path, sparse_initializers=sparse_initializers,
                                  bit_packing=bit_packing)


def allocate(sensitivity, budget: str) -> dict:
    """Per-layer sparsities under `budget` ("params=F", "macs=F" or
    "latency=F": keep the fraction F of the layers' parameters or MACs, or
    of the model's latency where the report has it) from a sensitivity
    report (a dict from sensitivity() or the path of the JSON `shears
    sensitivity` writes), as `shears prune --budget` chooses them: {layer:
    sparsity}."""
    if isinstance(sensitivity, (str, os.PathLike)):
        with open(sensitivity) as f:
            sensitivity = json.load(f)
    return dict(_shears._allocate(json.dumps(sensitivity), budget))


def prune(model, *, sparsity: float = 0.5, granularity: str = "unstructured",
          criterion: str = "magnitude", scope: str = "layer", exclude: Optional[str] = None,
          budget: Optional[str] = None, sensitivity=None, **options) -> Module:
    """Prunes a model as `shears prune` does (the shears-prune pipeline:
    insert masks, fold them, remove dead channels with every channel coupled
    to them) and returns the new module (`model` is not changed; a path is
    loaded). The options are shears-insert-masks' (shears-opt --help), with
    underscores for dashes, e.g. round_to=16, layer_sparsity="^fc1$=0.3",
    activations="norms.npz" (from calibrate, saved with numpy.savez).
    `budget` ("params=F", "macs=F" or "latency=F") with a `sensitivity`
    report sets each layer's sparsity as allocate() chooses it.

        small = shears.prune("model.onnx", sparsity=0.5, granularity="channel")
    """
    module = _as_module(model)
    if (budget is None) != (sensitivity is None):
        raise Error("budget and sensitivity go together")
    if budget is not None:
        if "layer_sparsity" in options:
            raise Error("give budget or layer_sparsity, not both")
        import re
        allocated = allocate(sensitivity, budget)
        sparsity = 0.0
        options["layer_sparsity"] = [f"^{re.escape(name)}$={s:.4f}"
                                     for name, s in allocated.items()]
    all_options = {"sparsity": sparsity, "granularity": granularity, "criterion": criterion,
                   "scope": scope, "exclude": exclude}
    all_options.update({k.replace("_", "-"): v for k, v in options.items()})
    pruned = module.clone()
    pruned.run_pipeline(f"shears-prune{{{_pass_options(all_options)}}}")
    return pruned


def pack(model, path, *, conv_bits: Optional[int] = None, linear_bits: Optional[int] = None,
         layer_bits=None, init: Optional[str] = None, seed: Optional[int] = None,
         exclude: Optional[str] = None, lossless: bool = False) -> dict:
    """Writes a model as a .shears pack, as `shears pack` does
    (docs/PackFormat.md): its convolutions' and linear layers' weights shared
    (k-means, the shears-share-weights pass: conv_bits, default 8, and
    linear_bits, default 5, bits per weight with zero; layer_bits, a list of
    "REGEX=BITS"; init "linear", "density" or "random"; `exclude`, a regex
    of node names kept as they are), unless `lossless`; then every f32
    weight stored sparse, as codes into a codebook, Huffman-coded. Returns
    per weight and in total what each stage takes, as `shears pack --json`
    writes it ("tensors", "onnx_bytes", "packed_bytes", "graph_bytes"). `model` is not changed; load(path) reads
    the pack, unpack(path, out) writes its ONNX model.

        shears.pack(shears.prune("model.onnx", sparsity=0.9, scope="global"), "model.shears")
    """
    module = _as_module(model).clone()
    if not lossless:
        if isinstance(layer_bits, str):
            layer_bits = [layer_bits]
        options = _pass_options({"conv-bits": conv_bits, "linear-bits": linear_bits,
                                 "init": init, "seed": seed, "exclude": exclude})
        if layer_bits:
            if any('"' in entry or "," in entry for entry in layer_bits):
                raise Error("layer_bits entries must not contain '\"' or ','")
            options += ' layer-bits=' + ",".join(f'"{entry}"' for entry in layer_bits)
        module.run_pipeline(f"canonicalize,shears-share-weights{{{options}}}")
    elif any(v is not None for v in (conv_bits, linear_bits, layer_bits, init, seed, exclude)):
        raise Error("the weight-sharing options have no effect with lossless=True")
    return json.loads(_shears._pack(module, _path(path)))


def unpack(path, out) -> None:
    """Writes the ONNX model that the .shears file `path` holds to `out`,
    its weights bit for bit as they were packed."""
    _shears._unpack(_path(path), _path(out))
