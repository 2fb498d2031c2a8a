#!/usr/bin/env bash
# Sets up, builds and runs every test: the lit suite (dialect, passes,
# importer/exporter, bad inputs) and the end-to-end round trips through
# ONNX Runtime on the torchvision models; then the same suite but those
# model-scale end-to-end tests built with ASan + UBSan (test_sanitizers.sh
# --quick), and the fuzzers' regression corpus and smoke run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/utils/setup.sh"
bash "$repo/utils/setup_ort.sh"
ninja -C "$repo/build" shears-test-depends
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
/usr/lib/llvm-22/bin/lit -v --no-progress-bar "$repo/build/test" | tee "$log" || status=$?
# The suite but e2e/ on the ASan + UBSan build, the fuzzing regression
# corpus and a short fuzzing run (docs/Hardening.md).
bash "$repo/utils/test_sanitizers.sh" --skip-setup --quick 2>&1 | tee -a "$log" || status=$?
# One plain closing line with the counts, whatever lit's own summary says.
passed=$(grep -c '^PASS: ' "$log" || true)
failed=$(grep -cE '^(FAIL|XPASS|UNRESOLVED|TIMEOUT): ' "$log" || true)
echo "$passed passed, $failed failed"
exit $status
