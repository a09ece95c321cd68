from datetime import UTC
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locker.errors import UsageError
from locker.values import clean_text, parse_amount, parse_date, parse_datetime, resolve_tz


@pytest.mark.parametrize("text, expected", [
    ("199", "199.00"), ("199.0", "199.00"), ("199.00", "199.00"), ("1,299.5", "1299.50"),
    ("¥88", "88.00"), ("0.125", "0.125"), ("12345678901234567.89", "12345678901234567.89"),
])
def test_amounts_are_exact(text: str, expected: str) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["abc", "", "-5", "1e5", "NaN", "inf", "1.2.3", "12,34"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="not an amount"):
        parse_amount(text)


@given(st.decimals(min_value=0, max_value=Decimal("999999999999999"), places=2, allow_nan=False))
def test_amount_round_trips_exactly(value: Decimal) -> None:
    stored = parse_amount(format(value, "f"))
    assert Decimal(stored) == value
    assert parse_amount(stored) == stored


@given(st.decimals(min_value=0, max_value=Decimal("99999999"), places=6, allow_nan=False))
def test_amount_never_loses_digits(value: Decimal) -> None:
    assert Decimal(parse_amount(format(value, "f"))) == value


def test_dates() -> None:
    assert parse_date("2025-05-01") == "2025-05-01"
    with pytest.raises(UsageError, match="not a date"):
        parse_date("2025-13-45")


def test_datetimes_get_the_zone() -> None:
    shanghai = resolve_tz("Asia/Shanghai")
    assert parse_datetime("2025-05-03 14:22", shanghai) == "2025-05-03T14:22:00+08:00"
    assert parse_datetime("2025-05-03T06:22:00Z", shanghai) == "2025-05-03T06:22:00+00:00"
    assert parse_datetime("2025-05-03", UTC) == "2025-05-03T00:00:00+00:00"
    assert resolve_tz("+08:00").utcoffset(None).total_seconds() == 8 * 3600
    with pytest.raises(UsageError):
        parse_datetime("2025-13-45 10:00", shanghai)
    with pytest.raises(UsageError, match="time zone"):
        resolve_tz("Mars/Olympus")


def test_clean_text_keeps_unicode_and_escapes_bad_bytes() -> None:
    assert clean_text("微信图片.jpg") == "微信图片.jpg"
    assert clean_text(b"bad\xff.jpg".decode("utf-8", "surrogateescape")) == "bad\\xff.jpg"


def test_human_size_steps_by_1024() -> None:
    from locker.values import human_size

    assert [human_size(n) for n in (0, 1023, 1024, 1536, 5 * 1024**2, 3 * 1024**3, 2 * 1024**4, 5000 * 1024**4)] == [
        "0 B", "1023 B", "1.0 KB", "1.5 KB", "5.0 MB", "3.0 GB", "2.0 TB", "5000.0 TB"]
