"""Two `locker add` processes on one dispute at once: both succeed, numbers distinct and gap-free."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests import samples
from tests.conftest import REPO


def test_two_processes_adding_at_once(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    batches = []
    for b in range(2):
        folder = tmp_path / f"batch{b}"
        folder.mkdir()
        for i in range(20):
            samples.make_png(folder / f"{b}-{i:02}.png", 64, 128, seed=1000 * b + i)
        batches.append(folder)
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    # One file at a time, so that the two processes interleave their transactions.
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", "import sys; from locker.cli import main; "
             "rc = 0\nfor f in sorted(sys.argv[2:]):\n    rc |= main(['add', sys.argv[1], f, '--json'])\nsys.exit(rc)",
             dispute, *map(str, folder.iterdir())],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        for folder in batches
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "locked" not in err
    shown = cli("show", dispute, "--json").json
    numbers = sorted(e["exhibit"] for e in shown["exhibits"])
    assert numbers == list(range(1, 41))
    assert len({e["sha256"] for e in shown["exhibits"]}) == 40
    verified = cli("verify", dispute, "--json")
    assert verified.code == 0, json.dumps(verified.json, indent=1)
