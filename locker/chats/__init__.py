"""Chat exports → messages: one parser per export format behind one small protocol.

:func:`parse_chat` reads a stored chat export (read-only), detects its format
from its content (or takes ``fmt``), decodes it (:mod:`locker.chats.encoding`)
and returns a :class:`ChatParse`: every message with its time (ISO 8601 with
offset, to the second), sender, exact text, whether the user sent it and its
kind. It raises :class:`ChatError` and nothing else.

Formats (:data:`FORMATS`), one module each:

* ``whatsapp_android`` / ``whatsapp_ios`` (and the export ZIPs
  ``whatsapp_ios_zip`` / ``whatsapp_android_zip``): :mod:`locker.chats.whatsapp`
* ``telegram_json``: Telegram Desktop ``result.json`` (:mod:`locker.chats.telegram`)
* ``wechat_memotrace_csv`` / ``wechat_memotrace_txt``: MemoTrace/留痕, ``wechat_pywxdump_csv``:
  PyWxDump (:mod:`locker.chats.wechat`)
* ``csv_chat``: a CSV with time, sender and message columns (:mod:`locker.chats.csvchat`)
* ``plain_lines``: ``2025-05-05 09:12:30 商家：内容`` (:mod:`locker.chats.plain`)
* ``locker_chat_json``: our normalized document, ``schemas/chat.schema.json``
  (:mod:`locker.chats.normalized`), which :func:`to_document` writes.

**Kinds**: ``message``; ``media`` for placeholders such as ``<Media omitted>``,
``image omitted``, ``<attached: …>``, ``[图片]`` (the text is kept as written);
``service`` for messages the app wrote (``Messages and calls are end-to-end
encrypted``, Telegram service messages, WeChat system messages);
``unparsed`` for lines that look like the start of a message but cannot be read,
text before the first message, and rows or entries of the structured formats
that cannot be read (kept as raw text). Continuation lines (multi-line messages)
are joined to the message above with ``"\\n"``. Every unparsed entry is counted
in a warning. A file with no readable message at all is not a chat (ChatError).

**System lines** (:func:`system_line`): what the app wrote rather than a participant
(the end-to-end-encryption notice, "This message was deleted", missed calls,
security-code changes, group events, 此消息已删除, 撤回了一条消息, 拍了拍, Telegram
service messages) are kind ``service`` with ``sender`` None and ``me`` False,
never attributed to a participant; where the export put a name before such a
line, the text keeps it as written (``Anna: This message was deleted``).
Media placeholders (``<Media omitted>``, ``image omitted``, ``[图片]``) are not
system lines: a participant did send that photo, so they keep their sender,
with kind ``media``.

**Dates**: WhatsApp's day/month order is taken, in turn, from ``date_order``
(the ``--date-order`` option or the profile's, ``date_order_source`` saying
which), the data, the format's locale signature, and else assumed (day first),
with a warning: see :func:`locker.chats.whatsapp.resolve_date_order`. A chat is
never refused for its dates being ambiguous.

**Times**: chat exports carry no zone; ``tz`` is applied to their wall-clock
times. Exact instants (Telegram ``date_unixtime``, a CSV time with an offset,
epoch seconds) are converted to ``tz``.

**Plug-ins**: a parser is any object with a ``name``, ``detect(sample) -> float``
(0 = not this format, 1 = certainly) and ``parse(source, options) -> ChatParse``;
:func:`register` adds it. The built-in parsers register themselves the same way.

**Where things are**: :mod:`~locker.chats.models` (messages, the parse result, options,
errors), :mod:`~locker.chats.clock` (times), :mod:`~locker.chats.source` (reading the
bytes: files, ZIP members, size limits), :mod:`~locker.chats.encoding` (decoding),
:mod:`~locker.chats.lines` (helpers for parsers), :mod:`~locker.chats.registry` (the
registry, detection and the API above). This module only re-exports them.
"""

from __future__ import annotations

from locker.chats.clock import Clock, WhenReader, hour24, parse_when, tz_name
from locker.chats.lines import (
    DIRECTION_MARKS,
    MEDIA_PREFIXES,
    MEDIA_SUFFIXES,
    LineFeed,
    as_system,
    build,
    clean_name,
    is_media_placeholder,
    kind_of,
    split_lines,
    system_line,
    unparsed_warning,
)
from locker.chats.models import (
    DATE_ORDER_SOURCES,
    DATE_ORDERS,
    FORMATS,
    KINDS,
    AmbiguousDates,
    ChatError,
    ChatParse,
    Message,
    Options,
)
from locker.chats.registry import (
    DETECT_THRESHOLD,
    ChatParser,
    chat_like,
    detect_format,
    detect_text,
    parse_bytes,
    parse_chat,
    parsers,
    register,
    to_document,
    unregister,
)
from locker.chats.source import MAX_TEXT_BYTES, SNIFF_BYTES, Sample, Source

__all__ = [
    # the API
    "AmbiguousDates", "ChatError", "ChatParse", "FORMATS", "KINDS", "Message", "chat_like", "detect_format",
    "detect_text", "parse_bytes", "parse_chat", "system_line", "to_document",
    # the protocol and the registry
    "ChatParser", "DETECT_THRESHOLD", "Options", "Sample", "Source", "parsers", "register", "unregister",
    # helpers for parsers (built-in or plug-in)
    "Clock", "DATE_ORDERS", "DATE_ORDER_SOURCES", "DIRECTION_MARKS", "LineFeed", "MAX_TEXT_BYTES", "MEDIA_PREFIXES",
    "MEDIA_SUFFIXES", "SNIFF_BYTES", "WhenReader", "as_system", "build", "clean_name", "hour24",
    "is_media_placeholder", "kind_of", "parse_when", "split_lines", "tz_name", "unparsed_warning",
]
