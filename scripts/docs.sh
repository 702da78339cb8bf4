#!/usr/bin/env bash
# Build the documentation site into site/ (sets up .venv first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/python -m pip install -q -e ".[docs]"
# the contact sheets on docs/datasets.md are generated, never committed
for name in emoji tuxpaint multiple_features; do
  .venv/bin/python -m skmm.datasets fetch "$name" --quiet
done
.venv/bin/python docs/scripts/make_contact_sheets.py
.venv/bin/python -m mkdocs build --strict "$@"
