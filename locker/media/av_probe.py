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
    created: datetime | None = None
    created_raw: str | None = None
    has_video: bool = False
    has_audio: bool = False
    readable: bool = False


@dataclass
class _IsoScan:
    truncated_box: str | None = None
    has_moov: bool = False
    has_mdat: bool = False
    rotation: int | None = None


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
            scan.rotation = _video_track_rotation(f, payload, min(end, size))
        if end > size:
            break
    return scan


def _video_track_rotation(f: BinaryIO, start: int, end: int) -> int | None:
    for kind, payload, trak_end in _boxes(f, start, end):
        if kind != b"trak":
            continue
        tkhd = handler = None
        for child, child_payload, child_end in _boxes(f, payload, min(trak_end, end)):
            if child == b"tkhd":
                f.seek(child_payload)
                tkhd = f.read(min(child_end - child_payload, 128))
            elif child == b"mdia":
                for sub, sub_payload, _sub_end in _boxes(f, child_payload, min(child_end, end)):
                    if sub == b"hdlr":
                        f.seek(sub_payload + 8)
                        handler = f.read(4)
                        break
        if handler == b"vide" and tkhd is not None:
            return _rotation_from_tkhd(tkhd)
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
    if not 2000 <= moment.year <= 2100:
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


def _read_container(path: Path, info: AVInfo) -> None:
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

        candidates = [tags.get("com.apple.quicktime.creationdate"), tags.get("creation_time")]
        candidates += [t.get("creation_time") for t in stream_tags]
        for raw in candidates:
            moment = parse_media_time(raw)
            if moment is not None:
                info.created, info.created_raw = moment, raw
                md["creation_time"] = raw
                break
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

    _read_container(path, info)

    if scan is not None and scan.rotation is not None and info.has_video:
        md = info.metadata
        md["rotation"] = scan.rotation
        if "width" in md and "height" in md:
            swap = scan.rotation in (90, 270)
            md["display_width"] = md["height"] if swap else md["width"]
            md["display_height"] = md["width"] if swap else md["height"]
    return info
