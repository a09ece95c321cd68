#!/usr/bin/env bash
# Set everything up, then run the sample dispute of examples/ end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bash examples/demo.sh
