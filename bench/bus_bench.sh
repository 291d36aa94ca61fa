#!/usr/bin/env bash
# Distributed mode over Redis Streams, in one run against a private redis-server. Target of the issue: the
# bus path reaches >= 0.8x the raw XADD rate of the same payloads from one client. Rows:
#   - raw XADD: one hiredis client XADDs pre-encoded frames (bench/xadd_bench --mode raw), the ceiling;
#   - bus transport, 1 and 2 consumers: the same pre-encoded messages through sightflow's bus code
#     (sf::FramePublisher, and consumer threads doing a worker's XREADGROUP + XACK without decoding;
#     xadd_bench --mode bus): their ratio to raw XADD is the bus's own overhead;
#   - end to end: `sightflow capture` -> 1 and 2 workers with the no-op algorithm, and 1 worker with a
#     detector; capture with no worker too, the producer's own ceiling. These include capture's decode +
#     JPEG encode and the worker's JPEG decode (and result XADDs), so they are far below raw XADD.
# Prints a Markdown table.
#
#   bench/bus_bench.sh
#   BENCH_REPEAT=1 BENCH_FRAMES=200 bench/bus_bench.sh     # a quick look
#
# Raw XADD and bus transport send the video's frames BENCH_PASSES times over (default 3: 3 x 795 = 2385
# messages), for a timed window long enough not to be noise; xadd_bench times from the first XADD (or
# publish) to the last XADD (or XACK), and encodes everything before timing.
#
# An end-to-end case is timed from the start of the capture process to the Redis ID (milliseconds) of the last
# entry in sf:results:NAME: the workers are started first and are waiting, as they would be in a
# deployment, and their --idle-exit wait after the last frame is not counted. Capture decodes and
# JPEG-encodes each frame inside that time.
#
# Environment:
#   BUILD_DIR         CMake build folder (default: build/)
#   SIGHTFLOW_MODELS  model files (default: ../shared/models)
#   BENCH_DETECTOR    detector of the end-to-end case (default yolo-fastest)
#   BENCH_FRAMES      only the first N frames of vtest.avi (default 0: all 795)
#   BENCH_REPEAT      runs of each case, interleaved; the median is reported (default 3)
#   BENCH_PASSES      times the frames are sent over in the raw XADD and transport cases (default 3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd "$ROOT/.." && pwd)/shared/models}"
DETECTOR="${BENCH_DETECTOR:-yolo-fastest}"
FRAMES="${BENCH_FRAMES:-0}"
REPEAT="${BENCH_REPEAT:-3}"
PASSES="${BENCH_PASSES:-3}"
VIDEO=/usr/share/doc/opencv-doc/examples/data/vtest.avi
SF="$BUILD_DIR/sightflow"
XADD="$BUILD_DIR/bench/xadd_bench"
PY=/usr/bin/python3
STREAM=bench
IDLE_EXIT=3       # seconds a worker waits, once the stream is drained, before it exits (not timed)
CASE_LIMIT=600    # seconds before a stuck worker or capture is killed and the run fails

die() { echo "bus_bench.sh: $*" >&2; exit 1; }
[[ "$FRAMES" =~ ^[0-9]+$ ]] || die "BENCH_FRAMES must be a whole number"
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be at least 1"
[[ "$PASSES" =~ ^[1-9][0-9]*$ ]] || die "BENCH_PASSES must be at least 1"
[[ -x "$SF" && -x "$XADD" ]] || die "build first (cmake --build $BUILD_DIR --target sightflow xadd_bench)"
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || die "redis-server and redis-cli needed"

WORK="$(mktemp -d /tmp/sightflow-bus-bench.XXXXXX)"
cd "$WORK"  # capture's --spill-dir and anything else relative lands here, not in the repository

# A private redis-server on a free port. Throughput runs: no AOF and no RDB snapshots, so the numbers are
# the bus and not the disk (a snapshot of ~90 MB of frames mid-run would fork and write).
PORT="$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
redis-server --bind 127.0.0.1 --port "$PORT" --dir "$WORK" --appendonly no --save "" --daemonize no \
  --logfile "$WORK/redis.log" &
REDIS_PID=$!
trap 'kill $REDIS_PID 2>/dev/null; wait $REDIS_PID 2>/dev/null; cd /; rm -rf "$WORK"' EXIT
rcli() { redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }
for _ in $(seq 1 100); do
  [[ "$(rcli ping 2>/dev/null)" == PONG ]] && break
  sleep 0.1
done
[[ "$(rcli ping 2>/dev/null)" == PONG ]] || { cat "$WORK/redis.log" >&2; die "redis-server did not start"; }
URL="redis://127.0.0.1:$PORT"

now_ms() { date +%s%3N; }
json() { $PY -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

# xadd_case raw | xadd_case bus CONSUMERS: the pre-encoded frames, PASSES times over, by one raw client or
# through the bus code. Prints "frames seconds fps - -"; the raw case's decode + encode rate of those frames,
# measured before, goes to $WORK/encode.fps.
xadd_case() {
  local mode="$1" consumers=() line out="$WORK/xadd-$1.json"
  [[ "$mode" == bus ]] && consumers=(--consumers "$2")
  rcli flushall >/dev/null
  line="$(timeout "$CASE_LIMIT" "$XADD" --mode "$mode" "${consumers[@]}" --port "$PORT" --frames "$FRAMES" \
    --passes "$PASSES" 2>"$WORK/xadd.log")" || { cat "$WORK/xadd.log" >&2; die "xadd_bench --mode $mode failed"; }
  echo "$line" >"$out"
  [[ "$mode" == raw ]] && json "$out" decode_encode_fps >>"$WORK/encode.fps"
  echo "$(json "$out" frames) $(json "$out" seconds) $(json "$out" fps) - -"
}

# bus_case DETECTOR WORKERS: workers first, waiting on the group; then capture (offline: it never trims a
# frame no worker has read). With 0 workers, capture alone, timed to its last frame's entry (the producer's
# ceiling: offline capture only waits for consumers once 80% of --maxlen 10000 is unread). Prints "frames seconds fps capture_fps first_frame_fps": capture_fps is
# published over capture's own wall time, first_frame_fps counts from the first frame's entry in the
# stream to the last result (no process start, no opening of the video).
bus_case() {
  local detector="$1" workers="$2" pids=() i
  rcli flushall >/dev/null
  for i in $(seq 1 "$workers"); do
    timeout "$CASE_LIMIT" "$SF" worker --redis "$URL" --stream "$STREAM" --detector "$detector" \
      --consumer "w$i" --idle-exit "$IDLE_EXIT" --summary-json "$WORK/w$i.json" >"$WORK/w$i.log" 2>&1 &
    pids+=($!)
  done
  # Ready once every worker has read from the group (XREADGROUP registers its consumer), which is after its
  # model is loaded: model loading is not part of the throughput.
  for _ in $(seq 1 600); do
    (( workers == 0 )) && break
    [[ "$(rcli xinfo consumers "sf:frames:$STREAM" workers 2>/dev/null | grep -c '^name$')" == "$workers" ]] && break
    sleep 0.05
  done
  (( workers == 0 )) || [[ "$(rcli xinfo consumers "sf:frames:$STREAM" workers 2>/dev/null | grep -c '^name$')" == "$workers" ]] ||
    { cat "$WORK"/w*.log >&2; die "the workers did not start"; }

  local limit=() start
  (( FRAMES > 0 )) && limit=(--max-frames "$FRAMES")
  start="$(now_ms)"
  timeout "$CASE_LIMIT" "$SF" capture --redis "$URL" --stream "$STREAM" --source "$VIDEO" --mode offline \
    --quality 90 "${limit[@]}" --summary-json "$WORK/c.json" >"$WORK/c.log" 2>&1 ||
    { cat "$WORK/c.log" >&2; die "capture failed"; }
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { cat "$WORK/w$((i + 1)).log" >&2; die "worker w$((i + 1)) failed"; }
  done

  local first last processed=0 published
  first="$(rcli xrange "sf:frames:$STREAM" - + COUNT 1 | head -n 1)"
  last="$(rcli xrevrange "sf:$([[ $workers == 0 ]] && echo frames || echo results):$STREAM" + - COUNT 1 | head -n 1)"
  [[ "$first" =~ ^[0-9]+-[0-9]+$ && "$last" =~ ^[0-9]+-[0-9]+$ ]] || die "no frames or no results in the streams"
  published="$(json "$WORK/c.json" published)"
  (( workers == 0 )) && processed="$published"
  for i in $(seq 1 "$workers"); do processed=$((processed + $(json "$WORK/w$i.json" processed))); done
  [[ "$processed" == "$published" ]] || die "$published frames published but $processed processed"
  $PY -c "import sys; f, t0, t1, c, t = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]);
s = (t1 - t0) / 1000; print(f, '%.3f' % s, '%.1f' % (f / s), '%.1f' % c, '%.1f' % (f / (max(1, t1 - t) / 1000)))" \
    "$processed" "$start" "${last%-*}" "$(json "$WORK/c.json" fps)" "${first%-*}"
}

E2E="end-to-end incl. decode/encode:"
CASES=("raw XADD, 1 client" "bus transport, 1 consumer" "bus transport, 2 consumers"
  "$E2E capture alone, no worker" "$E2E capture → 1 worker, none" "$E2E capture → 2 workers, none"
  "$E2E capture → 1 worker, $DETECTOR")
run_case() {
  case "$1" in
    0) xadd_case raw ;;
    1) xadd_case bus 1 ;;
    2) xadd_case bus 2 ;;
    3) bus_case none 0 ;;
    4) bus_case none 1 ;;
    5) bus_case none 2 ;;
    6) bus_case "$DETECTOR" 1 ;;
  esac
}

# Interleaved repeats: slow drifts of the shared machine's load spread over all cases.
declare -A runs
for r in $(seq 1 "$REPEAT"); do
  for c in "${!CASES[@]}"; do
    echo "run $r/$REPEAT: ${CASES[$c]}" >&2
    runs[$c]+="$(run_case "$c")"$'\n'
  done
done

echo "# Bus benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)," \
  "$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/redis \1/p')"
echo
echo "vtest.avi 768x576, JPEG quality 90: $(json "$WORK/xadd-raw.json" video_bytes) bytes in" \
  "$(json "$WORK/xadd-raw.json" video_frames) frames; redis-server on 127.0.0.1 without persistence. Median of" \
  "$REPEAT runs, interleaved, FLUSHALL before each. The transport rows carry the same pre-encoded payloads as" \
  "the raw XADD row (sf::FramePublisher, and consumers doing a worker's XREADGROUP COUNT 4 + XACK without" \
  "decoding), so their ratio to it is the bus's own overhead, while the end-to-end rows include capture's" \
  "decode + JPEG encode and the worker's JPEG decode. Raw XADD and transport rows are timed over the frames" \
  "sent $PASSES times over ($PASSES × $(json "$WORK/xadd-raw.json" video_frames) messages, no untimed warm-up)," \
  "from the first XADD to the last XADD (raw) or XACK (transport). End-to-end rows: capture start to the last" \
  "result. × raw: frames/s over the raw XADD frames/s. From 1st frame: frames/s from the first frame's entry" \
  "to the last result. Capture: published over its own wall time. Decoding and JPEG-encoding alone, one" \
  "thread (xadd_bench, untimed part): $(sort -n "$WORK/encode.fps" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" \
  "frames/s."
echo
for c in "${!CASES[@]}"; do printf '%s\n' "${runs[$c]}"; done | $PY -c '
import statistics, sys
names = sys.argv[1:]
blocks = sys.stdin.read().split("\n\n")
rows = [[l.split() for l in b.strip().splitlines()] for b in blocks[:len(names)]]
def med(rs, i): return statistics.median(float(r[i]) for r in rs)
raw = med(rows[0], 2)
def opt(rs, i): return "—" if rs[0][i] == "-" else "%.0f" % med(rs, i)
print("| case | frames | seconds | frames/s | × raw | from 1st frame, frames/s | capture frames/s | runs (frames/s) |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
for name, rs in zip(names, rows):
    print("| %s | %s | %.3f | %.0f | %.2f | %s | %s | %s |" % (name, rs[0][0], med(rs, 1), med(rs, 2),
          med(rs, 2) / raw, opt(rs, 4), opt(rs, 3), ", ".join("%.0f" % float(r[2]) for r in rs)))
' "${CASES[@]}"
