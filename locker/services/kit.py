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
4. Write the description, ``kit.json`` and the ZIP; fsync; then record a ``kit`` row and its
   ``kit.created`` custody entry (with the SHA-256 of the manifest, of the ZIP and of every card) in
   one transaction; then rename the folder and the ZIP into place. A killed kit leaves a work folder
   (removed by the next kit), never a kit under its final name that the custody log does not record.

``locker verify`` checks every recorded kit (:func:`check`): its row against its custody entry, the
stored manifest against the hash recorded, and the files of the kit, where they still are.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

from .. import __version__, custody, db, domain, store
from ..domain import LANGS
from ..errors import NotFound, UsageError
from ..i18n import _
from ..paths import Home
from ..values import local_zone, now_utc, resolve_tz, zone_name
from . import disputes

FORMAT = "locker-kit"
FORMAT_VERSION = 1
MANIFEST = "kit.json"
DESCRIPTION = "description.txt"
DESCRIPTION_FULL = "description-full.txt"


@dataclass(frozen=True)
class KitOptions:
    form: str | None = None  # a profile of forms.toml or the home's locker.toml; default: the platform's
    output: str | None = None  # the kit's folder; default: the dispute's exports/kit-FORM-TIME
    lang: str | None = None
    exhibits: tuple[str, ...] = ()  # "1,3,5-7": exactly these (overrides the choice)


@dataclass(frozen=True)
class Card:
    file: str
    role: str  # "exhibit" | "overview"
    exhibit: int | None
    part: int | None
    parts: int | None
    sha256: str
    size: int
    width: int
    height: int
    quality: int
    scaled: float
    over_limit: bool


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


# --------------------------------------------------------------------------- the cards


@dataclass
class _Made:
    work: Path
    cards: list[Card]
    description: Any  # kit.text.Description
    manifest: dict[str, Any]
    zip_temp: Path
    warnings: list[str]


def _build(opened: Any, snap: Any, plans: dict[int, Any], chosen: Sequence[int], form: Any, L: Any,
           font: tuple[Path, int], final: Path, job: Any, progress: Any, workers: int, pack: Any = None) -> _Made:
    from ..derived import clean_stale
    from ..kit import cards as C
    from ..kit import text as T
    from ..report import images
    from ..report.markup import show_time

    final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    clean_stale(final.parent)
    work = final.parent / f"{store.TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{final.name}"
    work.mkdir(mode=0o700)
    try:
        width = min(1080, int(form.max_width.value))
        spec = C.Spec(width=width, max_height=int(form.max_height.value), max_bytes=int(form.max_bytes.value))
        room = spec.max_height - 420 * width // 1080  # what the caption band leaves for the picture
        tz = resolve_tz(job.tz_name) if job.tz_name else None
        slug = snap.dispute.slug
        if progress is not None and hasattr(progress, "start"):
            progress.start(len(chosen), len(chosen))
        # The pictures: renditions made by the pack's code for the card's width (cached in derived/),
        # then every card composed and saved — both on worker processes when there are enough of them.
        scratch = work / ".renditions"
        scratch.mkdir()
        jobs: list[_CardJob] = []
        from contextlib import ExitStack

        with ExitStack() as stack:
            pool = images.Pool(stack, workers) if workers > 1 else None
            made = images.start_all(_jobs([plans[n] for n in chosen], width), opened.dir.derived, scratch,
                                    pool=pool).wait()
            seq = 1
            if form.overview:
                caption = C.Caption(heading=f"{L['overview']} · {snap.dispute.title}",
                                    time_line=L.f("made_at", time=show_time(snap.generated_at, tz, seconds=False)),
                                    hash_line=L.f("dispute_line", dispute=slug), copy_note=L["overview_note"])
                jobs.append(_CardJob(f"{seq:02d}-overview.jpg", "overview", None, None, None,
                                     _overview_picture(snap, [plans[n].exhibit for n in chosen], L, tz),
                                     caption, spec, room, font, work))
                seq += 1
            for n in chosen:
                plan = plans[n]
                for part, parts, picture in _pictures(plan, made, L):
                    name = f"{seq:02d}-exhibit-{n:03d}" + (f"-part{part}" if parts and parts > 1 else "") + ".jpg"
                    jobs.append(_CardJob(name, "exhibit", n, part, parts, picture,
                                         _caption(plan.exhibit, L, slug, part, parts, tz), spec, room, font, work))
                    seq += 1
            if pool is not None and len(jobs) >= 4:
                cards = list(pool().map(_run_card, jobs))
            else:
                cards = [_run_card(j) for j in jobs]
        if progress is not None and hasattr(progress, "advance"):
            progress.advance(len(chosen), "")
        warnings = [f"{c.file}: {c.size} bytes, over the form's {spec.max_bytes}" for c in cards if c.over_limit]
        shutil.rmtree(scratch, ignore_errors=True)
        pack_doc = _copy_pack(pack, work, spec.max_bytes) if pack is not None else None
        if pack_doc is not None and pack_doc["over_limit"]:
            warnings.append(f"{pack_doc['file']}: {pack_doc['size']} bytes, over the form's {spec.max_bytes}")
        description = T.build(snap.dispute, snap.events, list(chosen), L,
                              lambda v: show_time(v, tz, seconds=False), int(form.text_limit.value))
        (work / DESCRIPTION).write_text(description.cut + "\n", encoding="utf-8")
        (work / DESCRIPTION_FULL).write_text(description.full + "\n", encoding="utf-8")
        manifest = _manifest(snap, form, L.lang, cards, description, work, chosen, pack_doc)
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        for path in work.iterdir():
            store.fsync_file(path)
        store.fsync_dir(work)
        zip_temp = final.parent / f"{store.TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{final.name}.zip"
        _zip(work, zip_temp, final.name)
        return _Made(work, cards, description, manifest, zip_temp, warnings)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _copy_pack(pack: Any, work: Path, max_bytes: int) -> dict[str, Any]:
    """The pack's copy in the kit, re-hashed: it must be the bytes the export recorded."""
    from ..errors import LockerError

    target = work / pack.path.name
    shutil.copyfile(pack.path, target)
    sha, size = store.hash_file(target)
    if sha != pack.sha256:
        raise LockerError(_("the pack {path} changed after it was made (SHA-256 {found}…, recorded {sha}…): "
                            "make the kit again").format(path=pack.path, found=sha[:12], sha=pack.sha256[:12]))
    return {"file": target.name, "sha256": sha, "size": size, "pages": pack.pages,
            "fingerprint": pack.fingerprint, "exported_to": str(pack.path), "over_limit": size > max_bytes}


@dataclass(frozen=True)
class _CardJob:
    """One card to compose and save; plain data, so that it can be sent to a worker process.

    ``picture``: ``("file", path)`` a rendition, ``("grid", ((path, timecode), …))`` a video's key frames,
    ``("text", title, ((label, text), …), more)`` type set on white (a chat's key messages, the overview)."""

    file: str
    role: str
    exhibit: int | None
    part: int | None
    parts: int | None
    picture: tuple[Any, ...]
    caption: Any  # kit.cards.Caption
    spec: Any  # kit.cards.Spec
    room: int
    font: tuple[Path, int]
    folder: Path


_FONTS: dict[tuple[Path, int], Any] = {}


def _run_card(job: _CardJob) -> Card:
    """Compose, save and hash one card (in a worker process, or here)."""
    from PIL import Image

    from ..kit import cards as C

    fonts = _FONTS.get(job.font)
    if fonts is None:
        fonts = _FONTS[job.font] = C.Fonts(*job.font)
    kind = job.picture[0]
    width = job.spec.width
    if kind == "file":
        with Image.open(job.picture[1]) as im:
            picture = im.convert("RGB")
    elif kind == "grid":
        picture = C.frame_grid(job.picture[1], width, fonts)
    else:
        _k, title, lines, more = job.picture
        picture = C.text_picture(title, lines, width, job.room, fonts, more=more)
    card = C.compose(picture, job.caption, job.spec, fonts)
    path = job.folder / job.file
    saved = C.save(card, path, job.spec.max_bytes)
    digest, size = store.hash_file(path)
    return Card(file=job.file, role=job.role, exhibit=job.exhibit, part=job.part, parts=job.parts, sha256=digest,
                size=size, width=saved.width, height=saved.height, quality=saved.quality, scaled=saved.scaled,
                over_limit=size > job.spec.max_bytes)


def _jobs(plans: Iterable[Any], width: int) -> list[Any]:
    """Rendition jobs of the pack's image code, for cards ``width`` pixels wide (never upscaled)."""
    from ..report import images

    jobs = []
    for plan in plans:
        e = plan.exhibit
        if plan.problem:
            continue
        text = e.kind == "screenshot"
        if plan.shape == "image" and plan.source is not None:
            w, h = plan.px
            scale = min(1.0, width / w, (width * 1.6) / h)
            jobs.append(images.Job(f"{e.number}:img", "image", plan.source, e.sha256, max(1, round(w * scale)),
                                   max(1, round(h * scale)), 90, text=text, cache=not e.failed))
        elif plan.shape == "long" and plan.source is not None:
            w = min(width, plan.px[0])
            for k, (top, bottom) in enumerate(plan.slices, 1):
                jobs.append(images.Job(f"{e.number}:slice{k}", "slice", plan.source, e.sha256, w, bottom - top, 90,
                                       top=top, bottom=bottom, text=True, cache=not e.failed))
        elif plan.shape == "video":
            cols = 3 if len(plan.frames) > 4 else 2 if len(plan.frames) > 1 else 1
            cell = width // cols
            for i, (file, _code, fw, fh) in enumerate(plan.frames):
                scale = min(1.0, cell / fw)
                jobs.append(images.Job(f"{e.number}:frame{i}", "frame", file, e.sha256, max(1, round(fw * scale)),
                                       max(1, round(fh * scale)), 85, cache=not e.failed))
    return jobs


def _pictures(plan: Any, made: dict[str, Any], L: Any) -> list[tuple[int | None, int | None, tuple[Any, ...]]]:
    """(part, parts, picture) of each card of one exhibit (see _CardJob for the picture's forms)."""
    e = plan.exhibit

    def note(text: str) -> tuple[Any, ...]:
        return ("text", e.name, (("", text),), None)

    def rendition(key: str) -> tuple[Any, ...]:
        m = made.get(key)
        if m is None or m.path is None:
            return note(L.f("no_render", reason=_why(made, e.number)))
        return ("file", m.path)

    if plan.problem:
        return [(None, None, note(L.f("no_render", reason=plan.problem)))]
    if plan.shape == "image":
        return [(None, None, rendition(f"{e.number}:img"))]
    if plan.shape == "long":
        return [(k, len(plan.slices), rendition(f"{e.number}:slice{k}")) for k in range(1, len(plan.slices) + 1)]
    if plan.shape == "video":
        frames = []
        for i, (_file, code, _w, _h) in enumerate(plan.frames):
            m = made.get(f"{e.number}:frame{i}")
            if m is not None and m.path is not None:
                frames.append((m.path, code))
        if frames:
            return [(None, None, ("grid", tuple(frames)))]
        return [(None, None, note(L.f("no_render", reason=_why(made, e.number))))]
    if plan.shape == "chat":
        return [(None, None, _chat_picture(e, L))]
    return [(None, None, note(L.f("no_picture", kind=L.kind(e.kind))))]


def _why(made: dict[str, Any], number: int) -> str:
    for key, m in made.items():
        if key.startswith(f"{number}:") and m.error:
            return str(m.error)
    return "?"


KEY_WORDS = ("退", "款", "拒", "不", "假", "坏", "质量", "投诉", "赔", "换", "承诺", "保证", "介入",
             "refund", "refuse", "return", "broken", "fake", "won't", "not", "promise", "replace")


def key_messages(messages: Sequence[Any], limit: int) -> list[Any]:
    """The messages a reviewer should see first, in their order: the first one, then those that speak
    of refunds, refusals, defects and promises (and the last one), up to ``limit``."""
    said = [m for m in messages if m.kind == "message" and (m.text or "").strip()]
    if len(said) <= limit:
        return said
    scored = []
    for i, m in enumerate(said):
        text = (m.text or "").lower()
        score = sum(1 for w in KEY_WORDS if w in text)
        if i == 0 or i == len(said) - 1:
            score += 2
        scored.append((score, i))
    keep = sorted(i for _s, i in sorted(scored, key=lambda si: (-si[0], si[1]))[:limit])
    return [said[i] for i in keep]


def _chat_picture(e: Any, L: Any) -> tuple[Any, ...]:
    from ..report.markup import show_time

    chosen = key_messages(e.messages, 12)
    lines = []
    for m in chosen:
        who = L["me"] if m.me else (m.sender or "")
        when = show_time(m.at, None, seconds=False) if m.at else ""
        lines.append((f"{when}  {who}".strip(), m.text))
    title = L.f("chat_title", shown=len(chosen), total=len([m for m in e.messages if m.kind == "message"]))
    return ("text", f"{e.name} · {title}", tuple(lines), L["more_messages"])


def _overview_picture(snap: Any, exhibits: Sequence[Any], L: Any, tz: Any) -> tuple[Any, ...]:
    from ..kit import text as T
    from ..report.markup import show_time

    d = snap.dispute
    facts = T.facts_sentence(d, L).strip()
    lines: list[tuple[str, str]] = []
    if facts:
        lines.append(("", facts))
    if d.claim:
        lines.append((L["claim"], d.claim))
    for ev in snap.events:
        lines.append((L["timeline"] + " " + show_time(ev.at, tz, seconds=False), ev.description))
    for e in exhibits:
        lines.append((L["evidence"] + f" {e.number}", e.name))
    return ("text", d.title, tuple(lines), L["more_events"])


def _caption(e: Any, L: Any, slug: str, part: int | None, parts: int | None, tz: Any) -> Any:
    from ..kit import cards as C
    from ..report.markup import show_time
    from ..values import zone_assumed

    heading = f"{L.f('exhibit_n', n=e.number)} · {e.name}"
    if parts and parts > 1:
        heading += L.f("part", i=part, n=parts)
    if e.captured_at:
        source = L.time_source(e.captured_at_source)
        if zone_assumed(e.captured_at_source, e.metadata) is not None:
            source += ("，" if L.lang == "zh" else ", ") + L["zone_assumed"]
        time_line = L.f("captured", time=show_time(e.captured_at, None, offset=True), source=source)
    else:
        time_line = L["no_time"]
    return C.Caption(heading=heading, time_line=time_line,
                     hash_line=L.f("hash_line", hash=e.sha256[:16], dispute=slug),
                     copy_note=L["copy_note"], warning=L["failed"] if e.failed else None)


def _manifest(snap: Any, form: Any, lang: str, cards: list[Card], description: Any, work: Path,
              chosen: Sequence[int], pack: dict[str, Any] | None = None) -> dict[str, Any]:
    by_number = {e.number: e for e in snap.exhibits}
    return {
        "format": FORMAT, "version": FORMAT_VERSION, "locker_version": __version__,
        "made_at": snap.generated_at, "lang": lang,
        "dispute": {"slug": snap.dispute.slug, "title": snap.dispute.title},
        "form": {"id": form.id, "name": form.name(lang), "origin": form.origin, "kind": form.kind,
                 "limits": {k: v.as_json() for k, v in form.limits().items()}, "assumed": list(form.assumed),
                 "pack": form.pack},
        "cards": [{"file": c.file, "role": c.role, "exhibit": c.exhibit, "part": c.part, "parts": c.parts,
                   "exhibit_sha256": by_number[c.exhibit].sha256 if c.exhibit is not None else None,
                   "sha256": c.sha256, "size": c.size, "width": c.width, "height": c.height,
                   "quality": c.quality, "scaled": c.scaled, "over_limit": c.over_limit} for c in cards],
        "exhibits": list(chosen),
        "description": {
            "file": DESCRIPTION, "full_file": DESCRIPTION_FULL, "limit": description.limit,
            "chars": len(description.cut), "full_chars": len(description.full), "cut": description.was_cut,
            "sha256": store.hash_file(work / DESCRIPTION)[0], "full_sha256": store.hash_file(work / DESCRIPTION_FULL)[0],
        },
        "original_where": "pack and bundle",
        "pack": pack,
    }


def _zip(folder: Path, out: Path, top: str) -> None:
    """A ZIP of the kit's folder (stored: JPEGs do not compress), members under ``top/``, names NFC."""
    import unicodedata

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                z.write(path, unicodedata.normalize("NFC", f"{top}/{path.name}"))
    store.fsync_file(out)


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
        rows = conn.exec_driver_sql(
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
