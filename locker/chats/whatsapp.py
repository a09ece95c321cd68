"""WhatsApp chat exports: Android and iOS text, and the export ZIP.

* Android: ``03/05/2025, 14:22 - Anna: text`` (US: ``5/3/25, 2:22 PM - …``;
  Chinese: ``2025/5/3 下午2:22 - …``; German: ``03.05.25, 14:22 - …``).
* iOS: ``[03/05/25, 14:22:10] Anna: text`` (US: ``[5/3/25, 2:22:10 PM]``, with a
  narrow no-break space before PM; Finnish: ``[12.3.2022 klo 14.08.18]``).
* The export ZIP holds ``_chat.txt`` (iOS) or ``WhatsApp Chat with X.txt``
  (Android) and the attachments: only the chat member is read, in memory, after
  checks against ZIP bombs.

A line that does not start with a date and a time continues the message above
(multi-line messages). A line that starts with a date and a time but cannot be
read (a missing separator, 31/02, 25:61) is kept as an ``unparsed`` entry.
Lines without ``Name: `` are the app's own (``Messages and calls are end-to-end
encrypted``): kind ``service``, no sender. iOS marks the text of its own lines
and of media placeholders with a leading U+200E: that mark is removed; such
lines with a sender are ``service`` unless they are media placeholders.

**Day/month order** (:func:`resolve_date_order`), decided in turn by:

1. ``date_order`` given with the ``--date-order`` option (source ``option``);
2. the profile's ``date_order`` (source ``profile``), unless it leaves dates that do not
   exist (a 25th month) where the other order reads them all: the data then wins, with a warning;
3. the data (source ``data``): year-first dates (``2022/12/14``) are unambiguous; a day
   above 12 leaves one order only; else, if only one order keeps the export chronological,
   that one;
4. the format's locale signature (source ``locale``): dotted dates (``03.05.25``: no locale
   writes month.day), a Spanish-style ``a. m.``/``p. m.`` marker, a CJK ``上午/下午`` marker
   (day-first dates with it are Hong Kong's: the mainland and Taiwan write year first), a
   lower-case ``am``/``pm`` (en-GB, en-IN, en-AU) or a 24-hour clock with 4-digit years and
   zero-padded days and months (``03/05/2025, 14:22``: Europe, Latin America, India) mean
   day first; an upper-case ``AM``/``PM`` (``5/3/25, 2:22 PM``) means month first (en-US);
5. else day first is assumed (most locales write it), source ``assumed``, with a warning that
   says so and how to read it otherwise (``locker reread … --date-order mdy``).

A chat is never refused for its dates.

Group events (``Anna added Bob``, ``Anna changed the subject from "a" to "b: c"``,
``Anna left``, ``X 创建了群组“…”``) are matched on the whole line before a sender is
split off, so a colon inside them never makes a sender.
"""

from __future__ import annotations

import calendar
import re
from typing import Any

from locker.chats.clock import Clock, hour24
from locker.chats.lines import (
    DIRECTION_MARKS,
    MEDIA_PREFIXES,
    MEDIA_SUFFIXES,
    build,
    clean_name,
    is_media_placeholder,
    split_lines,
)
from locker.chats.models import ChatError, ChatParse, Message, Options
from locker.chats.registry import register
from locker.chats.source import SNIFF_BYTES, Sample, Source, chat_member, read_zip_member, zip_directory_is_sane

__all__ = ["ANDROID_LINE", "IOS_LINE", "chat_member", "parse_text", "read_zip_member", "zip_directory_is_sane"]

_M = f"[{DIRECTION_MARKS}]*"
_SP = "[ \u00a0\u202f]"
_DATE = r"\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
_CN_AMPM = "上午|下午|凌晨|早上|中午|晚上|午前|午後|오전|오후"
_TIME = (
    rf"(?:(?:{_CN_AMPM}){_SP}?)?\d{{1,2}}[:.]\d{{2}}(?:[:.]\d{{2}})?"
    rf"(?:{_SP}?[AaPp]\.?{_SP}?[Mm]\.?)?"
)
_WHEN = rf"(?P<date>{_DATE})\.?,?{_SP}{{1,3}}(?:klo{_SP})?(?P<time>{_TIME})"
_SENDER = r"(?:(?P<name>[^:\n]{1,100}): )?(?P<text>.*)"

#: ``03/05/2025, 14:22 - Anna: text``. Groups: date time name text (use ``match``).
ANDROID_LINE = re.compile(rf"{_M}{_WHEN}\.?{_SP}{{1,2}}[-–]{_SP}{_SENDER}")
#: ``[03/05/25, 14:22:10] Anna: text``. Same groups.
IOS_LINE = re.compile(rf"{_M}\[{_WHEN}\]{_SP}?{_SENDER}")
_DATE_PARTS = re.compile(r"(\d+)([/.\-])(\d+)[/.\-](\d+)")
_TIME_PARTS = re.compile(
    rf"(?:({_CN_AMPM}){_SP}?)?(\d{{1,2}})[:.](\d{{2}})(?:[:.](\d{{2}}))?(?:{_SP}?([AaPp])\.?{_SP}?[Mm]\.?)?"
)
#: A line that starts like a message (a date, then a time) in either style.
#: Group events, matched on the whole line after the time (the actor's name has no colon).
_ACTOR = r"[^:\n]{1,100}?"
GROUP_EVENT = re.compile(
    rf"(?:{_ACTOR} (?:created group |created this group|added |removed |left$|joined using |"
    r"changed the subject |changed this group's |changed the group |deleted this group's |"
    r"changed their phone number|changed to |was added|was removed|now an admin|is no longer an admin|"
    r"turned (?:on|off) disappearing messages|pinned a message|unpinned a message)"
    rf"|{_ACTOR} ?(?:创建了群组|创建了此群组|添加了|移除了|已退出|退出了群组|通过此群组的邀请链接加入|"
    r"更改了群组|已将群组|更改了此群组|删除了此群组|已更换电话号码|开启了|关闭了|已成为管理员|不再是管理员)"
    r"|You(?:'re| are) now an admin|你现在是管理员|您现在是管理员)",
)
_EVENT_WORDS = (" created ", " added ", " removed ", " left", " joined ", " changed ", " deleted ", " was ",
                " now ", " turned ", " pinned ", " unpinned ", "创建", "添加", "移除", "退出", "加入", "更改",
                "已将", "删除", "更换", "开启", "关闭", "管理员")
_EVENT_HINT = re.compile("|".join(map(re.escape, _EVENT_WORDS)))
_STRIP_MARKS = str.maketrans("", "", DIRECTION_MARKS)
_LOOKS_LIKE_START = re.compile(
    rf"{_M}\[?\d{{1,4}}[/.\-]\d{{1,2}}[/.\-]\d{{1,4}}\.?,?{_SP}{{1,3}}\S{{0,4}}{_SP}?\d{{1,2}}[:.]\d{{2}}"
)



# --------------------------------------------------------------------------- detection


def _score(lines: list[str], pattern: re.Pattern[str]) -> float:
    """At least 2 matching lines and a third of the non-empty lines (1 = every line matches)."""
    if not lines:
        return 0.0
    count = sum(1 for line in lines if pattern.match(line))
    if count >= 2 and count * 3 >= len(lines):
        return 0.6 + 0.4 * count / len(lines)
    return 0.0


def _style(text: str) -> str | None:
    """"ios" or "android" by which line form the start of ``text`` has more of."""
    lines = [line for line in text[:SNIFF_BYTES].splitlines()[:2000] if line.strip()]
    ios = sum(1 for line in lines if IOS_LINE.match(line))
    android = sum(1 for line in lines if ANDROID_LINE.match(line))
    if not ios and not android:
        return None
    return "ios" if ios >= android else "android"


# --------------------------------------------------------------------------- dates


def _valid(y: int, m: int, d: int) -> bool:
    return 1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1] if 1 <= y <= 9999 else False


def _ymd(date: str, order: str) -> tuple[int, int, int] | None:
    """(year, month, day) of a date string as the line regex captured it, read in ``order``."""
    m = _DATE_PARTS.fullmatch(date)
    if m is None:
        return None
    d1, _sep, d2, d3 = m.groups()
    if len(d1) == 4:
        return int(d1), int(d2), int(d3)
    if order == "ymd":
        return None
    a, b, c = int(d1), int(d2), int(d3)
    year = c + 2000 if len(d3) <= 2 else c
    return (year, b, a) if order == "dmy" else (year, a, b)


def _year_first(date: str) -> bool:
    return date[4:5] in ("/", ".", "-") and date[:4].isdigit()


def _backwards(seq: list[str], order: str) -> int:
    """How often the date goes back in time along the export under ``order``."""
    count = 0
    previous = None
    for key in seq:
        date = _ymd(key, order)
        if date is not None and previous is not None and date < previous:
            count += 1
        previous = date or previous
    return count


ASSUMED_PREFIX = "the dates could be day/month or month/day and nothing in the export tells which"


def assumed_warning(order: str) -> str:
    other = "mdy" if order == "dmy" else "dmy"
    first = "day" if order == "dmy" else "month"
    return (f"{ASSUMED_PREFIX}: read {first} first ({order}), an assumption; if that is wrong, "
            f"read it again with --date-order {other} (locker reread DISPUTE N --date-order {other})")


_SPANISH = re.compile(r"[AaPp]\.[ \u00a0\u202f]?[Mm]\.")
_UPPER = re.compile(r"(?:AM|PM)$")
_LOWER = re.compile(r"(?:am|pm)$")
_CJK = re.compile(f"(?:{_CN_AMPM})")
_PADDED_LONG = re.compile(r"\d{2}[/.\-]\d{2}[/.\-]\d{4}")


def locale_order(dates: set[str], times: list[str]) -> str | None:
    """The day/month order the export's locale signature suggests (see the module), or None."""
    if any("." in date for date in dates):
        return "dmy"
    if any(_SPANISH.search(t) for t in times):
        return "dmy"
    if any(_CJK.match(t) for t in times):
        return "dmy"
    if any(_UPPER.search(t.rstrip()) for t in times):
        return "mdy"
    if any(_LOWER.search(t.rstrip()) for t in times):
        return "dmy"
    if times and dates and all(_PADDED_LONG.fullmatch(d) for d in dates):
        return "dmy"
    return None


def resolve_date_order(seq: list[str], given: str | None = None, given_source: str = "option",
                       times: list[str] | None = None) -> tuple[str, str, str | None]:
    """(order, source, warning) for the dates ``seq`` (distinct consecutive date strings, in file
    order); ``times``: a sample of the export's time strings (for the locale signature)."""
    distinct = {date for date in seq if not _year_first(date)}
    if not distinct:
        return "ymd", "data", None
    seq = [date for date in seq if date in distinct]

    def valid(date: str, order: str) -> bool:
        ymd = _ymd(date, order)
        return ymd is not None and _valid(*ymd)

    dmy = sum(1 for date in distinct if valid(date, "dmy"))
    mdy = sum(1 for date in distinct if valid(date, "mdy"))
    total = len(distinct)
    found = None
    if dmy == total and mdy < total:
        found = "dmy"
    elif mdy == total and dmy < total:
        found = "mdy"
    elif dmy == mdy == total:
        back_dmy, back_mdy = _backwards(seq, "dmy"), _backwards(seq, "mdy")
        if back_dmy == 0 < back_mdy:
            found = "dmy"
        elif back_mdy == 0 < back_dmy:
            found = "mdy"
    elif dmy != mdy:
        found = "dmy" if dmy > mdy else "mdy"
    if given is not None and given != "ymd":
        if given_source == "profile" and found is not None and found != given and (dmy if given == "dmy" else mdy) < total:
            return found, "data", (f"the profile's date order {given} does not fit these dates (a day above 12): "
                                   f"read as {found}")
        return given, given_source, None
    if found is not None:
        return found, "data", None
    by_locale = locale_order(distinct, times or [])
    if by_locale is not None:
        return by_locale, "locale", None
    return "dmy", "assumed", assumed_warning("dmy")


# --------------------------------------------------------------------------- parsing


def parse_text(text: str, encoding: str, options: Options, fmt: str) -> ChatParse:
    """Parse the text of a WhatsApp export; ``fmt`` is one of the whatsapp_* names."""
    pattern = IOS_LINE if "ios" in fmt else ANDROID_LINE
    match = pattern.match
    looks_like_start = _LOOKS_LIKE_START.match
    rows: list[re.Match[str] | str] = []  # the match of a message line, or an unparsed line
    extras: dict[int, list[str]] = {}
    seq: list[str] = []  # the dates, without consecutive repeats
    times: list[str] = []  # a sample, for the locale signature
    last_date = None
    for line in split_lines(text):
        m = match(line)
        if m is not None:
            date = m[1]
            if date != last_date:
                last_date = date
                seq.append(date)
                if len(times) < 500:
                    times.append(m[2])
            rows.append(m)
        elif rows and not looks_like_start(line):
            index = len(rows) - 1
            more = extras.get(index)
            if more is None:
                extras[index] = [line]
            else:
                more.append(line)
        elif line.strip():
            rows.append(line)
    del text
    no_messages = ChatError(f"no line reads as a {fmt.replace('_zip', '')} message")
    if not any(type(row) is not str for row in rows):
        raise no_messages
    order, source, warning = resolve_date_order(seq, options.date_order, options.date_order_source, times)
    messages = _messages(rows, extras, order, options)
    if not any(m.kind != "unparsed" for m in messages):
        raise no_messages
    return build(fmt, encoding, options, messages, warnings=[warning] if warning else (), date_order=order,
                 date_order_source=source)


_MISSING: Any = object()


def _messages(rows: list[Any], extras: dict[int, list[str]], order: str, options: Options) -> list[Message]:
    me = options.me
    clock = options.clock()
    days: dict[str, tuple[str, str | None, tuple[int, int, int]] | None] = {}
    times: dict[str, tuple[str, tuple[int, int, int]] | None] = {}
    senders: dict[str, str | None] = {}
    media = is_media_placeholder
    media_first = MEDIA_PREFIXES
    media_endings = MEDIA_SUFFIXES
    event_hint = _EVENT_HINT.search
    events: dict[str, bool] = {}  # name → whether it holds a group-event word (names repeat)
    messages: list[Message] = []
    append = messages.append
    for i, row in enumerate(rows):
        more = None
        if i in extras:
            more = extras[i]
            while more and not more[-1].strip():
                more.pop()
        if type(row) is str:
            append(Message(i, None, None, row + "\n" + "\n".join(more) if more else row, False, "unparsed"))
            continue
        date, time, name, text = row.groups()
        day = days.get(date, _MISSING)
        if day is _MISSING:
            day = days[date] = _day(date, order, clock)
        hms = times.get(time, _MISSING)
        if hms is _MISSING:
            hms = times[time] = _time(time)
        if day is None or hms is None:  # 31/02/2025, 25:61: a broken line, kept as written
            line = row.string
            append(Message(i, None, None, line + "\n" + "\n".join(more) if more else line, False, "unparsed"))
            continue
        offset = day[1]
        at = day[0] + hms[0] + offset if offset is not None else clock.at(*day[2], *hms[1])
        body = text + "\n" + "\n".join(more) if more else text
        if name is None:
            append(Message(i, at, None, body.lstrip("\u200e"), False, "service"))
            continue
        hinted = events.get(name)
        if hinted is None:
            hinted = events[name] = event_hint(name) is not None
        if hinted:
            rest = row.string[row.start("name"):].translate(_STRIP_MARKS)
            if GROUP_EVENT.match(rest) is not None:
                append(Message(i, at, None, rest + "\n" + "\n".join(more) if more else rest, False, "service"))
                continue
        sender = senders.get(name, _MISSING)
        if sender is _MISSING:
            sender = senders[name] = clean_name(name)
        if text.startswith("\u200e"):  # iOS marks the app's own lines and media placeholders
            text = text.lstrip("\u200e")
            body = body.lstrip("\u200e")
            kind = "media" if media(text) else "service"
        elif (text.startswith(media_first) or text.endswith(media_endings)) and media(text):
            kind = "media"
        else:
            kind = "message"
        append(Message(i, at, sender, body, sender is not None and sender == me, kind))
    return messages


def _day(date: str, order: str, clock: Clock) -> tuple[str, str | None, tuple[int, int, int]] | None:
    ymd = _ymd(date, order)
    if ymd is None or not _valid(*ymd):
        return None
    found = clock.day(*ymd)
    return None if found is None else (found[0], found[1], ymd)


def _time(time: str) -> tuple[str, tuple[int, int, int]] | None:
    m = _TIME_PARTS.fullmatch(time)
    if m is None:
        return None
    cn, hh, mm, ss, ap = m.groups()
    h = hour24(int(hh), cn or ap)
    mi, s = int(mm), int(ss or 0)
    if h is None or mi > 59 or s > 59:
        return None
    return f"T{h:02d}:{mi:02d}:{s:02d}", (h, mi, s)




class WhatsAppText:
    """``whatsapp_android`` or ``whatsapp_ios``: the exported .txt."""

    def __init__(self, name: str, pattern: re.Pattern[str]) -> None:
        self.name = name
        self.pattern = pattern

    def detect(self, sample: Sample) -> float:
        return _score(sample.lines(), self.pattern)

    def parse(self, source: Source, options: Options) -> ChatParse:
        return parse_text(*source.take_text(), options, self.name)


class WhatsAppZip:
    """``whatsapp_ios_zip`` / ``whatsapp_android_zip``: the export ZIP with attachments.

    The format reported follows the chat member's content (an Android-style chat in a ZIP is
    ``whatsapp_android_zip`` whichever of the two was asked for)."""

    def __init__(self, name: str, style: str) -> None:
        self.name = name
        self.style = style

    def detect(self, sample: Sample) -> float:
        if sample.source is None or not sample.head.startswith(b"PK\x03\x04"):
            return 0.0
        try:
            data, complete = sample.source.member_head()
        except Exception:  # a damaged or hostile ZIP is simply not a chat
            return 0.0
        from locker.chats.encoding import decode_head

        text = decode_head(data, complete)
        if not text:
            return 0.0
        lines = text.splitlines()
        if not complete and lines:
            lines.pop()
        lines = [line for line in lines if line.strip()]
        return _score(lines, IOS_LINE if self.style == "ios" else ANDROID_LINE)

    def parse(self, source: Source, options: Options) -> ChatParse:
        from locker.chats.encoding import decode_text

        data, _ = read_zip_member(source)
        text, encoding = decode_text(data)
        del data
        style = _style(text) or self.style
        return parse_text(text, encoding, options, f"whatsapp_{style}_zip")


register(WhatsAppText("whatsapp_android", ANDROID_LINE))
register(WhatsAppText("whatsapp_ios", IOS_LINE))
register(WhatsAppZip("whatsapp_ios_zip", "ios"))
register(WhatsAppZip("whatsapp_android_zip", "android"))
