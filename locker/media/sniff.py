"""MIME type from content: libmagic, plus the few formats it gets wrong or vague.

libmagic is asked about the first :data:`HEAD_SIZE` bytes only. On top of it:

* ISO-BMFF images (HEIC/HEIF/AVIF) are recognised from the ``ftyp`` box brands
  when libmagic answers something generic, or when the *major* brand is an
  image brand (no video file has ``heic`` or ``mif1`` as its major brand);
* a RIFF file cut inside its 12-byte header is named by what is left of it
  (:func:`riff_mime`);
* WeChat/QQ SILK voice notes (``#!SILK_V3`` at offset 0, or at offset 1 after a
  0x02 byte) become ``audio/silk``; libmagic calls them octet-stream and stock
  FFmpeg cannot decode them.
"""

from __future__ import annotations

import struct
import threading
from pathlib import Path
from typing import Any

from locker.errors import MissingDependency

from ..i18n import N_, _

HEAD_SIZE = 64 * 1024
"""How many leading bytes are read to sniff a file."""

GENERIC_MIMES = frozenset(
    {
        "application/octet-stream",
        "application/x-iso-media",
        "application/x-empty",
        "inode/x-empty",
    }
)

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_IMAGE_BRANDS = _HEIC_BRANDS | _HEIF_BRANDS | _AVIF_BRANDS

_SILK_MAGIC = b"#!SILK_V3"

_INSTALL_HINT = N_(
    "python-magic needs the libmagic system library: "
    "on Debian/Ubuntu run 'apt-get install libmagic1', "
    "on macOS run 'brew install libmagic'"
)

_lock = threading.Lock()
_magic: Any = None


def require_libmagic() -> Any:
    """The cached ``magic.Magic(mime=True)``; raises MissingDependency without libmagic."""
    global _magic
    if _magic is None:
        with _lock:
            if _magic is None:
                try:
                    import magic
                except ImportError as exc:  # python-magic raises ImportError if libmagic is absent
                    raise MissingDependency(_(_INSTALL_HINT) + f" ({exc})") from exc
                try:
                    _magic = magic.Magic(mime=True)
                except Exception as exc:  # a broken libmagic install / missing magic database
                    raise MissingDependency(_(_INSTALL_HINT) + f" ({exc})") from exc
    return _magic


def read_head(path: Path, size: int = HEAD_SIZE) -> bytes:
    """The first ``size`` bytes of ``path`` (fewer if the file is shorter)."""
    with open(path, "rb") as f:
        return f.read(size)


def ftyp_brands(head: bytes) -> tuple[bytes, list[bytes]] | None:
    """(major brand, compatible brands) of an ISO-BMFF file's leading ``ftyp`` box, else None."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    size = struct.unpack(">I", head[:4])[0]
    if size == 1 and len(head) >= 16:  # 64-bit largesize: unusual for ftyp, but legal
        size = struct.unpack(">Q", head[8:16])[0]
        body_start = 16
    else:
        body_start = 8
    if size < body_start + 8:
        return None
    end = min(size, len(head), 4096)
    major = head[body_start : body_start + 4]
    compatible = [head[i : i + 4] for i in range(body_start + 8, end - 3, 4)]
    return major, compatible


def _image_mime_from_brands(brands: list[bytes]) -> str | None:
    names = set(brands)
    if names & _AVIF_BRANDS and not names & _HEIC_BRANDS:
        return "image/avif"
    if names & _HEIC_BRANDS:
        return "image/heic"
    if names & _HEIF_BRANDS:
        return "image/heif"
    return None


def heif_mime(head: bytes, libmagic_mime: str) -> str | None:
    """image/heic, image/heif or image/avif when the ftyp brands say so, else None.

    The major brand decides on its own; compatible brands are only consulted when
    libmagic had nothing specific to say (a plain MP4 may list ``mif1`` among them).
    """
    found = ftyp_brands(head)
    if found is None:
        return None
    major, compatible = found
    if major in _IMAGE_BRANDS:
        if major in _HEIF_BRANDS:  # mif1/msf1 is the container; the codec brand is in the list
            return _image_mime_from_brands([major, *compatible])
        return _image_mime_from_brands([major])
    if libmagic_mime in GENERIC_MIMES or "iso" in libmagic_mime:
        return _image_mime_from_brands(compatible)
    return None


def is_silk(head: bytes) -> bool:
    """True for a SILK v3 voice note (WeChat: magic at 0; QQ: 0x02 then the magic)."""
    return head.startswith(_SILK_MAGIC) or (head[:1] == b"\x02" and head[1:10] == _SILK_MAGIC)


_RIFF_FORMS = {b"WAVE": "audio/x-wav", b"AVI ": "video/x-msvideo", b"WEBP": "image/webp"}


def riff_mime(head: bytes, extension: str = "") -> str | None:
    """The MIME type a RIFF file's header names, for a file cut so short that libmagic no
    longer sees it (under 12 bytes it answers text/plain or octet-stream).

    The form type at offset 8 decides; cut before or inside it, the forms it could still be
    are narrowed by the name's extension. None when nothing decides, or not RIFF at all.
    """
    if not head.startswith(b"RIFF"):
        return None
    form = head[8:12]
    possible = [mime for name, mime in _RIFF_FORMS.items() if name.startswith(form)]
    if len(possible) == 1:
        return possible[0]
    by_extension = {"wav": "audio/x-wav", "wave": "audio/x-wav", "avi": "video/x-msvideo", "webp": "image/webp"}
    named = by_extension.get(extension.lower())
    return named if named in possible else None


def sniff_mime(head: bytes) -> str:
    """The MIME type of a file whose first bytes are ``head``.

    Raises :class:`~locker.errors.MissingDependency` when libmagic is missing.
    """
    m = require_libmagic()
    if is_silk(head):
        return "audio/silk"
    try:
        mime = str(m.from_buffer(head)) if head else "application/x-empty"
    except Exception:  # libmagic choking on odd content must not stop ingest
        mime = "application/octet-stream"
    mime = mime.split(";", 1)[0].strip().lower() or "application/octet-stream"
    if mime not in ("image/heic", "image/heif", "image/avif"):
        better = heif_mime(head, mime)
        if better:
            return better
    return mime

