"""One exhibit: find it, show it (``locker show DISPUTE N``), withdraw it, restore it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import custody, db, domain
from ..errors import NotFound, UsageError
from ..i18n import _
from ..paths import Home
from ..search import index as search_index
from ..values import now_utc
from . import disputes, history
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


def exhibit_row(con: Any, number: int) -> Any:
    """:func:`get_exhibit` on a plain connection (``db.snapshot``): the row, or None."""
    if not 1 <= number <= MAX_NUMBER:
        return None
    found = db.rows(con, f"{disputes.EXHIBITS} WHERE number = ?", (number,))
    return found[0] if found else None


def require_linked(session: Any, slug: str, numbers: Sequence[int]) -> None:
    """Every exhibit an event or a deadline links to must exist (NotFound names the first that does not)."""
    for n in numbers:
        if get_exhibit(session, n) is None:
            raise NotFound(_("{slug} has no exhibit {n}").format(slug=slug, n=n))


@dataclass(frozen=True)
class ExhibitDetail:
    dispute: DisputeView
    exhibit: ExhibitView
    messages: tuple[MessageView, ...]
    derived: Derivation | None  # None when none was made yet
    history: tuple[history.Change, ...] = ()  # corrections of its fields and messages, oldest first
    facts: dict[str, Any] | None = None  # order facts OCR read from it (services.ocrchat.stored_facts)
    reading: dict[str, Any] | None = None  # its OCR reading (machine-read text), when it was read


def detail(home: Home, ref: str, number: int) -> ExhibitDetail:
    """One exhibit for ``locker show DISPUTE N``: with its messages if a chat, and its derived files."""
    from . import chat, derivatives, ocr, ocrchat

    ddir = home.locate(ref)
    with db.snapshot(ddir.db) as con:
        dispute = DisputeView.of(disputes.dispute_row(con))
        found = exhibit_row(con, number)
        if found is None:
            raise NotFound(_("{slug} has no exhibit {number}").format(slug=ddir.slug, number=number))
        exhibit = ExhibitView.of(found)
        messages = chat.stored_messages(con, number)  # a chat's, or those OCR read from a screenshot
        facts = ocrchat.stored_facts(con, number)
        changes = history.of_exhibit(con, number)
    reading = ocr.latest(ddir, exhibit.sha256) if ocr.readable(exhibit.mime, exhibit.kind) else None
    return ExhibitDetail(dispute, exhibit, tuple(MessageView.of(m) for m in messages),
                         derivatives.existing(ddir, exhibit), changes, facts, reading)


def withdraw(home: Home, ref: str, number: int, reason: str) -> ExhibitView:
    """Take an exhibit out of the pack, for a reason: its object and row are kept."""
    reason = reason.strip()
    if not reason:
        raise UsageError(_("say why the exhibit is withdrawn (--reason)"))
    opened = disputes.resolve(home, ref)
    now = now_utc()
    with disputes.recording(opened) as session:
        found = get_exhibit(session, number)
        if found is None:
            raise NotFound(_("{slug} has no exhibit {number}").format(slug=opened.slug, number=number))
        if found.withdrawn:
            raise UsageError(_("exhibit {number} of {slug} is already withdrawn").format(number=number, slug=opened.slug))
        found.withdrawn = True
        found.withdrawn_reason = reason
        session.add(found)
        disputes.touch(session, now)
        session.flush()
        custody.append(session.connection(), now, [domain.exhibit_withdrawn(number, reason)])
        search_index.index_withdrawal(session.connection(), number, reason, now)
        withdrawn = ExhibitView.of(found)
    return withdrawn


def restore(home: Home, ref: str, number: int, reason: str) -> ExhibitView:
    """Undo a withdrawal, for a reason: the exhibit is back in the pack and in search as any other."""
    reason = reason.strip()
    if not reason:
        raise UsageError(_("say why the exhibit is restored (--reason)"))
    opened = disputes.resolve(home, ref)
    now = now_utc()
    with disputes.recording(opened) as session:
        found = get_exhibit(session, number)
        if found is None:
            raise NotFound(_("{slug} has no exhibit {n}").format(slug=opened.slug, n=number))
        if not found.withdrawn:
            raise UsageError(_("exhibit {n} of {slug} is not withdrawn").format(n=number, slug=opened.slug))
        found.withdrawn = False
        found.withdrawn_reason = None
        session.add(found)
        disputes.touch(session, now)
        session.flush()
        custody.append(session.connection(), now, [domain.exhibit_restored(number, reason)])
        restored = ExhibitView.of(found)
    return restored
