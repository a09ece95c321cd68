#!/usr/bin/env bash
# Run the test suite (setting up first, if needed), on all CPUs with pytest-xdist.
#   bash scripts/test.sh                  # everything (what .ci/run runs)
#   bash scripts/test.sh -m "not slow"    # the inner loop: leaves out the long trials
#   bash scripts/test.sh -k verify        # any pytest arguments pass through; -n 0 runs serially
# LOCKER_TEST_WORKERS sets the number of worker processes (default: one per CPU, and one more).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Let Python keep compiled bytecode (__pycache__, git-ignored) even where the environment says not to:
# with PYTHONDONTWRITEBYTECODE set, every worker re-does pytest's assertion rewriting of all test modules
# (~3.5 s of collection each) and every `python -m locker` a test starts compiles the locker package
# again (~0.1 s for an export). tests/test_home_only.py sets it again for the runs it traces.
unset PYTHONDONTWRITEBYTECODE
# One worker more than there are CPUs: a tenth of the suite's time the workers wait (on the child
# processes they start, on fsync, on servers starting and stopping), and a third worker fills those
# gaps. The whole suite on the 2-core VM (2026-12-06): 2 workers 224, 228, 238 s; 3 workers 216,
# 199 s; 4 workers 227 s (benchmarks/README.md, session 12).
workers="${LOCKER_TEST_WORKERS:-$(( $(nproc) + 1 ))}"
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "$workers" --dist worksteal "$@"
