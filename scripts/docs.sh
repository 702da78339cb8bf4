#!/usr/bin/env bash
# Build the documentation site into site/ (sets up .venv first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/python -m pip install -q -e ".[docs]"
.venv/bin/python -m mkdocs build --strict "$@"
