PY ?= .venv/bin/python
PYTEST ?= .venv/bin/pytest

.PHONY: test stress

test:
	$(PYTEST) -q -x

# The long trials of the crash harness (>= 50 SIGKILLs x 200 files) and the fault tests.
stress:
	LOCKER_STRESS=1 $(PYTEST) -q -s tests/test_crash.py tests/test_faults.py
