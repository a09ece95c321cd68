"""``locker verify``: re-hash every object, check the custody chain, and check that
the rows say what the chain recorded. Every problem is reported, not only the first.

The rows hold the current values; the chain holds how they came to be. So the check
replays the chain: each dispute, exhibit and chat starts as its creation entry recorded
it, then every later entry that changes it (a chat read again, a correction by ``locker
edit``, a withdrawal and its undoing) is applied in order, and the rows must equal the
result. A row changed behind the chain's back differs from it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import custody, db, domain, store
from ..domain import EXHIBIT_FIELDS
from ..errors import LockerError
from ..i18n import _
from ..paths import DisputeDir, Home
from . import chat, deadlines, disputes, gc, kit, ocrchat, stamp


@dataclass(frozen=True)
class Problem:
    exhibit: int | None
    problem: str
    detail: str
    # "warning": reported, but the dispute still verifies. The one warning is object_orphaned:
    # an object whose bytes match its name but that no exhibit names, what a crash between
    # publishing an object and committing its row leaves (or a verify that ran while an add was
    # between the two). Content-addressed, so harmless and not tampering; `locker gc` removes it.
    severity: str = "error"


@dataclass(frozen=True)
class DisputeCheck:
    slug: str
    objects_checked: int
    problems: tuple[Problem, ...]
    archived: domain.LastArchived | None = None

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


@dataclass(frozen=True)
class VerifyReport:
    disputes: tuple[DisputeCheck, ...]

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.disputes)


def verify(home: Home, ref: str | None = None, progress: Any = None) -> VerifyReport:
    slugs = [disputes.resolve(home, ref).slug] if ref else home.slugs()
    return VerifyReport(tuple(check_dispute(home, slug, progress) for slug in slugs))


def check_dispute(home: Home, slug: str, progress: Any = None) -> DisputeCheck:
    ddir = home.dispute(slug)
    try:
        with db.snapshot(ddir.db) as con:  # plain sqlite3: verify never imports SQLAlchemy
            dispute = disputes.dispute_row(con, required=False)
            exhibits = disputes.exhibit_rows(con)
            events = db.rows(con, "SELECT * FROM event ORDER BY id")  # in the order they were recorded
            exports = db.rows(con, "SELECT * FROM export ORDER BY id")
            chain = disputes.custody_rows(con)
            messages = chat.stored_digests(con)
            kept = con.execute("SELECT since_seq FROM custody_head_kept").fetchone()
            kept_since = kept[0] if kept else None
            deadline_rows = deadlines.stored_rows(con)
            recorded = _payloads(chain)
            readings = [r for _e, r in recorded]
            machine_read = ocrchat.check(con, readings)
            kits = kit.check(con, ddir, readings)
    except LockerError as err:
        return DisputeCheck(slug, 0, (Problem(None, "database_unreadable", err.message),))
    except Exception as err:  # a damaged file surfaces as assorted sqlite3 errors
        return DisputeCheck(slug, 0, (Problem(None, "database_unreadable", str(err).splitlines()[0]),))

    problems: list[Problem] = []
    problems += [Problem(None, p.problem, p.detail) for p in custody.check_chain(chain)]
    problems += _check_head(ddir, chain, kept_since)
    problems += _rows_against_chain(dispute, exhibits, recorded, messages)
    problems += _records_against_chain(dispute, events, exports, recorded)
    problems += [Problem(None, p, d) for p, d in deadlines.problems_against_chain(deadline_rows, readings)]
    if dispute is not None and dispute.slug != slug:  # a folder copied or moved by hand: said, not an error
        problems.append(Problem(None, "folder_renamed", disputes.folder_note(slug, dispute.slug), severity="warning"))
    problems += [Problem(*found) for found in machine_read]
    problems += [Problem(None, code, detail, severity) for code, detail, severity
                 in stamp.problems(ddir.root, readings, chain)]  # RFC 3161 tokens, offline
    problems += [Problem(n, p, d, severity=s) for n, p, d, s in kits]
    objects_checked, object_problems = _check_objects(ddir, exhibits, progress, _not_imported(recorded))
    problems += object_problems
    return DisputeCheck(slug, objects_checked, tuple(problems), _last_archived(recorded))


def _last_archived(recorded: Recorded) -> domain.LastArchived | None:
    found = None
    for entry, reading in recorded:
        if isinstance(reading, domain.Archived):
            found = domain.LastArchived(str(entry.at), int(entry.seq), reading.remote, reading.url, reading.retain_until)
    return found


def _check_head(ddir: DisputeDir, chain: list[Any], kept_since: int | None) -> list[Problem]:
    """The chain must still hold the newest entry recorded outside the database."""
    try:
        head = custody.read_head(ddir.root)
    except custody.HeadUnreadable as err:
        return [Problem(None, "custody_head_unreadable", str(err))]
    found = custody.check_head(head, chain)
    if head is None and chain and (kept_since is None or chain[-1].seq <= kept_since):
        # Made by a locker that kept no head, and unchanged since: nothing to compare with yet.
        return [Problem(None, p.problem, p.detail, severity="warning") for p in found]
    return [Problem(None, p.problem, p.detail) for p in found]


def _not_imported(recorded: Recorded) -> set[int]:
    """Exhibits whose originals the bundle this dispute was imported from did not carry (its pack left
    them out: withdrawn, or excluded); an exhibit added after the import is not among them."""
    absent: set[int] = set()
    for _entry, reading in recorded:
        if isinstance(reading, domain.Imported):
            absent = set(reading.absent)
    return absent


def _check_objects(ddir: DisputeDir, exhibits: list[Any], progress: Any,
                   not_imported: set[int] = frozenset()) -> tuple[int, list[Problem]]:  # type: ignore[assignment]
    problems: list[Problem] = []
    expected = {e.sha256: e for e in exhibits}
    on_disk = dict(store.iter_objects(ddir.objects))
    if progress:
        progress.start(len(exhibits), sum(e.size for e in exhibits))

    def check(exhibit: Any) -> Problem | None:
        path = on_disk.get(exhibit.sha256)
        if path is None and exhibit.number in not_imported:
            return Problem(exhibit.number, "original_not_imported", _(
                "{name}: the bundle this dispute was imported from did not carry its original").format(
                name=exhibit.original_name), severity="warning")
        if path is None:
            return Problem(exhibit.number, "object_missing", _("{name}: object {sha}… is gone").format(
                name=exhibit.original_name, sha=exhibit.sha256[:12]))
        try:
            digest, size = store.hash_file(path)
        except OSError as err:
            return Problem(exhibit.number, "object_unreadable", f"{exhibit.original_name}: {err.strerror}")
        if digest != exhibit.sha256:
            return Problem(
                exhibit.number, "hash_mismatch",
                _("{name}: expected {expected}, found {found}").format(
                    name=exhibit.original_name, expected=exhibit.sha256, found=digest),
            )
        if size != exhibit.size:
            return Problem(exhibit.number, "size_mismatch", _("{name}: expected {expected} bytes, found {found}").format(
                name=exhibit.original_name, expected=exhibit.size, found=size))
        return None

    checked = 0
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="locker-verify") as pool:
        for exhibit, problem in zip(exhibits, pool.map(check, exhibits)):
            checked += 1
            if problem:
                problems.append(problem)
            if progress:
                progress.advance(exhibit.size, exhibit.original_name)
    for sha, path in on_disk.items():
        if sha not in expected:
            problems.append(_unreferenced(sha, path))
    return checked, problems


def _unreferenced(sha: str, path: Path) -> Problem:
    """An object no exhibit names: an orphan (warning) if its bytes match its name, else planted or corrupt."""
    where = f"objects/{sha[:2]}/{sha[2:]}"
    if gc.is_orphan(sha, path):
        return Problem(None, "object_orphaned",
                       _("{where} belongs to no exhibit (left by an interrupted add; `locker gc` removes it)").format(where=where),
                       severity="warning")
    return Problem(None, "object_unexpected", _("{where} belongs to no exhibit and its bytes do not match its name").format(where=where))


Recorded = list[tuple[Any, domain.Reading]]


def _payloads(chain: Sequence[Any]) -> Recorded:
    """Each entry with the typed reading of its payload, read once. One whose payload is not a JSON
    object is left out (the chain check has reported it already: its hash no longer matches), and so
    is one of an action locker does not write."""
    parsed: Recorded = []
    for entry in chain:
        try:
            payload = json.loads(entry.payload)
        except ValueError:
            continue
        reading = domain.read_entry(entry.action, payload)
        if reading is not None:
            parsed.append((entry, reading))
    return parsed


def _sort_key(number: int | None) -> tuple[bool, int]:
    return number is None, number or 0


def _rows_against_chain(dispute: Any, exhibits: list[Any], recorded: Recorded,
                        messages: dict[int, tuple[int, str]]) -> list[Problem]:
    """Each exhibit row (and a chat's messages) must say what its custody entry recorded, and vice versa."""
    problems: list[Problem] = []
    added: dict[int | None, domain.ExhibitAdded] = {}
    withdrawn: dict[int | None, str | None] = {}
    status = None
    for _entry, reading in recorded:
        if isinstance(reading, domain.ExhibitAdded):
            added[reading.exhibit] = reading
        elif isinstance(reading, domain.ExhibitReread) and reading.exhibit in added:
            # The chat was read again: from here on the row and its messages must say what this
            # newest entry recorded (its kind, capture time and the new messages' digest).
            changes = {k: getattr(reading, k) for k in reading.changes}
            added[reading.exhibit] = dataclasses.replace(added[reading.exhibit], **changes)
        elif isinstance(reading, domain.ExhibitEdited) and reading.exhibit in added:
            # Corrected (locker edit): from here on the row must say the new values.
            edits: dict[str, Any] = {c.field: c.after for c in reading.changes}
            added[reading.exhibit] = dataclasses.replace(added[reading.exhibit], **edits)
        elif isinstance(reading, domain.MessageEdited) and reading.exhibit in added:
            # One message corrected: the stored messages must match the digest recorded after it.
            added[reading.exhibit] = dataclasses.replace(added[reading.exhibit], messages=reading.messages)
        elif isinstance(reading, domain.ExhibitTranscribed) and reading.exhibit in added:
            # A picture machine-read (OCR): its messages must be those this newest entry recorded.
            found = reading.messages if reading.messages is None or reading.messages.count != 0 else None
            added[reading.exhibit] = dataclasses.replace(added[reading.exhibit], messages=found)
        elif isinstance(reading, domain.ExhibitWithdrawn):
            withdrawn[reading.exhibit] = reading.reason
        elif isinstance(reading, domain.ExhibitRestored):
            withdrawn.pop(reading.exhibit, None)
        elif isinstance(reading, domain.DisputeCreated):
            status = reading.status
        elif isinstance(reading, domain.StatusChanged):
            status = reading.after
    if dispute is None:
        problems.append(Problem(None, "dispute_missing", _("the dispute row is gone")))
    elif status is not None and dispute.status != status:
        problems.append(Problem(None, "row_altered", _("status is {actual}, the custody log says {recorded}").format(
            actual=repr(dispute.status), recorded=repr(status))))
    for exhibit in exhibits:
        record = added.pop(exhibit.number, None)
        if record is None:
            problems.append(Problem(exhibit.number, "row_unrecorded", _("no custody entry records this exhibit")))
            continue
        problems += _exhibit_against_entry(exhibit, record, withdrawn, messages.pop(exhibit.number, (0, None)))
    for number in sorted(added, key=_sort_key):
        problems.append(Problem(number, "row_missing", _("the custody log records this exhibit but its row is gone")))
    for number in sorted(messages):
        problems.append(Problem(number, "messages_altered", _("chat messages of an exhibit that does not exist")))
    return problems


def _exhibit_against_entry(exhibit: Any, record: domain.ExhibitAdded, withdrawn: dict[int | None, str | None],
                           stored: tuple[int, str | None]) -> list[Problem]:
    problems: list[Problem] = []
    changed = sorted("exhibit" if k == "number" else k
                     for k in EXHIBIT_FIELDS if getattr(exhibit, k) != record.recorded(k))
    if changed:
        problems.append(Problem(exhibit.number, "row_altered", _("differs from its custody entry in {fields}").format(fields=", ".join(changed))))
    digest = record.messages
    if digest and stored != (digest.count, digest.sha256):
        problems.append(Problem(
            exhibit.number, "messages_altered",
            _("{stored} stored chat messages do not match the {recorded} the custody log recorded").format(
                stored=stored[0], recorded=digest.count),
        ))
    elif not digest and stored[0]:
        problems.append(Problem(exhibit.number, "messages_altered", _("chat messages that no custody entry records")))
    if bool(exhibit.withdrawn) != (exhibit.number in withdrawn):
        problems.append(Problem(exhibit.number, "row_altered", _("withdrawn flag differs from the custody log")))
    elif exhibit.withdrawn and exhibit.withdrawn_reason != withdrawn[exhibit.number]:
        problems.append(Problem(exhibit.number, "row_altered", _("withdrawal reason differs from the custody log")))
    elif not exhibit.withdrawn and exhibit.withdrawn_reason is not None:
        problems.append(Problem(exhibit.number, "row_altered",
                                _("a withdrawal reason on an exhibit the custody log says is not withdrawn")))
    return problems


def _records_against_chain(dispute: Any, events: list[Any], exports: list[Any], recorded: Recorded) -> list[Problem]:
    """The dispute's details, its timeline events and its export records must say what the custody
    log recorded when they were made (the pack prints all three); none may lack an entry."""
    problems: list[Problem] = []
    created: domain.DisputeCreated | None = None
    recorded_events: dict[int | None, domain.EventAdded] = {}
    recorded_exports: dict[int | None, tuple[str, domain.ExportCreated]] = {}
    facts: dict[str, str | None] = {}
    for entry, reading in recorded:
        if isinstance(reading, domain.DisputeCreated):
            created = reading
            facts = dict(reading.facts)
        elif isinstance(reading, domain.DisputeEdited):
            facts.update((c.field, c.after) for c in reading.changes)  # corrected: the newest value counts
        elif isinstance(reading, domain.DisputeRenamed) and "slug" in facts:  # locker rename
            facts["slug"] = reading.after
        elif isinstance(reading, domain.EventAdded):
            recorded_events[reading.event] = reading
        elif isinstance(reading, domain.ExportCreated):
            recorded_exports[reading.export] = (entry.at, reading)
    if dispute is not None and created is not None:
        changed = sorted(k for k, v in facts.items() if k != "status" and getattr(dispute, k, v) != v)
        if changed:
            problems.append(Problem(None, "row_altered", _("the dispute's {fields} differ from its custody entry").format(
                fields=", ".join(changed))))
    for event in events:
        record = recorded_events.pop(event.id, None)
        if record is None:
            problems.append(Problem(None, "row_unrecorded", _("no custody entry records timeline event {event}").format(event=event.id)))
            continue
        row = {"at": event.at, "type": event.type, "description": event.description,
               "exhibits": _loads_list(event.exhibits)}
        changed = sorted(k for k in row if row[k] != getattr(record, k))
        if changed:
            problems.append(Problem(None, "row_altered", _("timeline event {event} differs from its custody entry in {fields}").format(
                event=event.id, fields=", ".join(changed))))
    for number in sorted(recorded_events, key=str):
        problems.append(Problem(None, "row_missing", _("the custody log records timeline event {event} but its row is gone").format(event=number)))
    for export in exports:
        found = recorded_exports.pop(export.id, None)
        if found is None:
            problems.append(Problem(None, "row_unrecorded", _("no custody entry records export {export}").format(export=export.id)))
            continue
        at, made = found
        row = {"at": export.at, "path": export.path, "sha256": export.sha256, "pages": export.pages,
               "lang": export.lang, "exhibits": _loads_list(export.exhibits)}
        changed = sorted(k for k in row if row[k] != (at if k == "at" else getattr(made, k)))
        if changed:
            problems.append(Problem(None, "row_altered", _("export {export} differs from its custody entry in {fields}").format(
                export=export.id, fields=", ".join(changed))))
    for number in sorted(recorded_exports, key=str):
        problems.append(Problem(None, "row_missing", _("the custody log records export {export} but its row is gone").format(export=number)))
    return problems


def _loads_list(text: str | None) -> object:
    """A JSON list column as the tuple an entry's reading holds; anything else as it is (never equal)."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return text
    return tuple(value) if isinstance(value, list) else value
