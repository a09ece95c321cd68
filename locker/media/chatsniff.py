"""Is this text file a chat export? A cheap look at its first 64 KiB.

Recognised formats (the names :func:`looks_like_chat` returns):

* ``whatsapp_android``: ``DD/MM/YYYY, HH:MM - Name: text``
* ``whatsapp_ios``: ``[DD/MM/YY, HH:MM:SS] Name: text``
* ``whatsapp_ios_zip``: a ZIP whose ``_chat.txt`` is a WhatsApp iOS chat
  (``whatsapp_android_zip`` if that member holds an Android-style chat)
* ``telegram_json``: Telegram Desktop ``result.json`` (object with a ``messages`` list
  and ``name``/``type``)
* ``wechat_memotrace_csv``: MemoTrace CSV (header with StrTime, IsSender, StrContent)
* ``csv_chat``: a CSV whose header names a time, a sender and a message column
  (English or Chinese: 时间, 发送人/发送者, 内容/消息)
* ``plain_lines``: ``2025-05-05 09:12:30 商家：内容`` (half- or full-width colon)

Line formats need at least 2 matching lines, and at least a third of the non-empty
lines must match (messages may run over several lines); a CSV needs its header
and one data row. Random bytes fail the strict decoding long before that.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import struct
from pathlib import Path

SNIFF_BYTES = 64 * 1024
_MAX_ZIP_ENTRIES = 50_000
_MAX_ZIP_DIRECTORY = 16 * 1024 * 1024

_TEXT_MIMES = frozenset(
    {"application/json", "application/csv", "application/x-csv", "application/x-ndjson"}
)
_ZIP_MIMES = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})

_AMPM = r"(?:[\s\u202f\u00a0]?[AaPp]\.?\s?[Mm]\.?)?"
_WHATSAPP_ANDROID = re.compile(
    r"^\u200e?\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4},? \d{1,2}:\d{2}" + _AMPM + r" [-–] [^:]{1,100}: "
)
_WHATSAPP_IOS = re.compile(
    r"^\u200e?\[\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4},? \d{1,2}:\d{2}(?::\d{2})?" + _AMPM
    + r"\] [^:]{1,100}: "
)
_PLAIN = re.compile(
    r"^\d{4}[-/.年](?:0?[1-9]|1[0-2])[-/.月](?:0?[1-9]|[12]\d|3[01])日?[ T\u3000]+"
    r"\d{1,2}:\d{2}(?::\d{2})?\s+(?P<name>[^:：\s][^:：]{0,63}?)\s*[:：]"
)
_LOG_LEVELS = frozenset({"trace", "debug", "info", "notice", "warn", "warning", "error",
                         "critical", "fatal", "severe"})

_LINE_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("whatsapp_android", _WHATSAPP_ANDROID),
    ("whatsapp_ios", _WHATSAPP_IOS),
    ("plain_lines", _PLAIN),
)

_TIME_HEADERS = {"time", "date", "datetime", "date_time", "timestamp", "sent_at", "createtime",
                 "create_time"}
_SENDER_HEADERS = {"sender", "from", "author", "name", "user", "nickname", "talker"}
_MESSAGE_HEADERS = {"message", "text", "content", "body", "msg"}


def decode_text(data: bytes, final: bool = True) -> str | None:
    """Decode chat bytes: BOM (UTF-8, UTF-16), then strict UTF-8, else GB18030; None if neither.

    ``final=False`` when ``data`` is a prefix of a longer file: a character cut at
    the end is then dropped instead of failing the decoding.
    """
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8", data[3:])]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", data)]
    else:
        candidates = [("utf-8", data), ("gb18030", data)]
    for encoding, payload in candidates:
        try:
            text = codecs.getincrementaldecoder(encoding)("strict").decode(payload, final=final)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            return None  # binary, or UTF-16 without a BOM
        return text.lstrip("\ufeff")
    return None


def _telegram(text: str, complete: bool) -> bool:
    if complete:
        try:
            obj = json.loads(text)
        except ValueError:
            return False
        return (
            isinstance(obj, dict)
            and isinstance(obj.get("messages"), list)
            and ("name" in obj or "type" in obj)
        )
    return bool(
        re.search(r'"messages"\s*:\s*\[', text)
        and re.search(r'"(?:name|type)"\s*:', text)
        and re.search(r'"date"\s*:\s*"\d{4}-\d{2}-\d{2}T', text)
    )


def _header_roles(header: list[str]) -> set[str]:
    roles: set[str] = set()
    for raw in header:
        h = raw.strip().strip("\ufeff\"'").strip().lower()
        if h in _TIME_HEADERS or "时间" in h or "日期" in h:
            roles.add("time")
        elif h in _SENDER_HEADERS or any(k in h for k in ("发送人", "发送者", "发言人", "发送方", "昵称")):
            roles.add("sender")
        elif h in _MESSAGE_HEADERS or "内容" in h or "消息" in h:
            roles.add("message")
    return roles


def _csv_chat(lines: list[str]) -> str | None:
    nonempty = [line for line in lines if line.strip()]
    if len(nonempty) < 2:
        return None
    first = nonempty[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    if first.count(delimiter) < 2:
        return None
    try:
        header = next(csv.reader([first], delimiter=delimiter))
    except csv.Error:
        return None
    names = {h.strip().strip("\ufeff\"'").strip().lower() for h in header}
    if {"strtime", "issender", "strcontent"} <= names:
        return "wechat_memotrace_csv"
    if {"time", "sender", "message"} <= _header_roles(header):
        return "csv_chat"
    return None


def _line_format(lines: list[str]) -> str | None:
    nonempty = [line for line in lines if line.strip()]
    if not nonempty:
        return None
    best, best_count = None, 0
    for name, pattern in _LINE_FORMATS:
        count = 0
        for line in nonempty:
            m = pattern.match(line)
            if m and not (name == "plain_lines" and m["name"].strip().lower() in _LOG_LEVELS):
                count += 1
        if count > best_count:
            best, best_count = name, count
    if best_count >= 2 and best_count * 3 >= len(nonempty):
        return best
    return None


def sniff_text(text: str, complete: bool = True) -> str | None:
    """The chat format of ``text`` (the start of a file; ``complete`` if it is all of it)."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "telegram_json" if _telegram(stripped, complete) else None
    lines = text.splitlines()
    if not complete and lines:
        lines = lines[:-1]  # the last line may be cut
    return _csv_chat(lines) or _line_format(lines)


def _zip_directory_is_sane(path: Path, size: int) -> bool:
    """Check the end-of-central-directory record before zipfile loads the directory."""
    with open(path, "rb") as f:
        f.seek(max(0, size - (65535 + 22)))
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return False
    entries, directory_size = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF:  # ZIP64: the real sizes are elsewhere
        loc = tail.rfind(b"PK\x06\x07", 0, at)
        if loc < 0 or loc + 16 > len(tail):
            return False
        record_at = struct.unpack("<Q", tail[loc + 8 : loc + 16])[0]
        if record_at + 56 > size:
            return False
        with open(path, "rb") as f:
            f.seek(record_at)
            record = f.read(56)
        if record[:4] != b"PK\x06\x06":
            return False
        entries, directory_size = struct.unpack("<QQ", record[32:48])
    return entries <= _MAX_ZIP_ENTRIES and directory_size <= _MAX_ZIP_DIRECTORY


def _zip_chat(path: Path) -> str | None:
    import zipfile  # only ZIPs need it (and it pulls in bz2/lzma)

    size = path.stat().st_size
    if not _zip_directory_is_sane(path, size):
        return None
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > _MAX_ZIP_ENTRIES:
            return None
        member = next(
            (i for i in infos if i.filename.replace("\\", "/").rsplit("/", 1)[-1] == "_chat.txt"
             and i.filename.count("/") <= 1),
            None,
        )
        if member is None or member.flag_bits & 0x1:  # absent or encrypted
            return None
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        with zf.open(member) as f:
            data = f.read(SNIFF_BYTES)  # decompresses no more than this
    text = decode_text(data, final=len(data) < SNIFF_BYTES)
    if text is None:
        return None
    found = sniff_text(text, complete=len(data) < SNIFF_BYTES)
    if found == "whatsapp_ios":
        return "whatsapp_ios_zip"
    if found == "whatsapp_android":
        return "whatsapp_android_zip"
    return None


def looks_like_chat(path: Path, mime: str) -> str | None:
    """The chat export format of the file at ``path`` (sniffed MIME ``mime``), or None.

    Reads at most 64 KiB (of the file, or of a ZIP's ``_chat.txt``). Never raises.
    """
    try:
        if mime in _ZIP_MIMES:
            return _zip_chat(path)
        if not (mime.startswith("text/") or mime in _TEXT_MIMES):
            return None
        with open(path, "rb") as f:
            data = f.read(SNIFF_BYTES + 1)
        complete = len(data) <= SNIFF_BYTES
        data = data[:SNIFF_BYTES]
        text = decode_text(data, final=complete)
        if text is None:
            return None
        return sniff_text(text, complete=complete)
    except Exception:  # unreadable file, bad ZIP, odd CSV: simply not a chat we know
        return None
