#!/usr/bin/env bash
# Builds the libFuzzer targets with ASan + UBSan (build-asan/, shared with
# utils/test_sanitizers.sh) and either
# fuzzes or replays the regression corpus.
#
#   utils/fuzz.sh run import|pipeline|unpack [SECONDS] [libFuzzer flags...]
#       fuzz from the seeds (ONNX's test data models and the test models for
#       import and pipeline, and every target's regression corpus, which for
#       unpack holds packed models); findings go to build-asan/findings/TARGET/
#   utils/fuzz.sh replay
#       run every file of test/fuzz/TARGET/ through its target once (CI)
#   utils/fuzz.sh smoke [SECONDS]
#       fuzz each target for SECONDS (default 30) from the seeds; the first
#       finding fails (CI)
#
# A finding is a crash, a sanitizer report, a leak, a run over 10 s or over
# 4 GB: minimize it (TARGET -minimize_crash=1 FILE), fix the cause, and add
# the file to test/fuzz/TARGET/ so that it is replayed from then on.
set -euo pipefail
shopt -s nullglob
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$repo/build-asan"
mode=${1:-replay}

bash "$repo/utils/configure_asan.sh"
ninja -C "$build" shears-fuzz-import shears-fuzz-pipeline shears-fuzz-unpack
# libFuzzer links libstdc++ ahead of the shared ASan runtime; the order is
# harmless (libstdc++ does not define what ASan intercepts).
export ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"
limits=(-timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=4096)

case "$mode" in
replay)
  for target in import pipeline unpack; do
    files=("$repo"/test/fuzz/"$target"/*)
    echo "== replaying ${#files[@]} inputs through shears-fuzz-$target"
    # Without inputs, libFuzzer would start fuzzing.
    ((${#files[@]})) || continue
    "$build/bin/shears-fuzz-$target" "${limits[@]}" "${files[@]}" 2>&1 | tail -3
  done
  ;;
run | smoke)
  if [[ "$mode" == run ]]; then
    targets=("${2:?usage: utils/fuzz.sh run import|pipeline|unpack [SECONDS] [flags...]}")
    seconds=${3:-600}
    shift $(($# < 3 ? $# : 3))
  else
    targets=(import pipeline unpack)
    seconds=${2:-30}
    shift $(($# < 2 ? $# : 2))
  fi
  # Seeds: every model of ONNX's node tests (small, one op each, many
  # unsupported) and the test models small enough to mutate, for import and
  # pipeline (gathered once, by one tar pipe rather than a cp a model: 12 s
  # a target on 2 cores); past findings, per target.
  onnx_seeds="$build/seeds/onnx"
  mkdir -p "$onnx_seeds" "$build/findings"
  (cd /usr/share/libonnx-testdata/data/node && tar -cf - */model.onnx) |
    tar -C "$onnx_seeds" -xf - --transform 's|/model\.onnx$|.onnx|'
  for model in mlp cnn; do
    [[ -f "$repo/build/models/$model.onnx" ]] && cp "$repo/build/models/$model.onnx" "$onnx_seeds/"
  done
  fuzz_target() {
    local target=$1
    shift
    local seeds="$build/seeds/$target" corpus="$build/corpus/$target"
    local findings="$build/findings/$target"
    mkdir -p "$seeds" "$corpus" "$findings"
    for file in "$repo"/test/fuzz/"$target"/*; do cp "$file" "$seeds/"; done
    local dirs=("$corpus" "$seeds")
    [[ "$target" != unpack ]] && dirs+=("$onnx_seeds")
    local fuzz=("$build/bin/shears-fuzz-$target" "${limits[@]}" -max_len=65536
      -max_total_time="$seconds" -print_final_stats=1
      -artifact_prefix="$findings/" "$@" "${dirs[@]}")
    if [[ "$mode" == run ]]; then
      echo "== fuzzing shears-fuzz-$target for $seconds s"
      "${fuzz[@]}"
    elif "${fuzz[@]}" >"$findings/smoke.log" 2>&1; then
      echo "== shears-fuzz-$target fuzzed for $seconds s (or its seeds' first pass, if longer)"
      grep -E "^stat::(number_of_executed_units|new_units_added)" "$findings/smoke.log"
    else
      tail -40 "$findings/smoke.log"
      echo "shears-fuzz-$target found a crash, a leak or a hang: $findings" >&2
      return 1
    fi
  }
  if [[ "$mode" == run ]]; then
    fuzz_target "${targets[0]}" "$@"
  else
    # The smoke runs side by side, each on its own log: one libFuzzer
    # process uses one core, and pipeline's first pass through its seeds
    # alone takes about a minute under the sanitizers.
    pids=()
    for target in "${targets[@]}"; do
      fuzz_target "$target" "$@" >"$build/findings/$target.out" 2>&1 &
      pids+=($!)
    done
    status=0
    for i in "${!targets[@]}"; do
      wait "${pids[$i]}" || status=1
      cat "$build/findings/${targets[$i]}.out"
    done
    exit $status
  fi
  ;;
*)
  echo "usage: utils/fuzz.sh run import|pipeline|unpack [SECONDS] [libFuzzer flags...] | smoke [SECONDS] | replay" >&2
  exit 2
  ;;
esac
