"""Building a new catalog from every dispute (``locker reindex``), published when complete."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..db import connect
from ..errors import LockerError
from ..paths import Home
from . import catalog_files
from .catalog_sync import RACY_NS, stamp, sync


def rebuild(home: Home, slugs: list[str], progress: Any = None) -> tuple[Path, int, list[tuple[str, str]]]:
    """A new catalog from every dispute, published when complete. → (path, rows, problems)."""
    home.ensure()
    path = catalog_files.new_path(home)
    con = catalog_files.create(path, build=True)
    problems: list[tuple[str, str]] = []
    try:
        stamps = {}
        order = []
        for slug in slugs:  # oldest first: newer disputes get higher numbers and rank first
            db = home.dispute(slug).db
            found = stamp(db)
            if found is None:
                continue
            stamps[slug] = found
            try:
                dcon = connect(db)
            except LockerError as err:
                problems.append((slug, err.message))
                continue
            try:
                created = (dcon.execute("SELECT created_at FROM dispute").fetchone() or ("",))[0] or ""
            except sqlite3.DatabaseError as err:
                problems.append((slug, f"cannot read the dispute database: {err}"))
                continue
            finally:
                dcon.close()
            order.append((created, slug))
        taken = time.time_ns()
        for _created, slug in sorted(order):
            sig, newest = stamps[slug]
            try:
                sync(con, home, slug, sig, settled=newest < taken - RACY_NS)
            except LockerError as err:
                problems.append((slug, err.message))
            if progress is not None:
                progress.advance(_size(home.dispute(slug).db), slug)
        (rows,) = con.execute("SELECT COUNT(*) FROM doc").fetchone()
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        con.close()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(f"{path}{suffix}")
            except OSError:
                pass
        raise
    con.close()
    catalog_files.publish(home, path)
    return path, rows, problems


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
