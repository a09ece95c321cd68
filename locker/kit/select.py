"""Which exhibits go on a form that takes fewer images than the dispute has.

Each exhibit needs one card, a long screenshot one per slice of its slice plan (never shrunk). When
they do not all fit, exhibits are taken in this order until the form is full:

1. by what they prove (证明目的, the exhibit's ``purpose``): one exhibit for each purpose first,
   so that every point the user wants to prove keeps a picture; exhibits with no stated purpose last;
2. by kind: screenshots and photos, then chats, videos, documents, audio, other (a form's reviewer
   reads a picture at a glance);
3. by time: the earliest capture first (the story in order), then the exhibit number.

An exhibit whose cards do not fit the room left is skipped (never cut to some of its slices), and a
later, smaller one may still fit. Every exhibit left out is named with why. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

KIND_ORDER = ("screenshot", "photo", "chat", "video", "document", "audio", "other")


@dataclass(frozen=True)
class Candidate:
    number: int
    kind: str
    purpose: str | None
    captured_at: str | None  # ISO 8601 with an offset (compared as UTC instants by the caller's key)
    cards: int  # how many cards it needs
    instant: float | None = None  # captured_at as a UTC timestamp, when known


@dataclass(frozen=True)
class Chosen:
    numbers: tuple[int, ...]  # in exhibit-number order
    left_out: tuple[tuple[int, str], ...]  # (number, reason code): "no_room" | "not_asked" | "withdrawn"
    ranked: tuple[int, ...]  # the order they were considered in


def rank(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The order in which exhibits are considered (see the module's docstring)."""
    def base(c: Candidate) -> tuple[int, float, int]:
        kind = KIND_ORDER.index(c.kind) if c.kind in KIND_ORDER else len(KIND_ORDER)
        return (kind, c.instant if c.instant is not None else float("inf"), c.number)

    with_purpose = sorted((c for c in candidates if (c.purpose or "").strip()), key=base)
    without = sorted((c for c in candidates if not (c.purpose or "").strip()), key=base)
    first: list[Candidate] = []
    seen: set[str] = set()
    rest: list[Candidate] = []
    for c in with_purpose:
        key = " ".join((c.purpose or "").split()).casefold()
        if key in seen:
            rest.append(c)
        else:
            seen.add(key)
            first.append(c)
    return first + rest + without


def choose(candidates: Sequence[Candidate], room: int) -> Chosen:
    """Exhibits for ``room`` card slots."""
    order = rank(candidates)
    taken: list[int] = []
    left: list[tuple[int, str]] = []
    for c in order:
        if c.cards <= room:
            taken.append(c.number)
            room -= c.cards
        else:
            left.append((c.number, "no_room"))
    return Chosen(tuple(sorted(taken)), tuple(sorted(left)), tuple(c.number for c in order))
