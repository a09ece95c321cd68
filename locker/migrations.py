"""Named, ordered schema migrations for ``dispute.sqlite``.

Each migration runs in one transaction together with the row that records it
in ``schema_migrations``; ``PRAGMA user_version`` mirrors the count so that an
up-to-date database costs one pragma read to check. Never edit a released
migration: add the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .db import immediate

Migration = tuple[str, Callable[[Any], None]]


class NewerSchema(Exception):
    """The database was written by a newer locker than this one."""


CUSTODY_DDL = """CREATE TABLE custody (
    seq INTEGER PRIMARY KEY, v INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)"""


def m001_initial(cur: Any) -> None:
    cur.execute(
        """CREATE TABLE dispute (
            id TEXT PRIMARY KEY,
            slug TEXT NOT NULL,
            title TEXT NOT NULL,
            platform TEXT, merchant TEXT, merchant_address TEXT, order_id TEXT, item TEXT,
            amount TEXT, currency TEXT NOT NULL DEFAULT 'CNY', purchased_on TEXT,
            claim TEXT, summary TEXT,
            status TEXT NOT NULL DEFAULT 'open',
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"""
    )
    cur.execute(
        """CREATE TABLE exhibit (
            number INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL, size INTEGER NOT NULL, mime TEXT NOT NULL, kind TEXT NOT NULL,
            original_name TEXT NOT NULL,
            title TEXT, source TEXT, purpose TEXT, note TEXT,
            captured_at TEXT, captured_at_source TEXT, ingested_at TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}', warnings TEXT NOT NULL DEFAULT '[]',
            withdrawn BOOLEAN NOT NULL DEFAULT 0, withdrawn_reason TEXT)"""
    )
    cur.execute("CREATE UNIQUE INDEX ix_exhibit_sha256 ON exhibit (sha256)")
    cur.execute(
        """CREATE TABLE event (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, type TEXT NOT NULL DEFAULT 'note',
            description TEXT NOT NULL, exhibits TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL)"""
    )
    cur.execute(CUSTODY_DDL)
    cur.execute(
        """CREATE TABLE export (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,
            pages INTEGER NOT NULL, lang TEXT NOT NULL, exhibits TEXT NOT NULL DEFAULT '[]')"""
    )


def h001_profile_log(cur: Any) -> None:
    """The home database holds only the custody log of profile changes."""
    cur.execute(CUSTODY_DDL)


HOME_MIGRATIONS: list[Migration] = [
    ("h001_profile_log", h001_profile_log),
]

def m002_chat_messages(cur: Any) -> None:
    """Messages parsed from chat exports, one row each, in the order of the export."""
    cur.execute(
        """CREATE TABLE chat_message (
            id INTEGER PRIMARY KEY,
            exhibit INTEGER NOT NULL REFERENCES exhibit (number),
            position INTEGER NOT NULL,
            at TEXT, sender TEXT, text TEXT NOT NULL,
            me BOOLEAN NOT NULL DEFAULT 0, kind TEXT NOT NULL DEFAULT 'message',
            UNIQUE (exhibit, position))"""
    )


# The search tables as m003 made them, written out here: a released migration never changes,
# whatever locker/search/index.py becomes (a later change to them is a later migration).
M003_SEARCH_DDL = (
    """CREATE TABLE search_doc (
        id INTEGER PRIMARY KEY, field TEXT NOT NULL, exhibit INTEGER, ref INTEGER, at TEXT, text TEXT NOT NULL)""",
    "CREATE VIRTUAL TABLE search_fts USING fts5(t, content='', detail=full, columnsize=0, tokenize='unicode61 remove_diacritics 0')",
    "CREATE TABLE search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE search_todo (exhibit INTEGER PRIMARY KEY, what TEXT NOT NULL)",
)


def m003_search(cur: Any) -> None:
    """The dispute's own search index (see locker/search/index.py), filled with what the
    database holds already; PDF text is read later by `locker reindex`. The rows are tokenized
    by today's tokenizer, whose version is recorded in search_meta: an index made by another
    version is rebuilt by `locker reindex`, so the filling may follow the tokenizer."""
    from .search import index

    for ddl in M003_SEARCH_DDL:
        cur.execute(ddl)
    index.index_all(cur)


def m004_custody_head(cur: Any) -> None:
    """From here on every commit also writes custody-head.json beside the database (see
    locker/custody.py). The row says from which entry on: a dispute that has changed since
    must have that file, while one made by an older locker and untouched since may lack it."""
    cur.execute("CREATE TABLE custody_head_kept (since_seq INTEGER NOT NULL)")
    cur.execute("INSERT INTO custody_head_kept (since_seq) SELECT COALESCE(MAX(seq), 0) FROM custody")


def m006_deadlines(cur: Any) -> None:
    """A dispute's dated obligations and deadlines (``locker due``). ``due`` is ISO 8601 with an
    offset; a deadline given as a day only (``date_only``) is due at the end of that day, in the zone
    it was typed in. A deadline met is kept with ``done_at``; one removed loses its row (its custody
    entries stay). AUTOINCREMENT: a removed deadline's number is never given to another."""
    cur.execute(
        """CREATE TABLE deadline (
            id INTEGER PRIMARY KEY AUTOINCREMENT, due TEXT NOT NULL, date_only BOOLEAN NOT NULL DEFAULT 0,
            text TEXT NOT NULL, exhibits TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL, done_at TEXT)"""
    )


def m007_ocr(cur: Any) -> None:
    """Which exhibits' OCR text is in the search index, read by which engine from which object: a
    reading by another engine replaces it (see locker/search/index.py, ``index_ocr``). The text
    itself is in search_doc (field 'ocr'); the readings are derived files, never evidence."""
    cur.execute(
        """CREATE TABLE ocr_indexed (
            exhibit INTEGER PRIMARY KEY REFERENCES exhibit (number),
            sha256 TEXT NOT NULL, engine TEXT NOT NULL, lines INTEGER NOT NULL, at TEXT NOT NULL)"""
    )


def m008_ocr_messages(cur: Any) -> None:
    """Messages read from chat screenshots by OCR beside those parsed from chat exports: each says
    where it came from (``export``, the default every existing message keeps, or ``ocr``). The
    order facts read from an order page (order number, amount, shop, …) with the box of each, one
    row per exhibit, as the newest ``exhibit.transcribed`` custody entry records them."""
    cur.execute("ALTER TABLE chat_message ADD COLUMN source TEXT NOT NULL DEFAULT 'export'")
    cur.execute(
        """CREATE TABLE ocr_facts (
            exhibit INTEGER PRIMARY KEY REFERENCES exhibit (number),
            engine TEXT NOT NULL, page TEXT, platform TEXT, facts TEXT NOT NULL DEFAULT '[]',
            read_at TEXT NOT NULL)"""
    )


def m012_kits(cur: Any) -> None:
    """Upload kits made from the dispute (``locker kit``): where the folder and its ZIP were written,
    for which form, the SHA-256 of its kit.json and ZIP, and the kit.json itself (so that ``verify``
    can check it against the ``kit.created`` custody entry even after the folder is gone)."""
    cur.execute(
        """CREATE TABLE kit (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, path TEXT NOT NULL, zip_path TEXT NOT NULL,
            form TEXT NOT NULL, lang TEXT NOT NULL, manifest_sha256 TEXT NOT NULL, zip_sha256 TEXT NOT NULL,
            manifest TEXT NOT NULL)"""
    )


MIGRATIONS: list[Migration] = [
    ("m001_initial", m001_initial),
    ("m002_chat_messages", m002_chat_messages),
    ("m003_search", m003_search),
    ("m004_custody_head", m004_custody_head),
    ("m006_deadlines", m006_deadlines),
    ("m007_ocr", m007_ocr),
    ("m008_ocr_messages", m008_ocr_messages),
    ("m012_kits", m012_kits),
]


def migrate(dbapi_conn: Any, now: str, migrations: list[Migration] | None = None) -> list[str]:
    """Bring a raw sqlite3 connection (autocommit mode) up to date; return what was applied."""
    migrations = MIGRATIONS if migrations is None else migrations
    cur = dbapi_conn.cursor()
    (version,) = cur.execute("PRAGMA user_version").fetchone()
    if version == len(migrations):
        return []
    if version > len(migrations):
        raise NewerSchema(version)
    applied: list[str] = []
    with immediate(dbapi_conn):  # rolled back on any error (SQLite ends it itself on a full disk)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in cur.execute("SELECT name FROM schema_migrations")}
        for name, step in migrations:
            if name in done:
                continue
            step(cur)
            cur.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, now))
            applied.append(name)
        cur.execute(f"PRAGMA user_version = {len(migrations)}")
    return applied
