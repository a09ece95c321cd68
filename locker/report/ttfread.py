"""reportlab's TrueType face, its per-glyph tables read with one struct call each.

reportlab reads a face's character map, advance widths and glyph offsets one number at a time
(a method call, a slice and an unpack for each): for WenQuanYi Micro Hei, 34,600 characters and
49,531 glyphs, that is some 150,000 calls and 57-73 ms a face, and a pack registers two faces
(its text and its hashes) before its first page. :func:`read_face` lets reportlab read the
font's header tables as usual (``charInfo=0``), then reads the ``cmap``, ``hmtx`` and ``loca``
tables in bulk and builds from them the very attributes reportlab's ``extractInfo`` builds,
the same values in the same order (tests/test_ttfread.py compares every attribute of both, for
every face of the fonts the machine has). It knows the character maps of format 4 and 12,
which TrueType fonts of Chinese and Latin scripts use; for any other layout, or anything it
finds out of the ordinary, it returns None and the caller lets reportlab read the whole font,
so that what reportlab would accept or refuse is decided by reportlab. It builds reportlab's
objects from their attributes, so it is used with the reportlab versions it was compared with
(CHECKED) and leaves the others to reportlab.
"""

from __future__ import annotations

import struct
from typing import Any

from ..gcpause import collector_paused

CHECKED = ("5.1.0",)  # reportlab versions whose faces tests/test_ttfread.py found the same both ways


def read_font(name: str, filename: str, index: int) -> Any:
    """``TTFont(name, filename, subfontIndex=index)``, its face read by :func:`read_face` where it
    can be. The garbage collector is held back meanwhile: a face is some 85,000 new lists and
    tuples and none of them garbage, yet each collection they set off walks every object the
    process has (measured with a pack's modules loaded: two faces of WenQuanYi Micro Hei took
    113-139 ms with reportlab's reader, 37-42 ms with this one and no collection)."""
    from reportlab.pdfbase.ttfonts import TTFont

    with collector_paused():
        face = read_face(filename, index)
        if face is None:
            return TTFont(name, filename, subfontIndex=index)
    return _font_around(name, face)


def _font_around(name: str, face: Any) -> Any:
    """What ``TTFont.__init__`` (reportlab 5.1) makes around the face it reads."""
    from fnmatch import fnmatch
    from weakref import WeakKeyDictionary

    from reportlab import rl_config
    from reportlab.pdfbase.ttfonts import TTEncoding, TTFont

    font = TTFont.__new__(TTFont)
    font.fontName = name
    font.face = face
    font.encoding = TTEncoding()
    font.state = WeakKeyDictionary()
    font._asciiReadable = rl_config.ttfAsciiReadable
    font.shapable = not any(fnmatch(name, pattern) for pattern in rl_config.unShapedFontGlob)
    return font


def read_face(filename: str, index: int) -> Any | None:
    """The ``TTFontFace`` of face ``index`` of ``filename`` as ``TTFontFace(filename,
    subfontIndex=index)`` would make it, or None where reportlab should read it itself."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFontFace, TTFontFile

    if reportlab.Version not in CHECKED:
        return None
    face = TTFontFace.__new__(TTFontFace)
    pdfmetrics.TypeFace.__init__(face, None)  # as TTFontFace.__init__ does, before the file
    try:
        TTFontFile.__init__(face, filename, charInfo=0, validate=0, subfontIndex=index)
        tables = _char_info(face)
    except Exception:  # a missing table, a short file, reportlab's TTFError: reportlab reads it and says
        return None
    if tables is None:
        return None
    face.__dict__.update(tables)
    return face


def _char_info(face: Any) -> dict[str, Any] | None:
    """What ``extractInfo`` sets after its ``charInfo`` test, read from the face's bytes."""
    data = face._ttf_data
    index_to_loc, glyph_format = struct.unpack_from(">HH", data, face.table["head"]["offset"] + 50)
    if glyph_format != 0 or "loca" not in face.table or index_to_loc not in (0, 1):
        return None  # before the character map is read: a face reportlab must read gets no work here
    (hmetric_count,) = struct.unpack_from(">H", data, face.table["hhea"]["offset"] + 34)
    glyph_count = face.numGlyphs
    mapped = _cmap(data, face.table["cmap"]["offset"])
    if mapped is None:
        return None
    char_to_glyph, glyph_to_char = mapped

    # hmtx: advance width and left side bearing of the first hmetric_count glyphs, then the left
    # side bearings of the rest, which take the last advance width. As reportlab keeps them: the
    # pairs of the first glyphs unscaled, those of the rest with the scaled last width.
    scale = face._pdfScale
    hmtx = face.table["hmtx"]["offset"]
    pairs = struct.unpack_from(f">{2 * hmetric_count}H", data, hmtx)
    rest = max(0, glyph_count - hmetric_count)
    bearings = struct.unpack_from(f">{rest}H", data, hmtx + 4 * hmetric_count) if rest else ()
    advances = pairs[0::2]
    widths = list(map(scale, advances))
    last = widths[-1]
    hmetrics = list(zip(advances, pairs[1::2]))
    hmetrics += [(last, lsb) for lsb in bearings]
    char_widths: dict[int, Any] = {}
    get = glyph_to_char.get
    for glyph in range(hmetric_count + rest):
        chars = get(glyph)
        if chars:
            width = widths[glyph] if glyph < hmetric_count else last
            for char in chars:
                char_widths[char] = width

    loca = face.table["loca"]["offset"]
    short = index_to_loc == 0  # 16-bit offsets, stored halved
    offsets = struct.unpack_from(f">{glyph_count + 1}{'H' if short else 'L'}", data, loca)
    glyph_pos = [p << 1 for p in offsets] if short else list(offsets)
    end = loca + (2 if short else 4) * (glyph_count + 1)

    if 0x20 in char_to_glyph:  # a no-break space drawn as a space, or the other way round
        char_to_glyph[0xA0] = char_to_glyph[0x20]
        char_widths[0xA0] = char_widths[0x20]
    elif 0xA0 in char_to_glyph:
        char_to_glyph[0x20] = char_to_glyph[0xA0]
        char_widths[0x20] = char_widths[0xA0]
    return {"charToGlyph": char_to_glyph, "glyphToChar": glyph_to_char, "charWidths": char_widths,
            "hmetrics": hmetrics, "defaultWidth": widths[0], "glyphPos": glyph_pos, "_pos": end}


def _cmap(data: bytes, cmap: int) -> tuple[dict[int, int], dict[int, list[int]]] | None:
    """(character → glyph, glyph → characters) from the subtable reportlab would choose."""
    version, count = struct.unpack_from(">HH", data, cmap)
    if count == 0 and version != 0:
        count = version
    chosen, kind = None, 0
    for n in range(count):  # the last subtable that qualifies wins, as in reportlab
        platform, encoding, offset = struct.unpack_from(">HHL", data, cmap + 4 + 8 * n)
        if platform == 3:
            chosen, kind = offset, 1
        elif platform == 1 and encoding == 0 and kind != 1:
            chosen, kind = offset, 2
        elif platform == 1 and encoding == 1:
            chosen, kind = offset, 1
        elif platform == 0 and encoding != 5:
            chosen, kind = offset, 1
    if chosen is None:
        return None
    table = cmap + chosen
    (fmt,) = struct.unpack_from(">H", data, table)
    if fmt == 4:
        return _format4(data, table)
    if fmt == 12:
        return _format12(data, table)
    return None


def _format4(data: bytes, table: int) -> tuple[dict[int, int], dict[int, list[int]]]:
    """Segments of 16-bit characters: a delta, or an offset into the glyph id array."""
    (length,) = struct.unpack_from(">H", data, table + 2)
    limit = table + length
    (doubled,) = struct.unpack_from(">H", data, table + 6)
    segments = doubled // 2
    at = table + 14
    ends = struct.unpack_from(f">{segments}H", data, at)
    starts = struct.unpack_from(f">{segments}H", data, at + 2 * segments + 2)
    deltas = struct.unpack_from(f">{segments}h", data, at + 4 * segments + 2)
    offsets_at = at + 6 * segments + 2
    offsets = struct.unpack_from(f">{segments}H", data, offsets_at)
    to_glyph: dict[int, int] = {}
    to_chars: dict[int, list[int]] = {}
    ushort = struct.Struct(">H").unpack_from
    for n in range(segments):
        start, delta, offset = starts[n], deltas[n], offsets[n]
        for char in range(start, ends[n] + 1):
            if offset == 0:
                glyph = (char + delta) & 0xFFFF
            else:
                where = offsets_at + 2 * n + (char - start) * 2 + offset
                if where >= limit:
                    glyph = 0  # a broken font's offset past its table, as reportlab reads it
                else:
                    glyph = ushort(data, where)[0]
                    if glyph != 0:
                        glyph = (glyph + delta) & 0xFFFF
            to_glyph[char] = glyph
            to_chars.setdefault(glyph, []).append(char)
    return to_glyph, to_chars


def _format12(data: bytes, table: int) -> tuple[dict[int, int], dict[int, list[int]]]:
    """Groups of consecutive characters on consecutive glyphs (any plane)."""
    (groups,) = struct.unpack_from(">L", data, table + 12)
    triples = struct.unpack_from(f">{3 * groups}L", data, table + 16)
    to_glyph: dict[int, int] = {}
    to_chars: dict[int, list[int]] = {}
    for n in range(0, 3 * groups, 3):
        start, end, first = triples[n], triples[n + 1], triples[n + 2]
        step = first - start
        for char in range(start, end + 1):
            glyph = char + step
            to_glyph[char] = glyph
            to_chars.setdefault(glyph, []).append(char)
    return to_glyph, to_chars
