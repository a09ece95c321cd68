"""``locker rename DISPUTE NEW-SLUG``: give a dispute another slug, and its folder that name.

The new slug is recorded first: the dispute row's ``slug`` and a ``dispute.renamed`` custody
entry (from the slug the database recorded, to the new one) in one transaction. Then the
folder moves in one rename, refused if the name is taken meanwhile, and the parent folder is
fsynced so that the move survives a power cut. A crash between the two leaves a folder whose
name differs from its recorded slug: ``show`` and ``verify`` say so, and running the same
``locker rename`` again finishes the move without a second entry.

The same command also *adopts* a folder's name: a dispute folder copied or moved by hand is
found by its folder name, and ``locker rename NAME NAME`` records that name as its slug
(a custody entry, no move).

The search catalog (a cache in the home) is told of the move at once, so that its copy of
the dispute is kept under the new name instead of being copied again; if that fails, the
next search notices the folder is gone and copies it under its new name anyway.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .. import custody, db, domain, durable
from ..errors import LockerError, UsageError
from ..i18n import _
from ..paths import SLUG_RE, Home
from ..values import now_utc
from . import disputes


@dataclass(frozen=True)
class Renamed:
    before: str  # the folder's name before
    after: str  # the new slug, and the folder's name now
    recorded_before: str  # the slug the database recorded before
    seq: int | None  # the custody entry; None when only an interrupted move was finished
    moved: bool  # whether the folder moved (not when a hand-given folder name was adopted)


def rename(home: Home, ref: str, new: str) -> Renamed:
    new = new.strip()
    if not SLUG_RE.match(new):
        raise UsageError(_("a dispute name uses a-z, 0-9 and '-', starts with a letter or digit and has at most "
                           "80 characters: {slug}").format(slug=repr(new)))
    home.require_writable()
    opened = disputes.resolve(home, ref)
    folder = opened.slug
    target = home.dispute(new)
    with db.reading(opened.engine) as session:
        recorded = disputes._one_dispute(session).slug
    if folder == new and recorded == new:
        raise UsageError(_("{slug} is already the name of this dispute").format(slug=new))
    if folder != new and os.path.lexists(target.root):
        raise LockerError(_("a dispute named {slug} exists already").format(slug=new), path=str(target.root))

    seq = None
    if recorded != new:
        now = now_utc()
        with disputes.recording(opened) as session:
            dispute = disputes.touch(session, now)
            recorded = dispute.slug  # as of this transaction: another rename may have run meanwhile
            dispute.slug = new
            session.add(dispute)
            session.flush()
            rows = custody.append(session.connection(), now, [domain.dispute_renamed(recorded, new)])
            seq = rows[-1]["seq"]
    if folder != new:
        db.dispose(opened.dir.db)
        _move(opened.dir.root, target.root)
        durable.fsync_dir(home.disputes)
        _tell_catalog(home, folder, new)
    return Renamed(folder, new, recorded, seq, folder != new)


def _move(old: Path, new: Path) -> None:
    """Rename a folder, never over an existing one (an empty folder too: a `new` reserves its
    name with one)."""
    try:
        if not _rename_noreplace(old, new):
            if os.path.lexists(new):
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(new))
            os.rename(old, new)
    except FileExistsError:
        raise LockerError(_("a dispute named {slug} exists already; the new name is recorded, the folder kept "
                            "its old name: rename it to another name").format(slug=new.name),
                          path=str(new)) from None
    except OSError as err:
        raise LockerError(_("the new name is recorded, but the folder could not be moved ({reason}): run the same "
                            "`locker rename` again").format(reason=err.strerror or err), path=str(old)) from None


_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _rename_noreplace(old: Path, new: Path) -> bool:
    """renameat2(RENAME_NOREPLACE) where the C library and the file system have it; False where
    not (the caller checks and renames instead). Raises FileExistsError when ``new`` exists."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    libc = ctypes.CDLL(name, use_errno=True)
    call = getattr(libc, "renameat2", None)
    if call is None:
        return False
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if call(_AT_FDCWD, os.fsencode(old), _AT_FDCWD, os.fsencode(new), _RENAME_NOREPLACE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):  # not on this file system: fall back
        return False
    raise OSError(code, os.strerror(code), str(old), None, str(new))


def _tell_catalog(home: Home, before: str, after: str) -> None:
    from ..search import catalog_files, catalog_sync

    path = catalog_files.current_path(home)
    if path is None:
        return
    try:
        con = catalog_files._connect(path)
    except (OSError, sqlite3.Error):
        return
    try:
        catalog_sync.rename(con, before, after)
    except (OSError, sqlite3.Error):
        pass  # a cache: the next search copies the dispute under its new name
    finally:
        con.close()
