#!/usr/bin/env bash
# HOG people detector, offline: sightflow against a plain sequential OpenCV loop and against FFmpeg's
# decode rate, on the same video, in one run. Prints a Markdown report (bench/RESULTS.md holds one).
#
#   bench/run_bench.sh                          # all 795 frames of vtest.avi, once each
#   BENCH_FRAMES=50 BENCH_REPEAT=3 bench/run_bench.sh
#
# Environment:
#   BENCH_VIDEO   video file (default: OpenCV's vtest.avi)
#   BENCH_FRAMES  only the first N frames (default 0: all)
#   BENCH_REPEAT  runs of each measurement, interleaved; the median is reported (default 1)
#   BENCH_QUEUE   1: also run the queue micro-benchmark (default 1)
#   BUILD_DIR     CMake build folder (default: build/ in the repository)
#   BENCH_WORK    folder for raw outputs (default: a new folder under /tmp, kept)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
VIDEO="${BENCH_VIDEO:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}"
FRAMES="${BENCH_FRAMES:-0}"
REPEAT="${BENCH_REPEAT:-1}"
QUEUE="${BENCH_QUEUE:-1}"
WORK="${BENCH_WORK:-$(mktemp -d /tmp/sightflow-bench.XXXXXX)}"
PY=/usr/bin/python3

die() { echo "run_bench.sh: $*" >&2; exit 1; }
[[ "$FRAMES" =~ ^[0-9]+$ ]] || die "BENCH_FRAMES must be a whole number"
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be at least 1"
[[ -r "$VIDEO" ]] || die "cannot read $VIDEO"
command -v ffmpeg >/dev/null || die "ffmpeg not found"
mkdir -p "$WORK"

# (a) Build Release if needed (configure only when there is no Release cache; the build is incremental).
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)"
if [[ "$build_type" != "Release" ]] || ! grep -q '^SIGHTFLOW_BENCH:BOOL=ON' "$BUILD_DIR/CMakeCache.txt"; then
  echo "configuring $BUILD_DIR (Release)" >&2
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSIGHTFLOW_BENCH=ON -DSIGHTFLOW_SANITIZE=OFF >&2
fi
targets=(sightflow plain_hog_loop)
[[ "$QUEUE" == 1 ]] && targets+=(queue_bench)
cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${targets[@]}" >&2
SIGHTFLOW="$BUILD_DIR/sightflow"
PLAIN="$BUILD_DIR/bench/plain_hog_loop"

# Commands, as printed in the report. Each measurement writes "frames seconds detections" to stdout;
# timed() records the process's CPU time (user + sys): less sensitive to other load than wall time.
ffmpeg_limit=(); sightflow_limit=()
if (( FRAMES > 0 )); then ffmpeg_limit=(-frames:v "$FRAMES"); sightflow_limit=(--max-frames "$FRAMES"); fi
ffmpeg_cmd=(ffmpeg -hide_banner -nostdin -benchmark -i "$VIDEO" "${ffmpeg_limit[@]}" -f null -)
plain_cmd=("$PLAIN" "$VIDEO" "$FRAMES")
sightflow_cmd=("$SIGHTFLOW" run --source "$VIDEO" --detector hog --mode offline "${sightflow_limit[@]}"
               --out "$WORK/sightflow.jsonl" --summary-json "$WORK/sightflow-summary.json" --no-progress)

timed() {  # timed NAME CMD...: runs CMD, CPU seconds into $WORK/NAME.cpu
  local name="$1"; shift
  /usr/bin/time -f "%U %S" -o "$WORK/$name.time" "$@" || return
  awk '{ printf "%.2f\n", $1 + $2 }' "$WORK/$name.time" >"$WORK/$name.cpu"
}

measure_ffmpeg() {  # frames from the last progress line, seconds = the -benchmark wall time (rtime)
  timed ffmpeg "${ffmpeg_cmd[@]}" 2>"$WORK/ffmpeg.log" >/dev/null
  local frames seconds
  frames="$(tr '\r' '\n' <"$WORK/ffmpeg.log" | sed -n 's/^frame= *\([0-9][0-9]*\).*/\1/p' | tail -n1)"
  seconds="$(sed -n 's/^bench: .*rtime=\([0-9.]*\)s.*/\1/p' "$WORK/ffmpeg.log" | tail -n1)"
  [[ -n "$frames" && -n "$seconds" ]] || die "cannot parse $WORK/ffmpeg.log"
  echo "$frames $seconds -"
}

measure_plain() {
  timed plain "${plain_cmd[@]}" >"$WORK/plain.json" 2>"$WORK/plain.log" || die "plain_hog_loop failed (see $WORK/plain.log)"
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["frames"], d["seconds"], d["detections"])' \
    "$WORK/plain.json"
}

measure_sightflow() {  # frames_read / wall_seconds; detections from the summary, checked against the JSONL
  timed sightflow "${sightflow_cmd[@]}" >"$WORK/sightflow.log" 2>&1 || die "sightflow failed (see $WORK/sightflow.log)"
  "$PY" - "$WORK/sightflow-summary.json" "$WORK/sightflow.jsonl" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
streams = list(s["streams"].values())
frames = sum(st["frames_read"] for st in streams)
summary_dets = sum(a.get("detections", 0) for st in streams for a in st["algorithms"].values())
jsonl_dets = 0
with open(sys.argv[2]) as f:
    for line in f:
        if line.strip():
            jsonl_dets += len(json.loads(line).get("detections", []))
if jsonl_dets != summary_dets:
    print(f"warning: summary says {summary_dets} detections, JSONL has {jsonl_dets}", file=sys.stderr)
print(frames, s["wall_seconds"], jsonl_dets)
EOF
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

load_before="$(load)"
started="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
: >"$WORK/runs.txt"
for (( r = 1; r <= REPEAT; r++ )); do
  for what in ffmpeg plain sightflow; do
    echo "run $r/$REPEAT: $what" >&2
    load1="$(cut -d' ' -f1 /proc/loadavg)"
    result="$(measure_$what)"
    echo "$what $result $(cat "$WORK/$what.cpu") $load1" | tee -a "$WORK/runs.txt" >&2
  done
done
load_after="$(load)"

queue_out=""
if [[ "$QUEUE" == 1 ]]; then
  echo "queue micro-benchmark" >&2
  queue_out="$("$BUILD_DIR/bench/queue_bench" --benchmark_min_time=0.2 2>&1)"
fi

# Report.
q() { printf '%q ' "$@" | sed 's/ $//'; }
echo "## HOG people detector, offline, $(basename "$VIDEO")"
echo
echo "- date: $started"
echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(uname -srm)"
echo "- OpenCV $(pkg-config --modversion opencv4 2>/dev/null || echo '?'), $(ffmpeg -hide_banner -version | head -n1)"
echo "- frames: $( (( FRAMES > 0 )) && echo "first $FRAMES" || echo all), repeats: $REPEAT (median shown; runs interleaved)"
echo "- load average (1, 5, 15 min): before $load_before, after $load_after"
echo "- commands:"
echo "  - ffmpeg: \`$(q "${ffmpeg_cmd[@]}")\`"
echo "  - plain loop: \`$(q "${plain_cmd[@]}")\`"
echo "  - sightflow: \`$(q "${sightflow_cmd[@]}")\`"
echo
"$PY" - "$WORK/runs.txt" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    what, frames, seconds, dets, cpu, load1 = line.split()
    runs.setdefault(what, []).append((int(frames), float(seconds), dets, float(cpu), load1))
names = {"ffmpeg": "FFmpeg decode only", "plain": "plain OpenCV loop (decode + HOG)",
         "sightflow": "sightflow run, offline (decode + HOG)"}
med = {}
for what, rs in runs.items():
    frames = rs[0][0]
    seconds = statistics.median(r[1] for r in rs)
    med[what] = (frames, seconds, frames / seconds if seconds > 0 else 0.0, rs)
plain_fps = med["plain"][2]
print("| what | frames | seconds | fps | ratio to plain loop |")
print("|---|---:|---:|---:|---:|")
for what in ("ffmpeg", "plain", "sightflow"):
    frames, seconds, fps, rs = med[what]
    spread = "" if len(rs) == 1 else f" (runs: {', '.join(f'{r[1]:.2f}' for r in rs)})"
    print(f"| {names[what]} | {frames} | {seconds:.2f}{spread} | {fps:.2f} | {fps / plain_fps:.2f}x |")
print()
print("CPU time of each process (user + sys, median) and the 1-minute load average when each run started. Both HOG")
print("runs should cost about the same CPU per frame. CPU time is less sensitive to other load than wall time, but it")
print("grows too when the cores are oversubscribed (OpenCV's TBB workers spin while they wait, caches are shared):")
print("a load average above the number of CPUs means the numbers are noisy.")
print()
print("| what | CPU seconds | CPU ms/frame | load at start of each run |")
print("|---|---:|---:|---|")
for what in ("ffmpeg", "plain", "sightflow"):
    frames, _, _, rs = med[what]
    cpu = statistics.median(r[3] for r in rs)
    print(f"| {names[what]} | {cpu:.2f} | {1000 * cpu / frames:.1f} | {', '.join(r[4] for r in rs)} |")
print()
pd = {r[2] for r in med["plain"][3]}
sd = {r[2] for r in med["sightflow"][3]}
print(f"Detections (total boxes): plain loop {', '.join(sorted(pd))}; sightflow {', '.join(sorted(sd))}"
      + (" (equal)" if pd == sd else " (DIFFERENT)"))
if med["plain"][0] != med["sightflow"][0]:
    print(f"\nFrames differ: plain loop {med['plain'][0]}, sightflow {med['sightflow'][0]}")
EOF
if [[ -n "$queue_out" ]]; then
  echo
  echo "## BoundedQueue micro-benchmark (1 producer, 1 consumer, 100000 int64 items per iteration)"
  echo
  echo "\`$(q "$BUILD_DIR/bench/queue_bench" --benchmark_min_time=0.2)\`"
  echo
  echo '```'
  echo "$queue_out"
  echo '```'
fi
echo
echo "raw outputs: $WORK" >&2
