"""What one group of an add writes in its transaction (``locker add``'s third step, see
services.ingest): the exhibit rows, chat messages, search rows and custody entries of the new
files, and what the add reports of each file, a duplicate of a held exhibit included.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..values import clean_text, zone_assumed
from .stage import AddOptions, StagedFile

if TYPE_CHECKING:
    from .. import domain


@dataclass(frozen=True)
class Added:
    exhibit: int
    sha256: str
    size: int
    mime: str
    kind: str
    original_name: str
    captured_at: str | None
    captured_at_source: str | None
    duplicate: bool
    warnings: tuple[str, ...]
    path: str
    zone_assumed: str | None = None  # the zone put on a capture time that named none (see values.zone_assumed)
    edited: tuple[str, ...] = ()  # held already: the fields the add's --title/--source/--purpose/--note changed



@dataclass
class Rows:
    """What one group's transaction writes besides the custody entries."""

    exhibits: list[dict[str, Any]] = field(default_factory=list)
    chats: list[tuple[int, list[Any]]] = field(default_factory=list)
    pages: dict[int, tuple[str, ...]] = field(default_factory=dict)
    entries: list[domain.Entry] = field(default_factory=list)


def record(conn: sqlite3.Connection, slug: str, group: list[StagedFile], options: AddOptions,
            user_time: str | None, now: str) -> list[Added]:
    """The group's exhibit rows, chat messages, search rows and custody entries, inside the caller's
    transaction; a file whose content the dispute holds already is reported as that exhibit."""
    from .. import custody, warncodes
    from ..search import index as search_index
    from . import chat, edit
    shas = sorted({item.staged.sha256 for item in group if item.staged})
    known: dict[str, Added] = {}
    stored = conn.execute(
        "SELECT number, sha256, size, mime, kind, original_name, captured_at, captured_at_source, warnings, "
        f"metadata FROM exhibit WHERE sha256 IN ({', '.join('?' * len(shas))})", shas)
    for number_, sha256, size, mime, kind, name, captured_at, source, warnings, metadata in stored:
        known[sha256] = Added(number_, sha256, size, mime, kind, name, captured_at, source, True,
                              warncodes.loads(warnings), "", zone_assumed(source, metadata))
    number = (conn.execute("SELECT COALESCE(MAX(number), 0) FROM exhibit").fetchone()[0] or 0) + 1
    out = Rows()
    results: list[Added] = []
    for item in group:
        assert item.staged is not None
        path = clean_text(str(item.candidate.path))
        held = known.get(item.staged.sha256)
        if held is not None:  # its descriptions, if given, are applied to it as an edit
            edited = edit.apply_to_held(conn, held.exhibit, title=options.title, source=options.source,
                                        purpose=options.purpose, note=options.note, now=now)
            results.append(dataclasses.replace(held, duplicate=True, path=path, edited=edited))
            continue
        made = new_exhibit(item, number, slug, options, user_time, now, out)
        known[made.sha256] = made
        results.append(dataclasses.replace(made, path=path))
        number += 1
    if out.exhibits:
        columns = list(out.exhibits[0])
        conn.executemany(f"INSERT INTO exhibit ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})",
                         out.exhibits)
        for number_, messages in out.chats:
            chat.insert(conn, number_, messages)
        search_index.index_exhibits(conn, out.exhibits, out.pages)
        conn.execute("UPDATE dispute SET updated_at = ?", (now,))
        custody.append(conn, now, out.entries)
    return results


def new_exhibit(item: StagedFile, number: int, slug: str, options: AddOptions, user_time: str | None, now: str,
                 out: Rows) -> Added:
    """The row and custody entry of one new exhibit, onto ``out``; what ``add`` reports of it."""
    from .. import domain, warncodes
    from . import chat
    staged, found, chat_import = item.staged, item.probe, item.chat
    assert staged is not None
    kind = options.kind or ("chat" if chat_import else found.kind)
    if kind == "chat" and found.kind == "chat" and chat_import is None:
        kind = "other"  # it looked like a chat but could not be read as one (see its warning)
    captured_at, source = found.captured_at, found.captured_at_source
    if chat_import and chat_import.captured_at:
        captured_at, source = chat_import.captured_at, "chat"
    if user_time:
        captured_at, source = user_time, "user"
    metadata = dict(found.metadata)
    if item.candidate.symlink_target is not None:
        metadata["symlink_target"] = clean_text(item.candidate.symlink_target)
    if chat_import:
        metadata.update(chat_import.metadata)
    if options.channel is not None:  # how it came in (the web app): shown with it, recorded in its entry
        metadata.update(options.channel.as_metadata())
    warnings = chat.with_reread_command(item.warnings, slug, number)  # the exact reread command
    row = {
        "number": number, "sha256": staged.sha256, "size": staged.size, "mime": found.mime,
        "kind": kind, "original_name": clean_text(item.candidate.path.name), "title": options.title,
        "source": options.source, "purpose": options.purpose, "note": options.note,
        "captured_at": captured_at, "captured_at_source": source, "ingested_at": now,
        "metadata": json.dumps(metadata, ensure_ascii=False, sort_keys=True),
        "warnings": json.dumps(warncodes.stored(warnings), ensure_ascii=False),  # codes with parameters
        "withdrawn": False, "withdrawn_reason": None,
    }
    out.exhibits.append(row)
    digest = None
    if chat_import:
        digest = domain.MessagesDigest(len(chat_import.messages), chat_import.digest)
        out.chats.append((number, chat_import.messages))
    if item.pages:
        out.pages[number] = item.pages
    out.entries.append(domain.exhibit_added(row, digest, options.channel))
    return Added(number, staged.sha256, staged.size, found.mime, kind, row["original_name"], captured_at, source,
                 False, warnings, "", zone_assumed(source, metadata))
