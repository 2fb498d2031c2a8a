"""Shared helpers for the Python test utilities: run a model under ONNX Runtime (through
utils/ort_run.js) and compare directories of .npy outputs."""
import os
import subprocess
from pathlib import Path

import numpy as np

UTILS = Path(__file__).resolve().parent
ORT_RUN = UTILS / "ort_run.js"


def graph_inputs(model):
    """[(name, elem_type, [dim or None])] of the graph inputs that are not initializers;
    `model` is a path or an onnx.ModelProto."""
    import onnx

    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model), load_external_data=False)
    g = model.graph
    inits = {i.name for i in g.initializer}
    result = []
    for i in g.input:
        if i.name in inits:
            continue
        t = i.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        result.append((i.name, t.elem_type, dims))
    return result


def run_ort(model, inputs, out_dir, threads=1, optimization="all"):
    """Runs `model` with inputs {name: path.npy}; writes out_dir/<output>.npy. `optimization`
    is ONNX Runtime's graph optimization level (disabled, basic, extended or all).

    Returns (ok, stderr text)."""
    cmd = [os.environ.get("NODE", "node"), str(ORT_RUN), str(model), "--out-dir", str(out_dir),
           "--threads", str(threads), "--optimization", optimization]
    for name, path in inputs.items():
        cmd += ["--input", f"{name}={path}"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc.returncode == 0, proc.stderr.strip()


def compare_arrays(a, b, rtol, atol):
    """Compares expected `a` with actual `b`: |a-b| <= atol + rtol*|a| elementwise, NaNs and
    infinities equal to themselves; integer and bool arrays must be equal.

    Returns (ok, max abs diff or None, message)."""
    if a.shape != b.shape:
        return False, None, f"shape mismatch {a.shape} vs {b.shape}"
    if a.dtype != b.dtype:
        return False, None, f"dtype mismatch {a.dtype} vs {b.dtype}"
    if a.size == 0:
        return True, 0.0, f"empty {a.shape}"
    if not np.issubdtype(a.dtype, np.inexact):
        diff = a != b
        bad = int(diff.sum())
        if not bad:
            return True, 0.0, f"exact ({a.dtype})"
        first = np.unravel_index(int(np.argmax(diff)), a.shape)
        return False, None, f"{bad} of {a.size} elements differ, first at {first}"
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    same = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))  # also equal infinities
    if same.all():
        return True, 0.0, f"identical ({a.dtype})"
    with np.errstate(invalid="ignore", over="ignore"):
        absdiff = np.where(same, 0.0, np.abs(a64 - b64))
        absdiff[np.isnan(absdiff)] = np.inf  # NaN on one side only
        scale = np.where(same, 0.0, np.abs(a64))
        reldiff = np.where(np.isfinite(absdiff), absdiff / np.maximum(scale, 1e-300), np.inf)
        excess = np.where(np.isfinite(absdiff), absdiff - (atol + rtol * scale), np.inf)
    excess[same] = -np.inf
    worst = np.unravel_index(int(np.argmax(excess)), a.shape)  # nearest to or furthest past the bound
    bad = int((excess > 0).sum())
    msg = (f"max abs diff {absdiff.max():.3g}, max rel diff {reldiff.max():.3g}, "
           f"worst at {worst}: {a64[worst]:.7g} vs {b64[worst]:.7g}")
    if bad:
        msg += f"; {bad} of {a.size} elements exceed atol={atol:g} rtol={rtol:g}"
    return bad == 0, float(absdiff.max()), msg


def compare_dirs(dir_a, dir_b, rtol=1e-4, atol=1e-4, log=print):
    """Compares every DIR_A/*.npy with the same name in DIR_B, logging one line per file.

    Returns (ok, largest max abs diff over the files, None if none compared)."""
    files = sorted(Path(dir_a).glob("*.npy"))
    if not files:
        log(f"no .npy files in {dir_a}")
        return False, None
    ok, worst = True, None
    for fa in files:
        fb = Path(dir_b) / fa.name
        if not fb.exists():
            log(f"{fa.stem}: MISSING in {dir_b}")
            ok = False
            continue
        a, b = np.load(fa), np.load(fb)
        same, maxabs, msg = compare_arrays(a, b, rtol, atol)
        if maxabs is not None:
            worst = maxabs if worst is None else max(worst, maxabs)
        log(f"{fa.stem}: {'ok' if same else 'MISMATCH'}: {msg}")
        ok &= same
    return ok, worst
