#!/usr/bin/env bash
# The main job on its embedded default: vtest.avi (opencv-doc), the built-in HOG people detector,
# results and an annotated video in ./sightflow-out. Extra arguments go to `sightflow run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
exec build/sightflow run "$@"
