"""Parsing and formatting of the values users type: amounts, dates, times, zones.

Amounts are exact decimals kept as text (``"199.00"``), never floats. Times are
ISO 8601 strings with an offset; instants the locker itself records are UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal

from .errors import UsageError

_AMOUNT = re.compile(r"^\s*[¥￥$€£]?\s*(\d{1,15}(?:,\d{3})*|\d+)(\.\d{1,6})?\s*$")


def parse_amount(text: str) -> str:
    """Return the amount as exact decimal text with at least two decimals.

    ``"199"`` → ``"199.00"``, ``"1,299.5"`` → ``"1299.50"``, ``"0.125"`` stays
    ``"0.125"`` (digits are never dropped). Negative, NaN, exponent and other
    forms are refused with a :class:`UsageError`.
    """
    match = _AMOUNT.match(text)
    if not match:
        raise UsageError(f"not an amount: {text!r} (write it like 199.00)")
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
        raise UsageError(f"not a date: {text!r} (write it like 2025-05-01)") from None


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
            f"not a date and time: {text!r} (write it like 2025-05-03 14:22 or 2025-05-03T14:22:10+08:00)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return iso(value)


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
        local = datetime.now().astimezone().tzinfo
        return local or UTC
    if name.upper() in ("UTC", "Z"):
        return UTC
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name)
    if offset:
        hours, minutes = int(offset.group(2)), int(offset.group(3))
        if minutes >= 60 or timedelta(hours=hours, minutes=minutes) > MAX_OFFSET:
            raise UsageError(f"time zone offset out of range: {name!r} (from -14:00 to +14:00)")
        sign = 1 if offset.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for odd names
        raise UsageError(f"unknown time zone: {name!r} (use a name like Asia/Shanghai or +08:00)") from None



def clean_text(value: str) -> str:
    """Text that can be stored and printed: undecodable bytes of a file name
    (surrogate escapes) become ``\\xNN``; everything else is kept as it is."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
