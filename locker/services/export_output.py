"""Where an export's pack goes, and how it gets there: the default name in the dispute's exports
folder, or ``-o`` (never inside the locker home, never over a file without ``--force``); the finished
pack is linked or renamed into place; temp files of killed exports are removed."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from .. import store
from ..errors import LockerError, UsageError
from ..i18n import _
from ..paths import DisputeDir, Home
from ..values import resolve_tz


def place(temp: Path, final: Path, *, replace: bool) -> None:
    """Rename the finished pack into place; without ``replace`` never over a file that appeared meanwhile
    (a hard link fails when the name exists, atomically; where links are not supported, a last look)."""
    import errno

    if replace:
        os.replace(temp, final)
        return
    try:
        os.link(temp, final)
    except FileExistsError:
        raise refuse_existing(final) from None
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        if final.exists():
            raise refuse_existing(final) from None
        os.replace(temp, final)
        return
    temp.unlink()


def place_recorded(temp: Path, final: Path, *, replace: bool) -> None:
    """:func:`place` a file that its custody entry already records, removing the temp file if it cannot be
    placed (a disk error is said as the locker says one), then make the rename durable."""
    from .. import store

    try:
        place(temp, final, replace=replace)
    except OSError as err:
        temp.unlink(missing_ok=True)
        raise store._os_error(err, final) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    store.fsync_dir(final.parent)


def refuse_existing(path: Path) -> UsageError:
    return UsageError(_("the file exists; export will not replace it (add --force to replace it, or name another file)"), path=str(path))


def target(home: Home, ddir: DisputeDir, output: str | None, lang: str, tz_name: str | None, *,
            force: bool = False) -> Path:
    """Where the pack goes. ``-o`` never names a place inside the locker home (its databases, objects and
    derived files are not to be overwritten, nor its folders filled with packs it does not record as
    such), and never an existing file unless ``force``."""
    tz = resolve_tz(tz_name) if tz_name else None
    stamp = datetime.now(tz).strftime("%Y%m%d-%H%M%S")
    name = f"{ddir.slug}-{lang}-{stamp}.pdf"
    if output:
        path = Path(output).expanduser()
        outside_home(home, path)
        if path.is_dir():
            folder = path
        else:
            if not path.parent.is_dir():
                raise UsageError(_("no such folder: {parent}").format(parent=path.parent), path=str(path))
            if (path.exists() or path.is_symlink()) and not force:
                raise refuse_existing(path)
            if path.exists() and not path.is_file():
                raise UsageError(_("not a regular file; export writes only to a new or a regular file"),
                                 path=str(path))
            return path.resolve()
    else:
        folder = ddir.exports
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as err:
            raise LockerError(_("cannot create the exports folder: {reason}").format(reason=err.strerror), path=str(folder)) from None
    candidate = folder / name
    n = 2
    while candidate.exists():
        candidate = folder / f"{ddir.slug}-{lang}-{stamp}-{n}.pdf"
        n += 1
    return candidate.resolve()


def outside_home(home: Home, path: Path) -> None:
    """Refuse ``path`` (or where its symlinks lead) when it lies inside the locker home."""
    root = home.root.resolve()
    for candidate in {Path(os.path.abspath(path)), path.resolve()}:
        if candidate == root or root in candidate.parents:
            raise UsageError(_("is inside the locker home; export writes its packs there itself (leave out -o to write one into the dispute's exports folder) and -o names a place outside it"),
                             path=str(path))


def clean_stale(folder: Path) -> None:
    """Temporary files and work folders left in exports/ by exports that were killed."""
    import shutil

    store.clean_stale_temps(folder)
    for entry in folder.glob(f"{store.TMP_PREFIX}*-export-*"):
        if entry.is_dir() and store.left_by_dead_process(entry.name):
            shutil.rmtree(entry, ignore_errors=True)
