"""The custody log: append-only, hash-chained, one per dispute.

Entry hash (format version 1)::

    hash = sha256(canonical({"v": 1, "seq": seq, "at": at, "actor": actor,
                             "action": action, "payload": payload,
                             "prev_hash": prev_hash})).hexdigest()

where ``canonical`` is JSON with sorted keys, compact separators ``,`` and
``:``, UTF-8 without ASCII escaping, and the first entry's ``prev_hash`` is 64
zeros. ``schemas/custody-entry.schema.json`` describes the hashed document.
Entries are written in the same transaction as the change they record.

The chain cannot show on its own that its newest entries were cut off, or that
the whole database was swapped for an older copy. So after every commit the
newest entry's ``seq`` and ``hash`` are also written beside the database, in
``custody-head.json`` (see :func:`publish_head`); ``verify`` checks that the
chain still contains that entry. The head may lag the database by one commit
(a crash between the two writes), never lead it.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .db import dbapi
from .domain import Entry
from .i18n import _

FORMAT_VERSION = 1
GENESIS = "0" * 64
HEAD_NAME = "custody-head.json"


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_document(seq: int, at: str, actor: str, action: str, payload: Any, prev_hash: str,
                   v: int = 1) -> dict[str, Any]:
    return {"v": v, "seq": seq, "at": at, "actor": actor, "action": action, "payload": payload, "prev_hash": prev_hash}


def entry_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (containers, odd Windows setups)
        user = "unknown"
    return f"{user} via locker"


def append(conn: Any, at: str, entries: Iterable[Entry]) -> list[dict[str, Any]]:
    """Append (action, payload) entries inside the caller's write transaction. Each pair comes from
    one of the builders in :mod:`locker.domain` (``domain.exhibit_added(...)`` and so on)."""
    # Through the DB-API connection (a SQLAlchemy one is unwrapped: same connection, same
    # transaction), so that a writer on plain sqlite3 (``locker add``) never imports SQLAlchemy.
    con = dbapi(conn)
    last = con.execute("SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    who = actor()
    rows = []
    for action, payload in entries:
        seq += 1
        doc = entry_document(seq, at, who, action, payload, prev, FORMAT_VERSION)
        digest = entry_hash(doc)
        rows.append({**doc, "payload": canonical(payload).decode("utf-8"), "hash": digest})
        prev = digest
    if rows:
        con.executemany("INSERT INTO custody (seq, v, at, actor, action, payload, prev_hash, hash) "
                        "VALUES (:seq, :v, :at, :actor, :action, :payload, :prev_hash, :hash)", rows)
    return rows


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    problem: str
    detail: str


def check_chain(rows: Sequence[Any]) -> list[ChainProblem]:
    """Every way the stored entries fail to form one unbroken chain; [] when intact.

    ``rows`` are the stored entries in ``seq`` order, each with the attributes
    of :class:`locker.models.CustodyEntry`. Keeps going after the first fault.
    """
    problems: list[ChainProblem] = []
    prev = GENESIS
    expected_seq = 1
    for row in rows:
        if row.seq != expected_seq:
            problems.append(
                ChainProblem(row.seq, "custody_sequence", _("entry {seq} found where entry {expected} belongs").format(
                    seq=row.seq, expected=expected_seq))
            )
        if row.prev_hash != prev:
            problems.append(
                ChainProblem(row.seq, "custody_link", _("entry {seq} does not follow the entry before it").format(seq=row.seq))
            )
        try:
            payload = json.loads(row.payload)
        except ValueError:
            problems.append(ChainProblem(row.seq, "custody_entry_altered", _("entry {seq} payload is not JSON").format(seq=row.seq)))
        else:
            doc = entry_document(row.seq, row.at, row.actor, row.action, payload, row.prev_hash, row.v)
            if row.v != FORMAT_VERSION:
                problems.append(ChainProblem(row.seq, "custody_entry_altered", _("entry {seq} has unknown format v{version}").format(
                    seq=row.seq, version=row.v)))
            elif entry_hash(doc) != row.hash:
                problems.append(
                    ChainProblem(row.seq, "custody_entry_altered", _("entry {seq} ({action}) does not match its hash").format(
                    seq=row.seq, action=row.action))
                )
        prev = row.hash
        expected_seq = row.seq + 1
    return problems


# --------------------------------------------------------------------------- the head outside the database


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    at: str


class HeadUnreadable(ValueError):
    pass


def read_head(folder: Path) -> Head | None:
    """The head record of the dispute in ``folder``; None if there is none (older lockers wrote none)."""
    try:
        raw = (folder / HEAD_NAME).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise HeadUnreadable(f"{HEAD_NAME} cannot be read: {err.strerror}") from None
    try:
        doc = json.loads(raw)
        head = Head(seq=doc["seq"], hash=doc["hash"], at=doc["at"])
    except (ValueError, KeyError, TypeError):
        raise HeadUnreadable(f"{HEAD_NAME} is not a head record") from None
    if not (type(head.seq) is int and head.seq >= 1 and isinstance(head.hash, str) and len(head.hash) == 64
            and isinstance(head.at, str)):
        raise HeadUnreadable(f"{HEAD_NAME} is not a head record")
    return head


def publish_head(folder: Path, engine: Any) -> None:
    """After a commit: record the chain's newest entry in ``folder/custody-head.json``.

    Serialised by ``flock`` on the folder, and only ever moved forward along the
    same chain: if the database no longer holds the recorded head (rolled back or
    rewritten), the record is left as it is, for ``verify`` to report. A failure
    here loses nothing (the change is committed; a lagging head is valid), so it
    is not raised.
    """
    import fcntl

    from . import store
    from .errors import StoreError

    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = engine.raw_connection() if hasattr(engine, "raw_connection") else None  # else a sqlite3 connection
        con = raw.driver_connection if raw is not None else engine
        try:
            newest = con.execute("SELECT seq, hash, at FROM custody ORDER BY seq DESC LIMIT 1").fetchone()
            try:
                known = read_head(folder)
            except HeadUnreadable:
                return
            if newest is None or (known is not None and known.seq >= newest[0]):
                return
            if known is not None:
                at_known = con.execute("SELECT hash FROM custody WHERE seq = ?", (known.seq,)).fetchone()
                if at_known is None or at_known[0] != known.hash:
                    return
        finally:
            if raw is not None:
                raw.close()
        doc = {"v": FORMAT_VERSION, "seq": newest[0], "hash": newest[1], "at": newest[2]}
        store.write_atomic(folder / HEAD_NAME, canonical(doc) + b"\n")
    except (OSError, StoreError):
        return
    finally:
        os.close(fd)


def check_head(head: Head | None, rows: Sequence[Any]) -> list[ChainProblem]:
    """Does the chain in the database still contain the head recorded outside it?"""
    if head is None:
        return [ChainProblem(None, "custody_head_missing",
                             _("no {name} beside the database, so a rollback of the database cannot be "
                               "detected (disputes made before locker recorded it have none; the next change writes it)"
                               ).format(name=HEAD_NAME))]
    last = rows[-1].seq if rows else 0
    if head.seq > last:
        return [ChainProblem(head.seq, "database_rolled_back",
                             _("the custody log ends at entry {last}, but entry {seq} was written on {at}: "
                               "the database is an older copy, or its newest entries were removed"
                               ).format(last=last, seq=head.seq, at=head.at))]
    for row in rows:
        if row.seq == head.seq:
            if row.hash != head.hash:
                return [ChainProblem(head.seq, "custody_head_mismatch",
                                     _("entry {seq} is not the entry written on {at} "
                                       "(hash {hash}…): the log was rewritten or the database replaced"
                                       ).format(seq=head.seq, at=head.at, hash=head.hash[:12]))]
            return []
    return [ChainProblem(head.seq, "custody_head_mismatch", _("entry {seq} is not in the custody log").format(seq=head.seq))]
