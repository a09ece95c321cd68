"""The time separators of chat screenshots ("15:21", "昨天 15:21", "5月3日 15:21", "2025年5月3日
15:21", "星期三 15:21", "下午3:21"), read and resolved against the picture's capture time; and an
exhibit's stored capture time as the datetime they resolve against. Used by :mod:`locker.ocr.chat`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, tzinfo

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9, "十": 10, "日": 7, "天": 7}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_CLOCK = r"(?P<ampm>上午|中午|下午|晚上|凌晨|早上|傍晚)?\s*(?P<h>\d{1,2})[:：](?P<m>\d{2})(?::\d{2})?"
_TIME_RES = [
    ("full", re.compile(r"^(?P<y>\d{4})\s*[年/.-]\s*(?P<mo>\d{1,2})\s*[月/.-]\s*(?P<d>\d{1,2})\s*日?\s*" + _CLOCK + "$")),
    ("md", re.compile(r"^(?P<mo>\d{1,2})\s*[月/-]\s*(?P<d>\d{1,2})\s*日?\s*" + _CLOCK + "$")),
    ("rel", re.compile(r"^(?P<rel>今天|昨天|前天)\s*" + _CLOCK + "$")),
    ("week", re.compile(r"^(?:星期|周|礼拜)(?P<wd>[一二三四五六日天])\s*" + _CLOCK + "$")),
    ("clock", re.compile(r"^" + _CLOCK + "$")),
]


def squash(text: str) -> str:
    """NFKC (full-width digits and colons read as ASCII), trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def is_time_line(text: str) -> bool:
    """Whether a centred line is a time separator."""
    t = squash(text)
    return any(rx.match(t) for _, rx in _TIME_RES)


def parse_separator(text: str, captured: datetime | None) -> datetime | None:
    """The time a separator stands for, resolved against the capture time (a date and zone):
    "15:21" is that day, "昨天 15:21" the day before, "星期三 15:21" the last Wednesday before it,
    "5月3日 15:21" that day in the capture's year (the year before, if that is later than the
    capture). None if it is no separator, or names no year and there is no capture time."""
    t = squash(text)
    for kind, rx in _TIME_RES:
        m = rx.match(t)
        if not m:
            continue
        hour, minute = int(m["h"]), int(m["m"])
        ampm = m["ampm"]
        if ampm in ("下午", "晚上", "傍晚") and hour < 12:
            hour += 12
        elif ampm == "中午" and hour < 11:
            hour += 12
        elif ampm == "凌晨" and hour == 12:
            hour = 0
        if hour > 23 or minute > 59:
            return None
        clock = time(hour, minute)
        zone: tzinfo | None = captured.tzinfo if captured else None
        if kind == "full":
            try:
                day = date(int(m["y"]), int(m["mo"]), int(m["d"]))
            except ValueError:
                return None
            return datetime.combine(day, clock, zone)
        if captured is None:
            return None
        today = captured.date()
        if kind == "md":
            try:
                day = date(today.year, int(m["mo"]), int(m["d"]))
                if day > today:
                    day = date(today.year - 1, int(m["mo"]), int(m["d"]))
            except ValueError:
                return None
        elif kind == "rel":
            day = today - timedelta(days={"今天": 0, "昨天": 1, "前天": 2}[m["rel"]])
        elif kind == "week":
            back = (today.weekday() - _WEEKDAYS[m["wd"]]) % 7 or 7
            day = today - timedelta(days=back)
        else:
            day = today
        return datetime.combine(day, clock, zone)
    return None


def parse_when(value: str | None, zone: tzinfo | None) -> datetime | None:
    """An exhibit's stored capture time (ISO 8601) as the datetime separators resolve against."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None and zone is not None:
        when = when.replace(tzinfo=zone)
    return when
