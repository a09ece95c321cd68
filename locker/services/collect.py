"""The first step of ``locker add``: the command line's paths expanded into files, in order,
each one that cannot be evidence refused with a reason."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..i18n import _

SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Refused:
    """A path that was not added, and why."""

    path: str
    error: str


@dataclass
class Candidate:
    """A regular, readable, non-empty file to add."""

    path: Path
    size: int
    symlink_target: str | None = None  # the file a symbolic link named on the command line points to


@dataclass
class Collected:
    """The files to add in order, the paths refused, and what was skipped on purpose."""

    files: list[Candidate] = field(default_factory=list)
    errors: list[Refused] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def _kind_of_mode(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _stat_error(err: OSError) -> str:
    if err.errno == errno.ELOOP:
        return "symbolic link loop"
    if err.errno == errno.ENOENT:
        return "no such file or folder"
    if err.errno == errno.EACCES:
        return "permission denied"
    return err.strerror or str(err)


def _consider_file(path: Path, info: os.stat_result, out: Collected, symlink_target: str | None = None) -> None:
    if not stat.S_ISREG(info.st_mode):
        out.errors.append(Refused(str(path), f"not a regular file ({_kind_of_mode(info.st_mode)})"))
    elif info.st_size == 0:
        out.errors.append(Refused(str(path), "empty file"))
    elif not os.access(path, os.R_OK):
        out.errors.append(Refused(str(path), "unreadable: permission denied"))
    else:
        out.files.append(Candidate(path, info.st_size, symlink_target))


def _sorted_entries(folder: Path, out: Collected) -> Iterator[os.DirEntry[str]]:
    try:
        return iter(sorted(os.scandir(folder), key=lambda e: e.name))
    except OSError as err:
        out.errors.append(Refused(str(folder), _stat_error(err)))
        return iter(())


OWN_FILE = "a file of the locker itself (inside its home {home}): not evidence"


def _inside(real: str, home: str | None) -> bool:
    """Is the resolved path ``real`` the locker home or something in it?"""
    return home is not None and (real == home or real.startswith(home.rstrip(os.sep) + os.sep))


def _walk(top: Path, out: Collected, home: str | None = None) -> None:
    """Files and sub-folders together in name order, as a file list sorted by path reads.
    Iterative, so that no nesting depth can exhaust the stack."""
    stack = [_sorted_entries(top, out)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        path = Path(entry.path)
        try:
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                path.stat()  # raises ELOOP for a loop, ENOENT for a dangling link
                out.notices.append(_("{path}: skipped symbolic link inside a folder").format(path=path))
                continue
        except OSError as err:
            out.errors.append(Refused(str(path), _stat_error(err)))
            continue
        if entry.name in SKIP_NAMES or entry.name.startswith("._"):
            out.notices.append(_("{path}: skipped system file").format(path=path))
        elif stat.S_ISDIR(info.st_mode):
            if entry.name.startswith("."):
                out.notices.append(_("{path}: skipped hidden folder").format(path=path))
            elif _inside(os.path.realpath(path), home):
                out.errors.append(Refused(str(path), OWN_FILE.format(home=home)))
            else:
                stack.append(_sorted_entries(path, out))
        else:
            _consider_file(path, info, out)


def collect(paths: Sequence[str | os.PathLike[str]], home: Path | None = None) -> Collected:
    """Expand the command line into files, in order; refuse what cannot be evidence,
    including the locker's own files (anything inside ``home``, however it is named)."""
    out = Collected()
    home_real = os.path.realpath(home) if home is not None else None
    for raw in paths:
        path = Path(raw)
        try:
            info = path.stat()  # a symlink named on the command line is followed
            link = path.is_symlink()
        except OSError as err:
            out.errors.append(Refused(str(path), _stat_error(err)))
            continue
        real = os.path.realpath(path)
        if _inside(real, home_real):
            out.errors.append(Refused(str(path), OWN_FILE.format(home=home_real)))
        elif stat.S_ISDIR(info.st_mode):
            if link:
                out.notices.append(_("{path}: a symbolic link; followed to the folder {real}").format(path=path, real=real))
            _walk(path, out, home_real)
        else:
            _consider_file(path, info, out, real if link else None)
    return out
