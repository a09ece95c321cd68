"""``locker kit``: an upload kit for a phone form — evidence cards (JPEG), an overview card, the
description cut to the form's limit, ``kit.json``, and a ZIP of the folder.

1. Read the dispute as the pack does (:mod:`locker.services.export_snapshot`): the same
   frozen snapshot, the same derived files (slice plans, key frames), the same re-hash of every
   original (a damaged original refuses the kit, as it refuses the pack).
2. Choose the exhibits the form has room for (:mod:`locker.kit.select`), or take ``--exhibits``.
3. Make the pictures with the pack's rendition code (:mod:`locker.report.images`, cached under
   ``derived/``), and compose each card (:mod:`locker.kit.cards`) in a work folder beside the target.
   A form that takes the PDF pack too (``pack = true``: 12315) first gets a pack made by ``locker
   export`` (recorded as any export), fitted to the form's byte limit where it can be; its copy goes
   into the kit and counts as one of the form's attachments.
4. Write the description, ``kit.json`` and the ZIP; fsync (steps 3 and 4 up to here are
   :mod:`locker.services.kit_cards`); then record a ``kit`` row and its
   ``kit.created`` custody entry (with the SHA-256 of the manifest, of the ZIP and of every card) in
   one transaction; then rename the folder and the ZIP into place. A killed kit leaves a work folder
   (removed by the next kit), never a kit under its final name that the custody log does not record.

``locker verify`` checks every recorded kit (:func:`check`): its row against its custody entry, the
stored manifest against the hash recorded, and the files of the kit, where they still are.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from .. import custody, db, domain, store
from ..domain import LANGS
from ..errors import NotFound, UsageError
from ..i18n import _
from ..paths import Home
from ..values import local_zone, now_utc, resolve_tz, zone_name
from . import disputes
from .kit_cards import MANIFEST, Card, _build, _Made


@dataclass(frozen=True)
class KitOptions:
    form: str | None = None  # a profile of forms.toml or the home's locker.toml; default: the platform's
    output: str | None = None  # the kit's folder; default: the dispute's exports/kit-FORM-TIME
    lang: str | None = None
    exhibits: tuple[str, ...] = ()  # "1,3,5-7": exactly these (overrides the choice)


@dataclass(frozen=True)
class KitResult:
    slug: str
    folder: Path
    zip_path: Path
    zip_sha256: str
    manifest_sha256: str
    manifest: dict[str, Any]
    form: Any  # kit.forms.Form
    cards: tuple[Card, ...]
    exhibits: tuple[int, ...]
    left_out: tuple[tuple[int, str, str], ...]  # (number, reason code, title)
    description_cut: bool
    warnings: tuple[str, ...] = field(default_factory=tuple)
    pack: dict[str, Any] | None = None  # the manifest's "pack": the copy of the PDF pack in the kit


def make(home: Home, ref: str, options: KitOptions = KitOptions(), progress: Any = None) -> KitResult:
    from ..kit import forms as formlib
    from . import profile as profiles

    prof = profiles.load(home)
    lang = (options.lang or prof.lang or LANGS[0]).strip().lower()
    if lang not in LANGS:
        raise UsageError(_("language must be one of {choices}, not {lang!r}").format(
            choices=", ".join(LANGS), lang=lang))
    opened = disputes.resolve(home, ref)
    tz_name = prof.tz or zone_name(local_zone())
    from .export import ExportOptions
    from .export_snapshot import _read

    rows = _read(opened, ExportOptions())
    form = formlib.pick(home.profile_path, options.form, rows.dispute.platform)
    stamp = datetime.now(resolve_tz(tz_name)).strftime("%Y%m%d-%H%M%S")
    final = _target(opened.dir, options.output, form.id, stamp)
    pack = _pack(home, ref, form, lang, progress) if form.pack else None
    return _make(opened, rows, form, lang, tz_name, prof, final, options, progress, pack)


def _pack(home: Home, ref: str, form: Any, lang: str, progress: Any) -> Any:
    """The PDF pack for a form that takes it (12315): made by ``locker export`` into the dispute's
    exports/ and recorded there like any pack, within the form's byte limit if it can be; else whole,
    and the kit says it is over the limit."""
    from ..report.pack import PackTooLarge
    from .export import ExportOptions, export

    try:
        made = export(home, ref, ExportOptions(lang=lang, max_size=int(form.max_bytes.value)), progress)
    except PackTooLarge:
        made = export(home, ref, ExportOptions(lang=lang), progress)
    if progress is not None and hasattr(progress, "stop"):
        progress.stop()  # the cards' bar starts afresh
    return made


def _target(ddir: Any, output: str | None, form_id: str, stamp: str) -> Path:
    if output:
        final = Path(output).expanduser().absolute()
        if final.exists() and (not final.is_dir() or any(final.iterdir())):
            raise UsageError(_("{path} exists and is not an empty folder: name a new folder for the kit").format(
                path=final))
        if final.with_name(final.name + ".zip").exists():
            raise UsageError(_("{path} exists: name another folder for the kit").format(
                path=final.with_name(final.name + ".zip")))
        return final
    base: Path = ddir.exports / f"kit-{form_id}-{stamp}"
    final, n = base, 1
    while final.exists() or final.with_name(final.name + ".zip").exists():
        n += 1
        final = base.with_name(f"{base.name}-{n}")
    return final


def _make(opened: Any, rows: Any, form: Any, lang: str, tz_name: str, prof: Any, final: Path,
          options: KitOptions, progress: Any, pack: Any = None) -> KitResult:
    from dataclasses import replace

    from ..kit import select
    from ..kit.cards import find_font
    from ..kit.labels import Labels
    from ..report.images import default_workers
    from ..report.pack import plan_exhibits
    from .export import ExportOptions, _Job
    from .export_snapshot import _snapshot, _Work

    ddir = opened.dir
    every = _every_exhibit(opened)
    asked = tuple(options.exhibits)
    candidates, left = _candidates_from(every, asked, opened.slug)
    rows = replace(rows, chosen=candidates)
    work = _Work(final.parent if final.parent.exists() else ddir.exports)
    job = _Job(ExportOptions(lang=lang), lang, None, tz_name, prof)
    snap, checker = _snapshot(opened, rows, job, work)
    try:
        font = find_font(os.environ.get("LOCKER_FONT") or None, prof.font)
        plans = {p.exhibit.number: p for p in plan_exhibits(snap, False)[0]}
        room = int(form.max_images.value) - (1 if form.overview else 0) - (1 if pack is not None else 0)
        needs = {n: _cards_needed(p) for n, p in plans.items()}
        if asked:
            total = sum(needs.values())
            if total > room:
                raise UsageError(_("--exhibits {asked} need {total} images; the form {form} takes {room} "
                                   "(beside the overview card or the PDF pack)").format(asked=",".join(asked), total=total,
                                                                          form=form.id, room=room))
            chosen = tuple(sorted(plans))
        else:
            picked = select.choose([_candidate(p.exhibit, needs[n]) for n, p in plans.items()], room)
            chosen = picked.numbers
            names = {n: p.exhibit.name for n, p in plans.items()}
            left = sorted(left + [(n, why, names[n]) for n, why in picked.left_out])
        L = Labels(lang)
        checker.ensure()  # no card is made from an original that fails its check
        made = _build(opened, snap, plans, chosen, form, L, font, final, job, progress, default_workers(), pack)
    finally:
        checker.stop()
        work.remove()
    return _finish(opened, made, form, lang, final, chosen, left, asked)


def _every_exhibit(opened: Any) -> list[Any]:
    from sqlmodel import col, select

    from ..models import Exhibit

    with db.reading(opened.engine) as session:
        return list(session.exec(select(Exhibit).order_by(col(Exhibit.number))).all())


def _candidates_from(every: list[Any], wanted: tuple[str, ...], slug: str
                     ) -> tuple[list[Any], list[tuple[int, str, str]]]:
    from .export_snapshot import parse_numbers

    known = {e.number for e in every}
    asked = parse_numbers(wanted, "--exhibits") if wanted else None
    for n in sorted(asked or ()):
        if n not in known:
            raise NotFound(_("{slug} has no exhibit {n}").format(slug=slug, n=n))
    take, left = [], []
    for e in every:
        name = e.title or e.original_name
        if asked is not None:
            if e.number in asked:
                take.append(e)
            else:
                left.append((e.number, "not_asked", name))
        elif e.withdrawn:
            left.append((e.number, "withdrawn", name))
        else:
            take.append(e)
    if not take:
        raise UsageError(_("{slug} has no exhibit to put in a kit").format(slug=slug))
    return take, left


def _cards_needed(plan: Any) -> int:
    return len(plan.slices) if plan.shape == "long" and plan.slices else 1


def _candidate(e: Any, cards: int) -> Any:
    from ..kit.select import Candidate
    instant = None
    if e.captured_at:
        try:
            instant = datetime.fromisoformat(e.captured_at).timestamp()
        except (ValueError, TypeError, OverflowError):
            instant = None
    return Candidate(e.number, e.kind, e.purpose, e.captured_at, cards, instant)


# --------------------------------------------------------------------------- recording


def _finish(opened: Any, made: _Made, form: Any, lang: str, final: Path, chosen: Sequence[int],
            left: Sequence[tuple[int, str, str]], asked: tuple[str, ...]) -> KitResult:
    manifest_sha = store.hash_file(made.work / MANIFEST)[0]
    zip_final = final.with_name(final.name + ".zip")
    zip_sha = store.hash_file(made.zip_temp)[0]
    try:
        manifest_text = (made.work / MANIFEST).read_text(encoding="utf-8")
        now = now_utc()
        with disputes.recording(opened) as session:
            conn = session.connection()
            cur = conn.exec_driver_sql(
                "INSERT INTO kit (at, path, zip_path, form, lang, manifest_sha256, zip_sha256, manifest) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (now, str(final), str(zip_final), form.id, lang, manifest_sha, zip_sha, manifest_text))
            kit_id = int(cur.lastrowid or 0)
            custody.append(conn, now, [domain.kit_created(
                kit_id, path=str(final), zip_path=str(zip_final), form=form.id, lang=lang,
                manifest_sha256=manifest_sha, zip_sha256=zip_sha, exhibits=list(chosen),
                cards=[{"file": c.file, "sha256": c.sha256, "exhibit": c.exhibit} for c in made.cards],
                pack=_pack_entry(made.manifest.get("pack")))])
        os.rename(made.work, final) if not final.exists() else _into_empty(made.work, final)
        os.replace(made.zip_temp, zip_final)
        store.fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(made.work, ignore_errors=True)
        made.zip_temp.unlink(missing_ok=True)
        raise
    return KitResult(
        slug=opened.slug, folder=final, zip_path=zip_final, zip_sha256=zip_sha, manifest_sha256=manifest_sha,
        manifest=made.manifest, form=form, cards=tuple(made.cards), exhibits=tuple(chosen),
        left_out=tuple(left), description_cut=made.description.was_cut, warnings=tuple(made.warnings),
        pack=made.manifest.get("pack"))


def _pack_entry(pack: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if pack is None else {"file": pack["file"], "sha256": pack["sha256"]}


def _into_empty(work: Path, final: Path) -> None:
    """``-o`` named an existing empty folder: it is replaced by the finished one."""
    final.rmdir()
    os.rename(work, final)


# --------------------------------------------------------------------------- verify


def check(conn: Any, ddir: Any, recorded: Sequence[Any]) -> list[tuple[int | None, str, str, str]]:
    """Every recorded kit: (exhibit, problem, detail, severity) for each thing that does not hold.

    * the ``kit`` row must say what its ``kit.created`` entry recorded, and each entry have its row;
    * the manifest kept in the row must hash to the SHA-256 the entry recorded;
    * where the kit's folder and ZIP still are, kit.json, every card and the ZIP must have the hashes
      recorded (a kit moved or deleted is a warning: it is the user's copy, not evidence)."""
    try:
        rows = db.dbapi(conn).execute(
            "SELECT id, path, zip_path, form, lang, manifest_sha256, zip_sha256, manifest FROM kit ORDER BY id"
        ).fetchall()
    except Exception:  # a database from before m012_kits
        rows = []
    entries = {r.kit: r for r in recorded if isinstance(r, domain.KitCreated)}
    problems: list[tuple[int | None, str, str, str]] = []
    for kit_id, path, zip_path, form, lang, manifest_sha, zip_sha, manifest in rows:
        entry = entries.pop(kit_id, None)
        if entry is None:
            problems.append((None, "kit_unrecorded", _("kit {id} ({path}) has no kit.created entry in the custody "
                                                       "log").format(id=kit_id, path=path), "error"))
            continue
        if (path, zip_path, form, lang, manifest_sha, zip_sha) != (
                entry.path, entry.zip_path, entry.form, entry.lang, entry.manifest_sha256, entry.zip_sha256):
            problems.append((None, "kit_record_changed", _("kit {id}: its record differs from what the custody "
                                                           "log recorded").format(id=kit_id), "error"))
        if hashlib.sha256(str(manifest or "").encode("utf-8")).hexdigest() != entry.manifest_sha256:
            problems.append((None, "kit_manifest_changed", _("kit {id}: its stored kit.json does not hash to the "
                                                             "recorded {sha}…").format(id=kit_id,
                                                                                       sha=str(entry.manifest_sha256)[:12]),
                             "error"))
        problems += _check_files(kit_id, entry)
    for kit_id, entry in entries.items():
        problems.append((None, "kit_row_missing", _("kit {id} ({path}) is in the custody log but not in the "
                                                    "database").format(id=kit_id, path=entry.path), "error"))
    return problems


def _check_files(kit_id: int, entry: Any) -> list[tuple[int | None, str, str, str]]:
    out: list[tuple[int | None, str, str, str]] = []
    folder = Path(entry.path or "")
    if not entry.path or not folder.is_dir():
        out.append((None, "kit_moved", _("kit {id}: its folder {path} is no longer there (not evidence; nothing "
                                         "to compare)").format(id=kit_id, path=entry.path), "warning"))
    else:
        files = [(MANIFEST, entry.manifest_sha256)] + [(c.get("file"), c.get("sha256")) for c in entry.cards]
        if entry.pack:
            files.append((entry.pack.get("file"), entry.pack.get("sha256")))
        for name, expected in files:
            target = folder / str(name)
            try:
                digest = store.hash_file(target)[0]
            except OSError:
                out.append((None, "kit_file_missing", _("kit {id}: {file} is missing from {path}").format(
                    id=kit_id, file=name, path=folder), "warning"))
                continue
            if digest != expected:
                out.append((None, "kit_file_changed", _("kit {id}: {file} does not hash to the recorded {sha}… "
                                                        "(now {found}…)").format(
                    id=kit_id, file=name, sha=str(expected)[:12], found=digest[:12]), "error"))
    zip_path = Path(entry.zip_path or "")
    if entry.zip_path and zip_path.is_file():
        digest = store.hash_file(zip_path)[0]
        if digest != entry.zip_sha256:
            out.append((None, "kit_file_changed", _("kit {id}: {file} does not hash to the recorded {sha}… "
                                                    "(now {found}…)").format(
                id=kit_id, file=zip_path.name, sha=str(entry.zip_sha256)[:12], found=digest[:12]), "error"))
    return out


def listed(conn: Any) -> list[dict[str, Any]]:
    """The dispute's kits, oldest first (for ``show`` and tests)."""
    try:
        rows = conn.exec_driver_sql("SELECT id, at, path, form, manifest_sha256 FROM kit ORDER BY id").fetchall()
    except Exception:
        return []
    return [{"kit": r[0], "at": r[1], "path": r[2], "form": r[3], "manifest_sha256": r[4]} for r in rows]
