"""The catalog's files: where it lives, its schema, and the switch from one generation to the next.

``$LOCKER_HOME/search/CURRENT`` names the catalog in use (``catalog-<16 hex>.sqlite``); a new
one is built beside it and published by replacing ``CURRENT`` in one rename. See
:mod:`locker.search.catalog` for what the catalog is.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

from ..db import BUSY_TIMEOUT_MS, immediate
from ..paths import Home
from .text import TOKENIZER_VERSION

CATALOG_VERSION = f"2/{TOKENIZER_VERSION}"
_NAME = re.compile(r"^catalog-[0-9a-f]{16}\.sqlite$")
STALE_GENERATION_S = 600  # an unused catalog file older than this is removed

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE dispute (
        no INTEGER PRIMARY KEY AUTOINCREMENT, slug TEXT NOT NULL UNIQUE, uuid TEXT, title TEXT, platform TEXT,
        status TEXT, created_at TEXT, head_seq INTEGER NOT NULL DEFAULT 0, head_hash TEXT NOT NULL DEFAULT '',
        generation TEXT NOT NULL DEFAULT '', max_message INTEGER NOT NULL DEFAULT 0,
        max_doc INTEGER NOT NULL DEFAULT 0, stamp TEXT NOT NULL DEFAULT '', settled INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE exhibit (dispute INTEGER NOT NULL, number INTEGER NOT NULL, kind TEXT,
        withdrawn INTEGER NOT NULL DEFAULT 0, name TEXT, PRIMARY KEY (dispute, number)) WITHOUT ROWID""",
    """CREATE TABLE doc (id INTEGER PRIMARY KEY, field TEXT NOT NULL, exhibit INTEGER, ref INTEGER, at TEXT,
        kind TEXT, text TEXT NOT NULL)""",
    "CREATE VIRTUAL TABLE fts USING fts5(t, content='', detail=full, columnsize=0, tokenize='unicode61 remove_diacritics 0')",
)


def folder(home: Home) -> Path:
    return home.root / "search"


def _connect(path: Path, *, build: bool = False) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    con.execute("PRAGMA journal_mode = WAL")
    # A cache: a power cut may lose its last commits, never its consistency; the next search re-copies.
    con.execute(f"PRAGMA synchronous = {'OFF' if build else 'NORMAL'}")
    con.execute("PRAGMA temp_store = MEMORY")
    con.execute("PRAGMA cache_size = -32000")
    return con


def create(path: Path, *, build: bool = False) -> sqlite3.Connection:
    con = _connect(path, build=build)
    with immediate(con):
        for ddl in SCHEMA:
            con.execute(ddl)
        con.execute("INSERT INTO meta (key, value) VALUES ('version', ?)", (CATALOG_VERSION,))
    path.chmod(0o600)
    return con


def new_path(home: Home) -> Path:
    where = folder(home)
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    return where / f"catalog-{_token_hex(8)}.sqlite"


def publish(home: Home, path: Path) -> None:
    """Make ``path`` the catalog, in one rename, and remove unused old ones."""
    where = folder(home)
    tmp = where / f"CURRENT.{_token_hex(4)}.tmp"
    tmp.write_text(path.name + "\n", encoding="utf-8")
    os.replace(tmp, where / "CURRENT")
    _clean(home, keep=path.name)


def _clean(home: Home, keep: str) -> None:
    now = time.time()
    try:
        entries = list(os.scandir(folder(home)))
    except OSError:
        return
    for entry in entries:
        base = entry.name.split("-wal")[0].split("-shm")[0]
        old = base != keep and (_NAME.match(base) or entry.name.endswith(".tmp"))
        try:
            if old and now - entry.stat().st_mtime > STALE_GENERATION_S:
                os.unlink(entry.path)
        except OSError:
            pass


def current_path(home: Home) -> Path | None:
    try:
        name = (folder(home) / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    path = folder(home) / name
    return path if _NAME.match(name) and path.exists() else None


def open_catalog(home: Home) -> sqlite3.Connection:
    """The current catalog, or a new empty one when it is missing, damaged or of another version
    (the next refresh fills it). Raises sqlite3.Error or OSError when the home cannot hold one."""
    path = current_path(home)
    if path is not None:
        con = None
        try:
            con = _connect(path)
            found = con.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            if found and found[0] == CATALOG_VERSION:
                return con
        except sqlite3.DatabaseError:
            pass
        if con is not None:
            con.close()
    home.ensure()
    path = new_path(home)
    con = create(path)
    publish(home, path)
    return con


def _token_hex(n: int) -> str:
    import secrets  # here: it brings hmac, hashlib and random, which most searches never need

    return secrets.token_hex(n)
