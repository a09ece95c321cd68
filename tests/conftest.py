"""Every test gets its own locker home; CLI helpers call the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "home"
    monkeypatch.setenv("LOCKER_HOME", str(root))
    monkeypatch.setenv("TZ", "UTC")
    return root


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def json(self):  # noqa: ANN201
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # noqa: ANN201
    """Run ``locker ARGS…`` in this process through ``locker.cli.main``."""
    from locker.cli import main

    def run(*args: object) -> Ran:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


def run_locker(*args: object, home: Path, check: bool = False, **kw) -> subprocess.CompletedProcess[str]:  # noqa: ANN003
    """Run the installed ``python -m locker`` in a child process."""
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    proc = subprocess.run([sys.executable, "-m", "locker", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=REPO, **kw)
    if check and proc.returncode:
        raise AssertionError(f"locker {args} failed: {proc.stderr}")
    return proc


@pytest.fixture
def dispute(cli) -> str:  # noqa: ANN001
    ran = cli("new", "小红书无线耳机退款", "--platform", "xiaohongshu", "--merchant", "优品数码旗舰店",
              "--order-id", "250501123456789", "--amount", "199.00", "--purchased-on", "2025-05-01",
              "--slug", "earbuds", "--json")
    assert ran.code == 0, ran.err
    return ran.json["slug"]
