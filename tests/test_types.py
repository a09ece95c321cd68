"""mypy over locker/ (the configuration is in pyproject.toml: strict on the core), as part of the suite,
so that `.ci/run` fails when the types do not hold."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_mypy_passes() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=REPO, capture_output=True,
                          text=True)
    assert "No module named mypy" not in proc.stderr, "mypy is part of the test extra: pip install -e '.[test]'"
    assert proc.returncode == 0, proc.stdout + proc.stderr
