"""Times in chat exports: wall-clock times put in the user's zone, and the many ways tools write them.

:class:`Clock` turns zone-less wall-clock times into ISO 8601 strings in a zone (with
caches: a chat has many messages on few days); :func:`parse_when` and
:class:`WhenReader` read a date-time as tools write it; :func:`hour24` reads a
12-hour clock in English, Chinese, Japanese or Korean.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from locker.values import zone_name

__all__ = ["Clock", "WhenReader", "hour24", "parse_when", "tz_name"]

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
_NOT_YET: Any = object()  # a cache's 'not looked up yet' (None is a cached answer)


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
            day: tuple[str, str | None, tuple[int, int, int]] | None = self._days.get(date, _NOT_YET)
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
