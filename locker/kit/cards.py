"""Evidence cards: one JPEG per exhibit (per slice of a long screenshot), sized for a phone upload form.

A card is the exhibit's picture on top and a caption band below it. The picture is never redrawn from
the original here: it is a rendition the pack's own code made (:mod:`locker.report.images`: a whole
picture, a slice of a long screenshot's display rendition, or a video's key frames) pasted as it is, or,
for a chat, its key messages set in type. The caption band says what the picture is (证据 N, its title),
when it was captured and how that time is known (时区推定 when the zone was assumed), the first 16 hex
digits of the original's SHA-256, the dispute's identifier, and that the card is a copy whose original
and full hash are in the pack and the bundle.

The finished card is saved as a JPEG within the form's byte limit: the quality steps down, and only
when the lowest quality is still too large is the whole card scaled down (a step at a time).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

QUALITIES = (90, 85, 80, 74, 68, 60, 52)
MIN_SCALE = 0.5  # a card is never scaled below half its width to meet a byte limit
INK = (20, 20, 20)
GREY = (96, 96, 96)
BAND = (246, 246, 240)
RULE = (200, 40, 40)
WARN = (180, 20, 20)
NO_LINE_START = set("，。、；：！？）」』》〉”’,.;:!?)]}%")  # kept at the end of the line before (禁则)


@dataclass(frozen=True)
class Spec:
    """A card's size limits, from the form profile."""

    width: int  # the card's width in pixels
    max_height: int
    max_bytes: int


@dataclass(frozen=True)
class Caption:
    heading: str  # 证据 3 · 订单详情（第 1/3 段）
    time_line: str
    hash_line: str
    copy_note: str
    warning: str | None = None  # the original failed its check


@dataclass(frozen=True)
class Saved:
    width: int
    height: int
    size: int
    quality: int
    scaled: float  # 1.0 unless the card had to be made smaller to meet the byte limit


def find_font(explicit: str | None, configured: str | None) -> tuple[Path, int]:
    """The CJK TrueType face for the cards: the one named (``$LOCKER_FONT``, the profile's), else the
    best system candidate Pillow opens that draws Chinese (checked by drawing 证 against a character no
    font has); else what the pack's own search finds (slower: it parses the font for reportlab)."""
    from ..report import fonts as fontlib

    for spec in (explicit, configured):
        if spec:
            path, index = fontlib.parse_spec(spec)
            if path.is_file():
                return path, index
    from PIL import ImageFont

    for path, index in fontlib.candidates()[:6]:
        try:
            face = ImageFont.truetype(str(path), 32, index=index)
            if face.getmask("证").getbbox() and bytes(face.getmask("证")) != bytes(face.getmask("\U0010fffd")):
                return path, index
        except (OSError, ValueError):
            continue
    found = fontlib.find(explicit, configured)
    return found.path, found.index


class Fonts:
    """Pillow faces of the pack's CJK TrueType font, one per size (cached)."""

    def __init__(self, path: Path, index: int = 0) -> None:
        self.path = path
        self.index = index
        self._faces: dict[int, Any] = {}

    def __call__(self, size: int) -> Any:
        face = self._faces.get(size)
        if face is None:
            from PIL import ImageFont

            face = self._faces[size] = ImageFont.truetype(str(self.path), size, index=self.index)
        return face


def wrap(text: str, font: Any, width: int) -> list[str]:
    """``text`` broken into lines no wider than ``width`` pixels: between any two CJK characters,
    at spaces between Latin words; a word longer than a line is broken where it must be; closing
    punctuation never starts a line (禁则). Widths are summed token by token (kerning across tokens
    is ignored, which a margin of a few pixels covers)."""
    lines: list[str] = []
    measure: dict[str, float] = {}

    def w(token: str) -> float:
        found = measure.get(token)
        if found is None:
            found = measure[token] = float(font.getlength(token))
        return found

    for para in text.split("\n"):
        line, used = "", 0.0
        i = 0
        while i < len(para):
            ch = para[i]
            if ch.isascii() and not ch.isspace():  # the whole Latin word
                j = i
                while j < len(para) and para[j].isascii() and not para[j].isspace():
                    j += 1
                token = para[i:j]
            else:
                token, j = ch, i + 1
            tw = w(token)
            if used + tw <= width or not line or token in NO_LINE_START:
                if not line and tw > width:  # a word wider than the line, broken where it must be
                    for c in token:
                        cw = w(c)
                        if line and used + cw > width:
                            lines.append(line)
                            line, used = "", 0.0
                        line += c
                        used += cw
                else:
                    line += token
                    used += tw
            else:
                lines.append(line.rstrip())
                line = token.lstrip()
                used = w(line) if line else 0.0
            i = j
        lines.append(line.rstrip())
    return lines


def _line_height(font: Any) -> int:
    ascent, descent = font.getmetrics()
    return int((ascent + descent) * 1.22)


def band(caption: Caption, width: int, fonts: Fonts) -> Any:
    """The caption band, as its own image (full card width)."""
    from PIL import Image, ImageDraw

    scale = width / 1080
    pad = max(12, round(36 * scale))
    big, body, small = fonts(max(16, round(46 * scale))), fonts(max(13, round(34 * scale))), \
        fonts(max(12, round(28 * scale)))
    inner = width - 2 * pad
    blocks: list[tuple[Any, str, tuple[int, int, int]]] = []
    blocks += [(big, line, INK) for line in wrap(caption.heading, big, inner)]
    if caption.warning:
        blocks += [(body, line, WARN) for line in wrap(caption.warning, body, inner)]
    blocks += [(body, line, INK) for line in wrap(caption.time_line, body, inner)]
    blocks += [(body, line, INK) for line in wrap(caption.hash_line, body, inner)]
    blocks += [(small, line, GREY) for line in wrap(caption.copy_note, small, inner)]
    height = pad + max(3, round(6 * scale)) + sum(_line_height(f) for f, _t, _c in blocks) + pad
    img = Image.new("RGB", (width, height), BAND)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, width, max(3, round(6 * scale)) - 1), fill=RULE)
    y = pad + max(3, round(6 * scale))
    for font, text, colour in blocks:
        draw.text((pad, y), text, font=font, fill=colour)
        y += _line_height(font)
    return img


def compose(picture: Any | None, caption: Caption, spec: Spec, fonts: Fonts) -> Any:
    """The card: ``picture`` (a PIL image no wider than the card; centred on white) above the band.
    A picture taller than the room left by the band is scaled down to fit (the slice plan keeps long
    screenshots from needing much of that)."""
    from PIL import Image

    strip = band(caption, spec.width, fonts)
    room = max(1, spec.max_height - strip.height)
    if picture is None:
        picture = Image.new("RGB", (spec.width, min(room, round(spec.width * 0.3))), "white")
    if picture.width > spec.width or picture.height > room:
        factor = min(spec.width / picture.width, room / picture.height)
        picture = picture.resize((max(1, round(picture.width * factor)), max(1, round(picture.height * factor))),
                                 Image.Resampling.LANCZOS)
    card = Image.new("RGB", (spec.width, picture.height + strip.height), "white")
    card.paste(picture.convert("RGB"), ((spec.width - picture.width) // 2, 0))
    card.paste(strip, (0, picture.height))
    return card


def save(card: Any, path: Path, max_bytes: int, *, text: bool = True) -> Saved:
    """Write ``card`` to ``path`` as a JPEG of at most ``max_bytes``: the highest quality that fits,
    else the card scaled down step by step (never below MIN_SCALE; then the smallest is kept and the
    caller reports it as over the limit)."""
    from PIL import Image

    scale = 1.0
    img = card
    data = b""
    quality = QUALITIES[-1]
    while True:
        for quality in QUALITIES:
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=quality, subsampling=0 if text and quality >= 80 else 2)
            data = buf.getvalue()
            if len(data) <= max_bytes:
                break
        if len(data) <= max_bytes or scale * 0.85 < MIN_SCALE:
            break
        scale *= 0.85
        img = card.resize((max(1, round(card.width * scale)), max(1, round(card.height * scale))),
                          Image.Resampling.LANCZOS)
    with open(path, "wb") as f:
        f.write(data)
    return Saved(img.width, img.height, len(data), quality, round(scale, 3))


def frame_grid(frames: Sequence[tuple[Path, str]], width: int, fonts: Fonts) -> Any:
    """A video's key frames (already scaled to a cell by the pack's rendition code) in a grid of 3
    columns, each with its time code."""
    from PIL import Image, ImageDraw

    cols = 3 if len(frames) > 4 else 2 if len(frames) > 1 else 1
    gap = max(4, width // 150)
    cell_w = (width - gap * (cols + 1)) // cols
    pictures = []
    for file, code in frames:
        with Image.open(file) as im:
            pic = im.convert("RGB")
        if pic.width != cell_w:
            pic = pic.resize((cell_w, max(1, round(pic.height * cell_w / pic.width))), Image.Resampling.BILINEAR)
        pictures.append((pic, code))
    rows = (len(pictures) + cols - 1) // cols
    font = fonts(max(12, width // 40))
    label_h = _line_height(font)
    cell_h = max((p.height for p, _c in pictures), default=1)
    grid = Image.new("RGB", (width, gap + rows * (cell_h + label_h + gap)), (30, 30, 30))
    draw = ImageDraw.Draw(grid)
    for k, (pic, code) in enumerate(pictures):
        r, c = divmod(k, cols)
        x = gap + c * (cell_w + gap)
        y = gap + r * (cell_h + label_h + gap)
        grid.paste(pic, (x, y))
        draw.text((x, y + cell_h), code, font=font, fill=(235, 235, 235))
    return grid


def text_picture(title: str, lines: Sequence[tuple[str, str]], width: int, max_height: int, fonts: Fonts,
                 more: str | None = None) -> Any:
    """Type set on white: a title, then (label, text) lines — a chat's key messages, an overview's
    facts — as many as fit ``max_height``; ``more`` says how many did not."""
    from PIL import Image, ImageDraw

    scale = width / 1080
    pad = max(12, round(40 * scale))
    head, body, label_font = fonts(max(16, round(44 * scale))), fonts(max(13, round(34 * scale))), \
        fonts(max(12, round(28 * scale)))
    inner = width - 2 * pad
    blocks: list[tuple[Any, str, tuple[int, int, int]]] = [(head, t, INK) for t in wrap(title, head, inner)]
    blocks.append((label_font, "", INK))
    shown = 0
    used = pad * 2 + sum(_line_height(f) for f, _t, _c in blocks) + _line_height(body) * 2
    for label, text in lines:
        block: list[tuple[Any, str, tuple[int, int, int]]] = []
        if label:
            block.append((label_font, label, GREY))
        block += [(body, t, INK) for t in wrap(text, body, inner)]
        block.append((label_font, "", INK))
        need = sum(_line_height(f) for f, _t, _c in block)
        if used + need > max_height:
            break
        blocks += block
        used += need
        shown += 1
    if more is not None and shown < len(lines):
        blocks.append((label_font, more.format(n=len(lines) - shown), GREY))
    height = pad * 2 + sum(_line_height(f) for f, _t, _c in blocks)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    y = pad
    for font, text, colour in blocks:
        if text:
            draw.text((pad, y), text, font=font, fill=colour)
        y += _line_height(font)
    return img
