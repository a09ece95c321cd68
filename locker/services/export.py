"""``locker export``: the PDF evidence pack of a dispute.

1. Read everything the pack shows in one read transaction (the dispute, its
   exhibits, chat messages, events, the custody log) into a frozen
   :class:`~locker.report.snapshot.Snapshot`; make sure of the derived files
   the pack needs (video key frames, slice plans of long screenshots).
   That reading is :mod:`locker.services.export_snapshot`.
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
from pathlib import Path
from typing import Any

from .. import __version__, custody, db, domain, store
from ..domain import LANGS
from ..errors import UsageError
from ..i18n import _
from ..paths import Home
from ..values import local_zone, now_utc, zone_name
from . import disputes
from . import export_check as checking
from . import export_output as output
from .export_check import Check
from .export_check import check_objects as check_objects  # the benchmark times the check alone
from .export_snapshot import _read, _Rows, _snapshot, _Work
from .export_snapshot import parse_numbers as parse_numbers  # kit's --exhibits reads numbers the same way

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
                                   workers=default_workers(), version=__version__, before_making=checker.ensure,
                                   check_passed=checker.passed)
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
    """The Export row and its export.created custody entry, in one transaction (on plain sqlite3, as
    ``add`` writes: the pack never needs SQLAlchemy); then the custody head moves on."""
    now = now_utc()
    con = db.connect_writer(opened.dir.db)
    try:
        with db.writing_dbapi(con, opened.dir.db):
            cursor = con.execute("INSERT INTO export (at, path, sha256, pages, lang, exhibits) VALUES (?, ?, ?, ?, ?, ?)",
                                 (now, str(final), sha256, result.pages, lang, json.dumps(list(numbers))))
            assert cursor.lastrowid is not None
            custody.append(con, now, [domain.export_created(
                cursor.lastrowid, path=str(final), sha256=sha256, size=size, pages=result.pages, lang=lang,
                exhibits=numbers, fingerprint=result.fingerprint, attachments=len(result.attachments),
                failed_verification=[e.number for e in snap.exhibits if e.failed])])
        custody.publish_head(opened.dir.root, con)  # as disputes.recording does after its commit
    finally:
        con.close()
