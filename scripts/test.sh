#!/usr/bin/env bash
# Run the test suite (setting up first, if needed), on all CPUs with pytest-xdist.
#   bash scripts/test.sh                  # everything (what .ci/run runs)
#   bash scripts/test.sh -m "not slow"    # the inner loop: leaves out the long trials
#   bash scripts/test.sh -k verify        # any pytest arguments pass through; -n 0 runs serially
# LOCKER_TEST_WORKERS sets the number of worker processes (default: auto, one per CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Let Python keep compiled bytecode (__pycache__, git-ignored) even where the environment says not to:
# with PYTHONDONTWRITEBYTECODE set, every worker re-does pytest's assertion rewriting of all test modules
# (~3.5 s of collection each) and every `python -m locker` a test starts compiles the locker package
# again (~0.1 s for an export). tests/test_home_only.py sets it again for the runs it traces.
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "${LOCKER_TEST_WORKERS:-auto}" --dist worksteal "$@"
