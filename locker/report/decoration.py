"""What every page of the pack carries besides its content: the page number ("第 X 页 / 共 Y 页", the
total from the pass before), the pack's fingerprint, the running header with the dispute's title, and the
exhibit stamp (证据 N) in the top right corner of an exhibit's pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .page import GREY, MARGIN_X, MM, PAGE_W, RULE, STAMP, State
from .progress import CLOSING_PAGES

if TYPE_CHECKING:
    from .builder import Layout


def page_end(lay: Layout, state: State) -> Callable[[Any, Any], None]:
    L = lay.L
    short = L.f("fingerprint_short", short=lay.fingerprint[:16]) if lay.fingerprint else L["fingerprint_none_short"]
    # The pages after the last exhibit's move the bar on: a 300-exhibit pack's appendix takes most of a
    # second to lay out in the first pass, and again to draw in the last (whose page count is known).
    before = state.previous  # the pass before this one: its page count, and where its exhibits ended
    total = before.total if before is not None else 0
    closing_from = None if before is None else max((last for _first, last in before.exhibits.values()), default=0)

    def decorate(canv: Any, doc: Any) -> None:
        page = canv.getPageNumber()
        width, height = canv._pagesize
        if state.exhibit is not None and state.exhibit in state.map.exhibits:
            state.map.exhibits[state.exhibit][1] = page
        inserted = state.map.inserted.get(page)
        if not state.draw_images:
            appendix = state.map.sections.get("appendix")
            if state.meter is not None and before is None and appendix is not None and page >= appendix:
                state.meter.closing(1 - 0.8 ** (page - appendix + 1), "layout")
            return  # a pass that only finds where things fall: its pages are thrown away
        if state.meter is not None and closing_from is not None and page > closing_from:
            state.meter.closing(CLOSING_PAGES * (page - closing_from) / max(1, total - closing_from))
        canv.saveState()
        if inserted is not None:
            _n, _i, (bx, by, bw, bh) = inserted
            # White bands around the placed page: nothing of the original spills into the margins.
            canv.setFillColor(lay.color("#ffffff"))
            canv.setStrokeColor(lay.color("#ffffff"))
            canv.rect(0, 0, width, by, stroke=0, fill=1)
            canv.rect(0, by + bh, width, height - by - bh, stroke=0, fill=1)
            canv.rect(0, by, bx, bh, stroke=0, fill=1)
            canv.rect(bx + bw, by, width - bx - bw, bh, stroke=0, fill=1)
            canv.setStrokeColor(lay.color(RULE))
            canv.setLineWidth(0.6)
            canv.rect(bx, by, bw, bh, stroke=1, fill=0)
        canv.setFont(lay.fonts.regular, 8.5)
        canv.setFillColor(lay.color(GREY))
        canv.drawCentredString(width / 2, 8 * MM, L.f("page_of", page=page, total=total or "—"))
        canv.setFont(lay.fonts.regular, 7)
        canv.drawRightString(width - MARGIN_X * min(1.0, width / PAGE_W), 8 * MM, short)
        if page != state.cover_page:
            header(lay, canv, state, width, height, inserted)
        canv.restoreState()

    return decorate


def header(lay: Layout, canv: Any, state: State, width: float, height: float, inserted: Any) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    side = MARGIN_X if width >= 400 else 10 * MM
    y = height - 11 * MM
    title = lay.text.plain(lay.snap.dispute.title)
    label = f"{title} · {lay.L['pack']}"
    room = width * 0.55
    font = lay.fonts.regular
    while stringWidth(label, font, 8) > room and len(title) > 4:
        title = title[:-2]
        label = f"{title}… · {lay.L['pack']}"
    canv.setFont(font, 8)
    canv.setFillColor(lay.color(GREY))
    canv.drawString(side, y, label)
    canv.setStrokeColor(lay.color(RULE))
    canv.setLineWidth(0.5)
    canv.line(side, y - 3.5, width - side, y - 3.5)
    if state.exhibit is None:
        return
    if inserted is not None:
        _n, index, _box = inserted
        count = len(next(p for p in lay.plans if p.exhibit.number == state.exhibit).pdf_pages)
        stamp = lay.L.f("inserted_page", n=state.exhibit, k=index + 1, count=count)
        size = 10.5
    else:
        stamp = lay.L.f("exhibit_n", n=state.exhibit)
        size = 13
    if state.exhibit in lay.failed:
        stamp += " · " + lay.L["failed_stamp"]
    w = stringWidth(stamp, font, size) + 12
    x = width - side - w
    canv.setFillColor(lay.color("#ffffff"))
    canv.setStrokeColor(lay.color(STAMP))
    canv.setLineWidth(1.2)
    canv.rect(x, y - 1.5, w, size + 7, stroke=1, fill=1)
    canv.setFillColor(lay.color(STAMP))
    canv.setFont(font, size)
    canv.drawString(x + 6, y + 2.2, stamp)
