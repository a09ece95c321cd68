"""Generic chat CSV: a header naming a time, a sender and a message column.

Header names, English or Chinese (case and surrounding quotes/BOM ignored):

* time: time, date, datetime, timestamp, sent_at, createtime…, or any header
  containing 时间 or 日期 (a separate date column and time column are joined);
* sender: sender, from, author, name, user, nickname, talker, or 发送人, 发送者,
  发言人, 发送方, 昵称;
* message: message, text, content, body, msg, or 内容, 消息;
* optionally who is the user: is_me, me, from_me, is_sender, outgoing, 是否本人
  (1/true/yes/是).

The delimiter is the one of , TAB ; that the header uses most. Times are read
as tools write them, year first (``2025-05-05 09:12:30``, ``2025/5/5 9:12``,
``2025年5月5日 09:12``, ISO 8601 with an offset, epoch seconds or
milliseconds); a row whose time cannot be read keeps its message with no time,
and a warning counts them. A row with too few columns is ``unparsed``.
"""

from __future__ import annotations

import csv

from locker.chats import (
    MEDIA_PREFIXES,
    MEDIA_SUFFIXES,
    ChatError,
    ChatParse,
    LineFeed,
    Message,
    Options,
    Sample,
    Source,
    WhenReader,
    build,
    clean_name,
    is_media_placeholder,
    register,
)

__all__ = ["TIME_HEADERS", "SENDER_HEADERS", "MESSAGE_HEADERS", "header_roles", "parse_csv_text"]

TIME_HEADERS = frozenset({"time", "date", "datetime", "date_time", "timestamp", "sent_at", "createtime",
                          "create_time"})
SENDER_HEADERS = frozenset({"sender", "from", "author", "name", "user", "nickname", "talker"})
MESSAGE_HEADERS = frozenset({"message", "text", "content", "body", "msg"})
ME_HEADERS = frozenset({"is_me", "me", "from_me", "is_sender", "issender", "outgoing", "是否本人", "是否我"})
_SENDER_WORDS = ("发送人", "发送者", "发言人", "发送方", "昵称")
_TRUE = frozenset({"1", "true", "yes", "y", "是", "t"})


def _norm(raw: str) -> str:
    return raw.strip().strip("\ufeff\"'").strip().lower()


def _role(raw: str) -> str | None:
    h = _norm(raw)
    if h in TIME_HEADERS or "时间" in h or "日期" in h:
        return "time"
    if h in SENDER_HEADERS or any(k in h for k in _SENDER_WORDS):
        return "sender"
    if h in MESSAGE_HEADERS or "内容" in h or "消息" in h:
        return "message"
    return None


def header_roles(header: list[str]) -> set[str]:
    """The roles (time, sender, message) that a CSV header's columns play."""
    return {role for role in map(_role, header) if role is not None}


def _delimiter(first_line: str) -> str | None:
    delimiter = max((",", "\t", ";"), key=first_line.count)
    return delimiter if first_line.count(delimiter) >= 2 else None


def _columns(header: list[str]) -> tuple[list[int], int, int, int | None]:
    """(time columns (1, or date + time), sender column, message column, me column)."""
    times: list[int] = []
    sender = message = me = None
    for i, raw in enumerate(header):
        role = _role(raw)
        if role == "time":
            times.append(i)
        elif role == "sender" and sender is None:
            sender = i
        elif role == "message" and message is None:
            message = i
        elif role is None and me is None and _norm(raw) in ME_HEADERS:
            me = i
    if not times or sender is None or message is None:
        raise ChatError("not a chat CSV (its header must name a time, a sender and a message column)")
    if len(times) >= 2:
        names = [_norm(header[i]) for i in times]
        date_col = next((i for i, n in zip(times, names) if n == "date" or "日期" in n), None)
        time_col = next((i for i, n in zip(times, names) if (n == "time" or "时间" in n) and "日期" not in n), None)
        if date_col is not None and time_col is not None and date_col != time_col:
            return [date_col, time_col], sender, message, me
    return times[:1], sender, message, me


def parse_csv_text(text: str, encoding: str, options: Options) -> ChatParse:
    if text.startswith("\ufeff"):
        text = text[1:]
    feed = LineFeed(text)
    del text
    stream = iter(feed)
    first = ""
    for line in stream:
        if line.strip():
            first = line
            break
    delimiter = _delimiter(first)
    if delimiter is None:
        raise ChatError("not a chat CSV (no header with three or more columns)")
    try:
        header = next(csv.reader([first], delimiter=delimiter))
    except (csv.Error, StopIteration):
        raise ChatError("not a chat CSV (its header cannot be read)") from None
    time_cols, i_sender, i_message, i_me = _columns(header)
    needed = max(*time_cols, i_sender, i_message)
    when = WhenReader(options.clock())
    me = options.me
    senders: dict[str, str | None] = {}
    media = is_media_placeholder
    media_first = MEDIA_PREFIXES
    media_endings = MEDIA_SUFFIXES
    messages: list[Message] = []
    append = messages.append
    bad_times = 0
    position = 0
    single = len(time_cols) == 1
    i_time = time_cols[0]
    i_time2 = time_cols[-1]
    reader = csv.reader(stream, delimiter=delimiter)
    while True:
        try:
            for row in reader:
                if len(row) <= needed:
                    if any(cell.strip() for cell in row):
                        append(Message(position, None, None, delimiter.join(row), False, "unparsed"))
                        position += 1
                    continue
                at = when(row[i_time] if single else f"{row[i_time]} {row[i_time2]}")
                if at is None:
                    bad_times += 1
                name = row[i_sender]
                sender = senders.get(name, name)
                if sender is name:
                    sender = senders[name] = clean_name(name)
                text_ = row[i_message]
                mine = sender is not None and sender == me
                if i_me is not None and i_me < len(row) and row[i_me].strip().lower() in _TRUE:
                    mine = True
                if (text_.startswith(media_first) or text_.endswith(media_endings)) and media(text_):
                    kind = "media"
                else:
                    kind = "message"
                append(Message(position, at, sender, text_, mine, kind))
                position += 1
            break
        except csv.Error:  # an oversized field (> 128 KiB), a NUL: kept raw, the next rows are read
            append(Message(position, None, None, feed.last.rstrip("\r\n"), False, "unparsed"))
            position += 1
    warnings = [f"{bad_times} message(s) have a time that could not be read"] if bad_times else []
    return build("csv_chat", encoding, options, messages, warnings=warnings)


class CsvChat:
    name = "csv_chat"

    def detect(self, sample: Sample) -> float:
        lines = sample.lines()
        if len(lines) < 2 or len(lines[0]) > 4096:
            return 0.0
        delimiter = _delimiter(lines[0])
        if delimiter is None:
            return 0.0
        try:
            header = next(csv.reader([lines[0]], delimiter=delimiter))
        except (csv.Error, StopIteration):
            return 0.0
        return 0.8 if {"time", "sender", "message"} <= header_roles(header) else 0.0

    def parse(self, source: Source, options: Options) -> ChatParse:
        return parse_csv_text(*source.take_text(), options)


register(CsvChat())
