#!/usr/bin/env bash
# The main job on its embedded default: vtest.avi (opencv-doc), the built-in HOG people detector, results
# in ./sightflow-out (JSON Lines, the SQLite store, an annotated video), and the web UI (dashboard, live
# video, API, /metrics) on http://127.0.0.1:${SIGHTFLOW_PORT:-8090}/, served until Ctrl-C. Extra arguments
# go to `sightflow run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
exec build/sightflow run --serve "127.0.0.1:${SIGHTFLOW_PORT:-8090}" "$@"
