#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan+UBSan) and runs each for FUZZ_SECONDS (default 30),
# starting from its corpus fuzz/corpus/TARGET (which it reads and never writes); fails on any crash,
# sanitizer report, leak, hang or out-of-memory, printing the log and the input that did it.
#   scripts/fuzz.sh [TARGET...]      TARGET: frame_message, url, ... (default: every fuzz/*_fuzzer.cpp)
# FUZZ_SECONDS=0 only replays the corpus. FUZZ_JOBS targets run at once (default: the number of CPUs).
# Only the parsers are compiled with clang; the rest of the library comes from the release build (build/,
# built here when missing or stale; or $SIGHTFLOW_FUZZ_CORE, a libsightflow_core.a of these sources):
# see fuzz/CMakeLists.txt. The build folder is $SIGHTFLOW_FUZZ_DIR (default build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-30}"
jobs="${FUZZ_JOBS:-$(nproc)}"
dir="${SIGHTFLOW_FUZZ_DIR:-build-fuzz}"
core="${SIGHTFLOW_FUZZ_CORE:-}"

echo "fuzz: building ($(date -u +%T))" >&2
if [ -z "$core" ]; then
  [ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)" --target sightflow_core >/dev/null
  core="$PWD/build/libsightflow_core.a"
fi
CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
  -DSIGHTFLOW_FUZZ=ON -DSIGHTFLOW_TESTS=OFF -DSIGHTFLOW_BENCH=OFF -DSIGHTFLOW_FUZZ_CORE="$core" >/dev/null
cmake --build "$dir" -j"$(nproc)" --target fuzzers >/dev/null

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cd fuzz && ls -- *_fuzzer.cpp | sed 's/_fuzzer\.cpp$//')
fi
out="$dir/fuzz/runs"
rm -rf "$out"
mkdir -p "$out"

# Inputs are bounded: images need room for a small JPEG or PNG, text does not.
max_len() {
  case "$1" in
    frame_message | request_images) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

run_one() {
  local target="$1" found="$out/$1.new"
  mkdir -p "$found"
  # The first folder collects what this run finds; the repository's corpus is only read.
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$dir/fuzz/${target}_fuzzer" -max_total_time="$seconds" -runs="$([ "$seconds" = 0 ] && echo 0 || echo -1)" \
    -max_len="$(max_len "$target")" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$out/$target-" -print_final_stats=1 "$found" "fuzz/corpus/$target" >"$out/$target.log" 2>&1; then
    echo "fuzz: $target: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$target.log" | grep -o '[0-9]*$') runs," \
      "$(grep -Eo 'cov: [0-9]+' "$out/$target.log" | tail -1)" >&2
  else
    echo "fuzz: $target FAILED; the log ($out/$target.log) ends:" >&2
    tail -n 60 "$out/$target.log" >&2
    ls "$out/$target-"* >&2 2>/dev/null || true
    return 1
  fi
}

echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time ($(date -u +%T))" >&2
failed=0
running=0
for target in "${targets[@]}"; do
  if [ ! -d "fuzz/corpus/$target" ]; then
    echo "fuzz: no corpus folder fuzz/corpus/$target" >&2
    exit 1
  fi
  run_one "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
if [ "$failed" != 0 ]; then
  echo "fuzz: a target failed: fix the cause in src/, and keep the input as fuzz/corpus/TARGET/regress-NAME" >&2
  exit 1
fi
echo "fuzz: all targets passed ($(date -u +%T))" >&2
