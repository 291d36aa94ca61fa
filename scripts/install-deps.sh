#!/usr/bin/env bash
# Installs the Debian 12 packages sightflow needs to build, run and test; does nothing if all are present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format
  libopencv-dev opencv-data opencv-doc
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libavdevice-dev ffmpeg
  nlohmann-json3-dev libcli11-dev libspdlog-dev libyaml-cpp-dev libturbojpeg0-dev
  libpng-dev libwebp-dev libtiff-dev
  libsqlite3-dev libpq-dev postgresql
  libhiredis-dev redis-server libcpp-httplib-dev libcurl4-openssl-dev
  libmosquitto-dev mosquitto mosquitto-clients
  libgtest-dev libbenchmark-dev libssl-dev prometheus-cpp-dev
  prometheus chromium tmux
  curl python3-requests python3-opencv  # TorchServe's documented commands and its example client, in tests
  clang-14 libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer, ASan+UBSan
  libtorch-dev  # src/train: catalog models in libtorch (PyTorch 1.13's C++ API); optional to build, CI runs its tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
if [ ${#missing[@]} -ne 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The dashboard test drives Debian's chromium with playwright-core (npm, pinned by tests/web/package-lock.json).
if ! command -v npm >/dev/null; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends nodejs npm
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$root/tests/web/package-lock.json" ] && [ ! -d "$root/tests/web/node_modules/playwright-core" ]; then
  (cd "$root/tests/web" && npm ci --no-audit --no-fund --loglevel=error)
fi
