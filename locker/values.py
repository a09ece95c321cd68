"""Parsing and formatting of the values users type: amounts, dates, times, zones.

Amounts are exact decimals kept as text (``"199.00"``), never floats. Times are
ISO 8601 strings with an offset; instants the locker itself records are UTC.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from .errors import UsageError
from .i18n import N_, _

_AMOUNT = re.compile(r"^\s*[¥￥$€£]?\s*(\d{1,15}(?:,\d{3})*|\d+)(\.\d{1,6})?\s*$")


def parse_amount(text: str) -> str:
    """Return the amount as exact decimal text with at least two decimals.

    ``"199"`` → ``"199.00"``, ``"1,299.5"`` → ``"1299.50"``, ``"0.125"`` stays
    ``"0.125"`` (digits are never dropped). Negative, NaN, exponent and other
    forms are refused with a :class:`UsageError`.
    """
    from decimal import Decimal  # here: a search, say, never reads an amount

    match = _AMOUNT.match(text)
    if not match:
        raise UsageError(_("not an amount: {text!r} (write it like 199.00)").format(text=text))
    whole = match.group(1).replace(",", "")
    value = Decimal(whole + (match.group(2) or ""))
    if value.as_tuple().exponent > -2:  # type: ignore[operator]
        value = value.quantize(Decimal("0.01"))
    return format(value, "f")


def parse_date(text: str) -> str:
    """A calendar date, ``YYYY-MM-DD``; ``2025-13-45`` is refused."""
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise UsageError(_("not a date: {text!r} (write it like 2025-05-01)").format(text=text)) from None


def parse_datetime(text: str, tz: tzinfo) -> str:
    """A point in time typed by the user; a time without offset is in ``tz``.

    Accepts ``2025-05-03T14:22:10+08:00``, ``2025-05-03 14:22``, ``2025-05-03``
    (midnight). Returns ISO 8601 with an offset, to the second.
    """
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise UsageError(
            _("not a date and time: {text!r} (write it like 2025-05-03 14:22 or 2025-05-03T14:22:10+08:00)").format(text=text)
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    try:
        value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 in a zone east of UTC lies before the first representable instant
        raise UsageError(_(_UNBELIEVABLE).format(text=text.strip())) from None
    return iso(value)


_UNBELIEVABLE = N_("{text!r} is not a believable time: it must lie between 1970-01-01 and tomorrow")

CAPTURE_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""No capture time before this is believed: older "times" are reset clocks or a format's zero."""


def capture_latest() -> datetime:
    """The latest believable capture time: now plus a day (for clocks a little ahead)."""
    return datetime.now(UTC) + timedelta(days=1)


def in_capture_window(value: datetime) -> bool:
    """Whether a capture time lies in 1970-01-01 … now + 1 day.

    A wall-clock time without offset is checked with ±14 h of slack (it is in some zone).
    Never raises, whatever the year (a year 1 time with an offset cannot be converted to UTC).
    """
    latest = capture_latest()
    try:
        if value.tzinfo is None or value.utcoffset() is None:
            slack = timedelta(hours=14)
            naive = value.replace(tzinfo=None)
            return (CAPTURE_EARLIEST.replace(tzinfo=None) - slack <= naive
                    <= latest.replace(tzinfo=None) + slack)
        return CAPTURE_EARLIEST <= value.astimezone(UTC) <= latest
    except (OverflowError, ValueError):
        return False


def parse_capture_time(text: str, tz: tzinfo) -> str:
    """:func:`parse_datetime` for a time something happened (``--captured-at``, ``--at``):
    refused outside 1970-01-01 … now + 1 day."""
    value = parse_datetime(text, tz)
    if not in_capture_window(datetime.fromisoformat(value)):
        raise UsageError(_(_UNBELIEVABLE).format(text=text.strip()))
    return value


def iso(value: datetime) -> str:
    """ISO 8601 to the second, always with an offset."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.isoformat(timespec="seconds")


def now_utc() -> str:
    return iso(datetime.now(UTC))


MAX_OFFSET = timedelta(hours=14)  # the widest offset any zone uses (Pacific/Kiritimati, +14:00)


def resolve_tz(name: str | None) -> tzinfo:
    """The named IANA zone, or the machine's local zone when ``name`` is empty."""
    if not name:
        return local_zone()
    if name.upper() in ("UTC", "Z"):
        return UTC
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name)
    if offset:
        hours, minutes = int(offset.group(2)), int(offset.group(3))
        if minutes >= 60 or timedelta(hours=hours, minutes=minutes) > MAX_OFFSET:
            raise UsageError(_("time zone offset out of range: {name!r} (from -14:00 to +14:00)").format(name=name))
        sign = 1 if offset.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for odd names
        raise UsageError(_("unknown time zone: {name!r} (use a name like Asia/Shanghai or +08:00)").format(name=name)) from None



def local_zone() -> tzinfo:
    """The machine's zone, as an IANA zone where it can be named (``TZ``, ``/etc/localtime``,
    ``/etc/timezone``), else its current UTC offset: never an abbreviation such as ``CST``,
    which names three different offsets."""
    from zoneinfo import ZoneInfo

    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    try:
        with open("/etc/timezone", encoding="utf-8") as f:
            candidates.append(f.read(200).strip())
    except (OSError, UnicodeDecodeError):
        pass
    for name in candidates:
        if not name or name.startswith("/") or ".." in name:
            continue
        try:
            zone = ZoneInfo(name)
        except Exception:  # ZoneInfoNotFoundError, ValueError for odd names
            continue
        if zone.utcoffset(datetime.now()) == datetime.now().astimezone().utcoffset():
            return zone  # a TZ variable Python did not apply (set after start) does not count
    offset = datetime.now().astimezone().utcoffset() or timedelta(0)
    return timezone(offset, offset_name(offset)) if offset else UTC


def offset_name(offset: timedelta) -> str:
    """``+08:00`` for a UTC offset."""
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_name(tz: tzinfo) -> str:
    """How a zone is recorded: its IANA name (``Asia/Shanghai``), ``UTC``, or a ``+08:00``
    offset for a fixed-offset zone; never an abbreviation (``CST``)."""
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    if key:
        return str(key)
    if tz is UTC:
        return "UTC"
    offset = tz.utcoffset(None) if isinstance(tz, timezone) else tz.utcoffset(datetime.now())
    if offset is None:
        return str(tz)
    return "UTC" if not offset else offset_name(offset)


def zone_assumed(captured_at_source: str | None, metadata: object) -> str | None:
    """The zone a file's capture time was put in because the file named none ("" when the
    zone was not recorded), or None when the offset came from the file or the user. A chat
    export's wall-clock times name no zone either (``captured_at_source`` "chat").
    ``metadata`` is the exhibit's metadata, a dict or its JSON text."""
    import json

    if captured_at_source not in ("exif", "container", "filename", "chat"):
        return None
    try:
        md = json.loads(metadata) if isinstance(metadata, str) else metadata
    except ValueError:
        return None
    if not isinstance(md, dict) or md.get("captured_at_offset_assumed") is not True:
        return None
    return str(md.get("captured_at_tz") or "")


def clean_text(value: str) -> str:
    """Text that can be stored and printed: undecodable bytes of a file name
    (surrogate escapes) become ``\\xNN``; everything else is kept as it is."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def human_size(n: int) -> str:
    """A byte count for people, in binary steps: ``512 B``, ``1.5 KB``, ``3.2 MB``, up to TB."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
