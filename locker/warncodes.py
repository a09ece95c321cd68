"""What the locker notices about a file, as a code with parameters, shown in the reader's language.

A warning stored with an exhibit (a damaged header, an assumed date order, why a file could not
be read as a chat) is kept in the exhibit's ``warnings`` column as ``{"code", "params", "text"}``:
a stable code, the values that fill its sentence, and the English sentence itself. It is put
into words when it is shown: ``add``, ``show`` and ``reread`` in the language of the run, the
pack in the pack's language; ``--json`` prints the code, the parameters and the English text.

The English sentences are the templates below, the same words the readers have always written,
so that a row stored before codes existed (a plain English string) is recognised by its
sentence (:func:`parse`) and shown translated too. A sentence no template matches (a new
reader's, an operating-system error) keeps ``code`` None and is shown as written.

A :class:`Note` is a ``str`` (its English text) that also carries its code and parameters, so
the code that passes warnings around as strings keeps working; :func:`stored` and
:func:`from_stored` are the column's two directions. A template whose parameter is itself a
warning (``could not read it as a chat: {reason}``) names it in :data:`NESTED`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from .i18n import N_, gettext_in, language

# code -> English sentence (marked for the catalogs; placeholders are named, filled after translation).
TEMPLATES: dict[str, str] = {
    # how the file was read (services/stage.py)
    "read.symlink": N_("named by a symbolic link: the file it points to was stored (its path: symlink_target)"),
    "read.changed": N_("changed while being read: its size or modification time moved during the copy; "
                       "stored as read ({size} bytes, hashed as stored)"),
    # what the file is (media/__init__.py)
    "file.name_mismatch": N_("name says {category} (.{ext}) but content is {mime}"),
    "file.riff_truncated": N_("truncated {label} file: only {size} bytes, cut inside its RIFF header"),
    "file.uninspectable": N_("could not inspect the file ({reason})"),
    "time.out_of_range": N_("capture time {time} lies outside 1970 … now: ignored"),
    "time.gps_ignored": N_("GPS time {gps} is not a whole quarter-hour offset within ±14 h of the local "
                           "time {local}: ignored"),
    # pictures (media/images.py)
    "image.exif_subdir": N_("EXIF sub-directory is damaged"),
    "image.exif_gps": N_("EXIF GPS directory is damaged"),
    "image.exif_date_unusable": N_("EXIF DateTimeOriginal is not a usable date: {value}"),
    "image.exif_date_range": N_("EXIF DateTimeOriginal {value} lies outside 1970 … now: ignored"),
    "image.unreadable": N_("cannot read image: {reason}"),
    "image.heif_too_large": N_("HEIF image larger than {mib} MiB not opened"),
    "image.heif_missing": N_("pillow-heif is not installed: HEIF metadata not read"),
    "image.exif_damaged": N_("EXIF data is damaged ({error})"),
    "image.too_large_sized": N_("image too large to decode safely ({size})"),
    "image.too_large": N_("image too large to decode safely"),
    "image.header_unreadable": N_("truncated or damaged image (header unreadable: {reason})"),
    "image.damaged": N_("truncated or damaged image"),
    "image.metadata": N_("image metadata: {detail}"),
    # sound and video (media/av_probe.py)
    "media.container": N_("cannot read the media container: {reason}"),
    "media.no_stream": N_("no audio or video stream found"),
    "media.partly": N_("media metadata partly unreadable: {reason}"),
    "media.creation_range": N_("container creation time {value} lies outside 1970 … now: ignored"),
    "media.unreadable": N_("cannot read media file: {reason}"),
    "media.box_truncated": N_("truncated media file: the '{box}' box runs past the end of the file"),
    "media.no_moov": N_("damaged media file: no 'moov' index (recording interrupted?)"),
    "media.riff_short": N_("truncated media file: RIFF header promises more bytes than present"),
    # PDF (media/pdf.py)
    "pdf.no_header": N_("no PDF header in the first 1 KiB"),
    "pdf.no_eof": N_("PDF seems truncated (no %%EOF at the end)"),
    "pdf.unreadable": N_("cannot read PDF: {reason}"),
    "pdf.pages_large": N_("page count unknown: the page tree is in a compressed object stream of a PDF "
                          "over {mib} MiB, which is not parsed"),
    "pdf.pages_compressed": N_("page count unknown: the PDF's compressed page tree could not be read"),
    "pdf.pages_unscanned": N_("page count unknown: page tree not found in the scanned part of the PDF"),
    "pdf.pages_none": N_("page count unknown: no page tree found"),
    # e-mail (media/email.py)
    "email.too_large": N_("e-mail too large to read its headers and text"),
    "email.unreadable": N_("could not read it as an e-mail ({error})"),
    "email.date_unreadable": N_("the e-mail's Date header cannot be read: {value}"),
    "email.date_zoneless": N_("the e-mail's Date header has no zone (-0000): not used as the capture time"),
    "email.date_range": N_("the e-mail's Date header is out of range: not used as the capture time"),
    "email.no_date": N_("the e-mail has no Date header"),
    "email.parts": N_("could not read every part of the e-mail ({error})"),
    # chats: what a read found (chats/*, services/stage.py)
    "chat.unreadable": N_("could not read it as a chat: {reason}"),
    "chat.looks_like": N_("looks like a chat export ({count} of {total} lines start with a date or time and a "
                          "name) but matches no chat format this version reads, so no messages were read; if it "
                          "is a chat, read it as one with --chat-format ({command}; formats: {formats})"),
    "chat.unparsed_one": N_("1 line could not be read as chat messages and was kept as unparsed text"),
    "chat.unparsed": N_("{count} lines could not be read as chat messages and were kept as unparsed text"),
    "chat.no_date": N_("{count} message(s) have no readable date"),
    "chat.no_time": N_("{count} message(s) have no readable time"),
    "chat.bad_time": N_("{count} message(s) have a time that could not be read"),
    "chat.dates_assumed_dmy": N_("the dates could be day/month or month/day and nothing in the export tells "
                                 "which: read day first (dmy), an assumption; if that is wrong, read it again "
                                 "with --date-order mdy ({command})"),
    "chat.dates_assumed_mdy": N_("the dates could be day/month or month/day and nothing in the export tells "
                                 "which: read month first (mdy), an assumption; if that is wrong, read it again "
                                 "with --date-order dmy ({command})"),
    "chat.profile_order": N_("the profile's date order {given} does not fit these dates (a day above 12): "
                             "read as {found}"),
    # chats: why a file is not a chat (ChatError messages, chats/*)
    "chat.empty": N_("the file is empty"),
    "chat.binary": N_("binary data, not text (it holds NUL bytes)"),
    "chat.encoding": N_("not text in an encoding we can read (tried UTF-8, UTF-16, GB18030 and others)"),
    "chat.bad_utf8": N_("not valid UTF-8 despite its UTF-8 byte order mark"),
    "chat.bad_utf16": N_("not valid UTF-16 despite its UTF-16 byte order mark"),
    "chat.not_file": N_("not a readable file"),
    "chat.unknown_format": N_("not a chat export this version can read (formats: {formats})"),
    "chat.no_such_format": N_("unknown chat format {name} (known: {known})"),
    "chat.bad_date_order": N_("date order must be dmy, mdy or ymd, not {value}"),
    "chat.too_large": N_("too large for a chat export (the limit is {mib} MiB)"),
    "chat.memory": N_("too large to read as a chat export"),
    "chat.read_failed": N_("cannot read it as {format}: {reason}"),
    "chat.no_lines": N_("no line reads as a chat message (2025-05-05 09:12:30 Name：text)"),
    "chat.no_format_lines": N_("no line reads as a {format} message"),
    "chat.bad_json": N_("not valid JSON: {reason}"),
    "chat.zip_unreadable": N_("not a ZIP this version can read (damaged, or more than 50,000 entries)"),
    "chat.zip_no_chat": N_("no _chat.txt (or single .txt chat) in this ZIP"),
    "chat.zip_encrypted": N_("{member} is encrypted"),
    "chat.zip_member_large": N_("{member} is too large ({size} MiB; the limit is {mib} MiB)"),
    "chat.zip_bomb": N_("{member} expands {ratio}-fold: refused as a possible ZIP bomb"),
    "chat.telegram_not_object": N_("not a Telegram export (the JSON is not an object)"),
    "chat.telegram_full": N_("a full Telegram export with {count} chats: export the one chat "
                             "(Export chat history) and add that"),
    "chat.telegram_no_messages": N_("not a Telegram export (no messages list)"),
    "chat.telegram_deep": N_("not a Telegram export (JSON nested too deeply)"),
    "chat.csv_columns": N_("not a chat CSV (its header must name a time, a sender and a message column)"),
    "chat.csv_no_header": N_("not a chat CSV (no header with three or more columns)"),
    "chat.csv_bad_header": N_("not a chat CSV (its header cannot be read)"),
    "chat.locker_deep": N_("not a locker chat document (JSON nested too deeply)"),
    "chat.locker_format": N_('not a locker chat document (no "format": "locker-chat")'),
    "chat.locker_version": N_("unsupported locker chat document version {version} (this version reads 1)"),
    "chat.locker_messages": N_('not a locker chat document ("messages" must be a list)'),
    "chat.memotrace_csv": N_("not a MemoTrace CSV (its header names StrTime, IsSender and StrContent)"),
    "chat.pywxdump_csv": N_("not a PyWxDump CSV (its header names type_name, is_sender, talker, msg and CreateTime)"),
    "chat.memotrace_txt": N_("no block reads as a MemoTrace TXT message (2025-05-05 09:12:30 Name, then the text)"),
}
#: Parameters that are themselves warnings (translated in turn).
NESTED: dict[str, tuple[str, ...]] = {"chat.unreadable": ("reason",)}
#: The codes a chat read gives: replaced as a whole when the exhibit is read again (``locker reread``).
CHAT_READ = frozenset({"chat.unreadable", "chat.looks_like", "chat.unparsed_one", "chat.unparsed", "chat.no_date",
                       "chat.no_time", "chat.bad_time", "chat.dates_assumed_dmy", "chat.dates_assumed_mdy",
                       "chat.profile_order"})


class Note(str):
    """A warning: its English text (the ``str``), with its ``code`` (None: not one we know) and ``params``."""

    code: str | None
    params: dict[str, Any]

    def __new__(cls, text: str, code: str | None = None, params: Mapping[str, Any] | None = None) -> Note:
        note = super().__new__(cls, text)
        note.code = code
        note.params = dict(params or {})
        return note

    def __reduce__(self) -> tuple[Any, ...]:  # a str subclass with attributes: pickle them too
        return (Note, (str(self), self.code, self.params))


def make(code: str, **params: Any) -> Note:
    """The warning ``code`` with its parameters, its text in English."""
    values = {k: str(v) for k, v in params.items()}
    return Note(TEMPLATES[code].format(**values), code, params)


@cache
def _pattern(template: str) -> re.Pattern[str]:
    parts, seen = [], set()
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(f"(?P={field})" if field in seen else f"(?P<{field}>.*?)")
            seen.add(field)
    return re.compile("".join(parts), re.DOTALL)


def parse(text: str) -> Note:
    """A warning from its English text: the template it was written from, with the values in it
    (for rows stored before codes, and for readers that write plain English); else code None."""
    if isinstance(text, Note) and text.code is not None:
        return text
    plain = str(text)
    for code, template in TEMPLATES.items():
        m = _pattern(template).fullmatch(plain.strip())
        if m:
            params: dict[str, Any] = dict(m.groupdict())
            for name in NESTED.get(code, ()):
                params[name] = parse(params[name])
            return Note(plain, code, params)
    return Note(plain)


def doc(note: str) -> dict[str, Any]:
    """``{"code", "params", "text"}``: how a warning is stored and what ``--json`` prints."""
    found = parse(note)
    params = {k: doc(v) if k in NESTED.get(found.code or "", ()) else str(v) for k, v in found.params.items()}
    return {"code": found.code, "params": params, "text": str(found)}


def stored(warnings: Iterable[str]) -> list[dict[str, Any]]:
    """The ``warnings`` column's list for these warnings."""
    return [doc(w) for w in warnings]


def from_stored(item: Any) -> Note:
    """One item of a ``warnings`` column: a ``{"code", "params", "text"}`` object, or the plain English
    string older versions stored."""
    if isinstance(item, Mapping):
        text = str(item.get("text") or "")
        code = item.get("code")
        raw = item.get("params")
        params: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
        if not isinstance(code, str) or code not in TEMPLATES:
            return parse(text)  # a code this version does not know: its English text, as if stored plain
        for name in NESTED.get(code, ()):
            if name in params:
                params[name] = from_stored(params[name])
        return Note(text, code, params)
    return parse(str(item))


def loads(column: Any) -> tuple[Note, ...]:
    """A ``warnings`` column (JSON text or an already-parsed list) as notes; damaged JSON: none."""
    import json

    try:
        items = json.loads(column) if isinstance(column, (str, bytes)) else column
    except ValueError:
        return ()
    if not isinstance(items, list):
        return ()
    return tuple(from_stored(i) for i in items)


def show(note: str, lang: str | None = None) -> str:
    """The warning in ``lang`` (default: the language of this run). A warning with no known code, or
    one whose stored parameters no longer fill its sentence, is shown as written (English)."""
    found = parse(note)
    if found.code is None:
        return str(found)
    lang = lang or language()
    nested = NESTED.get(found.code, ())
    values = {k: show(v, lang) if k in nested else str(v) for k, v in found.params.items()}
    try:
        return gettext_in(lang, TEMPLATES[found.code]).format(**values)
    except (KeyError, IndexError, ValueError):
        return str(found)


def with_command(note: str, slug: str, number: int) -> Note:
    """A warning that suggests ``locker reread DISPUTE N …`` made exact: the command names the exhibit."""
    found = parse(note)
    if found.code is None or "command" not in found.params:
        return Note(str(found).replace("locker reread DISPUTE N", f"locker reread {slug} {number}"),
                    found.code, found.params)
    params = dict(found.params)
    params["command"] = str(params["command"]).replace("locker reread DISPUTE N", f"locker reread {slug} {number}")
    return make(found.code, **params)
