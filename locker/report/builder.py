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

from datetime import tzinfo
from typing import Any, Callable, Protocol
from xml.sax.saxutils import unescape

from ..values import zone_assumed
from . import decoration, reuse
from .labels import Labels
from .markup import Text, has_cjk, parse_time, show_time
from .page import (
    CELL_PAD,
    CELL_SIZE,
    FRAME_W,
    GREY,
    INK,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MM,
    PAGE_H,
    PAGE_W,
    RULE,
    SHADE,
    WARN,
    Fonts,
    MonoText,
    PageMap,
    PdfPage,
    Plan,
    State,
    insert_box,
    template_id,
)
from .snapshot import ExhibitInfo, Snapshot

__all__ = ["Fonts", "Layout", "MonoText", "PageMap", "PdfPage", "Plan", "insert_box"]


class Sink(Protocol):
    """Where a pass writes its PDF, when not to a path: reportlab hands it the whole file in one write."""

    def write(self, data: bytes, /) -> int: ...


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
        self.failed = {plan.exhibit.number for plan in plans if plan.exhibit.failed}
        # One state for every pass (the flowables made once hold it); render() begins each pass afresh.
        self.state = State(None, False, {})
        self.Paragraph, self.Table = reuse.classes(self.state)
        self._paragraphs: dict[tuple[str, str], Any] = {}
        self._blocks: dict[str, list[Any]] = {}
        self._colors: dict[str, Any] = {}

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
        """A Paragraph of ready markup. ``raw`` (the unescaped text) decides CJK line breaking.
        One object per markup and style: it keeps its line breaks from pass to pass."""
        if cjk is None:
            cjk = self.L.lang == "zh" or has_cjk(raw if raw is not None else markup)
        key = (str(markup), f"{style}/cjk" if cjk else style)
        found = self._paragraphs.get(key)
        if found is None:
            found = self._paragraphs[key] = self.Paragraph(markup, self.style(style, cjk=cjk))
        return found

    def color(self, value: str) -> Any:
        """A reportlab colour of a "#rrggbb" string, made once (reportlab parses strings at every cell)."""
        found = self._colors.get(value)
        if found is None:
            from reportlab.lib.colors import HexColor

            found = self._colors[value] = HexColor(value)
        return found

    def table_style(self, commands: list[tuple[Any, ...]]) -> Any:
        from reportlab.platypus import TableStyle

        return TableStyle([tuple(self.color(a) if isinstance(a, str) and a.startswith("#") else a for a in c)
                           for c in commands])

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

    def missing(self, field_key: str) -> str:
        what = self.L[f"field_{field_key}"]
        if what not in self.letter_missing:
            self.letter_missing.append(what)
        return f'<font color="{WARN}">{self.text(self.L.f("missing", what=what))}</font>'


    def time_source(self, e: ExhibitInfo) -> str:
        """Where an exhibit's capture time came from, and "zone assumed" where the file named no zone."""
        source = self.L.time_source(e.captured_at_source)
        if zone_assumed(e.captured_at_source, e.metadata) is None:
            return source
        return source + ("，" if self.L.lang == "zh" else ", ") + self.L["zone_assumed"]


    # ------------------------------------------------------------------ tables

    def table(self, rows: list[list[Any]], widths: list[float], *, header: bool = True, zebra: bool = False,
               extra: list[tuple[Any, ...]] | None = None, split_in_row: bool = True) -> Any:
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
        return self.Table(rows, colWidths=widths, repeatRows=1 if header else 0, style=self.table_style(style),
                     splitInRow=1 if split_in_row else 0, hAlign="LEFT")

    def kv(self, pairs: list[tuple[str, str]], label_w: float = 30 * MM) -> Any:
        """A label/value box; values are ready markup."""
        value_w = FRAME_W - label_w
        rows = [[self.fast(self.text(k), label_w, "label"), self.fast(v or self.text(self.L["not_given"]), value_w)]
                for k, v in pairs]
        return self.table(rows, [label_w, value_w], header=False,
                           extra=[("BACKGROUND", (0, 0), (0, -1), SHADE), ("TEXTCOLOR", (0, 0), (0, -1), GREY)])

    def head(self, text: str) -> Any:
        return self.P(self.text(text), "h1")


    # ------------------------------------------------------------------ one pass

    def story(self, state: State, prev: PageMap | None) -> list[Any]:
        from reportlab.platypus import NextPageTemplate, PageBreak

        from .sections import appendix, cover, exhibit, facts, index, letter, timeline

        def once(key: str, make: Callable[[], list[Any]]) -> list[Any]:
            """The sections that print no page numbers are made once and laid out again in every pass."""
            if key not in self._blocks:
                self._blocks[key] = make()
            return self._blocks[key]

        story: list[Any] = cover.cover(self, state, prev)
        if self.letter:
            story += [NextPageTemplate("main"), PageBreak()] + letter.letter(self, state, prev)
        story += [NextPageTemplate("main"), PageBreak()] + once("facts", lambda: facts.facts(self, state))
        story += [NextPageTemplate("main"), PageBreak()] + index.index(self, state, prev)
        story += [NextPageTemplate("main"), PageBreak()] + once("timeline", lambda: timeline.timeline(self, state))
        for plan in self.plans:
            story += once(f"exhibit-{plan.exhibit.number}",
                          lambda plan=plan: exhibit.exhibit(self, state, plan, first=False))  # type: ignore[misc]
        story += once("appendix", lambda: appendix.appendix(self, state))
        return story

    def render(self, out: str | Sink, prev: PageMap | None, *, draw_images: bool,
               renditions: Any = None, metadata: dict[str, str] | None = None) -> PageMap:
        from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

        state = self.state
        state.begin(prev, draw_images, renditions or {})
        decorate = decoration.page_end(self, state)

        def frame(width: float, height: float) -> Any:
            side = MARGIN_X if width >= 400 else 10 * MM
            return Frame(side, MARGIN_BOTTOM, width - 2 * side, height - MARGIN_TOP - MARGIN_BOTTOM,
                         leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")

        templates = [PageTemplate("main", [frame(PAGE_W, PAGE_H)], onPageEnd=decorate, pagesize=(PAGE_W, PAGE_H))]
        for width, height in self._insert_sizes:
            templates.append(PageTemplate(template_id(width, height), [frame(width, height)], onPageEnd=decorate,
                                          pagesize=(width, height)))
        md = metadata or {}
        doc = BaseDocTemplate(out, pagesize=(PAGE_W, PAGE_H), pageTemplates=templates,
                              leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
                              bottomMargin=MARGIN_BOTTOM, initialFontName=self.fonts.regular,
                              title=md.get("title"), author=md.get("author"), subject=md.get("subject"),
                              creator=md.get("creator"), keywords=md.get("keywords", ""),
                              lang="zh-CN" if self.L.lang == "zh" else "en", displayDocTitle=1)
        if not draw_images:
            reuse.quiet(doc)
        undo = reuse.undo_edits(doc)
        try:
            doc.build(self.story(state, prev))
        finally:
            undo()
        state.map.total = state.map.total or doc.page
        return state.map

