"""The evidence pack's pages, laid out with reportlab platypus.

One call of :meth:`Layout.render` is one pass over the whole document. The pack
is made in passes (see :mod:`locker.report.pack`): a first pass without
pictures finds where everything falls (each exhibit's pages, the size every
picture is placed at, the total page count); the next pass draws the pictures
(renditions made for exactly those sizes) and prints the page numbers found by
the pass before ("第 X 页 / 共 Y 页", the index's 页码 column, the cover's
contents). Passes repeat until the page map stops changing.

A PDF exhibit's own pages are represented here by placeholder pages of the
same size, which carry only the stamp, the page number and a frame around the
area where :mod:`locker.report.pdfpost` later places the original page. So the
page numbering counts them like any other page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, BinaryIO, Callable
from xml.sax.saxutils import unescape

from ..values import zone_assumed
from .labels import Labels
from .markup import Text, amount, duration, has_cjk, human_size, number_ranges, parse_time, show_time
from .snapshot import ExhibitInfo, Message, Snapshot

MM = 72 / 25.4
PAGE_W, PAGE_H = 595.2756, 841.8898  # A4
MARGIN_X = 18 * MM
MARGIN_TOP = 20 * MM
MARGIN_BOTTOM = 18 * MM
FRAME_W = PAGE_W - 2 * MARGIN_X
FRAME_H = PAGE_H - MARGIN_TOP - MARGIN_BOTTOM

# Where an inserted document page goes on its placeholder page.
INSERT_SIDE = 8 * MM
INSERT_TOP = 17 * MM
INSERT_BOTTOM = 14 * MM

INK = "#1a1a1a"
GREY = "#5f5f5f"
RULE = "#b8b8b8"
SHADE = "#f1f1f1"
ME_SHADE = "#e3f2d9"
STAMP = "#a3171c"
WARN = "#a3171c"

CONTENTS_EXHIBITS = 20  # the cover's contents name each exhibit up to this many
CELL_PAD = 3.5  # left/right padding of table cells
CELL_SIZE = 8.5  # font size of table cells
CHAT_CHUNK = 40  # messages per transcript table (tables are split per page; small ones split fast)
CHAT_PIECE = 700  # characters of one message per table row (a row must fit on a page)
CHAT_MESSAGE_MAX = 20 * CHAT_PIECE  # characters of one message printed (a 50 MB line would be 13,000 pages)
MAX_PT_PER_PX = 1.0  # never show a picture larger than 72 dpi: small pictures stay small


@dataclass(frozen=True)
class PdfPage:
    width: float  # as shown (rotation applied), points
    height: float


@dataclass
class Plan:
    """How one exhibit is shown; made before the first pass (see pack.plan_exhibits)."""

    exhibit: ExhibitInfo
    shape: str  # image | long | video | chat | pdf | audio | other
    source: Path | None = None  # image: the file renditions are made from
    px: tuple[int, int] = (0, 0)  # image: pixels as shown
    slices: tuple[tuple[int, int], ...] = ()  # long: rows of the display rendition
    frames: tuple[tuple[Path, str, int, int], ...] = ()  # video: (file, timecode, w, h)
    pdf_pages: tuple[PdfPage, ...] = ()
    problem: str | None = None  # why the content cannot be shown (the section says so)
    notes: list[str] = field(default_factory=list)  # other things a reader should know (shown as warnings)
    attachment: str | None = None  # name of the original attached to the PDF, if any


@dataclass
class PageMap:
    """Where things fell in a pass."""

    total: int = 0
    sections: dict[str, int] = field(default_factory=dict)  # section key -> first page
    exhibits: dict[int, list[int]] = field(default_factory=dict)  # number -> [first, last]
    placements: dict[str, tuple[float, float]] = field(default_factory=dict)  # picture key -> placed size, pt
    inserted: dict[int, tuple[int, int, tuple[float, float, float, float]]] = field(default_factory=dict)
    # page -> (exhibit, index of the document's page, placed box x, y, w, h)

    def same_pages(self, other: PageMap) -> bool:
        return (self.total, self.sections, self.exhibits) == (other.total, other.sections, other.exhibits)

    def pages_of(self, number: int) -> str:
        first, last = self.exhibits.get(number, (0, 0))
        return f"{first}" if first == last else f"{first}–{last}"

    def section_range(self, key: str, after: list[str]) -> tuple[int, int]:
        first = self.sections.get(key, 0)
        following = [self.sections[k] for k in after if k in self.sections and self.sections[k] > first]
        last = (min(following) - 1) if following else self.total
        return first, last


@dataclass
class Fonts:
    regular: str
    mono: str
    has_glyph: Callable[[int], bool]


class MonoText(str):
    """Markup of a monospaced run (a hash); ``raw`` and ``size`` let a table draw it as a plain cell."""

    raw: str = ""
    size: float = 8.0


class _State:
    def __init__(self, previous: PageMap | None, draw_images: bool, renditions: dict[str, Any]) -> None:
        self.previous = previous
        self.draw_images = draw_images
        self.renditions = renditions
        self.map = PageMap()
        self.exhibit: int | None = None
        self.cover_page: int | None = None
        self.outline_exhibits = False


def _flowable_base() -> Any:
    from reportlab.platypus import Flowable

    return Flowable


class Layout:
    """Builds the story for one pass and renders it."""

    def __init__(self, snap: Snapshot, plans: list[Plan], labels: Labels, fonts: Fonts, tz: tzinfo | None,
                 *, letter: bool, fingerprint: str | None, manifest_text: str, version: str) -> None:
        self.snap = snap
        self.plans = plans
        self.L = labels
        self.fonts = fonts
        self.tz = tz
        self.letter = letter
        self.fingerprint = fingerprint
        self.manifest_text = manifest_text
        self.version = version
        self.text = Text(fonts.has_glyph)
        self.letter_missing: list[str] = []
        self._styles = self._make_styles()
        self._insert_sizes = sorted({(p.width, p.height) for plan in plans for p in plan.pdf_pages})
        self._failed = {plan.exhibit.number for plan in plans if plan.exhibit.failed}

    # ------------------------------------------------------------------ styles and small helpers

    def _make_styles(self) -> dict[str, Any]:
        from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
        from reportlab.lib.styles import ParagraphStyle

        f = self.fonts.regular
        base = ParagraphStyle("body", fontName=f, fontSize=10, leading=15, textColor=INK, alignment=TA_LEFT)
        styles = {
            "body": base,
            "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12),
            "tiny": ParagraphStyle("tiny", parent=base, fontSize=7.5, leading=10, textColor=GREY),
            "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11.5),
            "cellhead": ParagraphStyle("cellhead", parent=base, fontSize=8.5, leading=11.5, textColor="#000000"),
            "label": ParagraphStyle("label", parent=base, fontSize=8.5, leading=11.5, textColor=GREY),
            "h1": ParagraphStyle("h1", parent=base, fontSize=16, leading=22, spaceAfter=8, textColor="#000000",
                                 keepWithNext=1),
            "h2": ParagraphStyle("h2", parent=base, fontSize=12.5, leading=18, spaceBefore=10, spaceAfter=5,
                                 textColor="#000000", keepWithNext=1),
            "title": ParagraphStyle("title", parent=base, fontSize=26, leading=34, alignment=TA_CENTER,
                                    textColor="#000000"),
            "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=15, leading=22, alignment=TA_CENTER),
            "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
            "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
            "mono": ParagraphStyle("mono", parent=base, fontName=self.fonts.mono, fontSize=8, leading=11),
            "caption": ParagraphStyle("caption", parent=base, fontSize=8.5, leading=12, textColor=GREY,
                                      alignment=TA_CENTER),
            "warn": ParagraphStyle("warn", parent=base, textColor=WARN),
        }
        return styles

    def style(self, name: str, *, cjk: bool) -> Any:
        key = f"{name}/cjk" if cjk else name
        found = self._styles.get(key)
        if found is None:
            from reportlab.lib.styles import ParagraphStyle

            found = self._styles[key] = ParagraphStyle(key, parent=self._styles[name], wordWrap="CJK")
        return found

    def P(self, markup: str, style: str = "body", *, raw: Any = None, cjk: bool | None = None) -> Any:
        """A Paragraph of ready markup. ``raw`` (the unescaped text) decides CJK line breaking."""
        from reportlab.platypus import Paragraph

        if cjk is None:
            cjk = self.L.lang == "zh" or has_cjk(raw if raw is not None else markup)
        return Paragraph(markup, self.style(style, cjk=cjk))

    def U(self, value: Any, style: str = "body") -> Any:
        """A Paragraph of user text, printed literally."""
        return self.P(self.text(value), style, raw=value, cjk=True if has_cjk(value) or self.L.lang == "zh" else None)

    def mono(self, text: str, size: float = 8) -> str:
        out = MonoText(f'<font name="{self.fonts.mono}" size="{size}">{self.text(text)}</font>')
        out.raw, out.size = self.text.plain(text), size
        return out

    def fast(self, markup: str, width: float, style: str = "cell") -> Any:
        """A table cell: the plain text when the markup has no tags and fits on one line (tables draw
        plain strings literally and far faster than Paragraphs), else a Paragraph."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        room = width - 2 * CELL_PAD - 1
        if isinstance(markup, MonoText):
            if stringWidth(markup.raw, self.fonts.mono, markup.size) <= room:
                return markup
            return self.P(str(markup), style, cjk=True)
        if "<" not in markup:
            plain = unescape(markup).replace("\u00a0", " ")
            if stringWidth(plain, self.fonts.regular, CELL_SIZE) <= room:
                return plain
        return self.P(markup, style, raw=markup, cjk=True if self.L.lang == "zh" or has_cjk(markup) else None)

    def gap(self, n: int = 1) -> str:
        """Space between a label and what follows: ideographic in a Chinese pack, plain in an English one."""
        return "　" * n if self.L.lang == "zh" else "  " * n

    def pages(self, first: int, last: int) -> str:
        """"第 5 页" / "第 5–7 页" ("page 5" / "pages 5–7"): a range only when it is one."""
        return self.L.f("page_one", page=first) if first == last else self.L.f("page_range", first=first, last=last)

    def t(self, value: str | None, *, seconds: bool = True) -> str:
        return show_time(value, self.tz, seconds=seconds)

    def tz_name(self) -> str:
        if self.snap.tz:
            when = parse_time(self.snap.generated_at)
            from .markup import utc_offset

            offset = utc_offset(when.astimezone(self.tz)) if when and self.tz else ""
            return f"{self.snap.tz}（{offset}）" if self.L.lang == "zh" else f"{self.snap.tz} ({offset})"
        return "UTC"

    def _missing(self, field_key: str) -> str:
        what = self.L[f"field_{field_key}"]
        if what not in self.letter_missing:
            self.letter_missing.append(what)
        return f'<font color="{WARN}">{self.text(self.L.f("missing", what=what))}</font>'

    # ------------------------------------------------------------------ flowables with side effects

    def _marker(self, state: _State, action: Callable[[Any], None]) -> Any:
        Flowable = _flowable_base()

        class Marker(Flowable):
            def wrap(self, aw: float, ah: float) -> tuple[float, float]:
                return (0, 0)

            def draw(self) -> None:
                action(self.canv)

        return Marker()

    def _section(self, state: _State, key: str, title: str) -> Any:
        def act(canv: Any) -> None:
            page = canv.getPageNumber()
            state.map.sections.setdefault(key, page)
            state.exhibit = None
            if key == "cover":
                state.cover_page = page
            canv.bookmarkPage(f"s-{key}")
            canv.addOutlineEntry(title, f"s-{key}", level=0)

        return self._marker(state, act)

    def _exhibit_mark(self, state: _State, e: ExhibitInfo) -> Any:
        title = f"{self.L.f('exhibit_n', n=e.number)}  {self.text.plain(e.name)}"

        def act(canv: Any) -> None:
            page = canv.getPageNumber()
            state.exhibit = e.number
            state.map.exhibits[e.number] = [page, page]
            if not state.outline_exhibits:
                state.outline_exhibits = True
                state.map.sections.setdefault("exhibits", page)
                canv.bookmarkPage("s-exhibits")
                canv.addOutlineEntry(self.L["exhibits"], "s-exhibits", level=0)
            canv.bookmarkPage(f"e-{e.number}")
            canv.addOutlineEntry(title, f"e-{e.number}", level=1)

        return self._marker(state, act)

    def _picture(self, state: _State, key: str, px: tuple[int, int], *, full_h: float,
                 min_fraction: float = 0.6, caption: str = "") -> Any:
        """A picture fitted to the space left on this page, or to a whole page when that would show it
        much larger (less than ``min_fraction`` of the whole-page size fits here). ``caption``
        (plain text) is drawn under it."""
        Flowable = _flowable_base()
        layout = self
        cap = 14.0 if caption else 0.0

        class Picture(Flowable):
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
                self.width = max(self.w, min(aw, layout._caption_width(caption)))
                return self.width, self.h + cap

            def draw(self) -> None:
                state.map.placements[key] = (self.w, self.h)
                x = (self.width - self.w) / 2
                layout._draw_picture(self.canv, state, key, x, cap, self.w, self.h)
                if caption:
                    self.canv.setFont(layout.fonts.regular, 8.5)
                    self.canv.setFillColor(GREY)
                    self.canv.drawCentredString(self.width / 2, 3, caption)

        return Picture()

    def _caption_width(self, caption: str) -> float:
        if not caption:
            return 0.0
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return stringWidth(caption, self.fonts.regular, 8.5) + 4

    def _draw_picture(self, canv: Any, state: _State, key: str, x: float, y: float, w: float, h: float) -> None:
        if not state.draw_images:
            return
        made = state.renditions.get(key)
        if made is not None and made.path is not None:
            canv.drawImage(str(made.path), x, y, w, h)
            return
        canv.saveState()
        canv.setStrokeColor(RULE)
        canv.setFillColor(SHADE)
        canv.rect(x, y, w, h, stroke=1, fill=1)
        canv.setFillColor(WARN)
        canv.setFont(self.fonts.regular, 8)
        reason = self.L.note(made.error) if made is not None and made.error else "?"
        message = self.text.plain(self.L.f("image_unreadable", reason=reason))
        canv.drawCentredString(x + w / 2, y + h / 2, message[:90])
        canv.restoreState()

    def _frame_grid(self, state: _State, plan: Plan, full_h: float) -> Any:
        """The key frames in a grid that starts on the exhibit's first page, below its metadata: the columns
        (3 to 5) are the ones that show the frames largest in the room there; only when that would show
        them at less than 60 % of their size on a page of their own does the grid go to the next page.
        (Portrait phone videos in 3 columns were too tall for the room and always left a page blank.)"""
        Flowable = _flowable_base()
        layout = self
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

        class Grid(Flowable):
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
                    layout._draw_picture(canv, state, key, x, y, pw, ph)
                    canv.setFont(layout.fonts.mono, 8)
                    canv.setFillColor(INK)
                    canv.drawCentredString(x0 + self.cell_w / 2, top - self.cell_h - cap + 3.5, code)

        return Grid()

    def _inserted(self, state: _State, plan: Plan, index: int, page: PdfPage) -> Any:
        number = plan.exhibit.number
        box = insert_box(page.width, page.height)

        def act(canv: Any) -> None:
            state.map.inserted[canv.getPageNumber()] = (number, index, box)

        return self._marker(state, act)

    # ------------------------------------------------------------------ page decoration

    def _page_end(self, state: _State) -> Callable[[Any, Any], None]:
        L = self.L
        short = L.f("fingerprint_short", short=self.fingerprint[:16]) if self.fingerprint else L["fingerprint_none_short"]

        def decorate(canv: Any, doc: Any) -> None:
            page = canv.getPageNumber()
            width, height = canv._pagesize
            if state.exhibit is not None and state.exhibit in state.map.exhibits:
                state.map.exhibits[state.exhibit][1] = page
            inserted = state.map.inserted.get(page)
            canv.saveState()
            if inserted is not None:
                _n, _i, (bx, by, bw, bh) = inserted
                # White bands around the placed page: nothing of the original spills into the margins.
                canv.setFillColor("#ffffff")
                canv.setStrokeColor("#ffffff")
                canv.rect(0, 0, width, by, stroke=0, fill=1)
                canv.rect(0, by + bh, width, height - by - bh, stroke=0, fill=1)
                canv.rect(0, by, bx, bh, stroke=0, fill=1)
                canv.rect(bx + bw, by, width - bx - bw, bh, stroke=0, fill=1)
                canv.setStrokeColor(RULE)
                canv.setLineWidth(0.6)
                canv.rect(bx, by, bw, bh, stroke=1, fill=0)
            total = state.previous.total if state.previous is not None else 0
            canv.setFont(self.fonts.regular, 8.5)
            canv.setFillColor(GREY)
            canv.drawCentredString(width / 2, 8 * MM, L.f("page_of", page=page, total=total or "—"))
            canv.setFont(self.fonts.regular, 7)
            canv.drawRightString(width - MARGIN_X * min(1.0, width / PAGE_W), 8 * MM, short)
            if page != state.cover_page:
                self._header(canv, state, width, height, inserted)
            canv.restoreState()

        return decorate

    def _header(self, canv: Any, state: _State, width: float, height: float, inserted: Any) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        side = MARGIN_X if width >= 400 else 10 * MM
        y = height - 11 * MM
        title = self.text.plain(self.snap.dispute.title)
        label = f"{title} · {self.L['pack']}"
        room = width * 0.55
        font = self.fonts.regular
        while stringWidth(label, font, 8) > room and len(title) > 4:
            title = title[:-2]
            label = f"{title}… · {self.L['pack']}"
        canv.setFont(font, 8)
        canv.setFillColor(GREY)
        canv.drawString(side, y, label)
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.5)
        canv.line(side, y - 3.5, width - side, y - 3.5)
        if state.exhibit is None:
            return
        if inserted is not None:
            _n, index, _box = inserted
            count = len(next(p for p in self.plans if p.exhibit.number == state.exhibit).pdf_pages)
            stamp = self.L.f("inserted_page", n=state.exhibit, k=index + 1, count=count)
            size = 10.5
        else:
            stamp = self.L.f("exhibit_n", n=state.exhibit)
            size = 13
        if state.exhibit in self._failed:
            stamp += " · " + self.L["failed_stamp"]
        w = stringWidth(stamp, font, size) + 12
        x = width - side - w
        canv.setFillColor("#ffffff")
        canv.setStrokeColor(STAMP)
        canv.setLineWidth(1.2)
        canv.rect(x, y - 1.5, w, size + 7, stroke=1, fill=1)
        canv.setFillColor(STAMP)
        canv.setFont(font, size)
        canv.drawString(x + 6, y + 2.2, stamp)

    # ------------------------------------------------------------------ sections

    def _table(self, rows: list[list[Any]], widths: list[float], *, header: bool = True, zebra: bool = False,
               extra: list[tuple] | None = None, split_in_row: bool = True) -> Any:
        from reportlab.platypus import Table, TableStyle

        style = [
            ("FONTNAME", (0, 0), (-1, -1), self.fonts.regular),  # else reportlab sets Helvetica per cell
            ("FONTSIZE", (0, 0), (-1, -1), CELL_SIZE),
            ("LEADING", (0, 0), (-1, -1), 11.5),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.4, RULE),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), "#e4e4e4"))
        if zebra:
            for r in range(2 if header else 1, len(rows), 2):
                style.append(("BACKGROUND", (0, r), (-1, r), "#fafafa"))
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if isinstance(cell, MonoText):
                    row[c] = cell.raw
                    style += [("FONTNAME", (c, r), (c, r), self.fonts.mono), ("FONTSIZE", (c, r), (c, r), cell.size)]
        style += extra or []
        return Table(rows, colWidths=widths, repeatRows=1 if header else 0, style=TableStyle(style),
                     splitInRow=1 if split_in_row else 0, hAlign="LEFT")

    def _kv(self, pairs: list[tuple[str, str]], label_w: float = 30 * MM) -> Any:
        """A label/value box; values are ready markup."""
        value_w = FRAME_W - label_w
        rows = [[self.fast(self.text(k), label_w, "label"), self.fast(v or self.text(self.L["not_given"]), value_w)]
                for k, v in pairs]
        return self._table(rows, [label_w, value_w], header=False,
                           extra=[("BACKGROUND", (0, 0), (0, -1), SHADE), ("TEXTCOLOR", (0, 0), (0, -1), GREY)])

    def _head(self, text: str) -> Any:
        return self.P(self.text(text), "h1")

    def _cover(self, state: _State, prev: PageMap | None) -> list[Any]:
        from reportlab.platypus import Spacer

        d, L, c = self.snap.dispute, self.L, self.snap.claimant
        total = prev.total if prev else 0
        out: list[Any] = [self._section(state, "cover", L["cover"]), Spacer(1, 22 * MM),
                          self.P(self.text(L["cover_title"]), "title"), Spacer(1, 5 * MM),
                          self.P(self.text(d.title), "subtitle", raw=d.title, cjk=True), Spacer(1, 10 * MM)]
        who = c.name or ""
        if c.phone:
            who = f"{who}（{c.phone}）" if L.lang == "zh" else f"{who} ({c.phone})"
        pairs = [
            (L["claimant"], self.text(who)),
            (L["merchant"], self.text(d.merchant)),
            (L["platform"], self.text(L.platform(d.platform))),
            (L["order_id"], self.text(d.order_id)),
            (L["item"], self.text(d.item)),
            (L["amount"], self.text(amount(d.amount, d.currency))),
            (L["purchased_on"], self.text(d.purchased_on)),
            (L["status"], self.text(L.status(d.status))),
            (L["exhibit_count"], self.text(L.f("exhibit_count_value", n=len(self.plans), pages=total or "—"))),
            (L["generated_at"], self.text(show_time(self.snap.generated_at, self.tz, offset=True))),
        ]
        out.append(self._kv(pairs))
        if self._failed:
            line = L.f("failed_cover", count=len(self._failed), numbers=number_ranges(self._failed, L.lang))
            out += [Spacer(1, 3 * MM), self.P(self.text(line), "warn")]
        out.append(Spacer(1, 5 * MM))
        if self.fingerprint:
            out.append(self._kv([(L["fingerprint"], self.mono(self.fingerprint, 8.5) + "<br/>"
                                  + f'<font size="7.5" color="{GREY}">{self.text(L["fingerprint_cover_note"])}</font>')]))
        else:
            out.append(self._kv([(L["fingerprint"], self.text(L["fingerprint_none"]))]))
        out.append(Spacer(1, 6 * MM))
        out.append(self.P(self.text(L["contents"]), "h2"))
        out.append(self._contents(prev))
        out.append(Spacer(1, 4 * MM))
        out.append(self.P(self.text(L.f("times_in", tz=self.tz_name())), "tiny"))
        return out

    def _section_keys(self) -> list[str]:
        keys = ["cover"] + (["letter"] if self.letter else []) + ["facts", "index", "timeline"]
        if self.plans:
            keys.append("exhibits")
        return keys + ["appendix"]

    def _contents(self, prev: PageMap | None) -> Any:
        keys = self._section_keys()
        rows = []
        for i, key in enumerate(keys):
            if prev is None:
                pages = "888–888"
            else:
                first, last = prev.section_range(key, keys[i + 1:])
                pages = f"{first}" if first == last else f"{first}–{last}"
            rows.append([self.fast(self.text(self.L[key]), FRAME_W - 30 * MM), self.fast(self.text(pages), 30 * MM)])
            if key == "exhibits" and len(self.plans) > CONTENTS_EXHIBITS:  # the index lists them one by one
                numbers = number_ranges((p.exhibit.number for p in self.plans), self.L.lang)
                line = self.text(self.L.f("contents_numbers", numbers=numbers))
                rows.append([self.P(f'<font color="{GREY}">{line}</font>', "cell", raw=line, cjk=True), ""])
            elif key == "exhibits":
                for plan in self.plans:
                    e = plan.exhibit
                    name = self.text(f"{self.L.f('exhibit_n', n=e.number)}{self.gap()}{e.name}")
                    rows.append([self.P(f'<font color="{GREY}">{name}</font>', "cell", raw=e.name, cjk=True),
                                 self.fast(self.text(prev.pages_of(e.number) if prev else "888–888"), 30 * MM)])
        from reportlab.platypus import Table, TableStyle

        return Table(rows, colWidths=[FRAME_W - 30 * MM, 30 * MM], hAlign="LEFT", splitInRow=1,
                     style=TableStyle([("FONTNAME", (0, 0), (-1, -1), self.fonts.regular),
                                       ("LINEBELOW", (0, 0), (-1, -1), 0.3, "#dddddd"),
                                       ("LEFTPADDING", (0, 0), (-1, -1), 2), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                                       ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))

    def _letter(self, state: _State, prev: PageMap | None) -> list[Any]:
        from reportlab.platypus import KeepTogether, Spacer

        d, c, L = self.snap.dispute, self.snap.claimant, self.L
        self.letter_missing = []

        def val(value: str | None, key: str) -> str:
            return self.text(value) if value else self._missing(key)

        out: list[Any] = [self._section(state, "letter", L["letter"]), self.P(self.text(L["letter_title"]), "title"),
                          Spacer(1, 4 * MM), self.P(self.text(L["letter_to"]), "body"), Spacer(1, 3 * MM)]
        out.append(self.P(self.text(L["complainant"]), "h2"))
        out.append(self._kv([(L["l_name"], val(c.name, "name")), (L["phone"], val(c.phone, "phone")),
                             (L["address"], val(c.address, "address"))]
                            + ([(L["email"], self.text(c.email))] if c.email else [])))
        out.append(self.P(self.text(L["respondent"]), "h2"))
        out.append(self._kv([(L["l_shop"], val(d.merchant, "merchant")),
                             (L["merchant_address"], val(d.merchant_address, "merchant_address"))]))
        out.append(self.P(self.text(L["l_order"]), "h2"))
        out.append(self._kv([(L["platform"], self.text(L.platform(d.platform))),
                             (L["l_quantity_price"], val(d.item, "item")),
                             (L["l_price"], val(amount(d.amount, d.currency), "amount")),
                             (L["order_id"], val(d.order_id, "order_id")),
                             (L["purchased_on"], val(d.purchased_on, "purchased_on"))]))
        out.append(self.P(self.text(L["demand"]), "h2"))
        out.append(self.P(val(d.claim, "claim"), "body", raw=d.claim, cjk=True))
        out.append(self.P(self.text(L["summary"]), "h2"))
        if d.summary:
            out += [self.U(part) for part in d.summary.split("\n") if part.strip()]
        else:
            out.append(self.P(self._missing("summary"), "body"))
        out.append(self.P(self.text(L["negotiation"]), "h2"))
        if self.snap.events:
            for i, ev in enumerate(sorted(self.snap.events, key=_instant), 1):
                linked = L.f("tl_linked", numbers=number_ranges(ev.exhibits, L.lang)) if ev.exhibits else ""
                line = f"{i}. {self.t(ev.at, seconds=False)}{self.gap()}{ev.description}{linked}"
                out.append(self.P(self.text(line), "body", raw=line, cjk=True))
        else:
            out.append(self.P(self.text(L["no_negotiation"]), "body"))
        listing: list[Any] = [self.P(self.text(L["evidence_list"]), "h2")]
        for plan in self.plans:
            e = plan.exhibit
            first, last = prev.exhibits.get(e.number, (0, 0)) if prev else (888, 889)
            line = L.f("letter_evidence_line", n=e.number, name=e.name, pages=self.pages(first, last))
            listing.append(self.P(self.text(line), "body", raw=line, cjk=True))
        if not self.plans:
            listing.append(self.P(self.text(L["no_exhibits"]), "body"))
        closing = [Spacer(1, 6 * MM), self.P(self.text(L["closing"]), "body"),
                   self.P(self.text(L["closing_to"]), "body"), Spacer(1, 10 * MM),
                   self.P(self.text(f"{L['letter_sign']}{L['sign_blank']}{self.gap(2)}"
                                    + L.f("letter_date", date=L["letter_date_blank"])), "right")]
        # The signature never stands alone on a page: it keeps the evidence list (or its end) with it.
        if len(listing) <= 16:
            out.append(KeepTogether(listing + closing))
        else:
            out += listing[:-3] + [KeepTogether(listing[-3:] + closing)]
        return out

    def _facts(self, state: _State) -> list[Any]:
        d, L = self.snap.dispute, self.L
        out: list[Any] = [self._section(state, "facts", L["facts"]), self._head(L["facts"]),
                          self.P(self.text(L["order"]), "h2")]
        out.append(self._kv([
            (L["platform"], self.text(L.platform(d.platform))), (L["merchant"], self.text(d.merchant)),
            (L["merchant_address"], self.text(d.merchant_address)), (L["order_id"], self.text(d.order_id)),
            (L["item"], self.text(d.item)), (L["amount"], self.text(amount(d.amount, d.currency))),
            (L["purchased_on"], self.text(d.purchased_on)), (L["status"], self.text(L.status(d.status))),
        ]))
        out.append(self.P(self.text(L["summary"]), "h2"))
        if d.summary:
            out += [self.U(part) for part in d.summary.split("\n") if part.strip()]
        else:
            out.append(self.P(self.text(L["no_summary"]), "body"))
        out.append(self.P(self.text(L["claim"]), "h2"))
        out.append(self.U(d.claim) if d.claim else self.P(self.text(L["no_claim"]), "body"))
        return out

    def _index(self, state: _State, prev: PageMap | None) -> list[Any]:
        from reportlab.platypus import Spacer

        L = self.L
        out: list[Any] = [self._section(state, "index", L["index"]), self._head(L["index"])]
        widths = [9 * MM, 43 * MM, 30 * MM, 39 * MM, 35 * MM, FRAME_W - 156 * MM]
        rows = [[self.P(self.text(L[k]), "cellhead") for k in
                 ("col_no", "col_name", "col_source", "col_purpose", "col_when_hash", "col_pages")]]
        for plan in self.plans:
            e = plan.exhibit
            name = self.text(e.name) + (self.text(L["withdrawn_mark"]) if e.withdrawn else "")
            name += f'<br/><font size="7.5" color="{GREY}">{self.text(L.kind(e.kind))} · {self.text(e.mime)}</font>'
            if e.failed:
                name += f'<br/><font color="{WARN}">{self.text(L["failed_stamp"])}</font>'
            when = self.text(self.t(e.captured_at, seconds=False)) if e.captured_at else self.text(L["unknown_time"])
            source = self._time_source(e) if e.captured_at else ""
            when_cell = (f"{when}" + (f'<br/><font size="7.5" color="{GREY}">{self.text(source)}</font>' if source else "")
                         + f"<br/>{self.mono(e.sha256[:16], 7.5)}")
            pages = prev.pages_of(e.number) if prev else "888–888"
            rows.append([str(e.number), self.P(name, "cell", raw=e.name, cjk=True),
                         self.fast(self.text(e.source or ""), widths[2]), self.fast(self.text(e.purpose or ""), widths[3]),
                         self.P(when_cell, "cell", raw=e.captured_at), self.text.plain(pages)])
        if self.plans:
            out.append(self._table(rows, widths, zebra=True))
        else:
            out.append(self.P(self.text(L["no_exhibits"]), "body"))
        out.append(Spacer(1, 3 * MM))
        closing_from = len(out)
        if prev is not None:
            a, b = prev.section_range("appendix", [])
            if self.plans:
                first = min(v[0] for v in prev.exhibits.values()) if prev.exhibits else 0
                last = max(v[1] for v in prev.exhibits.values()) if prev.exhibits else 0
                line = L.f("index_total", total=prev.total, exhibits=self.pages(first, last),
                           appendix=self.pages(a, b))
            else:
                line = L.f("index_total_none", total=prev.total, appendix=self.pages(a, b))
        else:
            line = L.f("index_total", total=888, exhibits=self.pages(888, 889), appendix=self.pages(888, 889))
        out.append(self.P(self.text(line), "small"))
        if self.snap.left_out:
            out.append(Spacer(1, 2 * MM))
            out.append(self.P(self.text(L["left_out"]), "small"))
            for left in self.snap.left_out:
                line = (L.f("left_out_withdrawn", n=left.number, name=left.name, reason=left.reason or "—")
                        if left.withdrawn else L.f("left_out_excluded", n=left.number, name=left.name))
                out.append(self.P("· " + self.text(line), "small", raw=line, cjk=True))
        signature = self.P(self.text(L["signature"] + L["sign_blank"] + self.gap(3) + L["date_line"]), "body")
        # The signature line never stands alone on a page: it keeps the lines above it (the page count, the
        # exhibits left out) with it, and they move to the next page together.
        from reportlab.platypus import KeepTogether

        tail = out[closing_from:] + [Spacer(1, 12 * MM), signature]
        return out[:closing_from] + [KeepTogether(tail)]

    def _timeline(self, state: _State) -> list[Any]:
        L = self.L
        out: list[Any] = [self._section(state, "timeline", L["timeline"]), self._head(L["timeline"]),
                          self.P(self.text(L.f("times_in", tz=self.tz_name())), "tiny")]
        items: list[tuple[Any, int, str, str, str]] = []
        for ev in self.snap.events:
            linked = ""
            if ev.exhibits:
                linked = L.f("tl_linked", numbers=number_ranges(ev.exhibits, L.lang))
            items.append((_instant(ev), 0, ev.at, f"{L['tl_event']} · {L.event_type(ev.type)}", ev.description + linked))
        for plan in self.plans:
            e = plan.exhibit
            if e.captured_at:
                text = L.f("tl_capture_text", n=e.number, name=e.name, source=self._time_source(e))
                items.append((_instant_of(e.captured_at), 1, e.captured_at, L["tl_capture"], text))
        for change in self.snap.status_changes:
            text = L.f("tl_status_text", before=L.status(change.before) or "—", after=L.status(change.after))
            if change.note:
                text += f"（{change.note}）" if L.lang == "zh" else f" ({change.note})"
            items.append((_instant_of(change.at), 2, change.at, L["tl_status"], text))
        items.sort(key=lambda i: (i[0], i[1]))
        if not items:
            out.append(self.P(self.text(L["timeline_empty"]), "body"))
            return out
        rows = [[self.P(self.text(L[k]), "cellhead") for k in ("col_time", "col_what", "col_detail")]]
        for _when, _order, at, what, text in items:
            rows.append([self.fast(self.text(self.t(at)), 34 * MM), self.fast(self.text(what), 30 * MM),
                         self.fast(self.text(text), FRAME_W - 64 * MM)])
        out.append(self._table(rows, [34 * MM, 30 * MM, FRAME_W - 64 * MM], zebra=True))
        return out

    # ------------------------------------------------------------------ exhibits

    def _time_source(self, e: ExhibitInfo) -> str:
        """Where an exhibit's capture time came from, and "zone assumed" where the file named no zone."""
        source = self.L.time_source(e.captured_at_source)
        if zone_assumed(e.captured_at_source, e.metadata) is None:
            return source
        return source + ("，" if self.L.lang == "zh" else ", ") + self.L["zone_assumed"]

    def _meta_box(self, plan: Plan) -> Any:
        e, L = plan.exhibit, self.L
        md = e.metadata or {}
        pairs: list[tuple[str, str]] = [(L["meta_title"], self.text(e.name)), (L["meta_file"], self.text(e.original_name)),
                                        (L["meta_type"], self.text(f"{L.kind(e.kind)} · {e.mime}")),
                                        (L["meta_size"], self.text(L.f("meta_size_value", n=f"{e.size:,}",
                                                                         human=human_size(e.size)))),
                                        (L["meta_sha"], self.mono(e.sha256, 8))]
        if e.check == "damaged" and e.found_sha256:
            pairs.append((L["meta_found_sha"], f'<font color="{WARN}">{self.mono(e.found_sha256, 8)}</font>'))
        if e.captured_at:
            captured = f"{show_time(e.captured_at, None, offset=True)}（{L.f('time_source', source=self._time_source(e))}）" \
                if L.lang == "zh" else \
                f"{show_time(e.captured_at, None, offset=True)} ({L.f('time_source', source=self._time_source(e))})"
            pairs.append((L["meta_captured"], self.text(captured)))
        else:
            pairs.append((L["meta_captured"], self.text(L["unknown_time"])))
        if e.ingested_at:
            pairs.append((L["meta_ingested"], self.text(show_time(e.ingested_at, self.tz, offset=True))))
        if e.source:
            pairs.append((L["meta_source"], self.text(e.source)))
        if e.purpose:
            pairs.append((L["meta_purpose"], self.text(e.purpose)))
        if e.note:
            pairs.append((L["meta_note"], self.text(e.note)))
        exif = md.get("exif") if isinstance(md.get("exif"), dict) else {}
        device = " ".join(str(exif[k]) for k in ("Make", "Model") if exif.get(k))
        if exif.get("Software"):
            device += f" · {exif['Software']}"
        if device:
            pairs.append((L["meta_device"], self.text(device)))
        gps = md.get("gps") if isinstance(md.get("gps"), dict) else None
        if gps and gps.get("latitude") is not None and gps.get("longitude") is not None:
            pairs.append((L["meta_location"], self.text(f"{gps['latitude']}, {gps['longitude']}")))
        if md.get("width") and md.get("height") and plan.shape in ("image", "long", "video", "other"):
            (w, h), stored, orientation = self._pixels(plan)
            if stored != (w, h) and orientation:
                size = L.f("pixels_turned", w=w, h=h, o=orientation, sw=stored[0], sh=stored[1])
            else:
                size = f"{w}×{h}"
            pairs.append((L["meta_pixels"], self.text(size)))
        if e.withdrawn:
            pairs.append((L["meta_withdrawn"], f'<font color="{WARN}">{self.text(e.withdrawn_reason or "—")}</font>'))
        warnings = list(e.warnings) + list(plan.notes) + ([plan.problem] if plan.problem else [])
        if warnings:
            pairs.append((L["meta_warnings"], f'<font color="{WARN}">' + "<br/>".join(self.text(L.note(w)) for w in warnings)
                          + "</font>"))
        original = self.text(L.f("original_missing" if e.check == "missing" else "original_in_locker",
                                 ref=e.object_ref))
        if plan.attachment:
            original += self.text(L.f("original_attached", name=plan.attachment))
        pairs.append((L["meta_original"], original))
        return self._kv(pairs, label_w=26 * MM)

    def _pixels(self, plan: Plan) -> tuple[tuple[int, int], tuple[int, int], int | None]:
        """(size as shown, size as stored, EXIF orientation) of a picture or video, from its metadata: the
        caption and the metadata box print the same size. A video's display size is after its rotation."""
        md = plan.exhibit.metadata or {}
        try:
            stored = (int(md["width"]), int(md["height"]))
        except (KeyError, TypeError, ValueError):
            return plan.px, plan.px, None
        if md.get("display_width") and md.get("display_height"):
            try:
                return (int(md["display_width"]), int(md["display_height"])), stored, None
            except (TypeError, ValueError):
                pass
        exif = md.get("exif") if isinstance(md.get("exif"), dict) else {}
        orientation = exif.get("Orientation")
        orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None
        shown = (stored[1], stored[0]) if orientation in (5, 6, 7, 8) else stored
        px = plan.px
        if plan.shape == "image" and px[0] and px[1] and (px[0] > px[1]) != (shown[0] > shown[1]) \
                and shown[0] != shown[1]:
            shown = (shown[1], shown[0])  # the decoder found it turned otherwise than the header said
        return shown, stored, orientation if shown != stored else None

    def _exhibit(self, state: _State, plan: Plan, first: bool) -> list[Any]:
        from reportlab.platypus import NextPageTemplate, PageBreak, Spacer

        e, L = plan.exhibit, self.L
        out: list[Any] = [] if first else [NextPageTemplate("main"), PageBreak()]
        heading = f"{L.f('exhibit_n', n=e.number)}{self.gap()}{self.text(e.name)}"
        out += [self._exhibit_mark(state, e), self.P(heading, "h1", raw=e.name, cjk=True)]
        if e.failed:
            key = "failed_damaged_chat" if plan.shape == "chat" else "failed_damaged"
            failed = (L.f(key, found=e.found_sha256, sha=e.sha256) if e.check == "damaged"
                      else L.f("failed_missing", sha=e.sha256))
            out += [self._failed_box(failed), Spacer(1, 3 * MM)]
        out += [self._meta_box(plan), Spacer(1, 4 * MM)]
        full_h = FRAME_H - 2
        shape = plan.shape
        if plan.problem and shape in ("image", "long", "video", "pdf"):
            key = {"image": "image_unreadable", "long": "image_unreadable", "video": "video_unreadable",
                   "pdf": "pdf_unreadable"}[shape]
            out.append(self.P(self.text(L.f(key, reason=L.note(plan.problem))), "warn"))
            shape = "other"
        if shape == "image":
            (w, h), _stored, _o = self._pixels(plan)
            out.append(self._picture(state, f"{e.number}:img", plan.px, full_h=full_h,
                                     caption=self.text.plain(L.f("image_caption", w=w, h=h))))
        elif shape == "long":
            n = len(plan.slices)
            w = plan.px[0]
            out.append(self.P(self.text(L.f("slices_note", w=w, h=plan.px[1], n=n)), "body"))
            for k, (top, bottom) in enumerate(plan.slices, 1):
                label = L.f("slice_label", n=e.number, k=k, count=n)
                out += [PageBreak(), self.P(self.text(label), "caption"), Spacer(1, 2 * MM),
                        self._picture(state, f"{e.number}:slice{k}", (w, bottom - top), full_h=full_h - 24,
                                      min_fraction=0)]
        elif shape == "video":
            md = e.metadata or {}
            codecs = " / ".join(str(md[k]) for k in ("video_codec", "audio_codec") if md.get(k)) or "—"
            res = (f"{md.get('display_width') or md.get('width')}×{md.get('display_height') or md.get('height')}"
                   if md.get("width") else "—")
            fps = f" · {md['frame_rate']:g} fps" if isinstance(md.get("frame_rate"), (int, float)) else ""
            line = L.f("video_line", duration=duration(md.get("duration")) or "—", res=res, codecs=codecs, fps=fps)
            out += [self.P(self.text(L["video_facts"]) + "：" + self.text(line) if L.lang == "zh"
                           else self.text(L["video_facts"]) + ": " + self.text(line), "body"),
                    self.P(self.text(L["video_frames_note"]), "small"), Spacer(1, 2 * MM),
                    self._frame_grid(state, plan, full_h)]
        elif shape == "chat":
            out += self._chat(plan)
        elif shape == "pdf":
            count = len(plan.pdf_pages)
            out.append(self.P(self.text(L.f("pdf_pages_note", count=count)), "body"))
            for i, page in enumerate(plan.pdf_pages):
                out += [NextPageTemplate(_template_id(page.width, page.height)), PageBreak(),
                        self._inserted(state, plan, i, page)]
            out.append(NextPageTemplate("main"))
        else:
            if shape == "audio":
                md = e.metadata or {}
                line = L.f("audio_line", duration=duration(md.get("duration")) or "—",
                           codec=md.get("audio_codec") or e.mime)
                out.append(self.P(self.text(L["audio_facts"]) + ("：" if L.lang == "zh" else ": ") + self.text(line),
                                  "body"))
            note = (L["failed_obtain"] if e.failed else L.f("obtain_attached", name=plan.attachment)
                    if plan.attachment else L.f("obtain_original", ref=e.object_ref))
            out.append(self.P(self.text(note), "body"))
        return out

    def _failed_box(self, text: str) -> Any:
        """The red box an exhibit that failed the export's check opens with."""
        from reportlab.platypus import Table, TableStyle

        para = self.P(f'<font color="{WARN}">{self.text(text)}</font>', "body")
        return Table([[para]], colWidths=[FRAME_W], hAlign="LEFT",
                     style=TableStyle([("BOX", (0, 0), (-1, -1), 1.2, STAMP), ("LEFTPADDING", (0, 0), (-1, -1), 6),
                                       ("RIGHTPADDING", (0, 0), (-1, -1), 6), ("TOPPADDING", (0, 0), (-1, -1), 4),
                                       ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))

    def _chat(self, plan: Plan) -> list[Any]:
        from reportlab.platypus import Spacer

        e, L = plan.exhibit, self.L
        md = e.metadata or {}
        messages = e.messages
        people = "、".join(map(str, md.get("participants") or [])) if L.lang == "zh" else \
            ", ".join(map(str, md.get("participants") or []))
        first = next((m.at for m in messages if m.at), None)
        last = next((m.at for m in reversed(messages) if m.at), None)
        facts = L.f("chat_facts", count=len(messages), first=show_time(first) or "—", last=show_time(last) or "—",
                    people=people or "—")
        when = parse_time(first)
        tz_text = md.get("tz") or ""
        if when is not None:
            from .markup import utc_offset

            tz_text = f"{tz_text} {utc_offset(when)}".strip()
        if tz_text and md.get("captured_at_offset_assumed") is True:
            tz_text += ("，" if L.lang == "zh" else ", ") + L["zone_assumed"]
        out: list[Any] = [self.U(facts, "body")]
        if tz_text:
            out.append(self.P(self.text(L.f("chat_tz", tz=tz_text)), "small"))
        order = md.get("date_order")
        if md.get("date_order_source") == "assumed" and order in ("dmy", "mdy"):
            out.append(self.P(self.text(L.f("chat_order_assumed", order=L[f"order_{order}"])), "small"))
        out += [self.P(self.text(L["chat_me_note"]), "small"), Spacer(1, 2 * MM)]
        if not messages:
            out.append(self.P(self.text(L["chat_none"]), "body"))
            return out
        rows: list[tuple[Message, str, bool]] = []
        for m in messages:
            text = m.text or ""
            shown = text[:CHAT_MESSAGE_MAX]
            pieces = [shown[i:i + CHAT_PIECE] for i in range(0, len(shown), CHAT_PIECE)] or [""]
            if len(text) > len(shown):
                pieces.append(L.f("chat_cut", more=f"{len(text) - len(shown):,}"))
            for k, piece in enumerate(pieces):
                rows.append((m, piece, k > 0))
        widths = [31 * MM, 30 * MM, FRAME_W - 61 * MM]
        head = [self.P(self.text(L[k]), "cellhead") for k in ("col_time", "col_sender", "col_message")]
        for start in range(0, len(rows), CHAT_CHUNK):
            chunk = rows[start:start + CHAT_CHUNK]
            data = [head]
            extra = []
            for r, (m, piece, continued) in enumerate(chunk, 1):
                if m.kind == "service":
                    who = L["chat_service"]
                elif m.kind == "unparsed":
                    who = L["chat_unparsed"]
                else:
                    who = (m.sender or "—") + (L["chat_me"] if m.me else "")
                if continued:
                    who = L["chat_continued"]
                at = "" if continued else show_time(m.at) if m.at else "—"
                data.append([self.fast(self.text(at), widths[0]), self.fast(self.text(who), widths[1]),
                             self.fast(self.text(piece), widths[2])])
                if m.me:
                    extra.append(("BACKGROUND", (0, r), (-1, r), ME_SHADE))
                elif m.kind in ("service", "unparsed"):
                    extra.append(("TEXTCOLOR", (0, r), (-1, r), GREY))
            out.append(self._table(data, widths, extra=extra))
        return out

    def _appendix(self, state: _State) -> list[Any]:
        from reportlab.platypus import NextPageTemplate, PageBreak, Spacer

        L = self.L
        out: list[Any] = [NextPageTemplate("main"), PageBreak(), self._section(state, "appendix", L["appendix"]),
                          self._head(L["appendix"]), self.P(self.text(f"A. {L['manifest']}"), "h2")]
        if self.plans:
            name_w = FRAME_W - 10 * MM - 22 * MM - 99 * MM
            rows = [[self.P(self.text(L[k]), "cellhead") for k in ("col_no", "col_file", "col_size", "meta_sha")]]
            for plan in self.plans:
                e = plan.exhibit
                file_name = self.text(e.original_name)
                if e.failed:
                    file_name += f'<br/><font color="{WARN}">{self.text(L["failed_stamp"])}</font>'
                rows.append([str(e.number), self.fast(file_name, name_w), f"{e.size:,}",
                             self.fast(self.mono(e.sha256, 7), 99 * MM)])
            out.append(self._table(rows, [10 * MM, name_w, 22 * MM, 99 * MM], zebra=True))
        else:
            out.append(self.P(self.text(L["no_exhibits"]), "body"))
        out.append(self.P(self.text(f"B. {L['fingerprint']}"), "h2"))
        if self.fingerprint:
            out += [self.P(self.mono(self.fingerprint, 9), "body"), Spacer(1, 2 * MM),
                    self.P(self.text(L["fingerprint_how"]), "small")]
            lines = self.manifest_text.splitlines()
            out.append(self.P("<br/>".join(self.mono(line, 7.5) for line in lines), "mono"))
            out += [Spacer(1, 2 * MM), self.P(self.text(L["fingerprint_check"]), "small"),
                    self.P(self.mono(self.fingerprint, 8), "mono")]
        else:
            out += [self.P(self.text(L["fingerprint_none"]), "body"),
                    self.P(self.text(L["fingerprint_none_how"]), "small")]
        out.append(self.P(self.text(f"C. {L['custody']}"), "h2"))
        out.append(self.P(self.text(L["custody_intro"]), "small"))
        out.append(Spacer(1, 2 * MM))
        rows = [[self.P(self.text(L[k]), "cellhead") for k in ("col_seq", "col_time", "col_action", "col_detail",
                                                               "col_entry_hash")]]
        for row in self.snap.custody:
            rows.append([str(row.seq), self.fast(self.text(self.t(row.at)), 30 * MM),
                         self.fast(self.text(L.action(row.action)), 22 * MM),
                         self.fast(self.text(_custody_detail(row.action, row.payload, L)), FRAME_W - 94 * MM),
                         self.fast(self.mono(row.hash[:16], 7), 32 * MM)])
        out.append(self._table(rows, [10 * MM, 30 * MM, 22 * MM, FRAME_W - 62 * MM - 32 * MM, 32 * MM], zebra=True))
        if self.snap.custody:
            out += [Spacer(1, 2 * MM), self.P(self.text(L["custody_last"]), "small"),
                    self.P(self.mono(self.snap.custody[-1].hash, 8), "mono")]
        example = self.plans[0].exhibit.original_name if self.plans else "file.jpg"
        out += [self.P(self.text(f"D. {L['howto']}"), "h2"), self.P(self.text(L["howto_intro"]), "body"),
                Spacer(1, 1.5 * MM)]
        for key, command in (("howto_linux", f"sha256sum {_quote(example)}"),
                             ("howto_mac", f"shasum -a 256 {_quote(example)}"),
                             ("howto_windows", f"certutil -hashfile {_quote(example, windows=True)} SHA256")):
            out.append(self.P(self.text(L[key]) + " " + self.mono(command, 8.5), "body", raw=command, cjk=True))
        out += [Spacer(1, 1.5 * MM), self.P(self.text(L["howto_attachments"]), "small"),
                self.P(self.text(f"E. {L['claim_scope']}"), "h2"), self.P(self.text(L["honest_claim"]), "body"),
                Spacer(1, 4 * MM), self.P(self.text(L.f("generated_by", version=self.version)), "tiny")]
        return out

    # ------------------------------------------------------------------ one pass

    def story(self, state: _State, prev: PageMap | None) -> list[Any]:
        from reportlab.platypus import NextPageTemplate, PageBreak

        story: list[Any] = self._cover(state, prev)
        if self.letter:
            story += [NextPageTemplate("main"), PageBreak()] + self._letter(state, prev)
        story += [NextPageTemplate("main"), PageBreak()] + self._facts(state)
        story += [NextPageTemplate("main"), PageBreak()] + self._index(state, prev)
        story += [NextPageTemplate("main"), PageBreak()] + self._timeline(state)
        for plan in self.plans:
            story += self._exhibit(state, plan, first=False)
        story += self._appendix(state)
        return story

    def render(self, out: str | BinaryIO, prev: PageMap | None, *, draw_images: bool,
               renditions: dict[str, Any] | None = None, metadata: dict[str, str] | None = None) -> PageMap:
        from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

        state = _State(prev, draw_images, renditions or {})
        decorate = self._page_end(state)

        def frame(width: float, height: float) -> Any:
            side = MARGIN_X if width >= 400 else 10 * MM
            return Frame(side, MARGIN_BOTTOM, width - 2 * side, height - MARGIN_TOP - MARGIN_BOTTOM,
                         leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")

        templates = [PageTemplate("main", [frame(PAGE_W, PAGE_H)], onPageEnd=decorate, pagesize=(PAGE_W, PAGE_H))]
        for width, height in self._insert_sizes:
            templates.append(PageTemplate(_template_id(width, height), [frame(width, height)], onPageEnd=decorate,
                                          pagesize=(width, height)))
        md = metadata or {}
        doc = BaseDocTemplate(out, pagesize=(PAGE_W, PAGE_H), pageTemplates=templates,
                              leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
                              bottomMargin=MARGIN_BOTTOM, initialFontName=self.fonts.regular,
                              title=md.get("title"), author=md.get("author"), subject=md.get("subject"),
                              creator=md.get("creator"), keywords=md.get("keywords", ""),
                              lang="zh-CN" if self.L.lang == "zh" else "en", displayDocTitle=1)
        doc.build(self.story(state, prev))
        state.map.total = state.map.total or doc.page
        return state.map


def insert_box(width: float, height: float) -> tuple[float, float, float, float]:
    """Where a document page of ``width``×``height`` is placed on its placeholder page (same size)."""
    side = INSERT_SIDE if width >= 200 else 2 * MM
    top = INSERT_TOP if height >= 300 else 4 * MM
    bottom = INSERT_BOTTOM if height >= 300 else 4 * MM
    scale = min((width - 2 * side) / width, (height - top - bottom) / height)
    w, h = width * scale, height * scale
    x = (width - w) / 2
    y = bottom + ((height - top - bottom) - h) / 2
    return (x, y, w, h)


def _template_id(width: float, height: float) -> str:
    return f"ins-{width:.2f}x{height:.2f}"


def _instant(ev: Any) -> Any:
    return _instant_of(ev.at)


def _instant_of(value: str | None) -> Any:
    from datetime import UTC, datetime

    when = parse_time(value)
    return when.astimezone(UTC) if when else datetime.max.replace(tzinfo=UTC)


def _quote(name: str, *, windows: bool = False) -> str:
    if windows:
        return f'"{name}"' if (" " in name or not name.isascii()) else name
    safe = all(c.isalnum() or c in "._-+/" for c in name)
    return name if safe and name.isascii() else "'" + name.replace("'", "'\\''") + "'"


def _custody_detail(action: str, payload: Any, L: Labels) -> str:
    p = payload if isinstance(payload, dict) else {}
    zh = L.lang == "zh"
    if action == "exhibit.added":
        return (f"{L.f('exhibit_n', n=p.get('exhibit'))}：{p.get('original_name')} · {str(p.get('sha256', ''))[:16]}"
                if zh else f"{L.f('exhibit_n', n=p.get('exhibit'))}: {p.get('original_name')} · "
                f"{str(p.get('sha256', ''))[:16]}")
    if action == "exhibit.withdrawn":
        return f"{L.f('exhibit_n', n=p.get('exhibit'))}{'：' if zh else ': '}{p.get('reason')}"
    if action == "exhibit.reread":
        count = (p.get("messages") or {}).get("count")
        return f"{L.f('exhibit_n', n=p.get('exhibit'))}{'：' if zh else ': '}{p.get('chat_format')} · {count}"
    if action == "dispute.status":
        text = f"{L.status(p.get('from'))} → {L.status(p.get('to'))}"
        return text + (f"（{p['note']}）" if zh and p.get("note") else f" ({p['note']})" if p.get("note") else "")
    if action == "event.added":
        return f"{show_time(p.get('at'))} {p.get('description')}"
    if action == "dispute.created":
        return str(p.get("title") or "")
    if action == "export.created":
        return f"{p.get('pages')} {'页' if zh else 'pages'} · {str(p.get('sha256', ''))[:16]}"
    import json

    text = json.dumps(p, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "…"
