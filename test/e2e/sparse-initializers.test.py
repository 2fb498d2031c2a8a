"""Checks `shears prune`'s sparse initializers on a model: sparse-initializers.test.py BIN MODEL
INPUT.npy WORKDIR SPARSITY. Prunes MODEL (unstructured, global) twice, with sparse initializers
(the default) and with --sparse-initializers=false, and checks that the sparse file passes
onnx.checker, stores its weights as INT64-indexed sparse initializers, holds bit for bit the
dense file's weights, is smaller, and that ONNX Runtime gives the same outputs bit for bit on
both files, and Shears the same as ONNX Runtime; then that Shears imports both files to the
same weights. Prints one line, "sparse OK ..." or "sparse FAIL ...".
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "utils"))
from ort_compare import run_ort  # noqa: E402


def weights(model):
    """{name: array} of every initializer, sparse ones made dense."""
    result = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for s in model.graph.sparse_initializer:
        dense = np.zeros(int(np.prod(s.dims)), onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[s.values.data_type])
        dense[numpy_helper.to_array(s.indices)] = numpy_helper.to_array(s.values)
        result[s.values.name] = dense.reshape(tuple(s.dims))
    return result


def main(bin_dir, model, x_path, work, sparsity):
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    sparse, dense = work / "sparse.onnx", work / "dense.onnx"
    prune = [f"{bin_dir}/shears", "prune", model, "--sparsity", sparsity, "--scope", "global"]
    subprocess.run(prune + ["-o", str(sparse)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(prune + ["--sparse-initializers=false", "-o", str(dense)], check=True,
                   stdout=subprocess.DEVNULL)
    problems = []
    s, d = onnx.load(str(sparse)), onnx.load(str(dense))
    onnx.checker.check_model(s)
    if not s.graph.sparse_initializer or d.graph.sparse_initializer:
        problems.append("expected sparse initializers in the sparse file only")
    for t in s.graph.sparse_initializer:
        index = numpy_helper.to_array(t.indices)
        if t.indices.data_type != onnx.TensorProto.INT64 or np.any(np.diff(index) <= 0):
            problems.append(f"{t.values.name}: indices not INT64 ascending")
    ws, wd = weights(s), weights(d)
    if ws.keys() != wd.keys() or any(ws[k].tobytes() != wd[k].tobytes() for k in ws):
        problems.append("the sparse file's weights differ from the dense file's")
    ratio = sparse.stat().st_size / dense.stat().st_size
    if ratio >= 0.5:
        problems.append(f"sparse file not smaller than half the dense one ({ratio:.3f})")

    name = d.graph.input[0].name
    outputs = {}
    for tag, path in (("ort-sparse", sparse), ("ort-dense", dense)):
        ok, err = run_ort(path, {name: x_path}, work / tag)
        if not ok:
            problems.append(f"ONNX Runtime failed on {path.name}: {err}")
            continue
        outputs[tag] = {p.name: np.load(p) for p in (work / tag).glob("*.npy")}
    subprocess.run([f"{bin_dir}/shears", "run", str(sparse), "--input", f"{name}={x_path}",
                    "--output-dir", str(work / "shears")], check=True, stdout=subprocess.DEVNULL)
    outputs["shears"] = {p.name: np.load(p) for p in (work / "shears").glob("*.npy")}
    diff = None
    if len(outputs) == 3:
        a, b, c = (outputs[k] for k in ("ort-sparse", "ort-dense", "shears"))
        if a.keys() != b.keys() or any(a[k].tobytes() != b[k].tobytes() for k in a):
            problems.append("ONNX Runtime's outputs differ between the two files")
        diff = max(float(np.max(np.abs(a[k] - c[k]))) for k in a)
        if diff > 1e-4:
            problems.append(f"Shears differs from ONNX Runtime by {diff:.3g}")

    mlir = []
    for path in (sparse, dense):
        text = subprocess.run([f"{bin_dir}/shears-translate", "--import-onnx", str(path)],
                              check=True, capture_output=True, text=True).stdout
        mlir.append(text.replace(path.name, "MODEL"))
    if mlir[0] != mlir[1]:
        problems.append("Shears imports the two files differently")

    verdict = "FAIL " + "; ".join(problems) if problems else "OK"
    print(f"sparse {verdict}: {len(s.graph.sparse_initializer)} sparse initializers, "
          f"file {ratio:.3f}x the dense one, Shears vs ORT max abs diff {diff}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
