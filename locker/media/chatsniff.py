"""Is this text file a chat export? A cheap look at its first 64 KiB.

Recognised formats (the names :func:`looks_like_chat` returns):

* ``whatsapp_android``: ``DD/MM/YYYY, HH:MM - Name: text``
* ``whatsapp_ios``: ``[DD/MM/YY, HH:MM:SS] Name: text``
* ``whatsapp_ios_zip``: a ZIP whose ``_chat.txt`` is a WhatsApp iOS chat
  (``whatsapp_android_zip`` if that member, or the ZIP's only ``.txt``, holds an Android-style chat)
* ``telegram_json``: Telegram Desktop ``result.json`` (object with a ``messages`` list
  and ``name``/``type``)
* ``wechat_memotrace_csv``: MemoTrace CSV (header with StrTime, IsSender, StrContent)
* ``csv_chat``: a CSV whose header names a time, a sender and a message column
  (English or Chinese: 时间, 发送人/发送者, 内容/消息)
* ``plain_lines``: ``2025-05-05 09:12:30 商家：内容`` (half- or full-width colon)
* and whatever else the parsers of :mod:`locker.chats` recognise (``wechat_memotrace_txt``,
  ``locker_chat_json``, plug-ins), asked last

Line formats need at least 2 matching lines, and at least a third of the non-empty
lines must match (messages may run over several lines); a CSV needs its header
and one data row. Random bytes fail the strict decoding long before that.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from pathlib import Path

from locker.chats import detect_text
from locker.chats.csvchat import header_roles as _header_roles
from locker.chats.plain import LOG_LEVELS as _LOG_LEVELS
from locker.chats.plain import PLAIN_LINE as _PLAIN
from locker.chats.whatsapp import ANDROID_LINE as _WHATSAPP_ANDROID
from locker.chats.whatsapp import IOS_LINE as _WHATSAPP_IOS
from locker.chats.whatsapp import chat_member, zip_directory_is_sane

SNIFF_BYTES = 64 * 1024
_MAX_ZIP_ENTRIES = 50_000

_TEXT_MIMES = frozenset(
    {"application/json", "application/csv", "application/x-csv", "application/x-ndjson"}
)
_ZIP_MIMES = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})

# The line forms (and the CSV header words) are those of the parsers in locker.chats.

_LINE_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("whatsapp_android", _WHATSAPP_ANDROID),
    ("whatsapp_ios", _WHATSAPP_IOS),
    ("plain_lines", _PLAIN),
)


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
        from locker.chats.telegram import looks_like_messages

        return (
            isinstance(obj, dict)
            and isinstance(obj.get("messages"), list)
            and ("name" in obj or "type" in obj or looks_like_messages(obj["messages"]))
        )
    return bool(
        re.search(r'"messages"\s*:\s*\[', text)
        and re.search(r'"(?:name|type)"\s*:', text)
        and re.search(r'"date"\s*:\s*"\d{4}-\d{2}-\d{2}T', text)
    )


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
        return "telegram_json" if _telegram(stripped, complete) else detect_text(text, complete)
    lines = text.splitlines()
    if not complete and lines:
        lines = lines[:-1]  # the last line may be cut
    # then the formats only the parsers know (MemoTrace TXT, our normalized JSON, plug-ins)
    return _csv_chat(lines) or _line_format(lines) or detect_text(text, complete)


def _zip_directory_is_sane(path: Path, size: int) -> bool:
    """Check the end-of-central-directory record before zipfile loads the directory."""
    with open(path, "rb") as f:
        return zip_directory_is_sane(f, size)


def _zip_chat(path: Path) -> str | None:
    import zipfile  # only ZIPs need it (and it pulls in bz2/lzma)

    size = path.stat().st_size
    if not _zip_directory_is_sane(path, size):
        return None
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > _MAX_ZIP_ENTRIES:
            return None
        member = chat_member(infos)  # _chat.txt (iOS), else the one .txt (Android)
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


# A line that starts like a chat message of some format: a date and/or a time (bracketed or not),
# then a name and a colon or ">" (``[14:22] Anna: hi``, ``2025.05.03 14:22 Anna > hi``,
# ``03-05-2025 14h22 - Anna: hi`` is not: its time is not a time we know).
_CHAT_LIKE = re.compile(
    r"[\u200e\u200f\ufeff]?[\[(<]?\s*"
    r"(?:\d{1,4}[-/.年]\d{1,2}[-/.月]\d{1,4}日?[,，]?\s*(?:[T ]\s*)?"
    r"(?:(?:上午|下午|凌晨|晚上)\s?)?(?:\d{1,2}[:.：]\d{2}(?:[:.：]\d{2})?)?"
    r"|(?:(?:上午|下午|凌晨|晚上)\s?)?\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)"
    r"\s*(?:[AaPp]\.?\s?[Mm]\.?)?\s*[\])>]?\s*[-–—|,]?\s*"
    r"(?P<name>[^\s\d:：>\[\]()][^:：>\n]{0,40}?)\s*[:：>]"
)
CHAT_LIKE_MIN = 5


def chat_like(path: Path, mime: str) -> tuple[int, int] | None:
    """(lines that start like a chat message, non-empty lines) of a text file that reads like a
    chat export of no format we know: at least 5 such lines and a third of them; else None.
    Reads at most 64 KiB. Never raises."""
    try:
        if not (mime.startswith("text/") or mime in _TEXT_MIMES):
            return None
        with open(path, "rb") as f:
            data = f.read(SNIFF_BYTES + 1)
        complete = len(data) <= SNIFF_BYTES
        text = decode_text(data[:SNIFF_BYTES], final=complete)
        if text is None:
            return None
        lines = text.splitlines()
        if not complete and lines:
            lines.pop()
        lines = [line for line in lines if line.strip()]
        count = 0
        for line in lines:
            m = _CHAT_LIKE.match(line)
            if m is not None and m["name"].strip().lower() not in _LOG_LEVELS:
                count += 1
        if count >= CHAT_LIKE_MIN and count * 3 >= len(lines):
            return count, len(lines)
        return None
    except Exception:  # unreadable: not chat-like
        return None
