"""What the services hand out: frozen, typed copies of a dispute's rows.

The JSON columns (an exhibit's metadata and warnings, an event's exhibits, a custody
entry's payload) are decoded here, once, so that ``render`` and the web app only
read values. A column that does not hold what locker writes (a hand-edited
database) reads as empty: ``verify`` is what reports such edits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import domain, warncodes


def _decoded(text: str | None) -> object:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _as_dict(text: str | None) -> dict[str, Any]:
    value = _decoded(text)
    return value if isinstance(value, dict) else {}


def _as_list(text: str | None) -> list[Any]:
    value = _decoded(text)
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class DisputeView:
    id: str
    slug: str
    title: str
    platform: str | None
    merchant: str | None
    merchant_address: str | None
    order_id: str | None
    item: str | None
    amount: str | None
    currency: str
    purchased_on: str | None
    claim: str | None
    summary: str | None
    status: str
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, row: Any) -> DisputeView:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ExhibitView:
    number: int
    sha256: str
    size: int
    mime: str
    kind: str
    original_name: str
    title: str | None
    source: str | None
    purpose: str | None
    note: str | None
    captured_at: str | None
    captured_at_source: str | None
    ingested_at: str
    metadata: Mapping[str, Any]
    warnings: tuple[str, ...]
    withdrawn: bool
    withdrawn_reason: str | None

    @classmethod
    def of(cls, row: Any) -> ExhibitView:
        """From an ``Exhibit`` row (its ``meta`` and ``warnings`` are JSON text)."""
        return cls(
            number=row.number, sha256=row.sha256, size=row.size, mime=row.mime, kind=row.kind,
            original_name=row.original_name, title=row.title, source=row.source, purpose=row.purpose,
            note=row.note, captured_at=row.captured_at, captured_at_source=row.captured_at_source,
            ingested_at=row.ingested_at, metadata=_as_dict(row.meta),
            warnings=warncodes.loads(_as_list(row.warnings)), withdrawn=bool(row.withdrawn),
            withdrawn_reason=row.withdrawn_reason,
        )


@dataclass(frozen=True)
class EventView:
    id: int
    at: str
    type: str
    description: str
    exhibits: tuple[int, ...]
    created_at: str

    @classmethod
    def of(cls, row: Any) -> EventView:
        return cls(row.id, row.at, row.type, row.description, tuple(_as_list(row.exhibits)), row.created_at)


@dataclass(frozen=True)
class MessageView:
    """One stored line of a chat exhibit."""

    position: int
    at: str | None
    sender: str | None
    text: str
    me: bool
    kind: str
    source: str = "export"  # export | ocr (machine-read from a screenshot)

    @classmethod
    def of(cls, row: Any) -> MessageView:
        return cls(row.position, row.at, row.sender, row.text, bool(row.me), row.kind,
                   getattr(row, "source", None) or "export")


@dataclass(frozen=True)
class LogEntry:
    """One custody entry as ``locker log`` shows it: its payload decoded, and read by action."""

    seq: int
    v: int
    at: str
    actor: str
    action: str
    payload: Any  # the decoded JSON, exactly as recorded
    prev_hash: str
    hash: str

    @property
    def reading(self) -> domain.Reading | None:
        return domain.read_entry(self.action, self.payload)

    @classmethod
    def of(cls, row: Any) -> LogEntry:
        return cls(row.seq, row.v, row.at, row.actor, row.action, _decoded(row.payload), row.prev_hash, row.hash)
