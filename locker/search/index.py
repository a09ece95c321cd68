"""The search index inside each dispute's own database (``dispute.sqlite``).

The dispute folder stays self-contained: its database holds the text to
search and its FTS5 index, written in the same transaction as the change they
index (``new``, ``add``, ``event``, ``status``, ``withdraw``), so that the index
can never disagree with the rows. Tables (migration ``m003_search``):

``search_doc (id, field, exhibit, ref, at, text)``
    searchable text other than chat messages: the dispute's fields, exhibit
    fields, timeline events, status notes, withdrawal reasons, the text
    layer of PDF documents (one row per page) and machine-read (OCR) text
    (field ``ocr``, one row per slice of a picture or page of a PDF: ``ref``
    is the page number, or minus the slice number). Append-only, except that
    an exhibit's OCR rows are replaced when it is read again by another engine
    (then the index gets a new generation, as for ``reread``).
``search_fts (t)``
    FTS5, contentless (the text lives in ``search_doc`` and ``chat_message``),
    over the tokens of :func:`locker.search.text.index_text`. Its rowid is a
    ``search_doc`` id or, for a chat message, the ``chat_message`` id.
``search_meta (key, value)``
    ``tokenizer`` (the version the index was built with) and ``generation``
    (a new random value whenever the index is rebuilt, so that the catalog
    knows to copy it afresh).
``search_todo (exhibit, what)``
    PDF exhibits of databases created before search whose text is still to
    be read (``locker reindex`` reads them).

Row ids rank the rows: ``id = tier << 52 | n``, with tier 3 for the
dispute's own fields, 2 for exhibit fields and notes, 1 for events and PDF
text, 0 for chat messages; ``n`` counts up. Walking the index by descending
rowid therefore gives the best-placed matches first, and newer before older,
without scoring every match (FTS5's bm25 over 150,000 matches took ~120 ms).

Everything here works on a DB-API (``sqlite3``) connection inside the caller's
transaction; a SQLAlchemy connection is unwrapped to the one it holds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..db import dbapi as dbapi  # the index's callers hand it either kind of connection
from ..words import DISPUTE_TEXT_FIELDS, EXHIBIT_TEXT_FIELDS, PDF_MIME
from .text import TOKENIZER_VERSION, index_text

TIER_SHIFT, DISPUTE_SHIFT = 52, 32
N_MASK = (1 << DISPUTE_SHIFT) - 1
DISPUTE_MASK = (1 << (TIER_SHIFT - DISPUTE_SHIFT)) - 1

TIER_DISPUTE, TIER_EXHIBIT, TIER_EVENT, TIER_MESSAGE = 3, 2, 1, 0



def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _doc_id(tier: int, n: int) -> int:
    return (tier << TIER_SHIFT) | n


def _max_n(con: sqlite3.Connection) -> int:
    top = 0
    for tier in (TIER_EVENT, TIER_EXHIBIT, TIER_DISPUTE):
        (found,) = con.execute("SELECT MAX(id) FROM search_doc WHERE id >= ? AND id < ?",
                               (_doc_id(tier, 0), _doc_id(tier + 1, 0))).fetchone()
        if found is not None:
            top = max(top, found & N_MASK)
    return top


Doc = tuple[int, str, Any, Any, Any, Any]  # tier, field, exhibit, ref, at, text


def _add_docs(con: sqlite3.Connection, docs: Iterable[Doc]) -> int:
    wanted = [d for d in docs if isinstance(d[5], str) and d[5].strip()]
    if not wanted:
        return 0
    n = _max_n(con) + 1
    rows = [(_doc_id(tier, n + i), field, exhibit, ref, at, text)
            for i, (tier, field, exhibit, ref, at, text) in enumerate(wanted)]
    con.executemany("INSERT INTO search_doc (id, field, exhibit, ref, at, text) VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.executemany("INSERT INTO search_fts (rowid, t) VALUES (?, ?)", [(r[0], index_text(r[5])) for r in rows])
    return len(rows)


# --- writing: one call per change, inside its transaction --------------------

def index_dispute(conn: Any, dispute: Any) -> None:
    """The dispute's own fields (on ``new``)."""
    at = _get(dispute, "purchased_on") or _get(dispute, "created_at")
    _add_docs(dbapi(conn), [(TIER_DISPUTE, f, None, None, at, _get(dispute, f)) for f in DISPUTE_TEXT_FIELDS])


def index_status_note(conn: Any, note: str | None, at: str) -> None:
    """The note given with a status change (``status --note``)."""
    _add_docs(dbapi(conn), [(TIER_EXHIBIT, "status_note", None, None, at, note)])


def index_event(conn: Any, event: Any) -> None:
    """A timeline event's description (``event``)."""
    _add_docs(dbapi(conn), [(TIER_EVENT, "event", None, _get(event, "id"), _get(event, "at"),
                             _get(event, "description"))])


def index_withdrawal(conn: Any, number: int, reason: str | None, at: str) -> None:
    """Why an exhibit was withdrawn (``withdraw``); the exhibit's own rows stay searchable."""
    _add_docs(dbapi(conn), [(TIER_EXHIBIT, "withdrawn_reason", number, None, at, reason)])


def index_exhibits(conn: Any, rows: Iterable[Any], pages: dict[int, Any] | None = None) -> None:
    """New exhibits (``add``): their fields, the text of PDF pages (``pages``: number → page
    texts, read before the transaction) and the messages of chats, already inserted."""
    con = dbapi(conn)
    rows = list(rows)
    pages = pages or {}
    docs: list[Doc] = []
    for row in rows:
        number = _get(row, "number")
        at = _get(row, "captured_at") or _get(row, "ingested_at")
        docs += [(TIER_EXHIBIT, f, number, None, at, _get(row, f)) for f in EXHIBIT_TEXT_FIELDS]
        docs += [(TIER_EVENT, "pdf_text", number, i, at, text) for i, text in enumerate(pages.get(number, ()), 1)]
    _add_docs(con, docs)
    index_messages(con, [_get(row, "number") for row in rows])


def index_messages(conn: Any, exhibits: Iterable[int]) -> int:
    """Index the stored chat messages of these exhibits."""
    con = dbapi(conn)
    count = 0
    for number in exhibits:
        found = con.execute("SELECT id, text FROM chat_message WHERE exhibit = ?", (number,))
        before = con.total_changes
        con.executemany("INSERT INTO search_fts (rowid, t) VALUES (?, ?)", ((i, index_text(t or "")) for i, t in found))
        count += con.total_changes - before
    return count


def forget_messages(conn: Any, rows: Iterable[tuple[int, str]]) -> None:
    """Take chat messages (``(id, text)`` as stored) out of the index before their rows are
    deleted (``reread``), and give the index a new generation: the catalog then copies it afresh
    instead of adding to what it has."""
    con = dbapi(conn)
    con.executemany("INSERT INTO search_fts (search_fts, rowid, t) VALUES ('delete', ?, ?)",
                    ((i, index_text(t or "")) for i, t in rows))
    _set_meta(con)


def replace_fields(conn: Any, exhibit: int | None, texts: dict[str, str | None], at: str | None) -> None:
    """Fields corrected (``edit``): the rows of each field in ``texts`` (the dispute's own when
    ``exhibit`` is None) leave the index, its new text goes in, and every row of that dispute or
    exhibit is dated ``at`` (its purchase or capture time may be what changed). The index gets a
    new generation: the catalog copies it afresh instead of keeping the old text."""
    con = dbapi(conn)
    for field, text in texts.items():
        old = con.execute("SELECT id, text FROM search_doc WHERE field = ? AND exhibit IS ?",
                          (field, exhibit)).fetchall()
        con.executemany("INSERT INTO search_fts (search_fts, rowid, t) VALUES ('delete', ?, ?)",
                        ((i, index_text(t or "")) for i, t in old))
        con.executemany("DELETE FROM search_doc WHERE id = ?", ((i,) for i, _ in old))
        tier = TIER_DISPUTE if exhibit is None else TIER_EXHIBIT
        _add_docs(con, [(tier, field, exhibit, None, at, text)])
    fields = DISPUTE_TEXT_FIELDS if exhibit is None else (*EXHIBIT_TEXT_FIELDS, "pdf_text")
    con.execute(f"UPDATE search_doc SET at = ? WHERE exhibit IS ? AND field IN ({', '.join('?' * len(fields))})",
                (at, exhibit, *fields))
    _set_meta(con)


def replace_message(conn: Any, message_id: int, old: str, new: str) -> None:
    """A chat message's text corrected (``edit --message``; its row holds ``new`` already)."""
    con = dbapi(conn)
    con.execute("INSERT INTO search_fts (search_fts, rowid, t) VALUES ('delete', ?, ?)", (message_id, index_text(old)))
    con.execute("INSERT INTO search_fts (rowid, t) VALUES (?, ?)", (message_id, index_text(new)))
    _set_meta(con)


def pdf_pages(path: Any) -> tuple[str, ...]:
    """The text layer of a PDF, one string per page (see :mod:`locker.search.pdftext`)."""
    from .pdftext import pages

    return pages(path)


def ocr_engines(conn: Any) -> dict[int, tuple[str, str]]:
    """Exhibit number → (sha256, engine) of the OCR readings in the index (table ``ocr_indexed``)."""
    return {n: (sha, eng) for n, sha, eng in dbapi(conn).execute("SELECT exhibit, sha256, engine FROM ocr_indexed")}


def index_ocr(conn: Any, number: int, sha256: str, engine: str, parts: Iterable[tuple[int, str]],
              lines: int, at: str) -> None:
    """Index the OCR text of exhibit ``number`` (``parts``: (ref, text), ref the page number or minus the
    slice number), replacing what an earlier reading put there."""
    con = dbapi(conn)
    old = con.execute("SELECT id, text FROM search_doc WHERE field = 'ocr' AND exhibit = ?", (number,)).fetchall()
    if old:
        con.executemany("INSERT INTO search_fts (search_fts, rowid, t) VALUES ('delete', ?, ?)",
                        [(i, index_text(t or "")) for i, t in old])
        con.execute("DELETE FROM search_doc WHERE field = 'ocr' AND exhibit = ?", (number,))
        # Rows went away: the catalog must copy this index afresh, not add to what it has.
        con.execute("INSERT OR REPLACE INTO search_meta (key, value) VALUES ('generation', ?)", (_token_hex(8),))
    found = con.execute("SELECT captured_at, ingested_at FROM exhibit WHERE number = ?", (number,)).fetchone()
    when = (found[0] or found[1]) if found else at
    _add_docs(con, [(TIER_EVENT, "ocr", number, ref, when, text) for ref, text in parts])
    con.execute("INSERT OR REPLACE INTO ocr_indexed (exhibit, sha256, engine, lines, at) VALUES (?, ?, ?, ?, ?)",
                (number, sha256, engine, lines, at))


# --- whole-database operations -----------------------------------------------

def _set_meta(con: sqlite3.Connection) -> None:
    con.executemany("INSERT OR REPLACE INTO search_meta (key, value) VALUES (?, ?)",
                    [("tokenizer", TOKENIZER_VERSION), ("generation", _token_hex(8))])


def index_all(conn: Any) -> None:
    """Index what a database holds already (a database made before search): the dispute, its
    exhibits and chat messages, events, status notes and withdrawal reasons, in the order they
    happened. PDF text needs the files: those exhibits go to ``search_todo``."""
    con = dbapi(conn)
    _set_meta(con)
    names: tuple[str, ...] = ("id", *DISPUTE_TEXT_FIELDS, "purchased_on", "created_at")
    row = con.execute(f"SELECT {', '.join(names)} FROM dispute").fetchone()
    if row is not None:
        index_dispute(con, dict(zip(names, row)))
    names = ("number", *EXHIBIT_TEXT_FIELDS, "captured_at", "ingested_at", "mime")
    exhibits = [dict(zip(names, r)) for r in con.execute(f"SELECT {', '.join(names)} FROM exhibit ORDER BY number")]
    index_exhibits(con, exhibits)
    con.executemany("INSERT OR IGNORE INTO search_todo (exhibit, what) VALUES (?, 'pdf_text')",
                    [(e["number"],) for e in exhibits if e["mime"] == PDF_MIME])
    for event_id, at, description in con.execute("SELECT id, at, description FROM event ORDER BY id").fetchall():
        index_event(con, {"id": event_id, "at": at, "description": description})
    changes = con.execute("SELECT at, action, payload FROM custody WHERE action IN ('dispute.status', "
                          "'exhibit.withdrawn') ORDER BY seq").fetchall()
    for at, action, payload in changes:
        try:
            doc = json.loads(payload)
        except ValueError:
            continue
        if action == "dispute.status":
            index_status_note(con, doc.get("note"), at)
        else:
            index_withdrawal(con, doc.get("exhibit"), doc.get("reason"), at)


def rebuild_fts(conn: Any) -> None:
    """Tokenize everything again (another tokenizer version): the text rows stay as they are."""
    con = dbapi(conn)
    con.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
    for table in ("search_doc", "chat_message"):
        found = con.execute(f"SELECT id, text FROM {table}").fetchall()
        con.executemany("INSERT INTO search_fts (rowid, t) VALUES (?, ?)", [(i, index_text(t or "")) for i, t in found])
    _set_meta(con)


def meta(conn: Any) -> dict[str, str]:
    return dict(dbapi(conn).execute("SELECT key, value FROM search_meta").fetchall())


def todo(conn: Any) -> list[tuple[int, str]]:
    """(exhibit number, sha256) of the PDFs whose text is still to be read."""
    return dbapi(conn).execute(
        "SELECT t.exhibit, e.sha256 FROM search_todo t JOIN exhibit e ON e.number = t.exhibit ORDER BY t.exhibit"
    ).fetchall()


def fill_pdf(conn: Any, number: int, pages: Iterable[str]) -> None:
    """Index a PDF exhibit's page texts read after the fact and strike it from the to-do list."""
    con = dbapi(conn)
    found = con.execute("SELECT captured_at, ingested_at FROM exhibit WHERE number = ?", (number,)).fetchone()
    if found is not None:
        at = found[0] or found[1]
        _add_docs(con, [(TIER_EVENT, "pdf_text", number, i, at, text) for i, text in enumerate(pages, 1)])
    con.execute("DELETE FROM search_todo WHERE exhibit = ?", (number,))


# --- reading -------------------------------------------------------------------

@dataclass(frozen=True)
class State:
    """What the catalog records of a dispute database to tell later whether it changed."""

    uuid: str | None
    slug: str | None
    title: str | None
    platform: str | None
    status: str | None
    created_at: str | None
    head_seq: int
    head_hash: str
    generation: str
    tokenizer: str
    max_message: int
    max_doc: int


def state(conn: Any) -> State:
    con = dbapi(conn)
    found: tuple[Any, ...] = con.execute(
        "SELECT id, slug, title, platform, status, created_at FROM dispute").fetchone() or (None,) * 6
    head = con.execute("SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1").fetchone() or (0, "")
    info = meta(con)
    (max_message,) = con.execute("SELECT COALESCE(MAX(id), 0) FROM chat_message").fetchone()
    uuid, slug, title, platform, status, created_at = found
    return State(uuid, slug, title, platform, status, created_at, head[0], head[1], info.get("generation", ""),
                 info.get("tokenizer", ""), max_message, _max_n(con))


def custody_hash(conn: Any, seq: int) -> str | None:
    found = dbapi(conn).execute("SELECT hash FROM custody WHERE seq = ?", (seq,)).fetchone()
    return found[0] if found else None


Row = tuple[int, str, Any, Any, Any, Any, str]  # id, field, exhibit, ref, at, kind, text

# A message machine-read from a screenshot (OCR) is found as field ``ocr_message``: flagged as such.
_MESSAGES = """SELECT m.id, CASE m.source WHEN 'ocr' THEN 'ocr_message' ELSE 'message' END, m.exhibit, m.position, COALESCE(m.at, e.captured_at, e.ingested_at), e.kind, m.text
    FROM chat_message m JOIN exhibit e ON e.number = m.exhibit"""
_DOCS = """SELECT d.id, d.field, d.exhibit, d.ref, d.at, e.kind, d.text
    FROM search_doc d LEFT JOIN exhibit e ON e.number = d.exhibit"""


def rows_after(conn: Any, after_message: int, after_doc: int) -> Iterator[Row]:
    """Every searchable row added after these marks (0, 0: all of them), by id within each kind."""
    con = dbapi(conn)
    yield from con.execute(f"{_MESSAGES} WHERE m.id > ? ORDER BY m.id", (after_message,))
    for tier in (TIER_EVENT, TIER_EXHIBIT, TIER_DISPUTE):
        yield from con.execute(f"{_DOCS} WHERE d.id > ? AND d.id < ? ORDER BY d.id",
                               (_doc_id(tier, after_doc), _doc_id(tier + 1, 0)))


def rows_by_id(conn: Any, ids: list[int]) -> dict[int, Row]:
    """The rows behind FTS rowids of this dispute's own index."""
    con = dbapi(conn)
    out: dict[int, Row] = {}
    messages = [i for i in ids if i >> TIER_SHIFT == TIER_MESSAGE]
    docs = [i for i in ids if i >> TIER_SHIFT != TIER_MESSAGE]
    for sql, wanted in ((f"{_MESSAGES} WHERE m.id IN", messages), (f"{_DOCS} WHERE d.id IN", docs)):
        if wanted:
            marks = ", ".join("?" * len(wanted))
            out.update((r[0], r) for r in con.execute(f"{sql} ({marks})", wanted))
    return out


def exhibits(conn: Any) -> list[tuple[int, str, bool, str]]:
    """(number, kind, withdrawn, name) of every exhibit."""
    return [(n, kind, bool(w), title or name) for n, kind, w, title, name in dbapi(conn).execute(
        "SELECT number, kind, withdrawn, title, original_name FROM exhibit ORDER BY number")]


def tier_of(row_id: int) -> int:
    return row_id >> TIER_SHIFT


def _token_hex(n: int) -> str:
    import secrets  # here: it brings hmac, hashlib and random, which most searches never need

    return secrets.token_hex(n)
