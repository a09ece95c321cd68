"""House rules a machine can check: ruff's rules, and no print() in the core (T20)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is part of the test extra: pip install -e '.[test]'"
    proc = subprocess.run([ruff, "check", "locker", "tests", "examples", "benchmarks"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_core_never_imports_the_cli_toolkit() -> None:
    offenders = []
    for path in (REPO / "locker").rglob("*.py"):
        if path.name in ("cli.py", "render.py", "__main__.py"):
            continue
        text = path.read_text(encoding="utf-8")
        if "import typer" in text or "import rich" in text or "from rich" in text:
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
