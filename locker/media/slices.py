"""Long screenshots: where to cut one into page-sized slices, at blank rows where it can."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from locker.domain import LONG_RATIO
from locker.media.outputs import DerivationError, Slice, _short
from locker.media.rendition import _STRIP_ROWS, _flatten, _open_image

__all__ = ["BLANK_ROW_VARIANCE", "slice_plan"]

BLANK_ROW_VARIANCE = 6.0
"""A row whose greyscale variance is at most this is 'blank': JPEG noise on a plain background stays
well below it, one black pixel in a white 1080-px row gives ~60."""


def _row_variances(img: Any) -> list[float]:
    """Greyscale variance of every pixel row, computed by Pillow in C (strips bound the memory)."""
    import array

    from PIL import Image, ImageMath

    width, height = img.size
    box = Image.Resampling.BOX
    result: list[float] = []
    for top in range(0, height, _STRIP_ROWS):
        strip = img.crop((0, top, width, min(height, top + _STRIP_ROWS)))
        if strip.mode not in ("L", "RGB"):
            strip = _flatten(strip)
        grey = strip.convert("L").convert("F")
        rows = grey.height
        mean = array.array("f", grey.resize((1, rows), box).tobytes())
        square = ImageMath.lambda_eval(lambda a: a["x"] * a["x"], x=grey)
        mean_sq = array.array("f", square.resize((1, rows), box).tobytes())
        result.extend(max(0.0, s - m * m) for m, s in zip(mean, mean_sq))
    return result


def _best_cut(variances: list[float], low: int, high: int) -> int | None:
    """The middle of the best run of blank rows in [low, high]: the longest (runs of 32 rows or more
    count as equal), then the lowest on the page. None when no row there is blank."""
    best: tuple[int, int, int] | None = None  # (capped length, start, end)
    row = low
    while row <= high:
        if variances[row] > BLANK_ROW_VARIANCE:
            row += 1
            continue
        first = row
        while row + 1 <= high and variances[row + 1] <= BLANK_ROW_VARIANCE:
            row += 1
        candidate = (min(row - first + 1, 32), first, row)
        if best is None or candidate[0] >= best[0]:
            best = candidate
        row += 1
    if best is None:
        return None
    return (best[1] + best[2] + 1) // 2


def slice_plan(image_path: Path, *, page_ratio: float = 1.35, overlap: int = 48,
               min_fill: float = 0.75) -> list[Slice]:
    """Where to cut a long image (height >= 2.5 × width) into slices that each fit a page at full
    width (height <= width × page_ratio).

    Each cut is placed in a blank row (greyscale variance <= BLANK_ROW_VARIANCE) within the last
    ``1 - min_fill`` of the slice's window: the middle of the longest run of blank rows there, the
    lowest one among equals. Where no row is blank, the slice ends at the window's end and the next
    one starts ``overlap`` px higher, so a line cut in two is whole on one of the pages. Slices start
    at 0, end at the height, and leave no gap. An image that is not long gives ``[Slice(0, h)]``.
    """
    if page_ratio <= 0 or not 0 < min_fill <= 1 or overlap < 0:
        raise ValueError("page_ratio > 0, 0 < min_fill <= 1 and overlap >= 0 are required")
    path = Path(image_path)
    img = _open_image(path)
    try:
        width, height = img.size
        if height < LONG_RATIO * width:
            return [Slice(0, height)]
        page = max(1, math.floor(width * page_ratio))
        try:
            variances = _row_variances(img)
        except MemoryError:
            raise
        except Exception as exc:
            raise DerivationError(f"cannot decode the image: {_short(exc)}", path=str(path)) from exc
    finally:
        img.close()
    step_back = min(overlap, page // 4)
    slices: list[Slice] = []
    top = 0
    while height - top > page:
        end = top + page
        cut = _best_cut(variances, top + max(1, math.ceil(page * min_fill)), end)
        if cut is None:
            slices.append(Slice(top, end))
            top = end - step_back
        else:
            slices.append(Slice(top, cut))
            top = cut
    slices.append(Slice(top, height))
    return slices
