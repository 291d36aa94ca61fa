#!/usr/bin/env bash
# What tracking, lines and zones cost end to end (issue 14): `sightflow run` over vtest.avi, offline, with
# and without `--track --line ... --zone ...`, alternated in one run (W A W A ...) so that drift on a shared
# machine hits both alike. Prints one Markdown table: per-round rates and the median ratio.
#
#   bench/analysis_rate_bench.sh
#
# Environment:
#   BUILD_DIR         CMake build folder (default: build/)
#   SIGHTFLOW_MODELS  model files (default: ../shared/models)
#   BENCH_DETECTOR    detector (default: yolo-fastest-body, the fastest: where a stage's cost shows most)
#   BENCH_ROUNDS      rounds of (without, with) (default 3)
#   BENCH_FRAMES      frames per run (default 795: all of vtest.avi)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd "$ROOT/.." && pwd)/shared/models}"
DETECTOR="${BENCH_DETECTOR:-yolo-fastest-body}"
ROUNDS="${BENCH_ROUNDS:-3}"
FRAMES="${BENCH_FRAMES:-795}"
SF="$BUILD_DIR/sightflow"
PY=/usr/bin/python3
[[ -x "$SF" ]] || { echo "analysis_rate_bench.sh: build first (cmake --build $BUILD_DIR)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ANALYSIS=(--track --line h300=0,300,768,300 --line v400=400,0,400,576
  --zone mid=200,150,560,150,560,450,200,450 --events-out "$work/events.jsonl")

run_once() {  # $1: summary file; the rest: extra flags. Prints results per second of wall time.
  local summary="$1"
  shift
  "$SF" run --source /usr/share/doc/opencv-doc/examples/data/vtest.avi --detector "$DETECTOR" --max-frames "$FRAMES" --no-progress --out "$work/results.jsonl" \
    --summary-json "$summary" "$@" >/dev/null 2>&1
  $PY - "$summary" "$work/results.jsonl" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
results = sum(1 for _ in open(sys.argv[2]))
print(f"{results / d['wall_seconds']:.2f}")
PYEOF
}

echo "# Tracking, lines and zones: end-to-end cost — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "\`sightflow run --detector $DETECTOR --max-frames $FRAMES\` (offline, vtest.avi) without and with"
echo "\`${ANALYSIS[*]//$work/TMP}\`; results per second of wall time."
echo
echo "| round | without | with | with / without |"
echo "|---:|---:|---:|---:|"
ratios=()
for r in $(seq 1 "$ROUNDS"); do
  without="$(run_once "$work/without.json")"
  with="$(run_once "$work/with.json" "${ANALYSIS[@]}")"
  ratio="$($PY -c "print(f'{$with / $without:.3f}')")"
  ratios+=("$ratio")
  echo "| $r | $without | $with | $ratio |"
done
median="$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')"
events="$(wc -l <"$work/events.jsonl")"
echo
echo "Median ratio: **$median** (target ≥ 0.97); the last run with analysis wrote $events events."
