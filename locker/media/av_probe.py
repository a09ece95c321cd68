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
from typing import Any

from locker.media.avi import AVI_HEADER_MAX, _exif_style, avi_header_times  # noqa: F401
from locker.media.isobmff import GPMF_SAMPLE_MAX, _IsoScan, _scan_isobmff, gpmf_gps_time  # noqa: F401

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
        y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
        moment = datetime(y, mo, d, h, mi, s)
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
