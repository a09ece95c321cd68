"""Turning user text into reportlab Paragraph markup that prints literally.

Everything a user typed (titles, notes, chat messages, file names) may contain
``<``, ``&`` or text that looks like markup (``<br/>``, ``<font>``): it is
escaped with :func:`xml.sax.saxutils.escape`, so it prints as typed. Characters
the font has no glyph for (emoji, rare scripts) are written as their Unicode
name in brackets, ``🎧`` as ``(headphone)`` and a flag as ``(flag CN)``, instead
of drawing an empty box (reportlab cannot embed the colour emoji fonts, CBDT,
that systems ship); ``[U+E000]`` (the code point in hex) only for one without a name. Invisible
joiners, variation selectors, skin-tone modifiers and tag characters the font
lacks are dropped. Control characters become ``\\xNN``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any, Callable
from xml.sax.saxutils import escape

from ..values import clean_text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INVISIBLE = frozenset([0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0),
                        *range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)])  # skin tones, tags
_REGIONAL = range(0x1F1E6, 0x1F200)  # regional indicator letters: two make a flag
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


class Text:
    """Escapes user text for one registered font."""

    def __init__(self, has_glyph: Callable[[int], bool]) -> None:
        self._has = has_glyph
        self._good = set("\n\t")  # printed as they are: what the font draws, and line breaks and tabs
        self._lacking: set[str] = set()

    def _ok(self, ch: str) -> bool:
        if ch in self._good:
            return True
        if ch in self._lacking:
            return False
        (self._good if self._has(ord(ch)) else self._lacking).add(ch)
        return ch in self._good

    def plain(self, value: Any) -> str:
        """Text the font can draw, not yet escaped (for canvas.drawString)."""
        text = clean_text("" if value is None else str(value))
        text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
        if self._drawable(text):  # the usual case, a set operation instead of a step per character
            return text
        out = []
        i = 0
        while i < len(text):
            ch = text[i]
            i += 1
            if self._ok(ch):
                out.append(ch)
            elif ord(ch) in _INVISIBLE:
                continue
            elif ord(ch) in _REGIONAL:
                letters = chr(ord("A") + ord(ch) - _REGIONAL.start)
                if i < len(text) and ord(text[i]) in _REGIONAL:
                    letters += chr(ord("A") + ord(text[i]) - _REGIONAL.start)
                    i += 1
                out.append(f"(flag {letters})")
            else:
                out.append(_named(ch))
        return "".join(out)

    def _drawable(self, text: str) -> bool:
        """Does the font draw every character of ``text``, so that plain() keeps it as it is?"""
        return all(self._ok(ch) for ch in set(text) - self._good)

    def __call__(self, value: Any) -> str:
        """Paragraph markup that prints ``value`` literally; line breaks kept."""
        text = escape(self.plain(value))
        text = text.replace("\t", "    ")
        # Runs of spaces would collapse: keep them with no-break spaces.
        text = re.sub(r"  +", lambda m: " " + "\u00a0" * (len(m.group()) - 1), text)
        return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br/>")


def _named(ch: str) -> str:
    """``🎧`` → ``(headphone)``: a character the font cannot draw, by its Unicode name."""
    import unicodedata

    name = unicodedata.name(ch, "")
    return f"({name.lower()})" if name else f"[U+{ord(ch):04X}]"


def has_cjk(value: Any) -> bool:
    return bool(value) and bool(_CJK.search(str(value)))


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    try:  # a stored year 1 or 9999 with an offset has no UTC instant: shown as stored, never a crash
        parsed.astimezone(UTC)
    except OverflowError:
        return None
    return parsed


def show_time(value: str | None, tz: tzinfo | None = None, *, seconds: bool = True, offset: bool = False) -> str:
    """``2025-05-03T06:22:10+00:00`` → ``2025-05-03 14:22:10`` in ``tz`` (the stored offset when None)."""
    when = parse_time(value)
    if when is None:
        return value or ""
    if tz is not None:
        when = when.astimezone(tz)
    text = when.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    if offset:
        text += " " + utc_offset(when)
    return text


def utc_offset(when: datetime) -> str:
    delta = when.utcoffset()
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def amount(value: str | None, currency: str | None) -> str:
    if not value:
        return ""
    cur = (currency or "CNY").upper()
    if cur in ("CNY", "RMB"):
        return f"¥{value}"
    return f"{value} {cur}"


def duration(seconds: Any) -> str:
    try:
        total = float(seconds)
    except (TypeError, ValueError):
        return ""
    whole = int(total)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    frac = total - whole
    tail = f"{s:02d}" + (f".{int(round(frac * 10)) % 10}" if frac >= 0.05 else "")
    return f"{h}:{m:02d}:{tail}" if h else f"{m}:{tail}"


def number_ranges(numbers: Any, lang: str = "zh") -> str:
    """``[1, 2, 3, 5, 7, 8]`` → ``1–3、5、7–8`` (zh) or ``1–3, 5, 7–8`` (en): runs of consecutive numbers as ranges."""
    ordered = sorted({int(n) for n in numbers})
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(f"{ordered[i]}" if i == j else f"{ordered[i]}–{ordered[j]}")
        i = j + 1
    return ("、" if lang == "zh" else ", ").join(parts)
