"""What is this file? MIME, kind, capture time and metadata of a stored exhibit.

:func:`probe` reads a few headers of a file (never the whole file, never the
pixels or frames) and answers with a :class:`Probe`. It never raises for bad
content; odd or damaged files give warnings. Only
:class:`~locker.errors.MissingDependency` escapes (no libmagic, Pillow or PyAV).

Heavy libraries (libmagic, Pillow, pillow-heif, PyAV) are imported on first use.

**Capture time** (``captured_at``, ISO 8601 with offset, seconds precision), first found wins:

1. EXIF ``DateTimeOriginal`` (source ``exif``), with ``OffsetTimeOriginal`` when
   present;
2. container creation time of video/audio (source ``container``): an offset in
   the file (QuickTime ``creationdate``) is kept; ``creation_time``, UTC by the
   ISO-BMFF/QuickTime definition, is shown in ``tz``. AVI dates (``IDIT``, a
   ``strd`` EXIF DateTimeOriginal) and the ``creation_time`` of cameras known to
   write their local clock there (GoPro: its handler names, GPMF track or
   firmware tag) are local wall-clock times (metadata ``creation_time_clock``);
3. a file-name pattern (source ``filename``, see :mod:`locker.media.timefromname`):
   wall-clock names are put in ``tz``, epoch names converted to ``tz``. A
   date-only name (``IMG-20250503-WA0001``) gives no captured_at but metadata
   ``filename_date``;
4. otherwise None. The file's mtime is never used.

A local wall-clock time (EXIF without offset, AVI, GoPro) takes its offset from a
GPS time in the same file (EXIF ``GPSDateStamp``/``GPSTimeStamp``, GoPro GPMF
``GPSU`` with a fix), which is UTC: when the difference is within 2 minutes of a
whole quarter hour and inside ±14 h, that is the offset (metadata ``offset_from:
"gps"``, ``gps_time``). A GPS time that does not fit (a date a day off) is
ignored, with ``gps_time_ignored`` and a warning saying why. Without a GPS time
the local time is put in ``tz``.

``metadata["captured_at_offset_assumed"]`` is True when the offset is the user's
zone applied to a time that had none (then ``captured_at_tz`` names the zone by
its IANA key, or as ``+08:00``; never an abbreviation). Times outside
1970-01-01 … now + 1 day (an EXIF year 0001, QuickTime's 1904) are ignored with a
warning. Chat exports get no captured_at here: the chat parser, which reads all
messages, can supply one with source ``chat``.

**Kind**:

* images: ``screenshot`` when the name says so (Screenshot…, 截屏, 截图…) or iOS
  EXIF says "Screenshot"; else ``photo`` with camera EXIF (Make, Model, lens,
  exposure, f-number, ISO, focal length; a DateTimeOriginal alone is not camera
  EXIF: phones stamp screenshots with one); else ``screenshot``
  for a PNG (cameras do not write PNG), a phone-screen shape (portrait,
  height/width ≥ 1.6) or a common desktop resolution; else ``photo`` (most such
  images are photos whose EXIF a messenger stripped). An image whose header
  cannot be read at all is ``other``;
* ``video`` for video/* (``audio`` if the container holds only audio);
  ``audio`` for audio/*, including WeChat/QQ SILK (``audio/silk``) and a WAV cut
  inside its 12-byte RIFF header (named ``audio/x-wav`` by what is left of it,
  with a warning);
* ``document`` for PDF and office documents;
* ``chat`` for a chat export the chat registry recognises (:func:`looks_like_chat`);
* ``other`` for everything else.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from locker.domain import KINDS
from locker.errors import MissingDependency
from locker.media.sniff import read_head, require_libmagic, riff_mime, sniff_mime
from locker.media.timefromname import time_from_name
from locker.values import in_capture_window, zone_name
from locker.words import is_text_mime

from ..i18n import _

if TYPE_CHECKING:
    from locker.media.images import ImageInfo

__all__ = ["Probe", "probe", "looks_like_chat", "KINDS"]


@dataclass(frozen=True)
class Probe:
    mime: str  # e.g. "image/jpeg", from content
    kind: str  # screenshot | photo | video | audio | chat | document | other
    captured_at: str | None  # ISO 8601 with offset, seconds precision
    captured_at_source: str | None  # "exif" | "container" | "filename" | "chat" | None
    metadata: dict[str, Any]  # JSON-serialisable only
    warnings: tuple[str, ...] = ()  # one-line, human-readable, English


_EXT_CATEGORY = {
    **dict.fromkeys(
        ("jpg", "jpeg", "jpe", "png", "heic", "heif", "webp", "gif", "bmp", "tif", "tiff", "avif"),
        "image",
    ),
    **dict.fromkeys(("mp4", "mov", "m4v", "3gp", "mkv", "webm", "avi", "wmv", "flv"), "video"),
    **dict.fromkeys(
        ("mp3", "m4a", "aac", "amr", "wav", "ogg", "oga", "opus", "flac", "wma", "silk", "slk"),
        "audio",
    ),
    "pdf": "PDF",
}

_DOCUMENT_MIMES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/rtf",
        "text/rtf",
    }
)

_SCREENSHOT_NAME = re.compile(
    r"screenshot|screen[ _\-]?shot|截屏|截图|屏幕截图|屏幕快照|snipaste|xnip", re.IGNORECASE
)
# Common desktop/laptop screen resolutions (landscape), for images without camera EXIF.
_DESKTOP_SIZES = frozenset(
    {(1280, 720), (1280, 800), (1366, 768), (1440, 900), (1536, 864), (1600, 900), (1680, 1050),
     (1920, 1080), (1920, 1200), (2560, 1440), (2560, 1600), (2880, 1800), (3024, 1964),
     (3456, 2234), (3840, 2160)}
)
_PHONE_ASPECT = 1.6


def _extension(name: str) -> str:
    base = re.split(r"[\\/]", name)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base.strip(".") else ""


def _name_mismatch(original_name: str, mime: str) -> str | None:
    ext = _extension(original_name)
    category = _EXT_CATEGORY.get(ext)
    if category is None:
        return None
    if category == "image" and mime.startswith("image/"):
        return None
    if category in ("video", "audio") and mime.startswith(("video/", "audio/")):
        return None
    if category == "PDF" and mime == "application/pdf":
        return None
    return f"name says {category} (.{ext}) but content is {mime}"


def _image_kind(info: ImageInfo, mime: str, original_name: str) -> str:
    if _SCREENSHOT_NAME.search(original_name) or info.screenshot_hint:
        return "screenshot"
    if info.camera:
        return "photo"
    if mime == "image/png":
        return "screenshot"
    width, height = info.metadata.get("width"), info.metadata.get("height")
    orientation = (info.metadata.get("exif") or {}).get("Orientation")
    if width and height:
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        if height / width >= _PHONE_ASPECT or (width, height) in _DESKTOP_SIZES:
            return "screenshot"
    return "photo"


def _localize(naive: datetime, tz: tzinfo) -> datetime:
    localize = getattr(tz, "localize", None)  # pytz zones need localize(), not replace()
    if callable(localize):
        localized: datetime = localize(naive)
        return localized
    return naive.replace(tzinfo=tz)


GPS_SLACK = timedelta(minutes=2)
"""How far a GPS time may sit from a whole quarter-hour offset of the local clock (clock drift,
the seconds between the shutter and the GPS fix)."""


def _offset_from_gps(local: datetime, gps: datetime, metadata: dict[str, Any],
                     warnings: list[str]) -> timedelta | None:
    """The UTC offset a local wall-clock time had, from a GPS time (UTC) taken with it: the
    difference when it is within :data:`GPS_SLACK` of a whole quarter hour and inside ±14 h.
    Otherwise (a GPS date a day off, a clock set wrong) None, and the metadata says why."""
    quarter = timedelta(minutes=15)
    difference = local - gps.astimezone(UTC).replace(tzinfo=None)
    offset = round(difference / quarter) * quarter
    if abs(difference - offset) <= GPS_SLACK and abs(offset) <= timedelta(hours=14):
        return offset
    reason = (f"GPS time {gps.isoformat(timespec='seconds')} is not a whole quarter-hour offset within "
              f"±14 h of the local time {local.isoformat(timespec='seconds')}: ignored")
    metadata["gps_time_ignored"] = reason
    warnings.append(reason)
    return None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return None
    return str(value)


def _missing(exc: ImportError) -> MissingDependency:
    name = exc.name or "a required library"
    return MissingDependency(_("{name} is not installed: reinstall locker's dependencies ({error})").format(name=name, error=exc))


_ZIP_MIMES = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})


def looks_like_chat(path: Path, mime: str) -> str | None:
    """The chat format of the file at ``path`` (sniffed MIME ``mime``) as the chat registry
    detects it, for text and ZIP files; None for other files and for no chat we know.
    Reads at most 64 KiB (of the file, or of a ZIP's chat member). Never raises."""
    zip_mime = mime in _ZIP_MIMES
    if not (zip_mime or is_text_mime(mime)):
        return None
    from locker.chats import detect_format

    try:
        with open(path, "rb") as f:
            zip_content = f.read(4) == b"PK\x03\x04"
    except OSError:
        return None
    # A ZIP is asked about the formats that are ZIPs, a text file about the others.
    return detect_format(path) if zip_mime == zip_content else None


@dataclass
class _Found:
    """What the extractor of a file's type found: its kind and the times it carries."""

    kind: str = "other"
    taken: datetime | None = None          # EXIF DateTimeOriginal (aware or wall-clock)
    created: datetime | None = None        # a container's creation time, aware
    created_local: datetime | None = None  # a container's wall-clock creation time
    gps_time: datetime | None = None       # a GPS time (UTC) taken with the picture or video


def _sniffed_mime(path: Path, head: bytes, original_name: str, warnings: list[str]) -> str:
    """The MIME type from content; a RIFF file cut inside its header is named by what is left."""
    mime = sniff_mime(head)
    if head.startswith(b"RIFF") and not mime.startswith(("audio/", "video/", "image/")):
        named = riff_mime(head, _extension(original_name))
        if named:
            mime = named
            label = {"audio/x-wav": "WAV", "video/x-msvideo": "AVI"}.get(named, "WebP")
            warnings.append(f"truncated {label} file: only {len(head)} bytes, cut inside its RIFF header")
    mismatch = _name_mismatch(original_name, mime)
    if mismatch:
        warnings.append(mismatch)
    return mime


def _inspect(path: Path, head: bytes, mime: str, original_name: str, metadata: dict[str, Any],
             warnings: list[str]) -> _Found:
    """Ask the extractor of the file's type (image, audio/video, PDF, chat) what it finds."""
    found = _Found()
    if mime.startswith("image/") and mime != "image/svg+xml":
        from locker.media.images import inspect_image

        image = inspect_image(path, mime)
        metadata.update(image.metadata)
        warnings.extend(image.warnings)
        found.kind = _image_kind(image, mime, original_name) if image.readable else "other"
        found.taken, found.gps_time = image.taken, image.gps_time
    elif mime == "audio/silk":
        found.kind = "audio"
        metadata.update({"container": "silk", "audio_codec": "silk_v3"})
    elif mime.startswith(("video/", "audio/")):
        from locker.media.av_probe import inspect_av

        media = inspect_av(path, head)
        metadata.update(media.metadata)
        warnings.extend(media.warnings)
        video_only_audio = media.readable and media.has_audio and not media.has_video
        found.kind = "video" if mime.startswith("video/") and not video_only_audio else "audio"
        found.created, found.created_local, found.gps_time = media.created, media.created_local, media.gps_time
    elif mime in _DOCUMENT_MIMES:
        found.kind = "document"
        if mime == "application/pdf":
            from locker.media.pdf import inspect_pdf

            pdf = inspect_pdf(path)
            metadata.update(pdf.metadata)
            warnings.extend(pdf.warnings)
    else:
        chat_format = looks_like_chat(path, mime)
        if chat_format:
            found.kind = "chat"
            metadata["chat_format"] = chat_format
    from locker.media.credentials import may_carry, read_credentials

    if may_carry(mime):  # content credentials (C2PA) and the GB 45438-2025 AIGC label
        metadata.update(read_credentials(path, mime))
    return found


def _capture_time(found: _Found, original_name: str, tz: tzinfo, metadata: dict[str, Any],
                  warnings: list[str]) -> tuple[datetime | None, str | None]:
    """(capture time, its source), first found wins: EXIF, the container, the file name."""
    captured: datetime | None = None
    source: str | None = None
    assumed = False
    local: datetime | None = None  # a wall-clock time without offset, from the file
    if found.taken is not None:
        source = "exif"
        if found.taken.tzinfo is None:
            local = found.taken
        else:
            captured = found.taken
    elif found.created is not None:
        source = "container"
        # An offset written in the file is kept; UTC is shown in the user's zone.
        created = found.created
        captured = created.astimezone(tz) if created.utcoffset() == timedelta(0) else created
    elif found.created_local is not None:
        source = "container"
        local = found.created_local
    if local is not None:
        gps_time = found.gps_time
        offset = _offset_from_gps(local, gps_time, metadata, warnings) if gps_time is not None else None
        if offset is not None:
            captured = local.replace(tzinfo=timezone(offset))
            metadata["offset_from"] = "gps"
        else:
            captured, assumed = _localize(local, tz), True
    elif source is None:
        captured, assumed, source = _time_from_name(original_name, tz, metadata)
    if captured is not None and not in_capture_window(captured):
        warnings.append(f"capture time {captured.isoformat(timespec='seconds')} lies outside 1970 … now: ignored")
        captured, source, assumed = None, None, False
    if captured is not None:
        metadata["captured_at_offset_assumed"] = assumed
        if assumed:
            metadata["captured_at_tz"] = zone_name(tz)
    return captured, source


def _time_from_name(original_name: str, tz: tzinfo,
                    metadata: dict[str, Any]) -> tuple[datetime | None, bool, str | None]:
    """(capture time, offset assumed, "filename") from a file-name pattern, or (None, False, None)."""
    named = time_from_name(original_name)
    if named is None:
        return None, False, None
    metadata["filename_pattern"] = named.pattern
    if named.kind == "local":
        assert isinstance(named.value, datetime)
        return _localize(named.value, tz), True, "filename"
    if named.kind == "instant":
        assert isinstance(named.value, datetime)
        return named.value.astimezone(tz), False, "filename"
    metadata["filename_date"] = named.value.isoformat()
    return None, False, None


def warm() -> None:
    """Load now what the first probe of a picture would load while the user waits: the picture and
    credential readers (15 ms), libmagic's database (17 ms) and Pillow's common format plugins
    (20 ms). ``add`` calls it on a thread of its own while its first files are copied, or before it
    forks its stager processes. The chat readers (30 ms) are left for the first text file: a folder
    of photos never needs them. Without libmagic it does nothing (the probe says so)."""
    import locker.media.credentials  # noqa: F401
    import locker.media.images  # noqa: F401

    try:
        sniff_mime(b"\x89PNG\r\n\x1a\n")
    except MissingDependency:
        return
    from PIL import Image

    Image.preinit()


def probe(path: Path, original_name: str, tz: tzinfo, head: bytes | None = None) -> Probe:
    """Look at a stored file (read-only) and say what it is. Never raises for bad content:
    damaged/odd files give warnings. Only MissingDependency may escape. ``head``: the file's first
    HEAD_SIZE bytes (all of a shorter file), where the caller holds them already (``add``, from
    its copy); else they are read from the file."""
    path = Path(path)
    warnings: list[str] = []
    metadata: dict[str, Any] = {}
    try:
        if head is None:
            head = read_head(path)
    except OSError as exc:
        require_libmagic()  # a missing libmagic is reported whatever the file
        return Probe("application/octet-stream", "other", None, None, {},
                     (f"cannot read file: {exc.strerror or exc}",))
    mime = _sniffed_mime(path, head, original_name, warnings)
    try:
        found = _inspect(path, head, mime, original_name, metadata, warnings)
    except MissingDependency:
        raise
    except ImportError as exc:
        raise _missing(exc) from exc
    except Exception as exc:  # a bug or a hostile file an extractor did not foresee
        found = _Found()
        warnings.append(f"could not inspect the file ({type(exc).__name__}: {exc})"[:200])
    captured, source = _capture_time(found, original_name, tz, metadata, warnings)
    captured_at = captured.replace(microsecond=0).isoformat(timespec="seconds") if captured else None
    return Probe(
        mime=mime,
        kind=found.kind,
        captured_at=captured_at,
        captured_at_source=source,
        metadata=_jsonable(metadata),
        warnings=tuple(dict.fromkeys(w.replace("\n", " ") for w in warnings)),
    )
