"""Chat exports → messages: one parser per export format behind one small protocol.

:func:`parse_chat` reads a stored chat export (read-only), detects its format
from its content (or takes ``fmt``), decodes it (:mod:`locker.chats.encoding`)
and returns a :class:`ChatParse`: every message with its time (ISO 8601 with
offset, to the second), sender, exact text, whether the user sent it and its
kind. It raises :class:`ChatError` and nothing else.

Formats (:data:`FORMATS`), one module each:

* ``whatsapp_android`` / ``whatsapp_ios`` (and the export ZIPs
  ``whatsapp_ios_zip`` / ``whatsapp_android_zip``): :mod:`locker.chats.whatsapp`
* ``telegram_json``: Telegram Desktop ``result.json`` (:mod:`locker.chats.telegram`)
* ``wechat_memotrace_csv`` / ``wechat_memotrace_txt``: MemoTrace/留痕, ``wechat_pywxdump_csv``:
  PyWxDump (:mod:`locker.chats.wechat`)
* ``csv_chat``: a CSV with time, sender and message columns (:mod:`locker.chats.csvchat`)
* ``plain_lines``: ``2025-05-05 09:12:30 商家：内容`` (:mod:`locker.chats.plain`)
* ``locker_chat_json``: our normalized document, ``schemas/chat.schema.json``
  (:mod:`locker.chats.normalized`), which :func:`to_document` writes.

**Kinds**: ``message``; ``media`` for placeholders such as ``<Media omitted>``,
``image omitted``, ``<attached: …>``, ``[图片]`` (the text is kept as written);
``service`` for messages the app wrote (``Messages and calls are end-to-end
encrypted``, Telegram service messages, WeChat system messages);
``unparsed`` for lines that look like the start of a message but cannot be read,
text before the first message, and rows or entries of the structured formats
that cannot be read (kept as raw text). Continuation lines (multi-line messages)
are joined to the message above with ``"\\n"``. Every unparsed entry is counted
in a warning. A file with no readable message at all is not a chat (ChatError).

**System lines** (:func:`system_line`): what the app wrote rather than a participant
(the end-to-end-encryption notice, "This message was deleted", missed calls,
security-code changes, group events, 此消息已删除, 撤回了一条消息, 拍了拍, Telegram
service messages) are kind ``service`` with ``sender`` None and ``me`` False,
never attributed to a participant; where the export put a name before such a
line, the text keeps it as written (``Anna: This message was deleted``).
Media placeholders (``<Media omitted>``, ``image omitted``, ``[图片]``) are not
system lines: a participant did send that photo, so they keep their sender,
with kind ``media``.

**Dates**: WhatsApp's day/month order is taken, in turn, from ``date_order``
(the ``--date-order`` option or the profile's, ``date_order_source`` saying
which), the data, the format's locale signature, and else assumed (day first),
with a warning: see :func:`locker.chats.whatsapp.resolve_date_order`. A chat is
never refused for its dates being ambiguous.

**Times**: chat exports carry no zone; ``tz`` is applied to their wall-clock
times. Exact instants (Telegram ``date_unixtime``, a CSV time with an offset,
epoch seconds) are converted to ``tz``.

**Plug-ins**: a parser is any object with a ``name``, ``detect(sample) -> float``
(0 = not this format, 1 = certainly) and ``parse(source, options) -> ChatParse``;
:func:`register` adds it. The built-in parsers register themselves the same way.
"""

from __future__ import annotations

import gc
import io
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Protocol

from locker.errors import LockerError
from locker.values import zone_name

__all__ = [
    # the API
    "AmbiguousDates", "ChatError", "ChatParse", "FORMATS", "KINDS", "Message", "detect_format",
    "detect_text", "parse_bytes", "parse_chat", "system_line", "to_document",
    # the protocol and the registry
    "ChatParser", "Options", "Sample", "Source", "parsers", "register", "unregister",
    # helpers for parsers (built-in or plug-in)
    "Clock", "LineFeed", "WhenReader", "as_system", "build", "clean_name", "is_media_placeholder", "kind_of",
    "parse_when", "split_lines",
]

SNIFF_BYTES = 64 * 1024
MAX_TEXT_BYTES = 256 * 1024 * 1024  # a chat export (or a ZIP's chat member) larger than this is refused

FORMATS: tuple[str, ...] = (
    "whatsapp_android", "whatsapp_ios", "whatsapp_ios_zip", "whatsapp_android_zip", "telegram_json",
    "wechat_memotrace_csv", "wechat_memotrace_txt", "wechat_pywxdump_csv", "csv_chat", "plain_lines",
    "locker_chat_json",
)
KINDS: tuple[str, ...] = ("message", "media", "service", "unparsed")
DATE_ORDERS: tuple[str, ...] = ("dmy", "mdy", "ymd")
DATE_ORDER_SOURCES: tuple[str, ...] = ("option", "profile", "data", "locale", "assumed")
DETECT_THRESHOLD = 0.5


class ChatError(LockerError):
    """A chat export that cannot be read: undecodable, not a chat, ambiguous dates. One line, no traceback."""

    code = "chat"


class AmbiguousDates(ChatError):
    """Kept for plug-ins: the built-in parsers no longer raise it (an undecided order is assumed)."""

    code = "chat_date_order"


@dataclass(frozen=True, slots=True)
class Message:
    position: int            # 0-based order in the export
    at: str | None           # ISO 8601 with offset, to the second; None if unknown
    sender: str | None       # None for service (system) and unparsed entries
    text: str                # exact text; media placeholders kept as written
    me: bool                 # the user sent it (--me, or MemoTrace IsSender=1)
    kind: str                # "message" | "media" | "service" | "unparsed"


def _instant(at: str) -> datetime:
    return datetime.fromisoformat(at)


@dataclass(frozen=True)
class ChatParse:
    format: str
    encoding: str
    tz: str                  # name of the zone applied to zone-less times
    messages: list[Message]
    participants: tuple[str, ...]   # senders of messages, in order of first appearance
    warnings: tuple[str, ...] = ()
    date_order: str | None = None   # "dmy" | "mdy" | "ymd" where the format has ambiguity
    date_order_source: str | None = None  # "option" | "profile" | "data" | "locale" | "assumed"
    zone_assumed: bool = False      # some times named no zone and were put in ``tz``

    @cached_property
    def first_at(self) -> str | None:
        """The earliest message time (by instant), or None when no message has one."""
        times = [m.at for m in self.messages if m.at is not None]
        return min(times, key=_instant) if times else None

    @cached_property
    def last_at(self) -> str | None:
        times = [m.at for m in self.messages if m.at is not None]
        return max(times, key=_instant) if times else None

    @property
    def count(self) -> int:
        """Number of entries (every kind)."""
        return len(self.messages)


# --------------------------------------------------------------------------- names and placeholders

#: Invisible direction marks WhatsApp and others put around names and numbers.
DIRECTION_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_STRIP_MARKS = str.maketrans("", "", DIRECTION_MARKS)
_WS = " \t\u00a0\u202f\u3000"


def clean_name(name: str | None) -> str | None:
    """A sender name without direction marks and surrounding whitespace; None if nothing is left."""
    if name is None:
        return None
    cleaned = name.translate(_STRIP_MARKS).strip(_WS + "\r\n")
    return cleaned or None


_MEDIA = re.compile(
    r"(?:"
    # WhatsApp: <Media omitted>, localized <…omitted…>, <attached: 00000012-PHOTO-….jpg>, <附件：…>
    r"<[^<>\n]{0,40}(?:omitted|omitid[oa]|omis|omessi|ausgeschlossen|weggelaten|pominięte|省略|忽略|생략)"
    r"[^<>\n]{0,40}>"
    r"|<(?:attached|附件|anexo|Anhang|pièce jointe|allegato)\s?[:：]\s?[^<>\n]{1,255}>"
    # WhatsApp iOS without attachments: "image omitted", "图片已忽略"
    r"|(?:image|video|audio|sticker|GIF|document|Contact card|file|photo)\s(?:omitted|omitido|omis)"
    r"|(?:图片|照片|视频|音频|语音|贴图|文档|动图|文件|影音內容|媒体|媒體|媒体文件)已?(?:省略|忽略|略去)"
    # WhatsApp Android with attachments: "IMG-20250503-WA0001.jpg (file attached)"
    r"|[^\n()]{1,255}\s\((?:file attached|文件已附加|已附加文件|附件)\)"
    # WeChat / QQ / MemoTrace: [图片], [语音] 5", [文件] 发票.pdf
    r"|\[(?:图片|语音|视频|表情|表情包|动画表情|文件|位置|链接|小程序|名片|音乐|音乐分享|聊天记录|"
    r"转账|红包|视频通话|语音通话|Photo|Image|Picture|Video|Voice|Audio|Sticker|File|Location)\]"
    r"(?:[ \t\u3000][^\n]{0,255})?"
    r")",
)
#: Every placeholder starts with one of these or ends with one of those (a cheap test first).
MEDIA_PREFIXES = ("<", "[")
MEDIA_SUFFIXES = ("omitted", "omitido", "omis", ")", "省略", "忽略", "略去")


def is_media_placeholder(text: str) -> bool:
    """Whether ``text`` (a message's first line) is a media placeholder as apps write them."""
    if not text.startswith(MEDIA_PREFIXES) and not text.endswith(MEDIA_SUFFIXES):
        return False
    return _MEDIA.fullmatch(text) is not None


def kind_of(text: str) -> str:
    return "media" if is_media_placeholder(text) else "message"


# --------------------------------------------------------------------------- system lines

_SYSTEM_WORDS = ("deleted", "Missed", "missed", "encrypted", "security code", "删除", "未接", "加密", "安全码",
                 "撤回", "拍了拍", "Waiting for this message", "等待此消息")
_SYSTEM_HINT = re.compile("|".join(map(re.escape, _SYSTEM_WORDS)))
_QUOTED = r'(?:"[^"\n]{1,64}"|“[^”\n]{1,64}”|「[^」\n]{1,64}」)'
_SYSTEM = re.compile(
    r"(?:"
    # WhatsApp (English)
    r"This message was deleted\.?|You deleted this message\.?"
    r"|Missed (?:group )?(?:voice|video) call(?:[,.] ?(?:Tap|Click) to call back\.?)?"
    r"|Messages (?:and calls )?(?:to this (?:group|chat) )?are (?:now )?(?:secured with )?end-to-end encrypt"
    r"(?:ed|ion)\b[^\n]{0,300}"
    r"|Your security code with [^\n]{1,100} changed\.?[^\n]{0,100}|[^\n]{1,100}'s security code changed\.?[^\n]{0,100}"
    r"|Waiting for this message\.?[^\n]{0,100}"
    # WhatsApp (Chinese)
    r"|此消息已(?:被)?删除。?|你删除了此消息。?|您删除了此消息。?"
    r"|未接(?:群组)?(?:语音|视频|語音|視訊)通话?話?(?:[，,]\s?点按回拨。?)?"
    r"|消息和通话(?:已进行|都已)?端到端加密[^\n]{0,300}|訊息和通話(?:已受)?端對端加密[^\n]{0,300}"
    r"|(?:你|您)与[^\n]{1,100}的安全码已更改[^\n]{0,100}|[^\n]{1,100}的安全码已更改[^\n]{0,100}"
    r"|等待此消息[^\n]{0,100}"
    # WeChat
    rf"|(?:{_QUOTED}|你|我|对方|[^\s\n\"“”]{{1,30}}) ?撤回了一条消息(?:\s*重新编辑)?"
    rf"|(?:{_QUOTED}|你|我) ?拍了拍 ?(?:{_QUOTED}|你|我|自己)[^\n]{{0,30}}"
    r")"
)


def system_line(text: str) -> bool:
    """Whether ``text`` (a whole message) is a line the app wrote, not a participant: a deleted
    message, a missed call, the encryption notice, a security-code change, 撤回 / 拍了拍."""
    if len(text) > 500 or _SYSTEM_HINT.search(text) is None:
        return False
    return _SYSTEM.fullmatch(text.translate(_STRIP_MARKS).strip(_WS)) is not None


def as_system(m: Message) -> Message:
    """``m`` as a system line: no sender, not the user's; a name the export put before it stays
    in the text as written (``Anna: This message was deleted``)."""
    text = m.text
    if m.sender is not None and m.sender not in text:
        text = f"{m.sender}: {text}"
    return Message(m.position, m.at, None, text, False, "service")


# --------------------------------------------------------------------------- times


def tz_name(tz: tzinfo) -> str:
    """How the zone applied to a chat is recorded: :func:`locker.values.zone_name`."""
    return zone_name(tz)


_AM_WORDS = frozenset({"上午", "凌晨", "早上", "午前", "오전"})
_PM_WORDS = frozenset({"下午", "晚上", "午後", "오후"})


def hour24(hour: int, marker: str | None) -> int | None:
    """A 12-hour clock's hour made 0–23 (``marker``: AM/PM/a.m./上午/下午/…); None if impossible."""
    if marker is None:
        return hour if hour < 24 else None
    m = marker[0].lower()
    if m == "a" or marker in _AM_WORDS:
        if hour > 12:
            return None
        return 0 if hour == 12 else hour
    if m == "p" or marker in _PM_WORDS:
        if hour > 23:
            return None
        return hour + 12 if hour < 12 else hour
    if marker == "中午":  # noon: 中午12:30 is 12:30, 中午1:00 is 13:00
        if hour > 23:
            return None
        return hour if hour >= 11 else hour + 12
    return None


class Clock:
    """Zone-less wall-clock times → ISO 8601 strings in ``tz``, with caches.

    The offset is computed once per calendar day when the zone has a single
    offset all day (it is then pasted onto each time of that day); on days with a
    transition each time is computed (a time in a gap or a fold gets ``fold=0``,
    as ``datetime.replace(tzinfo=tz)`` does).
    """

    __slots__ = ("tz", "zoneless", "_days", "_times")

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.zoneless = False  # set once a zone-less time has been put in ``tz``: its zone is assumed
        self._days: dict[tuple[int, int, int], tuple[str, str | None] | None] = {}
        self._times: dict[tuple[int, int, int], str] = {}

    def day(self, y: int, m: int, d: int) -> tuple[str, str | None] | None:
        """("2025-05-03", "+08:00" or None on a transition day), or None for no such date."""
        self.zoneless = True
        key = (y, m, d)
        try:
            return self._days[key]
        except KeyError:
            pass
        try:
            start = datetime(y, m, d, tzinfo=self.tz)
            end = datetime(y, m, d, 23, 59, 59, tzinfo=self.tz)
            first, last = start.isoformat(), end.isoformat()
        except (ValueError, OverflowError):
            value = None
        else:
            offset = first[19:]
            value = (first[:10], offset if offset == last[19:] else None)
        if len(self._days) > 100_000:
            self._days.clear()
        self._days[key] = value
        return value

    def at(self, y: int, mo: int, d: int, h: int, mi: int, s: int) -> str | None:
        """ISO 8601 with offset, or None when the date or time does not exist."""
        day = self.day(y, mo, d)
        if day is None or not (0 <= h < 24 and 0 <= mi < 60 and 0 <= s < 60):
            return None
        date_str, offset = day
        if offset is None:
            return datetime(y, mo, d, h, mi, s, tzinfo=self.tz).isoformat()
        key = (h, mi, s)
        t = self._times.get(key)
        if t is None:
            t = self._times[key] = f"T{h:02d}:{mi:02d}:{s:02d}"
        return date_str + t + offset

    def instant(self, value: datetime) -> str:
        """An aware datetime (an exact instant) shown in ``tz``; a naive one is put in ``tz``."""
        if value.tzinfo is None:
            self.zoneless = True
            value = value.replace(tzinfo=self.tz)
        else:
            value = value.astimezone(self.tz)
        return value.replace(microsecond=0).isoformat()

    def epoch(self, seconds: float) -> str | None:
        try:
            return datetime.fromtimestamp(int(seconds), self.tz).isoformat()
        except (ValueError, OverflowError, OSError):
            return None


_DATETIME = re.compile(
    r"[ \t]*(?P<y>\d{4})[-/.年](?P<mo>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
    r"(?:(?:[ T\u3000]+|(?=[上下凌早中晚午]))"
    r"(?:(?P<cn>上午|下午|凌晨|早上|中午|晚上|午前|午後)\s?)?"
    r"(?P<H>\d{1,2})[:：时時](?P<M>\d{2})(?:[:：分](?P<S>\d{2})秒?)?(?:[.,]\d{1,9})?"
    r"(?:\s?(?P<ap>[AaPp]\.?[Mm]\.?))?)?"
    r"[ \t]*(?P<z>Z|[+-]\d{2}:?\d{2}|(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?)?[ \t]*"
)
_EPOCH = re.compile(r"[ \t]*(?P<s>\d{10})(?P<ms>\d{3})?(?:\.\d+)?[ \t]*")  # epoch seconds or ms
_ZONE = re.compile(r"(?:UTC|GMT)?(?P<sign>[+-])(?P<h>\d{1,2}):?(?P<m>\d{2})?")


_YMD = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_HMS = re.compile(r"(\d{2}):(\d{2}):(\d{2})")
_NOT_YET = object()


class WhenReader:
    """:func:`parse_when` for many values: ``2025-05-05 09:12:30`` (the shape nearly every tool
    writes) is read from two caches, per date and per time of day; other shapes are parsed."""

    __slots__ = ("clock", "_days", "_times")

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._days: dict[str, tuple[str, str | None, tuple[int, int, int]] | None] = {}
        self._times: dict[str, tuple[int, int, int] | None] = {}

    def __call__(self, value: str) -> str | None:
        if len(value) == 19 and value[10] in " T" and value[4] == "-":
            date = value[:10]
            day = self._days.get(date, _NOT_YET)
            if day is _NOT_YET:
                day = self._day(date)
            t = value[11:]
            hms = self._times.get(t, _NOT_YET)
            if hms is _NOT_YET:
                hms = self._time(t)
            if day is not None and hms is not None:
                if day[1] is not None:
                    return day[0] + "T" + t + day[1]
                return self.clock.at(*day[2], *hms)
        return _parse_when(value, self.clock)

    def _day(self, date: str) -> tuple[str, str | None, tuple[int, int, int]] | None:
        m = _YMD.fullmatch(date)
        found = None
        if m is not None:
            ymd = (int(m[1]), int(m[2]), int(m[3]))
            day = self.clock.day(*ymd)
            if day is not None:
                found = (day[0], day[1], ymd)
        if len(self._days) > 100_000:
            self._days.clear()
        self._days[date] = found
        return found

    def _time(self, t: str) -> tuple[int, int, int] | None:
        m = _HMS.fullmatch(t)
        found = None
        if m is not None:
            h, mi, s = int(m[1]), int(m[2]), int(m[3])
            if h < 24 and mi < 60 and s < 60:
                found = (h, mi, s)
        self._times[t] = found  # at most 100 × 100 × 100 keys
        return found


def parse_when(value: str, clock: Clock, cache: dict[str, str | None] | None = None) -> str | None:
    """A date-time as tools write it (year first; optional 12-hour marker, offset, or epoch
    seconds/milliseconds) → ISO 8601 in the clock's zone; None when it cannot be read."""
    if cache is not None:
        try:
            return cache[value]
        except KeyError:
            pass
    result = _parse_when(value, clock)
    if cache is not None:
        if len(cache) > 200_000:
            cache.clear()
        cache[value] = result
    return result


_FAST = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def _parse_when(value: str, clock: Clock) -> str | None:
    f = _FAST.fullmatch(value)
    if f is not None:
        y, mo, d, h, mi, s = f.groups()
        return clock.at(int(y), int(mo), int(d), int(h), int(mi), int(s))
    if len(value) > 64:
        return None
    if len(value) >= 19 and value[4] == "-" and value[10] in "T ":  # ISO 8601, as we write it
        try:
            iso = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if iso.tzinfo is None:
                return clock.at(iso.year, iso.month, iso.day, iso.hour, iso.minute, iso.second)
            try:
                return clock.instant(iso)
            except (ValueError, OverflowError):
                return None
    m = _DATETIME.fullmatch(value)
    if m is None:
        e = _EPOCH.fullmatch(value)
        return clock.epoch(int(e["s"])) if e else None
    y, mo, d = int(m["y"]), int(m["mo"]), int(m["d"])
    if m["H"] is None:
        h = mi = s = 0
    else:
        marker = m["cn"] or m["ap"]
        h24 = hour24(int(m["H"]), marker)
        if h24 is None:
            return None
        h, mi, s = h24, int(m["M"]), int(m["S"] or 0)
    zone = m["z"]
    if not zone:
        return clock.at(y, mo, d, h, mi, s)
    if zone == "Z" or zone in ("UTC", "GMT"):
        offset = timedelta(0)
    else:
        z = _ZONE.fullmatch(zone)
        if z is None:
            return None
        offset = timedelta(hours=int(z["h"]), minutes=int(z["m"] or 0))
        if z["sign"] == "-":
            offset = -offset
        if offset >= timedelta(hours=24) or offset <= timedelta(hours=-24):
            return None
    try:
        return clock.instant(datetime(y, mo, d, h, mi, s, tzinfo=timezone(offset)))
    except (ValueError, OverflowError):
        return None


# --------------------------------------------------------------------------- sources and options


@dataclass(frozen=True, slots=True)
class Options:
    """What the user told us: the zone of zone-less times, their own name, the date order."""

    tz: tzinfo
    me: str | None = None
    date_order: str | None = None
    date_order_source: str = "option"  # or "profile": where a given date_order came from
    clocks: list[Clock] = field(default_factory=list, compare=False, repr=False)

    @property
    def tz_name(self) -> str:
        return tz_name(self.tz)

    def clock(self) -> Clock:
        """A Clock in the user's zone; :func:`build` asks the parser's clocks whether any time was
        zone-less (then the zone is the user's assumption, and the exhibit says so)."""
        made = Clock(self.tz)
        self.clocks.append(made)
        return made


class Source:
    """The bytes of one chat export: a file (read-only, read lazily) or bytes in memory."""

    def __init__(self, path: Path | None = None, data: bytes | None = None) -> None:
        if (path is None) == (data is None):
            raise ValueError("give a path or data")
        self.path = path
        self._data = data
        self._head: bytes | None = None
        self._text: tuple[str, str] | None = None

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
        return Sample(decode_head(head[:SNIFF_BYTES], complete), complete, head[:SNIFF_BYTES], self)


@dataclass(frozen=True, slots=True)
class Sample:
    """What ``detect`` looks at: the start of the file, decoded when it is text."""

    text: str | None      # the decoded start (up to 64 KiB of bytes), None if not text
    complete: bool        # ``text``/``head`` is the whole file
    head: bytes           # the first bytes (up to 64 KiB)
    source: Source | None  # None when only text was given (detect_text)

    def lines(self) -> list[str]:
        """The non-empty lines of ``text``, without a last line cut by the 64 KiB window."""
        if not self.text:
            return []
        lines = self.text.splitlines()
        if not self.complete and lines:
            lines.pop()
        return [line for line in lines if line.strip()]


class ChatParser(Protocol):
    """One chat export format."""

    name: str

    def detect(self, sample: Sample) -> float:
        """0 (not this format) … 1 (certainly this format). Must not raise."""
        ...

    def parse(self, source: Source, options: Options) -> ChatParse:
        """All messages. Raises ChatError for input it cannot read."""
        ...


# --------------------------------------------------------------------------- helpers for parsers


def split_lines(text: str) -> list[str]:
    """Lines split at LF, CRLF or CR only (not at U+2028 or form feeds: those stay in a message)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


class LineFeed:
    """The lines of ``text`` with their ``\\n`` (CRLF kept as is: csv wants it), split at LF only,
    one at a time (no copy of the whole text), remembering the last line handed out: a CSV
    reader's input that can tell which raw line a ``csv.Error`` was about."""

    __slots__ = ("text", "last")

    def __init__(self, text: str) -> None:
        self.text = text
        self.last = ""

    def __iter__(self) -> Iterator[str]:
        text = self.text
        self.text = ""
        find = text.find
        start = 0
        end_of_text = len(text)
        while start < end_of_text:
            end = find("\n", start)
            line = text[start:] if end < 0 else text[start:end + 1]
            start = end_of_text if end < 0 else end + 1
            self.last = line
            yield line


def unparsed_warning(count: int, what: str = "line") -> str:
    plural = "" if count == 1 else "s"
    return (f"{count} {what}{plural} could not be read as chat messages "
            f"and {'was' if count == 1 else 'were'} kept as unparsed text")


def build(fmt: str, encoding: str, options: Options, messages: list[Message], *,
          warnings: Iterable[str] = (), date_order: str | None = None,
          date_order_source: str | None = None) -> ChatParse:
    """The ChatParse of ``messages``: system lines set apart (:func:`as_system`), participants
    (senders of messages and media, in order of first appearance) and a warning counting the
    unparsed entries."""
    seen: dict[str, None] = {}
    unparsed = 0
    hint = _SYSTEM_HINT.search  # the cheap test of system_line, inlined: it runs for every message
    for i, m in enumerate(messages):
        kind = m.kind
        if (kind == "message" and hint(m.text) is not None and system_line(m.text)) or (
                kind == "service" and (m.sender is not None or m.me)):
            m = messages[i] = as_system(m)
        if m.kind == "message" or m.kind == "media":
            if m.sender is not None and m.sender not in seen:
                seen[m.sender] = None
        elif m.kind == "unparsed":
            unparsed += 1
    out = list(warnings)
    if unparsed:
        out.insert(0, unparsed_warning(unparsed))
    if date_order is not None and date_order_source is None:
        date_order_source = "data"
    return ChatParse(fmt, encoding, options.tz_name, messages, tuple(seen), tuple(out), date_order,
                     date_order_source, zone_assumed=any(c.zoneless for c in options.clocks))


# --------------------------------------------------------------------------- the registry

_PARSERS: dict[str, ChatParser] = {}
_LOCK = threading.RLock()
_BUILTINS = ("normalized", "telegram", "wechat", "csvchat", "whatsapp", "plain")
_loaded = False


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    with _LOCK:
        if _loaded:
            return
        _loaded = True
        import importlib

        for module in _BUILTINS:
            importlib.import_module(f"locker.chats.{module}")


def register(parser: ChatParser, *, replace: bool = False) -> None:
    """Add a chat format. Built-in formats register themselves this way, on first use."""
    name = getattr(parser, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError("a chat parser needs a name")
    _load_builtins()
    with _LOCK:
        if name in _PARSERS and not replace:
            raise ValueError(f"a chat parser named {name!r} is already registered")
        _PARSERS[name] = parser


def unregister(name: str) -> None:
    _load_builtins()
    with _LOCK:
        _PARSERS.pop(name, None)


def parsers() -> tuple[ChatParser, ...]:
    """Every registered parser, built-ins first, in registration order."""
    _load_builtins()
    with _LOCK:
        return tuple(_PARSERS.values())


def _parser(fmt: str) -> ChatParser:
    _load_builtins()
    parser = _PARSERS.get(fmt)
    if parser is None:
        raise ChatError(f"unknown chat format {fmt!r} (known: {', '.join(_PARSERS)})")
    return parser


def _detect(source: Source) -> str | None:
    return _best(source.sample())


def _best(sample: Sample) -> str | None:
    best, best_score = None, 0.0
    for parser in parsers():
        try:
            score = float(parser.detect(sample))
        except Exception:  # detect must not raise; a broken plug-in must not stop the others
            continue
        if score > best_score:
            best, best_score = parser.name, score
    return best if best_score >= DETECT_THRESHOLD else None


# --------------------------------------------------------------------------- the public API

# Low-level failures a hostile or damaged file can cause while parsing, turned into ChatError.
_INPUT_ERRORS: tuple[type[BaseException], ...] = (ValueError, RecursionError, OSError, EOFError)


def detect_format(path: Path) -> str | None:
    """The chat format of the file at ``path``, from its content; None if it is not a chat we know.

    Reads the first 64 KiB (of the file, or of a ZIP's chat member). Never raises."""
    try:
        return _detect(Source(Path(path)))
    except (ChatError, *_INPUT_ERRORS):
        return None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a parser builds its (acyclic) messages: with
    100,000 messages its generation scans took a third of the parse time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def detect_text(text: str, complete: bool = True) -> str | None:
    """The chat format of ``text``, the decoded start of a file (``complete``: all of it); None
    if it is not a chat we know. Formats that need the bytes (the ZIPs) are not found this way."""
    return _best(Sample(text, complete, b"", None))


def _check_options(fmt: str | None, date_order: str | None) -> None:
    if date_order is not None and date_order not in DATE_ORDERS:
        raise ChatError(f"date order must be dmy, mdy or ymd, not {date_order!r}")
    if fmt is not None:
        _parser(fmt)


def _parse(source: Source, tz: tzinfo, me: str | None, fmt: str | None, date_order: str | None,
           date_order_source: str = "option") -> ChatParse:
    import csv
    import zipfile
    import zlib

    _check_options(fmt, date_order)
    options = Options(tz=tz, me=clean_name(me), date_order=date_order, date_order_source=date_order_source)
    try:
        if fmt is None:
            undecodable = None
            if not source.head().startswith(b"PK\x03\x04"):
                try:
                    source.text()  # needed anyway: detection then looks at its start
                except ChatError as err:
                    undecodable = err
            fmt = _detect(source)
            if fmt is None:
                if undecodable is not None:
                    raise undecodable
                raise ChatError("not a chat export this version can read (formats: "
                                + ", ".join(FORMATS) + ")")
        with _collector_paused():
            return _parser(fmt).parse(source, options)
    except ChatError:
        raise
    except MemoryError:
        raise ChatError("too large to read as a chat export") from None
    except (*_INPUT_ERRORS, csv.Error, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error,
            NotImplementedError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile):
            reason = exc.strerror or str(exc)
        else:
            reason = str(exc) or type(exc).__name__
        raise ChatError(f"cannot read it as {fmt or 'a chat'}: {reason}"[:300]) from None


def parse_chat(path: Path, *, tz: tzinfo, me: str | None = None, fmt: str | None = None,
               date_order: str | None = None, date_order_source: str = "option") -> ChatParse:
    """Read a stored chat export (read-only). fmt overrides detection; date_order ("dmy"/"mdy"/"ymd")
    is WhatsApp's day/month order, given by the user (``date_order_source`` "option") or their
    profile ("profile"). Raises ChatError only."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ChatError("not a readable file", path=str(path))
        return _parse(Source(path), tz, me, fmt, date_order, date_order_source)
    except ChatError as err:
        if err.path is None:
            err.path = str(path)
        raise
    except OSError as exc:
        raise ChatError(exc.strerror or str(exc), path=str(path)) from None


def parse_bytes(data: bytes, *, tz: tzinfo, me: str | None = None, fmt: str | None = None,
                date_order: str | None = None, date_order_source: str = "option") -> ChatParse:
    """:func:`parse_chat` for content already in memory."""
    return _parse(Source(data=bytes(data)), tz, me, fmt, date_order, date_order_source)


def to_document(parsed: ChatParse, me: str | None = None) -> dict:
    """The normalized JSON document (``schemas/chat.schema.json``) of a parsed chat.

    ``me`` names the user; without it, the one sender whose messages are all marked
    as the user's (if there is exactly one) is named."""
    me_name = clean_name(me)
    if me_name is None:
        mine = {m.sender for m in parsed.messages if m.me and m.sender is not None}
        if len(mine) == 1:
            me_name = next(iter(mine))
    return {
        "format": "locker-chat",
        "version": 1,
        "source_format": parsed.format,
        "encoding": parsed.encoding,
        "tz": parsed.tz,
        "date_order": parsed.date_order,
        "date_order_source": parsed.date_order_source,
        "participants": list(parsed.participants),
        "me": me_name,
        "warnings": list(parsed.warnings),
        "messages": [
            {"position": m.position, "at": m.at, "sender": m.sender, "text": m.text, "me": m.me,
             "kind": m.kind, "system": m.kind == "service"}
            for m in parsed.messages
        ],
    }
