"""WeChat exports written by MemoTrace (留痕, WeChatMsg): its CSV and its TXT; and PyWxDump's CSV.

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

**PyWxDump CSV** (``wechat_pywxdump_csv``): header ``id,MsgSvrID,type_name,is_sender,
talker,room_name,msg,src,CreateTime`` (older versions: ``content`` instead of ``msg,src``,
holding a JSON object ``{"src": …, "msg": …}`` whose ``msg`` is the text). ``CreateTime``
is the local wall clock (``2024-04-20 10:00:00``); ``is_sender=1`` marks the user, whose
``talker`` is "我"; ``type_name`` names the kind in Chinese. Media become placeholders:
``[图片]``, ``[视频]``, ``[表情]``, ``[语音 12″]`` (from "语音时长：12.00秒", a
transcription kept on the next line), ``[文件] name``, ``[位置] label``, ``[链接] title``,
``[转账 ¥50.00]`` / ``[已收款 ¥50.00]`` (with the note, if any), ``[红包]``; 系统通知,
拍一拍, 消息撤回…, 邀请加群 and calls are system lines.

**TXT**: blocks of ``2025-05-05 09:12:30 Name`` then the content lines and a
blank line; a system message is one line, ``2025-05-05 09:12:30 text``,
followed by a blank line.
"""

from __future__ import annotations

import csv
import json
import re
from typing import Any

from locker.chats import (
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
def _csv_with_header(text: str) -> tuple[LineFeed, Any, list[str] | None]:
    """The line feed over ``text`` (BOM dropped), a CSV reader over it that has consumed the first
    non-empty row, and that row's names, stripped and lower-cased (None when there is no such row)."""
    feed = LineFeed(text[1:] if text.startswith("\ufeff") else text)
    reader = csv.reader(feed)
    for row in reader:
        if any(cell.strip() for cell in row):
            return feed, reader, [h.strip().strip("\ufeff\"'").strip().lower() for h in row]
    return feed, reader, None



def parse_csv_text(text: str, encoding: str, options: Options) -> ChatParse:
    feed, reader, header = _csv_with_header(text)
    del text  # the feed holds it
    if header is None or not _REQUIRED <= set(header):
        raise ChatError("not a MemoTrace CSV (its header names StrTime, IsSender and StrContent)")
    col = {name: header.index(name) for name in MEMOTRACE_COLUMNS if name in header}
    i_time, i_sender, i_content = col["strtime"], col["issender"], col["strcontent"]
    i_type, i_sub, i_epoch = col.get("type"), col.get("subtype"), col.get("createtime")
    name_cols = [col[c] for c in ("remark", "nickname", "sender") if c in col]
    clock = options.clock()
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


# --------------------------------------------------------------------------- PyWxDump CSV

_PYWX_REQUIRED = frozenset({"type_name", "is_sender", "talker", "createtime"})
_PYWX_MEDIA = {"图片": "[图片]", "视频": "[视频]", "动画表情": "[表情]", "表情": "[表情]", "用户上传的GIF表情": "[表情]",
               "红包": "[红包]", "赠送红包封面": "[红包]", "语音": "[语音]", "文件": "[文件]", "地图信息": "[位置]",
               "位置": "[位置]", "卡片式链接": "[链接]", "(分享)卡片式链接": "[链接]", "分享的小程序": "[小程序]",
               "(分享)小程序": "[小程序]", "合并转发的聊天记录": "[聊天记录]", "推荐公众号": "[名片]",
               "转账消息": "[转账]", "转账": "[转账]"}
_PYWX_SYSTEM_PREFIXES = ("系统通知", "拍一拍", "消息撤回", "邀请加群", "语音通话", "添加好友")
_VOICE = re.compile(r"语音时长[：:]\s*(?P<s>\d+(?:\.\d+)?)\s*秒(?:\n翻译结果[：:](?P<t>.*))?", re.S)
_PAY = re.compile(r"(?P<what>已收款|转账)[：:]\s*(?P<amount>[^\n]*)(?:\n转账说明[：:](?P<memo>[^\n]*))?")
_LOCATION = re.compile(r"位置[：:]\s*(?P<label>[^\n]+)")


def _pywx_text(type_name: str, msg: str) -> tuple[str, str]:
    """(text, kind) of one PyWxDump row."""
    if type_name.startswith(_PYWX_SYSTEM_PREFIXES):
        return msg, "service"
    placeholder = _PYWX_MEDIA.get(type_name)
    if placeholder is None:
        return msg, kind_of(msg) if msg else "message"
    if placeholder == "[语音]":
        m = _VOICE.match(msg)
        if m is not None:
            text = f"[语音 {round(float(m['s']))}″]"
            return (f"{text}\n{m['t'].strip()}" if m["t"] and m["t"].strip() else text), "media"
    elif placeholder == "[转账]":
        m = _PAY.search(msg)
        if m is not None:
            amount = m["amount"].strip().replace("￥", "¥")
            text = f"[{m['what']} {amount}]" if amount else f"[{m['what']}]"
            return (f"{text} {m['memo'].strip()}" if m["memo"] and m["memo"].strip() else text), "media"
    elif placeholder == "[位置]":
        m = _LOCATION.search(msg)
        if m is not None:
            return f"[位置] {m['label'].strip()}", "media"
    elif placeholder in ("[文件]", "[链接]", "[小程序]", "[聊天记录]") and msg.strip() and msg.strip() != type_name:
        return f"{placeholder} {msg.strip().splitlines()[0]}", "media"
    return placeholder, "media"


def _pywx_message(raw: str) -> str:
    """The text of an older export's ``content`` cell: the ``msg`` of its JSON object (a JSON
    string in a JSON string is unwrapped once more), else the cell as written."""
    value: object = raw
    for _ in range(2):
        if not isinstance(value, str) or not value.lstrip().startswith(("{", '"')):
            break
        try:
            value = json.loads(value)
        except ValueError:
            break
    if isinstance(value, dict):
        msg = value.get("msg")
        return msg if isinstance(msg, str) else json.dumps(msg, ensure_ascii=False) if msg is not None else ""
    return value if isinstance(value, str) else raw


def parse_pywxdump_text(text: str, encoding: str, options: Options) -> ChatParse:
    feed, reader, header = _csv_with_header(text)
    del text  # the feed holds it
    if header is None or not _PYWX_REQUIRED <= set(header) or not ({"msg", "content"} & set(header)):
        raise ChatError("not a PyWxDump CSV (its header names type_name, is_sender, talker, msg and CreateTime)")
    col = {name: i for i, name in enumerate(header)}
    i_type, i_me, i_talker, i_time = col["type_name"], col["is_sender"], col["talker"], col["createtime"]
    i_msg = col.get("msg")
    i_content = col.get("content") if i_msg is None else None
    clock = options.clock()
    when = WhenReader(clock)
    me = options.me
    messages: list[Message] = []
    bad_times = 0
    position = 0
    rows = iter(reader)
    needed = max(i_type, i_me, i_talker, i_time, i_msg if i_msg is not None else i_content or 0)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error:
            messages.append(Message(position, None, None, feed.last.rstrip("\r\n"), False, "unparsed"))
            position += 1
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) <= needed:
            messages.append(Message(position, None, None, ",".join(row), False, "unparsed"))
            position += 1
            continue
        raw = row[i_msg] if i_msg is not None else _pywx_message(row[i_content])
        body, kind = _pywx_text(row[i_type].strip(), raw)
        stamp = row[i_time].strip()
        at = when(stamp) if stamp else None
        if at is None and stamp.isdigit():
            at = clock.epoch(int(stamp))
        if at is None:
            bad_times += 1
        is_me = row[i_me].strip() == "1"
        talker = clean_name(row[i_talker])
        sender: str | None = (me or talker or "我") if is_me else (talker or "对方")
        if kind == "service":  # the row's talker is the chat, not who acted
            sender, is_me = None, False
        messages.append(Message(position, at, sender, body, is_me or (sender is not None and sender == me), kind))
        position += 1
    warnings = [f"{bad_times} message(s) have no readable time"] if bad_times else []
    return build("wechat_pywxdump_csv", encoding, options, messages, warnings=warnings)


def _is_pywxdump_header(line: str) -> bool:
    if "," not in line or len(line) > 4096:
        return False
    names = _header(line)
    return names is not None and _PYWX_REQUIRED <= set(names) and bool({"msg", "content"} & set(names))


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
    clock = options.clock()
    me = options.me
    cache: dict[str, str | None] = {}
    match = _TXT_HEADER.fullmatch
    is_header = _TXT_HEADER_ONLY.match
    entries: list[list[Any]] = []  # [at, sender, kind, lines]
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


class PyWxDumpCsv:
    name = "wechat_pywxdump_csv"

    def detect(self, sample: Sample) -> float:
        lines = sample.lines()
        return 1.0 if len(lines) >= 2 and _is_pywxdump_header(lines[0]) else 0.0

    def parse(self, source: Source, options: Options) -> ChatParse:
        return parse_pywxdump_text(*source.take_text(), options)


register(MemoTraceCsv())
register(PyWxDumpCsv())
register(MemoTraceTxt())
