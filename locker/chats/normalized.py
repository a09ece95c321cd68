"""Our own normalized chat document (``schemas/chat.schema.json``), as input.

:func:`locker.chats.to_document` writes it; a person can also write one by
hand — the least it needs is::

    {"format": "locker-chat", "version": 1,
     "messages": [{"at": "2025-05-05 09:12:30", "sender": "商家", "text": "你好"}]}

Reading it back: ``at`` with an offset is an exact instant (shown in ``tz``),
without one it is wall-clock time in ``tz``; ``me`` is the message's own flag,
or its sender equals ``--me`` (else the document's ``me``); ``kind`` is kept
when it is one of message/media/service/unparsed, else inferred from the text
(media placeholders); positions are renumbered in list order. An entry that
is not an object with a string ``text`` is ``unparsed``; a time that cannot be
read leaves ``at`` empty, with a warning.
"""

from __future__ import annotations

import json
import re

from locker.chats import (
    ChatError,
    ChatParse,
    Message,
    Options,
    Sample,
    Source,
    build,
    clean_name,
    kind_of,
    parse_when,
    register,
)
from locker.domain import MESSAGE_KINDS

__all__ = ["FORMAT", "VERSION", "parse_document_text"]

FORMAT = "locker-chat"
VERSION = 1
_SIGNATURE = re.compile(r'"format"\s*:\s*"locker-chat"')


def parse_document_text(text: str, encoding: str, options: Options) -> ChatParse:
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ChatError("not a locker chat document (JSON nested too deeply)") from None
    except ValueError as exc:
        raise ChatError(f"not valid JSON: {exc}"[:200]) from None
    del text
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ChatError('not a locker chat document (no "format": "locker-chat")')
    version = doc.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ChatError(f"unsupported locker chat document version {version!r} (this version reads 1)")
    entries = doc.get("messages")
    if not isinstance(entries, list):
        raise ChatError('not a locker chat document ("messages" must be a list)')
    doc_me = doc.get("me") if isinstance(doc.get("me"), str) else None
    me = options.me or clean_name(doc_me)
    clock = options.clock()
    cache: dict[str, str | None] = {}
    messages: list[Message] = []
    bad_times = 0
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raw = entry.get("text") if isinstance(entry, dict) else entry
            messages.append(Message(position, None, None, json.dumps(raw, ensure_ascii=False)[:1000], False,
                                    "unparsed"))
            continue
        body = entry["text"]
        at = None
        when = entry.get("at")
        if isinstance(when, str) and when.strip():
            at = parse_when(when.strip(), clock, cache)
            if at is None:
                bad_times += 1
        elif when is not None:
            bad_times += 1
        sender = clean_name(entry["sender"]) if isinstance(entry.get("sender"), str) else None
        kind = entry.get("kind")
        if kind not in MESSAGE_KINDS:
            kind = kind_of(body)
        if entry.get("system") is True:
            kind = "service"  # a system line: build() takes its sender off
        flag = entry.get("me")
        mine = flag is True or (sender is not None and sender == me)
        messages.append(Message(position, at, sender, body, mine, kind))
    warnings = [f"{bad_times} message(s) have a time that could not be read"] if bad_times else []
    return build("locker_chat_json", encoding, options, messages, warnings=warnings)


class LockerChatJson:
    name = "locker_chat_json"

    def detect(self, sample: Sample) -> float:
        text = sample.text
        if not text or not text.lstrip().startswith("{"):
            return 0.0
        return 1.0 if _SIGNATURE.search(text) else 0.0

    def parse(self, source: Source, options: Options) -> ChatParse:
        return parse_document_text(*source.take_text(), options)


register(LockerChatJson())
