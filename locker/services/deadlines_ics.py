"""``locker due --ics``: deadlines as an iCalendar file (RFC 5545) for a phone's calendar, one event per
deadline with a UID stable across exports, folded and escaped as the RFC asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from .. import durable
from ..errors import UsageError
from ..i18n import _

if TYPE_CHECKING:
    from .deadlines import DeadlineView

PRODID = "-//Evidence Locker//locker due//EN"
LINE_OCTETS = 75  # RFC 5545 §3.1: content lines are folded at 75 octets (the CRLF not counted)


def ics_escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma, newline."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> bytes:
    """One content line as UTF-8, folded so that no physical line exceeds 75 octets; a fold never
    splits a character; continuation lines begin with one space; every line ends in CRLF."""
    out: list[bytes] = []
    current = b""
    limit = LINE_OCTETS
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > limit:
            out.append(current)
            current = b" "
            limit = LINE_OCTETS
        current += encoded
    out.append(current)
    return b"".join(part + b"\r\n" for part in out)


def _utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(deadlines: Sequence[DeadlineView], now: datetime, *, calendar_name: str) -> bytes:
    """An iCalendar file with one VEVENT per deadline (phone calendars import events; most ignore
    VTODO). A timed deadline is an event at that instant (UTC); a date-only one an all-day event on
    its day. Each has a UID stable across exports, so that importing a newer file updates the events
    instead of doubling them, and a reminder the day before unless it is done. A calendar holds at
    least one component (RFC 5545 §3.6): the caller writes none without deadlines."""
    if not deadlines:
        raise ValueError("a calendar needs at least one event")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{ics_escape(calendar_name)}"]
    stamp = _utc_stamp(now)
    for d in deadlines:
        lines += ["BEGIN:VEVENT", f"UID:{d.dispute_id}-deadline-{d.id}@locker", f"DTSTAMP:{stamp}"]
        if d.date_only:
            day = d.day()
            lines += [f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}"]
            trigger = "-PT15H"  # 09:00 the day before
        else:
            lines += [f"DTSTART:{_utc_stamp(d.instant())}"]
            trigger = "-P1D"
        summary = _("{text} · {title}").format(text=d.text, title=d.dispute_title)
        if d.done:  # listed with --all: shown as done, without a reminder (not CANCELLED: it was met)
            summary = _("(done) {summary}").format(summary=summary)
        description = _("Deadline {n} of the dispute {slug} ({title}), recorded with locker.").format(
            n=d.id, slug=d.dispute, title=d.dispute_title)
        if d.exhibits:
            description += " " + _("Exhibits: {numbers}.").format(numbers=", ".join(map(str, d.exhibits)))
        category = _("deadline")
        lines += [f"SUMMARY:{ics_escape(summary)}", f"DESCRIPTION:{ics_escape(description)}",
                  "TRANSP:TRANSPARENT", "STATUS:CONFIRMED", f"CATEGORIES:{ics_escape(category)}"]
        if not d.done:
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{ics_escape(summary)}", f"TRIGGER:{trigger}",
                      "END:VALARM"]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return b"".join(fold(line) for line in lines)


def write_ics(path: str | Path, deadlines: Sequence[DeadlineView], now: datetime, *, calendar_name: str) -> Path:
    """Write :func:`ics` to ``path`` atomically (a reader sees the old file or the new one)."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise UsageError(_("--ics names a folder, not a file: {path}").format(path=target))
    if not target.parent.is_dir():
        raise UsageError(_("no such folder: {path}").format(path=target.parent))
    try:
        durable.write_atomic(target, ics(deadlines, now, calendar_name=calendar_name), mode=0o600)
    except OSError as err:
        raise durable.os_error(err, target) from None
    return target
