"""A real full disk: the locker home on a tiny tmpfs, mounted in an unprivileged user namespace.

tests/test_faults.py simulates a full disk with RLIMIT_FSIZE (EFBIG); here the writes fail
with a real ENOSPC (and SQLite with SQLITE_FULL) on a file system that has run out of room.
Each case runs the real ``locker`` command line inside ``unshare --user --map-root-user
--mount`` with LOCKER_HOME on a FS_SIZE tmpfs, fills that file system with a filler file
until only a chosen number of bytes is free, runs the command that runs out of space, then
what a user would run next (``show``, ``list``, ``verify``) on the same, still full, disk.
The tmpfs disappears with the namespace, so a small driver script runs every step inside
it (each command in a process of its own, forked from the driver, which imports locker once)
and hands back their outputs and a listing (size and SHA-256) of every file left.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from locker import store
from locker.errors import StoreError
from tests import samples
from tests.conftest import REPO

KIB = 1024
MIB = 1024 * KIB
FS_SIZE = 8 * MIB  # the whole tmpfs; a filler file then leaves only what each case allows free

# ``locker ARGS`` as the console script runs it. LOCKER_TEST_PATCH may make `add` commit every
# N files and hold the copy of one named file until the first group is committed, so that
# "recorded, then the disk fills" happens in that order every time, not by a race of threads.
LAUNCHER = textwrap.dedent("""
    import json, os, sys, threading
    patch = json.loads(os.environ.get("LOCKER_TEST_PATCH") or "{}")
    if patch:
        from locker import store
        from locker.services import ingest
        ingest.GROUP_FILES = patch.get("group_files", ingest.GROUP_FILES)
        store.PIPELINE_MIN = patch.get("pipeline_min", store.PIPELINE_MIN)
        committed = threading.Event()
        real_commit, real_stage = ingest._commit, store.stage
        def _commit(*args, **kw):
            try:
                return real_commit(*args, **kw)
            finally:
                committed.set()
        def stage(source, *args, **kw):
            if source.name == patch.get("hold"):
                assert committed.wait(60), "the first group was never committed"
            return real_stage(source, *args, **kw)
        ingest._commit, store.stage = _commit, stage
    from locker.cli import main
    sys.exit(main(sys.argv[1:]))
""")

# Runs inside the namespace, with the tmpfs mounted at argv[1]: every step, in order. Steps:
# ["locker", ARGS, PATCH], ["fill", BYTES_LEFT_FREE], ["fill_inodes", INODES_LEFT], ["sql", SLUG, QUERY], ["tree"].
DRIVER = textwrap.dedent("""
    import hashlib, json, os, sys, threading
    mount, launcher, steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    home = os.path.join(mount, "home")
    filler = os.path.join(mount, "filler")
    env = {**os.environ, "LOCKER_HOME": home, "TZ": "UTC"}
    env.pop("LOCKER_TEST_PATCH", None)

    def free():
        st = os.statvfs(mount)
        return st.f_bavail * st.f_frsize

    def tree():
        files = {}
        for folder, dirs, names in os.walk(home):
            dirs.sort()
            for name in sorted(names) + [d + "/" for d in dirs]:
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, home) + ("/" if name.endswith("/") else "")
                if name.endswith("/"):
                    files[rel] = None
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                files[rel] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        return files

    # `locker ARGS` as the launcher runs it, in a child forked from this process, which has imported locker
    # once (each child would otherwise spend most of its time importing). The child has its own environment,
    # arguments and output, and ends as a process does: SystemExit, atexit handlers, flushed output.
    def run(args, run_env):
        outs = [os.pipe(), os.pipe()]
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            for (r, w), fd in zip(outs, (1, 2)):
                os.close(r)
                os.dup2(w, fd)
                os.close(w)
            os.environ.clear()
            os.environ.update(run_env)
            sys.argv = ["-c", *args]
            exec(compile(launcher, "<launcher>", "exec"), {"__name__": "__main__"})
            raise SystemExit(0)
        for _r, w in outs:
            os.close(w)

        def drain(fd, into):
            with os.fdopen(fd, "rb") as f:
                into.append(f.read().decode("utf-8", "replace"))
        got = [[], []]
        readers = [threading.Thread(target=drain, args=(r, g)) for (r, _w), g in zip(outs, got)]
        for t in readers:
            t.start()
        for t in readers:
            t.join(120)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), got[0][0], got[1][0]

    import locker.cli, locker.services.ingest, locker.store  # noqa: E401  (before the disk fills: code, not data)

    results = []
    for step in steps:
        kind = step[0]
        if kind == "locker":
            args, patch = step[1], step[2]
            run_env = {**env, "LOCKER_TEST_PATCH": json.dumps(patch)} if patch else env
            code, out, err = run(args, run_env)
            results.append({"code": code, "out": out, "err": err, "free": free()})
        elif kind == "fill":  # grow or shrink the filler file until only step[1] bytes are free
            had = os.path.getsize(filler) if os.path.exists(filler) else 0
            need = free() - step[1]
            if need < 0:
                os.truncate(filler, max(0, had + need))
            with open(filler, "ab") as f:
                block = b"\\0" * (64 * 1024)
                while need > 0:
                    need -= f.write(block[:need])
            results.append({"free": free()})
        elif kind == "fill_inodes":  # use up every free inode but step[1] (the other way to be full)
            os.makedirs(os.path.join(mount, "inodes"), exist_ok=True)
            n = 0
            try:
                while True:
                    open(os.path.join(mount, "inodes", str(n)), "x").close()
                    n += 1
            except OSError as err:
                assert err.errno == 28, err
            for i in range(step[1]):
                os.unlink(os.path.join(mount, "inodes", str(n - 1 - i)))
            results.append({"free": free(), "inodes": n})
        elif kind == "sql":  # one query on a dispute's database, read-only, as any SQLite client would
            import sqlite3
            con = sqlite3.connect(f"file:{home}/disputes/{step[1]}/dispute.sqlite?mode=ro", uri=True)
            try:
                results.append({"rows": con.execute(step[2]).fetchall(), "free": free()})
            finally:
                con.close()
        elif kind == "tree":
            results.append({"tree": tree(), "free": free()})
        else:
            raise SystemExit(f"unknown step {step!r}")
    json.dump(results, sys.stdout)
""")


def _in_tiny_fs(tmp_path: Path, steps: list[list], options: str = f"size={FS_SIZE}") -> list[dict]:
    """Run ``steps`` (see DRIVER) in a user and mount namespace, the locker home on a tmpfs mounted
    with ``options``; one result per step, in order."""
    unshare = shutil.which("unshare")
    assert unshare, ("these tests need `unshare` (util-linux) to mount a tiny tmpfs without root; "
                     "install util-linux (apt-get install util-linux)")
    mount = tmp_path / "tinyfs"
    mount.mkdir(exist_ok=True)
    script = 'mount -t tmpfs -o "$1" tmpfs "$2" || exit 97; shift 2; exec "$@"'
    cmd = [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", options, str(mount),
           sys.executable, "-c", DRIVER, str(mount), LAUNCHER, json.dumps(steps)]
    env = {**os.environ, "TZ": "UTC", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=180)
    assert proc.returncode != 97 and not proc.stderr.startswith("unshare:"), (
        f"could not mount a tmpfs in an unprivileged user namespace (`{unshare} --user --map-root-user "
        f"--mount`; is kernel.unprivileged_userns_clone or user.max_user_namespaces 0?): {proc.stderr}")
    assert proc.returncode == 0, f"the namespace driver failed ({proc.returncode}): {proc.stderr}"
    results = json.loads(proc.stdout)
    assert len(results) == len(steps)
    return results


def _locker(*args: object, patch: dict | None = None) -> list:
    return ["locker", [str(a) for a in args], patch]


def _new(slug: str) -> list:
    return _locker("new", "小红书无线耳机退款", "--platform", "xiaohongshu", "--slug", slug, "--json")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_clear_line(ran: dict, *needles: str) -> str:
    """A failed command: exit 1, no traceback, one line on stderr saying the disk is full."""
    assert ran["code"] == 1, ran
    assert "Traceback" not in ran["err"] and "internal error" not in ran["err"], ran["err"]
    lines = ran["err"].strip().splitlines()
    assert len(lines) == 1, ran["err"]
    assert "no space left on the device holding the locker" in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def _no_temps(tree: dict) -> None:
    left = [name for name in tree if ".tmp-" in name or "/.new-" in name or name.endswith(("-wal", "-journal"))]
    assert left == [], left


def _objects(tree: dict, slug: str) -> dict[str, str]:
    """sha256 named by each stored object -> sha256 of its bytes."""
    prefix = f"disputes/{slug}/objects/"
    return {name[len(prefix):].replace("/", ""): info["sha256"] for name, info in tree.items()
            if name.startswith(prefix) and info is not None}


@pytest.mark.parametrize("pipelined", [False, True], ids=["one-thread-copy", "two-thread-copy"])
def test_add_runs_out_of_space_mid_file(tmp_path: Path, pipelined: bool) -> None:
    folder = tmp_path / "in"
    good = [samples.make_png(folder / f"a{i}.png", 60, 80, seed=i) for i in range(2)]
    big = samples.make_random(folder / "b_big.bin", 2 * MIB, seed=1)  # 4x the room left
    samples.make_png(folder / "c_after.png", 60, 80, seed=9)
    patch = {"group_files": 2, "hold": big.name, "pipeline_min": MIB if pipelined else 64 * MIB}
    new, _, added, after_add, shown, verified, after, _, full_verify = _in_tiny_fs(tmp_path, [
        _new("earbuds"), ["fill", 512 * KIB],
        _locker("add", "earbuds", folder, "--json", patch=patch), ["tree"],
        _locker("show", "earbuds", "--json"), _locker("verify", "earbuds", "--json"), ["tree"],
        ["fill", 0], _locker("verify", "earbuds"),
    ])
    assert new["code"] == 0, new
    line = _one_clear_line(added, str(big), "not added, nor the 1 file(s) after it")
    assert added["free"] >= 400 * KIB, "the partial copy of the large file was not removed"
    doc = json.loads(added["out"])
    assert [(a["exhibit"], a["original_name"]) for a in doc["added"]] == [(1, "a0.png"), (2, "a1.png")]
    assert [(e["path"], e["error"]) for e in doc["errors"]] == [(str(big), line.split(": ", 2)[2])]
    _no_temps(after_add["tree"])
    assert shown["code"] == 0 and [e["original_name"] for e in json.loads(shown["out"])["exhibits"]] == [
        "a0.png", "a1.png"]
    assert verified["code"] == 0, verified
    report = json.loads(verified["out"])
    assert report["ok"] and report["disputes"][0]["problems"] == [], report
    _no_temps(after["tree"])
    # every recorded object holds exactly its source's bytes, and nothing else was stored
    assert _objects(after["tree"], "earbuds") == {_sha(p): _sha(p) for p in good}
    # with no room at all, not even SQLite's 32 KiB index of a WAL database fits: reading says why
    _one_clear_line(full_verify, "dispute.sqlite")


def test_database_runs_out_of_space_while_recording_a_chat(tmp_path: Path) -> None:
    messages = [("我" if i % 2 else "商家", f"第{i}条消息：请尽快处理退款，订单号250501123456789") for i in range(4000)]
    chat = samples.make_csv_chat(tmp_path / "chat.csv", messages)
    sha = _sha(chat)
    # Room for the copy of the chat, not for its 4,000 messages and their search index in SQLite.
    _, _, added, after_add, counts, shown, verified, collected, after = _in_tiny_fs(tmp_path, [
        _new("earbuds"), ["fill", chat.stat().st_size + 96 * KIB],
        _locker("add", "earbuds", chat, "--json"), ["tree"],
        ["sql", "earbuds", "SELECT (SELECT count(*) FROM exhibit), (SELECT count(*) FROM chat_message), "
                           "(SELECT group_concat(action) FROM custody)"],
        _locker("show", "earbuds", "--json"),
        _locker("verify", "earbuds", "--json"), _locker("gc", "earbuds", "--json"), ["tree"],
    ])
    _one_clear_line(added, "earbuds/dispute.sqlite")
    doc = json.loads(added["out"])  # all or nothing: nothing was added; --json still answers, with the error
    assert doc["added"] == [] and doc["errors"] == [] and doc["error"]["code"] == "store"
    assert _objects(after_add["tree"], "earbuds") == {sha: sha}  # the copy was made, the record was not
    _no_temps(after_add["tree"])
    assert counts["rows"] == [[0, 0, "dispute.created"]]  # rolled back: no exhibit, no message, no entry
    assert json.loads(shown["out"])["exhibits"] == []
    assert verified["code"] == 0, verified
    report = json.loads(verified["out"])
    assert report["ok"], report
    # The copy nobody records is an orphan (a warning, content intact), which `locker gc` removes.
    assert [(p["problem"], sha[:2] + "/" + sha[2:] in p["detail"]) for p in report["disputes"][0]["problems"]] == [
        ("object_orphaned", True)]
    assert collected["code"] == 0 and json.loads(collected["out"])["removed"] == [sha], collected
    assert _objects(after["tree"], "earbuds") == {}
    _no_temps(after["tree"])


def test_export_cannot_write_the_pack(tmp_path: Path) -> None:
    exhibits = [samples.make_png(tmp_path / "in" / "order.png", 60, 80, seed=1),
                samples.make_random(tmp_path / "in" / "recording.bin", MIB, seed=2)]
    _, added, _, exported, after_export, log, verified, after = _in_tiny_fs(tmp_path, [
        _new("earbuds"), _locker("add", "earbuds", *exhibits, "--json"),
        ["fill", 256 * KIB],  # room to read the dispute, not for a pack that embeds a 1 MiB original
        _locker("export", "earbuds", "--attach-originals"), ["tree"],
        ["sql", "earbuds", "SELECT (SELECT count(*) FROM export), (SELECT group_concat(action) FROM custody)"],
        _locker("verify", "earbuds", "--json"), ["tree"],
    ])
    assert added["code"] == 0, added
    line = _one_clear_line(exported, "earbuds/exports/earbuds-zh-")
    assert line.split(": ")[1].endswith(".pdf"), line  # it names the pack that could not be written
    assert exported["out"] == ""  # no --json here
    for tree in (after_export["tree"], after["tree"]):
        assert [n for n in tree if n.startswith("disputes/earbuds/exports/") and n.endswith(".pdf")] == []
        _no_temps(tree)
    assert log["rows"] == [[0, "dispute.created,exhibit.added,exhibit.added"]]  # no export recorded
    assert verified["code"] == 0 and json.loads(verified["out"])["disputes"][0]["problems"] == [], verified


@pytest.mark.parametrize("free", [0, 64 * KIB], ids=["no-room", "room-for-part-of-the-schema"])
def test_new_on_a_full_disk_leaves_no_half_dispute(tmp_path: Path, free: int) -> None:
    steps = [_new("kept"), ["fill", free], _locker("new", "第二个纠纷", "--slug", "second", "--json"), ["tree"]]
    if free:  # with room to open the dispute that exists: it is listed alone, and a write to it fails clearly
        steps += [_locker("list", "--json"), ["fill", 40 * KIB],
                  _locker("event", "kept", "商家拒绝退款", "--at", "2025-05-03 15:21"),
                  ["sql", "kept", "SELECT (SELECT count(*) FROM event), (SELECT group_concat(action) FROM custody)"]]
    kept, _, second, after, *more = _in_tiny_fs(tmp_path, steps)
    assert kept["code"] == 0, kept
    line = _one_clear_line(second)
    assert "/disputes" in line and ".new-" not in line, line  # not the staging folder, gone by now
    assert json.loads(second["out"])["error"]["code"] == "store"  # --json: the failure is one document
    assert sorted(n for n in after["tree"] if n.count("/") == 2 and n.endswith("/")) == ["disputes/kept/"]
    _no_temps(after["tree"])
    if more:
        listed, _, event, log = more
        assert listed["code"] == 0 and [d["slug"] for d in json.loads(listed["out"])] == ["kept"], listed
        _one_clear_line(event, "kept/dispute.sqlite")
        assert log["rows"] == [[0, "dispute.created"]]


@pytest.mark.parametrize("inodes_left", [0, 1], ids=["no-folder", "no-staging-folder"])
def test_new_with_no_inode_left_is_one_clear_line(tmp_path: Path, inodes_left: int) -> None:
    """The other way a file system is full: every inode used, so the dispute's folder (or, with one
    inode left, its staging folder) cannot be made. It used to be an "internal error: OSError"."""
    kept, used, second, after = _in_tiny_fs(tmp_path, [
        _new("kept"), ["fill_inodes", inodes_left], _locker("new", "第二个纠纷", "--slug", "second"), ["tree"],
    ], options=f"size={FS_SIZE},nr_inodes=64")
    assert kept["code"] == 0 and used["inodes"] > 0, (kept, used)
    _one_clear_line(second, "/disputes")
    assert sorted(n for n in after["tree"] if n.count("/") == 2 and n.endswith("/")) == ["disputes/kept/"]
    _no_temps(after["tree"])


# --------------------------------------------------------------------------- regressions, in process


def _partial_then_enospc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes to a locker temp file: the first half-succeeds, the next fails with ENOSPC (a disk filling up)."""
    real = os.write
    calls: dict[int, int] = {}

    def write(fd: int, data) -> int:  # noqa: ANN001
        if ".tmp-" not in os.readlink(f"/proc/self/fd/{fd}"):
            return real(fd, data)
        calls[fd] = calls.get(fd, 0) + 1
        if calls[fd] == 1:
            return real(fd, memoryview(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("pipelined", [False, True])
def test_partial_write_then_no_space_is_a_store_error(monkeypatch, tmp_path, pipelined) -> None:  # noqa: ANN001
    """A short write leaves a slice of the mmap buffer in the failing frame; it used to pin the buffer
    so that closing it raised BufferError ("internal error") instead of the no-space error."""
    if pipelined:
        monkeypatch.setattr(store, "PIPELINE_MIN", 1)
    source = samples.make_random(tmp_path / "big.bin", 3 * MIB, seed=3)
    objects = tmp_path / "objects"
    objects.mkdir()
    _partial_then_enospc(monkeypatch)
    with pytest.raises(StoreError) as caught:
        store.stage(source, objects, sync=False)
    assert caught.value.message == "no space left on the device holding the locker"
    assert list(objects.iterdir()) == []


def test_a_migration_sqlite_already_rolled_back_keeps_its_own_error(tmp_path: Path) -> None:
    """On a full disk SQLite ends the transaction itself; the migration's ROLLBACK then failed with
    "cannot rollback - no transaction is active", hiding "database or disk is full"."""
    import sqlite3

    from locker.migrations import migrate

    def fails_like_a_full_disk(cur: sqlite3.Cursor) -> None:
        cur.execute("CREATE TABLE t (x)")
        cur.execute("ROLLBACK")  # what SQLite does by itself on SQLITE_FULL
        raise sqlite3.OperationalError("database or disk is full")

    con = sqlite3.connect(tmp_path / "x.sqlite", isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
            migrate(con, "2025-05-01T00:00:00+00:00", [("0001_full", fails_like_a_full_disk)])
        assert con.execute("PRAGMA user_version").fetchone() == (0,)
    finally:
        con.close()


def test_a_full_disk_while_attaching_an_original_blames_the_pack_not_the_original(tmp_path: Path) -> None:
    """Writing the pack failed with ENOSPC inside the attachment copy; it was reported as "cannot read
    the original to attach it", naming the stored original as if it were damaged."""
    from locker.report.pdfpost import Attachment, _copy_checked

    original = samples.make_random(tmp_path / "original.bin", 300 * KIB, seed=5)
    item = Attachment("original.bin", original, _sha(original), original.stat().st_size,
                      "application/octet-stream", "exhibit 1")

    class FullDisk:
        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError) as caught:
        _copy_checked(item, FullDisk())  # type: ignore[arg-type]
    assert caught.value.errno == errno.ENOSPC
