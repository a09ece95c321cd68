"""Image metadata with Pillow (and pillow-heif for HEIC/HEIF), without decoding pixels.

``Image.open`` reads headers only; nothing here calls ``load()``, ``verify()`` or
``getdata()``. Pillow is imported on first use, pillow-heif only for HEIF files.

Pixel limit: :data:`SAFE_DECODE_PIXELS` (300 MP) is set as Pillow's
``MAX_IMAGE_PIXELS``, deliberately (a real 200 MP phone photo passes, a crafted
PNG bomb does not). Pillow warns above it and refuses to open above twice it;
both become the warning "image too large to decode safely (W×H)" with the size
still recorded (read from the header without Pillow's check, nothing decoded).
"""

from __future__ import annotations

import math
import re
import struct
import threading
import warnings as _warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from locker.values import in_capture_window

SAFE_DECODE_PIXELS = 300_000_000
"""Images above this many pixels are not decoded by the locker (Pillow's MAX_IMAGE_PIXELS)."""

HEIF_MAX_BYTES = 128 * 1024 * 1024
"""pillow-heif reads a whole file into memory to parse it: larger HEIF files are not opened."""

_TAIL = 64 * 1024
_HEIF_MIMES = frozenset({"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"})

# EXIF tags (numbers from the EXIF 2.32 / TIFF 6 specifications)
_IFD_EXIF = 0x8769
_IFD_GPS = 0x8825
_BASE_TAGS = {0x010F: "Make", 0x0110: "Model", 0x0131: "Software", 0x0112: "Orientation",
              0x0132: "DateTime"}
_EXIF_TAGS = {0x9003: "DateTimeOriginal", 0x9011: "OffsetTimeOriginal", 0x829A: "ExposureTime",
              0x829D: "FNumber", 0x8827: "ISOSpeedRatings", 0x920A: "FocalLength",
              0xA434: "LensModel", 0x9286: "UserComment"}
# What makes EXIF a camera's: who made it, or how it was exposed. A DateTimeOriginal alone is not
# (phones, editors and messengers stamp screenshots with one).
_CAMERA_TAGS = ("Make", "Model", "LensModel", "ExposureTime", "FNumber", "ISOSpeedRatings", "FocalLength")

_EXIF_DATETIME = re.compile(r"^\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")

_setup_lock = threading.Lock()
# warnings.catch_warnings() swaps process-wide state: header reads that record
# Pillow's warnings take turns (each is well under a millisecond for a photo).
_warnings_lock = threading.Lock()
_pil_ready = False
_heif_ready = False


@dataclass
class ImageInfo:
    """What :func:`inspect_image` found. ``taken`` is aware when EXIF gave an offset."""

    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    taken: datetime | None = None
    camera: bool = False  # camera EXIF present (Make/Model/lens/exposure; not a date alone)
    gps_time: datetime | None = None  # GPSDateStamp + GPSTimeStamp (UTC, aware)
    screenshot_hint: bool = False  # EXIF UserComment says "Screenshot" (iOS)
    readable: bool = False  # the header could be read (format and size known)


def _pil() -> Any:
    """PIL.Image, with the locker's pixel limit applied once."""
    global _pil_ready
    from PIL import Image

    if not _pil_ready:
        with _setup_lock:
            Image.MAX_IMAGE_PIXELS = SAFE_DECODE_PIXELS
            _pil_ready = True
    return Image


def register_heif() -> None:
    """Register pillow-heif's opener with Pillow (once, lazily)."""
    global _heif_ready
    if _heif_ready:
        return
    with _setup_lock:
        if not _heif_ready:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _heif_ready = True


def _text(value: Any, limit: int = 200) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", " ").strip()
    return value[:limit] or None


def _number(value: Any) -> float | int | None:
    if isinstance(value, (tuple, list)):
        value = value[0] if value else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _user_comment(value: Any) -> str | None:
    if isinstance(value, str):
        return _text(value)
    if not isinstance(value, bytes):
        return None
    code, body = value[:8], value[8:]
    if code.startswith(b"UNICODE"):
        for enc in ("utf-16-be", "utf-16-le"):
            try:
                return _text(body.decode(enc))
            except UnicodeDecodeError:
                continue
        return None
    return _text(body if code in (b"ASCII\0\0\0", b"\0" * 8, b"JIS\0\0\0\0\0") else value)


def _gps_coordinate(value: Any, ref: Any, limit: float) -> float | None:
    try:
        parts = [float(p) for p in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts or len(parts) > 3 or not all(math.isfinite(p) for p in parts):
        return None
    parts += [0.0] * (3 - len(parts))
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    ref_text = _text(ref) or ""
    if ref_text[:1].upper() in ("S", "W"):
        degrees = -degrees
    if abs(degrees) > limit:
        return None
    return round(degrees, 7)


def _gps(gps_ifd: dict[int, Any]) -> dict[str, float] | None:
    lat = _gps_coordinate(gps_ifd.get(2), gps_ifd.get(1), 90.0) if 2 in gps_ifd else None
    lon = _gps_coordinate(gps_ifd.get(4), gps_ifd.get(3), 180.0) if 4 in gps_ifd else None
    if lat is None or lon is None:
        return None
    result: dict[str, float] = {"latitude": lat, "longitude": lon}
    alt = _number(gps_ifd.get(6))
    if alt is not None:
        ref = gps_ifd.get(5)
        below = ref in (1, b"\x01") or (isinstance(ref, bytes) and ref[:1] == b"\x01")
        result["altitude"] = round(-float(alt) if below else float(alt), 2)
    return result


def parse_exif_datetime(text: str | None, offset: str | None) -> datetime | None:
    """EXIF "YYYY:MM:DD HH:MM:SS" (+ optional "+08:00") → datetime (aware if offset given)."""
    if not text:
        return None
    m = _EXIF_DATETIME.match(text)
    if not m:
        return None
    try:
        y, mo, d, h, mi, s = (int(g) for g in m.groups())
        taken = datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None
    if offset:
        o = _EXIF_OFFSET.match(offset)
        if o:
            minutes = int(o[2]) * 60 + int(o[3])
            if minutes <= 14 * 60 and int(o[3]) < 60:
                sign = -1 if o[1] == "-" else 1
                taken = taken.replace(tzinfo=timezone(timedelta(minutes=sign * minutes)))
    return taken


_GPS_DATE = re.compile(r"^\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})")


def gps_datetime(date_stamp: Any, time_stamp: Any) -> datetime | None:
    """EXIF ``GPSDateStamp`` ("YYYY:MM:DD") + ``GPSTimeStamp`` (hours, minutes, seconds as
    rationals) → an aware UTC datetime, whole seconds; None when either is missing or odd.
    GPS time is UTC by the EXIF specification."""
    m = _GPS_DATE.match(_text(date_stamp) or "")
    if not m or not isinstance(time_stamp, (tuple, list)) or len(time_stamp) != 3:
        return None
    try:
        h, mi, sec = (float(part) for part in time_stamp)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(math.isfinite(x) and x >= 0 for x in (h, mi, sec)) or h >= 24 or mi >= 60 or sec >= 61:
        return None
    try:
        day = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
        return day + timedelta(hours=int(h), minutes=int(mi), seconds=int(sec))
    except (ValueError, OverflowError):
        return None


def _png_walk(path: Path, size: int) -> tuple[bytes | None, bool | None]:
    """(eXIf chunk, file complete?) by seeking from chunk header to chunk header.

    Complete means an IEND chunk was reached with every chunk inside the file;
    None when there were too many chunks to walk.
    """
    exif = None
    with open(path, "rb") as f:
        pos = 8
        f.seek(pos)
        for _ in range(200_000):
            header = f.read(8)
            if len(header) < 8:
                return exif, False
            length, ctype = struct.unpack(">I4s", header)
            if pos + 12 + length > size:
                return exif, False
            if ctype == b"eXIf" and exif is None and length <= 1024 * 1024:
                exif = f.read(length)
                f.seek(4, 1)
            else:
                f.seek(length + 4, 1)
            pos += 12 + length
            if ctype == b"IEND":
                return exif, True
    return exif, None


def _jpeg_complete(path: Path, size: int) -> bool | None:
    """True if the entropy-coded data ends with EOI (FFD9), False if it is cut off.

    Walks the marker segments to the first SOS (skipping APPn blocks, whose
    thumbnails carry their own FFD9), then looks for FFD9 in the last 64 KiB
    after it: entropy-coded data never contains FFD9, so its absence means the
    file was cut. Motion photos (a video appended) give None: the tail is video.
    """
    with open(path, "rb") as f:
        if f.read(2) != b"\xff\xd8":
            return False
        sos = None
        motion = False
        for _ in range(10_000):
            byte = f.read(1)
            if not byte:
                return False
            if byte != b"\xff":
                return None  # not at a marker: odd file, do not guess
            marker = f.read(1)
            while marker == b"\xff":
                marker = f.read(1)
            if not marker:
                return False
            code = marker[0]
            if code == 0xD9:
                return True
            if code in (0x01, *range(0xD0, 0xD8)):
                continue
            raw = f.read(2)
            if len(raw) < 2:
                return False
            length = struct.unpack(">H", raw)[0]
            if length < 2:
                return None
            if code == 0xDA:
                sos = f.tell()
                break
            if code == 0xE1:
                segment = f.read(length - 2)
                if b"MotionPhoto" in segment or b"MicroVideo" in segment:
                    motion = True
            else:
                f.seek(length - 2, 1)
            if f.tell() > size:
                return False
        if sos is None:
            return None
        start = max(sos, size - _TAIL)
        f.seek(start)
        tail = f.read(size - start)
    if b"\xff\xd9" in tail:
        return True
    if motion or b"SEFT" in tail or b"ftyp" in tail:
        return None
    return False


def _dims_without_bomb_check(Image: Any, path: Path) -> tuple[int, int] | None:
    """Width and height read by the format plugin directly, skipping the pixel-limit check.

    This is what ``Image.open`` does before its check; headers only, nothing decoded.
    """
    try:
        Image.init()
        with open(path, "rb") as f:
            prefix = f.read(16)
            for fmt in Image.ID:
                factory, accept = Image.OPEN[fmt]
                ok = accept(prefix) if accept else True
                if not ok or isinstance(ok, str):
                    continue
                f.seek(0)
                try:
                    im = factory(f, str(path))
                except Exception:
                    continue
                return int(im.size[0]), int(im.size[1])
    except Exception:
        return None
    return None


def _too_large(width: int, height: int) -> str:
    return f"image too large to decode safely ({width}×{height})"


def _read_exif(img: Any, fmt: str, png_exif: bytes | None, Image: Any) -> Any:
    if fmt == "PNG":  # PngImageFile.getexif() would decode the pixels to look after IDAT
        raw = img.info.get("exif") or png_exif
        exif = Image.Exif()
        if raw:
            exif.load(raw[6:] if raw.startswith(b"Exif\x00\x00") else raw)
        return exif
    return img.getexif()


def _apply_exif(info: ImageInfo, exif: Any) -> None:
    if not len(exif):  # no tags at all (most screenshots): nothing below could find one (35 µs a file)
        return
    fields: dict[str, Any] = {}
    for tag, name in _BASE_TAGS.items():
        value = exif.get(tag)
        fields[name] = _number(value) if name == "Orientation" else _text(value)
    try:
        sub = exif.get_ifd(_IFD_EXIF)
    except Exception:
        sub = {}
        info.warnings.append("EXIF sub-directory is damaged")
    for tag, name in _EXIF_TAGS.items():
        value = sub.get(tag)
        if name == "UserComment":
            fields[name] = _user_comment(value)
        elif name in ("ExposureTime", "FNumber", "ISOSpeedRatings", "FocalLength"):
            fields[name] = _number(value)
        else:
            fields[name] = _text(value)
    fields = {k: v for k, v in fields.items() if v is not None}
    if fields:
        info.metadata["exif"] = fields
    try:
        gps_ifd = exif.get_ifd(_IFD_GPS)
        gps = _gps(gps_ifd)
        info.gps_time = gps_datetime(gps_ifd.get(29), gps_ifd.get(7))
    except Exception:
        gps = None
        info.warnings.append("EXIF GPS directory is damaged")
    if gps:
        info.metadata["gps"] = gps
    if info.gps_time is not None:
        info.metadata["gps_time"] = info.gps_time.isoformat(timespec="seconds")

    info.camera = any(name in fields for name in _CAMERA_TAGS)
    info.screenshot_hint = "screenshot" in (fields.get("UserComment") or "").lower()
    original = fields.get("DateTimeOriginal")
    if original:
        taken = parse_exif_datetime(original, fields.get("OffsetTimeOriginal"))
        if taken is None:
            info.warnings.append(f"EXIF DateTimeOriginal is not a usable date: {original!r}")
        elif not in_capture_window(taken):
            info.warnings.append(f"EXIF DateTimeOriginal {original!r} lies outside 1970 … now: ignored")
        else:
            info.taken = taken


def inspect_image(path: Path, mime: str) -> ImageInfo:
    """Read an image's header and EXIF. Never raises: problems become warnings."""
    info = ImageInfo()
    try:
        size = path.stat().st_size
    except OSError as exc:
        info.warnings.append(f"cannot read image: {exc.strerror or exc}")
        return info
    Image = _pil()
    if mime in _HEIF_MIMES or mime == "image/avif":
        if size > HEIF_MAX_BYTES:
            info.warnings.append(f"HEIF image larger than {HEIF_MAX_BYTES >> 20} MiB not opened")
            return info
        try:
            register_heif()
        except ImportError:
            info.warnings.append("pillow-heif is not installed: HEIF metadata not read")

    png_exif: bytes | None = None
    png_complete: bool | None = None
    if mime == "image/png":
        try:
            png_exif, png_complete = _png_walk(path, size)
        except OSError:
            png_complete = None

    with _warnings_lock, _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            with Image.open(path) as img:
                fmt = str(img.format or "")
                width, height = int(img.size[0]), int(img.size[1])
                info.readable = True
                info.metadata.update({"width": width, "height": height, "format": fmt})
                if width * height > SAFE_DECODE_PIXELS:
                    info.warnings.append(_too_large(width, height))
                try:
                    _apply_exif(info, _read_exif(img, fmt, png_exif, Image))
                except Exception as exc:
                    info.warnings.append(f"EXIF data is damaged ({type(exc).__name__})")
        except Image.DecompressionBombError:
            dims = _dims_without_bomb_check(Image, path)
            if dims:
                info.readable = True
                info.metadata.update({"width": dims[0], "height": dims[1]})
                info.warnings.append(_too_large(*dims))
            else:
                info.warnings.append("image too large to decode safely")
        except Exception as exc:  # hostile input: UnidentifiedImageError, OSError, SyntaxError…
            info.warnings.append(f"truncated or damaged image (header unreadable: {_short(exc)})")
            return info
    for w in caught:
        if issubclass(w.category, Image.DecompressionBombWarning):
            continue  # already reported with the size
        message = f"image metadata: {_short(w.message)}"
        if message not in info.warnings:
            info.warnings.append(message)

    complete: bool | None = None
    try:
        if info.metadata.get("format") == "JPEG" or mime == "image/jpeg":
            complete = _jpeg_complete(path, size)
        elif mime == "image/png":
            complete = png_complete
    except OSError:
        complete = None
    if complete is False:
        info.warnings.append("truncated or damaged image")
    return info


def _short(exc: object) -> str:
    # Pillow names the file it could not identify: that is the locker's own temp file, not the user's.
    text = " ".join(re.sub(r"image file '[^']*'", "image file", str(exc)).split())
    return (text[:160] + "…") if len(text) > 160 else (text or type(exc).__name__)
