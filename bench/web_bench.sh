#!/usr/bin/env bash
# MJPEG viewers against inference: `sightflow run --serve` in offline mode (every frame, as fast as the
# machine goes) with 0 and with N concurrent viewers of /video/vtest (curl processes reading the multipart
# stream for the whole run), in alternated rounds. Inference rate = algorithm runs / wall time of the run
# (from --summary-json). Target: with 20 viewers >= 0.9x the rate with none. Prints a Markdown table.
#
#   bench/web_bench.sh
#
# Environment:
#   BUILD_DIR         CMake build folder (default: build/)
#   SIGHTFLOW_MODELS  model files (default: ../shared/models)
#   BENCH_DETECTOR    detector (default yolo-fastest-body: a fast model, so viewers weigh the most)
#   BENCH_FRAMES      frames per run (default 400)
#   BENCH_VIEWERS     viewers in the loaded case (default 20)
#   BENCH_REPEAT      rounds, each one run without and one with viewers, order alternating (default 3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd "$ROOT/.." && pwd)/shared/models}"
DETECTOR="${BENCH_DETECTOR:-yolo-fastest-body}"
FRAMES="${BENCH_FRAMES:-400}"
VIEWERS="${BENCH_VIEWERS:-20}"
REPEAT="${BENCH_REPEAT:-3}"
SF="$BUILD_DIR/sightflow"
PY=/usr/bin/python3
WORK="$(mktemp -d /tmp/sightflow-web-bench.XXXXXX)"
trap 'pkill -P $$ curl 2>/dev/null || true; rm -rf "$WORK"' EXIT

[[ -x "$SF" ]] || { echo "web_bench.sh: build first (cmake --build $BUILD_DIR)" >&2; exit 1; }
command -v curl >/dev/null || { echo "web_bench.sh: needs curl" >&2; exit 1; }

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# One run with $1 viewers; prints "runs wall_seconds bytes_received".
one_run() {
  local viewers=$1 port summary pid
  port="$(free_port)"
  summary="$WORK/summary-$viewers-$RANDOM.json"
  "$SF" run --detector "$DETECTOR" --max-frames "$FRAMES" --no-progress --out "$WORK/results.jsonl" \
    --serve "127.0.0.1:$port" --summary-json "$summary" 2>"$WORK/run.log" &
  pid=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/api/streams" >/dev/null && break; sleep 0.05; done
  for i in $(seq "$viewers"); do
    curl -s -N --max-time 600 -o "$WORK/viewer-$i.mjpeg" "http://127.0.0.1:$port/video/vtest" &
  done
  for _ in $(seq 6000); do [[ -s "$summary" ]] && break; sleep 0.1; done
  kill -INT "$pid"
  wait "$pid" || true
  pkill -P $$ curl 2>/dev/null || true
  wait 2>/dev/null || true
  local bytes=0
  if [[ "$viewers" -gt 0 ]]; then bytes=$(cat "$WORK"/viewer-*.mjpeg | wc -c); rm -f "$WORK"/viewer-*.mjpeg; fi
  $PY - "$summary" "$bytes" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
runs = sum(a["runs"] for st in s["streams"].values() for a in st["algorithms"].values())
print(runs, s["wall_seconds"], sys.argv[2])
PYEOF
}

declare -a none with
for round in $(seq "$REPEAT"); do
  if (( round % 2 )); then order="0 $VIEWERS"; else order="$VIEWERS 0"; fi
  for v in $order; do
    read -r runs wall bytes < <(one_run "$v")
    fps=$($PY -c "print(f'{$runs/$wall:.2f}')")
    echo "round $round, $v viewers: $runs runs in ${wall}s = $fps fps, viewers received $bytes bytes" >&2
    if [[ "$v" == 0 ]]; then none+=("$fps"); else with+=("$fps"); fi
  done
done

$PY - "${none[*]}" "${with[*]}" "$VIEWERS" "$DETECTOR" "$FRAMES" <<'PYEOF'
import statistics, sys
none = [float(x) for x in sys.argv[1].split()]
with_ = [float(x) for x in sys.argv[2].split()]
ratios = [w / n for n, w in zip(none, with_)]
print(f"| {sys.argv[4]}, {sys.argv[5]} frames, offline | inference fps (median) | rounds |")
print("|---|---|---|")
print(f"| 0 viewers | {statistics.median(none):.2f} | {', '.join(f'{x:.2f}' for x in none)} |")
print(f"| {sys.argv[3]} viewers | {statistics.median(with_):.2f} | {', '.join(f'{x:.2f}' for x in with_)} |")
print(f"| ratio (per round) | {statistics.median(ratios):.3f} | {', '.join(f'{x:.3f}' for x in ratios)} |")
PYEOF
