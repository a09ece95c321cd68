"""``locker edit``: correct what was typed about a dispute, an exhibit or one chat message.

Each call that changes something writes one custody entry holding, for every field it
changed, the old and the new value, in the same transaction as the rows it changes and
their search rows; a call that changes nothing writes nothing. The original files are
never touched: a correction is of what the locker was told, not of the evidence.
``verify`` replays these entries over the creation entries and checks the rows against
the result (:mod:`.verify`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import custody, domain
from ..domain import DISPUTE_EDITABLE, DISPUTE_TEXT_FIELDS, EXHIBIT_EDITABLE, EXHIBIT_TEXT_FIELDS, FieldChange
from ..errors import NotFound, UsageError
from ..i18n import _
from ..paths import Home
from ..search import index as search_index
from ..values import now_utc, parse_amount, parse_capture_time, parse_date, resolve_tz
from . import disputes


@dataclass(frozen=True)
class Edited:
    """What one ``edit`` changed."""

    slug: str
    exhibit: int | None  # None: the dispute's own facts
    message: int | None  # the message corrected (its number as ``show N`` lists them)
    changes: tuple[FieldChange, ...]  # empty: it said so already, and nothing was written
    seq: int | None  # the custody entry written, None when nothing changed

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _clean(value: str) -> str | None:
    value = value.strip()
    return value or None


def dispute_values(fields: Mapping[str, str | None]) -> dict[str, str | None]:
    """The values to store for the fields given (None: not given), checked as ``locker new``
    checks them: an amount like 199.00, a date like 2025-05-01, a currency code in capitals.
    An empty value clears a field; the title cannot be cleared, and the currency falls back to CNY."""
    unknown = set(fields) - set(DISPUTE_EDITABLE)
    if unknown:
        raise UsageError(_("unknown dispute field: {names}").format(names=", ".join(sorted(unknown))))
    out: dict[str, str | None] = {}
    for name, raw in fields.items():
        if raw is None:
            continue
        value = _clean(raw)
        if name == "title":
            value = disputes.check_title(raw)  # not empty, at most TITLE_MAX characters, as `new` checks
        elif name == "amount" and value is not None:
            value = parse_amount(value)
        elif name == "purchased_on" and value is not None:
            value = parse_date(value)
        elif name == "currency":
            value = (value or "CNY").upper()
        out[name] = value
    return out


def _changes(current: Mapping[str, Any], wanted: Mapping[str, str | None]) -> list[FieldChange]:
    return [FieldChange(k, current[k], v) for k, v in wanted.items() if current[k] != v]


def _nothing_to_do(fields: Mapping[str, str | None], names: str) -> None:
    if all(v is None for v in fields.values()):
        raise UsageError(_("say what to correct: {options}").format(options=names))


def edit_dispute(home: Home, ref: str, **fields: str | None) -> Edited:
    """Correct the dispute's facts (``title`` and DISPUTE_FIELDS); None leaves a field as it is."""
    _nothing_to_do(fields, ", ".join("--" + f.replace("_", "-") for f in DISPUTE_EDITABLE))
    wanted = dispute_values(fields)
    opened = disputes.resolve(home, ref)
    now = now_utc()
    with disputes.recording(opened) as session:
        conn = session.connection()
        con = search_index.dbapi(conn)
        names = ", ".join(DISPUTE_EDITABLE)
        row = con.execute(f"SELECT {names}, created_at FROM dispute").fetchone()
        if row is None:
            raise NotFound(_(disputes.NO_DISPUTE_ROW))
        current = dict(zip(DISPUTE_EDITABLE, row))
        changes = _changes(current, wanted)
        if not changes:
            return Edited(opened.slug, None, None, (), None)
        sets = ", ".join(f"{c.field} = ?" for c in changes)
        con.execute(f"UPDATE dispute SET {sets}, updated_at = ?", (*(c.after for c in changes), now))
        seq = _append(conn, now, domain.dispute_edited(changes))
        texts = {c.field: c.after for c in changes if c.field in DISPUTE_TEXT_FIELDS}
        if texts or any(c.field == "purchased_on" for c in changes):
            purchased = wanted["purchased_on"] if "purchased_on" in wanted else current["purchased_on"]
            search_index.replace_fields(con, None, texts, purchased or row[-1])
    return Edited(opened.slug, None, None, tuple(changes), seq)


def _append(conn: Any, now: str, entry: domain.Entry) -> int:
    return int(custody.append(conn, now, [entry])[-1]["seq"])


def exhibit_values(home: Home, fields: Mapping[str, str | None], tz_name: str | None = None) -> dict[str, str | None]:
    """The values to store for an exhibit's fields given (None: not given). An empty text clears
    its field; a capture time is read like ``add --captured-at`` (in ``tz_name``, else the
    profile's zone) and its source becomes ``user``."""
    from . import profile

    unknown = set(fields) - set(EXHIBIT_EDITABLE)
    if unknown:
        raise UsageError(_("unknown exhibit field: {names}").format(names=", ".join(sorted(unknown))))
    out: dict[str, str | None] = {}
    for name, raw in fields.items():
        if raw is None:
            continue
        if name == "captured_at":
            if not raw.strip():
                raise UsageError(_("give the time it was taken, e.g. 2025-05-03 14:22"))
            tz = resolve_tz(tz_name or profile.load(home).tz)
            out["captured_at"] = parse_capture_time(raw, tz)
        else:
            out[name] = _clean(raw)
    return out


def apply_to_exhibit(conn: Any, number: int, wanted: Mapping[str, str | None], now: str) -> tuple[tuple[FieldChange, ...], int | None]:
    """Inside the caller's write transaction: the exhibit's fields set to ``wanted`` (checked by
    :func:`exhibit_values`), the search rows following, and one custody entry with the old and new
    values. Returns the changes and the entry's number; ((), None) when nothing changes or the
    exhibit has no row (yet)."""
    con = search_index.dbapi(conn)
    names = (*EXHIBIT_EDITABLE, "captured_at_source", "ingested_at")
    row = con.execute(f"SELECT {', '.join(names)} FROM exhibit WHERE number = ?", (number,)).fetchone()
    if row is None:
        return (), None
    current = dict(zip(names, row))
    changes = _changes(current, wanted)
    if any(c.field == "captured_at" for c in changes) and current["captured_at_source"] != "user":
        changes.append(FieldChange("captured_at_source", current["captured_at_source"], "user"))
    if not changes:
        return (), None
    sets = ", ".join(f"{c.field} = ?" for c in changes)
    con.execute(f"UPDATE exhibit SET {sets} WHERE number = ?", (*(c.after for c in changes), number))
    con.execute("UPDATE dispute SET updated_at = ?", (now,))
    seq = _append(conn, now, domain.exhibit_edited(number, changes))
    texts = {c.field: c.after for c in changes if c.field in EXHIBIT_TEXT_FIELDS}
    if texts or any(c.field == "captured_at" for c in changes):
        captured = wanted.get("captured_at") or current["captured_at"]
        search_index.replace_fields(con, number, texts, captured or current["ingested_at"])
    return tuple(changes), seq


def edit_exhibit(home: Home, ref: str, number: int, *, tz: str | None = None, **fields: str | None) -> Edited:
    """Correct an exhibit's title, source (证据来源), purpose (证明目的), note or capture time."""
    from .exhibits import get_exhibit

    _nothing_to_do(fields, ", ".join("--" + f.replace("_", "-") for f in EXHIBIT_EDITABLE)
                   + ", --message with --text")
    wanted = exhibit_values(home, fields, tz)
    opened = disputes.resolve(home, ref)
    now = now_utc()
    with disputes.recording(opened) as session:
        if get_exhibit(session, number) is None:
            raise NotFound(_("{slug} has no exhibit {n}").format(slug=opened.slug, n=number))
        changes, seq = apply_to_exhibit(session.connection(), number, wanted, now)
    return Edited(opened.slug, number, None, changes, seq)


def edit_message(home: Home, ref: str, number: int, message: int, text: str) -> Edited:
    """Correct the text of message ``message`` (counted from 1, as ``show DISPUTE N`` lists them)
    of a chat exhibit; the old text stays in the custody log, the search index follows the new."""
    from . import chat
    from .exhibits import get_exhibit

    new = text.strip()
    if not new:
        raise UsageError(_("give the message's corrected text (--text)"))
    opened = disputes.resolve(home, ref)
    now = now_utc()
    with disputes.recording(opened) as session:
        if get_exhibit(session, number) is None:
            raise NotFound(_("{slug} has no exhibit {n}").format(slug=opened.slug, n=number))
        conn = session.connection()
        con = search_index.dbapi(conn)
        rows = con.execute("SELECT id, position, text FROM chat_message WHERE exhibit = ? ORDER BY position",
                           (number,)).fetchall()
        if not rows:
            raise UsageError(_("exhibit {n} of {slug} has no messages").format(n=number, slug=opened.slug))
        if not 1 <= message <= len(rows):
            raise NotFound(_("exhibit {n} of {slug} has messages 1 to {count}, not {k}").format(
                n=number, slug=opened.slug, count=len(rows), k=message))
        message_id, position, old = rows[message - 1]
        if old == new:
            return Edited(opened.slug, number, message, (), None)
        con.execute("UPDATE chat_message SET text = ? WHERE id = ?", (new, message_id))
        con.execute("UPDATE dispute SET updated_at = ?", (now,))
        count, digest = chat.stored_digests(conn)[number]
        seq = _append(conn, now, domain.message_edited(number, message, position, old, new,
                                                       domain.MessagesDigest(count, digest)))
        search_index.replace_message(con, message_id, old, new)
    return Edited(opened.slug, number, message, (FieldChange("text", old, new),), seq)


def apply_to_held(conn: Any, number: int, *, title: str | None, source: str | None, purpose: str | None,
                  note: str | None, now: str) -> tuple[str, ...]:
    """``add`` of a file the dispute holds already, with descriptions: applied to that exhibit as
    an edit inside add's transaction. Returns the names of the fields that changed."""
    fields = {"title": title, "source": source, "purpose": purpose, "note": note}
    if all(v is None for v in fields.values()):
        return ()
    wanted = {k: (None if v is None else _clean(v)) for k, v in fields.items() if v is not None}
    changes, _seq = apply_to_exhibit(conn, number, wanted, now)
    return tuple(c.field for c in changes)
