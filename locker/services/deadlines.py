"""A dispute's deadlines (``locker due``) and the usual next step (``locker next``).

A deadline is a dated obligation the user records: "平台介入申请截止 on 2025-05-10". It is
stored with its time as ISO 8601 with an offset; one given as a day only is due at the end of
that day (23:59:59) in the zone it was typed in (``--tz``, else the profile's, else the
machine's), and says so (``date_only``). Adding one, marking one done and removing one are each
one custody entry written in the same transaction as the row (``deadline.added``,
``deadline.done``, ``deadline.removed``); :func:`problems_against_chain` is what ``verify``
checks the rows with.

The escalation ladder and the general time limits are data, not code:
``locker/data/escalation.toml`` holds them with their sources (read by
:mod:`locker.services.escalation`). :func:`next_step` only reads the dispute's status and
timeline and looks them up there.

:mod:`locker.services.deadlines_ics` writes an iCalendar file (RFC 5545) of deadlines for a
phone's calendar.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from .. import custody, db, domain
from ..errors import LockerError, NotFound, UsageError
from ..i18n import _
from ..paths import Home
from ..values import iso, now_utc, parse_date, parse_datetime, resolve_tz, zone_name
from . import disputes
from .deadlines_ics import fold as fold
from .deadlines_ics import ics_escape as ics_escape
from .deadlines_ics import write_ics as write_ics  # locker due --ics
from .escalation import Rule, Step, Texts, add_period, escalation
from .escalation import parse_rules as parse_rules
from .exhibits import require_linked

DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
END_OF_DAY = time(23, 59, 59)
EARLIEST_YEAR, LATEST_YEAR = 1970, 2199  # a deadline outside these years is a typing mistake
MAX_TEXT = 500


# --------------------------------------------------------------------------- what the services hand out


@dataclass(frozen=True)
class DeadlineView:
    """One deadline of one dispute."""

    dispute: str  # its slug
    dispute_title: str
    dispute_id: str  # the dispute's UUID: with ``id``, a calendar entry's stable UID
    id: int
    due: str  # ISO 8601 with an offset
    date_only: bool
    text: str
    exhibits: tuple[int, ...]
    created_at: str
    done_at: str | None

    @property
    def done(self) -> bool:
        return self.done_at is not None

    def instant(self) -> datetime:
        return datetime.fromisoformat(self.due)

    def day(self) -> date:
        """The calendar day it falls on, in the zone it was typed in."""
        return self.instant().date()

    def overdue(self, now: datetime) -> bool:
        """Past its time and not done."""
        return not self.done and self.instant() < now

    @classmethod
    def of(cls, row: Any, dispute: Any) -> DeadlineView:
        return cls(dispute=dispute.slug, dispute_title=dispute.title, dispute_id=dispute.id, id=row.id, due=row.due,
                   date_only=bool(row.date_only), text=row.text, exhibits=_exhibits(row.exhibits),
                   created_at=row.created_at, done_at=row.done_at)


def _exhibits(text: str | None) -> tuple[int, ...]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return ()
    return tuple(n for n in value if type(n) is int) if isinstance(value, list) else ()


@dataclass(frozen=True)
class Added:
    deadline: DeadlineView
    zone: str  # the zone a time without offset (or a date-only deadline's end of day) was read in


@dataclass(frozen=True)
class DueList:
    """Deadlines across disputes, soonest first; the disputes that could not be read, with why."""

    deadlines: tuple[DeadlineView, ...]
    unreadable: tuple[tuple[str, str], ...]
    now: datetime


# --------------------------------------------------------------------------- times


def parse_due(text: str, tz: tzinfo) -> tuple[str, bool]:
    """``--at WHEN``: (ISO 8601 with an offset, date-only?). A day alone (``2025-05-10``) is the end
    of that day, 23:59:59, in ``tz``; a time without an offset is in ``tz``."""
    if DATE_ONLY.match(text):
        day = date.fromisoformat(parse_date(text))
        value = datetime.combine(day, END_OF_DAY, tzinfo=tz)
        found, date_only = iso(value), True
    else:
        found, date_only = parse_datetime(text, tz), False
    year = datetime.fromisoformat(found).year
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise UsageError(_("{text!r} is not a believable deadline: its year must lie between {first} and {last}")
                         .format(text=text.strip(), first=EARLIEST_YEAR, last=LATEST_YEAR))
    return found, date_only


def _zone(home: Home, tz_name: str | None) -> tzinfo:
    from . import profile

    return resolve_tz(tz_name or profile.load(home).tz)


# --------------------------------------------------------------------------- changes


def add(home: Home, ref: str, text: str, *, at: str, exhibits: Sequence[int] = (),
        tz_name: str | None = None) -> Added:
    """Record a deadline of the dispute (custody-logged)."""
    from ..models import Deadline

    text = " ".join(text.split())
    if not text:
        raise UsageError(_("a deadline needs a description, e.g. 平台介入申请截止"))
    if len(text) > MAX_TEXT:
        raise UsageError(_("a deadline's description is at most {n} characters").format(n=MAX_TEXT))
    tz = _zone(home, tz_name)
    due, date_only = parse_due(at, tz)
    numbers = sorted(set(exhibits))
    opened = disputes.resolve(home, ref)
    now = now_utc()
    with disputes.recording(opened) as session:
        require_linked(session, opened.slug, numbers)
        row = Deadline(due=due, date_only=date_only, text=text, exhibits=json.dumps(numbers), created_at=now)
        session.add(row)
        dispute = disputes.touch(session, now)
        session.flush()
        assert row.id is not None  # given by the flush
        custody.append(session.connection(), now, [domain.deadline_added(row.id, due, date_only, text, numbers)])
        added = DeadlineView.of(row, dispute)
    return Added(added, zone_name(tz))


def _get(session: Any, slug: str, number: int) -> Any:
    from ..models import Deadline

    found = session.get(Deadline, number) if 1 <= number <= 2**63 - 1 else None
    if found is None:
        raise NotFound(_("{slug} has no deadline {n}").format(slug=slug, n=number))
    return found


def mark_done(home: Home, ref: str, number: int) -> DeadlineView:
    """Mark a deadline done: it stays on record (and in the pack), no longer listed as due."""
    opened = disputes.resolve(home, ref)
    now = now_utc()
    with disputes.recording(opened) as session:
        row = _get(session, opened.slug, number)
        if row.done_at is not None:
            raise UsageError(_("deadline {n} of {slug} is already done").format(n=number, slug=opened.slug))
        row.done_at = now
        session.add(row)
        dispute = disputes.touch(session, now)
        session.flush()
        custody.append(session.connection(), now, [domain.deadline_done(number, now)])
        done = DeadlineView.of(row, dispute)
    return done


def remove(home: Home, ref: str, number: int, reason: str | None = None) -> DeadlineView:
    """Take a deadline off the dispute (one typed by mistake). Its custody entries stay."""
    opened = disputes.resolve(home, ref)
    now = now_utc()
    reason = (reason or "").strip() or None
    with disputes.recording(opened) as session:
        row = _get(session, opened.slug, number)
        dispute = disputes.touch(session, now)
        removed = DeadlineView.of(row, dispute)
        session.delete(row)
        session.flush()
        custody.append(session.connection(), now, [domain.deadline_removed(number, reason)])
    return removed


# --------------------------------------------------------------------------- reading


def stored(con: Any, dispute: Any) -> list[DeadlineView]:
    """The deadlines of the dispute read on ``con`` (``db.snapshot``), soonest first (for the pack, ``due`` and ``next``)."""
    return sort(DeadlineView.of(r, dispute) for r in db.rows(con, "SELECT * FROM deadline ORDER BY id"))


def sort(deadlines: Iterable[DeadlineView]) -> list[DeadlineView]:
    """Soonest first; at the same instant, the older record first."""
    return sorted(deadlines, key=lambda d: (d.instant().astimezone(UTC), d.dispute, d.id))


def list_due(home: Home, ref: str | None = None, *, include_done: bool = False,
             now: datetime | None = None) -> DueList:
    """Deadlines of one dispute, or of every dispute, soonest first; done ones only if asked.
    A dispute that cannot be read is reported beside the others, never in their place."""
    import sqlite3

    now = now or datetime.now(UTC)
    found: list[DeadlineView] = []
    unreadable: list[tuple[str, str]] = []
    slugs = [home.locate(ref).slug] if ref else home.slugs()  # one that cannot be opened: raised below
    for slug in slugs:
        try:
            with db.snapshot(home.dispute(slug).db) as con:
                found += stored(con, disputes.dispute_row(con))
        except LockerError as err:
            if ref:
                raise
            unreadable.append((slug, err.message))
        except (sqlite3.Error, OSError) as err:
            reason = str(err).splitlines()[0]
            if ref:
                raise LockerError(_("cannot read the dispute database: {reason}").format(reason=reason)) from None
            unreadable.append((slug, _("cannot read the dispute database: {reason}").format(reason=reason)))
    shown = [d for d in found if include_done or not d.done]
    return DueList(tuple(sort(shown)), tuple(unreadable), now)


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class StoredRow:
    """A deadline row exactly as the database holds it (verify compares raw values)."""

    id: object
    due: object
    date_only: object
    text: object
    exhibits: object
    done_at: object


def stored_rows(connection: Any) -> list[StoredRow]:
    """Every deadline row of the dispute, raw, for :func:`problems_against_chain`."""
    cursor = db.dbapi(connection).execute("SELECT id, due, date_only, text, exhibits, done_at FROM deadline ORDER BY id")
    return [StoredRow(*row) for row in cursor.fetchall()]


def problems_against_chain(rows: Sequence[StoredRow], recorded: Iterable[domain.Reading]) -> list[tuple[str, str]]:
    """(problem, detail) for each deadline row that differs from what the custody log recorded,
    each row no entry records, and each recorded deadline whose row is gone without a removal."""
    expected: dict[int | None, dict[str, object]] = {}
    for reading in recorded:
        if isinstance(reading, domain.DeadlineAdded):
            expected[reading.deadline] = {"due": reading.due, "date_only": reading.date_only, "text": reading.text,
                                          "exhibits": reading.exhibits, "done_at": None}
        elif isinstance(reading, domain.DeadlineDone) and reading.deadline in expected:
            expected[reading.deadline]["done_at"] = reading.done_at
        elif isinstance(reading, domain.DeadlineRemoved):
            expected.pop(reading.deadline, None)
    problems: list[tuple[str, str]] = []
    for row in rows:
        record = expected.pop(row.id if type(row.id) is int else None, None)
        if record is None:
            problems.append(("row_unrecorded", _("no custody entry records deadline {deadline}").format(deadline=row.id)))
            continue
        values = {"due": row.due, "date_only": row.date_only, "text": row.text,
                  "exhibits": _stored_list(row.exhibits), "done_at": row.done_at}
        # date_only is stored as 0/1 and recorded as false/true: 1 == True holds, 2 or "1" == True does not.
        changed = sorted(k for k in values if values[k] != record[k])
        if changed:
            problems.append(("row_altered", _("deadline {deadline} differs from its custody entry in {fields}").format(
                deadline=row.id, fields=", ".join(changed))))
    for number in sorted(expected, key=str):
        problems.append(("row_missing", _("the custody log records deadline {deadline} but its row is gone").format(deadline=number)))
    return problems


def _stored_list(text: object) -> object:
    """A JSON list column as the tuple a reading holds; anything else as it is (never equal)."""
    if not isinstance(text, str):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return tuple(value) if isinstance(value, list) else value


# --------------------------------------------------------------------------- the usual next step


@dataclass(frozen=True)
class Anchor:
    """What a rule's period is counted from in this dispute."""

    kind: str  # "event" (its type in ``name``) or "field" (the dispute field in ``name``)
    name: str
    day: date
    approximate: bool  # not what the law counts from (the purchase date for the day of receipt)


@dataclass(frozen=True)
class RuleCheck:
    rule: Rule
    anchor: Anchor | None
    last_day: date | None
    passed: bool | None  # None when there is nothing to count from
    relevant: bool  # matters for the step reached or the next one


@dataclass(frozen=True)
class Basis:
    """Why the dispute is where it is: its status, or an event of its timeline."""

    status: str | None = None
    event: str | None = None
    at: str | None = None


@dataclass(frozen=True)
class NextStep:
    slug: str
    title: str
    status: str
    reached: Step | None  # the highest step of the ladder reached, None when none yet
    basis: tuple[Basis, ...]
    next: Step | None  # None: the dispute is finished, or at the last step
    finished: bool
    ladder: tuple[Step, ...]
    rules: tuple[RuleCheck, ...]
    deadlines: tuple[DeadlineView, ...]  # not done, soonest first
    today: date
    now: datetime
    platform_note: Texts
    disclaimer: Texts


def next_step(home: Home, ref: str, *, now: datetime | None = None) -> NextStep:
    """Where the dispute stands on the ladder (merchant → platform → 12315 → court), the usual next
    step with what the locker can make for it, and the general time limits counted for it."""
    from . import profile

    rules = escalation()
    tz = resolve_tz(profile.load(home).tz)
    now = now or datetime.now(UTC)
    today = now.astimezone(tz).date()
    with db.snapshot(home.locate(ref).db) as con:  # opened and migrated here, its errors in words
        dispute = disputes.dispute_row(con)
        events = disputes.event_rows(con)
        deadlines = [d for d in stored(con, dispute) if not d.done]
        facts = {"slug": dispute.slug, "title": dispute.title, "status": dispute.status,
                 "purchased_on": dispute.purchased_on}

    reached_index = -1
    basis: list[Basis] = []
    for i, step in enumerate(rules.steps):
        why = [Basis(status=facts["status"])] if facts["status"] in step.statuses else []
        why += [Basis(event=e.type, at=e.at) for e in events if e.type in step.events]
        if why:
            reached_index, basis = i, why
    finished = facts["status"] in rules.finished
    reached = rules.steps[reached_index] if reached_index >= 0 else None
    following = None if finished or reached_index + 1 >= len(rules.steps) else rules.steps[reached_index + 1]
    now_and_next = {s.id for s in (reached, following) if s is not None}
    checks = tuple(_check_rule(rule, events, facts, today, now_and_next) for rule in rules.rules)
    return NextStep(facts["slug"], facts["title"], facts["status"], reached, tuple(basis), following, finished,
                    rules.steps, checks, tuple(deadlines), today, now, rules.platform_note, rules.disclaimer)


def _check_rule(rule: Rule, events: Sequence[Any], facts: Mapping[str, Any], today: date,
                steps: set[str]) -> RuleCheck:
    anchor: Anchor | None = None
    for e in events:  # in time order: the earliest such event
        if e.type in rule.from_events:
            try:
                anchor = Anchor("event", e.type, datetime.fromisoformat(e.at).date(), approximate=False)
            except ValueError:
                continue
            break
    if anchor is None and rule.from_field and facts.get(rule.from_field):
        try:
            anchor = Anchor("field", rule.from_field, date.fromisoformat(str(facts[rule.from_field])),
                            approximate=True)
        except ValueError:
            anchor = None
    last = add_period(anchor.day, rule.period, rule.unit) if anchor else None
    return RuleCheck(rule, anchor, last, None if last is None else last < today, bool(steps & set(rule.steps)))
