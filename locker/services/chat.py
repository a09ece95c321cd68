"""Chat exports as messages: parse on add, store with the exhibit, read back for show.

The messages of a chat exhibit are written in the same transaction as the
exhibit, and its custody entry records their count and a SHA-256 over them
(one canonical JSON line per message), so that ``verify`` can tell when a
stored message was edited.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from json.encoder import encode_basestring as _encode_string  # the C encoder, ensure_ascii=False
from pathlib import Path
from typing import Any

from .. import domain
from ..i18n import _


@dataclass(frozen=True)
class ChatImport:
    """What add keeps of a parsed chat until its transaction."""

    messages: list[Any]
    metadata: dict[str, Any]
    captured_at: str | None
    warnings: tuple[str, ...]
    digest: str


def read(path: Path, *, tz: Any, me: str | None, fmt: str | None, date_order: str | None,
         date_order_source: str = "option") -> ChatImport:
    """Parse a staged chat export. Raises ChatError when it cannot be read as a chat.
    ``date_order`` comes from the option or, ``date_order_source="profile"``, the profile."""
    from ..chats import parse_chat

    parsed = parse_chat(path, tz=tz, me=me, fmt=fmt, date_order=date_order, date_order_source=date_order_source)
    messages = parsed.messages
    first = next((m.at for m in messages if m.at), None)
    last = next((m.at for m in reversed(messages) if m.at), None)
    metadata = {
        "chat_format": parsed.format,
        "encoding": parsed.encoding,
        "tz": parsed.tz,
        "participants": list(parsed.participants),
        "message_count": len(messages),
        "first_message_at": first,
        "last_message_at": last,
        "me": me,
    }
    # Wall-clock times in a chat export name no zone: the user's zone was put on them (as on EXIF
    # without OffsetTimeOriginal), and the exhibit says so wherever its time is printed.
    metadata["captured_at_offset_assumed"] = parsed.zone_assumed
    if parsed.zone_assumed:
        metadata["captured_at_tz"] = parsed.tz
    if parsed.date_order:
        metadata["date_order"] = parsed.date_order
        metadata["date_order_source"] = parsed.date_order_source
    unparsed = sum(1 for m in messages if m.kind == "unparsed")
    if unparsed:
        metadata["unparsed_count"] = unparsed
    return ChatImport(messages, metadata, first, tuple(parsed.warnings), digest(messages))


def with_reread_command(warnings: tuple[str, ...], slug: str, number: int) -> tuple[str, ...]:
    """Warnings that suggest ``locker reread DISPUTE N …`` made exact: the command names this exhibit."""
    from .. import warncodes

    return tuple(warncodes.with_command(w, slug, number) for w in warnings)


def _row(m: Any) -> list[Any]:
    return [m.position, m.at, m.sender, m.text, bool(m.me), m.kind]


def digest(messages: Any) -> str:
    """SHA-256 over one canonical JSON array per message, newline-terminated:
    ``[position, at, sender, text, me, kind]``."""
    return digest_rows(_row(m) for m in messages)


def digest_rows(rows: Any) -> str:
    # Each line is exactly json.dumps([...], ensure_ascii=False, separators=(",", ":")), written
    # out by hand with json's own string encoder: three times faster for 100,000 messages.
    h = hashlib.sha256()
    quote = _encode_string
    for position, at, sender, text, me, kind in rows:
        line = (f"[{int(position)},{'null' if at is None else quote(at)},"
                f"{'null' if sender is None else quote(sender)},{quote(text)},"
                f"{'true' if me else 'false'},{quote(kind)}]\n")
        h.update(line.encode("utf-8"))
    return h.hexdigest()


def stored_digests(conn: Any) -> dict[int, tuple[int, str]]:
    """(count, digest) of the stored messages of every chat exhibit, as verify recomputes them."""
    from itertools import groupby

    from ..db import dbapi

    result = dbapi(conn).execute(
        "SELECT exhibit, position, at, sender, text, me, kind FROM chat_message ORDER BY exhibit, position"
    )
    out = {}
    for exhibit, group in groupby(result, key=lambda r: r[0]):
        rows = [r[1:] for r in group]
        out[exhibit] = (len(rows), digest_rows(rows))
    return out


def stored_digests_of(con: Any, exhibit: int) -> str:
    """The digest of one exhibit's stored messages (a DB-API connection)."""
    return digest_rows(con.execute(
        "SELECT position, at, sender, text, me, kind FROM chat_message WHERE exhibit = ? ORDER BY position",
        (exhibit,)))


def insert(conn: Any, exhibit: int, messages: list[Any]) -> None:
    """Bulk insert inside the caller's transaction (executemany: ORM objects are ~10x slower)."""
    if messages:  # on the DB-API connection (a SQLAlchemy one unwrapped): same transaction
        from ..db import dbapi

        dbapi(conn).executemany(
            "INSERT INTO chat_message (exhibit, position, at, sender, text, me, kind) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(exhibit, m.position, m.at, m.sender, m.text, m.me, m.kind) for m in messages],
        )


def stored_messages(conn: Any, exhibit: int) -> list[Any]:
    """An exhibit's stored messages in order, as rows with the model's attributes, on a plain sqlite3
    connection (``db.snapshot``) or a SQLAlchemy one (unwrapped: same transaction)."""
    from ..db import dbapi, rows

    return rows(dbapi(conn), "SELECT * FROM chat_message WHERE exhibit = ? ORDER BY position", (exhibit,))


# --------------------------------------------------------------------------- reread

#: The metadata keys a chat read writes (replaced as a whole when it is read again).
CHAT_KEYS = ("chat_format", "encoding", "tz", "participants", "message_count", "first_message_at",
             "last_message_at", "me", "date_order", "date_order_source", "unparsed_count")
#: Warnings a chat read gives (replaced when it is read again); the probe's own warnings stay. Their codes
#: are warncodes.CHAT_READ; these beginnings catch a row stored in English that no template matches.
CHAT_WARNINGS = ("the dates could be day/month", "could not read it as a chat", "could not be read as chat messages",
                 "message(s) have", "the profile's date order", "looks like a chat export")


@dataclass(frozen=True)
class Reread:
    """What ``locker reread`` did to one exhibit."""

    slug: str
    exhibit: int
    chat_format: str
    previous_count: int
    message_count: int
    sha256: str              # of the messages, as the custody entry records it
    date_order: str | None
    date_order_source: str | None
    tz: str
    me: str | None
    captured_at: str | None
    captured_at_source: str | None
    warnings: tuple[str, ...]
    seq: int                 # the custody entry's sequence number


def reread(home: Any, ref: str, number: int, *, date_order: str | None = None, me: str | None = None,
           tz: str | None = None, chat_format: str | None = None) -> Reread:
    """Read a stored chat object into messages again (another date order, ``--me``, zone or format),
    replacing the exhibit's messages and their search rows in one transaction with an
    ``exhibit.reread`` custody entry (count and SHA-256 of the new messages). Unless given
    again, the zone, ``me`` and format are those of the last read, and a date order given
    with the option last time is kept."""
    from .. import db
    from ..errors import NotFound
    from ..values import resolve_tz
    from . import disputes, profile

    profile.check_date_order(date_order)
    opened = disputes.resolve(home, ref)
    with db.reading(opened.engine) as session:
        row = session.connection().exec_driver_sql(
            "SELECT sha256, kind, captured_at, captured_at_source, metadata, warnings FROM exhibit WHERE number = ?",
            (number,)).fetchone()
    if row is None:
        raise NotFound(_("{slug} has no exhibit {number}").format(slug=opened.slug, number=number))
    sha, kind, captured_at, captured_source, metadata_text, warnings_text = row
    metadata = _loads(metadata_text, {})
    user = profile.load(home)
    zone = resolve_tz(tz or metadata.get("tz") or user.tz)
    if me is None:
        me = metadata.get("me")
    fmt = chat_format or (metadata.get("chat_format") if kind == "chat" else None)
    source = "option"
    if date_order is None and metadata.get("date_order_source") == "option":
        date_order = metadata.get("date_order")
    elif date_order is None and user.date_order in domain.DATE_ORDERS:
        date_order, source = user.date_order, "profile"

    path = _intact_object(opened.dir.object_path(sha), sha, number)
    found = read(path, tz=zone, me=me, fmt=fmt, date_order=date_order, date_order_source=source)
    from .. import warncodes

    warnings: tuple[str, ...] = tuple(w for w in warncodes.loads(warnings_text)
                     if w.code not in warncodes.CHAT_READ and not w.startswith(CHAT_WARNINGS))
    warnings += with_reread_command(found.warnings, opened.slug, number)
    new_metadata = {k: v for k, v in metadata.items() if k not in CHAT_KEYS}
    new_metadata.update(found.metadata)
    if captured_source != "user" and found.captured_at:
        captured_at, captured_source = found.captured_at, "chat"
    _action, payload = entry = domain.exhibit_reread(
        number, captured_at=captured_at, captured_at_source=captured_source,
        chat_format=found.metadata["chat_format"], date_order=found.metadata.get("date_order"),
        date_order_source=found.metadata.get("date_order_source"), tz=found.metadata["tz"],
        me=found.metadata.get("me"), messages=domain.MessagesDigest(len(found.messages), found.digest))
    changes = ("kind = 'chat', captured_at = ?, captured_at_source = ?, metadata = ?, warnings = ?",
               (captured_at, captured_source, json.dumps(new_metadata, ensure_ascii=False, sort_keys=True),
                json.dumps(warncodes.stored(warnings), ensure_ascii=False)))
    previous, seq = _replace_messages(opened, number, sha, found.messages, changes, entry)
    return Reread(opened.slug, number, payload["chat_format"], previous, len(found.messages), found.digest,
                  payload["date_order"], payload["date_order_source"], payload["tz"], payload["me"], captured_at,
                  captured_source, warnings, seq)


def _intact_object(path: Path, sha: str, number: int) -> Path:
    """The exhibit's stored object, once its bytes are seen to still have the recorded SHA-256."""
    from ..errors import LockerError

    digest_of_object = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest_of_object.update(block)
    except OSError as err:
        raise LockerError(_("exhibit {number}'s object cannot be read: {reason}").format(number=number, reason=err.strerror), path=str(path)) from None
    if digest_of_object.hexdigest() != sha:
        raise LockerError(_("exhibit {number}'s object does not match its recorded SHA-256 (see `locker verify`)").format(number=number),
                          path=str(path))
    return path


def _replace_messages(opened: Any, number: int, sha: str, messages: list[Any],
                      changes: tuple[str, tuple[Any, ...]], entry: domain.Entry) -> tuple[int, int]:
    """In one transaction: the exhibit's messages and their search rows replaced, its row changed
    (``changes``: SET clause and values), and the custody entry appended. Returns how many messages
    it had before, and the entry's sequence number."""
    from .. import custody
    from ..errors import LockerError
    from ..search import index as search_index
    from ..values import now_utc
    from . import disputes

    now = now_utc()
    with disputes.recording(opened) as session:
        conn = session.connection()
        con = search_index.dbapi(conn)
        current = con.execute("SELECT sha256 FROM exhibit WHERE number = ?", (number,)).fetchone()
        if current is None or current[0] != sha:
            raise LockerError(_("exhibit {number} changed while it was being read again: try again").format(number=number))
        old = con.execute("SELECT id, text FROM chat_message WHERE exhibit = ?", (number,)).fetchall()
        search_index.forget_messages(con, old)
        con.execute("DELETE FROM chat_message WHERE exhibit = ?", (number,))
        insert(conn, number, messages)
        search_index.index_messages(con, [number])
        clause, values = changes
        con.execute(f"UPDATE exhibit SET {clause} WHERE number = ?", (*values, number))
        con.execute("UPDATE dispute SET updated_at = ?", (now,))
        appended = custody.append(conn, now, [entry])[-1]
    return len(old), int(appended["seq"])


def _loads(text: Any, default: Any) -> Any:
    try:
        value = json.loads(text) if text else default
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default
