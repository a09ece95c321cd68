PY ?= .venv/bin/python
PYTEST ?= .venv/bin/pytest

.PHONY: test stress

test:
	$(PYTEST) -q -x

# The long trials of the crash harness (>= 50 SIGKILLs x 200 files), the fault tests, and the
# issue #6 concurrency scenario (4 adders x 100 files, an exporter, a searcher) five times over.
stress:
	LOCKER_STRESS=1 $(PYTEST) -q -s tests/test_crash.py tests/test_faults.py tests/test_concurrency.py tests/test_crash_export_search.py
