"""Crash safety of ``locker add``: SIGKILL at random moments, then check that nothing is lost.

After each kill: ``verify`` passes (the only thing it may report is an ``object_orphaned``
warning: an object published whose transaction never committed); exhibit numbers are
1..N gap-free and every row has its object; the next ``add`` removes stale temp files;
re-running the same add completes and leaves the dispute fully verified.

CI runs a short version; ``LOCKER_STRESS=1`` (``make stress``) runs >= 50 trials x 200 files.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import samples
from tests.conftest import REPO

STRESS = os.environ.get("LOCKER_STRESS") == "1"
TRIALS = 50 if STRESS else 8
FILES = 200 if STRESS else 60
SEED = int(os.environ.get("LOCKER_CRASH_SEED", "20250501"))
MB = 1024 * 1024


def _make_corpus(folder: Path, count: int, seed: int) -> dict[str, str]:
    """Small PNGs and JPEGs of varied sizes, plus a few multi-MB files (one over the pipelined-copy size)."""
    rng = random.Random(seed)
    big = [2 * MB, 5 * MB, 9 * MB]
    for i in range(count - len(big)):
        w, h = rng.randint(16, 400), rng.randint(16, 700)
        if i % 2:
            samples.make_png(folder / f"shot_{i:04d}.png", w, h, seed=seed * 1000 + i)
        else:
            samples.make_jpeg(folder / f"photo_{i:04d}.jpg", w, h, seed=seed * 1000 + i)
    for j, size in enumerate(big):
        samples.make_random(folder / f"big_{j}.bin", size, seed=seed + j)
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _spawn_add(home: Path, slug: str, folder: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    return subprocess.Popen([sys.executable, "-m", "locker", "add", slug, str(folder), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def _rows(home: Path, slug: str) -> list[tuple[int, str]]:
    con = sqlite3.connect(home / "disputes" / slug / "dispute.sqlite")
    try:
        return con.execute("SELECT number, sha256 FROM exhibit ORDER BY number").fetchall()
    finally:
        con.close()


def _temps(home: Path, slug: str) -> list[Path]:
    return [p for p in (home / "disputes" / slug / "objects").rglob(".tmp-*")]


def _verify(cli, slug: str) -> tuple[bool, list[str]]:  # noqa: ANN001
    ran = cli("verify", slug, "--json")
    doc = ran.json
    assert (ran.code == 0) == doc["ok"]
    return doc["ok"], [p["problem"] for p in doc["disputes"][0]["problems"]]


def test_killed_add_loses_nothing(cli, home, tmp_path) -> None:  # noqa: ANN001
    folder = tmp_path / "phone"
    folder.mkdir()
    expected = _make_corpus(folder, FILES, SEED)
    rng = random.Random(SEED)

    # Calibrate: how long does an uninterrupted add of this folder take here?
    assert cli("new", "calibration", "--slug", "calib", "--json").code == 0
    started = time.monotonic()
    proc = _spawn_add(home, "calib", folder)
    out, err = proc.communicate(timeout=300)
    full = time.monotonic() - started
    assert proc.returncode == 0, err
    assert len(_rows(home, "calib")) == len(expected)

    stats = {"trials": 0, "killed": 0, "finished": 0, "committed_before_kill": 0, "orphans": 0,
             "stale_temps": 0, "lost": 0}
    for trial in range(TRIALS):
        slug = f"crash{trial}"
        assert cli("new", f"crash trial {trial}", "--slug", slug, "--json").code == 0
        delay = rng.uniform(0.05, full * 1.1)
        proc = _spawn_add(home, slug, folder)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        stats["trials"] += 1
        reported: list[dict] = []
        if proc.returncode == -signal.SIGKILL:
            stats["killed"] += 1
        else:
            assert proc.returncode == 0, err
            stats["finished"] += 1
            import json

            reported = json.loads(out)["added"]

        # Straight after the kill: verify passes; at most orphaned objects are reported.
        ok, found = _verify(cli, slug)
        assert ok, (trial, delay, found)
        assert set(found) <= {"object_orphaned"}, (trial, delay, found)
        stats["orphans"] += found.count("object_orphaned")
        rows = _rows(home, slug)
        assert [n for n, _ in rows] == list(range(1, len(rows) + 1)), (trial, rows)
        shas = {s for _, s in rows}
        assert shas <= set(expected.values())
        for entry in reported:  # whatever add reported before the kill is there, with its object
            assert entry["sha256"] in shas
        stats["committed_before_kill"] += len(rows) if proc.returncode else 0
        stats["stale_temps"] += len(_temps(home, slug))

        # The same add again: stale temps go, everything ends up recorded once, verify is clean.
        again = cli("add", slug, folder, "--json")
        assert again.code == 0, again.err
        assert _temps(home, slug) == []
        rows_after = _rows(home, slug)
        assert rows_after[:len(rows)] == rows  # what was recorded before the kill kept its number
        assert [n for n, _ in rows_after] == list(range(1, len(expected) + 1))
        missing = set(expected.values()) - {s for _, s in rows_after}
        stats["lost"] += len(missing)
        assert _verify(cli, slug) == (True, [])

    line = ", ".join(f"{k}={v}" for k, v in stats.items())
    print(f"\ncrash harness ({FILES} files, seed {SEED}, full add {full:.2f}s): {line}")
    sys.stderr.write(f"crash harness ({FILES} files, seed {SEED}): {line}\n")
    assert stats["lost"] == 0
    assert stats["killed"] >= TRIALS // 2  # the delays must actually cut adds short


# --------------------------------------------------------------------------- orphans, deterministic


def _publish_orphan(home: Path, slug: str, data: bytes) -> Path:
    sha = hashlib.sha256(data).hexdigest()
    path = home / "disputes" / slug / "objects" / sha[:2] / sha[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o444)
    return path


def test_orphan_is_a_warning_and_gc_removes_it(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    shot = samples.make_png(tmp_path / "a.png", 120, 200, seed=7)
    assert cli("add", dispute, shot, "--json").code == 0
    orphan = _publish_orphan(home, dispute, b"published, never committed")
    planted = home / "disputes" / dispute / "objects" / "ab" / ("cd" * 31)
    planted.parent.mkdir(exist_ok=True)
    planted.write_bytes(b"bytes that do not match the name")

    ran = cli("verify", dispute, "--json")
    problems = sorted(p["problem"] for p in ran.json["disputes"][0]["problems"])
    assert problems == ["object_orphaned", "object_unexpected"]
    assert ran.code == 1 and ran.json["ok"] is False  # the planted one is tampering

    gone = cli("gc", dispute, "--json")
    assert gone.code == 0, gone.err
    assert gone.json["removed"] == [orphan.parent.name + orphan.name]
    assert gone.json["bytes_freed"] == len(b"published, never committed")
    assert not orphan.exists() and planted.exists()  # tampering evidence is never removed

    planted.unlink()
    planted.parent.rmdir()
    _publish_orphan(home, dispute, b"another orphan")
    ran = cli("verify", dispute, "--json")
    assert ran.code == 0 and ran.json["ok"] is True
    assert [p["problem"] for p in ran.json["disputes"][0]["problems"]] == ["object_orphaned"]
    assert "OK" in cli("verify", dispute).out
    assert cli("gc", dispute, "--json").json["removed"] != []
    assert cli("verify", dispute, "--json").json["disputes"][0]["problems"] == []
    human = cli("gc", dispute)
    assert human.code == 0 and "no orphaned objects" in human.out


def test_gc_refuses_while_an_add_is_running(cli, dispute, home) -> None:  # noqa: ANN001
    from locker import store

    objects = home / "disputes" / dispute / "objects"
    objects.mkdir(exist_ok=True)
    _publish_orphan(home, dispute, b"in flight: published, about to be committed")
    with store.ObjectsLock(objects, exclusive=False):  # what a running add holds
        ran = cli("gc", dispute, "--json")
        assert ran.code == 1 and "adding files" in ran.err and "Traceback" not in ran.err
    assert len(cli("gc", dispute, "--json").json["removed"]) == 1


@pytest.mark.parametrize("pid_alive", [False, True])
def test_stale_temps_are_cleaned_only_for_dead_writers(home, tmp_path, pid_alive) -> None:  # noqa: ANN001
    from locker import store

    objects = tmp_path / "objects"
    objects.mkdir()
    if pid_alive:
        pid = os.getppid()
    else:
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        child.wait()
        pid = child.pid
    tmp = objects / f"{store.TMP_PREFIX}{pid}-abc"
    tmp.write_bytes(b"half")
    assert store.clean_stale_temps(objects) == (0 if pid_alive else 1)
    assert tmp.exists() == pid_alive
