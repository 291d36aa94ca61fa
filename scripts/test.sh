#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test; then the unit tests again under ASan+UBSan; then
# each libFuzzer target of fuzz/ for 30 s (scripts/fuzz.sh, docs/SECURITY.md).
# Set SIGHTFLOW_SKIP_SANITIZE=1 to skip the sanitizer build (it takes a few minutes), SIGHTFLOW_SKIP_FUZZ=1 to
# skip the fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The DNN tests need the model files (../shared/models next to the repository unless set).
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd .. && pwd)/shared/models}"

echo "== format check ($(date -u +%T))" >&2
mapfile -t sources < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find src include tests bench examples -name '*.[ch]pp')
clang-format --dry-run --Werror "${sources[@]}"

echo "== release build and all tests ($(date -u +%T))" >&2
scripts/build.sh build -DSIGHTFLOW_WERROR=ON
(cd build && ctest -j2 --output-on-failure --timeout 900)

if [ "${SIGHTFLOW_SKIP_SANITIZE:-0}" != "1" ]; then
  echo "== ASan+UBSan build and unit tests ($(date -u +%T))" >&2
  # -O1 with line tables only: enough for ASan's reports, and compiles in far less time than -O2 -g. Only
  # the tests (and the CLI they drive) are built.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DSIGHTFLOW_SANITIZE=ON \
    -DSIGHTFLOW_WERROR=ON -DSIGHTFLOW_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$(nproc)" --target sightflow_tests
  # The end-to-end tests drive the (sanitized) CLI over long videos; the unit tests cover the same code paths
  # at a fraction of the time.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest -j2 --output-on-failure --timeout 900 -E '^(EndToEnd|EvalCommand|StoreCli|Backends/StoreCliKill|BusCli|MotionEval|DatasetCli|Dashboard)\.')
fi
if [ "${SIGHTFLOW_SKIP_FUZZ:-0}" != "1" ]; then
  echo "== fuzzing ($(date -u +%T))" >&2
  # Clang builds only the fuzzed parsers (ASan+UBSan, coverage); the rest comes from build/ above.
  FUZZ_SECONDS="${FUZZ_SECONDS:-30}" scripts/fuzz.sh
fi
echo "== all tests passed ($(date -u +%T))" >&2
