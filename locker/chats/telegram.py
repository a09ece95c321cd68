"""Telegram Desktop exports: ``result.json`` (machine-readable JSON).

One chat (``{"name", "type", "id", "messages": [...]}``, also a bare ``{"messages": [...]}``
whose entries have a type and a date), or a full-account
export whose ``chats.list`` holds exactly one chat. Each message:

* ``type``: ``message`` or ``service`` (a service message keeps kind
  ``service``, its ``actor`` as sender and, without text, ``[action]`` as text,
  e.g. ``[phone_call]`` or ``[pin_message]``);
* time: ``date_unixtime`` is the exact instant (converted to ``tz``); ``date``
  is the exporting computer's wall clock without a zone (used, in ``tz``, only
  when ``date_unixtime`` is missing);
* ``from``: the sender's display name (null for a deleted account);
* ``text``: a string, or an array of strings and entity objects
  (``{"type": "bold", "text": "…"}``) whose texts are joined; ``text_entities``
  when ``text`` is missing;
* media (``photo``, ``file``, ``media_type``, ``sticker_emoji``, ``location_information``,
  ``contact_information``, ``poll``): kind ``media``; the caption is the text,
  or, without one, a placeholder such as ``[photo]``, ``[sticker 👍]``,
  ``[voice_message]``, ``[file: invoice.pdf]``.

Entries that are not message objects are ``unparsed`` (their JSON as text).
"""

from __future__ import annotations

import json
import re
from typing import Any

from locker.chats import (
    ChatError,
    ChatParse,
    Clock,
    Message,
    Options,
    Sample,
    Source,
    build,
    clean_name,
    parse_when,
    register,
)

__all__ = ["parse_json_text", "entity_text"]

_MEDIA_KEYS = ("photo", "file", "media_type", "sticker_emoji", "location_information",
               "contact_information", "poll", "game_information", "invoice_information")


def entity_text(value: object) -> str:
    """``text`` as Telegram writes it: a string, or a list of strings and ``{"text": …}`` entities."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return ""


def _chat(doc: object) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ChatError("not a Telegram export (the JSON is not an object)")
    if isinstance(doc.get("messages"), list):
        return doc
    chats = doc.get("chats")
    listed = chats.get("list") if isinstance(chats, dict) else None
    if isinstance(listed, list):
        with_messages = [c for c in listed if isinstance(c, dict) and isinstance(c.get("messages"), list)]
        if len(with_messages) == 1:
            return with_messages[0]
        if with_messages:
            raise ChatError(f"a full Telegram export with {len(with_messages)} chats: "
                            "export the one chat (Export chat history) and add that")
    raise ChatError("not a Telegram export (no messages list)")


def _placeholder(msg: dict[str, Any]) -> str:
    media_type = msg.get("media_type")
    if isinstance(media_type, str) and media_type:
        if media_type == "sticker" and isinstance(msg.get("sticker_emoji"), str):
            return f"[sticker {msg['sticker_emoji']}]"
        return f"[{media_type}]"
    if "photo" in msg:
        return "[photo]"
    name = msg.get("file_name") or msg.get("file")
    if isinstance(name, str) and name and not name.startswith("("):
        return f"[file: {name.rsplit('/', 1)[-1]}]"
    for key in _MEDIA_KEYS[2:]:
        if key in msg:
            return f"[{key.replace('_information', '')}]"
    return "[file]"


def _when(msg: dict[str, Any], clock: Clock, cache: dict[str, str | None]) -> str | None:
    unix = msg.get("date_unixtime")
    if isinstance(unix, (str, int)) and not isinstance(unix, bool):
        text = str(unix).strip()
        if text.isdigit() and len(text) <= 12:
            at = clock.epoch(int(text))
            if at is not None:
                return at
    date = msg.get("date")
    if isinstance(date, str) and len(date) <= 64:
        return parse_when(date, clock, cache)
    return None


def parse_json_text(text: str, encoding: str, options: Options) -> ChatParse:
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ChatError("not a Telegram export (JSON nested too deeply)") from None
    except ValueError as exc:
        raise ChatError(f"not valid JSON: {exc}"[:200]) from None
    del text
    chat = _chat(doc)
    clock = options.clock()
    me = options.me
    cache: dict[str, str | None] = {}
    senders: dict[str, str | None] = {}
    messages: list[Message] = []
    no_time = 0
    for position, msg in enumerate(chat["messages"]):
        if not isinstance(msg, dict):
            messages.append(Message(position, None, None, json.dumps(msg, ensure_ascii=False)[:1000], False,
                                    "unparsed"))
            continue
        at = _when(msg, clock, cache)
        if at is None:
            no_time += 1
        service = msg.get("type") == "service"
        who = msg.get("actor") if service else msg.get("from")
        if isinstance(who, str):
            sender = senders.get(who, who)
            if sender is who:
                sender = senders[who] = clean_name(who)
        else:
            sender = None
        body = entity_text(msg["text"]) if "text" in msg else entity_text(msg.get("text_entities"))
        if service:
            kind = "service"
            if not body:
                action = msg.get("action")
                body = f"[{action}]" if isinstance(action, str) and action else "[service]"
                title = msg.get("title")
                if isinstance(title, str) and title:
                    body = f"{body} {title}"
        elif any(key in msg for key in _MEDIA_KEYS):
            kind = "media"
            if not body:
                body = _placeholder(msg)
        else:
            kind = "message"
        messages.append(Message(position, at, sender, body, sender is not None and sender == me, kind))
    warnings = [f"{no_time} message(s) have no readable date"] if no_time else []
    return build("telegram_json", encoding, options, messages, warnings=warnings)


def looks_like_messages(entries: list[Any]) -> bool:
    """Whether a bare ``{"messages": [...]}`` holds Telegram messages (a trimmed single-chat
    export without name/type/id): its first entries have a type and a date."""
    head = [e for e in entries[:5] if isinstance(e, dict)]
    return bool(head) and all(e.get("type") in ("message", "service") and ("date" in e or "date_unixtime" in e)
                              for e in head)


_MESSAGES_KEY = re.compile(r'"messages"\s*:\s*\[')
_NAME_KEY = re.compile(r'"(?:name|type)"\s*:')
_DATE_KEY = re.compile(r'"date(?:_unixtime)?"\s*:\s*"\d')


class TelegramJson:
    name = "telegram_json"

    def detect(self, sample: Sample) -> float:
        text = sample.text
        if not text:
            return 0.0
        stripped = text.lstrip()
        if not stripped.startswith("{"):
            return 0.0
        if sample.complete:
            try:
                doc = json.loads(stripped)
            except (ValueError, RecursionError):
                return 0.0
            if not isinstance(doc, dict):
                return 0.0
            if doc.get("format") == "locker-chat":
                return 0.0
            if isinstance(doc.get("messages"), list) and ("name" in doc or "type" in doc
                                                          or looks_like_messages(doc["messages"])):
                return 0.9
            chats = doc.get("chats")
            if isinstance(chats, dict) and isinstance(chats.get("list"), list):
                return 0.7
            return 0.0
        if '"locker-chat"' in stripped[:4096]:
            return 0.0
        if _MESSAGES_KEY.search(stripped) and _NAME_KEY.search(stripped) and _DATE_KEY.search(stripped):
            return 0.9
        return 0.0

    def parse(self, source: Source, options: Options) -> ChatParse:
        return parse_json_text(*source.take_text(), options)


register(TelegramJson())
