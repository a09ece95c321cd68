"""What a parsed chat is: its messages, the parse result, the user's options, the errors.

The vocabulary (message kinds, date orders and who decided them) comes from
:mod:`locker.domain`; the names here are kept for the parsers and plug-ins that use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property

from locker.chats.clock import Clock, tz_name
from locker.domain import DATE_ORDER_SOURCES, DATE_ORDERS, MESSAGE_KINDS
from locker.errors import LockerError

__all__ = [
    "DATE_ORDERS", "DATE_ORDER_SOURCES", "FORMATS", "KINDS", "AmbiguousDates", "ChatError", "ChatParse", "Message",
    "Options",
]

FORMATS: tuple[str, ...] = (
    "whatsapp_android", "whatsapp_ios", "whatsapp_ios_zip", "whatsapp_android_zip", "telegram_json",
    "wechat_memotrace_csv", "wechat_memotrace_txt", "wechat_pywxdump_csv", "csv_chat", "plain_lines",
    "locker_chat_json",
)
KINDS = MESSAGE_KINDS  # the kinds of a Message, by their older name


class ChatError(LockerError):
    """A chat export that cannot be read: undecodable, not a chat, ambiguous dates. One line, no traceback."""

    code = "chat"


class AmbiguousDates(ChatError):
    """Kept for plug-ins: the built-in parsers no longer raise it (an undecided order is assumed)."""

    code = "chat_date_order"


@dataclass(frozen=True, slots=True)
class Message:
    position: int            # 0-based order in the export
    at: str | None           # ISO 8601 with offset, to the second; None if unknown
    sender: str | None       # None for service (system) and unparsed entries
    text: str                # exact text; media placeholders kept as written
    me: bool                 # the user sent it (--me, or MemoTrace IsSender=1)
    kind: str                # "message" | "media" | "service" | "unparsed"


def _instant(at: str) -> datetime:
    return datetime.fromisoformat(at)


@dataclass(frozen=True)
class ChatParse:
    format: str
    encoding: str
    tz: str                  # name of the zone applied to zone-less times
    messages: list[Message]
    participants: tuple[str, ...]   # senders of messages, in order of first appearance
    warnings: tuple[str, ...] = ()
    date_order: str | None = None   # "dmy" | "mdy" | "ymd" where the format has ambiguity
    date_order_source: str | None = None  # "option" | "profile" | "data" | "locale" | "assumed"
    zone_assumed: bool = False      # some times named no zone and were put in ``tz``

    @cached_property
    def first_at(self) -> str | None:
        """The earliest message time (by instant), or None when no message has one."""
        times = [m.at for m in self.messages if m.at is not None]
        return min(times, key=_instant) if times else None

    @cached_property
    def last_at(self) -> str | None:
        times = [m.at for m in self.messages if m.at is not None]
        return max(times, key=_instant) if times else None

    @property
    def count(self) -> int:
        """Number of entries (every kind)."""
        return len(self.messages)


@dataclass(frozen=True, slots=True)
class Options:
    """What the user told us: the zone of zone-less times, their own name, the date order."""

    tz: tzinfo
    me: str | None = None
    date_order: str | None = None
    date_order_source: str = "option"  # or "profile": where a given date_order came from
    clocks: list[Clock] = field(default_factory=list, compare=False, repr=False)

    @property
    def tz_name(self) -> str:
        return tz_name(self.tz)

    def clock(self) -> Clock:
        """A Clock in the user's zone; :func:`build` asks the parser's clocks whether any time was
        zone-less (then the zone is the user's assumption, and the exhibit says so)."""
        made = Clock(self.tz)
        self.clocks.append(made)
        return made
