"""Making the evidence pack: plan, lay out, draw, place documents, attach, fit.

:func:`build` is the one entry point. It takes a :class:`~.snapshot.Snapshot`
(never the database) and writes the PDF to the path it is given; the caller
(:mod:`locker.services.export`) chooses that path (a temporary name beside
the final one) and renames it into place.

Page numbers across the whole pack, inserted document pages included, come
from passes: pass 1 lays the document out without pictures and records the
page map (each section's and exhibit's pages, the total, the size every
picture is placed at); the next pass draws the pictures and prints the numbers
of the pass before; should the page map differ (a page number that changed a
line break), text-only passes run until it is stable and the pictures are
drawn again.

``max_size``: the pack is made at 200 dpi / JPEG quality 80 first; when it is
too large, the image quality steps down (:data:`.images.STEPS`). The size at
each step is predicted from the renditions' bytes (the rest of the PDF does
not change) so that only a step that can fit is drawn; when even the last step
cannot fit, :class:`PackTooLarge` says how close it got and what else takes
the room.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..i18n import _
from ..values import human_size
from . import images
from .builder import Fonts, Layout, PageMap, PdfPage, Plan
from .fonts import FontChoice, register
from .labels import Labels
from .pdfpost import Attachment, PackError, attach_files, open_document, place_documents, shown_size
from .progress import CLOSING_WRITTEN, Meter, WrittenOut
from .snapshot import ExhibitInfo, Snapshot

MAX_PASSES = 4


class PackTooLarge(PackError):
    code = "too_large"


@dataclass(frozen=True)
class PackOptions:
    font: FontChoice
    lang: str = "zh"
    letter: bool = False
    max_size: int | None = None  # bytes
    attach_originals: bool = False
    cache_dir: Path | None = None  # where picture renditions are kept between exports (derived/)
    workers: int = 2
    version: str = ""
    before_making: Any = None  # called before a rendition is made from an original (not found in the cache)
    # Has what before_making waits for passed already (True or False, without waiting)? Renditions are
    # started during the first pass only once it has (see _early); with before_making and no check_passed, never.
    check_passed: Any = None


@dataclass(frozen=True)
class PackResult:
    pages: int
    size: int
    fingerprint: str | None  # None: the pack holds no exhibits (see manifest())
    step: images.Step
    exhibit_pages: dict[int, tuple[int, int]]
    attachments: tuple[str, ...]
    warnings: tuple[str, ...]
    font: str


def manifest(exhibits: tuple[ExhibitInfo, ...] | list[ExhibitInfo]) -> tuple[str, str | None]:
    """(manifest text, pack fingerprint): one line "N sha256" per exhibit in number order, LF-terminated;
    the fingerprint is the SHA-256 of that text in UTF-8.

    A pack with no exhibits has no fingerprint (None; the pack prints "无" / "none" and says why, the
    custody entry records null): the SHA-256 of the empty text, e3b0c442…, would look like the fingerprint
    of some evidence and stand for none."""
    text = "".join(f"{e.number} {e.sha256}\n" for e in sorted(exhibits, key=lambda e: e.number))
    return text, (hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None)


def attachment_name(e: ExhibitInfo) -> str:
    name = "".join("_" if (c in '/\\:*?"<>|' or not c.isprintable()) else c for c in e.original_name).strip(" .")
    return f"exhibit-{e.number:02d}-{name or 'original'}"


def plan_exhibits(snap: Snapshot, attach: bool) -> tuple[list[Plan], list[str]]:
    plans: list[Plan] = []
    warnings: list[str] = []
    for e in snap.exhibits:
        plan = _plan(e)
        if attach and not e.failed:  # the bytes there now are not the original the pack names
            plan.attachment = attachment_name(e)
        if plan.problem:
            warnings.append(f"exhibit {e.number} ({e.original_name}): its content cannot be shown: {plan.problem}")
        plans.append(plan)
    return plans, warnings


def _plan(e: ExhibitInfo) -> Plan:
    mime = (e.mime or "").lower()
    derived = e.derived
    if e.check == "missing":
        return Plan(e, "other")  # nothing to show: the section says the original failed its check
    if e.kind == "chat":
        return Plan(e, "chat")
    if mime == "application/pdf":
        try:
            reader = open_document(e.original)
            pages = tuple(PdfPage(*shown_size(page)) for page in reader.pages)
            if not pages:
                raise ValueError("it has no pages")
            if any(w < 10 or h < 10 or w > 14400 or h > 14400 for w, h in ((p.width, p.height) for p in pages)):
                raise ValueError("its page size is out of range")
        except ValueError as exc:
            return Plan(e, "pdf", problem=str(exc))
        plan = Plan(e, "pdf", pdf_pages=pages)
        loose = _fonts_not_embedded(reader)
        if loose:
            plan.notes.append(f"the document does not embed the font(s) {', '.join(loose)}: PDF readers draw "
                              "that text with a font of their own; its text is unchanged")
        return plan
    if mime.startswith("image/"):
        if derived is not None and derived.error:
            return Plan(e, "image", problem=derived.error)
        if derived is not None and derived.display is not None and derived.display.is_file() and derived.width:
            px = (int(derived.width), int(derived.height or 1))
            if len(derived.slices) > 1:
                return Plan(e, "long", source=derived.display, px=px,
                            slices=tuple((s.top, s.bottom) for s in derived.slices))
            return Plan(e, "image", source=derived.display, px=px)
        try:
            px = images.oriented_size(e.original)
        except Exception as exc:  # DerivationError, OSError: damaged or unreadable
            reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            return Plan(e, "image", problem=reason.splitlines()[0][:200])
        return Plan(e, "image", source=e.original, px=px)
    if mime.startswith("video/"):
        if derived is not None and derived.frames:
            frames = tuple((f.file, f.timecode, f.width, f.height) for f in derived.frames)
            return Plan(e, "video", frames=frames)
        return Plan(e, "video", problem=(derived.error if derived is not None and derived.error
                                         else "no key frames were made"))
    if mime.startswith("audio/") or e.kind == "audio":
        return Plan(e, "audio")
    return Plan(e, "other")


def _fonts_not_embedded(reader: Any, max_pages: int = 50) -> list[str]:
    """Names of fonts the document uses without embedding them (the standard 14, mostly)."""
    found: set[str] = set()
    try:
        for page in list(reader.pages)[:max_pages]:
            resources = page.get("/Resources")
            fonts = resources.get_object().get("/Font") if resources is not None else None
            if fonts is None:
                continue
            for ref in fonts.get_object().values():
                font = ref.get_object()
                if font.get("/Subtype") == "/Type0":
                    descendants = font.get("/DescendantFonts")
                    font = descendants.get_object()[0].get_object() if descendants else font
                descriptor = font.get("/FontDescriptor")
                descriptor = descriptor.get_object() if descriptor is not None else None
                if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    if font.get("/Subtype") != "/Type3":
                        found.add(str(font.get("/BaseFont", "?")).lstrip("/"))
    except Exception:  # a damaged resource tree: nothing to say
        return sorted(found)
    return sorted(found)


def _jobs(plans: list[Plan], placements: dict[str, tuple[float, float]], step: images.Step) -> list[images.Job]:
    jobs = []

    def target(px: tuple[int, int], placed: tuple[float, float]) -> tuple[int, int]:
        scale = min(1.0, placed[0] / 72 * step.dpi / px[0], placed[1] / 72 * step.dpi / px[1])
        return max(1, round(px[0] * scale)), max(1, round(px[1] * scale))

    for plan in plans:
        e = plan.exhibit
        if plan.problem:
            continue
        text = e.kind == "screenshot"
        if plan.shape == "image" and plan.source is not None:
            key = f"{e.number}:img"
            if key in placements:
                w, h = target(plan.px, placements[key])
                jobs.append(images.Job(key, "image", plan.source, e.sha256, w, h, step.quality, text=text,
                                       cache=not e.failed))
        elif plan.shape == "long" and plan.source is not None:
            for k, (top, bottom) in enumerate(plan.slices, 1):
                key = f"{e.number}:slice{k}"
                if key in placements:
                    w, _h = target((plan.px[0], bottom - top), placements[key])
                    jobs.append(images.Job(key, "slice", plan.source, e.sha256, w, bottom - top, step.quality,
                                           top=top, bottom=bottom, text=True, cache=not e.failed))
        elif plan.shape == "video":
            for i, (file, _code, fw, fh) in enumerate(plan.frames):
                key = f"{e.number}:frame{i}"
                if key in placements:
                    w, h = target((fw, fh), placements[key])
                    jobs.append(images.Job(key, "frame", file, e.sha256, w, h, step.quality, cache=not e.failed))
    return jobs


def _image_bytes(made: dict[str, images.Made]) -> int:
    seen = {str(m.path) for m in made.values() if m.path is not None}
    return sum(os.path.getsize(p) for p in seen if os.path.exists(p))


def build(snap: Snapshot, out: Path, options: PackOptions, progress: Any = None) -> PackResult:
    """Write the evidence pack of ``snap`` to ``out``."""
    meter = progress if isinstance(progress, Meter) else Meter(progress, ((e.number, e.size) for e in snap.exhibits))
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics

    rl_config.useA85 = 0  # ASCII85 makes images 25 % larger and costs seconds
    _chinese_line_breaking()
    regular, mono = register(options.font)
    face = pdfmetrics.getFont(regular).face
    glyphs = face.charToGlyph
    fonts = Fonts(regular, mono, lambda cp: cp in glyphs)
    labels = Labels(options.lang)
    tz = _tz(snap.tz)
    plans, warnings = plan_exhibits(snap, options.attach_originals)
    text, fingerprint = manifest(snap.exhibits)
    layout = Layout(snap, plans, labels, fonts, tz, letter=options.letter, fingerprint=fingerprint,
                    manifest_text=text, version=options.version)
    layout.state.meter = meter
    metadata = _metadata(snap, labels, options.version)

    scratch = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-export-", dir=out.parent))
    try:
        with ExitStack() as stack:  # the rendition workers end before the scratch folder is removed
            pool = images.Pool(stack, options.workers) if options.workers > 1 else None
            early = _early(layout, plans, options, scratch, pool)
            try:
                page_map = layout.render(io.BytesIO(), None, draw_images=False)
            finally:
                layout.state.on_exhibit = None
            meter.complete("layout")
            if options.letter and layout.letter_missing:
                warnings.append("the letter of complaint lacks: "
                                + ", ".join(_english_fields(layout.letter_missing, labels))
                                + " (the claimant's details come from `locker profile`, the rest from `locker edit`)")
            result = _write(layout, plans, page_map, out, scratch, options, metadata, meter, pool, labels, early)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if meter is not progress:
        meter.finish()
    return PackResult(pages=result[0].total, size=result[1], fingerprint=fingerprint, step=result[2],
                      exhibit_pages={n: (v[0], v[1]) for n, v in result[0].exhibits.items()},
                      attachments=result[3], warnings=tuple(warnings + result[4]), font=options.font.describe())


def _early(layout: Layout, plans: list[Plan], options: PackOptions, scratch: Path,
           pool: images.Pool | None) -> images.Early | None:
    """Have the first pass (no pictures drawn: it finds where everything falls) start each exhibit's
    renditions as soon as it has placed them (see images.Early), when there are pictures enough to pay
    for the workers (images.POOL_MIN_JOBS, as start_all); None otherwise."""
    pictures = {p.exhibit.number: p for p in plans if not p.problem and p.shape in ("image", "long", "video")}
    if pool is None or len(pictures) < images.POOL_MIN_JOBS:
        return None
    if options.before_making is None:
        ready: Any = lambda: True
    elif options.check_passed is not None:
        ready = options.check_passed
    else:
        return None
    early = images.Early(pool, options.cache_dir, scratch, ready)
    step = images.STEPS[0]  # the first quality tried, with or without max_size (see _write)

    def laid_out(number: int) -> None:
        plan = pictures.get(number)
        if plan is not None:
            early.start(_jobs([plan], layout.state.map.placements, step))

    layout.state.on_exhibit = laid_out
    return early


def _write(layout: Layout, plans: list[Plan], page_map: PageMap, out: Path, scratch: Path, options: PackOptions,
           metadata: dict[str, str], meter: Meter, pool: images.Pool | None, labels: Labels,
           early: images.Early | None = None) -> tuple[PageMap, int, images.Step, tuple[str, ...], list[str]]:
    """Draw the pack with its pictures at the first image quality, or with ``max_size`` at the first that
    fits; (page map, size, quality step, attachments, warnings)."""
    steps = images.STEPS if options.max_size else images.STEPS[:1]
    documents = {p.exhibit.number: p.exhibit.original for p in plans if p.shape == "pdf" and not p.problem}
    files = [Attachment(p.attachment, p.exhibit.original, p.exhibit.sha256, p.exhibit.size, p.exhibit.mime,
                        f"{labels.f('exhibit_n', n=p.exhibit.number)} · SHA-256 {p.exhibit.sha256}")
             for p in plans if p.attachment]
    rest: int | None = None  # bytes of the pack that are not pictures
    smallest: tuple[int, images.Step] | None = None
    for i, step in enumerate(steps):
        pending = _renditions(plans, page_map, step, scratch, options, meter if i == 0 else None, pool,
                              started=early.started if early is not None and i == 0 else None)
        last = i == len(steps) - 1
        if rest is not None and options.max_size and not last \
                and rest + _image_bytes(pending.wait()) > options.max_size:
            continue  # predicted too large: the next step
        page_map, made = _draw(layout, plans, page_map, pending, step, scratch, options, metadata, out, pool, meter)
        meter.complete("pictures")
        _post(out, scratch, page_map, documents, files)
        meter.closing(CLOSING_WRITTEN)
        size = out.stat().st_size
        rest = size - _image_bytes(made)
        if smallest is None or size < smallest[0]:
            smallest = (size, step)
        if not options.max_size or size <= options.max_size:
            warnings = [f"exhibit {key.split(':')[0]}: a picture could not be drawn: {m.error}"
                        for key, m in sorted(made.items()) if m.error]
            return page_map, size, step, tuple(f.name for f in files), warnings
        if rest > options.max_size:
            break  # no picture quality can make up for the rest
    assert smallest is not None and options.max_size
    raise PackTooLarge(_too_large_message(options.max_size, smallest, rest or 0, files, documents))


CANNOT_START = "，。、；：！？）》〉」』】〕”’…—～％·"


def _chinese_line_breaking() -> None:
    """reportlab's CJK line breaking keeps only the ASCII comma and 、。 off the start of a line; Chinese
    typography keeps all closing punctuation there (it hangs at the end of the line before)."""
    from reportlab.lib import textsplit
    from reportlab.platypus import paragraph

    for module in (textsplit, paragraph):  # one-run paragraphs break in textsplit, others in paragraph
        missing = "".join(c for c in CANNOT_START if c not in module.ALL_CANNOT_START)
        if missing:
            module.ALL_CANNOT_START += missing


def _renditions(plans: list[Plan], page_map: PageMap, step: images.Step, scratch: Path, options: PackOptions,
                meter: Meter | None, pool: images.Pool | None, known: dict[str, images.Made] | None = None,
                started: dict[images.Job, Any] | None = None) -> images.Pending:
    jobs = _jobs(plans, page_map.placements, step)
    on_done = None
    if meter is not None and jobs:
        # Each rendition carries its share of its exhibit's pictures phase.
        per: dict[int, int] = {}
        for job in jobs:
            n = int(job.key.split(":")[0])
            per[n] = per.get(n, 0) + 1

        def on_done(m: images.Made) -> None:
            n = int(m.key.split(":")[0])
            meter.advance("pictures", n, 1 / per[n])

    return images.start_all(jobs, options.cache_dir, scratch, pool=pool, on_done=on_done,
                            before_making=options.before_making, known=known, started=started)


def _draw(layout: Layout, plans: list[Plan], page_map: PageMap, pending: images.Pending, step: images.Step,
          scratch: Path, options: PackOptions, metadata: dict[str, str], out: Path, pool: images.Pool | None,
          meter: Meter) -> tuple[PageMap, dict[str, images.Made]]:
    """The pass with pictures, drawn as the workers make them; repeated (after text-only passes) until its
    page map is the one it printed, and every picture is laid out the way round it came out. The file is
    written out in slices that move the bar (progress.WrittenOut)."""
    target = scratch / "reportlab.pdf"
    for _attempt in range(MAX_PASSES):
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            drawn = layout.render(WrittenOut(fd, meter), page_map, draw_images=True, renditions=pending,
                                  metadata=metadata)
        finally:
            os.close(fd)
        made = pending.wait()
        turned = _fix_aspects(plans, made)
        if not turned and drawn.same_pages(page_map):
            os.replace(target, out)
            return drawn, made
        page_map = _settle(layout, drawn)
        pending = _renditions(plans, page_map, step, scratch, options, None, pool, known=made)
    raise PackError(_("the page numbers of the pack did not settle; please report this"))


def _settle(layout: Layout, page_map: PageMap) -> PageMap:
    """Text-only passes until the page map printed is the page map found."""
    for _pass in range(MAX_PASSES):
        again = layout.render(io.BytesIO(), page_map, draw_images=False)
        if again.same_pages(page_map) and again.placements == page_map.placements:
            return again
        page_map = again
    return page_map


def _fix_aspects(plans: list[Plan], made: dict[str, images.Made]) -> bool:
    """A picture whose rendition came out turned (an orientation the header did not tell) is laid out
    again the right way round."""
    changed = False
    for plan in plans:
        m = made.get(f"{plan.exhibit.number}:img")
        if plan.shape != "image" or m is None or m.path is None or not m.height or not plan.px[1]:
            continue
        planned, got = plan.px[0] / plan.px[1], m.width / m.height
        if abs(got - planned) > 0.03 * planned and abs(got - 1 / planned) <= 0.03 / planned:
            plan.px = (plan.px[1], plan.px[0])
            changed = True
    return changed


def _post(out: Path, scratch: Path, page_map: PageMap, documents: dict[int, Path], files: list[Attachment]) -> None:
    if page_map.inserted:
        placed = scratch / "placed.pdf"
        place_documents(out, placed, page_map.inserted, documents)
        os.replace(placed, out)
    if files:
        attach_files(out, files)


def _too_large_message(limit: int, smallest: tuple[int, images.Step], rest: int, files: list[Attachment],
                       documents: dict[int, Path]) -> str:
    size, step = smallest
    parts = [f"cannot make the pack fit in {human_size(limit)} (--max-size): the smallest made was "
             f"{human_size(size)}, with pictures at {step.describe()}"]
    attached = sum(f.size for f in files)
    docs = sum(p.stat().st_size for p in documents.values() if p.exists())
    if attached:
        parts.append(f"the attached originals alone take {human_size(attached)} (leave out --attach-originals)")
    if docs:
        parts.append(f"the inserted PDF documents take up to {human_size(docs)}")
    if rest and rest > limit:
        parts.append(f"without its pictures the pack still takes {human_size(rest)}")
    parts.append("leave exhibits out with --exclude N, or split the pack with --include")
    return "; ".join(parts)


def _english_fields(missing: list[str], labels: Labels) -> list[str]:
    from .labels import TEXT

    back = {pair[labels._i]: pair[1] for key, pair in TEXT.items() if key.startswith("field_")}
    return [back.get(m, m) for m in missing]


def _metadata(snap: Snapshot, labels: Labels, version: str) -> dict[str, str]:
    d = snap.dispute
    subject_bits = [labels.platform(d.platform) if d.platform else "", d.merchant or "",
                    f"{labels['order_id']} {d.order_id}" if d.order_id else ""]
    return {
        "title": f"{d.title} — {labels['pack']}",
        "author": snap.claimant.name or "",
        "subject": " · ".join(b for b in subject_bits if b) or labels["pack"],
        "creator": f"locker {version}".strip(),
        "keywords": " ".join(x for x in (d.order_id, d.platform, d.slug) if x),
    }


def _tz(name: str | None) -> Any:
    if not name:
        return None
    from ..values import resolve_tz

    try:
        return resolve_tz(name)
    except Exception:
        return None
