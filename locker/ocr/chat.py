"""Chat screenshots as transcripts: OCR readings in, messages out. Pure: no engine, no database.

A chat app draws the other party's bubbles from the left edge (after their avatar), the user's
own from the right edge, and centred grey lines between them: time separators ("15:21",
"昨天 15:21", "5月3日 15:21", "2025年5月3日 15:21", "星期三 15:21", "下午3:21") and system notices
("对方撤回了一条消息"). This module decides whether a reading has that layout, groups its lines into
bubbles (lines of one bubble are close together and start at the same x), gives each bubble a side,
and resolves the separators against the picture's capture date.

* A long screenshot read slice by slice is given as several :class:`Page` objects with the
  slice's vertical offset; the lines are put back in the whole picture's coordinates and a line
  read twice where slices overlap is kept once.
* Several screenshots of one conversation (:func:`merge`) become one conversation in time order,
  a message seen on two screenshots (they overlap when the user scrolled) kept once.

Entry point: :func:`messages_from_readings`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from difflib import SequenceMatcher
from typing import Any

from .chattime import is_time_line, parse_separator, parse_when, squash
from .engine import Line, Reading

ME, THEM, SYSTEM = "me", "them", "system"

# Geometry, as fractions of the picture's width (phones differ in pixels, not in proportions).
EDGE_TOLERANCE = 0.05      # a line "starts at" the left margin if within this of the leftmost start
CENTRE_TOLERANCE = 0.02    # a centred line's middle is this close to the picture's middle (OCR boxes of
                           # drawn separators are within 0.005; a bubble's line ending in "，" reads 0.03 off)
CENTRE_MAX_WIDTH = 0.6     # and it is narrower than this (a bubble line as wide would hang from a margin)
STATUS_BAR = 0.12          # the phone's status bar (clock, battery) on the first page
TITLE_BAR = 0.24           # the chat's title bar (the other party's name) on the first page
INPUT_BAR = 0.20           # the input bar at the bottom of the last page
SIDE_TOLERANCE = 0.03      # a bubble whose middle is further than this from the picture's middle hangs from that side
BUBBLE_MAX_WIDTH = 0.75    # a text line wider than this is no bubble (a page of text, a form)
EDGE_ROWS = 8              # a line this close to a slice's inner edge was cut by it (pixels)
MIN_SCORE = 0.6            # a line the engine is less sure of is a stray read (an avatar cut by a slice edge)


@dataclass(frozen=True)
class Page:
    """One reading of a screenshot, or of one slice of a long one: ``offset`` is the slice's top
    in the whole picture, ``height`` the whole picture's height (the reading's own if 0)."""

    reading: Reading
    offset: float = 0.0
    height: float = 0.0


@dataclass(frozen=True)
class Message:
    """One message read from a chat screenshot. ``side`` is ``me``, ``them`` or ``system``; ``at``
    is an ISO 8601 time with offset when a separator gave it (None before the first one, or with
    no capture date to resolve it against); ``box`` is (left, top, right, bottom) in the whole
    picture; ``shot`` says which screenshot of a merge it came from (its index, or what the caller
    gave)."""

    side: str
    text: str
    at: str | None
    box: tuple[float, float, float, float]
    score: float
    shot: Any = None
    lines: int = 1

    @property
    def me(self) -> bool:
        return self.side == ME

    @property
    def kind(self) -> str:
        return "service" if self.side == SYSTEM else "message"


@dataclass(frozen=True)
class Transcript:
    """What :func:`messages_from_readings` read: whether it is a chat at all, the title bar's
    name (the other party), and the messages in order."""

    is_chat: bool
    title: str | None
    messages: tuple[Message, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class _Placed:
    """A line in the whole picture's coordinates."""

    text: str
    left: float
    top: float
    right: float
    bottom: float
    score: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def middle(self) -> float:
        return (self.left + self.right) / 2


def _place(line: Line, offset: float) -> _Placed:
    return _Placed(line.text, line.left, line.top + offset, line.right, line.bottom + offset, line.score)


def _overlap(a: _Placed, b: _Placed) -> float:
    """Intersection over the smaller box."""
    w = min(a.right, b.right) - max(a.left, b.left)
    h = min(a.bottom, b.bottom) - max(a.top, b.top)
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a.right - a.left) * a.height, (b.right - b.left) * b.height) or 1.0
    return w * h / smaller


def placed_lines(pages: Sequence[Page]) -> tuple[list[_Placed], float, float]:
    """Every line of the pages in the whole picture's coordinates, a line read twice where slices
    overlap kept once (the better read), top to bottom; and the picture's width and height."""
    width = max((p.reading.width for p in pages), default=0)
    height = max((p.height or (p.offset + p.reading.height) for p in pages), default=0)
    lines: list[_Placed] = []
    clipped: list[bool] = []
    for page in pages:
        inner_top = page.offset > 0
        inner_bottom = page.offset + page.reading.height < height - 1
        for line in page.reading.lines:
            if not line.text.strip() or line.score < MIN_SCORE:
                continue
            new = _place(line, page.offset)
            # A line the slice's edge cut through is read in part; the slice that overlaps holds it whole.
            cut = (inner_top and line.top < EDGE_ROWS) or (inner_bottom and line.bottom > page.reading.height - EDGE_ROWS)
            twin = next((i for i, old in enumerate(lines) if _overlap(old, new) > 0.5), None)
            if twin is None:
                lines.append(new)
                clipped.append(cut)
            elif (not cut, new.score, len(new.text)) > (not clipped[twin], lines[twin].score, len(lines[twin].text)):
                lines[twin], clipped[twin] = new, cut
    lines.sort(key=lambda ln: (round(ln.top), ln.left))
    return lines, float(width), float(height)


def _is_centred(line: _Placed, width: float) -> bool:
    return (abs(line.middle - width / 2) <= CENTRE_TOLERANCE * width
            and (line.right - line.left) < CENTRE_MAX_WIDTH * width)


def _rows(lines: Sequence[_Placed]) -> list[list[_Placed]]:
    """Lines that share a row (they overlap vertically by half the smaller height)."""
    rows: list[list[_Placed]] = []
    for line in lines:
        for row in rows:
            other = row[0]
            shared = min(other.bottom, line.bottom) - max(other.top, line.top)
            if shared > 0.5 * min(other.height, line.height):
                row.append(line)
                break
        else:
            rows.append([line])
    return rows


# --------------------------------------------------------------------------- layout


@dataclass
class _Bubble:
    lines: list[_Placed]
    side: str = ""

    @property
    def left(self) -> float:
        return min(ln.left for ln in self.lines)

    @property
    def right(self) -> float:
        return max(ln.right for ln in self.lines)

    @property
    def top(self) -> float:
        return self.lines[0].top

    @property
    def bottom(self) -> float:
        return self.lines[-1].bottom


def _body(lines: list[_Placed], width: float, height: float, first: bool, last: bool) -> tuple[list[_Placed], str | None]:
    """The lines between the title bar and the input bar, and the title (the centred line of the
    title bar: the other party's name)."""
    title = None
    body = []
    for ln in lines:
        if first and ln.bottom <= STATUS_BAR * width:
            continue
        if first and ln.bottom <= TITLE_BAR * width:
            if title is None and _is_centred(ln, width) and not is_time_line(ln.text):
                title = ln.text.strip()
            continue
        if last and height and ln.top > height - INPUT_BAR * width:
            continue
        body.append(ln)
    return body, title


def _bubbles(lines: list[_Placed], width: float) -> list[_Bubble]:
    """Group lines into bubbles: a line joins the bubble above when it starts at the same x and
    the gap is less than the line height (a bubble's short last line may happen to sit in the
    middle: it joins by its start). A group whose every line is centred is a separator or notice."""
    bubbles: list[_Bubble] = []
    for ln in lines:
        if bubbles:
            prev = bubbles[-1]
            last = prev.lines[-1]
            gap = ln.top - last.bottom
            same_start = abs(ln.left - last.left) <= 0.02 * width
            if (same_start and gap < 0.8 * max(last.height, ln.height)
                    and not is_time_line(ln.text) and not is_time_line(last.text)):
                prev.lines.append(ln)
                continue
        bubbles.append(_Bubble([ln]))
    for b in bubbles:
        b.side = SYSTEM if all(_is_centred(ln, width) for ln in b.lines) else ""
    return bubbles


def _sides(bubbles: list[_Bubble], width: float) -> None:
    """Each bubble's side. A bubble hangs from the left (the other party) or from the right (the
    user), and is narrower than the space between the avatars, so its middle is left or right of
    the picture's middle; only one near the middle (a very wide bubble) is decided by which margin
    — where the bubbles start and end — it is nearer to."""
    free = [b for b in bubbles if b.side != SYSTEM]
    if not free:
        return
    tol = EDGE_TOLERANCE * width
    left_margin = min(b.left for b in free)
    right_margin = max(b.right for b in free)
    for b in free:
        middle = (b.left + b.right) / 2
        if abs(middle - width / 2) > SIDE_TOLERANCE * width:
            b.side = THEM if middle < width / 2 else ME
            continue
        at_left = b.left - left_margin <= tol
        at_right = right_margin - b.right <= tol
        if at_left and not at_right:
            b.side = THEM
        elif at_right and not at_left:
            b.side = ME
        else:
            b.side = THEM if (b.left - left_margin) <= (right_margin - b.right) else ME


def looks_like_chat(lines: Sequence[_Placed], width: float, bubbles: Sequence[_Bubble] | None = None) -> bool:
    """Bubbles — narrower than the picture, off its middle — on both sides or below a time
    separator, and few rows where a left and a right text sit side by side (that is a form: label
    on the left, value on the right, as on an order page)."""
    if width <= 0 or len(lines) < 2:
        return False
    free = [ln for ln in lines if not _is_centred(ln, width)]
    if not free:
        return False
    rows = _rows(free)
    paired = sum(1 for row in rows if any(a.middle < width / 2 for a in row)
                 and any(a.middle >= width / 2 for a in row))
    if paired > 0.25 * len(rows):
        return False
    groups = list(bubbles) if bubbles is not None else _bubbles(list(lines), width)
    talk = [b for b in groups if b.side != SYSTEM]
    shaped = [b for b in talk if b.right - b.left <= BUBBLE_MAX_WIDTH * width
              and abs((b.left + b.right) / 2 - width / 2) > CENTRE_TOLERANCE * width]
    if not talk or len(shaped) < 0.6 * len(talk):
        return False
    left = any((b.left + b.right) / 2 < width / 2 for b in shaped)
    right = any((b.left + b.right) / 2 >= width / 2 for b in shaped)
    separators = any(b.side == SYSTEM and is_time_line(_join([ln.text for ln in b.lines])) for b in groups)
    return (left and right) or separators


def read_page_messages(pages: Sequence[Page], captured: datetime | None, shot: Any = None) -> Transcript:
    """One screenshot (or the slices of one long screenshot) as a transcript."""
    if not pages:
        return Transcript(False, None)
    lines, width, height = placed_lines(pages)
    body, title = _body(lines, width, height, first=True, last=True)
    bubbles = _bubbles(body, width)
    if not looks_like_chat(body, width, bubbles):
        return Transcript(False, title)
    _sides(bubbles, width)
    messages: list[Message] = []
    when: datetime | None = None
    for b in bubbles:
        text = _join([ln.text for ln in b.lines])
        score = min(ln.score for ln in b.lines)
        box = (b.left, b.top, b.right, b.bottom)
        if b.side == SYSTEM and is_time_line(text):
            when = parse_separator(text, captured) or when
            continue
        at = when.isoformat(timespec="seconds") if when else None
        messages.append(Message(b.side, text, at, box, score, shot, len(b.lines)))
    return Transcript(True, title, tuple(messages))


def _join(parts: Sequence[str]) -> str:
    """The lines of one bubble as one text: Chinese runs on, and so do digits (a number the bubble
    wrapped, like an order number, stays whole); two Latin words the bubble wrapped between get a space."""
    out = ""
    for part in (p.strip() for p in parts):
        if out and out[-1].isascii() and out[-1].isalpha() and part[:1].isascii() and part[:1].isalpha():
            out += " "
        out += part
    return out


# --------------------------------------------------------------------------- several screenshots


def _key(m: Message) -> tuple[str, str]:
    text = re.sub(r"\s+", "", squash(m.text))
    return m.side, text


def merge(transcripts: Sequence[Transcript]) -> tuple[Message, ...]:
    """Several screenshots of one conversation as one, in time order: a run of messages that two
    screenshots share (the user scrolled less than a screen) is kept once, from the screenshot it
    appeared in first. Screenshots are taken in the order of their first known time (then as given)."""
    order = sorted(range(len(transcripts)),
                   key=lambda i: (_first_time(transcripts[i]) or "\uffff", i))
    merged: list[Message] = []
    for i in order:
        incoming = list(transcripts[i].messages)
        if not merged:
            merged = incoming
            continue
        keys_old = [_key(m) for m in merged]
        keys_new = [_key(m) for m in incoming]
        matcher = SequenceMatcher(None, keys_old, keys_new, autojunk=False)
        seen: dict[int, int] = {}
        for block in matcher.get_matching_blocks():
            if block.size == 0:
                continue
            single_timed = block.size == 1 and incoming[block.b].at is not None \
                and incoming[block.b].at == merged[block.a].at
            if block.size >= 2 or single_timed:
                for k in range(block.size):
                    seen[block.b + k] = block.a + k
        kept: list[Message] = []
        inherited = None
        for j, m in enumerate(incoming):
            if j in seen:
                inherited = merged[seen[j]].at or inherited
                continue
            if m.at is None and inherited is not None:
                m = replace(m, at=inherited)
            inherited = m.at or inherited
            kept.append(m)
        merged = _sorted(merged, kept)
    return tuple(merged)


def _first_time(t: Transcript) -> str | None:
    return next((m.at for m in t.messages if m.at), None)


def _sorted(old: list[Message], new: list[Message]) -> list[Message]:
    """Old then new, put in time order where both have a time; a message without one stays behind
    the message it followed."""
    combined = old + new
    keyed = []
    last = float("-inf")
    for n, m in enumerate(combined):
        last = _instant(m.at) if m.at else last
        keyed.append((last, n, m))
    keyed.sort(key=lambda x: (x[0], x[1]))
    return [m for _, _, m in keyed]


def _instant(at: str) -> float:
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return float("-inf")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def messages_from_readings(shots: Sequence[Sequence[Page] | Reading], captured: Sequence[datetime | None] = (),
                           ids: Sequence[Any] = ()) -> tuple[Message, ...]:
    """The messages of one conversation held as one or more screenshots, in time order, de-duplicated.

    ``shots``: each screenshot as its reading, or as the pages of a long one (:class:`Page` with
    the slice offsets). ``captured``: each screenshot's capture time (with its zone), which the
    separators are resolved against. ``ids``: what each message's ``shot`` should say (an exhibit
    number), else the screenshot's index. A screenshot that is no chat gives no messages."""
    transcripts = []
    for i, shot in enumerate(shots):
        pages = [Page(shot)] if isinstance(shot, Reading) else list(shot)
        when = captured[i] if i < len(captured) else None
        ident = ids[i] if i < len(ids) else i
        transcripts.append(read_page_messages(pages, when, ident))
    return merge([t for t in transcripts if t.is_chat])


def transcript_of(shot: Sequence[Page] | Reading, captured: datetime | None = None, ident: Any = None) -> Transcript:
    """One screenshot as a :class:`Transcript` (is it a chat, its title, its messages)."""
    pages = [Page(shot)] if isinstance(shot, Reading) else list(shot)
    return read_page_messages(pages, captured, ident)


__all__ = ["ME", "SYSTEM", "THEM", "Message", "Page", "Transcript", "is_time_line", "looks_like_chat",
           "merge", "messages_from_readings", "parse_separator", "parse_when", "placed_lines",
           "read_page_messages", "transcript_of"]
