"""A dispute built beside the home and moved in only when whole: ``locker import`` (from a bundle) and
``locker restore --from`` (from a remote) both bring one in this way.

The new dispute is built in a hidden staging folder of the home (``<prefix><pid>-<random>``). Its
final name is reserved by an empty folder that holds a mark of the same name, so that two runs cannot
take one name and a reader never sees half a dispute; the finished dispute replaces that folder in
one rename. A process killed on the way leaves its staging folder and its marked empty folder;
:func:`clean_stale` removes both once that process is gone.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from .. import durable, store
from ..errors import UsageError
from ..i18n import _
from ..paths import Home


class Landing:
    """``with Landing(home, ".import-") as landing:`` — :meth:`reserve` the name, build the dispute in
    :meth:`builder`'s home, then :meth:`move_in`. Leaving the block any other way removes the staging
    folder and frees the name."""

    def __init__(self, home: Home, prefix: str) -> None:
        self.home = home
        self.mark = f"{prefix}{os.getpid()}-{secrets.token_hex(6)}"
        self.staging = home.root / self.mark
        self.reserved: Path | None = None  # the final name's folder, until the dispute is in it

    def __enter__(self) -> Landing:
        self.staging.mkdir(mode=0o700)
        return self

    def reserve(self, slug: str) -> None:
        target = self.home.dispute(slug).root
        try:
            target.mkdir(mode=0o700)
        except FileExistsError:
            raise UsageError(_("a dispute named {slug} is in this home already; choose another name with --as").format(
                slug=slug)) from None
        self.reserved = target
        (target / self.mark).touch(mode=0o600)  # whose the empty folder is, should this process be killed

    def builder(self) -> Home:
        """The home inside the staging folder where the dispute is built."""
        return Home(self.staging / "home").ensure()

    def move_in(self, built: Home, slug: str) -> None:
        """The dispute ``slug`` built in ``built`` takes the reserved name (made durable first)."""
        if self.reserved is None:
            raise RuntimeError("move_in before reserve")
        root = built.dispute(slug).root
        durable.fsync_dirs([root, built.disputes])
        (self.reserved / self.mark).unlink()
        os.replace(root, self.reserved)
        durable.fsync_dir(self.home.disputes)
        self.reserved = None

    def __exit__(self, *exc: Any) -> None:
        if self.reserved is not None:
            try:
                (self.reserved / self.mark).unlink(missing_ok=True)
                self.reserved.rmdir()
            except OSError:
                pass
        shutil.rmtree(self.staging, ignore_errors=True)


def clean_stale(home: Home, prefix: str) -> int:
    """Remove what a run killed before it finished left: its staging folder in the home, and the empty
    folder it had reserved for the dispute's name (marked with the same name). Only those of a process
    that is no longer running; returns how many were removed."""
    removed = 0
    try:
        staged = [e for e in os.scandir(home.root) if store.left_by_dead_process(e.name, prefix)]
    except OSError:
        return 0
    for entry in staged:
        shutil.rmtree(entry.path, ignore_errors=True)
        removed += 1
    try:
        folders = [e for e in os.scandir(home.disputes) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return removed
    for folder in folders:
        try:
            inside = os.listdir(folder.path)
        except OSError:
            continue
        if len(inside) == 1 and store.left_by_dead_process(inside[0], prefix):
            try:
                os.unlink(os.path.join(folder.path, inside[0]))
                os.rmdir(folder.path)
                removed += 1
            except OSError:
                pass
    return removed
