"""Disputes: open one, find one, list them, move them on.

An exhibit's own changes live in :mod:`.exhibits`, the timeline and the custody log
in :mod:`.timeline`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from .. import custody, db, domain, names, store
from ..domain import DISPUTE_FIELDS, STATUSES, TITLE_MAX  # STATUSES: also read as disputes.STATUSES by services.search
from ..errors import LockerError, UsageError
from ..i18n import N_, _
from ..names import SLUG_MAX
from ..paths import SLUG_RE, DisputeDir, Home
from ..search import index as search_index
from ..values import now_utc, parse_amount, parse_date
from . import history
from .history import Change
from .views import DisputeView, EventView, ExhibitView


@dataclass(frozen=True)
class Opened:
    """A dispute folder whose database could be opened and is migrated (:func:`resolve`).

    Its SQLAlchemy engine is made when it is first asked for: a command that only reads on
    plain sqlite3 (``db.snapshot``) or writes there (``db.connect_writer``) never imports
    SQLAlchemy or SQLModel, about 0.3 CPU-s of start-up."""

    dir: DisputeDir

    @property
    def slug(self) -> str:
        return self.dir.slug

    @property
    def engine(self) -> Any:
        return db.engine_for(self.dir.db)  # made once per process and database (db._engines)


@contextmanager
def recording(opened: Opened) -> Iterator[Any]:
    """A write transaction of one dispute; once it commits, the custody head outside the
    database moves to the newest entry (see :func:`locker.custody.publish_head`)."""
    with db.writing(opened.engine) as session:
        yield session
    custody.publish_head(opened.dir.root, opened.engine)


@dataclass(frozen=True)
class Detail:
    dispute: DisputeView  # its slug is the folder's name, how the dispute is found
    exhibits: tuple[ExhibitView, ...]
    events: tuple[EventView, ...]
    history: tuple[Change, ...] = ()  # corrections of the dispute's facts (locker edit), oldest first
    recorded_slug: str | None = None  # the slug the database recorded, when the folder's name differs


def folder_note(folder: str, recorded: str) -> str:
    """What to say of a dispute folder whose name is not the slug its database recorded."""
    return _("the folder is named {folder} but the dispute was recorded as {slug} (copied or moved by hand?); "
             "`locker rename {folder} NEW-SLUG` records a name").format(folder=repr(folder), slug=repr(recorded))


@dataclass(frozen=True)
class Summary:
    dispute: DisputeView
    exhibit_count: int


def slugify(title: str, platform: str | None = None) -> str:
    """A readable slug for a title: Latin words as they are, Chinese in pinyin (see :mod:`locker.names`)."""
    return names.slugify(title, platform)


def check_title(title: str) -> str:
    """The title stripped, or a UsageError when it is empty or longer than TITLE_MAX characters."""
    title = title.strip()
    if not title:
        raise UsageError(_("a dispute needs a title"))
    if len(title) > TITLE_MAX:
        raise UsageError(_("a title has at most {limit} characters; this one has {count}").format(
            limit=TITLE_MAX, count=len(title)))
    return title


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def new(home: Home, title: str, *, slug: str | None = None, **fields: str | None) -> DisputeView:
    """Open a dispute: a new folder with its database and a first custody entry."""
    title = check_title(title)
    unknown = set(fields) - set(DISPUTE_FIELDS)
    if unknown:
        raise UsageError(_("unknown dispute field: {choices}").format(choices=', '.join(sorted(unknown))))
    values: dict[str, Any] = {k: _clean(v) for k, v in fields.items()}
    if values.get("amount"):
        values["amount"] = parse_amount(values["amount"])
    if values.get("purchased_on"):
        values["purchased_on"] = parse_date(values["purchased_on"])
    values["currency"] = (values.get("currency") or "CNY").upper()
    if slug is not None and not SLUG_RE.match(slug):
        raise UsageError(_("a dispute name uses a-z, 0-9 and '-': {slug!r}").format(slug=slug))
    home.require_writable().ensure()

    now = now_utc()
    final = _reserve_name(home, slug or slugify(title, values.get("platform")), exact=slug is not None)
    staging = DisputeDir(home.disputes / f".new-{secrets.token_hex(6)}")
    try:
        for folder in (staging.root, staging.objects, staging.derived, staging.exports):
            folder.mkdir(mode=0o700)
        # The dispute row: every column (the view's fields), the model's defaults, then what was given.
        row: dict[str, Any] = {**dict.fromkeys(DisputeView.__dataclass_fields__), "currency": "CNY", **values,
                               "id": str(uuid.uuid4()), "slug": final.slug, "title": title, "status": "open",
                               "created_at": now, "updated_at": now}
        con = db.connect_writer(staging.db, create=True)  # plain sqlite3, as add writes: no SQLAlchemy
        try:
            with db.writing_dbapi(con, staging.db):
                con.execute(f"INSERT INTO dispute ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                            tuple(row.values()))
                custody.append(con, now, [domain.dispute_created({k: row[k] for k in domain.DISPUTE_RECORDED})])
                search_index.index_dispute(con, row)
            made = DisputeView(**row)
            custody.publish_head(staging.root, con)
        finally:
            con.close()
        # The finished folder replaces the empty reserved one in one rename.
        os.replace(staging.root, final.root)
    except BaseException as exc:
        shutil.rmtree(staging.root, ignore_errors=True)
        try:
            final.root.rmdir()
        except OSError:
            pass
        if isinstance(exc, OSError):  # no space (or no inode) for a folder: one line, not an internal error
            raise store._os_error(exc, home.disputes) from None
        if isinstance(exc, LockerError) and exc.path and staging.root.name in exc.path:
            exc.path = str(home.disputes)  # not the staging folder, which is gone by now
        raise
    return made


def _reserve_name(home: Home, base: str, *, exact: bool) -> DisputeDir:
    """Create the first free slug's folder, empty (mkdir is atomic: two `new` never share one)."""
    for n in range(1, 1000):
        candidate = base if n == 1 else f"{names.trim(base, SLUG_MAX - 1 - len(str(n)))}-{n}"
        target = home.dispute(candidate)
        try:
            target.root.mkdir(mode=0o700)
            return target
        except FileExistsError:
            if exact:
                raise LockerError(_("a dispute named {candidate!r} exists already").format(candidate=candidate)) from None
        except OSError as err:
            raise store._os_error(err, home.disputes) from None
    raise LockerError(_("too many disputes named like {base!r}").format(base=base))


def resolve(home: Home, ref: str) -> Opened:
    """The dispute named by its slug or a unique prefix of it, with its database open."""
    ddir = home.locate(ref)
    db.connect(ddir.db).close()  # migrated now; a database that cannot be opened fails here, in words
    return Opened(ddir)


# A dispute's rows read on a plain connection (:func:`locker.db.snapshot`), with the models' attributes.

NO_DISPUTE_ROW = N_("the dispute database has no dispute row")

def dispute_row(con: Any, *, required: bool = True) -> Any:
    """The dispute's row (None, when not ``required``, for a database that has none: verify reports it)."""
    found = db.rows(con, "SELECT * FROM dispute LIMIT 1")
    if not found and required:
        raise LockerError(_(NO_DISPUTE_ROW))
    return found[0] if found else None


EXHIBITS = "SELECT *, metadata AS meta FROM exhibit"  # meta: the model's attribute for the column "metadata"


def exhibit_rows(con: Any) -> list[Any]:
    """Every exhibit, by number."""
    return db.rows(con, f"{EXHIBITS} ORDER BY number")


def event_rows(con: Any) -> list[Any]:
    """The timeline, in time order (the older record first at the same time)."""
    return db.rows(con, "SELECT * FROM event ORDER BY at, id")


def custody_rows(con: Any) -> list[Any]:
    """The custody log, oldest first."""
    return db.rows(con, "SELECT * FROM custody ORDER BY seq")


def _one_dispute(session: Any) -> Any:
    from sqlmodel import select

    from ..models import Dispute

    dispute = session.exec(select(Dispute)).first()
    if dispute is None:
        raise LockerError(_(NO_DISPUTE_ROW))
    return dispute


def detail(home: Home, ref: str) -> Detail:
    ddir = home.locate(ref)
    with db.snapshot(ddir.db) as con:
        view = DisputeView.of(dispute_row(con))
        return Detail(replace(view, slug=ddir.slug), tuple(ExhibitView.of(e) for e in exhibit_rows(con)),
                      tuple(EventView.of(ev) for ev in event_rows(con)), history.of_dispute(con),
                      view.slug if view.slug != ddir.slug else None)


@dataclass(frozen=True)
class Listing:
    """The disputes that could be read, and each one that could not with the reason."""

    disputes: tuple[Summary, ...]
    unreadable: tuple[tuple[str, str], ...] = ()


def list_all(home: Home, *, status: str | None = None, platform: str | None = None) -> Listing:
    """Every dispute, newest first. One that cannot be read (a damaged database, a folder it
    may not open) is reported beside the others, never in their place."""
    import sqlite3

    if status and status not in STATUSES:
        raise UsageError(_("status must be one of {choices}").format(choices=', '.join(STATUSES)))
    out = []
    unreadable = []
    for slug in home.slugs():
        try:
            with db.snapshot(home.dispute(slug).db) as con:
                dispute = dispute_row(con)
                (count,) = con.execute("SELECT count(*) FROM exhibit").fetchone()
        except LockerError as err:
            unreadable.append((slug, err.message))
            continue
        except (sqlite3.Error, OSError) as err:
            reason = str(err).splitlines()[0]
            unreadable.append((slug, f"cannot read the dispute database: {reason}"))
            continue
        if status and dispute.status != status:
            continue
        if platform and (dispute.platform or "").lower() != platform.lower():
            continue
        out.append(Summary(replace(DisputeView.of(dispute), slug=slug), count))  # found by its folder's name
    out.sort(key=lambda s: (s.dispute.created_at, s.dispute.slug), reverse=True)
    return Listing(tuple(out), tuple(unreadable))


def touch(session: Any, now: str) -> Any:
    """The dispute row, marked as changed ``now`` (inside the caller's write transaction)."""
    dispute = _one_dispute(session)
    dispute.updated_at = now
    session.add(dispute)
    return dispute


def set_status(home: Home, ref: str, status: str, note: str | None = None) -> DisputeView:
    if status not in STATUSES:
        raise UsageError(_("status must be one of {choices}, not {status!r}").format(choices=', '.join(STATUSES), status=status))
    opened = resolve(home, ref)
    now = now_utc()
    with recording(opened) as session:
        dispute = touch(session, now)
        before = dispute.status
        if before == status:
            raise UsageError(_("{slug} is already {status}").format(slug=opened.slug, status=status))
        dispute.status = status
        session.flush()
        custody.append(session.connection(), now, [domain.dispute_status(before, status, _clean(note))])
        search_index.index_status_note(session.connection(), _clean(note), now)
        changed = replace(DisputeView.of(dispute), slug=opened.slug)
    return changed
