#!/usr/bin/env bash
# The lit suite on a build with ASan + UBSan (build-asan/), then the fuzzing
# regression corpus (test/fuzz) and a short fuzzing run of each libFuzzer
# target. Any sanitizer report, leaks included, fails the test that caused
# it. utils/test.sh runs it after the plain suite (with --skip-setup --quick).
#
#   test_sanitizers.sh [--skip-setup] [--quick]
#
# --quick leaves out the end-to-end tests on torchvision-sized models (e2e/)
# and the compile-time scaling test: the plain suite runs them, and under
# ASan they repeat the code paths the tool, C API, Python and kernel tests
# cover on small inputs, at about half the sanitized suite's time (every
# large tensor is a fresh mapping of ASan's allocator, page-faulted in).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
setup=1
lit_args=()
for arg in "$@"; do
  case "$arg" in
    --skip-setup) setup=0 ;;
    --quick) lit_args=(--filter-out '^SHEARS :: (e2e/|Compiler/deep-chain\.test)') ;;
    *) echo "error: unknown option '$arg' (expected --skip-setup, --quick)" >&2; exit 2 ;;
  esac
done
if [[ $setup == 1 ]]; then
  bash "$repo/utils/setup.sh"     # packages, and build/ (the test models' exporter)
  bash "$repo/utils/setup_ort.sh"
fi
bash "$repo/utils/configure_asan.sh"
ninja -C "$repo/build-asan" shears-test-depends shears-fuzz-import shears-fuzz-pipeline
status=0
if [[ ${#lit_args[@]} -gt 0 ]]; then
  echo "sanitized suite, quick: not running e2e/ and Compiler/deep-chain.test" \
       "(the plain suite runs them; utils/test_sanitizers.sh without --quick runs all)"
fi
/usr/lib/llvm-22/bin/lit -v --no-progress-bar "${lit_args[@]}" "$repo/build-asan/test" || status=$?
bash "$repo/utils/fuzz.sh" replay || status=$?
bash "$repo/utils/fuzz.sh" smoke 15 || status=$?
exit $status
