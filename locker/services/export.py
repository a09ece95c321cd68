"""``locker export``: the PDF evidence pack of a dispute.

1. Read everything the pack shows in one read transaction (the dispute, its
   exhibits, chat messages, events, the custody log) into a frozen
   :class:`~locker.report.snapshot.Snapshot`; make sure of the derived files
   the pack needs (video key frames, slice plans of long screenshots).
2. Have :func:`locker.report.pack.build` write the PDF under a temporary name
   in the target folder; fsync it and hash it.
3. Record it: an ``Export`` row and a custody entry ``export.created`` with
   the PDF's SHA-256, in one transaction; then rename it into place. A killed
   export never leaves under the final name a half-written PDF, nor one that
   the custody log does not record (tests/test_crash_export_search.py).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from .. import __version__, custody, db, domain, store, warncodes
from ..domain import LANGS, LONG_RATIO
from ..errors import LockerError, NotFound, UsageError
from ..i18n import _
from ..paths import DisputeDir, Home
from ..values import local_zone, now_utc, resolve_tz, zone_name
from . import disputes
from . import export_check as checking
from . import export_output as output
from .export_check import Check
from .export_check import check_objects as check_objects  # the benchmark times the check alone

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "ki": 2**10, "kib": 2**10, "mi": 2**20, "mib": 2**20, "gi": 2**30, "gib": 2**30}


@dataclass(frozen=True)
class ExportOptions:
    output: str | None = None  # a file, or a folder for the dated name; default: the dispute's exports/
    lang: str | None = None  # zh | en; default: the profile's, else zh
    letter: bool = False  # begin with a letter of complaint (投诉书)
    max_size: str | int | None = None  # "10MB" (decimal units; MiB for binary) or bytes
    attach_originals: bool = False
    include: tuple[str, ...] = ()  # exhibit numbers: "3", "1,4", "2-5"
    exclude: tuple[str, ...] = ()
    font: str | None = None  # a TrueType font file, "path#index" for a face of a .ttc; else $LOCKER_FONT,
    # else the profile's font (locker profile --font), else the system's fonts
    force: bool = False  # -o may name an existing file, which the new pack replaces (never one inside the home)
    allow_damaged: bool = False  # write the pack even when originals fail their check; they are stamped
    # The caller re-hashes the originals itself (bundle, while it copies them): the pack waits for that
    # result (a Future of {exhibit: Check}) before anything is kept or made from them, and hashes nothing.
    checked: Any = None
    stamp: bool = False  # ask a TSA (RFC 3161) for a token over the pack's fingerprint first (services.stamp)
    tsa: tuple[str, ...] = ()  # the TSAs to ask for --stamp; default: the profile's


@dataclass(frozen=True)
class ExportResult:
    slug: str
    path: Path
    sha256: str
    size: int
    pages: int
    exhibits: tuple[int, ...]
    lang: str
    left_out: tuple[Any, ...]  # report.snapshot.LeftOut
    attachments: tuple[str, ...]
    fingerprint: str | None  # None for a pack with no exhibits (report.pack.manifest)
    image_quality: str
    font: str
    warnings: tuple[str, ...]
    timestamp: Any = None  # services.stamp.Stamped with --stamp: the token over the fingerprint
    timestamp_copy: Path | None = None  # that token's copy beside the pack (PACK.pdf.tsr)


def parse_size(value: str | int) -> int:
    """``10MB`` → 10,000,000 bytes (the smaller reading: upload limits are met either way); ``10MiB`` →
    10,485,760; a plain number is bytes."""
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(str(value))
        unit = (match.group(2) or "").lower() if match else ""
        if not match or unit not in _UNITS:
            raise UsageError(_("not a size: {value!r} (write it like 10MB, 500KB or 8MiB)").format(value=value))
        size = int(float(match.group(1)) * _UNITS[unit])
    if size < 10_000:
        raise UsageError(_("--max-size {value} is too small for any evidence pack (at least 10KB)").format(value=value))
    return size


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


def export(home: Home, ref: str, options: ExportOptions = ExportOptions(), progress: Any = None) -> ExportResult:
    from . import profile as profiles

    prof = profiles.load(home)
    lang = (options.lang or prof.lang or LANGS[0]).strip().lower()
    if lang not in LANGS:
        raise UsageError(_("language must be one of {choices}, not {lang!r}").format(choices=', '.join(LANGS), lang=lang))
    max_size = parse_size(options.max_size) if options.max_size not in (None, "") else None
    if options.include and options.exclude:
        raise UsageError(_("use --include or --exclude, not both"))
    if options.tsa and not options.stamp:
        raise UsageError(_("--tsa names the time-stamp authority for --stamp: add --stamp"))

    opened = disputes.resolve(home, ref)
    ddir = opened.dir
    tz_name = prof.tz or zone_name(local_zone())  # an IANA name where the machine has one
    final = output.target(home, ddir, options.output, lang, tz_name, force=options.force)
    # Pictures not read by OCR yet are read first (derived data; with the extra missing the pack is made
    # all the same, and a warning says that OCR was not run and how to get it).
    from . import ocr

    readings, ocr_note = ocr.run_if_missing(home, ddir, progress)
    if readings is not None and progress is not None and hasattr(progress, "stop"):
        progress.stop()  # the pack's bar starts afresh
    # --stamp: the token is asked for (and recorded) first, so that the pack's appendix lists it.
    stamped = _stamp_fingerprint(home, opened, options, final) if options.stamp else None
    work = _Work(final.parent)
    try:
        result = _export(opened, _Job(options, lang, max_size, tz_name, prof), final, work, progress)
    finally:
        work.remove()
    if stamped is not None:
        result = _with_stamp(result, stamped)
    if ocr_note:
        from dataclasses import replace

        result = replace(result, warnings=(*result.warnings, ocr_note))
    return result


def _stamp_fingerprint(home: Home, opened: Any, options: ExportOptions, final: Path) -> Any:
    """A token over the fingerprint of the pack about to be made (``export --stamp``)."""
    from ..report.pack import manifest
    from . import stamp

    urls = stamp.tsa_urls(home, options.tsa)
    _text, fingerprint = manifest(_read(opened, options).chosen)
    if fingerprint is None:
        raise UsageError(_("--stamp: the pack holds no exhibits, so it has no fingerprint to stamp"))
    return stamp.stamp_digest(home, opened.slug, digest_hex=fingerprint, subject=f"pack:{final.name}", urls=urls)


def _with_stamp(result: ExportResult, stamped: Any) -> ExportResult:
    """The result with its token, copied beside the pack; a warning if the pack's fingerprint is not the
    one stamped (its exhibits changed in between)."""
    from dataclasses import replace

    from . import stamp

    warnings = result.warnings
    if result.fingerprint != stamped.sha256:
        warnings += (_("the pack's fingerprint changed after it was stamped (an exhibit was added or withdrawn "
                       "meanwhile): export --stamp again"),)
    return replace(result, timestamp=stamped, timestamp_copy=stamp.place_beside(stamped, result.path),
                   warnings=warnings)


@dataclass(frozen=True)
class _Job:
    """What one export was asked for, resolved."""

    options: ExportOptions
    lang: str
    max_size: int | None
    tz_name: str
    prof: Any  # services.profile.Profile


def _export(opened: Any, job: _Job, final: Path, work: _Work, progress: Any) -> ExportResult:
    from ..report import fonts
    from ..report.progress import Meter

    ddir, options = opened.dir, job.options
    rows = _read(opened, options)
    # The bar starts as soon as the exhibits are known: the font, the check and the layout all take time.
    meter = Meter(progress, [(e.number, e.size) for e in rows.chosen])
    font = fonts.find(options.font or os.environ.get("LOCKER_FONT") or None, job.prof.font)
    temp = final.with_name(f"{store.TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}-{final.name}")
    if final.parent == ddir.exports:
        output.clean_stale(ddir.exports)
    snap, result, sha256, size = _make_pack(opened, rows, job, font, temp, final, work, meter)
    meter.finish()
    numbers = tuple(e.number for e in rows.chosen)
    try:
        _record(opened, snap, result, final, sha256, size, job.lang, numbers)
    except BaseException:
        temp.unlink(missing_ok=True)  # a pack the custody log does not record is not left behind
        raise
    # Renamed into place only once recorded: a process killed in between leaves a temp file (removed by the
    # next export), never a pack under the final name that no export.created entry records.
    # The default name is new by construction (exports/ is the locker's own); a name given with -o may
    # have appeared meanwhile, and only --force lets the pack replace it.
    output.place_recorded(temp, final, replace=options.force or not options.output)
    return ExportResult(
        slug=ddir.slug, path=final, sha256=sha256, size=size, pages=result.pages, exhibits=numbers,
        lang=job.lang, left_out=snap.left_out, attachments=result.attachments, fingerprint=result.fingerprint,
        image_quality=result.step.describe(), font=result.font,
        warnings=tuple(checking.damage_warnings(snap)) + tuple(result.warnings),
    )


def _make_pack(opened: Any, rows: _Rows, job: _Job, font: Any, temp: Path, final: Path, work: _Work,
               meter: Any) -> tuple[Any, Any, str, int]:
    """Write the pack to ``temp``, fsynced; (snapshot, pack result, SHA-256, size)."""
    from ..report.images import default_workers
    from ..report.pack import PackOptions, build

    options = job.options
    known: dict[int, Check] | None = None
    while True:
        # The originals are re-hashed on threads while the pack is laid out and drawn from cached files;
        # before anything is made and cached from an original, and before the pack is kept, the check must
        # have passed. When it finds damage and --allow-damaged is given, the pack is made again knowing it.
        try:
            snap, checker = _snapshot(opened, rows, job, work, known)
        except checking.Damaged as found:  # found before a derived file was to be made
            known = found.checks
            continue
        pack_options = PackOptions(font=font, lang=job.lang, letter=options.letter, max_size=job.max_size,
                                   attach_originals=options.attach_originals, cache_dir=opened.dir.derived,
                                   workers=default_workers(), version=__version__, before_making=checker.ensure)
        try:
            result = build(snap, temp, pack_options, progress=meter)
            checker.ensure()
            store.fsync_file(temp)
            sha256, size = store.hash_file(temp)
        except checking.Damaged as found:
            temp.unlink(missing_ok=True)
            known = found.checks
            continue
        except Exception as err:
            temp.unlink(missing_ok=True)
            try:
                checker.ensure()  # a missing or damaged original explains the failure better than its symptom
            except checking.Damaged as found:
                known = found.checks
                continue
            if isinstance(err, OSError):  # no space, no permission: one line naming the file
                raise store._os_error(err, final) from None
            raise
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        finally:
            checker.stop()
        return snap, result, sha256, size


def _record(opened: Any, snap: Any, result: Any, final: Path, sha256: str, size: int, lang: str,
            numbers: tuple[int, ...]) -> None:
    """The Export row and its export.created custody entry, in one transaction."""
    from ..models import Export

    now = now_utc()
    with disputes.recording(opened) as session:
        row = Export(at=now, path=str(final), sha256=sha256, pages=result.pages, lang=lang,
                     exhibits=json.dumps(list(numbers)))
        session.add(row)
        session.flush()
        assert row.id is not None  # given by the flush
        custody.append(session.connection(), now, [domain.export_created(
            row.id, path=str(final), sha256=sha256, size=size, pages=result.pages, lang=lang,
            exhibits=numbers, fingerprint=result.fingerprint, attachments=len(result.attachments),
            failed_verification=[e.number for e in snap.exhibits if e.failed])])


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
    from sqlmodel import col, select

    from ..models import CustodyEntry, Event, Exhibit
    from . import chat, deadlines, ocrchat

    with db.reading(opened.engine) as session:
        dispute = disputes._one_dispute(session)
        rows = list(session.exec(select(Exhibit).order_by(col(Exhibit.number))).all())
        chosen, left_out = _choose(rows, options, opened.slug)
        events = list(session.exec(select(Event).order_by(col(Event.at), col(Event.id))).all())
        chain = list(session.exec(select(CustodyEntry).order_by(col(CustodyEntry.seq))).all())
        messages = {e.number: chat.load(session, e.number) for e in chosen}  # a chat's, or machine-read ones
        messages = {n: found for n, found in messages.items() if found}
        due = deadlines.of_dispute(session)
        ocr_facts = {e.number: ocrchat.stored_facts(session.connection(), e.number) for e in chosen}
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
                               source=options.checked if known is None else None)
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
