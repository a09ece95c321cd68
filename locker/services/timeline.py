"""A dispute's timeline (``locker event``) and its custody log (``locker log``)."""

from __future__ import annotations

import json
import re

from .. import custody, db, domain
from ..errors import UsageError
from ..i18n import _
from ..paths import Home
from ..search import index as search_index
from ..values import now_utc, parse_capture_time, resolve_tz
from . import disputes
from .exhibits import require_linked
from .views import EventView, LogEntry

EVENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def add_event(home: Home, ref: str, description: str, *, at: str, type: str = "note",
              exhibits: list[int] | None = None, tz_name: str | None = None) -> EventView:
    """An event on the dispute's timeline, at a time the user gives, linked to some exhibits."""
    from ..models import Event
    from . import profile

    description = description.strip()
    if not description:
        raise UsageError(_("an event needs a description"))
    if not EVENT_TYPE_RE.match(type):
        raise UsageError(_("an event type is a short lower-case word, not {type!r}").format(type=type))
    tz = resolve_tz(tz_name or profile.load(home).tz)
    when = parse_capture_time(at, tz)
    numbers = sorted(set(exhibits or []))
    opened = disputes.resolve(home, ref)
    now = now_utc()
    with disputes.recording(opened) as session:
        require_linked(session, opened.slug, numbers)
        event = Event(at=when, type=type, description=description, exhibits=json.dumps(numbers), created_at=now)
        session.add(event)
        disputes.touch(session, now)
        session.flush()
        assert event.id is not None  # given by the flush
        custody.append(session.connection(), now, [domain.event_added(event.id, when, type, description, numbers)])
        search_index.index_event(session.connection(), event)
        added = EventView.of(event)
    return added


def log(home: Home, ref: str) -> list[LogEntry]:
    """The dispute's custody log, oldest first."""
    with db.snapshot(home.locate(ref).db) as con:
        return [LogEntry.of(e) for e in disputes.custody_rows(con)]
