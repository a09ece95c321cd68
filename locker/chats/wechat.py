"""WeChat exports written by MemoTrace (留痕, WeChatMsg): its CSV and its TXT.

**CSV** (``utf-8-sig``): header ``localId,TalkerId,Type,SubType,IsSender,
CreateTime,Status,StrContent,StrTime[,Remark,NickName,Sender]``; the last three
columns are filled for group chats only. The time is ``StrTime`` (local wall
clock; ``CreateTime`` epoch seconds when StrTime is empty); ``IsSender=1``
marks the user's messages. The sender is Remark, else NickName, else Sender
(a wxid); without them (one-to-one chats) it is the ``--me`` name or "我" for
IsSender=1 and "对方" (the other party) for the others. ``Type``: 1 text,
3 image, 34 voice, 43 video, 47 sticker, 48 location, 42 card, 49 app message
(file, link, transfer; sub-type 57, a quoted reply, is text), 50 call; 10000
and 10002 are system messages (``service``). An empty StrContent of a media
message becomes the placeholder MemoTrace writes in its TXT (``[图片]`` …).

**TXT**: blocks of ``2025-05-05 09:12:30 Name`` then the content lines and a
blank line; a system message is one line, ``2025-05-05 09:12:30 text``,
followed by a blank line.
"""

from __future__ import annotations

import csv
import re

from locker.chats import (
    ChatError,
    ChatParse,
    Clock,
    LineFeed,
    Message,
    Options,
    Sample,
    Source,
    WhenReader,
    build,
    clean_name,
    kind_of,
    parse_when,
    register,
    split_lines,
)

__all__ = ["MEMOTRACE_COLUMNS", "parse_csv_text", "parse_txt_text"]

MEMOTRACE_COLUMNS = ("localid", "talkerid", "type", "subtype", "issender", "createtime", "status",
                     "strcontent", "strtime", "remark", "nickname", "sender")
_REQUIRED = frozenset({"strtime", "issender", "strcontent"})

_PLACEHOLDERS = {
    "3": "[图片]", "34": "[语音]", "43": "[视频]", "47": "[表情包]", "48": "[位置]", "42": "[名片]",
    "49": "[文件]", "50": "[语音通话]",
}
_MEDIA_TYPES = frozenset({"3", "34", "43", "47", "48", "42", "49"})
_SERVICE_TYPES = frozenset({"10000", "10002", "50"})
_TEXT_SUBTYPES_OF_49 = frozenset({"57"})  # a quoted reply: text


def _header(line: str) -> list[str] | None:
    try:
        row = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return None
    return [h.strip().strip("\ufeff\"'").strip().lower() for h in row]


def _is_memotrace_header(line: str) -> bool:
    if "," not in line or len(line) > 4096:
        return False
    names = _header(line)
    return names is not None and _REQUIRED <= set(names)


# --------------------------------------------------------------------------- CSV


def parse_csv_text(text: str, encoding: str, options: Options) -> ChatParse:
    if text.startswith("\ufeff"):
        text = text[1:]
    feed = LineFeed(text)
    del text
    reader = csv.reader(feed)
    header = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [h.strip().strip("\ufeff\"'").strip().lower() for h in row]
            break
    if header is None or not _REQUIRED <= set(header):
        raise ChatError("not a MemoTrace CSV (its header names StrTime, IsSender and StrContent)")
    col = {name: header.index(name) for name in MEMOTRACE_COLUMNS if name in header}
    i_time, i_sender, i_content = col["strtime"], col["issender"], col["strcontent"]
    i_type, i_sub, i_epoch = col.get("type"), col.get("subtype"), col.get("createtime")
    name_cols = [col[c] for c in ("remark", "nickname", "sender") if c in col]
    clock = Clock(options.tz)
    when = WhenReader(clock)
    me = options.me
    my_name = me or "我"
    messages: list[Message] = []
    bad_times = 0
    position = 0
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error:  # an oversized field (> 128 KiB), a NUL: kept raw, the next rows are read
            messages.append(Message(position, None, None, feed.last.rstrip("\r\n"), False, "unparsed"))
            position += 1
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        n = len(row)
        if n <= max(i_time, i_sender, i_content):
            messages.append(Message(position, None, None, ",".join(row), False, "unparsed"))
            position += 1
            continue
        content = row[i_content]
        mtype = row[i_type].strip() if i_type is not None and i_type < n else "1"
        sub = row[i_sub].strip() if i_sub is not None and i_sub < n else ""
        at = when(row[i_time].strip()) if row[i_time].strip() else None
        if at is None and i_epoch is not None and i_epoch < n and row[i_epoch].strip().isdigit():
            at = clock.epoch(int(row[i_epoch].strip()))
        if at is None:
            bad_times += 1
        is_me = row[i_sender].strip() == "1"
        name = next((row[c] for c in name_cols if c < n and row[c].strip()), None)
        sender = clean_name(name) if name is not None else (my_name if is_me else "对方")
        if mtype in _SERVICE_TYPES:
            kind = "service"
            sender = None
            is_me = False
        elif mtype == "1" or (mtype == "49" and sub in _TEXT_SUBTYPES_OF_49):
            kind = kind_of(content)
        elif mtype in _MEDIA_TYPES:
            kind = "media"
        else:
            kind = kind_of(content)
        if not content and mtype in _PLACEHOLDERS:
            content = _PLACEHOLDERS[mtype]
        messages.append(Message(position, at, sender, content, is_me or (sender is not None and sender == me),
                                kind))
        position += 1
    warnings = [f"{bad_times} message(s) have no readable time"] if bad_times else []
    return build("wechat_memotrace_csv", encoding, options, messages, warnings=warnings)


# --------------------------------------------------------------------------- TXT

_TXT_HEADER = re.compile(
    r"(?P<date>\d{4}-\d{1,2}-\d{1,2}) (?P<time>\d{1,2}:\d{2}:\d{2}) (?P<rest>\S[^\n]{0,500})"
)
_TXT_HEADER_ONLY = re.compile(r"\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}:\d{2}(?: |$)")


def _txt_score(lines: list[str]) -> float:
    """Headers ``date time Name`` (no colon after the name) followed by a content line."""
    if len(lines) < 2:
        return 0.0
    headers = 0
    for i, line in enumerate(lines[:-1]):
        m = _TXT_HEADER.fullmatch(line)
        if m is None or ":" in m["rest"] or "：" in m["rest"]:
            continue
        if not _TXT_HEADER_ONLY.match(lines[i + 1]):
            headers += 1
    if headers >= 2 and headers * 4 >= len(lines):
        return 0.5 + 0.4 * min(1.0, 2 * headers / len(lines))
    return 0.0


def parse_txt_text(text: str, encoding: str, options: Options) -> ChatParse:
    lines = split_lines(text)
    del text
    clock = Clock(options.tz)
    me = options.me
    cache: dict[str, str | None] = {}
    match = _TXT_HEADER.fullmatch
    is_header = _TXT_HEADER_ONLY.match
    entries: list[list] = []  # [at, sender, kind, lines]
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        m = match(line)
        if m is not None:
            at = parse_when(f"{m['date']} {m['time']}", clock, cache)
            nxt = lines[i + 1] if i + 1 < n else ""
            if at is None:
                entries.append([None, None, "unparsed", [line]])
            elif nxt.strip() and not is_header(nxt):
                entries.append([at, clean_name(m["rest"]) or m["rest"], "message", []])
            else:
                entries.append([at, None, "service", [m["rest"]]])
        elif is_header(line):
            entries.append([None, None, "unparsed", [line]])
        elif entries:
            entries[-1][3].append(line)
        elif line.strip():
            entries.append([None, None, "unparsed", [line]])
        i += 1
    messages = []
    for position, (at, sender, kind, body_lines) in enumerate(entries):
        while body_lines and not body_lines[-1].strip():
            body_lines.pop()
        body = "\n".join(body_lines)
        if kind == "message" and body_lines:
            kind = kind_of(body_lines[0])
        messages.append(Message(position, at, sender, body, sender is not None and sender == me, kind))
    if not any(m.kind != "unparsed" for m in messages):
        raise ChatError("no block reads as a MemoTrace TXT message (2025-05-05 09:12:30 Name, then the text)")
    return build("wechat_memotrace_txt", encoding, options, messages)


# --------------------------------------------------------------------------- the parsers


class MemoTraceCsv:
    name = "wechat_memotrace_csv"

    def detect(self, sample: Sample) -> float:
        lines = sample.lines()
        return 1.0 if len(lines) >= 2 and _is_memotrace_header(lines[0]) else 0.0

    def parse(self, source: Source, options: Options) -> ChatParse:
        return parse_csv_text(*source.take_text(), options)


class MemoTraceTxt:
    name = "wechat_memotrace_txt"

    def detect(self, sample: Sample) -> float:
        return _txt_score(sample.lines())

    def parse(self, source: Source, options: Options) -> ChatParse:
        return parse_txt_text(*source.take_text(), options)


register(MemoTraceCsv())
register(MemoTraceTxt())
