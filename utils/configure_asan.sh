#!/usr/bin/env bash
# Configures build-asan/: the whole project with ASan + UBSan (shared
# runtime, from Debian's libclang-rt-22-dev) and the libFuzzer targets.
# Used by utils/test_sanitizers.sh and utils/fuzz.sh.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! dpkg-query -W -f='${Status}' libclang-rt-22-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "error: libclang-rt-22-dev (the sanitizer and libFuzzer runtimes) is missing: run utils/setup.sh" >&2
  exit 1
fi
if [[ ! -f "$repo/build-asan/build.ninja" ]]; then
  # Line tables are all a sanitizer report needs (file:line in each frame);
  # full debug info made the build a fifth slower (LowRank.cpp: 68 -> 55 s)
  # and its objects 7 times larger. The plain build's test models, where it
  # has them, are copied rather than exported again.
  models=()
  if [[ -f "$repo/build/models/resnet18.onnx" ]]; then
    models=("-DSHEARS_TEST_MODELS_FROM=$repo/build/models")
  fi
  cmake -S "$repo" -B "$repo/build-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -gline-tables-only -DNDEBUG" \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -gline-tables-only -DNDEBUG" \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    "-DSHEARS_SANITIZERS=address;undefined" -DSHEARS_FUZZERS=ON "${models[@]}" >/dev/null
fi
