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

from .. import __version__, custody, db, store
from ..errors import LockerError, NotFound, UsageError
from ..paths import DisputeDir, Home
from ..values import local_zone, now_utc, resolve_tz, zone_name
from . import disputes

LANGS = ("zh", "en")
LONG_RATIO = 2.5  # as locker.media.derive: taller than this is sliced for pages
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
    fingerprint: str
    image_quality: str
    font: str
    warnings: tuple[str, ...]


def parse_size(value: str | int) -> int:
    """``10MB`` → 10,000,000 bytes (the smaller reading: upload limits are met either way); ``10MiB`` →
    10,485,760; a plain number is bytes."""
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(str(value))
        unit = (match.group(2) or "").lower() if match else ""
        if not match or unit not in _UNITS:
            raise UsageError(f"not a size: {value!r} (write it like 10MB, 500KB or 8MiB)")
        size = int(float(match.group(1)) * _UNITS[unit])
    if size < 10_000:
        raise UsageError(f"--max-size {value} is too small for any evidence pack (at least 10KB)")
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
                    raise UsageError(f"{option}: not a range of exhibit numbers: {part!r}")
                found.update(range(a, b + 1))
            elif part.isdigit():
                found.add(int(part))
            else:
                raise UsageError(f"{option}: not an exhibit number: {part!r} (write 3, 1,4 or 2-5)")
    return found


def export(home: Home, ref: str, options: ExportOptions = ExportOptions(), progress: Any = None) -> ExportResult:
    from ..report import fonts
    from ..report.images import default_workers
    from ..report.pack import PackOptions, build
    from . import profile as profiles

    prof = profiles.load(home)
    lang = (options.lang or prof.lang or "zh").strip().lower()
    if lang not in LANGS:
        raise UsageError(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
    max_size = parse_size(options.max_size) if options.max_size not in (None, "") else None
    if options.include and options.exclude:
        raise UsageError("use --include or --exclude, not both")
    font = fonts.find(options.font or os.environ.get("LOCKER_FONT") or None, prof.font)

    opened = disputes.resolve(home, ref)
    ddir = opened.dir
    tz_name = prof.tz or zone_name(local_zone())  # an IANA name where the machine has one
    snap, numbers = _snapshot(opened, prof, options, tz_name)

    final = _target(ddir, options.output, lang, tz_name)
    temp = final.with_name(f"{store.TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}-{final.name}")
    if final.parent == ddir.exports:
        _clean_stale(ddir.exports)
    pack_options = PackOptions(font=font, lang=lang, letter=options.letter, max_size=max_size,
                               attach_originals=options.attach_originals, cache_dir=ddir.derived,
                               workers=default_workers(), version=__version__)
    try:
        result = build(snap, temp, pack_options, progress=progress)
        store.fsync_file(temp)
        sha256, size = store.hash_file(temp)
    except OSError as err:  # no space, no permission: one line naming the file
        temp.unlink(missing_ok=True)
        raise store._os_error(err, final) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise

    now = now_utc()
    try:
        from ..models import Export

        with disputes.recording(opened) as session:
            row = Export(at=now, path=str(final), sha256=sha256, pages=result.pages, lang=lang,
                         exhibits=json.dumps(list(numbers)))
            session.add(row)
            session.flush()
            custody.append(session.connection(), now, [("export.created", {
                "export": row.id, "path": str(final), "sha256": sha256, "size": size, "pages": result.pages,
                "lang": lang, "exhibits": list(numbers), "fingerprint": result.fingerprint,
                "attachments": len(result.attachments),
            })])
    except BaseException:
        temp.unlink(missing_ok=True)  # a pack the custody log does not record is not left behind
        raise
    # Renamed into place only once recorded: a process killed in between leaves a temp file (removed by the
    # next export), never a pack under the final name that no export.created entry records.
    try:
        os.replace(temp, final)
    except OSError as err:
        temp.unlink(missing_ok=True)
        raise store._os_error(err, final) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    store.fsync_dir(final.parent)
    return ExportResult(
        slug=ddir.slug, path=final, sha256=sha256, size=size, pages=result.pages, exhibits=tuple(numbers),
        lang=lang, left_out=snap.left_out, attachments=result.attachments, fingerprint=result.fingerprint,
        image_quality=result.step.describe(), font=result.font, warnings=result.warnings,
    )


# --------------------------------------------------------------------------- the snapshot


def _snapshot(opened: Any, prof: Any, options: ExportOptions, tz_name: str | None) -> tuple[Any, tuple[int, ...]]:
    from sqlmodel import select

    from ..models import CustodyEntry, Event, Exhibit
    from ..report import snapshot as S
    from . import chat

    with db.reading(opened.engine) as session:
        dispute = disputes._one_dispute(session)
        rows = list(session.exec(select(Exhibit).order_by(Exhibit.number)).all())
        chosen, left_out = _choose(rows, options, opened.slug)
        events = list(session.exec(select(Event).order_by(Event.at, Event.id)).all())
        chain = list(session.exec(select(CustodyEntry).order_by(CustodyEntry.seq)).all())
        messages = {e.number: chat.load(session, e.number) for e in chosen if e.kind == "chat"}

    derived = _derive(opened.dir, chosen)
    exhibits = []
    for e in chosen:
        exhibits.append(S.ExhibitInfo(
            number=e.number, sha256=e.sha256, size=e.size, mime=e.mime, kind=e.kind,
            original_name=e.original_name, original=opened.dir.object_path(e.sha256),
            object_ref=f"disputes/{opened.slug}/objects/{e.sha256[:2]}/{e.sha256[2:]}",
            title=e.title, source=e.source, purpose=e.purpose, note=e.note, captured_at=e.captured_at,
            captured_at_source=e.captured_at_source, ingested_at=e.ingested_at, metadata=_loads(e.meta, {}),
            warnings=tuple(str(w) for w in _loads(e.warnings, [])), withdrawn=bool(e.withdrawn),
            withdrawn_reason=e.withdrawn_reason, derived=derived.get(e.number),
            messages=tuple(S.Message(at=m.at, sender=m.sender, text=m.text, me=bool(m.me), kind=m.kind)
                           for m in messages.get(e.number, ())),
        ))
    custody_rows = []
    changes = []
    for c in chain:
        payload = _loads(c.payload, {})
        custody_rows.append(S.CustodyRow(seq=c.seq, at=c.at, actor=c.actor, action=c.action, payload=payload,
                                         hash=c.hash))
        if c.action == "dispute.status" and isinstance(payload, dict):
            changes.append(S.StatusChange(at=c.at, before=payload.get("from"), after=str(payload.get("to")),
                                          note=payload.get("note")))
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
    )
    return snap, tuple(e.number for e in chosen)


def _choose(rows: list[Any], options: ExportOptions, slug: str) -> tuple[list[Any], list[Any]]:
    """The exhibits in the pack, and those left out (withdrawn, or excluded) with why."""
    from ..report.snapshot import LeftOut

    known = {e.number for e in rows}
    include = parse_numbers(options.include, "--include") if options.include else None
    exclude = parse_numbers(options.exclude, "--exclude") if options.exclude else set()
    for n in sorted((include or set()) | exclude):
        if n not in known:
            raise NotFound(f"{slug} has no exhibit {n}")
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
        return ref.number, derivatives.ensure(ddir, ref), None
    except (DerivationError, LockerError) as exc:
        return ref.number, None, exc.message
    except Exception as exc:  # a decoder failing on hostile input
        return ref.number, None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _derive_star(args: tuple[DisputeDir, _Ref]) -> tuple[int, Any, str | None]:
    return _derive_one(*args)


def _derive(ddir: DisputeDir, exhibits: list[Any]) -> dict[int, Any]:
    """Derived files for the pack: existing ones are reused, missing ones made (in parallel when many)."""
    from ..report.images import default_workers, worker_pool
    from ..report.snapshot import Derived, KeyFrame, Slice
    from . import derivatives

    found: dict[int, Any] = {}
    todo: list[_Ref] = []
    for e in exhibits:
        if not (e.mime.startswith(("image/", "video/"))):
            continue
        made = derivatives.existing(ddir, e)
        if made is not None:
            found[e.number] = (made, None)
        elif _needs_derivation(e):
            todo.append(_Ref(e.number, e.sha256, e.mime, e.kind))
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


def _target(ddir: DisputeDir, output: str | None, lang: str, tz_name: str | None) -> Path:
    tz = resolve_tz(tz_name) if tz_name else None
    stamp = datetime.now(tz).strftime("%Y%m%d-%H%M%S")
    name = f"{ddir.slug}-{lang}-{stamp}.pdf"
    if output:
        path = Path(output).expanduser()
        if path.is_dir():
            folder = path
        else:
            if not path.parent.is_dir():
                raise UsageError(f"no such folder: {path.parent}", path=str(path))
            return path.resolve()
    else:
        folder = ddir.exports
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as err:
            raise LockerError(f"cannot create the exports folder: {err.strerror}", path=str(folder)) from None
    candidate = folder / name
    n = 2
    while candidate.exists():
        candidate = folder / f"{ddir.slug}-{lang}-{stamp}-{n}.pdf"
        n += 1
    return candidate.resolve()


def _clean_stale(folder: Path) -> None:
    """Temporary files and work folders left in exports/ by exports that were killed."""
    import shutil

    store.clean_stale_temps(folder)
    for entry in folder.glob(f"{store.TMP_PREFIX}*-export-*"):
        if entry.is_dir() and store.left_by_dead_process(entry.name):
            shutil.rmtree(entry, ignore_errors=True)
