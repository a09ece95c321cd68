"""The read-only snapshot the evidence pack is made from.

Plain frozen dataclasses, filled by :mod:`locker.services.export_snapshot` from one read
transaction (plus the derived files it made sure of). The report package never
opens the database: everything it prints is here. Times are ISO 8601 text with
an offset, as stored; amounts are decimal text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


@dataclass(frozen=True)
class Party:
    """The claimant (from the profile)."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class DisputeInfo:
    slug: str
    title: str
    platform: str | None = None
    merchant: str | None = None
    merchant_address: str | None = None
    order_id: str | None = None
    item: str | None = None
    amount: str | None = None
    currency: str = "CNY"
    purchased_on: str | None = None
    claim: str | None = None
    summary: str | None = None
    status: str = "open"
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class Slice:
    """Pixel rows [top, bottom) of a long screenshot's display rendition."""

    top: int
    bottom: int


@dataclass(frozen=True)
class KeyFrame:
    file: Path
    timecode: str
    width: int
    height: int


@dataclass(frozen=True)
class Derived:
    """What :func:`locker.services.derivatives.ensure` made for an exhibit (or why it could not)."""

    display: Path | None = None  # display.jpg: orientation applied
    width: int | None = None  # of the display rendition
    height: int | None = None
    slices: tuple[Slice, ...] = ()
    frames: tuple[KeyFrame, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Message:
    at: str | None
    sender: str | None
    text: str
    me: bool = False
    kind: str = "message"  # message | media | service | unparsed
    corrected: int | None = None  # its text was corrected (locker edit): the custody entry holding the old text
    source: str = "export"  # export | ocr (machine-read from a screenshot: printed as such, after the picture)


@dataclass(frozen=True)
class ExhibitInfo:
    number: int
    sha256: str
    size: int
    mime: str
    kind: str
    original_name: str
    original: Path  # the stored object (read-only)
    object_ref: str  # "objects/ab/cdef…", relative to the dispute folder
    title: str | None = None
    source: str | None = None
    purpose: str | None = None
    note: str | None = None
    captured_at: str | None = None
    captured_at_source: str | None = None
    ingested_at: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    withdrawn: bool = False
    withdrawn_reason: str | None = None
    derived: Derived | None = None
    messages: tuple[Message, ...] = ()
    ocr_facts: Mapping[str, Any] | None = None  # order facts machine-read from the picture (services.ocrchat)
    check: str = "ok"  # the export's re-hash of the object: ok | damaged (other bytes) | missing (or unreadable)
    found_sha256: str | None = None  # damaged: the SHA-256 of the bytes there now

    @property
    def failed(self) -> bool:
        """The object failed the export's check: the pack stamps it FAILED VERIFICATION (原件校验失败)."""
        return self.check != "ok"

    @property
    def name(self) -> str:
        return self.title or self.original_name


@dataclass(frozen=True)
class LeftOut:
    """An exhibit of the dispute that is not in this pack, and why."""

    number: int
    name: str
    withdrawn: bool
    reason: str | None = None


@dataclass(frozen=True)
class Event:
    at: str
    type: str
    description: str
    exhibits: tuple[int, ...] = ()


@dataclass(frozen=True)
class StatusChange:
    at: str
    before: str | None
    after: str
    note: str | None = None


@dataclass(frozen=True)
class Deadline:
    """A deadline of the dispute (``locker due``); ``due`` has an offset, a date-only one is the end of its day."""

    number: int
    due: str
    text: str
    date_only: bool = False
    exhibits: tuple[int, ...] = ()
    done_at: str | None = None


@dataclass(frozen=True)
class CustodyRow:
    seq: int
    at: str
    actor: str
    action: str
    payload: Mapping[str, Any]
    hash: str


@dataclass(frozen=True)
class Snapshot:
    dispute: DisputeInfo
    claimant: Party
    exhibits: tuple[ExhibitInfo, ...]
    left_out: tuple[LeftOut, ...]
    events: tuple[Event, ...]
    status_changes: tuple[StatusChange, ...]
    custody: tuple[CustodyRow, ...]
    generated_at: str  # ISO 8601, in the display zone
    tz: str | None = None  # the zone times are shown in (IANA name or offset); None: as stored
    deadlines: tuple[Deadline, ...] = ()  # soonest first
