"""Read one stored object with the OCR engine: a picture whole or slice by slice, or the pages of a PDF
that have no text layer. Pure work on a file: no database, nothing written; the caller files the result.

The result is a plain dict (it crosses from a worker process, and it is what the derived manifest
holds)::

    {"engine": "rapidocr 3.10.0; …", "source": "image" | "pdf", "width": 1170, "height": 2532,
     "parts": [{"slice": 1, "top": 0, "bottom": 1458}, …]        # an image (one part when not long)
            | [{"page": 1, "width": 1000, "height": 1400}, …],  # the pages of a PDF that were read
     "lines": [{"text": "订单编号：2505…", "box": [[x, y] ×4], "score": 0.99, "slice": 1 | "page": 1}, …]}

**Long screenshots** (height ≥ 2.5 × width) are cut with the pack's slice plan
(:func:`locker.media.slices.slice_plan`, at blank rows where it can): the engine scales every picture
down to 1,280 px on its long side to find the text, so a 1080×8000 screenshot read whole would shrink
its text to a few pixels. Each slice is read on its own and its boxes are moved down by the slice's top,
so every box is in the whole picture's pixels. Where two slices overlap (no blank row to cut at), a line
read in both is kept once.

**PDF pages**: a page whose text layer is empty (a scan, a photo or a screenshot saved as PDF) is read
from the pictures it holds (pypdf extracts them, the way the rest of locker reads PDFs, through the same
read budget); boxes are in the pixels of the page's largest picture, whose size is recorded. Text drawn
as vector outlines without a text layer is not read (no PDF renderer is shipped).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, BinaryIO, cast

from ..readbudget import BudgetedFile, pdf_read_budget
from ..words import PDF_MIME
from . import engine

MAX_PDF_PAGES = 200  # pages read by OCR in one PDF (each costs seconds)
MIN_PICTURE_SIDE = 32  # smaller pictures on a PDF page are icons, not text


def _line(line: Any, dx: float, dy: float, part: tuple[str, int]) -> dict[str, Any]:
    box = [[round(x + dx, 1), round(y + dy, 1)] for x, y in line.box]
    return {"text": line.text, "box": box, "score": line.score, part[0]: part[1]}


def _oriented(path: Path) -> tuple[Any, bool]:
    """The picture as shown (EXIF orientation applied), in RGB on white, and whether it was turned;
    locker's pixel limit holds."""
    from PIL import ImageOps

    from ..media.rendition import _flatten, _open_image, _orientation

    img = _open_image(path)
    try:
        turned = _orientation(img) != 1
        img.load()
        shown = ImageOps.exif_transpose(img) if turned else img
        flat = _flatten(shown if shown is not None else img)
        return (flat.convert("RGB") if flat.mode != "RGB" else flat.copy()), turned
    finally:
        img.close()


def _slices(path: Path, img: Any, turned: bool, work: Path | None) -> list[tuple[int, int]]:
    """(top, bottom) of each slice of the picture as shown."""
    from ..domain import LONG_RATIO
    from ..media.slices import slice_plan

    width, height = img.size
    if height < LONG_RATIO * width:
        return [(0, height)]
    if not turned:
        return [(s.top, s.bottom) for s in slice_plan(path)]
    import tempfile

    with tempfile.TemporaryDirectory(dir=work) as tmp:  # the plan reads a file: the picture as shown
        shown = Path(tmp) / "shown.png"
        img.save(shown, "PNG", compress_level=1)
        return [(s.top, s.bottom) for s in slice_plan(shown)]


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ax: list[float] = [p[0] for p in a["box"]]
    ay: list[float] = [p[1] for p in a["box"]]
    bx: list[float] = [p[0] for p in b["box"]]
    by: list[float] = [p[1] for p in b["box"]]
    return min(ax) < max(bx) and min(bx) < max(ax) and min(ay) < max(by) and min(by) < max(ay)


def read_image(path: Path, work: Path | None = None) -> dict[str, Any]:
    """Read a picture (any format locker opens), slice by slice when it is long."""
    img, turned = _oriented(Path(path))
    try:
        width, height = img.size
        parts: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        for n, (top, bottom) in enumerate(_slices(Path(path), img, turned, work), 1):
            piece = img if (top, bottom) == (0, height) else img.crop((0, top, width, bottom))
            reading = engine.read(piece)
            parts.append({"slice": n, "top": top, "bottom": bottom})
            previous_bottom = parts[-2]["bottom"] if len(parts) > 1 else 0
            for line in reading.lines:
                found = _line(line, 0, top, ("slice", n))
                # A line read twice where this slice overlaps the one before is kept once.
                if top < previous_bottom and any(o["text"] == found["text"] and _overlaps(o, found)
                                                 for o in lines if o["slice"] == n - 1):
                    continue
                lines.append(found)
        return {"engine": engine.engine_id(), "source": "image", "width": width, "height": height,
                "parts": parts, "lines": lines}
    finally:
        img.close()


def _page_pictures(page: Any) -> list[Any]:
    """The page's pictures as PIL images, largest first (small icons left out)."""
    found = []
    try:
        pictures = list(page.images)
    except Exception:  # broken image streams: nothing to read on this page
        return []
    for picture in pictures:
        try:
            img = picture.image
        except Exception:
            continue
        if img is None or min(img.size) < MIN_PICTURE_SIDE:
            continue
        found.append(img)
    found.sort(key=lambda im: -(im.size[0] * im.size[1]))
    return found


def read_pdf(path: Path) -> dict[str, Any]:
    """Read the pages of a PDF that have no text layer, from their largest picture."""
    from pypdf import PdfReader

    logger = logging.getLogger("pypdf")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    parts: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    with open(path, "rb") as f:
        budgeted = BudgetedFile(f, pdf_read_budget(f.seek(0, 2)) * 4)  # pictures are read too
        try:
            reader = PdfReader(cast(BinaryIO, budgeted), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                pages: list[Any] = []
            else:
                pages = list(reader.pages)
        except Exception:  # damaged beyond reading: nothing to read, as for a blank file
            pages = []
        read = 0
        for number, page in enumerate(pages, 1):
            if read >= MAX_PDF_PAGES or budgeted.exceeded:
                break
            try:
                if (page.extract_text() or "").strip():
                    continue  # a text layer: search has it already
            except Exception:
                pass
            pictures = _page_pictures(page)
            if not pictures:
                continue
            picture = pictures[0].convert("RGB")
            reading = engine.read(picture)
            read += 1
            parts.append({"page": number, "width": picture.width, "height": picture.height})
            lines += [_line(line, 0, 0, ("page", number)) for line in reading.lines]
    return {"engine": engine.engine_id(), "source": "pdf", "width": None, "height": None,
            "parts": parts, "lines": lines}


def read_object(path: Path, mime: str, work: Path | None = None) -> dict[str, Any]:
    """Read a stored object: a PDF's pages without text, or a picture."""
    if mime == PDF_MIME:
        return read_pdf(Path(path))
    return read_image(Path(path), work)
