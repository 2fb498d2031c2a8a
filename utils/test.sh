#!/usr/bin/env bash
# Sets up, builds and runs every test: the lit suite (dialect, passes,
# importer/exporter, bad inputs) and the end-to-end round trips through
# ONNX Runtime on the torchvision models.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/utils/setup.sh"
bash "$repo/utils/setup_ort.sh"
ninja -C "$repo/build" check-shears
