#!/usr/bin/env bash
# Results store (issue 5), in one run: results per second written (with their detections) to SQLite and to a
# private PostgreSQL server started here, and `sightflow run` with the store on against off, alternated.
# Prints Markdown tables (bench/RESULTS.md holds one run).
#
#   bench/store_bench.sh
#
# Environment:
#   BUILD_DIR         CMake build folder (default: build/)
#   SIGHTFLOW_MODELS  model files (default: ../shared/models)
#   BENCH_DETECTOR    detector for the pipeline comparison (default yolo-fastest-body)
#   BENCH_FRAMES      frames per pipeline run (default 300)
#   BENCH_PAIRS       off/on pairs (default 5)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd "$ROOT/.." && pwd)/shared/models}"
DETECTOR="${BENCH_DETECTOR:-yolo-fastest-body}"
FRAMES="${BENCH_FRAMES:-300}"
PAIRS="${BENCH_PAIRS:-5}"
VIDEO=/usr/share/doc/opencv-doc/examples/data/vtest.avi
SF="$BUILD_DIR/sightflow"
WRITE="$BUILD_DIR/bench/store_write_bench"
PY=/usr/bin/python3
WORK="$(mktemp -d /tmp/sightflow-store-bench.XXXXXX)"
chmod 755 "$WORK"

[[ -x "$SF" && -x "$WRITE" ]] || { echo "store_bench.sh: build first (cmake --build $BUILD_DIR)" >&2; exit 1; }

# A private PostgreSQL server on a free port (as the postgres account when run as root: initdb refuses root).
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
PORT="$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$WORK/pg"
[[ $(id -u) -eq 0 ]] && chown postgres "$WORK/pg"
as_pg "$PG_BIN/initdb" -D "$WORK/pg" -U sightflow --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
as_pg "$PG_BIN/postgres" -D "$WORK/pg" -h 127.0.0.1 -p "$PORT" -k "" -F >"$WORK/pg.log" 2>&1 &
PG_PID=$!
trap 'kill -INT $PG_PID 2>/dev/null; wait $PG_PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
  sleep 0.1
done
"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" || { echo "PostgreSQL did not start" >&2; cat "$WORK/pg.log" >&2; exit 1; }
PG_URL="postgresql://sightflow@127.0.0.1:$PORT/postgres"

# Each measurement starts from an empty database (a rerun would only skip duplicates).
drop_pg() { "$PG_BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U sightflow -d postgres \
  -c "DROP TABLE IF EXISTS streams, frames, results, detections, rollups, sightflow_schema CASCADE" >/dev/null 2>&1; }
field() { $PY -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }

echo "# Results store benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "## Results written per second (with their detections), batches of 256"
echo
echo "| store | results | boxes per result | seconds | results/s | detections/s |"
echo "|---|---:|---:|---:|---:|---:|"
for db in "$WORK/bench.db" "$PG_URL"; do
  for boxes in 0 6; do
    [[ "$db" == "$WORK/bench.db" ]] && rm -f "$WORK"/bench.db*
    [[ "$db" == "$PG_URL" ]] && drop_pg
    line="$("$WRITE" "$db" 20000 "$boxes" 256)"
    kind=$([[ "$db" == "$PG_URL" ]] && echo PostgreSQL || echo SQLite)
    echo "| $kind | 20000 | $boxes | $(echo "$line" | field seconds) | $(echo "$line" | field results_per_s) | $(echo "$line" | field detections_per_s) |"
  done
done
echo

echo "## \`sightflow run\` with the store on vs off ($DETECTOR, first $FRAMES frames of vtest.avi, offline)"
echo
echo "Alternated off/on, $PAIRS pairs; ratio = on / off runs per second of each pair."
echo
echo "| pair | off runs/s | SQLite on runs/s | ratio | PostgreSQL on runs/s | ratio |"
echo "|---:|---:|---:|---:|---:|---:|"
rate() { "$SF" run --source "$VIDEO" --detector "$DETECTOR" --max-frames "$FRAMES" --no-progress \
  --out "$WORK/r.jsonl" --summary-json "$WORK/s.json" "$@" >/dev/null 2>&1
  $PY -c "import json; d=json.load(open('$WORK/s.json')); print('%.2f' % (d['streams']['vtest']['algorithms']['$DETECTOR']['runs'] / d['wall_seconds']))"; }
ratios_sqlite=(); ratios_pg=()
for i in $(seq 1 "$PAIRS"); do
  rm -f "$WORK"/run.db*
  drop_pg
  off="$(rate)"
  on="$(rate --db "$WORK/run.db")"
  pg="$(rate --db "$PG_URL")"
  rs="$($PY -c "print('%.3f' % ($on / $off))")"
  rp="$($PY -c "print('%.3f' % ($pg / $off))")"
  ratios_sqlite+=("$rs"); ratios_pg+=("$rp")
  echo "| $i | $off | $on | $rs | $pg | $rp |"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "Median ratio: SQLite $(median "${ratios_sqlite[@]}"), PostgreSQL $(median "${ratios_pg[@]}")."
