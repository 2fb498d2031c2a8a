#!/usr/bin/env bash
# Import benchmark: wall time and peak resident memory of
# `shears-translate --import-onnx` on torchvision's resnet50 (about 100 MB of
# weights), median of N runs, against the file size. Not a test: run by hand.
#   bash bench/import.sh [MODEL.onnx] [RUNS]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
model=${1:-$repo/build/models/resnet50.onnx}
runs=${2:-5}
[ -f "$model" ] || /usr/bin/python3 "$repo/utils/make_models.py" --out "$(dirname "$model")" \
  --models "$(basename "$model" .onnx)" >/dev/null
tool=$repo/build/bin/shears-translate
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
size=$(stat -c %s "$model")
for mode in text bytecode; do
  flag=""; [ $mode = bytecode ] && flag=--emit-bytecode
  for i in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$tmp/t" "$tool" --import-onnx "$model" $flag -o "$tmp/out" 
    cat "$tmp/t"
  done | sort -n | awk -v size="$size" -v mode="$mode" -v runs="$runs" '
    { t[NR] = $1; m[NR] = $2 }
    END {
      med = t[int((NR + 1) / 2)]; mem = 0
      for (i = 1; i <= NR; ++i) if (m[i] > mem) mem = m[i]
      printf "%-9s file %.1f MB  median %.2f s over %d runs  peak RSS %.1f MB (%.2fx file)\n",
        mode, size / 1e6, med, runs, mem / 1024, mem * 1024 / size
    }'
done
