#!/usr/bin/env bash
# What tracking, lines and zones cost end to end (issue 14): `sightflow run` over vtest.avi, offline, with
# and without `--track --line ... --zone ...`. Each round starts the two runs at the same moment, side by
# side, so that whatever the shared host does to one it does to the other: run one after the other, the
# same command's rate swung by ±30 % from run to run here, side by side the pair's ratio stays within ±2 %.
# Prints one Markdown table: per-round rates and the median ratio.
#
#   bench/analysis_rate_bench.sh
#
# Environment:
#   BUILD_DIR         CMake build folder (default: build/)
#   SIGHTFLOW_MODELS  model files (default: ../shared/models)
#   BENCH_DETECTOR    detector (default: yolo-fastest-body, the fastest: where a stage's cost shows most)
#   BENCH_ROUNDS      rounds of (without, with) (default 7)
#   BENCH_FRAMES      frames per run (default 795: all of vtest.avi)
#   BENCH_THREADS     OpenCV threads (default 1: one thread's CPU time is steady on a shared machine, where
#                     idle OpenCV workers spinning made the CPU time of a multi-threaded run swing by ±20 %)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd "$ROOT/.." && pwd)/shared/models}"
DETECTOR="${BENCH_DETECTOR:-yolo-fastest-body}"
ROUNDS="${BENCH_ROUNDS:-7}"
FRAMES="${BENCH_FRAMES:-795}"
export OPENCV_FOR_THREADS_NUM="${BENCH_THREADS:-1}"
SF="$BUILD_DIR/sightflow"
VIDEO=/usr/share/doc/opencv-doc/examples/data/vtest.avi
PY=/usr/bin/python3
[[ -x "$SF" ]] || { echo "analysis_rate_bench.sh: build first (cmake --build $BUILD_DIR)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ANALYSIS=(--track --line h300=0,300,768,300 --line v400=400,0,400,576
  --zone mid=200,150,560,150,560,450,200,450 --events-out "$work/events.jsonl")

start_run() {  # NAME flags... -> starts one run in the background, timed into $work/NAME.time
  local name="$1"
  shift
  /usr/bin/time -f "%e %U %S" -o "$work/$name.time" "$SF" run --source "$VIDEO" --detector "$DETECTOR" \
    --max-frames "$FRAMES" --no-progress --out "$work/$name.jsonl" "$@" >/dev/null 2>&1 &
}

rates() {  # NAME -> "results/s of wall time, results per CPU-second" of a finished run
  $PY - "$work/$1.time" "$work/$1.jsonl" <<'PYEOF'
import sys
wall, user, system = map(float, open(sys.argv[1]).read().split()[-3:])
results = sum(1 for _ in open(sys.argv[2]))
print(f"{results / wall:.2f} {results / (user + system):.2f}")
PYEOF
}

echo "# Tracking, lines and zones: end-to-end cost — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), OpenCV threads $OPENCV_FOR_THREADS_NUM"
echo
echo "\`sightflow run --detector $DETECTOR --max-frames $FRAMES\` (offline, vtest.avi) without and with"
echo "\`${ANALYSIS[*]//$work/TMP}\`, the two started together in each round (they share the cores):"
echo "results per second of wall time, and per second of CPU time (user + system)."
echo
echo "| round | without (wall) | with (wall) | ratio (wall) | without (CPU) | with (CPU) | ratio (CPU) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
wall_ratios=()
cpu_ratios=()
for r in $(seq 1 "$ROUNDS"); do
  start_run without
  start_run with "${ANALYSIS[@]}"
  wait
  read -r without_wall without_cpu < <(rates without)
  read -r with_wall with_cpu < <(rates with)
  wall_ratio="$($PY -c "print(f'{$with_wall / $without_wall:.3f}')")"
  cpu_ratio="$($PY -c "print(f'{$with_cpu / $without_cpu:.3f}')")"
  wall_ratios+=("$wall_ratio")
  cpu_ratios+=("$cpu_ratio")
  echo "| $r | $without_wall | $with_wall | $wall_ratio | $without_cpu | $with_cpu | $cpu_ratio |"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
events="$(wc -l <"$work/events.jsonl")"
echo
echo "Median ratio: wall **$(median "${wall_ratios[@]}")**, CPU **$(median "${cpu_ratios[@]}")** (target ≥ 0.97); the last"
echo "run with analysis wrote $events events."
