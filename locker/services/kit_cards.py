"""The files of an upload kit (``locker kit``), made in a work folder beside the target: a card per
picture (composed by :mod:`locker.kit.cards` from the pack's renditions, on worker processes when there
are enough), an overview card, a copy of the PDF pack for a form that takes it, the description cut to
the form's limit, ``kit.json`` and the ZIP. Recording the kit and checking it are
:mod:`locker.services.kit`'s.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from .. import __version__, store
from ..i18n import _
from ..values import resolve_tz

FORMAT = "locker-kit"
FORMAT_VERSION = 1
MANIFEST = "kit.json"
DESCRIPTION = "description.txt"
DESCRIPTION_FULL = "description-full.txt"


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
