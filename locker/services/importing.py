"""``locker import FILE.zip [--as SLUG] [--allow-damaged]``: a bundle becomes a dispute in the home.

In order, and nothing in the home changes until the last step:

1. the archive is unpacked by :mod:`locker.bundle.safezip` into a hidden folder made
   for it inside the home (``.import-<random>/``: the same disk, so the originals are
   moved, not copied, and no byte is written outside the home);
2. the bag is read and checked (:mod:`locker.bundle.importing`): the custody chain,
   the originals against it, the chats against it, the dispute document against it;
   a damaged bundle is refused unless ``allow_damaged``;
3. the dispute is built beside it, in a home of its own (``.import-…/home/``): its
   database made from the replayed chain, the original entries kept as they are, one
   ``imported`` entry appended (and a ``dispute.renamed`` one when ``--as`` gives
   another name), the originals moved into ``objects/`` read-only;
4. the built dispute is checked by ``locker verify``'s own check;
5. one rename moves its folder into ``disputes/`` (onto a name reserved empty first,
   so two imports never take one name). Whatever happens, the hidden folder is removed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import custody, db, domain, durable, store
from ..bundle import importing as reading
from ..bundle import safezip
from ..errors import InputRefused, LockerError, UsageError
from ..i18n import _
from ..paths import SLUG_RE, Home
from ..values import clean_text, now_utc
from . import landing

STAGING_PREFIX = ".import-"
# What the checks read into memory (the custody log, the manifests, the chats, dispute.json: every
# member but the originals and the pack) is bounded in all; 100,000 chat messages are about 20 MB.
TEXT_MEMBERS_MAX = 512 << 20
SHOWN_PROBLEMS = 3


class DamagedBundle(LockerError):
    """The bundle does not check out: refused unless ``--allow-damaged``."""

    code = "damaged_bundle"

    def __init__(self, message: str, problems: tuple[reading.Problem, ...], *, path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.problems = problems


@dataclass(frozen=True)
class Imported:
    slug: str
    recorded_slug: str
    title: str
    exhibits: int
    messages: int
    entries_kept: int
    seq: int  # the imported entry's number
    head_hash: str  # the bundle's chain head, kept
    bundle_sha256: str
    bundle_size: int
    problems: tuple[reading.Problem, ...]  # what was wrong (only with allow_damaged)
    verified: bool


def import_bundle(home: Home, archive: str | os.PathLike[str], *, slug: str | None = None,
                  allow_damaged: bool = False, limits: safezip.Limits | None = None) -> Imported:
    path = Path(archive)
    if not path.is_file():
        raise InputRefused(_("not a readable file"), path=str(path))
    if slug is not None and not SLUG_RE.match(slug):
        raise UsageError(_("a dispute name uses a-z, 0-9 and '-': {slug!r}").format(slug=slug))
    home.require_writable().ensure()
    landing.clean_stale(home, STAGING_PREFIX)
    try:
        with landing.Landing(home, STAGING_PREFIX) as landed:
            unpacked = landed.staging / "unpacked"
            unpacked.mkdir(mode=0o700)
            extracted = safezip.extract(path, unpacked, limits or safezip.Limits())
            try:
                top = reading.top_folder(extracted.files)
            except ValueError as err:
                raise InputRefused(str(err), path=str(path)) from None
            text = sum(f.stat().st_size for name, f in extracted.files.items()
                       if not name.startswith(f"{top}/data/originals/") and name != f"{top}/data/pack.pdf")
            if text > TEXT_MEMBERS_MAX:
                raise safezip.UnsafeArchive(_("its records (everything but the originals and the pack) expand to {size} bytes, "
                                              "more than the {limit} a bundle may hold").format(size=text, limit=TEXT_MEMBERS_MAX),
                                            path=str(path), reason="too_large")
            bundle = reading.read(unpacked / top)
            problems = _bundle_check(path, bundle.problems)
            if not bundle.chain or not bundle.rows.dispute.get("id"):
                raise DamagedBundle(_("not a locker bundle: it holds no custody log of a dispute"), problems, path=str(path))
            if problems and not allow_damaged:
                raise DamagedBundle(_damaged_line(problems), problems, path=str(path))
            final = slug or bundle.slug
            if not SLUG_RE.match(final):
                raise InputRefused(_("the bundle names its dispute {slug!r}, which is not a dispute name; choose one with --as").format(
                    slug=final), path=str(path))
            landed.reserve(final)
            digest, size = store.hash_file(path)
            built = landed.builder()
            made = _build(built, final, bundle, problems, bundle_name=path.name, bundle_sha256=digest, bundle_size=size)
            from .verify import check_dispute

            try:
                check = check_dispute(built, final)
            finally:
                db.dispose(built.dispute(final).db)
            if not check.ok and not allow_damaged:
                found = tuple(reading.Problem(p.problem, None, p.detail) for p in check.problems if p.severity == "error")
                raise DamagedBundle(_damaged_line(found), found, path=str(path))
            landed.move_in(built, final)
    except OSError as err:
        raise durable.os_error(err, home.root) from None
    return Imported(final, bundle.slug, str(bundle.rows.dispute.get("title")), len(bundle.rows.exhibits),
                    sum(len(m) for m in bundle.rows.messages.values()), len(bundle.chain), made,
                    str(bundle.chain[-1]["hash"]), digest, size, problems, check.ok)


def clean_stale(home: Home) -> int:
    """Remove what an import killed before it finished left (:func:`landing.clean_stale`)."""
    return landing.clean_stale(home, STAGING_PREFIX)


def _bundle_check(archive: Path, found: list[reading.Problem]) -> tuple[reading.Problem, ...]:
    """What the bundle's own checker (``locker verify --bundle``: the bag's manifests, the originals,
    the pack, the chain, the chats, the timestamp tokens) finds, with what reading the bag found
    (the dispute document against the log) that it did not name already. Run on an archive that
    safezip has accepted, so its size and names are within bounds."""
    from ..bundle.check import check_bundle

    report = check_bundle(archive)
    theirs = [reading.Problem(p.problem, p.member, p.detail) for p in report.problems if p.severity == "error"]
    named = {p.member for p in theirs}
    return tuple(theirs) + tuple(p for p in found if p.member is None and p.problem not in {q.problem for q in theirs}
                                 or p.member is not None and p.member not in named)


def _damaged_line(problems: tuple[reading.Problem, ...]) -> str:
    shown = "; ".join(f"{p.member}: {p.detail}" if p.member else p.detail for p in problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    line = _("the bundle is damaged: {problems}").format(problems=clean_text(shown))
    if more > 0:
        line += " " + _("(and {count} more)").format(count=more)
    return line + " " + _("(--allow-damaged imports it anyway, marked so in its custody log)")



def _build(home: Home, slug: str, bundle: reading.Bundle, problems: tuple[reading.Problem, ...], *,
           bundle_name: str, bundle_sha256: str, bundle_size: int) -> int:
    """The dispute folder ``home/disputes/<slug>``, complete; returns the imported entry's number."""

    ddir = home.dispute(slug)
    for folder in (ddir.root, ddir.objects, ddir.derived, ddir.exports):
        folder.mkdir(mode=0o700)
    moved = []
    for number, source in bundle.originals.items():
        sha = bundle.rows.exhibits[number]["sha256"]
        target = ddir.object_path(sha)
        target.parent.mkdir(mode=0o700, exist_ok=True)
        if target.exists():  # two exhibits of one content cannot be (sha256 is unique), but never overwrite
            continue
        os.chmod(source, 0o444)
        os.replace(source, target)
        moved.append(target)
    for target in moved:
        durable.fsync_file(target)
    durable.fsync_dirs(sorted({t.parent for t in moved}) + [ddir.objects])

    for file in bundle.rows.timestamps:  # each token with what it stamps (.json) and its certificates (.pem)
        source = bundle.root / "data" / file
        (ddir.root / "timestamps").mkdir(mode=0o700, exist_ok=True)
        for part in (source, source.with_suffix(".json"), source.with_suffix(".pem")):
            if part.is_file():
                os.replace(part, ddir.root / "timestamps" / part.name)
    recorded = str(bundle.rows.dispute.get("slug") or bundle.slug)
    now = now_utc()
    engine = db.engine_for(ddir.db, create=True)
    try:
        written = _write_rows(engine, bundle, problems, slug, recorded, now, bundle_name=bundle_name,
                              bundle_sha256=bundle_sha256, bundle_size=bundle_size)
        custody.publish_head(ddir.root, engine)
    finally:
        db.dispose(ddir.db)
    return written


def _write_rows(engine: Any, bundle: reading.Bundle, problems: tuple[reading.Problem, ...], slug: str, recorded: str,
                now: str, *, bundle_name: str, bundle_sha256: str, bundle_size: int) -> int:
    """Every row in one transaction; a bundle whose records a database refuses (two exhibits of one
    content, a missing title: only a hand-made log has them) is damaged, not a crash."""
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    from ..search import index as search_index

    rows = bundle.rows
    dispute = {**rows.dispute, "slug": recorded}
    head = bundle.chain[-1]
    try:
        return _transaction(engine, search_index, rows, dispute, bundle, problems, slug, recorded, now, head,
                            bundle_name, bundle_sha256, bundle_size)
    except (sqlite3.IntegrityError, sqlite3.InterfaceError, SQLAlchemyError) as err:
        if isinstance(err, SQLAlchemyError) and not isinstance(getattr(err, "orig", None), sqlite3.IntegrityError):
            raise
        found = (reading.Problem("records_refused", "data/custody.jsonl", str(getattr(err, "orig", err))),)
        raise DamagedBundle(_("the bundle's records cannot be stored: {reason}").format(reason=found[0].detail),
                            found) from None


def _transaction(engine: Any, search_index: Any, rows: reading.Rows, dispute: dict[str, Any], bundle: reading.Bundle,
                 problems: tuple[reading.Problem, ...], slug: str, recorded: str, now: str, head: dict[str, Any],
                 bundle_name: str, bundle_sha256: str, bundle_size: int) -> int:
    with db.writing(engine) as session:
        con = search_index.dbapi(session.connection())
        _insert(con, "dispute", dispute)
        for number, row in sorted(rows.exhibits.items()):
            _insert(con, "exhibit", {**row, "number": number})
        for number, messages in sorted(rows.messages.items()):
            con.executemany(
                "INSERT INTO chat_message (exhibit, position, at, sender, text, me, kind, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(number, m["position"], m["at"], m["sender"], m["text"], m["me"], m["kind"], m["source"]) for m in messages])
        for number, row in sorted(rows.ocr_facts.items()):
            _insert(con, "ocr_facts", {**row, "exhibit": number})
        for table, found in (("event", rows.events), ("export", rows.exports), ("deadline", rows.deadlines)):
            for ident, row in sorted(found.items()):
                _insert(con, table, {**row, "id": ident})
        con.executemany("INSERT INTO custody (seq, v, at, actor, action, payload, prev_hash, hash) "
                        "VALUES (:seq, :v, :at, :actor, :action, :payload, :prev_hash, :hash)", bundle.chain)
        entries = [domain.imported(bundle=bundle_name, sha256=bundle_sha256, size=bundle_size, slug=recorded,
                                   head_seq=int(head["seq"]), head_hash=str(head["hash"]),
                                   problems=[p.problem for p in problems], absent=bundle.absent)]
        if slug != recorded:
            entries.append(domain.dispute_renamed(recorded, slug))
            con.execute("UPDATE dispute SET slug = ?", (slug,))
        written = custody.append(con, now, entries)
        search_index.index_all(con)
    return int(written[0]["seq"])


def _insert(con: Any, table: str, row: dict[str, Any]) -> None:
    names = sorted(row)
    con.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [row[n] for n in names])
