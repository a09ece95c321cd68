"""Reading a chat export's bytes: a file or bytes in memory, the start of it for detection,
the whole of it decoded, and the chat member of an export ZIP; with their size limits."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from locker.chats.models import ChatError

if TYPE_CHECKING:
    from zipfile import ZipInfo

__all__ = ["MAX_TEXT_BYTES", "SNIFF_BYTES", "Sample", "Source", "chat_member", "read_zip_member",
           "zip_directory_is_sane"]

SNIFF_BYTES = 64 * 1024
MAX_TEXT_BYTES = 256 * 1024 * 1024  # a chat export (or a ZIP's chat member) larger than this is refused


class Source:
    """The bytes of one chat export: a file (read-only, read lazily) or bytes in memory."""

    def __init__(self, path: Path | None = None, data: bytes | None = None) -> None:
        if (path is None) == (data is None):
            raise ValueError("give a path or data")
        self.path = path
        self._data = data
        self._head: bytes | None = None
        self._text: tuple[str, str] | None = None
        self._member_head: tuple[bytes, bool] | ChatError | None = None

    @property
    def name(self) -> str | None:
        return str(self.path) if self.path is not None else None

    def open(self) -> BinaryIO:
        if self._data is not None:
            return io.BytesIO(self._data)
        assert self.path is not None
        return open(self.path, "rb")

    def size(self) -> int:
        if self._data is not None:
            return len(self._data)
        assert self.path is not None
        return self.path.stat().st_size

    def head(self) -> bytes:
        """The first 64 KiB (+1 byte, to tell whether there is more)."""
        if self._head is None:
            if self._data is not None:
                self._head = self._data[: SNIFF_BYTES + 1]
            else:
                with self.open() as f:
                    self._head = f.read(SNIFF_BYTES + 1)
        return self._head

    def read_bytes(self) -> bytes:
        if self._data is not None:
            return self._data
        too_large = ChatError(f"too large for a chat export (the limit is {MAX_TEXT_BYTES // (1024 * 1024)} MiB)")
        if self.size() > MAX_TEXT_BYTES:
            raise too_large
        with self.open() as f:
            data = f.read()  # sized from fstat: no oversized buffer
        if len(data) > MAX_TEXT_BYTES:
            raise too_large
        return data

    def text(self) -> tuple[str, str]:
        """The whole content decoded: (text, encoding). Raises ChatError if it is not text."""
        if self._text is None:
            from locker.chats.encoding import decode_text

            self._text = decode_text(self.read_bytes())
        return self._text

    def take_text(self) -> tuple[str, str]:
        """:meth:`text`, forgetting it here: the parser then holds the only reference (memory)."""
        found = self.text()
        self._text = None
        return found

    def member_head(self) -> tuple[bytes, bool]:
        """(the first 64 KiB of an export ZIP's chat member, complete): :func:`read_zip_member`,
        read once per source (every ZIP format's ``detect`` asks for it). Raises ChatError."""
        if self._member_head is None:
            try:
                self._member_head = read_zip_member(self, SNIFF_BYTES)
            except ChatError as err:
                self._member_head = err
        if isinstance(self._member_head, ChatError):
            raise self._member_head
        return self._member_head

    def sample(self) -> Sample:
        """The start of the content for detection (decoded if it is text)."""
        from locker.chats.encoding import decode_head

        if self._text is not None:
            text = self._text[0]
            return Sample(text[:SNIFF_BYTES], len(text) <= SNIFF_BYTES, self.head(), self)
        head = self.head()
        complete = len(head) <= SNIFF_BYTES
        if complete and not head.startswith(b"PK\x03\x04"):
            try:
                return Sample(self.text()[0], True, head, self)
            except ChatError:
                return Sample(None, True, head, self)
        is_zip = head.startswith(b"PK\x03\x04")  # its formats read its members, not its own bytes
        return Sample(decode_head(head[:SNIFF_BYTES], complete, guess=not is_zip), complete, head[:SNIFF_BYTES], self)


@dataclass(frozen=True)
class Sample:
    """What ``detect`` looks at: the start of the file, decoded when it is text."""

    text: str | None      # the decoded start (up to 64 KiB of bytes), None if not text
    complete: bool        # ``text``/``head`` is the whole file
    head: bytes           # the first bytes (up to 64 KiB)
    source: Source | None  # None when only text was given (detect_text)

    def lines(self) -> list[str]:
        """The non-empty lines of ``text``, without a last line cut by the 64 KiB window."""
        return list(self._lines)

    @cached_property
    def _lines(self) -> tuple[str, ...]:
        """:meth:`lines`, split once: every format's ``detect`` asks for them."""
        if not self.text:
            return ()
        lines = self.text.splitlines()
        if not self.complete and lines:
            lines.pop()
        return tuple(line for line in lines if line.strip())


# --------------------------------------------------------------------------- ZIP


_MAX_ZIP_ENTRIES = 50_000
_MAX_ZIP_DIRECTORY = 16 * 1024 * 1024
_MAX_RATIO = 200               # uncompressed/compressed, for members over _RATIO_FLOOR
_RATIO_FLOOR = 16 * 1024 * 1024


def zip_directory_is_sane(f: BinaryIO, size: int) -> bool:
    """Check the end-of-central-directory record before zipfile loads the directory:
    at most 50,000 entries and a 16 MiB directory."""
    f.seek(max(0, size - (65535 + 22)))
    tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return False
    entries, directory_size = struct.unpack("<HI", tail[at + 10: at + 16])
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF:  # ZIP64: the real sizes are elsewhere
        loc = tail.rfind(b"PK\x06\x07", 0, at)
        if loc < 0 or loc + 16 > len(tail):
            return False
        record_at = struct.unpack("<Q", tail[loc + 8: loc + 16])[0]
        if record_at + 56 > size:
            return False
        f.seek(record_at)
        record = f.read(56)
        if record[:4] != b"PK\x06\x06":
            return False
        entries, directory_size = struct.unpack("<QQ", record[32:48])
    f.seek(0)
    return bool(entries <= _MAX_ZIP_ENTRIES and directory_size <= _MAX_ZIP_DIRECTORY)


def chat_member(infos: list[ZipInfo]) -> ZipInfo | None:
    """``_chat.txt`` (at the top or one folder down), else the only ``.txt`` there."""
    candidates = []
    for info in infos:
        name = info.filename.replace("\\", "/")
        if name.count("/") <= 1 and not name.endswith("/"):
            candidates.append((name.rsplit("/", 1)[-1], info))
    chats = [info for base, info in candidates if base == "_chat.txt"]
    if chats:
        return chats[0]
    texts = [info for base, info in candidates if base.lower().endswith(".txt")]
    return texts[0] if len(texts) == 1 else None


def read_zip_member(source: Source, limit: int = MAX_TEXT_BYTES) -> tuple[bytes, bool]:
    """(bytes, complete) of the chat member of a WhatsApp export ZIP, reading at most ``limit``
    bytes of it. Never extracts to disk. Raises ChatError."""
    import zipfile

    with source.open() as f:
        if not zip_directory_is_sane(f, source.size()):
            raise ChatError("not a ZIP this version can read (damaged, or more than 50,000 entries)")
        with zipfile.ZipFile(f) as zf:
            info = chat_member(zf.infolist())
            if info is None:
                raise ChatError("no _chat.txt (or single .txt chat) in this ZIP")
            if info.flag_bits & 0x1:
                raise ChatError(f"{info.filename} is encrypted")
            full_read = limit > SNIFF_BYTES  # (the first 64 KiB are read for detection whatever the size)
            if full_read and info.file_size > MAX_TEXT_BYTES:
                raise ChatError(f"{info.filename} is too large ({info.file_size // (1024 * 1024)} MiB; "
                                f"the limit is {MAX_TEXT_BYTES // (1024 * 1024)} MiB)")
            if (full_read and info.file_size > _RATIO_FLOOR
                    and info.file_size > _MAX_RATIO * max(1, info.compress_size)):
                raise ChatError(f"{info.filename} expands {info.file_size // max(1, info.compress_size)}-fold: "
                                "refused as a possible ZIP bomb")
            want = min(limit, info.file_size)
            with zf.open(info) as member:
                chunks = []
                got = 0
                while got < want:
                    chunk = member.read(min(1 << 20, want - got))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    got += len(chunk)
            data = b"".join(chunks)
    return data, want >= info.file_size and got >= info.file_size


# --------------------------------------------------------------------------- the parsers
