"""AVI camera dates: the ``IDIT`` chunk and a ``strd`` EXIF DateTimeOriginal of the header list."""

from __future__ import annotations

import re
import struct
from datetime import datetime
from typing import BinaryIO

__all__ = ["AVI_HEADER_MAX", "avi_header_times"]

AVI_HEADER_MAX = 1024 * 1024
"""How much of an AVI's header list (``hdrl``) is read for its camera dates."""

_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}


def avi_header_times(f: BinaryIO, size: int) -> list[str]:
    """The camera's local dates in an AVI's header list, as "YYYY:MM:DD HH:MM:SS": the ``IDIT``
    chunk ("THU OCT 22 12:34:56 2009" or "2009:10:22 12:34:56") and the DateTimeOriginal of an
    EXIF block in a stream's ``strd`` chunk (Nikon, Fujifilm). Reads at most 1 MiB."""
    f.seek(12)
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"LIST" or head[8:12] != b"hdrl":
        return []
    length = struct.unpack("<I", head[4:8])[0]
    data = f.read(max(0, min(length - 4, AVI_HEADER_MAX, size - 24)))  # read(-1) would read it all
    found: list[str] = []

    def walk(start: int, end: int, depth: int) -> None:
        pos = start
        while pos + 8 <= end and len(found) < 4:
            chunk, n = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
            body = data[pos + 8 : min(pos + 8 + n, end)]
            if chunk == b"LIST" and depth < 4:
                walk(pos + 12, min(pos + 8 + n, end), depth + 1)
            elif chunk == b"IDIT":
                text = _idit_text(body)
                if text:
                    found.append(text)
            elif chunk == b"strd":
                text = _strd_exif_time(body)
                if text:
                    found.append(text)
            pos += 8 + n + (n & 1)

    walk(0, len(data), 0)
    return found


def _idit_text(body: bytes) -> str | None:
    text = body.split(b"\x00", 1)[0].decode("latin-1").strip().upper()
    m = re.match(r"^[A-Z]{3}\s+([A-Z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})$", text)
    if m and m[1] in _MONTHS:
        return f"{m[6]}:{_MONTHS[m[1]]:02d}:{int(m[2]):02d} {m[3]}:{m[4]}:{m[5]}"
    m = re.match(r"^(\d{4})[:/\-](\d{2})[:/\-](\d{2})[ T/]+(\d{2}):(\d{2})(?::(\d{2}))?", text)
    if m:
        return f"{m[1]}:{m[2]}:{m[3]} {m[4]}:{m[5]}:{m[6] or '00'}"
    return None


def _strd_exif_time(body: bytes) -> str | None:
    at = max(body.find(b"II*\x00"), body.find(b"MM\x00*"))
    if at < 0:
        return None
    try:
        from PIL import Image

        exif = Image.Exif()
        exif.load(b"Exif\x00\x00" + body[at:])
        value = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
    except Exception:  # a damaged EXIF block: no date from it
        return None
    return value.strip("\x00 ") if isinstance(value, str) else None


def _exif_style(raw: str) -> datetime | None:
    m = re.match(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})", raw)
    if not m:
        return None
    try:
        y, mo, d, h, mi, s = (int(g) for g in m.groups())
        return datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None
