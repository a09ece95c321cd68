"""ISO-BMFF (MP4, MOV, M4A, 3GP) box headers without decoding: a file cut short, the video
track's rotation (``tkhd``), the tracks' handler names and a GoPro GPMF track's GPS time."""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO, Iterator

__all__ = ["GPMF_SAMPLE_MAX", "gpmf_gps_time"]

_ISO_TOP_LEVEL = frozenset(
    {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"meta", b"moof", b"mfra",
     b"sidx", b"pdin", b"styp", b"prft", b"emsg", b"pnot", b"PICT"}
)
_MAX_BOXES = 4096


@dataclass
class _IsoScan:
    truncated_box: str | None = None
    has_moov: bool = False
    has_mdat: bool = False
    rotation: int | None = None
    handlers: list[str] = field(default_factory=list)  # the tracks' handler names ("GoPro MET")
    gpmf: bytes | None = None  # the first sample of a GoPro GPMF ('gpmd') track


def _boxes(f: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) for each box header in [start, end); box end may pass ``end``."""
    pos = start
    for _ in range(_MAX_BOXES):
        if pos + 8 > end:
            return
        f.seek(pos)
        header = f.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        header_len = 8
        if size == 1:
            big = f.read(8)
            if len(big) < 8:
                yield kind, pos + 16, pos + 16 + 1  # cut inside the header
                return
            size = struct.unpack(">Q", big)[0]
            header_len = 16
        elif size == 0:  # runs to the end of the enclosing box
            size = end - pos
        if size < header_len:
            return
        yield kind, pos + header_len, pos + size
        pos += size


def _rotation_from_tkhd(payload: bytes) -> int | None:
    if not payload:
        return None
    offset = 52 if payload[0] == 1 else 40
    if len(payload) < offset + 36:
        return None
    a, b, _u, _c, _d, _v, _x, _y, _w = struct.unpack(">9i", payload[offset : offset + 36])
    if a == 0 and b == 0:
        return None
    clockwise = math.degrees(math.atan2(b, a))
    return int(round(-clockwise / 90.0)) * 90 % 360


def _scan_isobmff(f: BinaryIO, size: int) -> _IsoScan:
    scan = _IsoScan()
    for kind, payload, end in _boxes(f, 0, size):
        if kind not in _ISO_TOP_LEVEL and not kind.isalnum():
            break  # not box structure any more: garbage or not ISO-BMFF at all
        if end > size:
            scan.truncated_box = kind.decode("latin-1")
        if kind == b"mdat":
            scan.has_mdat = True
        if kind == b"moov":
            scan.has_moov = True
            _read_tracks(f, payload, min(end, size), size, scan)
        if end > size:
            break
    return scan


GPMF_SAMPLE_MAX = 1024 * 1024
"""The most bytes of a GoPro metadata sample read (one second of GPMF is a few KiB)."""


def _child(f: BinaryIO, start: int, end: int, *path: bytes) -> tuple[int, int] | None:
    """(payload start, end) of the box reached by following ``path`` down from [start, end)."""
    for name in path:
        for kind, payload, box_end in _boxes(f, start, end):
            if kind == name:
                start, end = payload, min(box_end, end)
                break
        else:
            return None
    return start, end


def _read_box(f: BinaryIO, where: tuple[int, int] | None, limit: int = 4096) -> bytes:
    if where is None:
        return b""
    f.seek(where[0])
    return f.read(max(0, min(where[1] - where[0], limit)))


def _first_sample(f: BinaryIO, stbl: tuple[int, int], size: int) -> bytes | None:
    """The bytes of a track's first sample, from its sample-size and chunk-offset tables."""
    stsz = _read_box(f, _child(f, *stbl, b"stsz"), 16)
    if len(stsz) < 12:
        return None
    fixed, count = struct.unpack(">II", stsz[4:12])
    if count == 0:
        return None
    if fixed == 0:
        if len(stsz) < 16:
            return None
        fixed = struct.unpack(">I", stsz[12:16])[0]
    offset = None
    stco = _read_box(f, _child(f, *stbl, b"stco"), 12)
    if len(stco) >= 12 and struct.unpack(">I", stco[4:8])[0] > 0:
        offset = struct.unpack(">I", stco[8:12])[0]
    else:
        co64 = _read_box(f, _child(f, *stbl, b"co64"), 16)
        if len(co64) >= 16 and struct.unpack(">I", co64[4:8])[0] > 0:
            offset = struct.unpack(">Q", co64[8:16])[0]
    if offset is None or fixed > GPMF_SAMPLE_MAX or offset + fixed > size:
        return None
    f.seek(offset)
    return f.read(fixed)


def _read_tracks(f: BinaryIO, start: int, end: int, size: int, scan: _IsoScan) -> None:
    """The video track's rotation, every track's handler name, and the first GPMF sample."""
    for kind, payload, trak_end in _boxes(f, start, end):
        if kind != b"trak":
            continue
        trak = (payload, min(trak_end, end))
        tkhd = _read_box(f, _child(f, *trak, b"tkhd"), 128)
        hdlr = _read_box(f, _child(f, *trak, b"mdia", b"hdlr"), 256)
        handler = hdlr[8:12] if len(hdlr) >= 12 else None
        name = "".join(ch for ch in hdlr[24:].decode("latin-1") if ch.isprintable()).strip()
        if name:
            scan.handlers.append(name[:64])
        if handler == b"vide" and tkhd and scan.rotation is None:
            scan.rotation = _rotation_from_tkhd(tkhd)
        stbl = _child(f, *trak, b"mdia", b"minf", b"stbl")
        if stbl is None or scan.gpmf is not None:
            continue
        stsd = _read_box(f, _child(f, *stbl, b"stsd"), 16)
        if stsd[12:16] == b"gpmd":
            scan.handlers.append("GoPro GPMF track")  # GPMF is GoPro's own format
            scan.gpmf = _first_sample(f, stbl, size)


def gpmf_gps_time(data: bytes) -> datetime | None:
    """The first GPS time (``GPSU``, UTC "yymmddhhmmss.sss") in a GoPro GPMF payload, skipping
    a stream whose ``GPSF`` says the receiver had no fix. Bounded: at most 10,000 entries."""
    budget = [10_000]

    def walk(start: int, end: int, depth: int) -> datetime | None:
        pos, fix = start, None
        while pos + 8 <= end and budget[0] > 0:
            budget[0] -= 1
            key, kind, item, repeat = struct.unpack(">4sBBH", data[pos : pos + 8])
            length = item * repeat
            body = pos + 8
            if body + length > end:
                return None
            if kind == 0 and depth < 8:
                found = walk(body, body + length, depth + 1)
                if found is not None:
                    return found
            elif key == b"GPSF" and length >= 4:
                fix = struct.unpack(">I", data[body : body + 4])[0]
            elif key == b"GPSU" and kind == ord("U") and length >= 16 and fix != 0:
                when = _gpsu(data[body : body + 16])
                if when is not None:
                    return when
            pos = body + (length + 3) // 4 * 4
        return None

    return walk(0, len(data), 0)


def _gpsu(raw: bytes) -> datetime | None:
    m = re.fullmatch(rb"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d{1,3})?\x00*", raw)
    if not m:
        return None
    try:
        mo, d, h, mi, s = (int(g) for g in m.groups()[1:])
        return datetime(2000 + int(m[1]), mo, d, h, mi, s, tzinfo=UTC)
    except ValueError:
        return None
