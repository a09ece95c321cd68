"""One exhibit: find it, show it (``locker show DISPUTE N``), withdraw it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import custody, db, domain
from ..errors import NotFound, UsageError
from ..paths import Home
from ..search import index as search_index
from ..values import now_utc
from . import disputes
from .views import DisputeView, ExhibitView, MessageView

if TYPE_CHECKING:  # derivatives imports disputes: imported for the type only, never at run time here
    from .derivatives import Derivation

MAX_NUMBER = 2**63 - 1  # SQLite's largest integer: a number beyond it names no exhibit


def get_exhibit(session: Any, number: int) -> Any:
    """The exhibit row with this number, or None (also for a number no database could hold)."""
    from ..models import Exhibit

    if not 1 <= number <= MAX_NUMBER:
        return None
    return session.get(Exhibit, number)


@dataclass(frozen=True)
class ExhibitDetail:
    dispute: DisputeView
    exhibit: ExhibitView
    messages: tuple[MessageView, ...]
    derived: Derivation | None  # None when none was made yet
    reading: dict[str, Any] | None = None  # its OCR reading (machine-read text), when it was read


def detail(home: Home, ref: str, number: int) -> ExhibitDetail:
    """One exhibit for ``locker show DISPUTE N``: with its messages if a chat, and its derived files."""
    from . import chat, derivatives, ocr

    opened = disputes.resolve(home, ref)
    with db.reading(opened.engine) as session:
        dispute = DisputeView.of(disputes._one_dispute(session))
        found = get_exhibit(session, number)
        if found is None:
            raise NotFound(f"{opened.slug} has no exhibit {number}")
        exhibit = ExhibitView.of(found)
        messages = chat.load(session, number) if found.kind == "chat" else []
    reading = ocr.latest(opened.dir, exhibit.sha256) if ocr.readable(exhibit.mime, exhibit.kind) else None
    return ExhibitDetail(dispute, exhibit, tuple(MessageView.of(m) for m in messages),
                         derivatives.existing(opened.dir, exhibit), reading)


def withdraw(home: Home, ref: str, number: int, reason: str) -> ExhibitView:
    """Take an exhibit out of the pack, for a reason: its object and row are kept."""
    reason = reason.strip()
    if not reason:
        raise UsageError("say why the exhibit is withdrawn (--reason)")
    opened = disputes.resolve(home, ref)
    now = now_utc()
    with disputes.recording(opened) as session:
        found = get_exhibit(session, number)
        if found is None:
            raise NotFound(f"{opened.slug} has no exhibit {number}")
        if found.withdrawn:
            raise UsageError(f"exhibit {number} of {opened.slug} is already withdrawn")
        found.withdrawn = True
        found.withdrawn_reason = reason
        session.add(found)
        disputes.touch(session, now)
        session.flush()
        custody.append(session.connection(), now, [domain.exhibit_withdrawn(number, reason)])
        search_index.index_withdrawal(session.connection(), number, reason, now)
        withdrawn = ExhibitView.of(found)
    return withdrawn
