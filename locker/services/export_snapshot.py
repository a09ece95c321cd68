"""The part of ``locker export`` that reads a dispute: which exhibits the pack shows (``--include``,
``--exclude``), everything it shows read in one read transaction (:func:`_read`), and the frozen
:class:`~locker.report.snapshot.Snapshot` made of it with the derived files it needs (:func:`_snapshot`),
while the originals are re-hashed. ``locker kit`` and ``locker bundle`` read a dispute the same way.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from .. import db, domain, store, warncodes
from ..domain import LONG_RATIO
from ..errors import LockerError, NotFound, UsageError
from ..i18n import _
from ..paths import DisputeDir
from ..values import now_utc, resolve_tz
from . import disputes
from . import export_check as checking
from .export_check import Check

if TYPE_CHECKING:
    from .export import ExportOptions, _Job


def parse_numbers(values: Iterable[str], option: str) -> set[int]:
    """``["1,3", "5-7"]`` → {1, 3, 5, 6, 7}."""
    found: set[int] = set()
    for value in values:
        for part in str(value).replace("，", ",").split(","):
            part = part.strip()
            if not part:
                continue
            m = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", part)
            if m:
                a, b = int(m.group(1)), int(m.group(2))
                if a > b or b - a > 100_000:
                    raise UsageError(_("{option}: not a range of exhibit numbers: {part!r}").format(option=option, part=part))
                found.update(range(a, b + 1))
            elif part.isdigit():
                found.add(int(part))
            else:
                raise UsageError(_("{option}: not an exhibit number: {part!r} (write 3, 1,4 or 2-5)").format(option=option, part=part))
    return found


class _Work:
    """A scratch folder beside the pack for derived files made from damaged originals (never cached under
    the recorded hash); made on first use, removed when the export ends."""

    def __init__(self, parent: Path) -> None:
        self.parent = parent
        self.path: Path | None = None

    def folder(self) -> Path:
        import tempfile

        if self.path is None:
            self.path = Path(tempfile.mkdtemp(prefix=f"{store.TMP_PREFIX}{os.getpid()}-export-damaged-",
                                              dir=self.parent))
        return self.path

    def remove(self) -> None:
        import shutil

        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)



# --------------------------------------------------------------------------- the snapshot


@dataclass(frozen=True)
class _Rows:
    """What the pack shows, read from the dispute's database in one read transaction."""

    dispute: Any
    chosen: list[Any]
    left_out: list[Any]
    events: list[Any]
    chain: list[Any]
    messages: dict[int, Any]
    deadlines: list[Any]  # services.deadlines.DeadlineView, soonest first
    ocr_facts: dict[int, Any]


def _read(opened: Any, options: ExportOptions) -> _Rows:
    from . import chat, deadlines, ocrchat

    with db.snapshot(opened.dir.db) as con:  # plain sqlite3: the pack never needs SQLAlchemy
        dispute = disputes.dispute_row(con)
        chosen, left_out = _choose(disputes.exhibit_rows(con), options, opened.slug)
        events = disputes.event_rows(con)
        chain = disputes.custody_rows(con)
        messages = {e.number: chat.stored_messages(con, e.number) for e in chosen}  # a chat's, or machine-read ones
        messages = {n: found for n, found in messages.items() if found}
        due = deadlines.stored(con, dispute)
        ocr_facts = {e.number: ocrchat.stored_facts(con, e.number) for e in chosen}
    return _Rows(dispute, chosen, left_out, events, chain, messages, due, ocr_facts)


def _corrected_messages(chain: Any) -> dict[tuple[int | None, int | None], int]:
    """(exhibit, position) → the custody entry of the latest correction of that message's text
    (``locker edit --message``); a chat read again since has other messages, so none of its own."""
    found: dict[tuple[int | None, int | None], int] = {}
    for c in chain:
        if c.action not in (domain.MESSAGE_EDITED, domain.EXHIBIT_REREAD):
            continue
        reading = domain.read_entry(c.action, _loads(c.payload, {}))
        if isinstance(reading, domain.MessageEdited):
            found[(reading.exhibit, reading.position)] = c.seq
        elif isinstance(reading, domain.ExhibitReread):
            found = {k: v for k, v in found.items() if k[0] != reading.exhibit}
    return found


def _snapshot(opened: Any, rows: _Rows, job: _Job, work: _Work,
              known: dict[int, Check] | None = None) -> tuple[Any, checking.Checker]:
    from ..report import snapshot as S

    options, prof, tz_name = job.options, job.prof, job.tz_name
    dispute, chosen, left_out, events, chain, messages = (rows.dispute, rows.chosen, rows.left_out, rows.events,
                                                          rows.chain, rows.messages)
    from ..report.images import default_workers

    checker = checking.Checker(opened.dir, chosen, default_workers(), known=known, allow_damaged=options.allow_damaged,
                               source=options.checked if known is None else None, fork=True)
    try:
        derived = _derive(opened.dir, chosen, checker, work)
    except BaseException:
        checker.stop()
        raise
    corrected = _corrected_messages(chain)
    exhibits = []
    for e in chosen:
        check = checker.state(e.number)
        exhibits.append(S.ExhibitInfo(
            number=e.number, sha256=e.sha256, size=e.size, mime=e.mime, kind=e.kind,
            original_name=e.original_name, original=opened.dir.object_path(e.sha256),
            object_ref=f"disputes/{opened.slug}/objects/{e.sha256[:2]}/{e.sha256[2:]}",
            title=e.title, source=e.source, purpose=e.purpose, note=e.note, captured_at=e.captured_at,
            captured_at_source=e.captured_at_source, ingested_at=e.ingested_at, metadata=_loads(e.meta, {}),
            warnings=warncodes.loads(_loads(e.warnings, [])), withdrawn=bool(e.withdrawn),
            withdrawn_reason=e.withdrawn_reason, derived=derived.get(e.number), check=check.state,
            found_sha256=check.found,
            messages=tuple(S.Message(at=m.at, sender=m.sender, text=m.text, me=bool(m.me), kind=m.kind,
                                     corrected=corrected.get((e.number, m.position)), source=m.source)
                           for m in messages.get(e.number, ())),
            ocr_facts=rows.ocr_facts.get(e.number),
        ))
    custody_rows = []
    changes = []
    for c in chain:
        payload = _loads(c.payload, {})
        custody_rows.append(S.CustodyRow(seq=c.seq, at=c.at, actor=c.actor, action=c.action, payload=payload,
                                         hash=c.hash))
        reading = domain.read_entry(c.action, payload)
        if isinstance(reading, domain.StatusChanged):
            changes.append(S.StatusChange(at=c.at, before=reading.before, after=str(reading.after),
                                          note=reading.note))
    tz = resolve_tz(tz_name) if tz_name else None
    snap = S.Snapshot(
        dispute=S.DisputeInfo(**{k: getattr(dispute, k) for k in (
            "slug", "title", "platform", "merchant", "merchant_address", "order_id", "item", "amount", "currency",
            "purchased_on", "claim", "summary", "status", "created_at", "updated_at")}),
        claimant=S.Party(name=prof.name, phone=prof.phone, email=prof.email, address=prof.address),
        exhibits=tuple(exhibits), left_out=tuple(left_out),
        events=tuple(S.Event(at=ev.at, type=ev.type, description=ev.description,
                             exhibits=tuple(int(n) for n in _loads(ev.exhibits, []))) for ev in events),
        status_changes=tuple(changes), custody=tuple(custody_rows),
        generated_at=datetime.now(tz).isoformat(timespec="seconds") if tz else now_utc(), tz=tz_name,
        deadlines=tuple(S.Deadline(number=d.id, due=d.due, text=d.text, date_only=d.date_only, exhibits=d.exhibits,
                                   done_at=d.done_at) for d in rows.deadlines),
    )
    return snap, checker


def _choose(rows: list[Any], options: ExportOptions, slug: str) -> tuple[list[Any], list[Any]]:
    """The exhibits in the pack, and those left out (withdrawn, or excluded) with why."""
    from ..report.snapshot import LeftOut

    known = {e.number for e in rows}
    include = parse_numbers(options.include, "--include") if options.include else None
    exclude = parse_numbers(options.exclude, "--exclude") if options.exclude else set()
    for n in sorted((include or set()) | exclude):
        if n not in known:
            raise NotFound(_("{slug} has no exhibit {n}").format(slug=slug, n=n))
    chosen, left_out = [], []
    for e in rows:
        if include is not None:
            take = e.number in include
        else:
            take = not e.withdrawn and e.number not in exclude
        if take:
            chosen.append(e)
        else:
            left_out.append(LeftOut(e.number, e.title or e.original_name, bool(e.withdrawn),
                                    e.withdrawn_reason if e.withdrawn else None))
    return chosen, left_out


@dataclass(frozen=True)
class _Ref:
    """What derivatives.ensure needs of an exhibit; small enough to send to a worker process."""

    number: int
    sha256: str
    mime: str
    kind: str


def _needs_derivation(e: Any) -> bool:
    """Videos (key frames) and long screenshots (slice plans); other pictures are drawn from renditions
    made for their placed size (report.images), which is 2–4× quicker than going through display.jpg."""
    if e.mime.startswith("video/") and e.kind == "video":
        return True
    if not e.mime.startswith("image/"):
        return False
    md = _loads(e.meta, {})
    try:
        width, height = int(md.get("width") or 0), int(md.get("height") or 0)
    except (TypeError, ValueError):
        return True
    if not width or not height:
        return True  # unknown shape: let the derivation find out
    return max(width, height) >= LONG_RATIO * min(width, height)


def _derive_one(ddir: DisputeDir, ref: _Ref) -> tuple[int, Any, str | None]:
    from ..media.derive import DerivationError
    from . import derivatives

    try:
        if not ddir.object_path(ref.sha256).exists():
            return ref.number, None, "its original is missing from the locker (run locker verify)"
        return ref.number, derivatives.ensure(ddir, ref, checked=True), None  # the export's check hashed it
    except (DerivationError, LockerError) as exc:
        return ref.number, None, exc.message
    except Exception as exc:  # a decoder failing on hostile input
        return ref.number, None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _derive_damaged(ddir: DisputeDir, e: Any, work: _Work) -> tuple[Any, str | None]:
    """Derived files of a damaged object's present bytes, in the export's scratch folder."""
    from ..media.derive import DerivationError
    from . import derivatives

    if not derivatives.applies(e):
        return None, None
    folder = work.folder() / f"exhibit-{e.number}"
    folder.mkdir(mode=0o700)
    try:
        return derivatives.make_unfiled(e, ddir.object_path(e.sha256), folder), None
    except (DerivationError, LockerError) as exc:
        return None, exc.message
    except Exception as exc:  # a decoder failing on damaged input
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _derive_star(args: tuple[DisputeDir, _Ref]) -> tuple[int, Any, str | None]:
    return _derive_one(*args)


def _derive(ddir: DisputeDir, exhibits: list[Any], checker: checking.Checker, work: _Work) -> dict[int, Any]:
    """Derived files for the pack: existing ones are reused, missing ones made (in parallel when many).

    They are keyed by the recorded SHA-256, so they are used only for objects whose bytes were just found
    to have that hash. For a damaged object they are made again from the bytes there now, into a scratch
    folder that is removed after the export (never cached: the cache is keyed by the recorded hash)."""
    from ..report.images import default_workers, worker_pool
    from ..report.snapshot import Derived, KeyFrame, Slice
    from . import derivatives

    found: dict[int, Any] = {}
    todo: list[_Ref] = []
    for e in exhibits:
        if not (e.mime.startswith(("image/", "video/"))):
            continue
        check = checker.state(e.number)
        if check.state == "missing":
            found[e.number] = (None, "its original is missing from the locker")
            continue
        if check.state == "damaged":
            if _needs_derivation(e):
                found[e.number] = _derive_damaged(ddir, e, work)
            continue
        made = derivatives.existing(ddir, e)
        if made is not None:
            found[e.number] = (made, None)
        elif _needs_derivation(e):
            todo.append(_Ref(e.number, e.sha256, e.mime, e.kind))
    if todo:
        checker.ensure()  # nothing is made (and cached under the recorded hash) from bytes not checked
    workers = default_workers()
    if workers > 1 and len(todo) >= 3:
        with worker_pool(workers) as pool:
            results = list(pool.map(_derive_star, [(ddir, r) for r in todo]))
    else:
        results = [_derive_one(ddir, r) for r in todo]
    for number, made, error in results:
        found[number] = (made, error)

    out: dict[int, Any] = {}
    for number, (made, error) in found.items():
        if made is None and error is None:
            continue
        if made is None:
            out[number] = Derived(error=error or "no derived files")
            continue
        m = made.manifest
        display = made.folder / m["display"] if m.get("display") else None
        out[number] = Derived(
            display=display, width=m.get("width"), height=m.get("height"),
            slices=tuple(Slice(int(s["top"]), int(s["bottom"])) for s in m.get("slices") or ()),
            frames=tuple(KeyFrame(made.folder / f["file"], f["timecode"], int(f["width"]), int(f["height"]))
                         for f in m.get("frames") or ()),
        )
    return out


# --------------------------------------------------------------------------- small helpers


def _loads(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default
