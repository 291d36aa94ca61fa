#!/usr/bin/env bash
# Fine-tuning on the camera's own frames (issue 18): capture + `tune --finetune` on frames 0-399 of
# vtest.avi (labels from the reference model, never from ground truth), then the untuned and the tuned
# model scored on frames 400-794 with `sightflow eval` against PETS09-S2L1's gt.txt, and the tuned model
# again with per-class thresholds from `sightflow tune` on the same dataset. Prints one Markdown table with
# the capture and training times (bench/RESULTS.md holds the runs).
#
#   bench/finetune_bench.sh
#
# Environment:
#   BUILD_DIR           CMake build folder (default: build/; built with SIGHTFLOW_TORCH)
#   SIGHTFLOW_MODELS    model files (default: ../shared/models)
#   BENCH_MODELS        edge models to tune (default: yolo-fastest-body)
#   BENCH_REFERENCE     reference model and its capture options (default: "yolox-nano --param input=800
#                       --param tta=mirror --track", docs/TUNE.md; bench/RESULTS.md also has
#                       "yolox-nano --param input=640" and "yolox-nano --param input=800 --track")
#   BENCH_CAPTURE_EVERY keep every Nth of frames 0-399 (default 1: 400 images)
#   BENCH_TRAIN_FRAMES  frames captured from the start (default 400)
#   BENCH_EPOCHS        most epochs (default 30); BENCH_MAX_MINUTES time budget (default 15)
#   BENCH_THREADS       threads for capture, training and eval (default: nproc)
#   BENCH_TUNE_ARGS     more `tune --finetune` options (e.g. "--freeze 20 --seed 3")
#   BENCH_EVAL_FRAMES   frames scored after the training part (default: all the rest, 395)
#   BENCH_KEEP          a folder to keep the dataset and tuned models in (default: a temporary one)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
export SIGHTFLOW_MODELS="${SIGHTFLOW_MODELS:-$(cd "$ROOT/.." && pwd)/shared/models}"
MODELS="${BENCH_MODELS:-yolo-fastest-body}"
REFERENCE="${BENCH_REFERENCE:-yolox-nano --param input=800 --param tta=mirror --track}"
EVERY="${BENCH_CAPTURE_EVERY:-1}"
TRAIN_FRAMES="${BENCH_TRAIN_FRAMES:-400}"
EPOCHS="${BENCH_EPOCHS:-30}"
MAX_MINUTES="${BENCH_MAX_MINUTES:-15}"
THREADS="${BENCH_THREADS:-$(nproc)}"
EVAL_FRAMES="${BENCH_EVAL_FRAMES:-}"
VIDEO=/usr/share/doc/opencv-doc/examples/data/vtest.avi
GT="$(cd "$ROOT/.." && pwd)/shared/eval/pets09-s2l1/gt.txt"
SF="$BUILD_DIR/sightflow"
PY=/usr/bin/python3

[[ -x "$SF" ]] || { echo "finetune_bench.sh: build first (cmake --build $BUILD_DIR)" >&2; exit 1; }
[[ -r "$BUILD_DIR/libsightflow_finetune.so" ]] ||
  { echo "finetune_bench.sh: no $BUILD_DIR/libsightflow_finetune.so (build with -DSIGHTFLOW_TORCH=ON)" >&2; exit 1; }
[[ -r "$GT" ]] || { echo "finetune_bench.sh: no ground truth at $GT" >&2; exit 1; }
if [[ -n "${BENCH_KEEP:-}" ]]; then WORK="$BENCH_KEEP"; mkdir -p "$WORK"; else
  WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT; fi

# The scored part as a video of its own (lossless, so the pixels are the original's) and its ground truth
# with frames renumbered from 1.
ffmpeg -loglevel error -y -i "$VIDEO" -vf "select=gte(n\\,$TRAIN_FRAMES),setpts=N/FRAME_RATE/TB" -an \
  -c:v ffv1 "$WORK/heldout.mkv"
$PY - "$GT" "$TRAIN_FRAMES" "$WORK/heldout-gt.txt" <<'PYEOF'
import sys
gt, first, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(gt) as src, open(out, "w") as dst:
    for line in src:
        fields = line.strip().split(",")
        if len(fields) > 1 and int(fields[0]) > first:  # MOT frames are 1-based: frame f is video frame f-1
            fields[0] = str(int(fields[0]) - first)
            dst.write(",".join(fields) + "\n")
PYEOF
eval_args=(--source "$WORK/heldout.mkv" --gt "$WORK/heldout-gt.txt" --iou 0.5 --json)
[[ -n "$EVAL_FRAMES" ]] && eval_args+=(--max-frames "$EVAL_FRAMES")

start=$(date +%s.%N)
# shellcheck disable=SC2086  # REFERENCE holds the model and its flags
"$SF" --threads "$THREADS" dataset capture --source "$VIDEO" --max-frames "$TRAIN_FRAMES" --every "$EVERY" \
  --detector $REFERENCE --classes person --out "$WORK/dataset" >/dev/null
capture_s=$($PY -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$start" "$(date +%s.%N)")
images=$(find "$WORK/dataset/images" -name "*.jpg" | wc -l)

echo "# Fine-tuning benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Capture: \`dataset capture --detector $REFERENCE --every $EVERY\` on frames 0-$((TRAIN_FRAMES - 1)): $images images in ${capture_s} s."
echo "Tune: \`--threads $THREADS tune --finetune --epochs $EPOCHS --max-minutes $MAX_MINUTES ${BENCH_TUNE_ARGS:-}\`."
echo "Eval: \`sightflow eval\` on frames $TRAIN_FRAMES-794${EVAL_FRAMES:+ (the first $EVAL_FRAMES)} against gt.txt, IoU 0.5, person."
echo
echo "| model | weights | precision | recall | AP50 | eval fps | epochs (stopped) | training s |"
echo "|---|---|---:|---:|---:|---:|---|---:|"
for model in $MODELS; do
  untuned="$("$SF" --threads "$THREADS" eval "${eval_args[@]}" --detector "$model" | tail -n 1)"
  # shellcheck disable=SC2086
  "$SF" --threads "$THREADS" tune --finetune --dataset "$WORK/dataset" --detector "$model" --out "$WORK/$model" \
    --epochs "$EPOCHS" --max-minutes "$MAX_MINUTES" ${BENCH_TUNE_ARGS:-} >/dev/null
  tuned_model="$WORK/$model/$model-tuned.yaml"
  tuned="$("$SF" --threads "$THREADS" eval "${eval_args[@]}" --detector "$tuned_model" | tail -n 1)"
  # The flow's optional third step (docs/TUNE.md): per-class thresholds for the tuned model, picked on the
  # same captured dataset (the reference's boxes), applied with --profile.
  "$SF" --threads "$THREADS" tune --dataset "$WORK/dataset" --detector "$tuned_model" \
    --out "$WORK/$model/profile.json" >/dev/null
  profiled="$("$SF" --threads "$THREADS" eval "${eval_args[@]}" --detector "$tuned_model" \
    --profile "$WORK/$model/profile.json" | tail -n 1)"
  $PY - "$model" "$untuned" "$tuned" "$profiled" "$WORK/$model/finetune.json" <<'PYEOF'
import json, sys
untuned, tuned, profiled = (json.loads(a) for a in sys.argv[2:5])
model, record = sys.argv[1], json.load(open(sys.argv[5]))
def row(weights, d, epochs, seconds):
    print(f"| {model} | {weights} | {d['precision']:.3f} | {d['recall']:.3f} | {d['ap50']:.3f} | {d['fps']:.1f} | {epochs} | {seconds} |")
row("as shipped", untuned, "", "")
row("tuned", tuned, f"{len(record['epochs'])}, best {record['best_epoch']} ({record['stopped']})", f"{record['seconds']:.0f}")
row("tuned, with thresholds from `sightflow tune` (--profile)", profiled, "", "")
PYEOF
done
