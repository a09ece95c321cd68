#!/usr/bin/env bash
# Run the test suite (setting up first, if needed), on all CPUs with pytest-xdist.
#   bash scripts/test.sh                  # everything (what .ci/run runs)
#   bash scripts/test.sh -m "not slow"    # the inner loop: leaves out the long trials
#   bash scripts/test.sh -k verify        # any pytest arguments pass through; -n 0 runs serially
# LOCKER_TEST_WORKERS sets the number of worker processes (default: auto, one per CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "${LOCKER_TEST_WORKERS:-auto}" --dist worksteal "$@"
