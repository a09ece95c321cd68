"""Decode a chat export: which encoding is it in?

1. A BOM decides: UTF-32 (LE/BE, checked before UTF-16, whose LE BOM is a
   prefix of UTF-32's), UTF-8 (``utf-8-sig``), UTF-16 (LE/BE, recorded as
   ``utf-16``).
2. Strict UTF-8 (``utf-8``). Text with NUL characters is not taken as UTF-8:
   it is UTF-16 without a BOM (``utf-16-le``/``-be``, tried when the zero bytes
   sit on every other byte) or binary.
3. Strict GB18030 (``gb18030``, a superset of GBK and GB2312) when the result
   is plausible Chinese: no control or private-use characters (besides tab,
   CR, LF, FF) and at least 80 % of the non-ASCII characters common ones: the
   3,755 level-1 hanzi and the symbols of GB2312, CJK and full-width
   punctuation.
4. charset-normalizer, for everything else (Big5, Shift-JIS, cp125x, …).
5. Strict GB18030 even if implausible (Chinese full of rare characters), as
   long as it holds no control characters.
Anything else raises :class:`~locker.chats.ChatError`.

Measured (generated refund chats and message texts, 300 samples per length,
10 B to 10 kB; other encodings 100 samples each): every GBK sample was decoded
exactly and labelled gb18030 at every length, except one 10-byte text,
``[图片]``, whose GBK bytes are valid UTF-8 (a whole file is never that short).
No Big5, Shift-JIS, cp1251 or cp1252 sample was taken for GB18030, although
most of them are valid GB18030: their characters land in GBK's rare rows, which
step 3 rejects (without the 80 % rule, 12 % of 30-byte cp1251 samples were).
EUC-KR is the known exception: its Hangul rows coincide with GB2312's level-1
hanzi, so Korean EUC-KR reads as (nonsense) Chinese. FIELD-NOTES: charset-normalizer
alone decoded only 45 % of 30-byte GBK samples, hence step 3 before it.
"""

from __future__ import annotations

import codecs
import re

from locker.chats.models import ChatError

__all__ = ["decode_text", "decode_head"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd]")
_PLAUSIBLE_SHARE = 0.8
_CHECK_CHARS = 1 << 20  # plausibility is judged on the first million characters
_uncommon: re.Pattern[str] | None = None


def _uncommon_re() -> re.Pattern[str]:
    """Characters a Chinese text rarely uses: outside GB2312 level 1, its symbols and CJK punctuation."""
    global _uncommon
    if _uncommon is None:
        common = []
        for hi in range(0xA1, 0xD8):  # rows A1–A9: symbols; B0–D7: level-1 hanzi
            if 0xAA <= hi <= 0xAF:
                continue
            for lo in range(0xA1, 0xFF):
                try:
                    common.append(bytes((hi, lo)).decode("gb2312"))
                except UnicodeDecodeError:
                    pass
        _uncommon = re.compile(
            "[^\x00-\x7f\u3000-\u303f\uff00-\uffef\u2010-\u206f" + re.escape("".join(common)) + "]"
        )
    return _uncommon


def _plausible_chinese(text: str) -> bool:
    sample = text[:_CHECK_CHARS]
    if _CONTROL.search(sample):
        return False
    non_ascii = len(sample) - len(sample.encode("ascii", "ignore"))
    if not non_ascii:
        return True
    uncommon = _uncommon_re().subn("", sample)[1]  # a count, without a list of matches
    return uncommon <= (1 - _PLAUSIBLE_SHARE) * non_ascii


def _bom(data: bytes) -> tuple[str, str] | None:
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        try:
            return data.decode("utf-32"), "utf-32"
        except UnicodeDecodeError:
            pass  # FF FE 00 00 can also be UTF-16 LE starting with U+0000
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise ChatError("not valid UTF-8 despite its UTF-8 byte order mark") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise ChatError("not valid UTF-16 despite its UTF-16 byte order mark") from None
    return None


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a BOM, recognisable when the text is mostly ASCII (zero high bytes)."""
    probe = data[:4096]
    half = len(probe) // 2
    if half < 2 or len(data) % 2:
        return None
    even_zeros = probe[0::2].count(0)
    odd_zeros = probe[1::2].count(0)
    if odd_zeros >= 0.4 * half and even_zeros <= 0.05 * half:
        encoding = "utf-16-le"
    elif even_zeros >= 0.4 * half and odd_zeros <= 0.05 * half:
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    if "\x00" in text or _CONTROL.search(text[:_CHECK_CHARS]):
        return None
    return text, encoding


def _charset_normalizer(data: bytes) -> tuple[str, str] | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a dependency of the project
        return None
    best = from_bytes(data).best()
    if best is None or not best.encoding:
        return None
    try:
        name = codecs.lookup(best.encoding).name
        text = data.decode(name)
    except (LookupError, UnicodeDecodeError):
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text or _CONTROL.search(text[:_CHECK_CHARS]):
        return None
    return text, name


def _strict(data: bytes) -> tuple[str, str | None] | None:
    """Steps 1–3: (text, encoding); (GB18030 text, None) when it decodes but is implausible; None."""
    found = _bom(data)
    if found is not None:
        return found
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if "\x00" not in text:
            return text, "utf-8"
        found = _utf16_without_bom(data)
        if found is not None:
            return found
        raise ChatError("binary data, not text (it holds NUL bytes)")
    found = _utf16_without_bom(data)
    if found is not None:
        return found
    try:
        gb = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    return gb, ("gb18030" if _plausible_chinese(gb) else None)


def _fallback(data: bytes, gb: str | None, guess: bool = True) -> tuple[str, str]:
    """Steps 4–5 (step 4 only if ``guess``)."""
    found = _charset_normalizer(data) if guess else None
    if found is not None:
        return found
    if gb is not None and not _CONTROL.search(gb[:_CHECK_CHARS]):
        return gb, "gb18030"
    raise ChatError("not text in an encoding we can read (tried UTF-8, UTF-16, GB18030 and others)")


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of a chat export's bytes; ChatError when it is not text we can read."""
    if not data:
        raise ChatError("the file is empty")
    found = _strict(data)
    if found is not None and found[1] is not None:
        return found[0], found[1]
    return _fallback(data, found[0] if found else None)


def decode_head(data: bytes, final: bool = True, *, guess: bool = True) -> str | None:
    """The decoded start of a file (``final``: all of it), for format detection; None if not text.

    A character cut at the end of the window is dropped: the strict decoders are tried
    with up to 3 bytes off the end before the detector is asked. ``guess=False`` skips
    charset-normalizer (step 4): for bytes known not to be text, such as a ZIP's, where
    it would only spend milliseconds to find nothing."""
    if not data:
        return None
    gb = None
    for cut in (0,) if final else (0, 1, 2, 3):
        try:
            found = _strict(data[: len(data) - cut] if cut else data)
        except ChatError:
            continue
        if found is not None:
            if found[1] is not None:
                return found[0]
            gb = gb or found[0]
    try:
        return _fallback(data, gb, guess)[0]
    except ChatError:
        return None
