"""Capture time from the file names that phones, messengers and screenshot tools write.

Three kinds of result (:class:`NameTime`):

* ``local``: a wall-clock date and time without offset (``Screenshot_20250503-142210``,
  ``IMG_20250503_142210``, ``微信图片_20250503142210``…); the caller applies the
  user's zone.
* ``instant``: an exact moment (``mmexport1714717330000``, ``wx_camera_…``: epoch
  milliseconds), returned as an aware UTC datetime.
* ``date``: a date without a time (WhatsApp ``IMG-20250503-WA0001``). A date-only
  name gives **no** captured_at; the date is reported on its own (metadata
  ``filename_date``), because an invented 00:00 would look like a real time.

Impossible dates (month 13, 31 April, hour 25) and years outside 2000–2100 give None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

MIN_YEAR = 2000
MAX_YEAR = 2100


@dataclass(frozen=True)
class NameTime:
    """What a file name says about when the file was made."""

    kind: Literal["local", "instant", "date"]
    value: datetime | date  # naive datetime (local), aware UTC datetime (instant) or date
    pattern: str  # a short name for the pattern that matched, e.g. "screenshot", "mmexport"


_PREFIXES = (
    r"screenshot|screen[ _]?shot|screen[ _]?recording|screenrecord(?:er|ing)?|"
    r"img|vid|pxl|mvimg|pano|record(?:ing)?|photo|video|audio|signal|snipaste|xnip|"
    r"whatsapp (?:image|video|audio)|wechatimg|微信图片|微信视频|qq图片|qq截图|qq视频|"
    r"录音|录屏|截屏|截图|屏幕截图|屏幕录制|屏幕录像"
)

# prefix (optional), then Y M D, optional separator or " at ", then h m s, optional fraction.
_DATETIME = re.compile(
    rf"^(?:(?P<prefix>{_PREFIXES})[ _\-]*)?"
    r"(?P<y>\d{4})(?P<s>[-_.]?)(?P<mo>\d{2})(?P=s)(?P<d>\d{2})"
    r"(?:[-_ T]|\s+at\s+)?"
    r"(?P<h>\d{2})[-_.:]?(?P<mi>\d{2})[-_.:]?(?P<sec>\d{2})(?P<frac>\d{1,3})?(?!\d)",
    re.IGNORECASE,
)

# WhatsApp media: IMG-20250503-WA0001.jpg, VID-…, AUD-…, PTT-… (voice), STK-… (sticker), DOC-….
_WHATSAPP_DATE = re.compile(
    r"^(?P<prefix>img|vid|aud|ptt|stk|doc)-(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})-wa\d+",
    re.IGNORECASE,
)

# Epoch stamps: mmexport1714717330000 (WeChat save), wx_camera_… (WeChat camera),
# microMsg.… (WeChat cache). 13 digits are milliseconds, 10 digits seconds.
_EPOCH = re.compile(
    r"^(?P<prefix>mmexport|wx_camera_|microMsg\.)(?P<stamp>\d{13}|\d{10})(?!\d)",
    re.IGNORECASE,
)


def _basename(name: str) -> str:
    return re.split(r"[\\/]", name)[-1].strip()


def _pattern_name(prefix: str | None, default: str) -> str:
    if not prefix:
        return default
    return re.sub(r"[ _.]+", "_", prefix.strip(" _.").lower()) or default


def _plausible_year(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def time_from_name(name: str) -> NameTime | None:
    """Parse ``name`` (a file name; directories are ignored). None if nothing trustworthy."""
    base = _basename(name)

    m = _EPOCH.match(base)
    if m:
        stamp = int(m["stamp"])
        seconds = stamp / 1000 if len(m["stamp"]) == 13 else float(stamp)
        try:
            instant = datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=0)
        except (OverflowError, OSError, ValueError):
            return None
        if not _plausible_year(instant.year):
            return None
        return NameTime("instant", instant, _pattern_name(m["prefix"], "epoch"))

    m = _WHATSAPP_DATE.match(base)
    if m:
        try:
            day = date(int(m["y"]), int(m["mo"]), int(m["d"]))
        except ValueError:
            return None
        if not _plausible_year(day.year):
            return None
        return NameTime("date", day, "whatsapp")

    m = _DATETIME.match(base)
    if m and (m["prefix"] or not m["frac"]):  # bare digits run on: an order number, not a time
        try:
            local = datetime(
                int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["sec"])
            )
        except ValueError:
            return None
        if not _plausible_year(local.year):
            return None
        return NameTime("local", local, _pattern_name(m["prefix"], "datetime"))
    return None
