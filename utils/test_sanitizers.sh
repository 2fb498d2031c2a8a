#!/usr/bin/env bash
# The lit suite on a build with ASan + UBSan (build-asan/), then the fuzzing
# regression corpus (test/fuzz) and a short fuzzing run of each libFuzzer
# target. Any sanitizer report, leaks included, fails the test that caused
# it. utils/test.sh runs it after the plain suite (with --skip-setup).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ "${1:-}" != --skip-setup ]]; then
  bash "$repo/utils/setup.sh"     # packages, and build/ (the test models' exporter)
  bash "$repo/utils/setup_ort.sh"
fi
bash "$repo/utils/configure_asan.sh"
ninja -C "$repo/build-asan" shears-test-depends shears-fuzz-import shears-fuzz-pipeline
status=0
/usr/lib/llvm-22/bin/lit -v --no-progress-bar "$repo/build-asan/test" || status=$?
bash "$repo/utils/fuzz.sh" replay || status=$?
bash "$repo/utils/fuzz.sh" smoke 15 || status=$?
exit $status
