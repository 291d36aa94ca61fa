#!/usr/bin/env bash
# The release suite under load (issue 19): RUNS consecutive `ctest -j2` runs of an existing build while a
# second build of the project, from scratch and without a compiler cache, keeps both cores busy (it is
# restarted whenever it finishes). Prints one row per run: passed, failed (by name), wall time, load.
# Exit 0 when every run passed. A timing flake shows here before it shows in CI.
#
#   bench/loaded_suite.sh
#
# Environment:
#   BUILD_DIR   the build whose tests run (default: build/, already built)
#   RUNS        consecutive runs (default 3)
#   LOAD_JOBS   compile jobs of the loading build (default: nproc)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
RUNS="${RUNS:-3}"
LOAD_JOBS="${LOAD_JOBS:-$(nproc)}"
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd "$ROOT/.." && pwd)/shared/models}"
[[ -f "$BUILD_DIR/CTestTestfile.cmake" ]] || { echo "loaded_suite.sh: build $BUILD_DIR first" >&2; exit 2; }
WORK="$(mktemp -d /tmp/sightflow-loaded.XXXXXX)"
loader=""
stop_loader() { [[ -n "$loader" ]] && kill -- -"$loader" 2>/dev/null; wait 2>/dev/null || true; }
trap 'stop_loader; rm -rf "$WORK"' EXIT

# The load: the whole project compiled again and again in its own folder (no ccache: real compiles).
set -m
(
  while true; do
    rm -rf "$WORK/load"
    CCACHE_DISABLE=1 cmake -S "$ROOT" -B "$WORK/load" -DCMAKE_BUILD_TYPE=Release -DSIGHTFLOW_BENCH=OFF \
      >/dev/null 2>&1 || exit 1
    cmake --build "$WORK/load" -j"$LOAD_JOBS" >/dev/null 2>&1 || true
  done
) &
loader=$!
set +m
sleep 20  # the compile is under way

echo "# Release suite under a second build — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs"
echo
echo "| run | tests | failed | wall s | load (1 min) at the end |"
echo "|---:|---:|---|---:|---|"
status=0
for run in $(seq 1 "$RUNS"); do
  start=$(date +%s)
  set +e
  (cd "$BUILD_DIR" && ctest -j2 --timeout 900 >"$WORK/run$run.log" 2>&1)
  rc=$?
  set -e
  wall=$(( $(date +%s) - start ))
  total=$(grep -oE 'tests failed out of [0-9]+' "$WORK/run$run.log" | grep -oE '[0-9]+$' || echo "?")
  # The names of the failed tests (none: grep finds nothing, which must not end the script).
  failed=$(sed -n '/The following tests FAILED/,$p' "$WORK/run$run.log" | grep -oE '^[[:space:]]*[0-9]+ - [^ ]+' |
    awk '{print $3}' | tr '\n' ' ' || true)
  cp "$WORK/run$run.log" "/tmp/sightflow-loaded-run$run.log"  # kept, passed or not
  [[ $rc -ne 0 ]] && status=1
  echo "| $run | $total | ${failed:-none} | $wall | $(cut -d' ' -f1 /proc/loadavg) |"
done
echo
echo "Logs: /tmp/sightflow-loaded-run*.log"
exit $status
