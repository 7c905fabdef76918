#!/usr/bin/env bash
# The test command (README, CI): installs what the tests need, then lint, type check and the test suite.
# System packages come from Debian (real broker, serial ptys, RTSP server); Python packages into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  mosquitto mosquitto-clients socat mbpoll openssl
  opencv-doc darknet
  gstreamer1.0-tools gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

tools/venv.sh
PY=.venv/bin

echo "== ruff"; $PY/ruff check edge_agent tests bench tools && $PY/ruff format --check edge_agent tests bench tools
echo "== mypy"; $PY/mypy
echo "== pytest"; $PY/pytest -q -p no:cacheprovider "$@"
