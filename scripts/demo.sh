#!/usr/bin/env bash
# The main job (sets up .venv first). Extra arguments go to `skmm demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/python -m skmm demo "$@"
