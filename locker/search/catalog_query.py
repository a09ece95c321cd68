"""Querying: the catalog across disputes, or one dispute's own index, with the same filters and ranking."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from . import index
from .text import Query, fold


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
