"""The custody log: append-only, hash-chained, one per dispute.

Entry hash (format version 1)::

    hash = sha256(canonical({"v": 1, "seq": seq, "at": at, "actor": actor,
                             "action": action, "payload": payload,
                             "prev_hash": prev_hash})).hexdigest()

where ``canonical`` is JSON with sorted keys, compact separators ``,`` and
``:``, UTF-8 without ASCII escaping, and the first entry's ``prev_hash`` is 64
zeros. ``schemas/custody-entry.schema.json`` describes the hashed document.
Entries are written in the same transaction as the change they record.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

FORMAT_VERSION = 1
GENESIS = "0" * 64


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_document(seq: int, at: str, actor: str, action: str, payload: Any, prev_hash: str, v: int = 1) -> dict:
    return {"v": v, "seq": seq, "at": at, "actor": actor, "action": action, "payload": payload, "prev_hash": prev_hash}


def entry_hash(document: dict) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (containers, odd Windows setups)
        user = "unknown"
    return f"{user} via locker"


def append(conn: Any, at: str, entries: Iterable[tuple[str, dict]]) -> list[dict]:
    """Append (action, payload) entries inside the caller's write transaction."""
    from sqlalchemy import insert, text

    from .models import CustodyEntry

    last = conn.execute(text("SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1")).first()
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
        conn.execute(insert(CustodyEntry), rows)
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
                ChainProblem(row.seq, "custody_sequence", f"entry {row.seq} found where entry {expected_seq} belongs")
            )
        if row.prev_hash != prev:
            problems.append(
                ChainProblem(row.seq, "custody_link", f"entry {row.seq} does not follow the entry before it")
            )
        try:
            payload = json.loads(row.payload)
        except ValueError:
            problems.append(ChainProblem(row.seq, "custody_entry_altered", f"entry {row.seq} payload is not JSON"))
        else:
            doc = entry_document(row.seq, row.at, row.actor, row.action, payload, row.prev_hash, row.v)
            if row.v != FORMAT_VERSION:
                problems.append(ChainProblem(row.seq, "custody_entry_altered", f"entry {row.seq} has unknown format v{row.v}"))
            elif entry_hash(doc) != row.hash:
                problems.append(
                    ChainProblem(row.seq, "custody_entry_altered", f"entry {row.seq} ({row.action}) does not match its hash")
                )
        prev = row.hash
        expected_seq = row.seq + 1
    return problems
