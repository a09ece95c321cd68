"""What OCR read, turned into meaning and kept: chat screenshots as machine-read messages, order
pages as order facts; and the dispute fields those facts can fill.

* :func:`transcribe` reads exhibits (or takes readings the OCR pipeline made: ``readings``),
  reads chat screenshots into messages (several screenshots of one conversation — same title
  bar — merged in time order, a message two of them show kept once, under the exhibit that shows
  it first) and order pages into facts, and stores both in one transaction with one
  ``exhibit.transcribed`` custody entry per exhibit whose reading changed. The messages are
  ``chat_message`` rows with ``source = 'ocr'``, positions 1…n in time order, so that
  ``locker edit DISPUTE N --message K`` names one of them; they are searchable (field
  ``ocr_message``) and ``verify`` checks them against the entry.
* :func:`propose_fields` (in services.ocrfields, re-exported) says which empty dispute fields
  exhibit N's facts would fill, and which it would not touch because they hold a value (``locker
  edit DISPUTE --from-exhibit N``).
* :func:`read_file` reads a screenshot that is not in the locker yet (``locker new
  --from-screenshot FILE``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import custody, db, domain
from ..errors import LockerError, NotFound, UsageError
from ..i18n import _
from ..paths import Home
from ..values import now_utc
from . import chat as chat_service
from .ocrfields import Proposal as Proposal
from .ocrfields import facts_view as facts_view
from .ocrfields import fields_from_facts as fields_from_facts
from .ocrfields import from_screenshot_fields as from_screenshot_fields
from .ocrfields import propose_fields as propose_fields
from .ocrfields import stored_facts as stored_facts

#: What a message read by OCR says it came from (``chat_message.source``).
OCR = "ocr"
#: The sender recorded for the user's own (right-hand) bubbles; the other party is the chat's title.
ME_SENDER = "我"
#: Exhibit kinds OCR reads.
PICTURE_KINDS = ("screenshot", "photo")

Pages = Sequence[Any]  # of locker.ocr.chat.Page


@dataclass(frozen=True)
class ExhibitReading:
    """What was read from one exhibit and stored."""

    exhibit: int
    layout: str                 # chat | order | other
    title: str | None           # a chat's title bar: the other party
    messages: int               # machine-read messages stored under this exhibit
    facts: Mapping[str, str]    # name -> value
    changed: bool               # a new custody entry was written


@dataclass(frozen=True)
class Transcribed:
    slug: str
    exhibits: tuple[ExhibitReading, ...]
    skipped: tuple[tuple[int, str], ...]  # (exhibit, why)


# --------------------------------------------------------------------------- reading pictures


#: A long picture is read in windows this many widths tall, overlapping by OVERLAP widths (more than a
#: line of text is tall, so that every line is whole in one window).
WINDOW, OVERLAP = 1.5, 0.15


def windows(width: int, height: int) -> list[tuple[int, int]]:
    """(top, bottom) of the windows a picture is read in: one for a phone-shaped picture."""
    if height < domain.LONG_RATIO * width:
        return [(0, height)]
    size, step = round(WINDOW * width), round((WINDOW - OVERLAP) * width)
    count = math.ceil((height - size) / step) + 1  # evenly spread: each overlaps the next by >= OVERLAP
    tops = [round(k * (height - size) / (count - 1)) for k in range(count)]
    return [(top, top + size) for top in tops]


def read_picture(path: Path) -> list[Any]:
    """The pages of one picture as the engine reads them: a long screenshot in overlapping windows,
    each page with its offset. Used until the OCR pipeline hands its readings in."""
    from PIL import Image, ImageOps

    from ..ocr import engine
    from ..ocr.chat import Page

    with Image.open(path) as opened:
        img = ImageOps.exif_transpose(opened)
        img.load()
    width, height = img.size
    return [Page(engine.read(img.crop((0, top, width, bottom)) if (top, bottom) != (0, height) else img),
                 float(top), float(height)) for top, bottom in windows(width, height)]


def pages_from_manifest(manifest: Mapping[str, Any]) -> list[Any]:
    """The pages of a reading filed by the OCR pipeline (``services.ocr``: ``{"engine", "width",
    "height", "parts": [{"slice", "top", "bottom"}], "lines": [{"text", "box", "score", "slice"}]}``,
    boxes in the whole picture) as :func:`transcribe` takes them: one page per slice, its lines back
    in the slice's own coordinates, so that a line a slice edge cut is known as such."""
    from ..ocr.chat import Page
    from ..ocr.engine import Line, Reading

    engine_id = str(manifest.get("engine") or "")
    width, height = int(manifest.get("width") or 0), int(manifest.get("height") or 0)
    parts = [p for p in manifest.get("parts") or () if isinstance(p, dict) and "slice" in p] or \
        [{"slice": 1, "top": 0, "bottom": height}]
    pages = []
    for part in parts:
        top, bottom = float(part.get("top") or 0), float(part.get("bottom") or height)
        lines = []
        for raw in manifest.get("lines") or ():
            if not isinstance(raw, dict) or int(raw.get("slice", 1)) != int(part["slice"]):
                continue
            corners = tuple((float(x), float(y) - top) for x, y in raw["box"])
            lines.append(Line(str(raw.get("text") or ""), corners, float(raw.get("score") or 0)))  # type: ignore[arg-type]
        lines.sort(key=lambda ln: (round(ln.top), ln.left))
        pages.append(Page(Reading(engine_id, width, int(bottom - top), tuple(lines)), top, float(height)))
    return pages


def read_file(path: str | Path) -> Any:
    """The order facts of a screenshot outside the locker (``new --from-screenshot``): an
    :class:`~locker.ocr.facts.OrderFacts`, and the pages read (to be stored with the exhibit
    without reading it again)."""
    from ..ocr.facts import facts_from_reading

    p = Path(path)
    if not p.is_file():
        raise UsageError(_("{path}: no such file").format(path=p))
    try:
        pages = read_picture(p)
    except (OSError, ValueError) as err:
        raise LockerError(_("{path}: cannot be read as a picture: {reason}").format(path=p, reason=err), path=str(p)) from None
    found = facts_from_reading(_whole(pages), require_title=False)
    return found, pages


def _whole(pages: Pages) -> Any:
    """The pages of one picture as one reading, lines in the whole picture's coordinates."""
    from ..ocr.chat import placed_lines
    from ..ocr.engine import Line, Reading

    placed, width, height = placed_lines(pages)
    lines = tuple(Line(p.text, ((p.left, p.top), (p.right, p.top), (p.right, p.bottom), (p.left, p.bottom)),
                       p.score) for p in placed)
    engine_id = pages[0].reading.engine if pages else ""
    return Reading(engine=engine_id, width=int(width), height=int(height), lines=lines)


# --------------------------------------------------------------------------- transcribe


def transcribe(home: Home, ref: str, numbers: Sequence[int] = (), *,
               readings: Mapping[int, Pages] | None = None,
               reader: Callable[[Path], Pages] | None = None) -> Transcribed:
    """Read the dispute's pictures (``numbers``, else every screenshot and photo not withdrawn) into
    machine-read messages and order facts, and store what changed.

    ``readings``: pages already read by the OCR pipeline, by exhibit number (a picture without one
    is read here with ``reader``, default :func:`read_picture`).

    On a plain sqlite3 connection (:func:`locker.db.connect_writer`), as ``locker add`` writes: this
    runs at the end of every ``locker ocr``, and SQLAlchemy/SQLModel's import alone is ~0.9 CPU-s, a
    third of the time one screenshot may take (issue 12)."""
    opened = _Opened(home.locate(ref))
    try:
        return _transcribe(home, opened, numbers, readings, reader)
    finally:
        opened.close()


@dataclass(frozen=True)
class _ExhibitRow:
    """The columns of an exhibit that transcribing needs."""

    number: int
    kind: str
    withdrawn: bool
    mime: str
    sha256: str
    captured_at: str | None


class _Opened:
    """A dispute folder with a plain sqlite3 connection (WAL, ``synchronous = FULL``, foreign keys: as
    :func:`locker.db.engine_for`'s), opened once for the reads and the one write transaction."""

    def __init__(self, ddir: Any) -> None:
        self.dir = ddir
        self.con = db.connect_writer(ddir.db)

    @property
    def slug(self) -> str:
        return str(self.dir.slug)

    def close(self) -> None:
        self.con.close()


def _transcribe(home: Home, opened: _Opened, numbers: Sequence[int], readings: Mapping[int, Pages] | None,
                reader: Callable[[Path], Pages] | None) -> Transcribed:
    from ..ocr.chat import merge, parse_when, transcript_of
    from ..ocr.facts import facts_from_reading
    from ..values import resolve_tz
    from . import profile

    con = opened.con
    con.execute("BEGIN")  # one consistent snapshot for both reads
    try:
        rows = [_ExhibitRow(n, kind, bool(w), mime, sha, at) for n, kind, w, mime, sha, at in con.execute(
            "SELECT number, kind, withdrawn, mime, sha256, captured_at FROM exhibit ORDER BY number")]
        export_chats = {n for (n,) in con.execute(
            "SELECT DISTINCT exhibit FROM chat_message WHERE source != ?", (OCR,))}
    finally:
        con.execute("COMMIT")
    by_number = {r.number: r for r in rows}
    for n in numbers:
        if n not in by_number:
            raise NotFound(_("{slug} has no exhibit {n}").format(slug=opened.slug, n=n))
    chosen = [by_number[n] for n in numbers] if numbers else \
        [r for r in rows if r.kind in PICTURE_KINDS and not r.withdrawn]
    skipped: list[tuple[int, str]] = []
    zone = resolve_tz(profile.load(home).tz)
    read = reader or read_picture
    shots: dict[int, Any] = {}
    orders: dict[int, Any] = {}
    engines: dict[int, str] = {}
    for row in chosen:
        if row.number in export_chats or row.kind == "chat":
            skipped.append((row.number, "a chat export: its messages were parsed, not read"))
            continue
        if not row.mime.startswith("image/"):
            skipped.append((row.number, "not a picture"))
            continue
        pages = (readings or {}).get(row.number)
        if pages is None:
            path = chat_service._intact_object(opened.dir.object_path(row.sha256), row.sha256, row.number)
            try:
                pages = read(path)
            except (OSError, ValueError) as err:
                skipped.append((row.number, f"cannot be read as a picture: {err}"))
                continue
        engines[row.number] = pages[0].reading.engine if pages else ""
        found = facts_from_reading(_whole(pages))
        orders[row.number] = found
        if found.page is None:  # an order page's labels and values can look like two sides of a chat
            shot = transcript_of(pages, parse_when(row.captured_at, zone), row.number)
            if shot.is_chat:
                shots[row.number] = shot
    messages = _conversations(shots, merge)
    for number in corrected(opened, engines):  # a person's correction is never overwritten by a machine
        for table in (engines, shots, messages, orders):
            table.pop(number, None)
        skipped.append((number, "its machine-read messages were corrected since they were read (locker edit): "
                                "not read again"))
    results = _store(opened, engines, shots, messages, orders)
    return Transcribed(opened.slug, tuple(results), tuple(sorted(skipped)))


def corrected(opened: Any, numbers: Any) -> list[int]:
    """The exhibits among ``numbers`` whose stored messages are no longer those their newest
    ``exhibit.transcribed`` entry recorded: a correction (``locker edit --message``) came after."""

    out = []
    con = opened.con
    newest: dict[int, domain.ExhibitTranscribed] = {}
    for action, payload in con.execute("SELECT action, payload FROM custody WHERE action = ? ORDER BY seq",
                                       (domain.EXHIBIT_TRANSCRIBED,)):
        try:
            reading = domain.read_entry(action, json.loads(payload))
        except ValueError:
            continue
        if isinstance(reading, domain.ExhibitTranscribed) and reading.exhibit is not None:
            newest[reading.exhibit] = reading
    for number in numbers:
        entry = newest.get(number)
        if entry is None or entry.messages is None or not entry.messages.count:
            continue
        if chat_service.stored_digests_of(con, number) != entry.messages.sha256:
            out.append(number)
    return sorted(out)


def _conversations(shots: Mapping[int, Any], merge: Callable[[Sequence[Any]], tuple[Any, ...]]) -> dict[int, list[Any]]:
    """The messages to store under each exhibit: screenshots with the same title bar are one
    conversation, merged in time order with overlaps kept once (under the first exhibit showing them)."""
    groups: dict[str, list[Any]] = {}
    for number, shot in shots.items():
        key = shot.title or f"#{number}"
        groups.setdefault(key, []).append(shot)
    out: dict[int, list[Any]] = {n: [] for n in shots}
    for members in groups.values():
        for m in merge(members):
            out[m.shot].append(m)
    return out


@dataclass(frozen=True)
class _MessageRow:
    """One ``chat_message`` row to store (the columns :func:`chat_service.digest` reads, and ``source``)."""

    exhibit: int
    position: int
    at: str | None
    sender: str | None
    text: str
    me: bool
    kind: str
    source: str = OCR


def _rows_of(number: int, title: str | None, messages: Sequence[Any]) -> list[_MessageRow]:
    rows = []
    for k, m in enumerate(messages, 1):
        sender = None if m.side == "system" else ME_SENDER if m.me else title
        rows.append(_MessageRow(exhibit=number, position=k, at=m.at, sender=sender, text=m.text, me=m.me,
                                kind=m.kind))
    return rows


def _fact_dicts(found: Any) -> list[dict[str, Any]]:
    return [f.as_dict() for f in found.facts] if found is not None else []


def _store(opened: Any, engines: Mapping[int, str], shots: Mapping[int, Any], messages: Mapping[int, list[Any]],
           orders: Mapping[int, Any]) -> list[ExhibitReading]:
    from ..search import index as search_index

    now = now_utc()
    results: list[ExhibitReading] = []
    con = opened.con
    with db.writing_dbapi(con, opened.dir.db):
        entries: list[domain.Entry] = []
        for number, engine_id in engines.items():
            shot = shots.get(number)
            found = orders.get(number)
            rows = _rows_of(number, shot.title if shot else None, messages.get(number, []))
            facts = _fact_dicts(found)
            page = found.page if found is not None and facts else None
            platform = found.platform if found is not None and facts else None
            digest = chat_service.digest(rows)
            old = con.execute("SELECT COUNT(*) FROM chat_message WHERE exhibit = ?", (number,)).fetchone()[0]
            stored = stored_facts(con, number)
            same_messages = old == len(rows) and chat_service.stored_digests_of(con, number) == digest
            same_facts = stored is not None and stored["facts"] == facts
            layout = "chat" if shot else "order" if facts else "other"
            fact_values = {f["name"]: f["value"] for f in facts}
            title = shot.title if shot else None
            if same_messages and (same_facts or (stored is None and not facts)):
                results.append(ExhibitReading(number, layout, title, len(rows), fact_values, False))
                continue
            old_rows = con.execute("SELECT id, text FROM chat_message WHERE exhibit = ?", (number,)).fetchall()
            search_index.forget_messages(con, old_rows)
            con.execute("DELETE FROM chat_message WHERE exhibit = ?", (number,))
            con.executemany(
                "INSERT INTO chat_message (exhibit, position, at, sender, text, me, kind, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.exhibit, r.position, r.at, r.sender, r.text, r.me, r.kind, r.source) for r in rows])
            search_index.index_messages(con, [number])
            con.execute("DELETE FROM ocr_facts WHERE exhibit = ?", (number,))
            con.execute("INSERT INTO ocr_facts (exhibit, engine, page, platform, facts, read_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (number, engine_id, page, platform, json.dumps(facts, ensure_ascii=False), now))
            entries.append(domain.exhibit_transcribed(
                number, engine=engine_id, messages=domain.MessagesDigest(len(rows), digest), page=page,
                platform=platform, facts=facts))
            results.append(ExhibitReading(number, layout, title, len(rows), fact_values, True))
        if entries:
            con.execute("UPDATE dispute SET updated_at = ?", (now,))
            custody.append(con, now, entries)
    custody.publish_head(opened.dir.root, con)  # as disputes.recording does after its commit
    return results


# --------------------------------------------------------------------------- verify


def check(conn: Any, readings: Sequence[domain.Reading]) -> list[tuple[int | None, str, str]]:
    """What ``verify`` adds for machine-read data: each exhibit's stored facts say what its newest
    ``exhibit.transcribed`` entry recorded, and its messages are marked machine-read exactly when
    such an entry recorded them. (The messages' digest is checked with the other messages'.)
    Returns (exhibit, problem, detail)."""
    from ..search import index as search_index

    con = search_index.dbapi(conn)
    newest: dict[int | None, domain.ExhibitTranscribed] = {}
    for reading in readings:
        if isinstance(reading, domain.ExhibitTranscribed):
            newest[reading.exhibit] = reading
    problems: list[tuple[int | None, str, str]] = []
    stored = {n: stored_facts(con, n) for (n,) in con.execute("SELECT exhibit FROM ocr_facts")}
    for number, entry in newest.items():
        if not isinstance(number, int):
            continue
        row = stored.pop(number, None)
        recorded = [dict(f) for f in entry.facts or ()]
        if row is None:
            if recorded:
                problems.append((number, "row_missing", _("the custody log records order facts read from it, but they are gone")))
        elif row["facts"] != recorded or row["page"] != entry.page or row["platform"] != entry.platform:
            problems.append((number, "row_altered", _("its machine-read order facts differ from its custody entry")))
    for number in sorted(stored):
        problems.append((number, "row_unrecorded", _("machine-read order facts that no custody entry records")))
    sources = dict(con.execute(
        "SELECT exhibit, GROUP_CONCAT(DISTINCT source) FROM chat_message GROUP BY exhibit").fetchall())
    for number, found in sorted(sources.items()):
        want = OCR if number in newest else "export"
        if found != want:
            problems.append((number, "messages_altered",
                             _("its messages are marked {found}, the custody log says {recorded}").format(
                                 found=repr(found), recorded=repr(want))))
    return problems
