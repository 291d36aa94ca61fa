#!/usr/bin/env bash
# Many cameras on one box (issue 16), in one run: the model alone (cv2.dnn: one thread, every thread,
# batch 4, one single-threaded process per core), then for each camera count N, `sightflow run --mode
# realtime` on N copies of vtest.avi at 10 fps beside the plain peer (bench/plain_camera.py: one Python
# process per camera, decode every frame, infer the newest), then one offline stream per model
# (`sightflow bench`: end to end against model-only). Prints Markdown tables (bench/RESULTS.md).
#
#   bench/cameras_bench.sh
#
# Environment:
#   BUILD_DIR         CMake build folder (default: build/)
#   SIGHTFLOW_MODELS  model files (default: ../shared/models)
#   BENCH_CAMERAS     camera counts (default "8 12 16 20")
#   BENCH_SECONDS     seconds per camera count and side (default 60)
#   BENCH_PARAMS      extra detector parameters for sightflow, e.g. "instances=1" (default none)
#   BENCH_SECTIONS    any of: model cameras offline (default: all)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd "$ROOT/.." && pwd)/shared/models}"
CAMERAS="${BENCH_CAMERAS:-8 12 16 20}"
SECS="${BENCH_SECONDS:-60}"
SECTIONS="${BENCH_SECTIONS:-model cameras offline}"
SF="$BUILD_DIR/sightflow"
PY=/usr/bin/python3
PEER="$ROOT/bench/plain_camera.py"
VIDEO=/usr/share/doc/opencv-doc/examples/data/vtest.avi
CFG="$SIGHTFLOW_MODELS/yolo-fastest-1.1-body/yolo-fastest-1.1_body.cfg"
WEIGHTS="$SIGHTFLOW_MODELS/yolo-fastest-1.1-body/yolo-fastest-1.1_body.weights"
CORES="$(nproc)"

[[ -x "$SF" ]] || { echo "cameras_bench.sh: build first (cmake --build $BUILD_DIR)" >&2; exit 1; }
[[ -r "$WEIGHTS" ]] || { echo "cameras_bench.sh: no yolo-fastest-body weights at $WEIGHTS" >&2; exit 1; }
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
json() { $PY -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "# Cameras benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $CORES CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo

BEST=0
if want model; then
  echo "## The model alone: yolo-fastest-body at 320, cv2.dnn forward passes on frame 100 (10 s each)"
  echo
  echo "| how | images/s |"
  echo "|---|---:|"
  for spec in "1 1" "$CORES 1" "$CORES 4"; do
    read -r threads batch <<<"$spec"
    rate="$($PEER model "$CFG" "$WEIGHTS" "$VIDEO" "$threads" "$batch" 10 | json images_per_s)"
    printf '| %s thread(s), batch %s | %.1f |\n' "$threads" "$batch" "$rate"
    BEST="$($PY -c "print(max($BEST, $rate))")"
  done
  # One single-threaded process per core: the most forward passes the cores give at once.
  for ((i = 0; i < CORES; i++)); do $PEER model "$CFG" "$WEIGHTS" "$VIDEO" 1 1 10 >"$WORK/m$i.json" & done
  wait
  rate="$(cat "$WORK"/m*.json | $PY -c "import json,sys; print(sum(json.loads(l)['images_per_s'] for l in sys.stdin))")"
  printf '| %s processes x 1 thread, batch 1 | %.1f |\n' "$CORES" "$rate"
  BEST="$($PY -c "print(max($BEST, $rate))")"
  printf '\nBest forward-only rate: **%.1f images/s**\n\n' "$BEST"
fi

if want cameras; then
  echo "## N real-time cameras (vtest.avi at 10 fps each, ${SECS} s): sightflow in one process vs one Python process per camera"
  echo
  echo "| cameras | sightflow served | sightflow inferences/s | mean latency ms | RSS MB | peer served | peer inferences/s | peer latency ms | sightflow / peer | sightflow / best model |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  params="{input: 320"
  for p in ${BENCH_PARAMS:-}; do params+=", ${p%%=*}: ${p#*=}"; done
  params+="}"
  for n in $CAMERAS; do
    {
      echo "mode: realtime"
      echo "max_frames: $((SECS * 10))"
      echo "streams:"
      for ((i = 0; i < n; i++)); do echo "  - {name: cam$i, source: $VIDEO, loop: true}"; done
      echo "algorithms:"
      echo "  - {name: people, detector: yolo-fastest-body, params: $params}"
    } >"$WORK/cameras.yaml"
    /usr/bin/time -f '%M' -o "$WORK/rss" "$SF" --log-level error run --config "$WORK/cameras.yaml" \
      --summary-json "$WORK/summary.json" >/dev/null 2>&1
    read -r served rate latency < <($PY - "$WORK/summary.json" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
read = runs = 0
lat = 0.0
for stream in s["streams"].values():
    read += stream["frames_read"]
    for a in stream["algorithms"].values():
        runs += a["runs"]
        lat += a["total"]["mean_ms"] * a["runs"]
print(f"{runs / max(read, 1):.4f} {runs / s['wall_seconds']:.1f} {lat / max(runs, 1):.0f}")
PYEOF
)
    rss=$(( $(cat "$WORK/rss") / 1024 ))
    for ((i = 0; i < n; i++)); do $PEER camera "$CFG" "$WEIGHTS" "$VIDEO" "$SECS" 10 >"$WORK/p$i.json" & done
    wait
    read -r pserved prate plat < <(cat "$WORK"/p*.json | $PY -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin]
rel = sum(r['released'] for r in rows); inf = sum(r['inferred'] for r in rows)
lat = sum(r['latency_ms'] * r['inferred'] for r in rows) / max(inf, 1)
print(f'{inf / max(rel, 1):.4f} {inf / $SECS:.1f} {lat:.0f}')")
    rm -f "$WORK"/p*.json
    printf '| %s | %.1f %% | %s | %s | %s | %.1f %% | %s | %s | %.2f | %s |\n' "$n" \
      "$($PY -c "print(100 * $served)")" "$rate" "$latency" "$rss" "$($PY -c "print(100 * $pserved)")" "$prate" \
      "$plat" "$($PY -c "print($rate / max($prate, 1e-9))")" \
      "$($PY -c "print('%.2f' % ($rate / $BEST) if $BEST > 0 else '-')")"
  done
  echo
fi

if want offline; then
  echo "## One offline stream: \`sightflow bench --frames 200 --rounds 3\` (end to end against model-only, median)"
  echo
  echo "| detector | model fps | pipeline fps | ratio |"
  echo "|---|---:|---:|---:|"
  for det in yolo-fastest-body yolo-fastest-xl yolox-nano; do
    j="$("$SF" --log-level warn bench --detector "$det" --frames 200 --rounds 3 --json | tail -n 1)"
    printf '| %s | %.1f | %.1f | %.3f |\n' "$det" "$(json model_fps <<<"$j")" "$(json pipeline_fps <<<"$j")" \
      "$(json ratio <<<"$j")"
  done
  echo
fi
