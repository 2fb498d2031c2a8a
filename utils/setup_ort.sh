#!/usr/bin/env bash
# Installs ONNX Runtime for Node.js (CPU binary shipped inside the npm tarball) into <repo>/.ort.
# --ignore-scripts skips the postinstall hook, which only fetches optional GPU binaries.
# Idempotent: returns at once when the pinned version is already there and loads.
set -euo pipefail

ORT_VERSION=1.30.0
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$repo/.ort
pkg=$dir/node_modules/onnxruntime-node

installed() {
  node -e "process.exit(require(process.argv[1]).env.versions.node === process.argv[2] ? 0 : 1)" \
    "$pkg" "$ORT_VERSION" 2>/dev/null
}

if ! installed; then
  mkdir -p "$dir"
  printf '{\n  "private": true,\n  "dependencies": { "onnxruntime-node": "%s" }\n}\n' \
    "$ORT_VERSION" > "$dir/package.json"
  (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
  if ! installed; then
    echo "error: onnxruntime-node $ORT_VERSION did not load from $pkg" >&2
    exit 1
  fi
fi
echo "onnxruntime-node $ORT_VERSION at $pkg"
