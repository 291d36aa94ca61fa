#!/usr/bin/env bash
# Inference API benchmark: `sightflow serve` answering C concurrent `sightflow client` processes (C = 1, 4,
# 16), without batching (model registered with batch_size 1), with server batching (batch_size 4 and 8:
# each client keeps one single-image request in flight and the server joins requests into batches) and with
# client batching (each client sends 4 or 8 frames per request, the model registered with that batch_size and
# no delay, so its images run as one pass without waiting for other requests). Throughput and latency per
# request; the model-only rate of `sightflow bench` for scale. Prints Markdown tables.
#
#   bench/serve_bench.sh
#
# Environment:
#   BUILD_DIR         CMake build folder (default: build/)
#   SIGHTFLOW_MODELS  model files (default: ../shared/models)
#   BENCH_MODELS      models (default "yolo-fastest-xl mobilenetv2")
#   BENCH_CLIENTS     concurrency levels (default "1 4 16")
#   BENCH_SECONDS     target duration of one case (default 5): frames per case = model-only rate x seconds
#   BENCH_MAX_QUEUE   server --max-queue (default 256: above the 16 x 8 images the largest case queues, so the
#                     cases measure batching, not admission control; the server's default is 64)
#
# Combining the clients of one case: throughput = all frames answered / wall time from starting the clients
# to the last one exiting (process start and video open included); p50 = median of the clients' p50s, p99 =
# the largest client p99 (latency is per request: from sending it to its answer, a whole batch's request
# for client batching).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd "$ROOT/.." && pwd)/shared/models}"
MODELS="${BENCH_MODELS:-yolo-fastest-xl mobilenetv2}"
CLIENTS="${BENCH_CLIENTS:-1 4 16}"
SECONDS_PER_CASE="${BENCH_SECONDS:-5}"
MAX_QUEUE="${BENCH_MAX_QUEUE:-256}"
SF="$BUILD_DIR/sightflow"
PY=/usr/bin/python3
WORK="$(mktemp -d /tmp/sightflow-serve-bench.XXXXXX)"

[[ -x "$SF" ]] || { echo "serve_bench.sh: build first (cmake --build $BUILD_DIR)" >&2; exit 1; }
command -v curl >/dev/null || { echo "serve_bench.sh: needs curl" >&2; exit 1; }

PORT="$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
TOKEN="bench-$RANDOM$RANDOM"
"$SF" serve --listen "127.0.0.1:$PORT" --max-queue "$MAX_QUEUE" --token "$TOKEN" >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
trap 'kill -INT $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
  curl -sf "$URL/ping" >/dev/null 2>&1 && break
  kill -0 $SERVE_PID 2>/dev/null || break
  sleep 0.1
done
curl -sf "$URL/ping" >/dev/null || { echo "serve did not start" >&2; cat "$WORK/serve.log" >&2; exit 1; }

# (Re)loads the model with these batch settings (TorchServe's registration command).
register() {  # MODEL BATCH_SIZE MAX_BATCH_DELAY_MS
  local url="$URL/models?url=$1&batch_size=$2&max_batch_delay=$3"
  curl -sf -X POST -H "Authorization: Bearer $TOKEN" "$url" >/dev/null ||
    { echo "registering $1 (batch_size $2) failed:" >&2; curl -s -X POST -H "Authorization: Bearer $TOKEN" "$url" >&2; exit 1; }
}

# One case: C clients at once, each sending F frames; prints one JSON line with the combined numbers.
run_case() {  # MODEL CLIENTS FRAMES_PER_CLIENT BATCH CLIENT_BATCHING(0|1)
  local model=$1 c=$2 frames=$3 batch=$4 cb=$5 i pids=() flags=(--batch-size 1)
  [[ $cb == 1 ]] && flags=(--client-batching --batch-size "$batch")
  rm -f "$WORK"/case-*.json
  local t0 t1
  t0=$(date +%s.%N)
  for i in $(seq 1 "$c"); do
    "$SF" client --url "$URL" --model "$model" --max-frames "$frames" --quiet "${flags[@]}" \
      --summary-json "$WORK/case-$i.json" >/dev/null 2>"$WORK/case-$i.log" &
    pids+=($!)
  done
  local failed=0
  for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
  t1=$(date +%s.%N)
  $PY - "$WORK" "$c" "$t0" "$t1" "$failed" <<'EOF'
import glob, json, statistics, sys
work, c, t0, t1, failed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
runs = [json.load(open(p)) for p in sorted(glob.glob(work + "/case-*.json"))]
frames = sum(r["frames"] for r in runs)
wall = t1 - t0
print(json.dumps({
    "clients": c, "summaries": len(runs), "failed_clients": failed, "frames": frames, "wall": wall,
    "fps": frames / wall if wall > 0 else 0,
    "p50": statistics.median(r["latency_p50_ms"] for r in runs) if runs else 0,
    "p99": max((r["latency_p99_ms"] for r in runs), default=0),
    "errors": sum(r["errors"] for r in runs), "retries": sum(r.get("retries", 0) for r in runs),
}))
EOF
}

# The model's forward passes and images so far, "BATCHES ITEMS" (GET /models/NAME stats).
passes() {
  curl -sf "$URL/models/$1" | $PY -c 'import json,sys; s=json.load(sys.stdin)[0]["stats"]; print(s["batches"], s["items"])' 2>/dev/null || echo "0 0"
}

field() { $PY -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }

echo "# Inference API benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Server and clients on one machine (they share its CPUs: each client decodes the video and JPEG-encodes"
echo "its frames). Throughput: frames answered per second of wall time, all clients together; latency per"
echo "request (p50: median of the clients' p50s; p99: the largest client p99). \"images/batch\": mean images per"
echo "batch the server's batcher ran over the case (GET /models/NAME stats)."
echo

declare -A MODEL_FPS BEST BEST_CASE
for model in $MODELS; do
  MODEL_FPS[$model]="$("$SF" bench --detector "$model" --rounds 1 --frames 20 --iterations 30 --json 2>/dev/null | field model_fps || echo 0)"
done

for model in $MODELS; do
  rate=${MODEL_FPS[$model]}
  total=$($PY -c "print(max(32, min(795, int(float('$rate') * $SECONDS_PER_CASE))))")
  echo "## $model (model only: $(printf '%.1f' "$rate") fps, one image per pass; ~$total frames per case)"
  echo
  echo "| batching | clients | frames | seconds | fps | p50 ms | p99 ms | images/batch | errors | 503 retries |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  BEST[$model]=0
  # name, server batch_size, client batch (frames per request; 1: one frame per request)
  # Client batching registers batch_size N with no delay: a request's N images run as one pass (when the
  # model allows it) without waiting for other clients' requests.
  for spec in "none 1 1 10" "server-4 4 1 10" "server-8 8 1 10" "client-4 4 4 0" "client-8 8 8 0"; do
    read -r name server_batch client_batch delay <<<"$spec"
    cb=0; [[ $client_batch -gt 1 ]] && cb=1
    register "$model" "$server_batch" "$delay"
    # Warm-up (not measured): the first passes allocate. Batches of every size up to the largest.
    "$SF" client --url "$URL" --model "$model" --max-frames 32 --quiet --batch-size 8 \
      $([[ $cb == 1 ]] && echo --client-batching) >/dev/null 2>&1 || true
    for c in $CLIENTS; do
      per_client=$($PY -c "import math; b=$client_batch; print(max(b, math.ceil($total / $c / b) * b))")
      read -r batches0 items0 <<<"$(passes "$model")"
      line=$(run_case "$model" "$c" "$per_client" "$client_batch" "$cb")
      read -r batches1 items1 <<<"$(passes "$model")"
      pass=$($PY -c "b=$batches1-$batches0; print('%.2f' % (($items1-$items0)/b) if b > 0 else '?')")
      read -r frames wall fps p50 p99 errors retries failed <<<"$($PY -c "
import json; d=json.loads('''$line''')
print(d['frames'], '%.2f' % d['wall'], '%.1f' % d['fps'], '%.0f' % d['p50'], '%.0f' % d['p99'], d['errors'], d['retries'], d['failed_clients'])")"
      echo "| $name | $c | $frames | $wall | $fps | $p50 | $p99 | $pass | $errors | $retries |"
      if $PY -c "import sys; sys.exit(0 if $fps > ${BEST[$model]} else 1)"; then
        BEST[$model]=$fps
        BEST_CASE[$model]="$name, $c clients"
      fi
      if [[ $failed -gt 0 ]]; then
        echo "(case above: $failed client(s) exited with an error: $(cat "$WORK"/case-*.log | grep -m1 error || true))"
      fi
    done
  done
  echo
done

echo "## Server throughput at saturation vs model-only rate"
echo
echo "| model | model only fps | best server fps | case | ratio |"
echo "|---|---:|---:|---|---:|"
for model in $MODELS; do
  rate=${MODEL_FPS[$model]}
  ratio=$($PY -c "r=float('$rate'); print('%.2f' % (${BEST[$model]} / r) if r > 0 else 'n/a')")
  echo "| $model | $(printf '%.1f' "$rate") | ${BEST[$model]} | ${BEST_CASE[$model]} | $ratio |"
done
