"""The flowables of the pack that do more than print: markers that record where a section or an
exhibit begins, pictures fitted to the room on their page, the grid of a video's key frames, and the
marker of a page where a document's own page is placed later (:mod:`locker.report.pdfpost`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

from .page import GREY, INK, MAX_PT_PER_PX, RULE, SHADE, WARN, PdfPage, Plan, State, insert_box
from .progress import DRAWN
from .snapshot import ExhibitInfo

if TYPE_CHECKING:
    from .builder import Layout


def marker(action: Callable[[Any], None]) -> Any:
    """A flowable of no size that runs ``action(canvas)`` where it is drawn."""
    from reportlab.platypus import Flowable


    class Marker(Flowable):  # type: ignore[misc]
        def wrap(self, aw: float, ah: float) -> tuple[float, float]:
            return (0, 0)

        def draw(self) -> None:
            action(self.canv)

    return Marker()


def _laid_out(state: State) -> None:
    """At the mark after an exhibit: in a pass without pictures, that exhibit's pictures are placed."""
    if state.on_exhibit is not None and state.exhibit is not None and not state.draw_images:
        state.on_exhibit(state.exhibit)


def section_mark(lay: Layout, state: State, key: str, title: str) -> Any:
    def act(canv: Any) -> None:
        _laid_out(state)
        page = canv.getPageNumber()
        state.map.sections.setdefault(key, page)
        state.exhibit = None
        if key == "cover":
            state.cover_page = page
        canv.bookmarkPage(f"s-{key}")
        canv.addOutlineEntry(title, f"s-{key}", level=0)

    return marker(act)


def exhibit_mark(lay: Layout, state: State, e: ExhibitInfo) -> Any:
    title = f"{lay.L.f('exhibit_n', n=e.number)}  {lay.text.plain(e.name)}"

    def act(canv: Any) -> None:
        _laid_out(state)
        page = canv.getPageNumber()
        state.exhibit = e.number
        state.map.exhibits[e.number] = [page, page]
        if not state.outline_exhibits:
            state.outline_exhibits = True
            state.map.sections.setdefault("exhibits", page)
            canv.bookmarkPage("s-exhibits")
            canv.addOutlineEntry(lay.L["exhibits"], "s-exhibits", level=0)
        canv.bookmarkPage(f"e-{e.number}")
        canv.addOutlineEntry(title, f"e-{e.number}", level=1)
        if state.meter is not None:  # the rest of the phase is the closing (progress.Meter.closing)
            state.meter.advance("write" if state.draw_images else "layout", e.number, DRAWN)

    return marker(act)


def picture(lay: Layout, state: State, key: str, px: tuple[int, int], *, full_h: float,
             min_fraction: float = 0.6, caption: str = "") -> Any:
    """A picture fitted to the space left on this page, or to a whole page when that would show it
    much larger (less than ``min_fraction`` of the whole-page size fits here). ``caption``
    (plain text) is drawn under it."""
    from reportlab.platypus import Flowable

    cap = 14.0 if caption else 0.0

    class Picture(Flowable):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.hAlign = "CENTER"
            self.w = self.h = 0.0

        def _fit(self, aw: float, ah: float) -> float:
            return max(1e-6, min(aw / px[0], (ah - cap) / px[1], MAX_PT_PER_PX))

        def wrap(self, aw: float, ah: float) -> tuple[float, float]:
            here = self._fit(aw, ah)
            full = self._fit(aw, full_h)
            scale = min(here, full) if here >= min_fraction * full - 1e-9 else full
            self.w, self.h = px[0] * scale, px[1] * scale
            self.width = max(self.w, min(aw, caption_width(lay, caption)))
            return self.width, self.h + cap

        def draw(self) -> None:
            state.map.placements[key] = (self.w, self.h)
            x = (self.width - self.w) / 2
            draw_picture(lay, self.canv, state, key, x, cap, self.w, self.h)
            if caption:
                self.canv.setFont(lay.fonts.regular, 8.5)
                self.canv.setFillColor(lay.color(GREY))
                self.canv.drawCentredString(self.width / 2, 3, caption)

    return Picture()


def caption_width(lay: Layout, caption: str) -> float:
    if not caption:
        return 0.0
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return float(stringWidth(caption, lay.fonts.regular, 8.5)) + 4


def draw_picture(lay: Layout, canv: Any, state: State, key: str, x: float, y: float, w: float, h: float) -> None:
    if not state.draw_images:
        return
    made = state.renditions.get(key)
    if made is not None and made.path is not None:
        canv.drawImage(str(made.path), x, y, w, h)
        return
    canv.saveState()
    canv.setStrokeColor(lay.color(RULE))
    canv.setFillColor(lay.color(SHADE))
    canv.rect(x, y, w, h, stroke=1, fill=1)
    canv.setFillColor(lay.color(WARN))
    canv.setFont(lay.fonts.regular, 8)
    reason = lay.L.note(made.error) if made is not None and made.error else "?"
    message = lay.text.plain(lay.L.f("image_unreadable", reason=reason))
    canv.drawCentredString(x + w / 2, y + h / 2, message[:90])
    canv.restoreState()


def frame_grid(lay: Layout, state: State, plan: Plan, full_h: float) -> Any:
    """The key frames in a grid that starts on the exhibit's first page, below its metadata: the columns
    (3 to 5) are the ones that show the frames largest in the room there; only when that would show
    them at less than 60 % of their size on a page of their own does the grid go to the next page.
    (Portrait phone videos in 3 columns were too tall for the room and always left a page blank.)"""
    from reportlab.platypus import Flowable

    frames = plan.frames
    gap, cap = 6.0, 13.0
    fw, fh = (frames[0][2], frames[0][3]) if frames else (4, 3)

    def arrange(aw: float, height: float) -> tuple[float, int, float, float]:
        """(frame scale, columns, cell width, cell height) of the best grid in ``aw``×``height``."""
        best = (-1.0, 3, 0.0, 0.0)
        tallest = max((h / w for _f, _t, w, h in frames), default=0.75)
        for cols in (3, 4, 5):
            if cols > 3 and cols > len(frames):
                break
            rows = max(1, math.ceil(len(frames) / cols))
            cell_w = (aw - gap * (cols - 1)) / cols
            cell_h = max(1.0, min(tallest * cell_w, (height - rows * (cap + gap)) / rows))
            scale = min(cell_w / fw, cell_h / fh)
            if scale > best[0] * 1.02:  # fewer columns unless more show the frames clearly larger
                best = (scale, cols, cell_w, cell_h)
        return best

    class Grid(Flowable):  # type: ignore[misc]
        def wrap(self, aw: float, ah: float) -> tuple[float, float]:
            self.aw = aw
            here, full = arrange(aw, ah), arrange(aw, full_h)
            chosen = here if here[0] >= 0.6 * full[0] else full
            _scale, self.cols, self.cell_w, self.cell_h = chosen
            rows = max(1, math.ceil(len(frames) / self.cols))
            self.total = rows * (self.cell_h + cap + gap)
            return aw, self.total

        def draw(self) -> None:
            canv = self.canv
            cols = self.cols
            for i, (_file, code, w, h) in enumerate(frames):
                r, c = divmod(i, cols)
                scale = min(self.cell_w / w, self.cell_h / h, MAX_PT_PER_PX)
                pw, ph = w * scale, h * scale
                x0 = c * (self.cell_w + gap)
                top = self.total - r * (self.cell_h + cap + gap)
                x = x0 + (self.cell_w - pw) / 2
                y = top - self.cell_h + (self.cell_h - ph) / 2
                key = f"{plan.exhibit.number}:frame{i}"
                state.map.placements[key] = (pw, ph)
                draw_picture(lay, canv, state, key, x, y, pw, ph)
                canv.setFont(lay.fonts.mono, 8)
                canv.setFillColor(lay.color(INK))
                canv.drawCentredString(x0 + self.cell_w / 2, top - self.cell_h - cap + 3.5, code)

    return Grid()


def inserted(state: State, plan: Plan, index: int, page: PdfPage) -> Any:
    number = plan.exhibit.number
    box = insert_box(page.width, page.height)

    def act(canv: Any) -> None:
        state.map.inserted[canv.getPageNumber()] = (number, index, box)

    return marker(act)
