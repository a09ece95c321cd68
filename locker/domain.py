"""The locker's vocabulary: the words every layer shares, each defined once here.

What an exhibit can be, what state a dispute can be in, which languages a pack
can be written in, which facts a dispute and an exhibit carry. Everything else
imports these names; nothing spells them again. The plain words live in
:mod:`locker.words` (so the command line's start-up need not build the custody
readings below) and are re-exported here. Pure data, no imports beyond the standard
library, so that any layer (even ``store`` and ``values``) may use it.

Why it is long: it is the catalogue of every custody action, each with its one builder and its
one frozen reading (issue 10 asks for both in one place, so that no service builds a payload
inline and no reader parses one its own way). Each action is a block of 15 to 30 lines; there
are 25 of them. Split per action, a reader would need as many files open to see what the log
can hold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, TypeVar

# Re-exported: the vocabulary is read as domain.X everywhere; its words live in .words.
from .words import DATE_ORDER_SOURCES as DATE_ORDER_SOURCES
from .words import DATE_ORDERS as DATE_ORDERS
from .words import DISPUTE_FIELDS as DISPUTE_FIELDS
from .words import DISPUTE_TEXT_FIELDS as DISPUTE_TEXT_FIELDS
from .words import EXHIBIT_FIELDS as EXHIBIT_FIELDS
from .words import EXHIBIT_TEXT_FIELDS as EXHIBIT_TEXT_FIELDS
from .words import KINDS as KINDS
from .words import LANGS as LANGS
from .words import LONG_RATIO as LONG_RATIO
from .words import MESSAGE_KINDS as MESSAGE_KINDS
from .words import MESSAGE_SOURCES as MESSAGE_SOURCES
from .words import STATUSES as STATUSES
from .words import TITLE_MAX as TITLE_MAX

# --------------------------------------------------------------------------- custody actions
#
# Every change to a dispute is recorded by one custody entry, an (action, payload)
# pair. Each action has ONE builder below (what the service that makes the change
# appends) and ONE frozen reading (what ``verify``, the log and the pack read back).
# A reading never trusts its payload: a value that is missing or not of the type
# locker writes reads as None (only a hand-edited entry has one, and the chain's
# hash reports that edit already).

DISPUTE_CREATED: Final = "dispute.created"
DISPUTE_STATUS: Final = "dispute.status"
DISPUTE_RENAMED: Final = "dispute.renamed"
EVENT_ADDED: Final = "event.added"
EXHIBIT_ADDED: Final = "exhibit.added"
EXHIBIT_WITHDRAWN: Final = "exhibit.withdrawn"
EXHIBIT_REREAD: Final = "exhibit.reread"
EXHIBIT_TRANSCRIBED: Final = "exhibit.transcribed"
EXPORT_CREATED: Final = "export.created"
PROFILE_UPDATED: Final = "profile.updated"  # in the home's own log, not a dispute's
DISPUTE_EDITED: Final = "dispute.edited"
EXHIBIT_EDITED: Final = "exhibit.edited"
MESSAGE_EDITED: Final = "message.edited"
EXHIBIT_RESTORED: Final = "exhibit.restored"
DEADLINE_ADDED: Final = "deadline.added"
DEADLINE_DONE: Final = "deadline.done"
DEADLINE_REMOVED: Final = "deadline.removed"
ACTIONS: Final = (DISPUTE_CREATED, DISPUTE_STATUS, EVENT_ADDED, EXHIBIT_ADDED, EXHIBIT_WITHDRAWN,
                  EXHIBIT_REREAD, EXPORT_CREATED, PROFILE_UPDATED, DISPUTE_EDITED, EXHIBIT_EDITED,
                  MESSAGE_EDITED, EXHIBIT_RESTORED, DEADLINE_ADDED,
                  DEADLINE_DONE, DEADLINE_REMOVED, DISPUTE_RENAMED,
                  EXHIBIT_TRANSCRIBED)

# The facts of a dispute its ``dispute.created`` entry records.
DISPUTE_RECORDED: Final = ("id", "slug", "title", *DISPUTE_FIELDS, "status", "created_at")
# What a chat's read again changes in the exhibit, as ``exhibit.reread`` records it.
REREAD_CHANGES: Final = ("kind", "captured_at", "captured_at_source", "messages")
# What ``locker edit DISPUTE`` may correct, in the order it is shown.
DISPUTE_EDITABLE: Final = ("title", *DISPUTE_FIELDS)
# What ``locker edit DISPUTE N`` may correct; a new ``captured_at`` brings ``captured_at_source``
# ("user") along, and ``exhibit.edited`` records the old value of both.
EXHIBIT_EDITABLE: Final = ("title", "source", "purpose", "note", "captured_at")
EXHIBIT_EDIT_RECORDED: Final = (*EXHIBIT_EDITABLE, "captured_at_source")

Payload = dict[str, Any]
Entry = tuple[str, Payload]  # what ``custody.append`` takes


_T = TypeVar("_T")


def _str(payload: Mapping[str, object], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) else None


def _int(payload: Mapping[str, object], key: str) -> int | None:
    value = payload.get(key)
    return value if type(value) is int else None


def _ints(payload: Mapping[str, object], key: str) -> tuple[int, ...] | None:
    value = payload.get(key)
    if isinstance(value, list) and all(type(n) is int for n in value):
        return tuple(value)
    return None


def _items(payload: Mapping[str, object], key: str, kind: type[_T]) -> tuple[_T, ...] | None:
    """The items of the list at ``key`` that are ``kind`` (None where there is no list)."""
    value = payload.get(key)
    return tuple(x for x in value if isinstance(x, kind)) if isinstance(value, list) else None


def _mapping(payload: object) -> Mapping[str, object]:
    return payload if isinstance(payload, dict) else {}


@dataclass(frozen=True)
class MessagesDigest:
    """The count and SHA-256 of a chat exhibit's messages (see ``services.chat.digest``)."""

    count: int | None
    sha256: str | None

    def as_payload(self) -> Payload:
        return {"count": self.count, "sha256": self.sha256}

    @classmethod
    def read(cls, payload: Mapping[str, object]) -> MessagesDigest | None:
        value = payload.get("messages")
        if not isinstance(value, dict) or not value:
            return None
        return cls(_int(value, "count"), _str(value, "sha256"))


# --- dispute.created


@dataclass(frozen=True)
class DisputeCreated:
    facts: Mapping[str, str | None]  # each of DISPUTE_RECORDED the entry holds (older entries may hold fewer)

    @property
    def status(self) -> str | None:
        return self.facts.get("status")

    @property
    def slug(self) -> str | None:
        return self.facts.get("slug")

    @property
    def title(self) -> str | None:
        return self.facts.get("title")

    def renamed(self, reading: DisputeRenamed) -> DisputeCreated:
        """The facts as they stand after a ``dispute.renamed`` entry: its new slug."""
        if "slug" not in self.facts:
            return self
        return DisputeCreated(MappingProxyType({**self.facts, "slug": reading.after}))

    @classmethod
    def read(cls, payload: object) -> DisputeCreated:
        p = _mapping(payload)
        return cls(MappingProxyType({k: _str(p, k) for k in DISPUTE_RECORDED if k in p}))


def dispute_created(facts: Mapping[str, str | None]) -> Entry:
    """A new dispute: ``facts`` has every key of DISPUTE_RECORDED."""
    return DISPUTE_CREATED, {k: facts[k] for k in DISPUTE_RECORDED}


# --- dispute.status


@dataclass(frozen=True)
class StatusChanged:
    before: str | None  # "from"
    after: str | None   # "to"
    note: str | None

    @classmethod
    def read(cls, payload: object) -> StatusChanged:
        p = _mapping(payload)
        return cls(_str(p, "from"), _str(p, "to"), _str(p, "note"))


def dispute_status(before: str, after: str, note: str | None) -> Entry:
    return DISPUTE_STATUS, {"from": before, "to": after, "note": note}


# --- dispute.renamed


@dataclass(frozen=True)
class DisputeRenamed:
    """``locker rename``: the dispute's slug (and its folder's name) from ``before`` to ``after``."""

    before: str | None  # "from"
    after: str | None   # "to"

    @classmethod
    def read(cls, payload: object) -> DisputeRenamed:
        p = _mapping(payload)
        return cls(_str(p, "from"), _str(p, "to"))


def dispute_renamed(before: str, after: str) -> Entry:
    return DISPUTE_RENAMED, {"from": before, "to": after}


# --- event.added


@dataclass(frozen=True)
class EventAdded:
    event: int | None  # the event row's id
    at: str | None
    type: str | None
    description: str | None
    exhibits: tuple[int, ...] | None

    @classmethod
    def read(cls, payload: object) -> EventAdded:
        p = _mapping(payload)
        return cls(_int(p, "event"), _str(p, "at"), _str(p, "type"), _str(p, "description"), _ints(p, "exhibits"))


def event_added(event: int, at: str, type: str, description: str, exhibits: Sequence[int]) -> Entry:
    return EVENT_ADDED, {"event": event, "at": at, "type": type, "description": description,
                         "exhibits": list(exhibits)}


# --- exhibit.added


@dataclass(frozen=True)
class ExhibitAdded:
    exhibit: int | None  # its number
    sha256: str | None
    size: int | None
    mime: str | None
    kind: str | None
    original_name: str | None
    title: str | None
    source: str | None
    purpose: str | None
    note: str | None
    captured_at: str | None
    captured_at_source: str | None
    ingested_at: str | None
    messages: MessagesDigest | None  # a chat's messages, else None
    channel: Channel | None = None  # how it came in when not through the command line (the web app)

    def recorded(self, field: str) -> object:
        """The value recorded for one of EXHIBIT_FIELDS (``number`` is the entry's ``exhibit``)."""
        return self.exhibit if field == "number" else getattr(self, field)

    @classmethod
    def read(cls, payload: object) -> ExhibitAdded:
        p = _mapping(payload)
        return cls(
            exhibit=_int(p, "exhibit"), sha256=_str(p, "sha256"), size=_int(p, "size"), mime=_str(p, "mime"),
            kind=_str(p, "kind"), original_name=_str(p, "original_name"), title=_str(p, "title"),
            source=_str(p, "source"), purpose=_str(p, "purpose"), note=_str(p, "note"),
            captured_at=_str(p, "captured_at"), captured_at_source=_str(p, "captured_at_source"),
            ingested_at=_str(p, "ingested_at"), messages=MessagesDigest.read(p), channel=Channel.read(p),
        )


def exhibit_added(row: Mapping[str, Any], messages: MessagesDigest | None = None,
                  channel: Channel | None = None) -> Entry:
    """An exhibit added: the EXHIBIT_FIELDS of its row (``number`` recorded as ``exhibit``), a
    chat's messages digest, and the channel it came through when not the command line."""
    payload = {("exhibit" if k == "number" else k): row[k] for k in EXHIBIT_FIELDS}
    if messages is not None:
        payload["messages"] = messages.as_payload()
    if channel is not None:
        payload["channel"] = channel.as_payload()
    return EXHIBIT_ADDED, payload


# --- exhibit.withdrawn


@dataclass(frozen=True)
class ExhibitWithdrawn:
    exhibit: int | None
    reason: str | None

    @classmethod
    def read(cls, payload: object) -> ExhibitWithdrawn:
        p = _mapping(payload)
        return cls(_int(p, "exhibit"), _str(p, "reason"))


def exhibit_withdrawn(exhibit: int, reason: str) -> Entry:
    return EXHIBIT_WITHDRAWN, {"exhibit": exhibit, "reason": reason}


# --- exhibit.reread


@dataclass(frozen=True)
class ExhibitReread:
    exhibit: int | None
    kind: str | None
    captured_at: str | None
    captured_at_source: str | None
    chat_format: str | None
    date_order: str | None
    date_order_source: str | None
    tz: str | None
    me: str | None
    messages: MessagesDigest | None
    changes: frozenset[str]  # which of REREAD_CHANGES the entry holds

    @classmethod
    def read(cls, payload: object) -> ExhibitReread:
        p = _mapping(payload)
        return cls(
            exhibit=_int(p, "exhibit"), kind=_str(p, "kind"), captured_at=_str(p, "captured_at"),
            captured_at_source=_str(p, "captured_at_source"), chat_format=_str(p, "chat_format"),
            date_order=_str(p, "date_order"), date_order_source=_str(p, "date_order_source"), tz=_str(p, "tz"),
            me=_str(p, "me"), messages=MessagesDigest.read(p), changes=frozenset(k for k in REREAD_CHANGES if k in p),
        )


def exhibit_reread(exhibit: int, *, captured_at: str | None, captured_at_source: str | None, chat_format: str,
                   date_order: str | None, date_order_source: str | None, tz: str, me: str | None,
                   messages: MessagesDigest) -> Entry:
    """A chat read again into messages: it is a ``chat`` from now on, with these messages."""
    return EXHIBIT_REREAD, {
        "exhibit": exhibit, "kind": "chat", "captured_at": captured_at, "captured_at_source": captured_at_source,
        "chat_format": chat_format, "date_order": date_order, "date_order_source": date_order_source, "tz": tz,
        "me": me, "messages": messages.as_payload(),
    }


# --- exhibit.transcribed


@dataclass(frozen=True)
class ExhibitTranscribed:
    """A screenshot machine-read (OCR): the chat messages read from it (stored with
    ``source = 'ocr'``) and the order facts, as they were stored."""

    exhibit: int | None
    engine: str | None
    messages: MessagesDigest | None
    page: str | None
    platform: str | None
    facts: tuple[Mapping[str, object], ...] | None

    @classmethod
    def read(cls, payload: object) -> ExhibitTranscribed:
        p = _mapping(payload)
        facts = _items(p, "facts", dict)
        return cls(exhibit=_int(p, "exhibit"), engine=_str(p, "engine"), messages=MessagesDigest.read(p),
                   page=_str(p, "page"), platform=_str(p, "platform"), facts=facts)


def exhibit_transcribed(exhibit: int, *, engine: str, messages: MessagesDigest, page: str | None,
                        platform: str | None, facts: Sequence[Mapping[str, object]]) -> Entry:
    """What OCR read from exhibit ``exhibit`` replaces what it read before: these messages (count and
    SHA-256, see ``services.chat.digest``) and these order facts (each ``{"name", "value", "text",
    "box", "score"}``)."""
    return EXHIBIT_TRANSCRIBED, {"exhibit": exhibit, "engine": engine, "messages": messages.as_payload(),
                                 "page": page, "platform": platform, "facts": [dict(f) for f in facts]}


# --- export.created


@dataclass(frozen=True)
class ExportCreated:
    export: int | None  # the export row's id
    path: str | None
    sha256: str | None
    size: int | None
    pages: int | None
    lang: str | None
    exhibits: tuple[int, ...] | None
    fingerprint: str | None
    attachments: int | None
    failed_verification: tuple[int, ...]  # exhibits stamped FAILED VERIFICATION (--allow-damaged)

    @classmethod
    def read(cls, payload: object) -> ExportCreated:
        p = _mapping(payload)
        return cls(
            export=_int(p, "export"), path=_str(p, "path"), sha256=_str(p, "sha256"), size=_int(p, "size"),
            pages=_int(p, "pages"), lang=_str(p, "lang"), exhibits=_ints(p, "exhibits"),
            fingerprint=_str(p, "fingerprint"), attachments=_int(p, "attachments"),
            failed_verification=_ints(p, "failed_verification") or (),
        )


def export_created(export: int, *, path: str, sha256: str, size: int, pages: int, lang: str,
                   exhibits: Sequence[int], fingerprint: str | None, attachments: int,
                   failed_verification: Sequence[int] = ()) -> Entry:
    """A pack written; ``failed_verification`` is recorded only when some exhibit failed its check."""
    payload: Payload = {"export": export, "path": path, "sha256": sha256, "size": size, "pages": pages,
                        "lang": lang, "exhibits": list(exhibits), "fingerprint": fingerprint,
                        "attachments": attachments}
    if failed_verification:
        payload["failed_verification"] = list(failed_verification)
    return EXPORT_CREATED, payload


# --- profile.updated


@dataclass(frozen=True)
class ProfileUpdated:
    fields: Mapping[str, str | None]

    @classmethod
    def read(cls, payload: object) -> ProfileUpdated:
        p = _mapping(payload)
        return cls(MappingProxyType({k: _str(p, k) for k in p}))


def profile_updated(fields: Mapping[str, str | None]) -> Entry:
    """The whole profile after a change (its ``as_dict``)."""
    return PROFILE_UPDATED, dict(fields)


# --- dispute.edited, exhibit.edited, message.edited: corrections, each with the old and new value


@dataclass(frozen=True)
class FieldChange:
    """One corrected field: what it said before the edit, and after."""

    field: str
    before: str | None  # "from"
    after: str | None   # "to"


def _field_changes(payload: Mapping[str, object], allowed: Sequence[str]) -> tuple[FieldChange, ...]:
    """The changes an edit entry records, in the order of ``allowed`` (a field locker does not
    edit is left out: only a hand-made entry holds one)."""
    fields = _mapping(payload.get("fields"))
    return tuple(FieldChange(name, _str(_mapping(fields[name]), "from"), _str(_mapping(fields[name]), "to"))
                 for name in allowed if name in fields)


def _fields_payload(changes: Sequence[FieldChange]) -> Payload:
    return {c.field: {"from": c.before, "to": c.after} for c in changes}


@dataclass(frozen=True)
class DisputeEdited:
    changes: tuple[FieldChange, ...]

    @classmethod
    def read(cls, payload: object) -> DisputeEdited:
        return cls(_field_changes(_mapping(payload), DISPUTE_EDITABLE))


def dispute_edited(changes: Sequence[FieldChange]) -> Entry:
    """The dispute's facts corrected (``locker edit DISPUTE``): each of DISPUTE_EDITABLE that changed."""
    return DISPUTE_EDITED, {"fields": _fields_payload(changes)}


@dataclass(frozen=True)
class ExhibitEdited:
    exhibit: int | None
    changes: tuple[FieldChange, ...]

    @classmethod
    def read(cls, payload: object) -> ExhibitEdited:
        p = _mapping(payload)
        return cls(_int(p, "exhibit"), _field_changes(p, EXHIBIT_EDIT_RECORDED))


def exhibit_edited(exhibit: int, changes: Sequence[FieldChange]) -> Entry:
    """An exhibit's description corrected (``locker edit DISPUTE N``, or ``add`` of a file it holds
    with new descriptions): each of EXHIBIT_EDIT_RECORDED that changed."""
    return EXHIBIT_EDITED, {"exhibit": exhibit, "fields": _fields_payload(changes)}


@dataclass(frozen=True)
class MessageEdited:
    exhibit: int | None
    message: int | None   # its number as ``show DISPUTE N`` lists the messages, from 1
    position: int | None  # its stored position
    before: str | None
    after: str | None
    messages: MessagesDigest | None  # the exhibit's messages after the correction

    @classmethod
    def read(cls, payload: object) -> MessageEdited:
        p = _mapping(payload)
        return cls(_int(p, "exhibit"), _int(p, "message"), _int(p, "position"), _str(p, "from"), _str(p, "to"),
                   MessagesDigest.read(p))


def message_edited(exhibit: int, message: int, position: int, before: str, after: str,
                   messages: MessagesDigest) -> Entry:
    """The text of one chat message corrected (``locker edit DISPUTE N --message K --text …``)."""
    return MESSAGE_EDITED, {"exhibit": exhibit, "message": message, "position": position, "from": before,
                            "to": after, "messages": messages.as_payload()}


# --- exhibit.restored


@dataclass(frozen=True)
class ExhibitRestored:
    exhibit: int | None
    reason: str | None

    @classmethod
    def read(cls, payload: object) -> ExhibitRestored:
        p = _mapping(payload)
        return cls(_int(p, "exhibit"), _str(p, "reason"))


def exhibit_restored(exhibit: int, reason: str) -> Entry:
    """A withdrawal undone: the exhibit is back in the pack."""
    return EXHIBIT_RESTORED, {"exhibit": exhibit, "reason": reason}


# --- deadline.added, deadline.done, deadline.removed


@dataclass(frozen=True)
class DeadlineAdded:
    deadline: int | None  # the deadline row's id, its number within the dispute
    due: str | None  # ISO 8601 with an offset; a date-only deadline is the end of that day
    date_only: bool | None  # given as a day, without a time
    text: str | None
    exhibits: tuple[int, ...] | None

    @classmethod
    def read(cls, payload: object) -> DeadlineAdded:
        p = _mapping(payload)
        date_only = p.get("date_only")
        return cls(_int(p, "deadline"), _str(p, "due"), date_only if isinstance(date_only, bool) else None,
                   _str(p, "text"), _ints(p, "exhibits"))


def deadline_added(deadline: int, due: str, date_only: bool, text: str, exhibits: Sequence[int]) -> Entry:
    return DEADLINE_ADDED, {"deadline": deadline, "due": due, "date_only": date_only, "text": text,
                            "exhibits": list(exhibits)}


@dataclass(frozen=True)
class DeadlineDone:
    deadline: int | None
    done_at: str | None

    @classmethod
    def read(cls, payload: object) -> DeadlineDone:
        p = _mapping(payload)
        return cls(_int(p, "deadline"), _str(p, "done_at"))


def deadline_done(deadline: int, done_at: str) -> Entry:
    """A deadline met (or otherwise dealt with): it stays, marked done at ``done_at``."""
    return DEADLINE_DONE, {"deadline": deadline, "done_at": done_at}


@dataclass(frozen=True)
class DeadlineRemoved:
    deadline: int | None
    reason: str | None

    @classmethod
    def read(cls, payload: object) -> DeadlineRemoved:
        p = _mapping(payload)
        return cls(_int(p, "deadline"), _str(p, "reason"))


def deadline_removed(deadline: int, reason: str | None) -> Entry:
    """A deadline taken off the dispute (typed by mistake): its row goes, this entry and the one
    that added it stay."""
    return DEADLINE_REMOVED, {"deadline": deadline, "reason": reason}


Reading = (DisputeCreated | StatusChanged | EventAdded | ExhibitAdded | ExhibitWithdrawn | ExhibitReread
           | ExportCreated | ProfileUpdated | DisputeEdited | ExhibitEdited | MessageEdited | ExhibitRestored
           | DeadlineAdded | DeadlineDone | DeadlineRemoved | DisputeRenamed
           | ExhibitTranscribed)

_READERS: Final[Mapping[str, Callable[[object], Reading]]] = {
    DISPUTE_CREATED: DisputeCreated.read, DISPUTE_STATUS: StatusChanged.read, EVENT_ADDED: EventAdded.read,
    EXHIBIT_ADDED: ExhibitAdded.read, EXHIBIT_WITHDRAWN: ExhibitWithdrawn.read, EXHIBIT_REREAD: ExhibitReread.read,
    EXPORT_CREATED: ExportCreated.read, PROFILE_UPDATED: ProfileUpdated.read, DISPUTE_EDITED: DisputeEdited.read,
    EXHIBIT_EDITED: ExhibitEdited.read, MESSAGE_EDITED: MessageEdited.read, EXHIBIT_RESTORED: ExhibitRestored.read,
    DEADLINE_ADDED: DeadlineAdded.read, DEADLINE_DONE: DeadlineDone.read, DEADLINE_REMOVED: DeadlineRemoved.read,
    DISPUTE_RENAMED: DisputeRenamed.read,
    EXHIBIT_TRANSCRIBED: ExhibitTranscribed.read,
}


def read_entry(action: str, payload: object) -> Reading | None:
    """The typed reading of one custody entry's (decoded) payload; None for an action locker does
    not write, or a payload that is not a JSON object."""
    reader = _READERS.get(action)
    if reader is None or not isinstance(payload, dict):
        return None
    return reader(payload)


# --- stamp: RFC 3161 trusted timestamps (locker stamp, export --stamp, bundle --stamp)

TIMESTAMP_ADDED: Final = "timestamp.added"
# What a token stamps, as the prefix of its subject: the custody chain's head hash ("custody:<seq>"),
# a pack's fingerprint ("pack:<file name>"), a bundle's tag manifest ("bundle:<file name>").
TIMESTAMP_SUBJECTS: Final = ("custody", "pack", "bundle")


@dataclass(frozen=True)
class TimestampAdded:
    """A token a Time-Stamp Authority gave over ``sha256``, stored as ``file`` (relative to the
    dispute's folder; its bytes hash to ``token_sha256``)."""

    timestamp: int | None  # its number within the dispute, from 1
    file: str | None
    subject: str | None
    sha256: str | None  # the digest stamped
    token_sha256: str | None
    tsa: str | None
    url: str | None
    gen_time: str | None
    serial: str | None
    method: str | None  # how the answer was checked: rfc3161-client | openssl

    @classmethod
    def read(cls, payload: object) -> TimestampAdded:
        p = _mapping(payload)
        return cls(timestamp=_int(p, "timestamp"), file=_str(p, "file"), subject=_str(p, "subject"),
                   sha256=_str(p, "sha256"), token_sha256=_str(p, "token_sha256"), tsa=_str(p, "tsa"),
                   url=_str(p, "url"), gen_time=_str(p, "gen_time"), serial=_str(p, "serial"),
                   method=_str(p, "method"))


def timestamp_added(timestamp: int, *, file: str, subject: str, sha256: str, token_sha256: str, tsa: str,
                    url: str, gen_time: str, serial: str, method: str) -> Entry:
    return TIMESTAMP_ADDED, {"timestamp": timestamp, "file": file, "subject": subject, "sha256": sha256,
                             "token_sha256": token_sha256, "tsa": tsa, "url": url, "gen_time": gen_time,
                             "serial": serial, "method": method}


# Registered here, at the end of the block (so that merging other blocks stays mechanical): the
# action among ACTIONS, its reading among the readers read_entry uses.
ACTIONS = (*ACTIONS, TIMESTAMP_ADDED)  # type: ignore[misc,assignment]
_READERS = MappingProxyType({**_READERS, TIMESTAMP_ADDED: TimestampAdded.read})  # type: ignore[misc,dict-item]


# --- bundle ---
# bundle.created: a bundle (BagIt bag in a ZIP, locker bundle) written into the dispute's exports/.

BUNDLE_CREATED: Final = "bundle.created"


@dataclass(frozen=True)
class BundleCreated:
    path: str | None
    sha256: str | None  # of the ZIP file
    size: int | None
    exhibits: tuple[int, ...] | None  # the originals it holds
    pack_sha256: str | None  # data/pack.pdf (its own export.created entry comes just before)
    tagmanifest_sha256: str | None  # what a --stamp token stamps
    custody_seq: int | None  # the last custody entry data/custody.jsonl holds
    lang: str | None

    @classmethod
    def read(cls, payload: object) -> BundleCreated:
        p = _mapping(payload)
        return cls(path=_str(p, "path"), sha256=_str(p, "sha256"), size=_int(p, "size"),
                   exhibits=_ints(p, "exhibits"), pack_sha256=_str(p, "pack_sha256"),
                   tagmanifest_sha256=_str(p, "tagmanifest_sha256"), custody_seq=_int(p, "custody_seq"),
                   lang=_str(p, "lang"))


def bundle_created(*, path: str, sha256: str, size: int, exhibits: Sequence[int], pack_sha256: str,
                   tagmanifest_sha256: str, custody_seq: int, lang: str) -> Entry:
    return BUNDLE_CREATED, {"path": path, "sha256": sha256, "size": size, "exhibits": list(exhibits),
                            "pack_sha256": pack_sha256, "tagmanifest_sha256": tagmanifest_sha256,
                            "custody_seq": custody_seq, "lang": lang}


ACTIONS = (*ACTIONS, BUNDLE_CREATED)  # type: ignore[misc,assignment]
_READERS = MappingProxyType({**_READERS, BUNDLE_CREATED: BundleCreated.read})  # type: ignore[misc,dict-item]


# --- import ---
# ``locker import FILE.zip``: a bundle became this dispute. Every entry before this one is the
# bundle's own chain, kept as it was; this entry says which bundle (file name, SHA-256, size),
# which slug the bundle recorded, which chain head it carried, and the problems found in it
# (stable codes; empty unless it was taken in with --allow-damaged).

IMPORTED: Final = "imported"


@dataclass(frozen=True)
class Imported:
    bundle: str | None
    sha256: str | None
    size: int | None
    slug: str | None  # the slug the bundle recorded
    head_seq: int | None
    head_hash: str | None
    problems: tuple[str, ...]
    absent: tuple[int, ...]  # exhibits whose originals the bundle left out (withdrawn, excluded)

    @classmethod
    def read(cls, payload: object) -> Imported:
        p = _mapping(payload)
        head = _mapping(p.get("head"))
        problems = _items(p, "problems", str) or ()
        return cls(_str(p, "bundle"), _str(p, "sha256"), _int(p, "size"), _str(p, "slug"), _int(head, "seq"),
                   _str(head, "hash"), problems, _ints(p, "absent") or ())


def imported(*, bundle: str, sha256: str, size: int, slug: str, head_seq: int, head_hash: str,
             problems: Sequence[str] = (), absent: Sequence[int] = ()) -> Entry:
    """The dispute was taken in from a bundle; the entries before this one are the bundle's. ``absent``:
    the exhibits whose originals the bundle did not carry (it leaves out what its pack leaves out)."""
    return IMPORTED, {"bundle": bundle, "sha256": sha256, "size": size, "slug": slug,
                      "head": {"seq": head_seq, "hash": head_hash}, "problems": list(problems),
                      "absent": list(absent)}


ACTIONS = (*ACTIONS, IMPORTED)  # type: ignore[misc,assignment]
_READERS = MappingProxyType({**_READERS, IMPORTED: Imported.read})  # type: ignore[misc,dict-item]
# --- kit ---
# ``locker kit``: an upload kit (evidence cards, description, kit.json, a ZIP) written from the dispute.

KIT_CREATED: Final = "kit.created"


@dataclass(frozen=True)
class KitCreated:
    kit: int | None  # the kit row's id
    path: str | None  # the kit's folder
    zip_path: str | None
    form: str | None  # the form profile's id
    lang: str | None
    manifest_sha256: str | None  # of kit.json
    zip_sha256: str | None
    exhibits: tuple[int, ...] | None
    cards: tuple[Mapping[str, Any], ...]  # {"file", "sha256", "exhibit"}; exhibit None for the overview
    pack: Mapping[str, Any] | None = None  # {"file", "sha256"}: the PDF pack's copy, for a form that takes it

    @classmethod
    def read(cls, payload: object) -> KitCreated:
        p = _mapping(payload)
        cards = _items(p, "cards", dict) or ()
        pack = p.get("pack")
        return cls(_int(p, "kit"), _str(p, "path"), _str(p, "zip_path"), _str(p, "form"), _str(p, "lang"),
                   _str(p, "manifest_sha256"), _str(p, "zip_sha256"), _ints(p, "exhibits"), cards,
                   pack if isinstance(pack, dict) else None)


def kit_created(kit: int, *, path: str, zip_path: str, form: str, lang: str, manifest_sha256: str,
                zip_sha256: str, exhibits: Sequence[int], cards: Sequence[Mapping[str, Any]],
                pack: Mapping[str, Any] | None = None) -> Entry:
    payload = {"kit": kit, "path": path, "zip_path": zip_path, "form": form, "lang": lang,
               "manifest_sha256": manifest_sha256, "zip_sha256": zip_sha256,
               "exhibits": list(exhibits), "cards": [dict(c) for c in cards]}
    if pack is not None:
        payload["pack"] = dict(pack)
    return KIT_CREATED, payload


ACTIONS = (*ACTIONS, KIT_CREATED)  # type: ignore[misc,assignment]  # appended here so that merges stay mechanical
_READERS = MappingProxyType({**_READERS, KIT_CREATED: KitCreated.read})  # type: ignore[misc,dict-item]


# --- web ---
# How an exhibit came in when not through the command line: ``web`` (a browser on this computer,
# ``locker serve``) or ``web-lan`` (a paired phone on the local network), with the browser's user
# agent. A browser may send a converted copy (iOS turns HEIC into JPEG in its file picker), so an
# upload is recorded as the copy the browser sent.
CHANNELS: Final = ("web", "web-lan")
BROWSER_COPY: Final = "the copy the browser sent"


@dataclass(frozen=True)
class Channel:
    name: str | None  # one of CHANNELS
    user_agent: str | None = None
    received: str | None = BROWSER_COPY

    def as_payload(self) -> dict[str, Any]:
        return {"name": self.name, "user_agent": self.user_agent, "received": self.received}

    def as_metadata(self) -> dict[str, Any]:
        return {"channel": self.name, "channel_user_agent": self.user_agent, "channel_received": self.received}

    @classmethod
    def read(cls, payload: Mapping[str, object]) -> Channel | None:
        found = payload.get("channel")
        if not isinstance(found, dict):
            return None
        return cls(_str(found, "name"), _str(found, "user_agent"), _str(found, "received"))


# --- remote ---
# ``locker archive``: one run that copied the dispute to a write-once remote (S3 Object Lock). It names
# the remote, the manifest the run wrote (which names the custody log holding this very entry), the
# database snapshot, every key uploaded with the version id the storage gave it, and the retention.
# ``locker restore --from``: the dispute rebuilt from such a remote; the entries before it are the
# archived chain, kept as they were.

ARCHIVED: Final = "archived"
RESTORED: Final = "restored"


@dataclass(frozen=True)
class Archived:
    remote: str | None  # its name in the home that archived
    url: str | None  # s3://BUCKET/PREFIX
    endpoint: str | None
    manifest: str | None  # the key of the manifest this run wrote
    snapshot_key: str | None  # the database snapshot (consistent, SQLite backup API)
    snapshot_sha256: str | None
    snapshot_seq: int | None  # the last custody entry the snapshot holds
    mode: str | None  # COMPLIANCE | GOVERNANCE
    retain_until: str | None
    uploaded: tuple[Mapping[str, Any], ...]  # {"key", "version_id", "size"} of each key this run uploaded
    kept: int | None  # keys the remote held already

    @classmethod
    def read(cls, payload: object) -> Archived:
        p = _mapping(payload)
        snap = _mapping(p.get("snapshot"))
        uploaded = _items(p, "uploaded", dict) or ()
        return cls(_str(p, "remote"), _str(p, "url"), _str(p, "endpoint"), _str(p, "manifest"), _str(snap, "key"),
                   _str(snap, "sha256"), _int(snap, "seq"), _str(p, "mode"), _str(p, "retain_until"), uploaded,
                   _int(p, "kept"))


@dataclass(frozen=True)
class LastArchived:
    """When a dispute was last archived, and where: its newest ``archived`` entry (``verify`` shows it)."""

    at: str
    seq: int
    remote: str | None
    url: str | None
    retain_until: str | None


def archived(*, remote: str, url: str, endpoint: str | None, manifest: str, snapshot_key: str, snapshot_sha256: str,
             snapshot_seq: int, mode: str, retain_until: str, uploaded: Sequence[Mapping[str, Any]], kept: int) -> Entry:
    return ARCHIVED, {"remote": remote, "url": url, "endpoint": endpoint, "manifest": manifest,
                      "snapshot": {"key": snapshot_key, "sha256": snapshot_sha256, "seq": snapshot_seq},
                      "mode": mode, "retain_until": retain_until, "uploaded": [dict(u) for u in uploaded],
                      "kept": kept}


@dataclass(frozen=True)
class Restored:
    url: str | None  # where it came from: s3://BUCKET/PREFIX
    endpoint: str | None
    manifest: str | None
    slug: str | None  # the slug the archive recorded
    head_seq: int | None  # the archived chain's last entry
    head_hash: str | None

    @classmethod
    def read(cls, payload: object) -> Restored:
        p = _mapping(payload)
        head = _mapping(p.get("head"))
        return cls(_str(p, "url"), _str(p, "endpoint"), _str(p, "manifest"), _str(p, "slug"), _int(head, "seq"),
                   _str(head, "hash"))


def restored(*, url: str, endpoint: str | None, manifest: str, slug: str, head_seq: int, head_hash: str) -> Entry:
    return RESTORED, {"url": url, "endpoint": endpoint, "manifest": manifest, "slug": slug,
                      "head": {"seq": head_seq, "hash": head_hash}}


ACTIONS = (*ACTIONS, ARCHIVED, RESTORED)  # type: ignore[misc,assignment]
_READERS = MappingProxyType({**_READERS, ARCHIVED: Archived.read, RESTORED: Restored.read})  # type: ignore[misc,dict-item]
