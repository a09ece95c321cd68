"""Helpers for parsers: names, media placeholders, system lines, line splitting, and :func:`build`,
which turns a parser's messages into a :class:`~locker.chats.models.ChatParse`."""

from __future__ import annotations

import re
from typing import Iterable, Iterator

from locker.chats.models import ChatParse, Message, Options

__all__ = [
    "DIRECTION_MARKS", "MEDIA_PREFIXES", "MEDIA_SUFFIXES", "LineFeed", "as_system", "build", "clean_name",
    "is_media_placeholder", "kind_of", "split_lines", "system_line", "unparsed_warning",
]

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
