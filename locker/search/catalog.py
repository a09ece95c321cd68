"""The cross-dispute catalog: every dispute's searchable rows in one FTS5 index, as a cache.

Where: ``$LOCKER_HOME/search/catalog-<generation>.sqlite``, the file named in
``$LOCKER_HOME/search/CURRENT``. It is never the only copy of anything: each
row is copied from a dispute's own ``dispute.sqlite`` and the whole file can
be thrown away (``locker reindex`` builds a new one beside it and switches
``CURRENT`` in one rename, so searches never wait for a rebuild; a missing,
damaged or outdated catalog is replaced the same way on the next search).

**Never stale.** Before each search the catalog compares, for every dispute
folder, a stamp of its database files — inode, size, mtime and ctime of
``dispute.sqlite`` and ``dispute.sqlite-wal`` — with the stamp it recorded
when it last copied that dispute. Every commit writes one of those files, so
a commit by any process (a locker of any version, a tool, a copy or restore
of the folder) changes the stamp; only changed disputes are opened again, and
only their new rows are copied (they are append-only; the custody chain head,
the index generation and the dispute's id tell an incremental copy from one
that must start over, as for a folder replaced by another). With 1,000
disputes the check is one directory listing and 2,000 ``stat`` calls.

A stamp is recorded only for what was read after it was taken, so the catalog
holds at least every commit made before its stamp. A file's timestamps are
coarse (a few ms on Linux, 2 s on FAT), so a commit landing in the same tick
as the stamp could leave it unchanged: like git's "racy" index entries, a
stamp whose newest time is within ``RACY_NS`` of when it was taken is not
trusted, and the next search looks inside the database (custody head and
index marks, a fraction of a millisecond) until the stamp has aged.

Crash windows: the per-dispute index is written in the same transaction as
the change, and the catalog copies in one transaction of its own, recording
the stamp in it. A writer killed at any point either committed (the stamp
moved) or did not (nothing to see); a search killed while copying leaves the
catalog as it was, with the old stamp, and the next search copies again.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from ..db import connect_read_only, writable
from ..errors import LockerError
from ..paths import DB_NAME, SLUG_RE, Home
from . import index
from .text import TOKENIZER_VERSION, Query, fold, index_text

CATALOG_VERSION = f"2/{TOKENIZER_VERSION}"
RACY_NS = 3_000_000_000
BUSY_TIMEOUT_MS = 60_000
_NAME = re.compile(r"^catalog-[0-9a-f]{16}\.sqlite$")
STALE_GENERATION_S = 600  # an unused catalog file older than this is removed

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE dispute (
        no INTEGER PRIMARY KEY AUTOINCREMENT, slug TEXT NOT NULL UNIQUE, uuid TEXT, title TEXT, platform TEXT,
        status TEXT, created_at TEXT, head_seq INTEGER NOT NULL DEFAULT 0, head_hash TEXT NOT NULL DEFAULT '',
        generation TEXT NOT NULL DEFAULT '', max_message INTEGER NOT NULL DEFAULT 0,
        max_doc INTEGER NOT NULL DEFAULT 0, stamp TEXT NOT NULL DEFAULT '', settled INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE exhibit (dispute INTEGER NOT NULL, number INTEGER NOT NULL, kind TEXT,
        withdrawn INTEGER NOT NULL DEFAULT 0, name TEXT, PRIMARY KEY (dispute, number)) WITHOUT ROWID""",
    """CREATE TABLE doc (id INTEGER PRIMARY KEY, field TEXT NOT NULL, exhibit INTEGER, ref INTEGER, at TEXT,
        kind TEXT, text TEXT NOT NULL)""",
    "CREATE VIRTUAL TABLE fts USING fts5(t, content='', detail=full, columnsize=0, tokenize='unicode61 remove_diacritics 0')",
)
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


@dataclass(frozen=True)
class Filters:
    platform: str | None = None
    status: str | None = None
    kind: str | None = None
    since: str | None = None  # YYYY-MM-DD, inclusive
    until: str | None = None

    def keep_row(self, at: str | None, kind: str | None) -> bool:
        if self.kind and kind != self.kind:
            return False
        day = (at or "")[:10]
        if (self.since or self.until) and not day:
            return False
        if self.since and day < self.since:
            return False
        return not (self.until and day > self.until)

    def keep_dispute(self, platform: str | None, status: str | None) -> bool:
        if self.platform and (platform or "").lower() != self.platform.lower():
            return False
        return not (self.status and status != self.status)


# --- files -----------------------------------------------------------------------

def folder(home: Home) -> Path:
    return home.root / "search"


def _connect(path: Path, *, build: bool = False) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    con.execute("PRAGMA journal_mode = WAL")
    # A cache: a power cut may lose its last commits, never its consistency; the next search re-copies.
    con.execute(f"PRAGMA synchronous = {'OFF' if build else 'NORMAL'}")
    con.execute("PRAGMA temp_store = MEMORY")
    con.execute("PRAGMA cache_size = -32000")
    return con


def _create(path: Path, *, build: bool = False) -> sqlite3.Connection:
    con = _connect(path, build=build)
    con.execute("BEGIN IMMEDIATE")
    for ddl in SCHEMA:
        con.execute(ddl)
    con.execute("INSERT INTO meta (key, value) VALUES ('version', ?)", (CATALOG_VERSION,))
    con.execute("COMMIT")
    path.chmod(0o600)
    return con


def _new_path(home: Home) -> Path:
    where = folder(home)
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    return where / f"catalog-{secrets.token_hex(8)}.sqlite"


def _publish(home: Home, path: Path) -> None:
    """Make ``path`` the catalog, in one rename, and remove unused old ones."""
    where = folder(home)
    tmp = where / f"CURRENT.{secrets.token_hex(4)}.tmp"
    tmp.write_text(path.name + "\n", encoding="utf-8")
    os.replace(tmp, where / "CURRENT")
    _clean(home, keep=path.name)


def _clean(home: Home, keep: str) -> None:
    now = time.time()
    try:
        entries = list(os.scandir(folder(home)))
    except OSError:
        return
    for entry in entries:
        base = entry.name.split("-wal")[0].split("-shm")[0]
        old = base != keep and (_NAME.match(base) or entry.name.endswith(".tmp"))
        try:
            if old and now - entry.stat().st_mtime > STALE_GENERATION_S:
                os.unlink(entry.path)
        except OSError:
            pass


def current_path(home: Home) -> Path | None:
    try:
        name = (folder(home) / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    path = folder(home) / name
    return path if _NAME.match(name) and path.exists() else None


def open_catalog(home: Home) -> sqlite3.Connection:
    """The current catalog, or a new empty one when it is missing, damaged or of another version
    (the next refresh fills it). Raises sqlite3.Error or OSError when the home cannot hold one."""
    path = current_path(home)
    if path is not None:
        con = None
        try:
            con = _connect(path)
            found = con.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            if found and found[0] == CATALOG_VERSION:
                return con
        except sqlite3.DatabaseError:
            pass
        if con is not None:
            con.close()
    home.ensure()
    path = _new_path(home)
    con = _create(path)
    _publish(home, path)
    return con


# --- the dispute databases ---------------------------------------------------------

def open_dispute(path: Path) -> sqlite3.Connection:
    """A dispute database as a plain sqlite3 connection, migrated to the current schema (which
    indexes a database made before search)."""
    from ..migrations import MIGRATIONS, NewerSchema, migrate
    from ..values import now_utc

    if not path.is_file():
        raise LockerError("the dispute has no database (dispute.sqlite is missing)", path=str(path))
    if writable(path):
        con = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None,
                              timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    else:  # a read-only home: search it as it is (a database that needs migrating fails below, in words)
        con = connect_read_only(path, isolation_level=None, check_same_thread=False)
    try:
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        (version,) = con.execute("PRAGMA user_version").fetchone()
        if version != len(MIGRATIONS):
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = FULL")
            migrate(con, now_utc())
    except NewerSchema as err:
        con.close()
        raise LockerError(f"this dispute was written by a newer locker (schema {err.args[0]}); upgrade locker",
                          path=str(path)) from None
    except sqlite3.DatabaseError as err:
        con.close()
        raise LockerError(f"cannot open the dispute database: {err}", path=str(path)) from None
    return con


def stamp(db: Path | str) -> tuple[str, int] | None:
    """(signature of the database files, newest of their times in ns), or None without a database."""
    parts = []
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
    out = {}
    try:
        entries = os.scandir(home.disputes)
    except (FileNotFoundError, NotADirectoryError):
        return out
    with entries:
        for entry in entries:
            if SLUG_RE.match(entry.name):
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
    con.execute("BEGIN IMMEDIATE")
    try:
        out = work(*args)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return out


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
    dcon = open_dispute(db)
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
                raise LockerError(f"cannot read the dispute database: {err}", path=str(db)) from None
            copied = _write(con, _apply, con, slug, k, state, plan, sig, settled)
            if copied is not None:
                return copied
        raise LockerError("the search catalog kept changing while this dispute was copied; search again")
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
        no = con.execute("INSERT INTO dispute (slug) VALUES (?)", (slug,)).lastrowid
        if no > index.DISPUTE_MASK:
            raise LockerError("the search catalog is full: run `locker reindex`")
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


# --- rebuilding ------------------------------------------------------------------------

def rebuild(home: Home, slugs: list[str], progress: Any = None) -> tuple[Path, int, list[tuple[str, str]]]:
    """A new catalog from every dispute, published when complete. → (path, rows, problems)."""
    home.ensure()
    path = _new_path(home)
    con = _create(path, build=True)
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
                dcon = open_dispute(db)
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
    _publish(home, path)
    return path, rows, problems


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# --- querying --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """A confirmed hit: where it is, the row's text and how it ranks."""

    slug: str
    dispute_title: str | None
    created_at: str | None
    row_id: int  # the dispute's own row id (tier << 52 | n)
    field: str
    exhibit: int | None
    ref: int | None
    at: str | None
    kind: str | None
    text: str
    withdrawn: bool = False


def query(con: sqlite3.Connection, q: Query, filters: Filters, limit: int,
          only: set[str] | None = None) -> tuple[list[Found], bool]:
    """Best-placed first (the dispute's own fields, then exhibit fields and notes, then events
    and documents, then chat messages; newer disputes first within each); at most ``limit``
    hits, and whether there were more. Read in one snapshot: another search may copy a dispute
    into the catalog meanwhile, whose rows the list of disputes read first would not know."""
    if con.in_transaction:
        return _query(con, q, filters, limit, only)
    con.execute("BEGIN")
    try:
        return _query(con, q, filters, limit, only)
    finally:
        con.execute("COMMIT")


def _query(con: sqlite3.Connection, q: Query, filters: Filters, limit: int,
           only: set[str] | None) -> tuple[list[Found], bool]:
    disputes = {r[0]: _Listed(*r) for r in con.execute(
        "SELECT no, slug, title, platform, status, created_at FROM dispute").fetchall()}
    allowed = [no for no, k in disputes.items()
               if filters.keep_dispute(k.platform, k.status) and (only is None or k.slug in only)]
    if not allowed or not q.fts:
        return [], False
    sql = ["SELECT d.id, d.field, d.exhibit, d.ref, d.at, d.kind, d.text FROM fts JOIN doc d ON d.id = fts.rowid "
           "WHERE fts MATCH ?"]
    args: list[Any] = [q.fts]
    if filters.kind:
        sql.append("AND d.kind = ?")
        args.append(filters.kind)
    if filters.since:
        sql.append("AND substr(d.at, 1, 10) >= ?")
        args.append(filters.since)
    if filters.until:
        sql.append("AND substr(d.at, 1, 10) <= ?")
        args.append(filters.until)
    if len(allowed) < len(disputes):
        sql.append(f"AND ((d.id >> {index.DISPUTE_SHIFT}) & {index.DISPUTE_MASK}) IN ({', '.join(map(str, allowed))})")
    sql.append("ORDER BY fts.rowid DESC")
    found: list[Found] = []
    cursor = con.execute(" ".join(sql), args)
    for row_id, field, exhibit, ref, at, kind, text in cursor:
        if not q.confirm(fold(text)):
            continue
        k = disputes[(row_id >> index.DISPUTE_SHIFT) & index.DISPUTE_MASK]
        local = row_id & ~(index.DISPUTE_MASK << index.DISPUTE_SHIFT)
        found.append(Found(k.slug, k.title, k.created_at, local, field, exhibit, ref, at, kind, text))
        if len(found) > limit:
            break
    cursor.close()
    more = len(found) > limit
    found = found[:limit]
    return _with_withdrawn(con, disputes, found), more


class _Listed(NamedTuple):
    no: int
    slug: str
    title: str | None
    platform: str | None
    status: str | None
    created_at: str | None


def _with_withdrawn(con: sqlite3.Connection, disputes: dict[int, _Listed], found: list[Found]) -> list[Found]:
    by_slug = {k.slug: no for no, k in disputes.items()}
    out = []
    for f in found:
        withdrawn = False
        if f.exhibit is not None:
            row = con.execute("SELECT withdrawn FROM exhibit WHERE dispute = ? AND number = ?",
                              (by_slug[f.slug], f.exhibit)).fetchone()
            withdrawn = bool(row and row[0])
        out.append(replace(f, withdrawn=withdrawn))
    return out


def query_dispute(dcon: sqlite3.Connection, slug: str, q: Query, filters: Filters,
                  limit: int) -> tuple[list[Found], bool]:
    """The same search in one dispute's own index."""
    state = index.state(dcon)
    if not q.fts or not filters.keep_dispute(state.platform, state.status):
        return [], False
    withdrawn = {n for n, _kind, w, _name in index.exhibits(dcon) if w}
    found: list[Found] = []
    cursor = dcon.execute("SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid DESC", (q.fts,))
    while len(found) <= limit:
        ids = [r[0] for r in cursor.fetchmany(256)]
        if not ids:
            break
        rows = index.rows_by_id(dcon, ids)
        for row_id in ids:
            row = rows.get(row_id)
            if row is None:
                continue
            _id, field, exhibit, ref, at, kind, text = row
            if not filters.keep_row(at, kind) or not q.confirm(fold(text)):
                continue
            found.append(Found(slug, state.title, state.created_at, row_id, field, exhibit, ref, at, kind, text,
                               exhibit in withdrawn))
            if len(found) > limit:
                break
    cursor.close()
    return found[:limit], len(found) > limit
