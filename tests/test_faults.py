"""Resource faults: a disk that runs out of space and a source that fails mid-read.

Each gives a clear, one-line reason (no traceback) and leaves nothing partial: no temp
file, no exhibit row without its object, and ``verify`` passes afterwards. Files recorded
before the fault in the same call are reported, not lost from the output.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from locker import store
from locker.errors import InputRefused
from tests import samples
from tests.conftest import REPO

LIMIT = 1024 * 1024  # RLIMIT_FSIZE in the child: no file it writes may grow past this


def run_limited(home: Path, args: list[str], group_files: int | None = None,
                processes_min: int | None = None) -> subprocess.CompletedProcess[str]:
    """``locker ARGS`` in a child whose files cannot grow past LIMIT (writes get EFBIG, like a full disk;
    stager processes inherit the limit), with add's GROUP_FILES and stage.PROCESSES_MIN if given."""
    code = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        from locker.services import ingest, stage
        if {group_files!r} is not None:
            ingest.GROUP_FILES = {group_files!r}
        if {processes_min!r} is not None:
            stage.PROCESSES_MIN = {processes_min!r}
        from locker.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)


def _objects(home: Path, slug: str) -> Path:
    return home / "disputes" / slug / "objects"


def _assert_clean(cli, home: Path, slug: str) -> None:  # noqa: ANN001
    assert [p for p in _objects(home, slug).rglob(".tmp-*")] == []
    ran = cli("verify", slug, "--json")
    assert ran.code == 0 and ran.json["disputes"][0]["problems"] == [], ran.out


def test_disk_full_with_nothing_recorded_is_one_clear_line(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    folder = tmp_path / "in"
    for i in range(3):
        samples.make_png(folder / f"a{i}.png", 60, 80, seed=i)
    samples.make_random(folder / "b_big.bin", 3 * LIMIT, seed=1)
    ran = run_limited(home, ["add", dispute, str(folder), "--json"])
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and "file too large" in lines[0], ran.stderr
    doc = json.loads(ran.stdout)  # --json: still one document, in add's form, with the error
    assert doc["added"] == [] and doc["error"]["code"] == "store" and "file too large" in doc["error"]["message"]
    assert cli("show", dispute, "--json").json["exhibits"] == []  # all or nothing: nothing
    _assert_clean(cli, home, dispute)
    again = cli("add", dispute, folder, "--json")  # with room again, the same add completes
    assert again.code == 0 and len(again.json["added"]) == 4
    _assert_clean(cli, home, dispute)


def test_disk_full_after_a_committed_group_reports_what_was_recorded(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    folder = tmp_path / "in"
    good = [samples.make_png(folder / f"a{i}.png", 60, 80, seed=i) for i in range(4)]
    samples.make_random(folder / "b_big.bin", 3 * LIMIT, seed=2)
    samples.make_png(folder / "c_after.png", 60, 80, seed=9)
    ran = run_limited(home, ["add", dispute, str(folder), "--json"], group_files=2)
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    doc = json.loads(ran.stdout)
    assert [a["original_name"] for a in doc["added"]] == [p.name for p in good]
    assert [a["exhibit"] for a in doc["added"]] == [1, 2, 3, 4]
    [error] = doc["errors"]
    assert error["path"].endswith("b_big.bin")
    assert "not added, nor the 1 file(s) after it" in error["error"] and "file too large" in error["error"]
    shown = cli("show", dispute, "--json").json["exhibits"]
    assert [e["original_name"] for e in shown] == [p.name for p in good]
    _assert_clean(cli, home, dispute)


def _failing_readv(monkeypatch: pytest.MonkeyPatch, name: str, after: int = 1) -> None:
    """Reads of the file called ``name`` fail with EIO after ``after`` successful reads."""
    real = os.readv
    calls: dict[int, int] = {}

    def readv(fd: int, buffers):  # noqa: ANN001, ANN202
        if os.readlink(f"/proc/self/fd/{fd}").endswith(name):
            calls[fd] = calls.get(fd, 0) + 1
            if calls[fd] > after:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(fd, buffers)

    monkeypatch.setattr(os, "readv", readv)


@pytest.mark.parametrize("pipelined", [False, True])
def test_read_error_mid_file_is_refused_and_leaves_no_temp(monkeypatch, tmp_path, pipelined) -> None:  # noqa: ANN001
    if pipelined:
        monkeypatch.setattr(store, "PIPELINE_MIN", 1)
    source = samples.make_random(tmp_path / "flaky.bin", 3 * 1024 * 1024, seed=3)
    objects = tmp_path / "objects"
    objects.mkdir()
    _failing_readv(monkeypatch, "flaky.bin")
    with pytest.raises(InputRefused) as caught:
        store.stage(source, objects, sync=True)
    assert "read error after" in caught.value.message and "Input/output error" in caught.value.message
    assert list(objects.iterdir()) == []


def test_read_error_mid_file_during_add(cli, dispute, home, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    folder = tmp_path / "in"
    for i in range(3):
        samples.make_png(folder / f"good{i}.png", 60, 80, seed=i)
    samples.make_random(folder / "flaky.bin", 2 * 1024 * 1024, seed=4)
    _failing_readv(monkeypatch, "flaky.bin")
    ran = cli("add", dispute, folder, "--json")
    assert ran.code == 1
    assert [a["original_name"] for a in ran.json["added"]] == ["good0.png", "good1.png", "good2.png"]
    [error] = ran.json["errors"]
    assert error["path"].endswith("flaky.bin") and "read error after" in error["error"]
    assert "Traceback" not in ran.err and len(ran.err.strip().splitlines()) == 1
    _assert_clean(cli, home, dispute)


def test_an_upload_the_disk_refuses_is_a_clear_error_and_leaves_nothing(cli, dispute, home) -> None:  # noqa: ANN001
    """A write of the web app's receiver that fails (EFBIG past the child's file-size limit, as a
    full disk would) reaches the caller as the store's error, and the partial copy is removed."""
    code = textwrap.dedent(f"""
        import os, resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        from locker.errors import StoreError
        from locker.paths import open_home
        from locker.services import upload
        receiver = upload.Receiver(open_home(os.environ["LOCKER_HOME"]), sys.argv[1], "video.mp4")
        piece = os.urandom(256 * 1024)
        try:
            for _i in range(12):  # 3 MiB, three times the limit
                receiver.write(piece)
            receiver.close()
        except StoreError as err:
            print("refused:", err.message)
            sys.exit(0)
        sys.exit("the upload was kept")
    """)
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    ran = subprocess.run([sys.executable, "-c", code, dispute], capture_output=True, text=True, env=env,
                         cwd=REPO, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "refused: file too large for the locker's file system" in ran.stdout
    _assert_clean(cli, home, dispute)
    assert list(_objects(home, dispute).rglob("*")) == []
