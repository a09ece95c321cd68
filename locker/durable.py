"""Bytes that survive a crash: fsync helpers, early writeback, atomic replacement of files.

The store (``locker/store.py``) and every module that writes a file of the
locker use these: a file is written under a temporary name in its own folder
(:func:`temp_path`, recognisable as litter once its writer died), made durable,
then renamed into place (:func:`place`, :func:`atomic_path`,
:func:`atomic_file`, :func:`write_atomic`), so that a reader or a crash sees
the old bytes or the new, never half. Renaming whole folders into place is a
different case, left to their owners.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .errors import StoreError
from .i18n import _

TMP_PREFIX = ".tmp-"
WRITEBACK_STEP = 16 * 1024 * 1024  # a large file's writeback is started every this many bytes (FIELD-NOTES)
WRITEBACK_LAG = 64 * 1024 * 1024  # ... and waited for once the writing is this far ahead: few dirty pages
FSYNC_MAX = 8  # more files or folders than this are made durable by one syncfs: fsyncing 200 new folders
# took 0.6-1.0 s here, one syncfs 0.01 s; 256 small files: fsyncs 2-3x one syncfs


def os_error(err: OSError, path: Path | str) -> StoreError:
    if err.errno == errno.ENOSPC:
        reason = _("no space left on the device holding the locker")
    elif err.errno == errno.EDQUOT:
        reason = _("disk quota exceeded")
    elif err.errno == errno.EFBIG:
        reason = _("file too large for the locker's file system")
    else:
        reason = err.strerror or str(err)
    return StoreError(reason, path=str(path))


def sync_filesystem(folder: Path) -> None:
    """Make every written file on ``folder``'s file system durable, in one call.

    ``syncfs`` where the C library has it (Linux), else a global ``sync``.
    Used to group the durability of many small objects into one flush.
    """
    fd = os.open(folder, os.O_RDONLY)
    try:
        syncfs = getattr(_libc(), "syncfs", None)
        if syncfs is not None and syncfs(fd) != 0:
            code = ctypes.get_errno()
            if code != errno.ENOSYS:  # a write that failed (EIO, ENOSPC) must not pass for durable
                raise os_error(OSError(code, os.strerror(code)), folder)
            syncfs = None
        if syncfs is None:
            os.sync()
    finally:
        os.close(fd)


SFR_WAIT_BEFORE, SFR_WRITE, SFR_WAIT_AFTER = 1, 2, 4  # sync_file_range(2) flags (Linux)
_LIBC: list[ctypes.CDLL | None] = []


def _libc() -> ctypes.CDLL | None:
    if not _LIBC:
        try:
            lib: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
        except OSError:
            lib = None
        sfr = getattr(lib, "sync_file_range", None)
        if sfr is not None:
            sfr.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
        _LIBC.append(lib)
    return _LIBC[0]


def sync_range(fd: int, offset: int, length: int, flags: int) -> bool:
    """``sync_file_range(fd, offset, length, flags)``; False where the system has none (then nothing
    was done). A failed write it finds is raised (OSError), not left for a later fsync to miss."""
    sfr = getattr(_libc(), "sync_file_range", None)
    if sfr is None:
        return False
    if sfr(fd, offset, length, flags) != 0:
        code = ctypes.get_errno()
        if code in (errno.ENOSYS, errno.EINVAL, errno.ESPIPE):  # not supported here: a hint lost, no harm
            return False
        raise OSError(code, os.strerror(code))
    return True


class Writeback:
    """Keeps the disk busy while a large file is still being hashed and written.

    Linux starts writing dirty pages only once gigabytes of them pile up, so
    without help every byte would wait for the final fsync. Every
    WRITEBACK_STEP bytes the new range's writeback is started, and the range
    written WRITEBACK_LAG earlier is waited for: the final flush then has at
    most that much left, and the dirty pages stay few whatever the file size.
    Where there is no ``sync_file_range``, an ``fdatasync`` every WRITEBACK_LAG
    bytes does the same job (this runs on the writer thread, not the hasher).
    ``drop_behind``: each range once on disk is dropped from the page cache too (see
    store.BULK_BYTES), so that the next megabytes are written into the pages just freed.
    """

    def __init__(self, fd: int, drop_behind: bool = False) -> None:
        self.fd = fd
        self.drop_behind = drop_behind
        self.written = self.started = self.waited = 0

    def _done(self, upto: int) -> None:
        """Everything before ``upto`` is on disk."""
        if self.drop_behind:
            _dont_need(self.fd, self.waited, upto - self.waited)
        self.waited = upto

    def wrote(self, n: int) -> None:
        self.written += n
        if self.written - self.started < WRITEBACK_STEP:
            return
        if not sync_range(self.fd, self.started, self.written - self.started, SFR_WRITE):
            if self.written - self.waited >= WRITEBACK_LAG:
                getattr(os, "fdatasync", os.fsync)(self.fd)  # macOS has no fdatasync
                self._done(self.written)
            self.started = self.written
            return
        self.started = self.written
        behind = self.started - WRITEBACK_LAG
        if behind > self.waited:
            sync_range(self.fd, self.waited, behind - self.waited, SFR_WAIT_BEFORE | SFR_WRITE | SFR_WAIT_AFTER)
            self._done(behind)


def fsync_file(path: Path) -> None:
    """Make a finished file's bytes durable (before it is renamed into place)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def drop_cached(path: Path) -> None:
    """Ask the kernel to drop a durable file's pages from the page cache (see _dont_need); a file
    that cannot be opened is left as it is."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        _dont_need(fd, 0, 0)
    finally:
        os.close(fd)


def _dont_need(fd: int, offset: int, length: int) -> None:
    """``posix_fadvise(POSIX_FADV_DONTNEED)`` on written-back pages (length 0: to the end). Advice
    only: where the system has none or refuses it, nothing happens, and nothing fails."""
    fadvise = getattr(os, "posix_fadvise", None)
    if fadvise is None:
        return
    try:
        fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass


def fsync_dirs(folders: Sequence[Path]) -> None:
    """Make renames and new names in ``folders`` (all on one file system) durable: an fsync each when
    they are few, else one :func:`sync_filesystem` (each folder fsync may cost a journal commit)."""
    if len(folders) > FSYNC_MAX:
        sync_filesystem(folders[0])
        return
    for folder in folders:
        fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the data is synced
    finally:
        os.close(fd)


def temp_path(folder: Path, name: str = "") -> Path:
    """A new temporary name in ``folder``, ``.tmp-<pid>-<random>[-name]``: once its writer has died,
    :func:`left_by_dead_process` recognises it as litter."""
    return folder / f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}{'-' if name else ''}{name}"


@contextmanager
def atomic_path(final: Path, *, mode: int = 0o600, durable: bool = True, replace: bool = True) -> Iterator[Path]:
    """A temporary file beside ``final``, for a writer that wants a path (Pillow, a PDF library, a copy).

    The file exists, empty and with ``mode``, when the block starts. When the
    block ends without an error it becomes ``final`` by :func:`place`: a
    reader, or a crash, sees the old file or the new one, never half of one.
    On any error (Ctrl-C included) the temporary file is removed and ``final``
    is left as it was.
    """
    tmp = temp_path(final.parent, final.name)
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode))
    except OSError as err:
        raise os_error(err, final) from None
    try:
        yield tmp
        place(tmp, final, durable=durable, replace=replace)
    except BaseException:
        remove_quietly(tmp)
        raise


@contextmanager
def atomic_file(final: Path, *, mode: int = 0o600, durable: bool = True) -> Iterator[BinaryIO]:
    """:func:`atomic_path` with the temporary file open for writing (binary, buffered)."""
    with atomic_path(final, mode=mode, durable=durable) as tmp, open(tmp, "wb") as out:
        yield out


def place(tmp: Path, final: Path, *, durable: bool = True, replace: bool = True) -> None:
    """Rename a finished temporary file to ``final`` in the same folder.

    ``durable``: the file is fsynced before the rename and the folder after it,
    so that once this returns the new bytes survive a crash. ``replace=False``
    never overwrites: an existing ``final`` raises FileExistsError (atomically
    where the file system has hard links). Other failures are a StoreError.
    """
    try:
        if durable:
            fsync_file(tmp)
        if replace:
            os.replace(tmp, final)
        else:
            _link_into(tmp, final)
    except FileExistsError:
        raise
    except OSError as err:
        raise os_error(err, final) from None
    if durable:
        fsync_dir(final.parent)


def _link_into(tmp: Path, final: Path) -> None:
    try:
        os.link(tmp, final)  # fails when the name exists, atomically
    except FileExistsError:
        raise
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        if final.exists():  # no hard links here: a last look, then the rename
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(final)) from None
        os.replace(tmp, final)
        return
    tmp.unlink()


def remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # a read-only folder says EROFS even for a name never created
        pass


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old or the new bytes, never half."""
    try:
        with atomic_file(path, mode=mode) as out:
            out.write(data)
    except OSError as err:
        raise os_error(err, path) from None
