#!/usr/bin/env bash
# Soak: one long `sightflow run --serve --loop --mode realtime` on vtest.avi with the built-in HOG
# detector while MJPEG viewers watch it (curl), a client polls /api/streams, /api/counts and /metrics, and a
# stream is started and stopped through POST/DELETE /api/streams over and over (names reused and new).
# Every SOAK_INTERVAL seconds it samples the process's RSS and threads (/proc/PID/status) and open file
# descriptors (/proc/PID/fd). Prints the table (time, rss_mb, threads, fds), first/last/max of each, what
# the clients did, and a verdict per figure: flat when the mean of the last quarter of the samples is
# within SOAK_MARGIN percent (and at least one unit: 1 MB, 1 thread, 1 fd) of the second quarter's mean
# (the first quarter is warm-up). Exit status 0 when all three are flat, 1 when one grows, 2 on failure.
#
# RSS rises fast over the first minutes while the heap fills with frames; give it the hour. Runs 1 and 2
# of 2026-12-06 read "grows" (ended streams kept a decoded frame each); run 3 reads "flat" (bench/RESULTS.md
# "Soak").
#
#   DURATION=3600 bench/soak.sh
#
# Environment:
#   DURATION          seconds of load (default 3600)
#   SOAK_INTERVAL     seconds between samples (default: DURATION/60, between 2 and 30)
#   SOAK_VIEWERS      MJPEG viewers of the run's stream (default 3)
#   SOAK_CYCLE        seconds per API stream cycle: started, runs half of it, stopped (default 10)
#   SOAK_MARGIN       percent for the verdict (default 5)
#   BUILD_DIR         CMake build folder (default: build/)
#   SIGHTFLOW_MODELS  model files (default: ../shared/models)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd "$ROOT/.." && pwd)/shared/models}"
DURATION="${DURATION:-3600}"
INTERVAL="${SOAK_INTERVAL:-$(( DURATION / 60 < 2 ? 2 : (DURATION / 60 > 30 ? 30 : DURATION / 60) ))}"
VIEWERS="${SOAK_VIEWERS:-3}"
CYCLE="${SOAK_CYCLE:-10}"
MARGIN="${SOAK_MARGIN:-5}"
VIDEO=/usr/share/doc/opencv-doc/examples/data/vtest.avi
TOKEN=soak
SF="$BUILD_DIR/sightflow"
PY=/usr/bin/python3
WORK="$(mktemp -d /tmp/sightflow-soak.XXXXXX)"
declare -a helpers=()
SF_PID=""

cleanup() {
  for pid in "${helpers[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -n "$SF_PID" ]] && kill "$SF_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[[ -x "$SF" ]] || { echo "soak.sh: build first (cmake --build $BUILD_DIR)" >&2; exit 2; }
[[ -r "$VIDEO" ]] || { echo "soak.sh: needs $VIDEO (opencv-doc)" >&2; exit 2; }
command -v curl >/dev/null || { echo "soak.sh: needs curl" >&2; exit 2; }

PORT="$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"

"$SF" run --source "$VIDEO" --detector hog --loop --mode realtime --no-progress --out "$WORK/results.jsonl" \
  --serve "127.0.0.1:$PORT" --token "$TOKEN" --allow-source-dir "$(dirname "$VIDEO")" 2>"$WORK/run.log" &
SF_PID=$!
for _ in $(seq 600); do curl -sf "$URL/api/streams" >/dev/null && break; sleep 0.1; done
curl -sf "$URL/api/streams" >/dev/null || { echo "soak.sh: the server did not come up:" >&2; cat "$WORK/run.log" >&2; exit 2; }
END=$(( $(date +%s) + DURATION ))

# MJPEG viewers for the whole run; one that drops is counted and replaced.
viewer() {
  while (( $(date +%s) < END )); do
    curl -s -N --max-time $(( END - $(date +%s) + 1 )) -o /dev/null "$URL/video/vtest" || true
    (( $(date +%s) < END )) && echo x >>"$WORK/viewer-drops"
  done
}
for _ in $(seq "$VIEWERS"); do viewer & helpers+=($!); done

# API polling: streams every second, counts and metrics; failures counted.
poller() {
  while (( $(date +%s) < END )); do
    for path in /api/streams "/api/counts?stream=vtest" /metrics; do
      curl -sf --max-time 10 -o /dev/null "$URL$path" && echo x >>"$WORK/polls" || echo "$path" >>"$WORK/poll-errors"
    done
    sleep 1
  done
}
poller & helpers+=($!)

# Stream cycles through the API: started, left running half a cycle, stopped, waited for "stopped".
cycler() {
  local i=0 name body state
  while (( $(date +%s) + CYCLE < END )); do
    name="soak-$(( i % 4 == 3 ? i : i % 2 ))"  # mostly reused names, now and then a new one
    body="{\"name\":\"$name\",\"source\":\"$VIDEO\",\"detector\":\"hog\",\"mode\":\"realtime\",\"loop\":true,\"frame_step\":5}"
    if [[ "$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
          -H 'Content-Type: application/json' -d "$body" "$URL/api/streams")" == 201 ]]; then
      sleep $(( CYCLE / 2 ))
      curl -s --max-time 30 -o /dev/null -X DELETE -H "Authorization: Bearer $TOKEN" "$URL/api/streams/$name" || true
      for _ in $(seq 300); do
        state="$(curl -s --max-time 10 "$URL/api/streams/$name" | $PY -c 'import json,sys; print(json.load(sys.stdin).get("state",""))' 2>/dev/null || true)"
        [[ "$state" == stopped ]] && break
        sleep 0.1
      done
      [[ "$state" == stopped ]] && echo x >>"$WORK/cycles" || echo "$name: $state" >>"$WORK/cycle-errors"
    else
      echo "$name: not started" >>"$WORK/cycle-errors"
    fi
    i=$(( i + 1 ))
    sleep $(( CYCLE - CYCLE / 2 ))
  done
}
cycler & helpers+=($!)

# Samples until the end (or until the process dies).
START=$(date +%s)
printf 't\trss_mb\tthreads\tfds\n' >"$WORK/samples.tsv"
while (( $(date +%s) < END )); do
  [[ -r /proc/$SF_PID/status ]] || { echo "soak.sh: sightflow exited early:" >&2; tail -20 "$WORK/run.log" >&2; exit 2; }
  rss_mb=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$SF_PID/status")
  threads=$(awk '/^Threads:/ {print $2}' "/proc/$SF_PID/status")
  fds=$(ls "/proc/$SF_PID/fd" | wc -l)
  printf '%d\t%s\t%d\t%d\n' $(( $(date +%s) - START )) "$rss_mb" "$threads" "$fds" >>"$WORK/samples.tsv"
  sleep "$INTERVAL"
done
for pid in "${helpers[@]}"; do wait "$pid" 2>/dev/null || true; done
helpers=()
kill -INT "$SF_PID"
wait "$SF_PID" || true
SF_PID=""

count() { [[ -f "$1" ]] && wc -l <"$1" || echo 0; }
$PY - "$WORK/samples.tsv" "$MARGIN" "$DURATION" "$INTERVAL" "$VIEWERS" "$(count "$WORK/viewer-drops")" \
  "$(count "$WORK/polls")" "$(count "$WORK/poll-errors")" "$(count "$WORK/cycles")" \
  "$(count "$WORK/cycle-errors")" <<'PYEOF'
import sys
path, margin, duration, interval, viewers, drops, polls, poll_errors, cycles, cycle_errors = sys.argv[1:]
margin = float(margin)
rows = [line.split("\t") for line in open(path).read().splitlines()[1:]]
rows = [(int(t), float(r), int(th), int(f)) for t, r, th, f in rows]
print(f"soak: {duration} s, a sample every {interval} s; {viewers} MJPEG viewers ({drops} reconnects), "
      f"{polls} API/metrics polls ({poll_errors} failed), {cycles} stream start/stop cycles ({cycle_errors} failed)")
print()
print("| t (s) | rss_mb | threads | fds |")
print("|---:|---:|---:|---:|")
for t, r, th, f in rows:
    print(f"| {t} | {r:.1f} | {th} | {f} |")
print()
if len(rows) < 8:
    print("too few samples for a verdict (give a longer DURATION or a shorter SOAK_INTERVAL)")
    sys.exit(2)
q = len(rows) // 4
flat = True
print(f"| figure | first | last | max | mean of 2nd quarter | mean of last quarter | verdict (±{margin:g} %) |")
print("|---|---:|---:|---:|---:|---:|---|")
for i, (name, unit) in enumerate([("rss_mb", 1.0), ("threads", 1.0), ("fds", 1.0)], start=1):
    values = [row[i] for row in rows]
    second = sum(values[q:2 * q]) / q
    last = sum(values[-q:]) / q
    allowed = max(second * margin / 100, unit)
    ok = last - second <= allowed
    flat = flat and ok
    print(f"| {name} | {values[0]:g} | {values[-1]:g} | {max(values):g} | {second:.1f} | {last:.1f} | "
          f"{'flat' if ok else 'GROWS'} |")
print()
print("verdict:", "flat" if flat else "grows")
sys.exit(0 if flat and poll_errors == "0" and cycle_errors == "0" else 1)
PYEOF
