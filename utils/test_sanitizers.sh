#!/usr/bin/env bash
# The lit suite on a build with ASan + UBSan (build-asan/), then the fuzzing
# regression corpus (test/fuzz) through the libFuzzer targets. Any sanitizer
# report, leaks included, fails the test that caused it.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/utils/setup.sh"     # packages, the test models' exporter, build/
bash "$repo/utils/setup_ort.sh"
bash "$repo/utils/configure_asan.sh"
ninja -C "$repo/build-asan" shears-test-depends shears-fuzz-import shears-fuzz-pipeline
/usr/lib/llvm-22/bin/lit -sv "$repo/build-asan/test"
bash "$repo/utils/fuzz.sh" replay
