#!/usr/bin/env bash
# The main job on the embedded default: imports the shipped Fashion-MNIST
# classifier, prints its per-layer report, exports it back to ONNX and checks
# the exported file with onnx.checker; then prunes the shipped models at
# several sparsities and granularities (utils/main_job.py) and reports their
# parameters, file size, test accuracy and latency against the dense model,
# as a table, JSON and a plot in OUT_DIR.
#
#   bash utils/main_job.sh [MODEL.onnx [OUT_DIR]]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
model=${1:-$repo/models/fashion_mnist_mlp.onnx}
out=${2:-$repo/out}
bash "$repo/utils/setup.sh" >&2
mkdir -p "$out"
name=$(basename "$model" .onnx)
bin=$repo/build/bin
"$bin/shears-translate" --import-onnx "$model" -o "$out/$name.mlir"
"$bin/shears" report "$model" --json "$out/$name.report.json"
"$bin/shears-translate" --export-onnx "$out/$name.mlir" -o "$out/$name.exported.onnx"
/usr/bin/python3 - "$model" "$out/$name.exported.onnx" <<'PY'
import os, sys, onnx
src, dst = sys.argv[1:]
onnx.checker.check_model(onnx.load(dst), full_check=True)
print(f"exported {dst}: {os.path.getsize(dst)} bytes (input {os.path.getsize(src)} bytes), onnx.checker passed")
PY
# The pruning sweep: both embedded models by default, else the given one.
models=()
if (($# >= 1)); then models=("$model"); fi
MPLBACKEND=Agg PYTHONPATH="$repo/build/python" \
  /usr/bin/python3 "$repo/utils/main_job.py" --out "$out" "${models[@]}"
