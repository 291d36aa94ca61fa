#!/usr/bin/env bash
# Motion-aware inference (issue 7): detector x motion mode on vtest.avi against the PETS09-S2L1 ground
# truth (`sightflow eval --motion off|skip|roi`). Prints one Markdown table (bench/RESULTS.md holds one run).
#
#   bench/motion_bench.sh
#
# Environment:
#   BUILD_DIR         CMake build folder (default: build/)
#   SIGHTFLOW_MODELS  model files (default: ../shared/models)
#   BENCH_EVERY       eval every Nth frame (default 5: 2 fps of the 10 fps video, 159 frames)
#   BENCH_DETECTORS   detectors (default: "yolo-fastest-body yolox-nano")
#   BENCH_MODES       motion modes (default: "off skip roi")
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd "$ROOT/.." && pwd)/shared/models}"
EVERY="${BENCH_EVERY:-5}"
DETECTORS="${BENCH_DETECTORS:-yolo-fastest-body yolox-nano}"
MODES="${BENCH_MODES:-off skip roi}"
GT="$(cd "$ROOT/.." && pwd)/shared/eval/pets09-s2l1/gt.txt"
SF="$BUILD_DIR/sightflow"
PY=/usr/bin/python3

[[ -x "$SF" ]] || { echo "motion_bench.sh: build first (cmake --build $BUILD_DIR)" >&2; exit 1; }
[[ -r "$GT" ]] || { echo "motion_bench.sh: no ground truth at $GT" >&2; exit 1; }

echo "# Motion benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "\`sightflow eval --every $EVERY --iou 0.5 --motion MODE --json\` on vtest.avi, label person, input 320"
echo
echo "| detector | motion | precision | recall | recall_small | AP50 | frames_inferred | pixels_inferred (M) | fps |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for detector in $DETECTORS; do
  for mode in $MODES; do
    line="$("$SF" eval --gt "$GT" --detector "$detector" --every "$EVERY" --motion "$mode" --json | tail -n 1)"
    $PY - "$detector" "$mode" "$line" <<'PYEOF'
import json, sys
detector, mode, line = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.loads(line)
print(f"| {detector} | {mode} | {d['precision']:.3f} | {d['recall']:.3f} | {d['recall_small']:.3f} | "
      f"{d['ap50']:.3f} | {d['frames_inferred']}/{d['frames']} | {d['pixels_inferred'] / 1e6:.1f} | {d['fps']:.1f} |")
PYEOF
  done
done
