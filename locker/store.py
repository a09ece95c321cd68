"""Content-addressed originals: ``objects/ab/cdef…``, named by their SHA-256.

An object is written in one pass over the source bytes (read → hash → write a
temp file in the objects folder), made durable, renamed into place and made
read-only. Nothing here touches the database: the caller records the object
only after :func:`publish` has returned.
"""

from __future__ import annotations

import errno
import hashlib
import mmap
import os
import stat
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

# durable.py holds the fsync and atomic-write helpers; the `X as X` names are the store's face for them.
from .durable import FSYNC_MAX as FSYNC_FILES_MAX
from .durable import SFR_WRITE, Writeback, remove_quietly, sync_range
from .durable import TMP_PREFIX as TMP_PREFIX
from .durable import atomic_file as atomic_file
from .durable import atomic_path as atomic_path
from .durable import drop_cached as drop_cached
from .durable import fsync_dir as fsync_dir
from .durable import fsync_dirs as fsync_dirs
from .durable import fsync_file as fsync_file
from .durable import os_error as os_error
from .durable import place as place
from .durable import sync_filesystem as sync_filesystem
from .durable import temp_path as temp_path
from .durable import write_atomic as write_atomic
from .errors import InputRefused
from .errors import StoreError as StoreError  # custody catches store.StoreError
from .i18n import _

_os_error = os_error  # its older name, still used by services
CHUNK = 256 * 1024  # measured best for read+hash+write here (FIELD-NOTES)
# An add, or a file, this large leaves the page cache about as it found it: a file is dropped from it
# behind its copy's writeback, an add's objects once committed (services.ingest._commit says why).
# A gigabyte: more than the originals of a usual pack (300 exhibits: 0.4 GB), which its first export
# reads again soon after the add. At 256 MiB the first export after adding the 300 of
# bench_progress.py read them back from disk; its bar stood still in the write for 0.58 and 0.62 s
# in two such runs, against 0.30-0.52 s in four with them cached (target 0.5 s; this VM is noisy).
BULK_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class Staged:
    """A fully written, not yet published object."""

    tmp: Path
    sha256: str
    size: int
    changed: bool = False  # the source's size or modification time moved while it was read
    head: bytes = field(default=b"", repr=False)  # the first bytes copied, when asked for (see stage)


def _buffer(size: int = CHUNK) -> mmap.mmap:
    """Page-aligned memory (a plain bytearray makes readinto() pay 3.5x the kernel time), private to
    this process. Python maps anonymous memory shared unless told otherwise, and a shared mapping
    stays shared across fork: a thread's kept buffer (_thread_buffer), inherited by two stager
    processes (services.stage.Stagers), was one buffer for both, and a copy got the other's bytes
    under its own hash."""
    private = getattr(mmap, "MAP_PRIVATE", None)  # Windows has no flags
    return mmap.mmap(-1, size) if private is None else mmap.mmap(-1, size, flags=private)


_THREAD = threading.local()


def _thread_buffer() -> mmap.mmap:
    """This thread's copy buffer, kept for its next file: a fresh mapping per small file cost
    its 64 page faults and their zeroing every time (a folder of 2,000 screenshots: 128,000).
    Freed with the thread (the ingest workers end with their add)."""
    buf: mmap.mmap | None = getattr(_THREAD, "buf", None)
    if buf is None or buf.closed:
        buf = _THREAD.buf = _buffer()
    return buf


def hash_file(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, memory flat in its size."""
    digest = hashlib.sha256()
    size = 0
    buf = _buffer()
    view = memoryview(buf)
    try:
        with open(path, "rb", buffering=0) as src:
            while n := src.readinto(view):
                digest.update(view[:n])
                size += n
    finally:
        view.release()
        buf.close()
    return digest.hexdigest(), size


PIPELINE_MIN = 8 * 1024 * 1024  # files this large hash and write on two threads
PIPE_CHUNK = 512 * 1024
PIPE_BUFFERS = 16
PROGRESS_EVERY = 16 * 1024 * 1024
PIPE_SWITCH = 0.0005  # seconds: the GIL switch interval while a large file is copied (the default is 5 ms)


class PromptSwitch:
    """While any large copy runs, the interpreter hands the GIL on every PIPE_SWITCH seconds, not every 5 ms.

    A thread running Python code (``locker add`` imports SQLAlchemy on one while the first file is
    copied) otherwise keeps the GIL for whole intervals while the reader and writer threads, back
    from each read, write and hash, wait for it. Measured (5 pairs, loaded machine): 128 MiB staged
    during those imports in a median 0.96 s instead of 1.25 s, faster in every pair.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.saved = 0.0

    def __enter__(self) -> None:
        with self.lock:
            if not self.users:
                self.saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self.saved, PIPE_SWITCH))
            self.users += 1

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.users -= 1
            if not self.users:
                sys.setswitchinterval(self.saved)


PROMPT_SWITCH = PromptSwitch()


def stage(source: Path, objects: Path, *, sync: bool, on_progress: Callable[[int], None] | None = None,
          head: int = 0) -> Staged:
    """Copy ``source`` into a temp file under ``objects`` while hashing it.

    ``sync=True`` fsyncs the temp file before returning; otherwise its
    writeback is started and the caller must make it durable (see
    :func:`make_durable`) before publishing.
    A read error on the source is an :class:`InputRefused`; a write error a
    :class:`StoreError`. Either way no temp file is left behind. A large file
    reports its progress (bytes copied since the last call) to ``on_progress``
    every PROGRESS_EVERY bytes, from this thread. The first ``head`` bytes copied (all of a
    shorter file) come back as ``Staged.head``: the bytes the copy holds, so that whoever looks at
    its start (the probe) need not open and read the copy again.
    """
    tmp = temp_path(objects)
    try:
        src_fd = os.open(source, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise InputRefused(_("cannot read: {reason}").format(reason=err.strerror), path=str(source)) from None
    dst_fd = -1
    try:
        info = os.fstat(src_fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputRefused(_("not a regular file"), path=str(source))
        try:
            dst_fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as err:
            raise _os_error(err, objects) from None
        pipelined = info.st_size >= PIPELINE_MIN
        switch: AbstractContextManager[None] = PROMPT_SWITCH if pipelined else nullcontext()
        with switch:
            copy = _copy_pipelined if pipelined else _copy_simple
            sha256, size, start = copy(src_fd, dst_fd, source, objects, on_progress, head)
        changed = _moved(info, os.fstat(src_fd), size)
        if size == 0:
            raise InputRefused(_("empty file"), path=str(source))
        try:
            os.fsync(dst_fd) if sync else sync_range(dst_fd, 0, 0, SFR_WRITE)
        except OSError as err:
            raise _os_error(err, objects) from None
    except BaseException:
        if dst_fd >= 0:
            os.close(dst_fd)
            dst_fd = -1
        remove_quietly(tmp)
        raise
    finally:
        os.close(src_fd)
        if dst_fd >= 0:
            os.close(dst_fd)
    return Staged(tmp=tmp, sha256=sha256, size=size, changed=changed, head=start)


def _moved(before: os.stat_result, after: os.stat_result, copied: int) -> bool:
    """Did another program write to the file while it was copied? Asked of the same open file,
    so a rename or replace of the path in the meantime does not count: what was read is what is
    stored either way, and the hash is of those bytes."""
    return (after.st_size != before.st_size or after.st_mtime_ns != before.st_mtime_ns
            or copied != before.st_size)


def _read(src_fd: int, view: memoryview, source: Path, done: int) -> int:
    try:
        return os.readv(src_fd, [view])
    except OSError as err:
        raise InputRefused(_("read error after {done} bytes: {reason}").format(done=done, reason=err.strerror), path=str(source)) from None


def _write_all(dst_fd: int, chunk: memoryview, objects: Path) -> None:
    rest = chunk
    try:
        while rest:
            rest = rest[os.write(dst_fd, rest):]
    except OSError as err:
        raise _os_error(err, objects) from None
    finally:
        if rest is not chunk:  # a slice kept alive by the traceback would pin the mmap (BufferError on close)
            rest.release()


def _copy_simple(src_fd: int, dst_fd: int, source: Path, objects: Path,
                 on_progress: Callable[[int], None] | None = None, head: int = 0) -> tuple[str, int, bytes]:
    """Read, hash, write: one thread, one buffer. Right for the many small files of a phone
    (too small to report progress within a file: ``on_progress`` is not called)."""
    digest = hashlib.sha256()
    size = 0
    start = b""
    view = memoryview(_thread_buffer())
    try:
        while n := _read(src_fd, view, source, size):
            with view[:n] as chunk:
                digest.update(chunk)
                _write_all(dst_fd, chunk, objects)
                if size < head:
                    start += chunk[:head - size]
            size += n
    finally:
        view.release()
    return digest.hexdigest(), size, start


def _copy_pipelined(src_fd: int, dst_fd: int, source: Path, objects: Path,
                    on_progress: Callable[[int], None] | None = None, head: int = 0) -> tuple[str, int, bytes]:
    """Read and hash on this thread while a writer thread writes the previous chunks.

    hashlib, read and write all release the GIL, so on two cores hashing and
    writing overlap and a large file costs about what its hashing costs. The
    writer also keeps the disk busy from the first megabytes on (see
    :class:`Writeback`), so that no final flush has to write the whole file.
    A ring of PIPE_BUFFERS page-aligned buffers keeps memory flat.
    """
    import queue

    buffers = [_buffer(PIPE_CHUNK) for _ in range(PIPE_BUFFERS)]
    free: queue.SimpleQueue[int] = queue.SimpleQueue()
    filled: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
    for i in range(PIPE_BUFFERS):
        free.put(i)
    failure: list[BaseException] = []

    drop_behind = os.fstat(src_fd).st_size >= BULK_BYTES

    def writer() -> None:
        flush = Writeback(dst_fd, drop_behind)
        while (item := filled.get()) is not None:
            index, n = item
            if not failure:
                try:
                    with memoryview(buffers[index])[:n] as chunk:
                        _write_all(dst_fd, chunk, objects)
                    flush.wrote(n)
                except OSError as err:
                    failure.append(_os_error(err, objects))
                except BaseException as err:  # handed to the reading thread
                    failure.append(err)
            free.put(index)

    thread = threading.Thread(target=writer, name="locker-writer", daemon=True)
    thread.start()
    digest = hashlib.sha256()
    size = reported = 0
    start = b""
    try:
        while not failure:
            index = free.get()
            view = memoryview(buffers[index])
            try:
                n = _read(src_fd, view, source, size)
                if not n:
                    free.put(index)
                    break
                with view[:n] as chunk:
                    filled.put((index, n))
                    digest.update(chunk)
                    if size < head:
                        start += chunk[:head - size]
            finally:
                view.release()
            size += n
            if on_progress is not None and size - reported >= PROGRESS_EVERY:
                on_progress(size - reported)
                reported = size
    finally:
        filled.put(None)
        thread.join()
        for buf in buffers:
            buf.close()
    if failure:
        raise failure[0]
    return digest.hexdigest(), size, start


def make_durable(staged: Sequence[Staged], folder: Path) -> None:
    """Make the staged objects' bytes durable, before they are published.

    A few files are fsynced one by one: that writes what is theirs and nothing
    else (their writeback was started while they were copied, so little is
    left). A larger group is flushed by one :func:`sync_filesystem`, cheaper
    than an fsync, and so a journal commit, per file.
    """
    if len(staged) > FSYNC_FILES_MAX:
        sync_filesystem(folder)
        return
    for item in staged:
        try:
            fsync_file(item.tmp)
        except OSError as err:
            raise _os_error(err, item.tmp) from None


def publish(staged: Staged, final: Path, *, parent_made: bool = False) -> bool:
    """Move a durable staged object to its content address, read-only.

    Returns False when an intact object is already there (the staged copy is
    dropped, the stored one never rewritten). A stored copy that no longer
    matches its name is left alone for ``verify`` to report. ``parent_made``:
    the caller saw the shard folder exist (see :func:`shards`).
    """
    parent = final.parent
    try:
        if not parent_made:
            parent.mkdir(mode=0o700, exist_ok=True)
        if os.path.exists(final):
            staged.tmp.unlink(missing_ok=True)
            return False
        os.chmod(staged.tmp, 0o444)
        os.replace(staged.tmp, final)
    except OSError as err:
        staged.tmp.unlink(missing_ok=True)
        raise _os_error(err, final) from None
    return True


def shards(objects: Path) -> frozenset[str]:
    """The names of the shard folders ``objects`` holds (nothing if it cannot be listed)."""
    try:
        with os.scandir(objects) as entries:
            return frozenset(e.name for e in entries if e.is_dir(follow_symlinks=False))
    except OSError:
        return frozenset()


def discard(staged: Staged) -> None:
    staged.tmp.unlink(missing_ok=True)


def clean_stale_temps(objects: Path) -> int:
    """Remove temp files left by processes that died mid-write. Returns how many."""
    removed = 0
    try:
        entries = list(os.scandir(objects))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not left_by_dead_process(entry.name):
            continue
        try:
            os.unlink(entry.path)
            removed += 1
        except OSError:
            pass
    return removed


def left_by_dead_process(name: str, prefix: str = TMP_PREFIX) -> bool:
    """Is ``name`` a temp name (``PREFIX<pid>-…``) whose process is no longer running?"""
    if not name.startswith(prefix):
        return False
    pid = name[len(prefix):].split("-", 1)[0]
    return not (pid.isdigit() and _alive(int(pid)))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Has ``pid`` exited, not yet reaped (a killed command's workers, until init reaps them)? Linux only."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] == b"Z"


def iter_objects(objects: Path) -> list[tuple[str, Path]]:
    """Every stored object as (sha256 from its name, path), temp files excluded."""
    found = []
    try:
        shards = sorted(os.scandir(objects), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    for shard in shards:
        if shard.name.startswith(".") or not shard.is_dir(follow_symlinks=False):
            continue
        for entry in sorted(os.scandir(shard.path), key=lambda e: e.name):
            found.append((shard.name + entry.name, Path(entry.path)))
    return found


class ObjectsLock:
    """An advisory lock on the objects folder itself (``flock`` on its directory fd).

    ``locker add`` holds it shared for its whole run, so that any number of adds
    proceed together; removing orphaned objects holds it exclusive, so that it never
    deletes an object an add has published but not yet recorded. The kernel drops
    the lock when its holder dies, so a killed add never leaves it held.
    """

    def __init__(self, objects: Path, *, exclusive: bool, wait: bool = True) -> None:
        self.objects = objects
        self.exclusive = exclusive
        self.wait = wait
        self.fd = -1

    def __enter__(self) -> ObjectsLock:
        import fcntl

        self.fd = os.open(self.objects, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        flags = fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH
        if not self.wait:
            flags |= fcntl.LOCK_NB
        try:
            fcntl.flock(self.fd, flags)
        except OSError as err:
            os.close(self.fd)
            self.fd = -1
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise StoreError(_("another locker command is adding files to this dispute; try again when it ends"),
                                 path=str(self.objects)) from None
            raise _os_error(err, self.objects) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = -1


def is_object_name(sha256: str) -> bool:
    return len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)


def remove_object(path: Path) -> None:
    """Delete one stored object (only ever an orphan: see ``verify.remove_orphans``)."""
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass
    path.unlink(missing_ok=True)
    fsync_dir(path.parent)
    try:
        path.parent.rmdir()  # an emptied shard goes too
    except OSError:
        pass
