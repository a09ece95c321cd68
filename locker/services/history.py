"""The history of corrections (``locker edit``), read back from the custody log.

A correction lives only in its custody entry (old and new value, when, by whom): the rows
hold the current values. ``show`` lists the history of the dispute's facts, and ``show N``
that of one exhibit and its messages. Imported by :mod:`.disputes` and :mod:`.exhibits`
for their ``detail``, so it imports neither.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .. import domain
from ..db import dbapi


@dataclass(frozen=True)
class Change:
    """One field as one custody entry corrected it."""

    seq: int  # the custody entry
    at: str
    action: str
    exhibit: int | None  # None: the dispute's own facts
    message: int | None  # a chat message's number (as ``show N`` lists them), for message.edited
    field: str  # one of DISPUTE_EDITABLE / EXHIBIT_EDIT_RECORDED, or "text" for a message
    before: str | None
    after: str | None


def _entries(conn: Any, actions: tuple[str, ...]) -> list[tuple[int, str, str, domain.Reading]]:
    marks = ", ".join("?" * len(actions))
    rows = dbapi(conn).execute(
        f"SELECT seq, at, action, payload FROM custody WHERE action IN ({marks}) ORDER BY seq", actions).fetchall()
    out = []
    for seq, at, action, payload in rows:
        try:
            reading = domain.read_entry(action, json.loads(payload))
        except ValueError:  # a hand-edited payload: verify reports it
            continue
        if reading is not None:
            out.append((seq, at, action, reading))
    return out


def of_dispute(conn: Any) -> tuple[Change, ...]:
    """Every correction of the dispute's own facts, oldest first (``conn``: a SQLAlchemy or sqlite3 connection)."""
    out = []
    for seq, at, action, r in _entries(conn, (domain.DISPUTE_EDITED,)):
        if isinstance(r, domain.DisputeEdited):
            out += [Change(seq, at, action, None, None, c.field, c.before, c.after) for c in r.changes]
    return tuple(out)


def of_exhibit(conn: Any, number: int) -> tuple[Change, ...]:
    """Every correction of one exhibit's fields and of its messages' text, oldest first."""
    out = []
    for seq, at, action, r in _entries(conn, (domain.EXHIBIT_EDITED, domain.MESSAGE_EDITED)):
        if isinstance(r, domain.ExhibitEdited) and r.exhibit == number:
            out += [Change(seq, at, action, number, None, c.field, c.before, c.after) for c in r.changes]
        elif isinstance(r, domain.MessageEdited) and r.exhibit == number:
            out.append(Change(seq, at, action, number, r.message, "text", r.before, r.after))
    return tuple(out)
