"""Keeping the catalog fresh: stamps of the dispute databases, and copying what changed.

See :mod:`locker.search.catalog` for why a stamp is enough and when it is not trusted.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..db import connect, immediate
from ..errors import LockerError
from ..i18n import _
from ..paths import DB_NAME, Home, is_folder_name
from . import index
from .text import index_text

RACY_NS = 3_000_000_000
_DISPUTE_COLUMNS = ("no", "slug", "uuid", "title", "platform", "status", "created_at", "head_seq", "head_hash",
                    "generation", "max_message", "max_doc", "stamp", "settled")


@dataclass(frozen=True)
class Known:
    """A dispute as the catalog knows it."""

    no: int
    slug: str
    uuid: str | None
    title: str | None
    platform: str | None
    status: str | None
    created_at: str | None
    head_seq: int
    head_hash: str
    generation: str
    max_message: int
    max_doc: int
    stamp: str
    settled: int




def stamp(db: Path | str) -> tuple[str, int] | None:
    """(signature of the database files, newest of their times in ns), or None without a database."""
    parts: list[str] = []
    newest = 0
    for name in (str(db), f"{db}-wal"):
        try:
            # os.access first: most of the time there is no -wal, and a raised error costs more than a check
            st = os.stat(name) if not parts or os.access(name, os.F_OK) else None
        except FileNotFoundError:
            st = None
        if st is None:
            if not parts:
                return None
            parts.append("-")
            continue
        parts.append(f"{st.st_ino}.{st.st_size}.{st.st_mtime_ns}.{st.st_ctime_ns}")
        newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
    return ":".join(parts), newest


def on_disk(home: Home) -> dict[str, tuple[str, int]]:
    """slug → stamp of every dispute folder with a database."""
    out: dict[str, tuple[str, int]] = {}
    try:
        entries = os.scandir(home.disputes)
    except (FileNotFoundError, NotADirectoryError):
        return out
    with entries:
        for entry in entries:
            if is_folder_name(entry.name):
                found = stamp(os.path.join(entry.path, DB_NAME))  # plain strings: pathlib costs more than stat here
                if found is not None:
                    out[entry.name] = found
    return out


# --- keeping the catalog fresh ---------------------------------------------------

def _known_one(con: sqlite3.Connection, slug: str) -> Known | None:
    found = con.execute(f"SELECT {', '.join(_DISPUTE_COLUMNS)} FROM dispute WHERE slug = ?", (slug,)).fetchone()
    return Known(*found) if found else None


@dataclass
class Refreshed:
    synced: list[str]
    problems: list[tuple[str, str]]


def refresh(con: sqlite3.Connection, home: Home, only: Iterable[str] | None = None) -> Refreshed:
    """Bring the catalog up to date with the dispute folders (all of them, or ``only`` these)."""
    taken = time.time_ns()  # before any stat: a stamp is trusted only once older than this by RACY_NS
    disk = on_disk(home)
    have = dict(con.execute("SELECT slug, stamp || ':' || settled FROM dispute").fetchall())
    wanted = set(disk) if only is None else {s for s in only if s in disk}
    result = Refreshed([], [])
    if only is None:
        for slug in sorted(set(have) - set(disk)):
            _write(con, _drop, con, slug)
    for slug in sorted(wanted):
        sig, newest = disk[slug]
        if have.get(slug) == f"{sig}:1":  # copied, and the stamp has aged past the racy window
            continue
        try:
            if sync(con, home, slug, sig, settled=newest < taken - RACY_NS):
                result.synced.append(slug)
        except LockerError as err:
            result.problems.append((slug, err.message))
            if slug in have:
                _write(con, _drop, con, slug)  # never show rows that can no longer be checked
    return result


def _write(con: sqlite3.Connection, work: Any, *args: Any) -> Any:
    """``work(*args)`` in one write transaction of the catalog."""
    with immediate(con):
        return work(*args)


@dataclass(frozen=True)
class _Plan:
    fresh: bool  # start over: the catalog's copy is of another folder, an older backup or a rebuilt index
    rows: list[index.Row]
    exhibits: list[tuple[int, str, bool, str]] | None  # None: unchanged


def sync(con: sqlite3.Connection, home: Home, slug: str, sig: str, *, settled: bool) -> int:
    """Copy what is new in one dispute into the catalog; returns the number of rows copied.

    The stamp ``sig`` was taken before the dispute database is read, and is recorded with
    what was read. Another search may copy the same dispute meanwhile: the catalog row is
    checked again under the catalog's write lock, and the copy planned again if it moved."""
    db = home.dispute(slug).db
    dcon = connect(db)
    try:
        state = None
        for _attempt in range(100):  # each retry means another search copied meanwhile: it ends
            k = _known_one(con, slug)
            try:
                if state is not None:  # another search copied a newer snapshot meanwhile: read after it,
                    dcon.execute("ROLLBACK")  # not take ours for another folder and copy it all again
                dcon.execute("BEGIN")  # one read snapshot for everything below
                state = index.state(dcon)
                plan = _plan(dcon, k, state)
            except sqlite3.DatabaseError as err:
                raise LockerError(_("cannot read the dispute database: {error}").format(error=err), path=str(db)) from None
            copied: int | None = _write(con, _apply, con, slug, k, state, plan, sig, settled)
            if copied is not None:
                return copied
        raise LockerError(_("the search catalog kept changing while this dispute was copied; search again"))
    finally:
        dcon.close()  # ends the read snapshot


def _same_line(dcon: sqlite3.Connection, k: Known, state: index.State) -> bool:
    """Is the database a continuation of what the catalog copied (not another folder, an older
    backup put back, or a rebuilt index)?"""
    if (k.uuid, k.generation) != (state.uuid, state.generation):
        return False
    if state.max_message < k.max_message or state.max_doc < k.max_doc or state.head_seq < k.head_seq:
        return False
    return k.head_seq == 0 or index.custody_hash(dcon, k.head_seq) == k.head_hash


def _plan(dcon: sqlite3.Connection, k: Known | None, state: index.State) -> _Plan:
    if k is not None and _same_line(dcon, k, state):
        marks = (k.max_message, k.max_doc, k.head_seq, k.head_hash)
        if marks == (state.max_message, state.max_doc, state.head_seq, state.head_hash):
            return _Plan(False, [], None)  # nothing new: only the stamp is recorded
        return _Plan(False, list(index.rows_after(dcon, k.max_message, k.max_doc)), index.exhibits(dcon))
    return _Plan(True, list(index.rows_after(dcon, 0, 0)), index.exhibits(dcon))


def _apply(con: sqlite3.Connection, slug: str, expected: Known | None, state: index.State, plan: _Plan,
           sig: str, settled: bool) -> int | None:
    """Write a planned copy; None when the catalog row changed since it was planned."""
    k = _known_one(con, slug)
    if k != expected:
        return None
    if k is None or plan.fresh:
        if k is not None:
            _drop(con, slug)
        no = con.execute("INSERT INTO dispute (slug) VALUES (?)", (slug,)).lastrowid or 0
        if no > index.DISPUTE_MASK:
            raise LockerError(_("the search catalog is full: run `locker reindex`"))
    else:
        no = k.no
    copied = _insert_rows(con, no, iter(plan.rows))
    if plan.exhibits is not None:
        con.execute("DELETE FROM exhibit WHERE dispute = ?", (no,))
        con.executemany("INSERT INTO exhibit (dispute, number, kind, withdrawn, name) VALUES (?, ?, ?, ?, ?)",
                        [(no, *e) for e in plan.exhibits])
    con.execute(
        """UPDATE dispute SET uuid = ?, title = ?, platform = ?, status = ?, created_at = ?, head_seq = ?,
           head_hash = ?, generation = ?, max_message = ?, max_doc = ?, stamp = ?, settled = ? WHERE no = ?""",
        (state.uuid, state.title, state.platform, state.status, state.created_at, state.head_seq,
         state.head_hash, state.generation, state.max_message, state.max_doc, sig, int(settled), no),
    )
    return copied


def _insert_rows(con: sqlite3.Connection, no: int, rows: Iterator[index.Row], batch: int = 2000) -> int:
    shift = no << index.DISPUTE_SHIFT
    count = 0
    while True:
        chunk = [(row_id | shift, field, exhibit, ref, at, kind, text)
                 for row_id, field, exhibit, ref, at, kind, text in _take(rows, batch)]
        if not chunk:
            return count
        con.executemany("INSERT INTO doc (id, field, exhibit, ref, at, kind, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        chunk)
        con.executemany("INSERT INTO fts (rowid, t) VALUES (?, ?)", [(r[0], index_text(r[6])) for r in chunk])
        count += len(chunk)


def _take(rows: Iterator[Any], n: int) -> list[Any]:
    out = []
    for row in rows:
        out.append(row)
        if len(out) >= n:
            break
    return out


def _ranges(no: int) -> list[tuple[int, int]]:
    base = no << index.DISPUTE_SHIFT
    return [((t << index.TIER_SHIFT) | base, (t << index.TIER_SHIFT) | base | index.N_MASK) for t in range(4)]


def _drop(con: sqlite3.Connection, slug: str) -> None:
    """Remove a dispute's rows (the FTS5 index is contentless: each row is deleted with its tokens)."""
    k = _known_one(con, slug)
    if k is None:
        return
    for lo, hi in _ranges(k.no):
        found = con.execute("SELECT id, text FROM doc WHERE id BETWEEN ? AND ?", (lo, hi)).fetchall()
        con.executemany("INSERT INTO fts (fts, rowid, t) VALUES ('delete', ?, ?)",
                        [(i, index_text(t)) for i, t in found])
        con.execute("DELETE FROM doc WHERE id BETWEEN ? AND ?", (lo, hi))
    con.execute("DELETE FROM exhibit WHERE dispute = ?", (k.no,))
    con.execute("DELETE FROM dispute WHERE no = ?", (k.no,))


def rename(con: sqlite3.Connection, before: str, after: str) -> bool:
    """A dispute folder renamed (``locker rename``): keep the catalog's copy under the new name
    instead of dropping it and copying it all again. False when there was nothing to rename (the
    next refresh copies whatever is missing)."""
    with immediate(con):
        if _known_one(con, after) is not None:
            return False
        return con.execute("UPDATE dispute SET slug = ? WHERE slug = ?", (after, before)).rowcount > 0
