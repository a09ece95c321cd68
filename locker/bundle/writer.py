"""Write a BagIt 1.0 bag (RFC 8493) as one ZIP, streamed.

Every member is stored (``zip -0``: evidence is mostly already compressed, and a stored member can be
checked byte for byte by any unzip). Files are copied in 1 MiB pieces; the SHA-256 of a piece is computed
on a second thread while the ZIP's CRC-32 and the write run on this one (hashlib and zlib release the GIL),
so a large original costs about one pass of the slower of the two, and memory stays flat.

Member names are UTF-8 in Unicode NFC under one top folder, the bag's name; :func:`safe_name` makes an
original's name safe to be a member name (no folders, no ``..``, no control or bidi-override characters).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"
BAG_INFO = "bag-info.txt"
_UNSAFE = set('/\\:*?"<>|%')  # % too: sha256sum -c reads manifest paths literally
NAME_LIMIT = 120  # bytes of UTF-8 in the part after NNN-, extension kept


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def safe_name(name: str, limit: int = NAME_LIMIT) -> str:
    """An original's name as a safe ZIP member name: the last part of any path, NFC, no control, format
    (bidi overrides, zero-width) or path characters, no leading dots or spaces; "file" when nothing is
    left; at most ``limit`` bytes of UTF-8, the extension kept."""
    name = nfc(name).replace("\\", "/").rsplit("/", 1)[-1]
    out = []
    for ch in name:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            continue
        out.append("_" if ch in _UNSAFE else (" " if cat == "Zs" else ch))
    name = re.sub(r"\s+", " ", "".join(out)).strip(" .")
    if not name:
        name = "file"
    if len(name.encode("utf-8")) > limit:
        stem, dot, ext = name.rpartition(".")
        ext = f".{ext}" if dot and stem and 0 < len(ext.encode("utf-8")) <= 16 else ""
        stem = name[: len(name) - len(ext)] if ext else name
        while len((stem + ext).encode("utf-8")) > limit:
            stem = stem[:-1]
        name = stem.rstrip(" .") + ext
    return name


def original_member(number: int, original_name: str) -> str:
    """``originals/NNN-<safe name>`` (inside data/)."""
    return f"originals/{number:03d}-{safe_name(original_name)}"


def manifest_path(path: str) -> str:
    """A path as a manifest line writes it (RFC 8493 §2.1.3: CR, LF and % percent-encoded)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def oneline(value: str) -> str:
    """A bag-info value on one line."""
    return re.sub(r"[\r\n\t]+", " ", value).strip()


@dataclass(frozen=True)
class Member:
    path: str  # inside the bag: data/pack.pdf, bagit.txt, …
    sha256: str
    size: int


@dataclass(frozen=True)
class Finished:
    payload_oxum: str  # "octets.files"
    tagmanifest_sha256: str
    members: tuple[Member, ...]


class BagWriter:
    """A bag named ``slug`` written into ``out`` (a binary file open for writing)."""

    def __init__(self, out: BinaryIO, slug: str, when: datetime | None = None) -> None:
        self.slug = nfc(slug)
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        stamp = (when or datetime.now()).timetuple()[:6]
        self.date_time = (max(stamp[0], 1980), *stamp[1:])
        self.payload: list[Member] = []
        self.tags: list[Member] = []
        self.names: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="locker-bundle-hash")

    def _info(self, path: str, size: int) -> zipfile.ZipInfo:
        path = nfc(path)
        if path in self.names or path.startswith("/") or ".." in path.split("/"):
            raise ValueError(f"not a new safe member name: {path!r}")
        self.names.add(path)
        info = zipfile.ZipInfo(f"{self.slug}/{path}", date_time=self.date_time)  # type: ignore[arg-type]
        info.compress_type = zipfile.ZIP_STORED
        info.file_size = size
        info.external_attr = 0o644 << 16
        return info

    def _write_stream(self, path: str, src: BinaryIO, size: int) -> Member:
        info = self._info(path, size)
        digest = hashlib.sha256()
        written = 0
        with self.zip.open(info, "w", force_zip64=size >= 0x7FFF0000) as dst:
            pending = None
            while True:
                piece = src.read(CHUNK)
                if not piece:
                    break
                if pending is not None:
                    pending.result()
                pending = self._pool.submit(digest.update, piece)
                dst.write(piece)
                written += len(piece)
            if pending is not None:
                pending.result()
        return Member(path, digest.hexdigest(), written)

    def add_file(self, path: str, source: Path) -> Member:
        """A payload file (``path`` inside data/) copied from ``source``; its SHA-256 as found while copying."""
        with open(source, "rb") as src:
            import os

            member = self._write_stream(f"data/{path}", src, os.fstat(src.fileno()).st_size)
        self.payload.append(member)
        return member

    def add_bytes(self, path: str, data: bytes) -> Member:
        """A payload file (``path`` inside data/)."""
        member = self._put(f"data/{path}", data)
        self.payload.append(member)
        return member

    def add_tag(self, path: str, data: bytes) -> Member:
        """A tag file (outside data/), listed in the tag manifest."""
        member = self._put(path, data)
        self.tags.append(member)
        return member

    def add_unlisted(self, path: str, data: bytes) -> Member:
        """A tag file written after the tag manifest (a timestamp token over it): listed in no manifest."""
        return self._put(path, data)

    def _put(self, path: str, data: bytes) -> Member:
        info = self._info(path, len(data))
        self.zip.writestr(info, data)
        return Member(path, hashlib.sha256(data).hexdigest(), len(data))

    def finish(self, info: list[tuple[str, str]]) -> Finished:
        """Write the payload manifest, bagit.txt, bag-info.txt (``info`` and the Payload-Oxum) and last the
        tag manifest over every tag file."""
        octets = sum(m.size for m in self.payload)
        oxum = f"{octets}.{len(self.payload)}"
        lines = "".join(f"{m.sha256}  {manifest_path(m.path)}\n" for m in sorted(self.payload, key=lambda m: m.path))
        self.add_tag(MANIFEST, lines.encode("utf-8"))
        self.add_tag("bagit.txt", BAGIT_TXT)
        fields = [(k, oneline(v)) for k, v in info if v and oneline(v)] + [("Payload-Oxum", oxum)]
        self.add_tag(BAG_INFO, "".join(f"{k}: {v}\n" for k, v in fields).encode("utf-8"))
        tag_lines = "".join(f"{m.sha256}  {manifest_path(m.path)}\n" for m in sorted(self.tags, key=lambda m: m.path))
        tag = self._put(TAGMANIFEST, tag_lines.encode("utf-8"))
        return Finished(oxum, tag.sha256, tuple(self.payload) + tuple(self.tags) + (tag,))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.zip.close()
