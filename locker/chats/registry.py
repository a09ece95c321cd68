"""The chat formats' registry and the public API: detect a format, parse a chat, write the
normalized document. A parser is any object with ``name``, ``detect`` and ``parse``
(:class:`ChatParser`); the built-in ones register themselves on first use."""

from __future__ import annotations

import re
import threading
from datetime import tzinfo
from pathlib import Path
from typing import Any, Protocol

from locker import words
from locker.chats.lines import clean_name
from locker.chats.models import DATE_ORDERS, FORMATS, ChatError, ChatParse, Options
from locker.chats.source import Sample, Source
from locker.gcpause import collector_paused

__all__ = [
    "CHAT_LIKE_MIN", "DETECT_THRESHOLD", "ChatParser", "chat_like", "detect_format", "detect_text", "parse_bytes", "parse_chat", "parsers",
    "register", "to_document", "unregister",
]

DETECT_THRESHOLD = 0.5


class ChatParser(Protocol):
    """One chat export format."""

    name: str

    def detect(self, sample: Sample) -> float:
        """0 (not this format) … 1 (certainly this format). Must not raise."""
        ...

    def parse(self, source: Source, options: Options) -> ChatParse:
        """All messages. Raises ChatError for input it cannot read."""
        ...


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
_DETECT_ERRORS: tuple[type[BaseException], ...] = (ChatError, *_INPUT_ERRORS)


def detect_format(path: Path) -> str | None:
    """The chat format of the file at ``path``, from its content; None if it is not a chat we know.

    Reads the first 64 KiB (of the file, or of a ZIP's chat member). Never raises."""
    try:
        return _detect(Source(Path(path)))
    except _DETECT_ERRORS:
        return None


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
        with collector_paused():
            return _parser(fmt).parse(source, options)
    except ChatError:
        raise
    except MemoryError:
        raise ChatError("too large to read as a chat export") from None
    except (ValueError, RecursionError, OSError, EOFError, csv.Error, zipfile.BadZipFile, zipfile.LargeZipFile,
            zlib.error, NotImplementedError) as exc:  # _INPUT_ERRORS and the readers' own
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


def to_document(parsed: ChatParse, me: str | None = None) -> dict[str, Any]:
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


# --------------------------------------------------------------------------- chat-like text of no known format

# A line that starts like a chat message of some format: a date and/or a time (bracketed or not),
# then a name and a colon or ">" (``[14:22] Anna: hi``, ``2025.05.03 14:22 Anna > hi``;
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
    """(lines that start like a chat message, non-empty lines) of a text file (MIME ``mime``) that
    reads like a chat export of no format we know: at least 5 such lines and a third of them;
    else None. Reads at most 64 KiB. Never raises."""
    try:
        if not words.is_text_mime(mime):
            return None
        from locker.chats.plain import LOG_LEVELS

        lines = Source(Path(path)).sample().lines()
        count = 0
        for line in lines:
            m = _CHAT_LIKE.match(line)
            if m is not None and m["name"].strip().lower() not in LOG_LEVELS:
                count += 1
        if count >= CHAT_LIKE_MIN and count * 3 >= len(lines):
            return count, len(lines)
        return None
    except Exception:  # unreadable: not chat-like
        return None
