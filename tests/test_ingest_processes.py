"""``locker add`` of many small files stages them in forked processes (services.stage.Stagers).

What a user would check: the same files give the same exhibits as when staged on threads; the
files really went through other processes; Ctrl-C, a full disk or a stager process that dies
leaves no traceback, no partial exhibit and, after the next add, no temp file, and ``verify``
passes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests import samples
from tests.conftest import REPO
from tests.test_faults import LIMIT, run_limited

# A child running the CLI with the stager settings given; each file staged writes the staging
# process's id to PIDS (the wrapper is in place before the fork, so the children run it too).
LAUNCHER = textwrap.dedent("""
    import os, signal, sys
    from locker.services import ingest, stage
    stage.PROCESSES_MIN = int(os.environ["T_PROCESSES_MIN"])
    ingest.GROUP_FILES = int(os.environ.get("T_GROUP_FILES", ingest.GROUP_FILES))
    real_stage = stage.stage_one
    def stage_one(*args, **kw):
        with open(os.environ["T_PIDS"], "a") as f:
            f.write(f"{os.getpid()}\\n")
        return real_stage(*args, **kw)
    stage.stage_one = stage_one
    if os.environ.get("T_NO_FORK"):  # the kernel refuses a new process (EAGAIN: a limit on processes)
        import errno
        def fork():
            raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        os.fork = fork
    if os.environ.get("T_COPY_FIRST"):  # this thread copies a file first, keeping its copy buffer
        from locker import store
        from pathlib import Path
        first = Path(os.environ["T_COPY_FIRST"])
        store.discard(store.stage(first, first.parent, sync=False))
    after = os.environ.get("T_AFTER_FIRST_GROUP")
    if after:
        real_commit, killed = ingest._commit, []
        def _commit(*args, **kw):
            real_commit(*args, **kw)
            if after == "ctrl-c":  # as a terminal's Ctrl-C: every process of the group
                os.killpg(0, signal.SIGINT)
            elif after == "kill-stager" and not killed:  # the first stager process that staged a file
                with open(os.environ["T_PIDS"]) as f:
                    stager = next(int(pid) for pid in f.read().split() if int(pid) != os.getpid())
                os.kill(stager, signal.SIGKILL)
                killed.append(stager)
        ingest._commit = _commit
    from locker.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def _as_at_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _add(home: Path, slug: str, folder: Path, pids: Path, *, processes_min: int, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC", "T_PROCESSES_MIN": str(processes_min),
               "T_PIDS": str(pids), **env}
    return subprocess.run([sys.executable, "-c", LAUNCHER, "add", slug, str(folder), "--json"], cwd=REPO,
                          env=environ, capture_output=True, text=True, timeout=180, start_new_session=True,
                          preexec_fn=_as_at_a_terminal)


def _mixed(folder: Path) -> list[Path]:
    """Pictures, a photo with EXIF, a chat, a PDF, an e-mail, a sound and one file big enough to be
    staged on a thread (store.PIPELINE_MIN), among small PNGs."""
    made = [samples.make_png(folder / f"s{i:02}.png", 90, 160, seed=i) for i in range(20)]
    made.append(samples.make_jpeg_with_exif(folder / "photo.jpg", 320, 240))
    made.append(samples.make_whatsapp_android_chat(folder / "WhatsApp Chat with Shop.txt"))
    made.append(samples.make_pdf(folder / "invoice.pdf"))
    made.append(samples.make_wav(folder / "call.wav"))
    made.append(samples.make_random(folder / "zz_big.bin", 9 * 1024 * 1024, seed=3))
    mail = folder / "reply.eml"
    mail.write_text("From: shop@example.com\nTo: me@example.com\nSubject: Refund\n"
                    "Date: Tue, 03 Jun 2025 10:00:00 +0800\n\nNo refund.\n", encoding="utf-8")
    made.append(mail)
    made += [samples.make_png(folder / f"t{i:02}.png", 90, 160, seed=100 + i) for i in range(20)]
    samples.make_png(folder / "s00 copy.png", 90, 160, seed=0)  # a duplicate of s00.png
    return made


def _as_read(added: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in a.items() if k != "path"} for a in added]


def test_files_staged_in_processes_are_read_as_on_threads(cli, home, tmp_path) -> None:  # noqa: ANN001
    folder = tmp_path / "in"
    _mixed(folder)
    results = {}
    for mode, processes_min in (("threads", 10 ** 9), ("processes", 1)):
        slug = cli("new", f"same files on {mode}", "--json").json["slug"]
        pids = tmp_path / f"{mode}.pids"
        ran = _add(home, slug, folder, pids, processes_min=processes_min)
        assert ran.returncode == 0, ran.stderr
        results[mode] = (slug, json.loads(ran.stdout)["added"], set(pids.read_text().split()))
    (t_slug, on_threads, t_pids), (p_slug, in_processes, p_pids) = results["threads"], results["processes"]
    assert len(t_pids) == 1, "on threads, every file is staged in the add's own process"
    assert len(p_pids) == 3, "two stager processes for the small files, the add's own for the big one"
    assert _as_read(in_processes) == _as_read(on_threads)
    kinds = {a["original_name"]: a["kind"] for a in in_processes}
    assert kinds["WhatsApp Chat with Shop.txt"] == "chat" and kinds["photo.jpg"] == "photo"
    assert kinds["invoice.pdf"] == "document" and kinds["call.wav"] == "audio"
    assert [a["duplicate"] for a in in_processes].count(True) == 1
    for slug in (t_slug, p_slug):
        for shown in cli("show", slug, "--json").json["exhibits"]:  # the stored bytes are the given bytes
            sha = shown["sha256"]
            stored = home / "disputes" / slug / "objects" / sha[:2] / sha[2:]
            assert stored.read_bytes() == (folder / shown["original_name"]).read_bytes()
        assert cli("verify", slug).code == 0
    chat = str(next(a["exhibit"] for a in in_processes if a["original_name"] == "WhatsApp Chat with Shop.txt"))
    messages = [cli("show", slug, chat, "--json").json.get("messages") for slug in (t_slug, p_slug)]
    assert messages[0] and messages[0] == messages[1]


def test_no_process_can_be_started_so_threads_stage_everything(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    folder = tmp_path / "in"
    _many(folder, 70)
    pids = tmp_path / "pids"
    ran = _add(home, dispute, folder, pids, processes_min=1, T_NO_FORK="1")
    assert ran.returncode == 0, ran.stderr
    assert len(json.loads(ran.stdout)["added"]) == 70
    assert len(set(pids.read_text().split())) == 1
    assert cli("verify", dispute).code == 0


def _temps(home: Path, slug: str) -> list[Path]:
    return list((home / "disputes" / slug / "objects").rglob(".tmp-*"))


def _many(folder: Path, count: int) -> None:
    for i in range(count):
        samples.make_png(folder / f"p{i:03}.png", 60, 120, seed=i)


def _stopped_after_first_group(home: Path, slug: str, tmp_path: Path, what: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """An add of 120 small files in stager processes, groups of 8, and ``what`` happens once the
    first group is recorded: ``ctrl-c`` or ``kill-stager`` (see LAUNCHER). An add stages a group's
    worth ahead, so with groups of 8 most files are still to be staged then (with a real add's
    groups of 256, all 120 would be queued at once, and could be staged before it happens)."""
    folder = tmp_path / "in"
    _many(folder, 120)
    return folder, _add(home, slug, folder, tmp_path / "pids", processes_min=1, T_GROUP_FILES="8",
                        T_AFTER_FIRST_GROUP=what)


def test_ctrl_c_during_an_add_in_processes_leaves_nothing_partial(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    folder, ran = _stopped_after_first_group(home, dispute, tmp_path, "ctrl-c")
    assert ran.returncode == 130, ran.stderr
    assert "Traceback" not in ran.stderr, "a stager process printed a traceback"
    assert ran.stderr.strip().splitlines()[-1] == "locker: interrupted", ran.stderr
    doc = json.loads(ran.stdout)
    assert doc["error"]["code"] == "interrupted"
    shown = cli("show", dispute, "--json").json["exhibits"]
    assert 8 <= len(shown) < 120
    assert [e["original_name"] for e in shown] == [a["original_name"] for a in doc["added"]]
    assert _temps(home, dispute) == []
    assert cli("verify", dispute).code == 0
    assert cli("add", dispute, folder).code == 0  # the rest comes in on the next add
    assert len(cli("show", dispute, "--json").json["exhibits"]) == 120


def test_a_stager_process_that_dies_is_a_clear_error(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    folder, ran = _stopped_after_first_group(home, dispute, tmp_path, "kill-stager")
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    doc = json.loads(ran.stdout)
    [error] = doc["errors"]
    assert "a process staging the files ended unexpectedly" in error["error"], error
    assert "not added, nor the" in error["error"]
    recorded = cli("show", dispute, "--json").json["exhibits"]
    assert len(recorded) >= 8 and [e["original_name"] for e in recorded] == [a["original_name"] for a in doc["added"]]
    assert cli("verify", dispute).code == 0
    # The copies the dead process had made are temp files of a process that is gone: the next add
    # removes them before it starts, and brings in the rest.
    again = cli("add", dispute, folder, "--json")
    assert again.code == 0, again.out
    assert _temps(home, dispute) == []
    assert len(cli("show", dispute, "--json").json["exhibits"]) == 120
    assert cli("verify", dispute).code == 0


@pytest.mark.parametrize("processes_min", [1, 10 ** 9], ids=["processes", "threads"])
def test_disk_full_in_a_stager_process_reports_what_was_recorded(cli, dispute, home, tmp_path,
                                                                 processes_min) -> None:  # noqa: ANN001
    """A file the disk refuses (here: RLIMIT_FSIZE, which the forked stagers inherit) stops the add
    in the same words whether it was staged in a process or on a thread."""
    folder = tmp_path / "in"
    _many(folder, 12)
    samples.make_random(folder / "p100_big.bin", 3 * LIMIT, seed=2)  # under PIPELINE_MIN: a small file
    samples.make_png(folder / "p101_after.png", 60, 80, seed=9)
    ran = run_limited(home, ["add", dispute, str(folder), "--json"], group_files=4, processes_min=processes_min)
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    doc = json.loads(ran.stdout)
    assert [a["original_name"] for a in doc["added"]] == [f"p{i:03}.png" for i in range(12)]
    [error] = doc["errors"]
    assert error["path"].endswith("p100_big.bin")
    assert "not added, nor the 1 file(s) after it" in error["error"] and "file too large" in error["error"]
    assert _temps(home, dispute) == []
    assert cli("verify", dispute).code == 0


def test_a_stager_copies_through_memory_of_its_own(tmp_path) -> None:  # noqa: ANN001
    """A thread keeps its copy buffer from file to file. A process forked from that thread (a stager)
    must copy through memory of its own: with one buffer shared by two stagers, each copied the
    other's bytes under its own file's hash (seen as ``verify``'s hash_mismatch)."""
    from locker import store

    objects = tmp_path / "objects"
    objects.mkdir()
    mine = samples.make_random(tmp_path / "mine.bin", 4096, seed=1)
    theirs = samples.make_random(tmp_path / "theirs.bin", 4096, seed=2)
    store.discard(store.stage(mine, objects, sync=False))  # this thread's buffer now holds mine's bytes
    pid = os.fork()
    if pid == 0:  # the child copies another file through its buffer, then goes
        try:
            store.discard(store.stage(theirs, objects, sync=False))
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert bytes(store._thread_buffer()[:4096]) == mine.read_bytes()


def test_an_add_in_processes_forked_from_a_thread_that_copied_before(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    """The case above as a user meets it: a process whose main thread copied a file (an import, an
    earlier add) runs an add of many files in stager processes. Every stored object is the file it
    came from, and verify says so."""
    first = samples.make_random(tmp_path / "first" / "first.bin", 300_000, seed=3)
    folder = tmp_path / "in"
    for i in range(160):
        samples.make_random(folder / f"f{i:03}.bin", 200_000 + 997 * i, seed=10 + i)
    pids = tmp_path / "pids"
    ran = _add(home, dispute, folder, pids, processes_min=1, T_COPY_FIRST=str(first))
    assert ran.returncode == 0, ran.stderr
    assert len(set(pids.read_text().split())) == 2, "the two stager processes copied every file"
    for shown in cli("show", dispute, "--json").json["exhibits"]:
        sha = shown["sha256"]
        stored = home / "disputes" / dispute / "objects" / sha[:2] / sha[2:]
        assert stored.read_bytes() == (folder / shown["original_name"]).read_bytes(), shown["original_name"]
    assert cli("verify", dispute).code == 0


def test_an_add_called_where_another_thread_runs_stages_on_threads(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    """Forking a process while another thread may hold a lock (the probe's, an import's) could copy
    that lock, held, into the child. An add called where another thread runs stages on threads."""
    import threading

    from locker.services import stage

    folder = tmp_path / "in"
    _many(folder, 70)
    started = []
    real = stage.Stagers.__init__

    def init(self, files):  # noqa: ANN001, ANN202
        real(self, files)
        started.append(self.processes is not None)

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="another thread")
    other.start()
    stage.Stagers.__init__, saved = init, stage.PROCESSES_MIN
    stage.PROCESSES_MIN = 1
    try:
        ran = cli("add", dispute, folder, "--json")
    finally:
        stage.Stagers.__init__, stage.PROCESSES_MIN = real, saved
        stop.set()
        other.join()
    assert ran.code == 0, ran.err
    assert started == [False]
    assert len(ran.json["added"]) == 70
    assert cli("verify", dispute).code == 0


# A child that adds a folder in stager processes and reports whether the cyclic collector was on
# where each file was staged, where each group was recorded, and once the add was over.
COLLECTOR = textwrap.dedent("""
    import gc, os, sys
    from locker.services import ingest, stage
    stage.PROCESSES_MIN = 1
    ingest.GROUP_FILES = 8
    real_stage, real_commit = stage.stage_one, ingest._commit
    def stage_one(*args, **kw):
        with open(os.environ["T_SEEN"], "a") as f:
            f.write(f"stage {os.getpid()} {gc.isenabled()}\\n")
        return real_stage(*args, **kw)
    def _commit(*args, **kw):
        with open(os.environ["T_SEEN"], "a") as f:
            f.write(f"commit {os.getpid()} {gc.isenabled()}\\n")
        return real_commit(*args, **kw)
    stage.stage_one, ingest._commit = stage_one, _commit
    if os.environ.get("T_OFF"):
        gc.disable()
    from locker.cli import main
    code = main(sys.argv[1:])
    with open(os.environ["T_SEEN"], "a") as f:
        f.write(f"after {os.getpid()} {gc.isenabled()}\\n")
    sys.exit(code)
""")


@pytest.mark.parametrize("collector", ["on", "off"])
def test_the_add_holds_its_collector_back_and_leaves_it_as_it_was(cli, dispute, home, tmp_path, collector) -> None:  # noqa: ANN001
    """While files are staged in processes, the add's own process records them with the cyclic
    collector held back (it builds thousands of objects that are not garbage); the stagers keep
    theirs, and the add leaves it as it found it."""
    folder, seen = tmp_path / "in", tmp_path / "seen.txt"
    _many(folder, 40)
    environ = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC", "T_SEEN": str(seen),
               **({"T_OFF": "1"} if collector == "off" else {})}
    ran = subprocess.run([sys.executable, "-c", COLLECTOR, "add", dispute, str(folder), "--json"], cwd=REPO,
                         env=environ, capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stderr
    assert len(json.loads(ran.stdout)["added"]) == 40
    rows = [line.split() for line in seen.read_text().splitlines()]
    add_pid = next(pid for what, pid, _ in rows if what == "after")
    staged = [(pid, on) for what, pid, on in rows if what == "stage"]
    assert len(staged) == 40 and all(pid != add_pid for pid, _ in staged), "every file went through a stager"
    assert {on for _, on in staged} == {"True"}, "a stager collects its own cycles"
    commits = [on for what, _, on in rows if what == "commit"]
    assert len(commits) >= 5 and set(commits) == {"False"}
    assert [on for what, _, on in rows if what == "after"] == [str(collector == "on")]
    assert cli("verify", dispute).code == 0
