"""The page model of the evidence pack: its measures and colours, and the plain data a layout pass
works with (how each exhibit is shown, where things fell). No reportlab here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .snapshot import ExhibitInfo

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


class State:
    """What one pass records while it draws: the page map it finds, and where it is."""

    def __init__(self, previous: PageMap | None, draw_images: bool, renditions: Any) -> None:
        self.meter: Any = None  # a report.progress.Meter: told when an exhibit is laid out, and drawn
        self.on_exhibit: Any = None  # called with an exhibit's number once a pass without pictures has laid it out
        self.begin(previous, draw_images, renditions)

    def begin(self, previous: PageMap | None, draw_images: bool, renditions: Any) -> None:
        """Start a pass: ``draw_images`` False for a pass that only finds where things fall."""
        self.previous = previous
        self.draw_images = draw_images
        self.renditions = renditions
        self.map = PageMap()
        self.exhibit: int | None = None
        self.cover_page: int | None = None
        self.outline_exhibits = False


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


def template_id(width: float, height: float) -> str:
    return f"ins-{width:.2f}x{height:.2f}"

