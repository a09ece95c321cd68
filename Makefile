PY ?= .venv/bin/python
PYTEST ?= .venv/bin/pytest

.PHONY: test quick stress latest lock

# The whole suite on every CPU (pytest-xdist), as .ci/run runs it.
test:
	bash scripts/test.sh

# The inner loop: everything but the long trials marked slow.
quick:
	bash scripts/test.sh -m "not slow"

# The long versions of the issue #6 trials: SIGKILLs of add (>= 50 x 200 files), export and
# search (>= 50 each), the concurrency scenario (4 adders x 100 files, an exporter, searchers)
# five times over, the fault tests, 400 random tamper edits and ten times the fuzz examples.
STRESS_TESTS = tests/test_crash.py tests/test_faults.py tests/test_enospc.py tests/test_concurrency.py \
	tests/test_crash_export_search.py tests/test_tamper.py tests/test_fuzz_media.py

stress:
	LOCKER_STRESS=1 $(PYTEST) -q -s $(STRESS_TESTS)

# The suite against the newest releases pyproject.toml allows (constraints.txt ignored).
latest:
	bash scripts/test-latest.sh

# Rewrite constraints.txt with the newest releases that fit pyproject.toml.
lock:
	bash scripts/lock.sh
