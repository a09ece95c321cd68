#!/usr/bin/env bash
# The sample dispute, end to end (run scripts/demo.sh for set-up first).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python examples/run_demo.py
