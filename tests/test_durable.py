"""The durability helpers: atomic replacement of files, early writeback, fsync before publishing."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from locker import durable, store
from locker.errors import StoreError


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(durable.TMP_PREFIX))


def test_atomic_path_places_what_was_written(tmp_path: Path) -> None:
    final = tmp_path / "pack.pdf"
    final.write_bytes(b"old")
    with store.atomic_path(final) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(f"{durable.TMP_PREFIX}{os.getpid()}-")
        assert tmp.exists() and oct(tmp.stat().st_mode & 0o777) == oct(0o600 & ~_umask())
        tmp.write_bytes(b"new")
        assert final.read_bytes() == b"old"  # nothing is seen before the block ends
    assert final.read_bytes() == b"new" and temps(tmp_path) == []


def test_an_error_in_the_block_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    final = tmp_path / "head.json"
    final.write_bytes(b"old")
    for error in (ValueError, KeyboardInterrupt):
        with pytest.raises(error), store.atomic_file(final) as out:
            out.write(b"half")
            raise error()
    assert final.read_bytes() == b"old" and temps(tmp_path) == []


def test_replace_false_never_overwrites(tmp_path: Path) -> None:
    final = tmp_path / "export.pdf"
    with store.atomic_path(final, replace=False) as tmp:
        tmp.write_bytes(b"first")
    assert final.read_bytes() == b"first"
    with pytest.raises(FileExistsError), store.atomic_path(final, replace=False) as tmp:
        tmp.write_bytes(b"second")
    assert final.read_bytes() == b"first" and temps(tmp_path) == []


def test_place_fsyncs_file_then_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(durable, "fsync_file", lambda p: calls.append(f"file {p.name[:5]}"))
    monkeypatch.setattr(durable, "fsync_dir", lambda p: calls.append("dir"))
    store.write_atomic(tmp_path / "profile.toml", b"tz = 'UTC'\n")
    assert calls == ["file .tmp-", "dir"]
    calls.clear()
    with store.atomic_path(tmp_path / "cache.jpg", durable=False) as tmp:
        tmp.write_bytes(b"x")
    assert calls == [] and (tmp_path / "cache.jpg").read_bytes() == b"x"


def test_write_atomic_failure_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        store.write_atomic(tmp_path / "missing" / "file", b"x")


def test_writeback_starts_early_and_waits_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int, int]] = []
    monkeypatch.setattr(durable, "sync_range", lambda fd, off, n, flags: calls.append((off, n, flags)) or True)
    flush = durable.Writeback(-1)
    step, lag = durable.WRITEBACK_STEP, durable.WRITEBACK_LAG
    for _ in range(2 * lag // step):
        flush.wrote(step)
    starts = [c for c in calls if c[2] == durable.SFR_WRITE]
    waits = [c for c in calls if c[2] != durable.SFR_WRITE]
    assert starts == [(i * step, step, durable.SFR_WRITE) for i in range(2 * lag // step)]
    assert waits and waits[-1][0] + waits[-1][1] == lag  # never more than WRITEBACK_LAG left to flush
    assert sum(n for _, n, _ in waits) == lag


def test_sync_range_reports_a_failed_write(tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        available = durable.sync_range(fd, 0, 0, durable.SFR_WRITE)
    finally:
        os.close(fd)
    if not sys.platform.startswith("linux"):
        assert available is False  # no such call: the fdatasync fall-back is used
        return
    assert available is not False  # Linux has it: early write-back really runs (it never did before)
    with pytest.raises(OSError):
        durable.sync_range(-1, 0, 0, durable.SFR_WRITE)  # EBADF, not a silent "no"


def test_a_large_object_is_written_back_before_it_is_fsynced(tmp_path: Path) -> None:
    """Staged without sync, a file of a few WRITEBACK_STEPs is mostly on disk already: what matters is
    that the bytes are right and the temp is left for make_durable and publish."""
    source = tmp_path / "big.bin"
    data = os.urandom(3 * durable.WRITEBACK_STEP + 12345)
    source.write_bytes(data)
    objects = tmp_path / "objects"
    objects.mkdir()
    staged = store.stage(source, objects, sync=False)
    assert staged.sha256 == hashlib.sha256(data).hexdigest() and staged.tmp.read_bytes() == data
    store.make_durable([staged], objects)
    final = objects / staged.sha256[:2] / staged.sha256[2:]
    assert store.publish(staged, final) and final.read_bytes() == data


def test_make_durable_fsyncs_few_and_syncs_many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(store, "fsync_file", lambda p: calls.append("fsync"))
    monkeypatch.setattr(store, "sync_filesystem", lambda p: calls.append("syncfs"))
    few = [store.Staged(tmp_path / f"t{i}", "0" * 64, 1) for i in range(store.FSYNC_FILES_MAX)]
    store.make_durable(few, tmp_path)
    assert calls == ["fsync"] * store.FSYNC_FILES_MAX
    calls.clear()
    store.make_durable([*few, *few], tmp_path)
    assert calls == ["syncfs"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_fsync_dirs_fsyncs_few_and_syncs_many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(durable, "fsync_dir", lambda p: calls.append("fsync"))
    monkeypatch.setattr(durable, "sync_filesystem", lambda p: calls.append("syncfs"))
    durable.fsync_dirs([tmp_path] * durable.FSYNC_MAX)
    assert calls == ["fsync"] * durable.FSYNC_MAX
    calls.clear()
    durable.fsync_dirs([tmp_path] * (durable.FSYNC_MAX + 1))
    assert calls == ["syncfs"]


class _FakeLibc:
    def __init__(self, code: int) -> None:
        self.code = code

    def syncfs(self, fd: int) -> int:
        import ctypes

        ctypes.set_errno(self.code)
        return -1


def test_a_failed_syncfs_is_an_error_not_durable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    monkeypatch.setattr(durable, "_libc", lambda: _FakeLibc(errno.EIO))
    with pytest.raises(StoreError):
        durable.sync_filesystem(tmp_path)
    synced: list[bool] = []
    monkeypatch.setattr(durable, "_libc", lambda: _FakeLibc(errno.ENOSYS))  # no syncfs: a global sync instead
    monkeypatch.setattr(os, "sync", lambda: synced.append(True))
    durable.sync_filesystem(tmp_path)
    assert synced == [True]


def test_without_sync_file_range_writeback_is_an_fdatasync_now_and_then(monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(durable, "sync_range", lambda *a: False)
    monkeypatch.setattr(os, "fdatasync", synced.append)
    flush = durable.Writeback(7)
    for _ in range(2 * durable.WRITEBACK_LAG // durable.WRITEBACK_STEP):
        flush.wrote(durable.WRITEBACK_STEP)
    assert synced == [7, 7]


def test_a_large_copy_hands_the_gil_on_promptly_and_restores_the_interval(tmp_path: Path) -> None:
    import sys

    before = sys.getswitchinterval()
    seen: list[float] = []
    with store.PROMPT_SWITCH:
        with store.PROMPT_SWITCH:  # two copies at once: the first to finish must not restore it
            seen.append(sys.getswitchinterval())
        seen.append(sys.getswitchinterval())
    assert seen == [min(before, store.PIPE_SWITCH)] * 2 and sys.getswitchinterval() == before
