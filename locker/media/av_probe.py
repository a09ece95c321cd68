"""Video and audio metadata with PyAV (bundled FFmpeg): headers only, no decoding.

Two cheap passes:

1. for ISO-BMFF files (MP4, MOV, M4A, 3GP), a walk over the box headers (seeks,
   a few bytes each) that notices a file cut short (a box running past the end,
   no ``moov``) and reads the video track's display matrix from ``tkhd``
   (this PyAV exposes rotation only on decoded frames);
2. ``av.open`` for the container and stream parameters and tags.

Rotation (metadata ``rotation``) uses PyAV's convention (``VideoFrame.rotation``,
``VideoStream.set_display_rotation``): degrees counter-clockwise, normalised to
0/90/180/270. ffprobe prints 270 as "rotation of -90.00 degrees"; a portrait
iPhone video is 270. ``display_width``/``display_height`` are the size after it.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO, Iterator

_ISO_TOP_LEVEL = frozenset(
    {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"meta", b"moof", b"mfra",
     b"sidx", b"pdin", b"styp", b"prft", b"emsg", b"pnot", b"PICT"}
)
_MAX_BOXES = 4096

SAFE_VIDEO_PIXELS = 40_000_000
"""FFmpeg's ``max_pixels`` for every decoder the locker opens: an 8K frame (8192×4320, 35 MP) passes.
Opening a file decodes a frame or two to learn the streams' parameters; without this a 1.5 KB MOV
whose PNG frame header claims 15000×15000 made FFmpeg allocate over a gigabyte."""

DECODER_OPTIONS = {"max_pixels": str(SAFE_VIDEO_PIXELS)}
"""Options for ``av.open`` (they reach the decoders FFmpeg runs while probing the streams)."""

_MEDIA_TIME = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,]\d+)?\s*"
    r"(Z|UTC|[+-]\d{2}:?\d{2})?\s*$",
    re.IGNORECASE,
)
_ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?")


@dataclass
class AVInfo:
    """What :func:`inspect_av` found. ``created`` is aware (UTC unless the file gave an offset)."""

    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    created: datetime | None = None  # aware: UTC, or the offset the file wrote
    created_raw: str | None = None
    created_local: datetime | None = None  # naive: a camera's local clock (AVI IDIT, GoPro)
    gps_time: datetime | None = None  # UTC, from a GoPro GPMF GPSU entry
    has_video: bool = False
    has_audio: bool = False
    readable: bool = False


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
        return datetime(2000 + int(m[1]), *(int(g) for g in m.groups()[1:]), tzinfo=UTC)
    except ValueError:
        return None


def parse_media_time(text: str | None) -> datetime | None:
    """A container date ("2025-05-03T06:22:10.000000Z", "…+0800") → aware datetime.

    Times without an offset are UTC, as ISO-BMFF/QuickTime define creation_time.
    """
    if not text:
        return None
    m = _MEDIA_TIME.match(text)
    if not m:
        return None
    try:
        moment = datetime(*(int(g) for g in m.groups()[:6]))
    except ValueError:
        return None
    zone = (m[7] or "Z").upper()
    if zone in ("Z", "UTC"):
        return moment.replace(tzinfo=UTC)
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    if minutes > 14 * 60:
        return None
    sign = -1 if zone[0] == "-" else 1
    return moment.replace(tzinfo=timezone(timedelta(minutes=sign * minutes)))


def _parse_iso6709(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    m = _ISO6709.match(text.strip())
    if not m:
        return None
    lat, lon = float(m[1]), float(m[2])
    if abs(lat) > 90 or abs(lon) > 180:
        return None
    result = {"latitude": lat, "longitude": lon}
    if m[3]:
        result["altitude"] = float(m[3])
    return result


def _rate(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(Fraction(value))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return round(number, 3) if math.isfinite(number) and number > 0 else None


def _short(exc: object) -> str:
    text = " ".join(str(exc).split())
    return (text[:160] + "…") if len(text) > 160 else (text or type(exc).__name__)


def _is_attached_picture(stream: Any) -> bool:
    try:
        import av

        return bool(int(stream.disposition) & int(av.stream.Disposition.attached_pic))
    except Exception:
        return False


def _read_container(path: Path, info: AVInfo, handlers: list[str], riff_times: list[str]) -> None:
    import av

    try:
        container = av.open(str(path), mode="r", metadata_errors="replace", options=dict(DECODER_OPTIONS))
    except Exception as exc:  # av.error.InvalidDataError, "moov atom not found", OSError…
        reason = getattr(exc, "strerror", None) or exc  # FFmpegError: without errno and path
        info.warnings.append(f"cannot read the media container: {_short(reason)}")
        return
    try:
        info.readable = True
        md = info.metadata
        md["container"] = container.format.name
        if container.duration is not None and container.duration > 0:
            md["duration"] = round(container.duration / 1_000_000, 3)
        if container.bit_rate:
            md["bit_rate"] = int(container.bit_rate)
        tags = dict(container.metadata or {})

        video = next((s for s in container.streams.video if not _is_attached_picture(s)), None)
        audio = next(iter(container.streams.audio), None)
        stream_tags: list[dict[str, str]] = []
        if video is not None:
            info.has_video = True
            ctx = video.codec_context
            md["video_codec"] = ctx.name
            if ctx.width and ctx.height:
                md["width"], md["height"] = int(ctx.width), int(ctx.height)
            rate = _rate(video.average_rate) or _rate(video.guessed_rate)
            if rate:
                md["frame_rate"] = rate
            if "duration" not in md and video.duration and video.time_base:
                md["duration"] = round(float(video.duration * video.time_base), 3)
            stream_tags.append(dict(video.metadata or {}))
        if audio is not None:
            info.has_audio = True
            actx = audio.codec_context
            md["audio_codec"] = actx.name
            if actx.sample_rate:
                md["sample_rate"] = int(actx.sample_rate)
            channels = getattr(actx, "channels", None)
            if channels:
                md["channels"] = int(channels)
            if "duration" not in md and audio.duration and audio.time_base:
                md["duration"] = round(float(audio.duration * audio.time_base), 3)
            stream_tags.append(dict(audio.metadata or {}))
        if video is None and audio is None:
            info.warnings.append("no audio or video stream found")

        _creation_time(info, container, tags, stream_tags, handlers, riff_times)
        gps = _parse_iso6709(tags.get("com.apple.quicktime.location.ISO6709") or tags.get("location"))
        if gps:
            md["gps"] = gps
        for key in ("com.apple.quicktime.make", "make"):
            if tags.get(key):
                md["make"] = tags[key][:200]
                break
        for key in ("com.apple.quicktime.model", "model"):
            if tags.get(key):
                md["model"] = tags[key][:200]
                break
    except Exception as exc:  # odd streams must not stop ingest
        info.warnings.append(f"media metadata partly unreadable: {_short(exc)}")
    finally:
        container.close()


# Cameras that write their local clock into creation_time, which QuickTime/MP4 define as UTC.
_LOCAL_CLOCK_MAKERS = ("GoPro",)
# GoPro firmware names: "HD5.02.02.00.00" (HERO5), "H19.03.02.00.00" (HERO8), "H22.01.01.10.00" (HERO11)…
_GOPRO_FIRMWARE = re.compile(r"^H(?:D\d|\d\d)\.\d\d\.")


def _local_clock_maker(container: Any, tags: dict[str, str], handlers: list[str]) -> str | None:
    """The maker of a camera known to write local time as creation_time, recognised by its
    track handler names ("GoPro AVC", "GoPro MET"), a GPMF track, or its maker/firmware tags."""
    texts = list(handlers)
    texts += [str(tags.get(k) or "") for k in ("make", "com.apple.quicktime.make", "encoder", "firmware")]
    for stream in container.streams:
        texts.append(str((stream.metadata or {}).get("handler_name") or ""))
    for maker in _LOCAL_CLOCK_MAKERS:
        if any(maker.lower() in text.lower() for text in texts):
            return maker
    if _GOPRO_FIRMWARE.match(str(tags.get("firmware") or "")):
        return "GoPro"
    return None


def _creation_time(info: AVInfo, container: Any, tags: dict[str, str], stream_tags: list[dict[str, str]],
                   handlers: list[str], riff_times: list[str]) -> None:
    """The container's creation time: UTC where the format says so (QuickTime/MP4), a local
    wall-clock time for AVI (IDIT, a DateTimeOriginal in its stream header) and for cameras
    that write their local clock (GoPro). Times outside 1970 … now are ignored with a warning."""
    from locker.values import in_capture_window

    md = info.metadata
    avi = container.format.name == "avi"
    maker = None if avi else _local_clock_maker(container, tags, handlers)
    candidates = [tags.get("com.apple.quicktime.creationdate"), tags.get("creation_time")]
    candidates += [t.get("creation_time") for t in stream_tags]
    if avi:  # FFmpeg reads one IDIT form into creation_time; the others are read here
        candidates += riff_times
        candidates += [t.get("DateTimeOriginal") for t in [tags, *stream_tags]]
    apple = tags.get("com.apple.quicktime.creationdate")  # written with the offset of the moment
    for index, raw in enumerate(candidates):
        if not raw:
            continue
        moment = parse_media_time(raw) or _exif_style(raw)
        if moment is None:
            continue
        local = avi or (maker is not None and not (index == 0 and apple))
        if local:
            moment = moment.replace(tzinfo=None)
        elif moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if not in_capture_window(moment):
            info.warnings.append(f"container creation time {raw.strip()[:40]!r} lies outside 1970 … now: ignored")
            continue
        md["creation_time"] = raw
        info.created_raw = raw
        if local:
            info.created_local = moment
            md["creation_time_clock"] = "local (AVI)" if avi else f"local ({maker} writes its local clock)"
        else:
            info.created = moment
        break


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
        return datetime(*(int(g) for g in m.groups()))
    except ValueError:
        return None


def inspect_av(path: Path, head: bytes) -> AVInfo:
    """Container, streams and creation time of a video/audio file. Never raises."""
    info = AVInfo()
    try:
        size = path.stat().st_size
    except OSError as exc:
        info.warnings.append(f"cannot read media file: {exc.strerror or exc}")
        return info

    scan: _IsoScan | None = None
    if head[4:8] == b"ftyp":
        try:
            with open(path, "rb") as f:
                scan = _scan_isobmff(f, size)
        except OSError:
            scan = None
    if scan is not None:
        if scan.truncated_box:
            info.warnings.append(
                f"truncated media file: the '{scan.truncated_box}' box runs past the end of the file"
            )
        elif scan.has_mdat and not scan.has_moov:
            info.warnings.append("damaged media file: no 'moov' index (recording interrupted?)")
    elif head[:4] == b"RIFF" and len(head) >= 8:
        riff_size = struct.unpack("<I", head[4:8])[0]
        if riff_size + 8 > size:
            info.warnings.append("truncated media file: RIFF header promises more bytes than present")

    riff_times: list[str] = []
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        try:
            with open(path, "rb") as f:
                riff_times = avi_header_times(f, size)
        except OSError:
            riff_times = []
    _read_container(path, info, scan.handlers if scan is not None else [], riff_times)
    if scan is not None and scan.gpmf:
        info.gps_time = gpmf_gps_time(scan.gpmf)
        if info.gps_time is not None:
            info.metadata["gps_time"] = info.gps_time.isoformat(timespec="seconds")

    if scan is not None and scan.rotation is not None and info.has_video:
        md = info.metadata
        md["rotation"] = scan.rotation
        if "width" in md and "height" in md:
            swap = scan.rotation in (90, 270)
            md["display_width"] = md["height"] if swap else md["width"]
            md["display_height"] = md["width"] if swap else md["height"]
    return info
