"""Safe extraction of a ZIP archive someone else made (``locker import``).

An archive from elsewhere may be hostile. Before a byte is written, every member's
name and type is checked against the whole central directory; while the bytes are
written, what each member really expands to is counted (never what its header
claims). Refused, each with its own one-line error:

* more members than ``Limits.max_members`` (counted from the end record, before
  the central directory is read into memory);
* a name that leaves the folder (``..``, an absolute path, a drive letter, a
  backslash), holds a control character, or is not UTF-8 when flagged so;
* a symbolic link, a device or any member that is not a plain file or folder;
* an encrypted member, an unknown compression method;
* two members that land on one path, also after Unicode NFC and case folding (a
  Mac or Windows disk would merge them), and a file that another name uses as a folder;
* more than ``Limits.max_total`` bytes expanded in all, a member expanding more than
  ``Limits.max_ratio`` times its compressed size, a member that expands beyond the
  size its header declares (a lying header), a broken CRC.

Everything is written below ``dest``, a folder the caller made for this (the
caller removes it when extraction fails); files are created exclusively (never
through an existing name), folders 0700, files 0600.
"""

from __future__ import annotations

import os
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from ..errors import InputRefused
from ..i18n import _
from ..values import clean_text

GIB = 1 << 30
CHUNK = 1 << 20
UTF8_FLAG = 0x800
ENCRYPTED_FLAG = 0x1
METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


@dataclass(frozen=True)
class Limits:
    """What an archive may hold. The ratio applies to members larger than ``ratio_floor`` once
    expanded (a tiny file may compress very well without being a bomb)."""

    max_members: int = 50_000
    max_total: int = 64 * GIB
    max_ratio: float = 200.0
    ratio_floor: int = 1 << 20
    max_name_bytes: int = 1024
    max_component_bytes: int = 255


class UnsafeArchive(InputRefused):
    """An archive refused before or while it is unpacked. ``reason`` is a stable word for what
    was wrong (``not_zip``, ``too_many_members``, ``unsafe_name``, ``link``, ``special_file``,
    ``encrypted``, ``method``, ``duplicate``, ``too_large``, ``ratio``, ``size_lie``, ``corrupt``)."""

    def __init__(self, message: str, *, path: str | None = None, reason: str = "unsafe") -> None:
        super().__init__(message, path=path)
        self.reason = reason


@dataclass(frozen=True)
class Extracted:
    """What was unpacked: each file's archive name (NFC) → its path below ``dest``, and the total."""

    files: dict[str, Path]
    total_bytes: int


def extract(archive: Path, dest: Path, limits: Limits = Limits()) -> Extracted:
    """Check and unpack ``archive`` into the existing, empty folder ``dest``."""
    where = str(archive)
    try:
        with open(archive, "rb") as raw:
            count = _declared_count(raw)
            if count is not None and count > limits.max_members:
                raise UnsafeArchive(reason="too_many_members", message=_too_many(count, limits), path=where)
            try:
                zf = zipfile.ZipFile(raw)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as err:
                raise UnsafeArchive(reason="not_zip", message=_("not a ZIP archive ({reason})").format(reason=err), path=where) from None
            with zf:
                members = zf.infolist()
                if len(members) > limits.max_members:
                    raise UnsafeArchive(reason="too_many_members", message=_too_many(len(members), limits), path=where)
                plan = _plan(members, limits, where)
                return _unpack(zf, plan, dest, limits, where)
    except OSError as err:
        if isinstance(err, UnsafeArchive):
            raise
        raise InputRefused(_("cannot read the archive: {reason}").format(reason=err.strerror or err), path=where) from None


def _too_many(count: int, limits: Limits) -> str:
    return _("the archive holds {count} members, more than the {limit} a bundle may have").format(
        count=count, limit=limits.max_members)


def _declared_count(raw: BinaryIO) -> int | None:
    """The member count the end of central directory record declares (ZIP64 too), read before
    anything else; None when there is no such record (then zipfile says what is wrong)."""
    raw.seek(0, os.SEEK_END)
    size = raw.tell()
    back = min(size, 22 + 0xFFFF)
    raw.seek(size - back)
    tail = raw.read(back)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    count = int(struct.unpack("<H", tail[at + 10: at + 12])[0])
    if count != 0xFFFF or at < 20:
        return count
    locator = tail[at - 20: at]
    if locator[:4] != b"PK\x06\x07":
        return count
    (offset,) = struct.unpack("<Q", locator[8:16])
    if offset > size - 56:
        return count
    raw.seek(offset)
    record = raw.read(56)
    if record[:4] != b"PK\x06\x06":
        return count
    return int(struct.unpack("<Q", record[32:40])[0])


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    name: str  # NFC, without a trailing slash
    parts: tuple[str, ...]
    folder: bool


def _plan(members: list[zipfile.ZipInfo], limits: Limits, where: str) -> list[_Member]:
    """Every member checked by name and type, and against the others, before anything is written."""
    plan: list[_Member] = []
    seen: dict[str, str] = {}   # folded path -> the name that took it
    folders: set[str] = set()   # folded paths some name uses as a folder
    files: set[str] = set()
    declared = 0
    for info in members:
        shown = clean_text(info.filename)
        name = _checked_name(info, limits, where)
        folder = info.is_dir()
        _check_type(info, folder, shown, where)
        parts = tuple(name.split("/"))
        folded = _fold(name)
        if folded in seen:
            raise UnsafeArchive(reason="duplicate", message=_("two members land on one path: {first} and {second}").format(
                first=repr(clean_text(seen[folded])), second=repr(shown)), path=where)
        seen[folded] = info.filename
        fparts = folded.split("/")
        for i in range(1, len(fparts)):
            above = "/".join(fparts[:i])
            if above in files:
                raise UnsafeArchive(reason="duplicate", message=_("{name} is inside {above}, which is a file").format(
                    name=repr(shown), above=repr("/".join(parts[:i]))), path=where)
            folders.add(above)
        if folder:
            folders.add(folded)
        else:
            if folded in folders:
                raise UnsafeArchive(reason="duplicate", message=_("{name} is a file and a folder").format(name=repr(shown)), path=where)
            files.add(folded)
            declared += info.file_size
            if declared > limits.max_total:
                raise UnsafeArchive(reason="too_large", message=_too_large(limits), path=where)
            _check_ratio(info.file_size, info.compress_size, shown, limits, where)
        plan.append(_Member(info, name, parts, folder))
    return plan


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def _checked_name(info: zipfile.ZipInfo, limits: Limits, where: str) -> str:
    raw = info.filename
    shown = repr(clean_text(raw))
    if info.flag_bits & UTF8_FLAG == 0 and not raw.isascii():
        # zipfile read these bytes as code page 437: a name from a tool that does not say UTF-8.
        raise UnsafeArchive(reason="unsafe_name", message=_("member {name} is not named in UTF-8").format(name=shown), path=where)
    name = raw[:-1] if raw.endswith("/") else raw

    def unsafe(why: str) -> UnsafeArchive:
        return UnsafeArchive(reason="unsafe_name", message=_("member {name} {why}").format(name=shown, why=why), path=where)

    if not name:
        raise unsafe(_("has an empty name"))
    if "\\" in name:
        raise unsafe(_("holds a backslash"))
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise unsafe(_("is an absolute path"))
    if any(not ch.isprintable() for ch in name):
        raise unsafe(_("holds a control character"))
    if len(name.encode("utf-8", "surrogateescape")) > limits.max_name_bytes:
        raise unsafe(_("has too long a name"))
    for part in name.split("/"):
        if part in ("", ".", ".."):
            raise unsafe(_("leaves its folder or has an empty part (.., ., //)"))
        if len(part.encode("utf-8", "surrogateescape")) > limits.max_component_bytes:
            raise unsafe(_("has too long a name"))
    return unicodedata.normalize("NFC", name)


def _check_type(info: zipfile.ZipInfo, folder: bool, shown: str, where: str) -> None:
    mode = info.external_attr >> 16
    if info.create_system == 3 and mode:  # Unix attributes: the type is in the high bits
        kind = stat.S_IFMT(mode)
        if stat.S_ISLNK(mode):
            raise UnsafeArchive(reason="link", message=_("member {name} is a symbolic link").format(name=repr(shown)), path=where)
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeArchive(reason="special_file", message=_("member {name} is not a plain file").format(name=repr(shown)), path=where)
        if kind == stat.S_IFDIR and not folder:
            raise UnsafeArchive(reason="special_file", message=_("member {name} is a folder without a folder's name").format(
                name=repr(shown)), path=where)
    if info.flag_bits & ENCRYPTED_FLAG:
        raise UnsafeArchive(reason="encrypted", message=_("member {name} is encrypted").format(name=repr(shown)), path=where)
    if not folder and info.compress_type not in METHODS:
        raise UnsafeArchive(reason="method", message=_("member {name} uses an unknown compression method ({method})").format(
            name=repr(shown), method=info.compress_type), path=where)
    if folder and info.file_size:
        raise UnsafeArchive(reason="special_file", message=_("member {name} is a folder with content").format(name=repr(shown)), path=where)


def _too_large(limits: Limits) -> str:
    return _("the archive expands to more than {limit} bytes").format(limit=limits.max_total)


def _check_ratio(expanded: int, compressed: int, shown: str, limits: Limits, where: str) -> None:
    if expanded > limits.ratio_floor and expanded > limits.max_ratio * max(compressed, 1):
        raise UnsafeArchive(reason="ratio", message=_("member {name} expands {ratio:.0f} times its compressed size (a zip bomb?)").format(
            name=repr(shown), ratio=expanded / max(compressed, 1)), path=where)


def _unpack(zf: zipfile.ZipFile, plan: list[_Member], dest: Path, limits: Limits, where: str) -> Extracted:
    files: dict[str, Path] = {}
    total = 0
    for member in plan:
        target = dest.joinpath(*member.parts)
        for i in range(1, len(member.parts) + (1 if member.folder else 0)):
            folder = dest.joinpath(*member.parts[:i])
            try:
                folder.mkdir(mode=0o700)
            except FileExistsError:
                if folder.is_symlink() or not folder.is_dir():  # cannot happen after _plan; never followed
                    raise UnsafeArchive(reason="duplicate", message=_("{name} is a file and a folder").format(
                        name=repr(member.name)), path=where) from None
        if member.folder:
            continue
        total = _write(zf, member, target, total, limits, where)
        files[member.name] = target
    return Extracted(files, total)


def _write(zf: zipfile.ZipFile, member: _Member, target: Path, total: int, limits: Limits, where: str) -> int:
    shown = repr(clean_text(member.info.filename))
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
    written = 0
    with os.fdopen(fd, "wb") as out:
        try:
            with zf.open(member.info) as source:
                for block in _blocks(source):
                    written += len(block)
                    total += len(block)
                    if written > member.info.file_size:
                        raise UnsafeArchive(reason="size_lie", message=_("member {name} expands beyond the size its header declares").format(
                            name=shown), path=where)
                    if total > limits.max_total:
                        raise UnsafeArchive(reason="too_large", message=_too_large(limits), path=where)
                    _check_ratio(written, member.info.compress_size, shown, limits, where)
                    out.write(block)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as err:
            raise UnsafeArchive(reason="corrupt", message=_("member {name} is damaged ({reason})").format(
                name=shown, reason=err), path=where) from None
    if written != member.info.file_size:
        raise UnsafeArchive(reason="size_lie", message=_("member {name} is shorter than its header declares").format(name=shown), path=where)
    return total


def _blocks(source: IO[bytes]) -> Iterator[bytes]:
    while True:
        block = source.read(CHUNK)
        if not block:
            return
        yield block
