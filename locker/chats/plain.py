"""Plain text lines as people type or copy them: ``2025-05-05 09:12:30 商家：内容``.

The date is year first (``2025-05-05``, ``2025/5/5``, ``2025.05.05``,
``2025年5月5日``), then a time (seconds optional; ``下午2:30`` and ``2:30 PM``
read too), the sender, and a half- or full-width colon. Spaces after the colon
are not part of the text. A line that does not start with a date and a time
continues the message above; one that does but cannot be read (no ``name：``,
2025-02-30, 25:00) is an ``unparsed`` entry. Lines whose "sender" is a log level
(``2025-05-05 09:12:30 INFO: …``) make a file a log, not a chat, for detection.
"""

from __future__ import annotations

import re
from typing import Any

from locker.chats import (
    DIRECTION_MARKS,
    ChatError,
    ChatParse,
    Message,
    Options,
    Sample,
    Source,
    build,
    clean_name,
    hour24,
    kind_of,
    register,
    split_lines,
)

__all__ = ["PLAIN_LINE", "LOG_LEVELS", "parse_text"]

_M = f"[{DIRECTION_MARKS}]*"
_AM_PM = r"上午|下午|凌晨|早上|中午|晚上"

#: ``2025-05-05 09:12:30 商家：内容``. Groups: y mo d cn H M S ap name text (use ``match``).
PLAIN_LINE = re.compile(
    rf"{_M}(?P<y>\d{{4}})[-/.年](?P<mo>\d{{1,2}})[-/.月](?P<d>\d{{1,2}})日?[ T\u3000]*"
    rf"(?:(?P<cn>{_AM_PM})\s?)?(?P<H>\d{{1,2}}):(?P<M>\d{{2}})(?::(?P<S>\d{{2}}))?"
    r"(?:\s?(?P<ap>[AaPp]\.?[Mm]\.?))?"
    r"\s+(?P<name>[^:：\s][^:：]{0,63}?)\s*[:：][ \t\u3000]*(?P<text>.*)"
)
_LOOKS_LIKE_START = re.compile(
    rf"{_M}\d{{4}}[-/.年]\d{{1,2}}[-/.月]\d{{1,2}}日?[ T\u3000]*(?:{_AM_PM})?\s?\d{{1,2}}:\d{{2}}"
)
LOG_LEVELS = frozenset({"trace", "debug", "info", "notice", "warn", "warning", "error", "critical",
                        "fatal", "severe"})


def _is_log(m: re.Match[str]) -> bool:
    return m["name"].strip().lower() in LOG_LEVELS


def detect_lines(lines: list[str]) -> float:
    if not lines:
        return 0.0
    count = 0
    for line in lines:
        m = PLAIN_LINE.match(line)
        if m is not None and not _is_log(m):
            count += 1
    if count >= 2 and count * 3 >= len(lines):
        return 0.55 + 0.4 * count / len(lines)
    return 0.0


def parse_text(text: str, encoding: str, options: Options, fmt: str = "plain_lines") -> ChatParse:
    match = PLAIN_LINE.match
    looks_like_start = _LOOKS_LIKE_START.match
    clock = options.clock()
    me = options.me
    senders: dict[str, str | None] = {}
    entries: list[list[Any]] = []  # [at, sender, first line, kind, continuation lines or None]
    for line in split_lines(text):
        m = match(line)
        if m is not None:
            y, mo, d, cn, hh, mm, ss, ap, name, body = m.groups()
            h = hour24(int(hh), cn or ap)
            at = clock.at(int(y), int(mo), int(d), h, int(mm), int(ss or 0)) if h is not None else None
            if at is not None:
                sender = senders.get(name)
                if sender is None:
                    sender = senders[name] = clean_name(name) or name
                entries.append([at, sender, body, kind_of(body), None])
                continue
            entries.append([None, None, line, "unparsed", None])
        elif entries and not looks_like_start(line):
            more = entries[-1][4]
            if more is None:
                entries[-1][4] = [line]
            else:
                more.append(line)
        elif line.strip():
            entries.append([None, None, line, "unparsed", None])
    del text
    messages = []
    for i, (at, sender, body, kind, more) in enumerate(entries):
        if more is not None:
            while more and not more[-1].strip():
                more.pop()
            if more:
                body = body + "\n" + "\n".join(more)
        messages.append(Message(i, at, sender, body, sender is not None and sender == me, kind))
    if not any(m.kind != "unparsed" for m in messages):
        raise ChatError("no line reads as a chat message (2025-05-05 09:12:30 Name：text)")
    return build(fmt, encoding, options, messages)


class PlainLines:
    name = "plain_lines"

    def detect(self, sample: Sample) -> float:
        return detect_lines(sample.lines())

    def parse(self, source: Source, options: Options) -> ChatParse:
        return parse_text(*source.take_text(), options)


register(PlainLines())
