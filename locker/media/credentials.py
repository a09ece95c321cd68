"""Content credentials (C2PA) and China's AI-generated-content label (GB 45438-2025), read-only.

:func:`read_credentials` looks at a file the locker stores and returns what goes into the
exhibit's metadata:

* ``c2pa``: when the file embeds a C2PA manifest store (Google Pixel, Xiaomi, vivo, Leica and
  others sign at capture; editors sign their edits), its active manifest read and validated
  offline with ``c2pa-python`` (the optional extra ``c2pa``):

  - ``state``: ``valid`` (signatures and hashes check out *and* the signer chains to the
    C2PA trust list shipped in ``locker/data/c2pa/``), ``untrusted`` (they check out but the
    signer is not on that list: anybody can make such a certificate), ``invalid`` (a hash or
    signature fails: the file or its manifest changed after signing), or ``unchecked`` (the
    file carries a manifest but it was not validated: ``reason`` is ``not_installed`` when
    ``c2pa-python`` is not installed, ``unsupported_format`` when it does not read this format,
    ``remote_manifest`` when the file's XMP ``dcterms:provenance`` names a manifest kept online,
    whose URL ``manifest_url`` gives: the locker never fetches it);
  - ``signer`` (the organisation of the signing certificate), ``signer_name`` (its common
    name), ``signed_at``, ``claim_generator``, ``actions`` (``c2pa.created``,
    ``c2pa.edited``…), ``digital_source_type`` (the IPTC term, e.g.
    ``trainedAlgorithmicMedia`` for generative AI), ``codes`` (the validation codes that
    failed), ``trust_list`` (what "trusted" was judged against) and ``checked_with``.

* ``aigc``: when the file's XMP carries the ``TC260:AIGC`` property of the namespace
  ``http://www.tc260.org.cn/ns/AIGC/1.0/`` (the implicit label that GB 45438-2025 asks
  generative-AI services in China to write): ``label`` as written (``"1"`` the content is
  AI-generated, ``"2"`` it may be, ``"3"`` it is suspected to be), ``meaning``, ``producer``,
  ``produce_id``, ``propagator``, ``propagate_id``, and ``standard``.

Speed: only MIME types that can carry a manifest or XMP are looked at. JPEG, PNG, WebP and ISO
BMFF files are walked by their structure and only their metadata segments, chunks or boxes are
read (pixels and frames are skipped: searching compressed data byte by byte costs 2–5 ms a MB);
other formats have their first and last :data:`SMALL_WINDOW` bytes searched. What is looked for
is a manifest store (the JUMBF description box of a C2PA store, with its fixed UUID) or the
AIGC namespace. ``c2pa`` (a 23 MB native library,
~0.3 s to import) is imported only when a store was found. Validation hashes the whole file,
as it must. Nothing here uses the network: remote manifests and OCSP are not fetched.

Extra trust anchors (an organisation's own CA, or the C2PA test root in the tests) can be
named by the environment variable ``LOCKER_C2PA_ANCHORS``: a PEM file whose certificates are
trusted besides the shipped list; ``trust_list`` then says so.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any, BinaryIO

WINDOW = 1 << 20
SMALL_WINDOW = 1 << 18
"""Bytes read at each end of a file of another format to find a manifest store or an XMP packet."""

MAX_ACTIONS = 20

# A C2PA manifest store is a JUMBF superbox whose description box ('jumd') has the type
# UUID 'c2pa' 0011-0010-8000-00AA00389B71 (C2PA specification, "Use of JUMBF"). JPEG APP11,
# PNG caBX, WebP C2PA, ISO BMFF uuid, PDF and the others all carry it the same way.
_STORE = b"jumdc2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71"
AIGC_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
_AIGC_NS_BYTES = AIGC_NS.encode()

CARRIERS = frozenset({
    "image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "image/avif", "image/heic",
    "image/heif", "image/heic-sequence", "image/heif-sequence", "image/x-adobe-dng", "image/svg+xml",
    "image/jxl",
    "video/mp4", "video/quicktime", "video/x-m4v", "video/3gpp", "video/x-msvideo", "video/avi", "video/webm",
    "audio/mp4", "audio/x-m4a", "audio/mpeg", "audio/wav", "audio/x-wav", "audio/vnd.wave", "audio/flac",
    "application/pdf",
})
"""MIME types whose files can carry a C2PA manifest store or an XMP packet."""

STATES = ("valid", "untrusted", "invalid", "unchecked")
AIGC_MEANINGS = {"1": "ai_generated", "2": "possibly_ai_generated", "3": "suspected_ai_generated"}

_DATA = Path(__file__).resolve().parent.parent / "data" / "c2pa"
TRUST_LIST = _DATA / "C2PA-TRUST-LIST.pem"
TRUST_LIST_NAME = "C2PA Trust List (c2pa-org/conformance-public, 2026-08-13)"
ANCHORS_ENV = "LOCKER_C2PA_ANCHORS"


def may_carry(mime: str) -> bool:
    """Whether a file of this MIME type can carry content credentials or an AIGC label."""
    return mime in CARRIERS


PIECE = 1 << 20
"""At most this much of one metadata segment, chunk or box is read."""

_BMFF_MIMES = frozenset({"video/mp4", "video/quicktime", "video/x-m4v", "video/3gpp", "audio/mp4", "audio/x-m4a",
                         "image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence", "image/avif"})
_C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
_XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")


def _ends(f: BinaryIO, size: int, window: int = WINDOW) -> bytes:
    """The first and last ``window`` bytes of the file (all of it when it is small)."""
    f.seek(0)
    if size <= 2 * window:
        return f.read()
    head = f.read(window)
    f.seek(size - window)
    return head + f.read(window)


def _jpeg(f: BinaryIO) -> bytes:
    """The APP1 (EXIF/XMP) and APP11 (JUMBF: C2PA) segments before the scan data; nothing else is read."""
    pieces: list[bytes] = []
    f.seek(2)
    while True:
        marker = f.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            break
        kind = marker[1]
        if kind == 0xFF:  # fill byte
            f.seek(-1, 1)
            continue
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:
            continue
        if kind in (0xDA, 0xD9):  # start of scan, end of image: no metadata after this
            break
        raw = f.read(2)
        if len(raw) < 2:
            break
        length = int.from_bytes(raw, "big") - 2
        if length < 0:
            break
        if kind in (0xE1, 0xEB):
            pieces.append(f.read(min(length, PIECE)))
            f.seek(length - len(pieces[-1]), 1)
        else:
            f.seek(length, 1)
    return b"".join(pieces)


def _png(f: BinaryIO) -> bytes:
    """The caBX (C2PA) and text chunks (XMP is an iTXt); the pixel data is skipped."""
    pieces: list[bytes] = []
    f.seek(8)
    while True:
        head = f.read(8)
        if len(head) < 8:
            break
        length, kind = int.from_bytes(head[:4], "big"), head[4:]
        if kind in (b"caBX", b"iTXt", b"tEXt", b"zTXt"):
            pieces.append(f.read(min(length, PIECE)))
            f.seek(length - len(pieces[-1]) + 4, 1)
        elif kind == b"IEND":
            break
        else:
            f.seek(length + 4, 1)
    return b"".join(pieces)


def _riff(f: BinaryIO) -> bytes:
    """WebP's C2PA and XMP chunks."""
    pieces: list[bytes] = []
    f.seek(12)
    while True:
        head = f.read(8)
        if len(head) < 8:
            break
        kind, length = head[:4], int.from_bytes(head[4:], "little")
        if kind in (b"C2PA", b"XMP "):
            pieces.append(f.read(min(length, PIECE)))
            f.seek(length - len(pieces[-1]) + (length & 1), 1)
        else:
            f.seek(length + (length & 1), 1)
    return b"".join(pieces)


def _bmff(f: BinaryIO, size: int) -> bytes:
    """ISO BMFF (MP4, MOV, HEIF, AVIF): the top-level C2PA and XMP uuid boxes, and the first 256 KiB
    (where a HEIF keeps its metadata items)."""
    f.seek(0)
    pieces = [f.read(1 << 18)]
    offset = 0
    for _ in range(10_000):
        f.seek(offset)
        head = f.read(16)
        if len(head) < 8:
            break
        box = int.from_bytes(head[:4], "big")
        start = 8
        if box == 1 and len(head) == 16:
            box, start = int.from_bytes(head[8:16], "big"), 16
        elif box == 0:
            box = size - offset
        if box < start:
            break
        if head[4:8] == b"uuid":
            f.seek(offset + start)
            kind = f.read(16)
            if kind in (_C2PA_UUID, _XMP_UUID):
                pieces.append(f.read(min(box - start - 16, PIECE)))
        offset += box
        if offset >= size:
            break
    return b"".join(pieces)


def _metadata_bytes(path: Path, mime: str) -> bytes:
    """The parts of the file where a manifest store or an XMP packet can be, read by the file's structure
    for JPEG, PNG, WebP and ISO BMFF (a few KB: pixels and frames are skipped), else its two ends."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(12)
        try:
            if mime == "image/jpeg" and head.startswith(b"\xff\xd8"):
                return _jpeg(f)
            if mime == "image/png" and head.startswith(b"\x89PNG"):
                return _png(f)
            if mime == "image/webp" and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
                return _riff(f)
            if mime in _BMFF_MIMES:
                return _bmff(f, size)
        except (OSError, ValueError):
            pass  # a damaged structure: look at the ends instead
        return _ends(f, size, SMALL_WINDOW)


def read_credentials(path: Path, mime: str) -> dict[str, Any]:
    """Metadata entries ``c2pa`` and ``aigc`` for a file that carries them, else {}. Never raises."""
    if not may_carry(mime):
        return {}
    try:
        data = _metadata_bytes(path, mime)
    except OSError:
        return {}
    found: dict[str, Any] = {}
    if _AIGC_NS_BYTES in data:
        label = aigc_label(data)
        if label:
            found["aigc"] = label
    if _STORE in data:
        c2pa = _read_c2pa(path, mime)
        if c2pa:
            found["c2pa"] = c2pa
    elif b"provenance" in data:
        url = remote_manifest(data)
        if url:  # the manifest is kept online: the locker does not fetch it
            found["c2pa"] = {"state": "unchecked", "reason": "remote_manifest", "manifest_url": url}
    return found


_REMOTE = re.compile(rb"""dcterms:provenance\s*(?:=\s*["']|>)\s*(https?://[^"'<\s]{1,500})""")


def remote_manifest(data: bytes) -> str | None:
    """The URL of a remote C2PA manifest named by the XMP ``dcterms:provenance`` property, or None."""
    m = _REMOTE.search(data)
    return m.group(1).decode("ascii", "replace") if m else None


# ---------------------------------------------------------------------------- C2PA


def _trust() -> tuple[str, str]:
    """(PEM anchors, the name of the list) that "valid" is judged against."""
    pem = TRUST_LIST.read_text("ascii")
    name = TRUST_LIST_NAME
    extra = os.environ.get(ANCHORS_ENV)
    if extra:
        try:
            pem += "\n" + Path(extra).read_text("ascii")
            name += f" + {Path(extra).name}"
        except (OSError, UnicodeDecodeError):
            pass
    return pem, name


def _read_c2pa(path: Path, mime: str) -> dict[str, Any] | None:
    try:
        import c2pa
    except ImportError:
        return {"state": "unchecked", "reason": "not_installed"}
    version = _version()
    anchors, list_name = _trust()
    settings = {
        "trust": {"trust_anchors": anchors},
        "verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False},
        "core": {"allowed_network_hosts": []},  # offline, whatever a manifest asks for
    }
    try:
        with c2pa.Context.from_dict(settings) as context, open(path, "rb") as stream, \
                c2pa.Reader(mime, stream, context=context) as reader:
            store = json.loads(reader.json())
    except Exception as exc:  # the library's own error classes; a hostile file must not stop add
        name = type(exc).__name__
        text = " ".join(str(exc).split())[:160]
        if "ManifestNotFound" in name or "ManifestNotFound" in text:
            return None  # the marker was in pixel data, not a manifest store
        if "NotSupported" in name or "NotSupported" in text or "UnsupportedType" in text:
            return {"state": "unchecked", "reason": "unsupported_format", "checked_with": version}
        return {"state": "invalid", "codes": [name.lstrip("_")], "problem": text,
                "trust_list": list_name, "checked_with": version}
    return summarize(store, list_name, version)


def _version() -> str:
    try:
        from importlib.metadata import version

        return f"c2pa-python {version('c2pa-python')}"
    except Exception:
        return "c2pa-python"


def _text(value: Any, limit: int = 200) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:limit] if value else None


def summarize(store: dict[str, Any], list_name: str, version: str) -> dict[str, Any]:
    """The exhibit-metadata summary of a manifest store as c2pa-python reports it (``Reader.json()``)."""
    raw_state = str(store.get("validation_state") or "")
    statuses = [s for s in store.get("validation_status") or [] if isinstance(s, dict)]
    codes = [str(s.get("code")) for s in statuses if s.get("code")]
    # c2pa-rs's own verdict: Invalid (a hash or signature fails), Valid (well-formed and intact, signer
    # not trusted) or Trusted (also chains to a trust anchor). The codes are what it listed as failing.
    state = {"Trusted": "valid", "Invalid": "invalid"}.get(raw_state, "untrusted")
    if state == "valid" and codes:
        state = "invalid"  # never seen; a listed failure is not called valid
    manifests = _dict(store.get("manifests"))
    active = _dict(manifests.get(str(store.get("active_manifest"))))
    sig = _dict(active.get("signature_info"))
    out: dict[str, Any] = {
        "state": state,
        "signer": _text(sig.get("issuer")),
        "signer_name": _text(sig.get("common_name")),
        "signed_at": _text(sig.get("time")),
        "claim_generator": _claim_generator(active),
        "actions": [],
        "codes": codes,
        "trust_list": list_name,
        "checked_with": version,
    }
    source_types: list[str] = []
    for assertion in active.get("assertions") or []:
        if not isinstance(assertion, dict) or not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        data = _dict(assertion.get("data"))
        for action in data.get("actions") or []:
            if not isinstance(action, dict):
                continue
            name = _text(action.get("action"), 80)
            if name and name not in out["actions"] and len(out["actions"]) < MAX_ACTIONS:
                out["actions"].append(name)
            dst = _text(action.get("digitalSourceType"), 200)
            if dst:
                source_types.append(dst.rstrip("/").rsplit("/", 1)[-1])
    if source_types:
        out["digital_source_type"] = source_types[0]
    return {k: v for k, v in out.items() if v is not None}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    text = _text(manifest.get("claim_generator"))
    if text:
        return text
    infos = manifest.get("claim_generator_info")
    if isinstance(infos, list):
        parts = [" ".join(str(i[k]) for k in ("name", "version") if isinstance(i, dict) and i.get(k))
                 for i in infos]
        return _text(" ".join(p for p in parts if p))
    return None


# ---------------------------------------------------------------------------- GB 45438-2025

_XMP_PACKET = re.compile(rb"<x:xmpmeta[\s>].*?</x:xmpmeta>", re.DOTALL)
_PREFIX = re.compile(r"xmlns:([A-Za-z_][\w.-]*)\s*=\s*[\"']" + re.escape(AIGC_NS) + r"[\"']")
_AIGC_FIELDS = {"ContentProducer": "producer", "ProduceID": "produce_id", "ReservedCode1": "reserved_code1",
                "ContentPropagator": "propagator", "PropagateID": "propagate_id", "ReservedCode2": "reserved_code2"}


def aigc_label(data: bytes) -> dict[str, Any] | None:
    """The GB 45438-2025 implicit label in the XMP packets of ``data``, or None.

    The property is ``<prefix>:AIGC`` of the TC260 namespace, written as an element or as an
    attribute of ``rdf:Description``; its value is a JSON object (XML-escaped) with Label,
    ContentProducer, ProduceID, ReservedCode1, ContentPropagator, PropagateID, ReservedCode2.
    """
    for packet in _XMP_PACKET.finditer(data):
        if _AIGC_NS_BYTES not in packet.group(0):
            continue
        xmp = packet.group(0).decode("utf-8", "replace")
        for prefix in dict.fromkeys(_PREFIX.findall(xmp)):
            p = re.escape(prefix)
            m = (re.search(rf"<{p}:AIGC(?:\s[^>]*)?>(.*?)</{p}:AIGC>", xmp, re.DOTALL)
                 or re.search(rf"\s{p}:AIGC\s*=\s*\"([^\"]*)\"", xmp)
                 or re.search(rf"\s{p}:AIGC\s*=\s*'([^']*)'", xmp))
            if m:
                return _aigc_value(html.unescape(m.group(1)).strip())
    return None


def _aigc_value(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"standard": "GB 45438-2025", "namespace": AIGC_NS}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        out["label"] = None
        out["meaning"] = "unreadable"
        out["raw"] = text[:200]
        return out
    label = value.get("Label")
    label = str(label).strip() if isinstance(label, (str, int)) and not isinstance(label, bool) else None
    out["label"] = label
    out["meaning"] = AIGC_MEANINGS.get(label or "", "unknown")
    for key, name in _AIGC_FIELDS.items():
        field = _text(value.get(key) if isinstance(value.get(key), str) else None)
        if field:
            out[name] = field
    return out
