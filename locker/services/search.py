"""``locker search`` and ``locker reindex``: find text across every dispute, rebuild the catalog.

Searching all disputes goes through the catalog in the home (one FTS5 index,
refreshed first from whatever changed); ``--dispute`` searches that dispute's
own index. Both go through the same query, filters and ranking. When the home
cannot hold a catalog (a read-only copy, say), every dispute's own index is
searched in turn: slower, same answers.

Only the standard library's sqlite3 is used here: a search never imports
SQLAlchemy or SQLModel (about 0.8 s of start-up).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..db import connect, immediate
from ..errors import UsageError
from ..i18n import _
from ..paths import Home
from ..search import catalog, index
from ..search import text as search_text
from ..values import parse_date
from ..words import KINDS, STATUSES

DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class Hit:
    dispute: str
    dispute_title: str | None
    exhibit: int | None
    field: str
    at: str | None
    snippet: tuple[tuple[str, bool], ...]  # (text, is_match) segments
    withdrawn: bool = False
    ref: int | None = None  # what the row's ref says: a PDF page, an OCR page (+n) or slice (-n), …

    @property
    def snippet_text(self) -> str:
        return "".join(segment for segment, _ in self.snippet)


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[Hit, ...]
    more: bool  # there were more hits than the limit
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReindexResult:
    disputes: int
    documents: int
    pdfs_read: int
    seconds: float
    catalog: Path
    problems: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _filters(platform: str | None, status: str | None, kind: str | None, since: str | None,
             until: str | None) -> catalog.Filters:
    if status and status not in STATUSES:
        raise UsageError(_("status must be one of {choices}, not {status!r}").format(choices=', '.join(STATUSES), status=status))
    if kind and kind not in KINDS:
        raise UsageError(_("kind must be one of {choices}, not {kind!r}").format(choices=', '.join(KINDS), kind=kind))
    since = parse_date(since) if since else None
    until = parse_date(until) if until else None
    if since and until and since > until:
        raise UsageError(_("--since {since} is after --until {until}").format(since=since, until=until))
    return catalog.Filters(platform=(platform or "").strip() or None, status=status, kind=kind,
                           since=since, until=until)


def parse_query(query: str) -> search_text.Query:
    """The query, or a UsageError saying why there is nothing to search for."""
    q = search_text.parse(query)
    if not query.strip():
        raise UsageError(_("nothing to search for: give a word, a number or some Chinese characters"))
    if not q.fts:
        raise UsageError(_("nothing to search for in {query}: a search needs letters, digits, CJK characters or emoji")
                         .format(query=repr(query)))
    return q


def search(home: Home, query: str, *, platform: str | None = None, status: str | None = None,
           kind: str | None = None, since: str | None = None, until: str | None = None,
           dispute: str | None = None, limit: int = DEFAULT_LIMIT) -> SearchResult:
    if limit < 1:
        raise UsageError(_("--limit must be 1 or more, not {limit}").format(limit=limit))
    filters = _filters(platform, status, kind, since, until)
    q = parse_query(query)
    notices: list[str] = []
    letters = [t.folded for t in q.terms if len(t.folded) == 1 and t.folded.isascii() and t.folded.isalpha()]
    if letters:  # as a prefix, one letter would match most of any text (see search.text)
        notices.append(_("{letters}: a single letter is found only where it stands alone as a word")
                       .format(letters=", ".join(repr(x) for x in letters)))
    if dispute is not None:
        found, more = _in_one(home, home.locate(dispute).slug, q, filters, limit)
    else:
        found, more = _everywhere(home, q, filters, limit, notices)
    # A chat screenshot's words are indexed twice: as the raw lines OCR read (field "ocr") and as the
    # messages made of them ("ocr_message"). Where a message of that exhibit matches, its raw line is
    # the same text again: shown once, as the message.
    as_messages = {(f.slug, f.exhibit) for f in found if f.field == "ocr_message"}
    found = [f for f in found if not (f.field == "ocr" and (f.slug, f.exhibit) in as_messages)]
    hits = tuple(Hit(f.slug, f.dispute_title, f.exhibit, f.field, f.at, search_text.snippet(f.text, q), f.withdrawn,
                     f.ref) for f in found)
    return SearchResult(query, hits, more, tuple(notices))


def _in_one(home: Home, slug: str, q: search_text.Query, filters: catalog.Filters,
            limit: int) -> tuple[list[catalog.Found], bool]:
    dcon = connect(home.dispute(slug).db)
    try:
        dcon.execute("BEGIN")
        if index.meta(dcon).get("tokenizer") == search_text.TOKENIZER_VERSION:
            return catalog.query_dispute(dcon, slug, q, filters, limit)
    finally:
        dcon.close()
    # Its index was built by another version of locker (`locker reindex` rebuilds it): the catalog has it right.
    con = catalog.open_catalog(home)
    try:
        catalog.refresh(con, home, only=[slug])
        return catalog.query(con, q, filters, limit, only={slug})
    finally:
        con.close()


def _everywhere(home: Home, q: search_text.Query, filters: catalog.Filters, limit: int,
                notices: list[str]) -> tuple[list[catalog.Found], bool]:
    if not os.access(home.root, os.W_OK):  # a read-only home keeps no cache: each dispute is read as it is
        return _each_dispute(home, q, filters, limit, notices)
    try:
        con = catalog.open_catalog(home)
    except (OSError, sqlite3.Error) as err:
        notices.append(_("{folder}: cannot keep the search catalog ({error}); searching each dispute").format(folder=catalog.folder(home), error=err))
        return _each_dispute(home, q, filters, limit, notices)
    try:
        refreshed = catalog.refresh(con, home)
        notices += [_("{slug}: not searched: {problem}").format(slug=slug, problem=problem) for slug, problem in refreshed.problems]
        return catalog.query(con, q, filters, limit)
    except sqlite3.OperationalError as err:  # a read-only or full disk, say: still answer
        notices.append(_("{folder}: cannot update the search catalog ({error}); searching each dispute").format(folder=catalog.folder(home), error=err))
        return _each_dispute(home, q, filters, limit, notices)
    finally:
        con.close()


def _each_dispute(home: Home, q: search_text.Query, filters: catalog.Filters, limit: int,
                  notices: list[str]) -> tuple[list[catalog.Found], bool]:
    found: list[catalog.Found] = []
    more = False
    for slug in home.slugs():
        try:
            dcon = connect(home.dispute(slug).db)
        except Exception as err:  # noqa: BLE001 - one unreadable dispute does not stop the others
            notices.append(_("{slug}: not searched: {problem}").format(slug=slug, problem=getattr(err, 'message', err)))
            continue
        try:
            dcon.execute("BEGIN")
            hits, extra = catalog.query_dispute(dcon, slug, q, filters, limit)
        except sqlite3.DatabaseError as err:
            notices.append(_("{slug}: not searched: {problem}").format(slug=slug, problem=err))
            continue
        finally:
            dcon.close()
        found += hits
        more = more or extra
    found.sort(key=lambda f: (index.tier_of(f.row_id), f.created_at or "", f.row_id), reverse=True)
    return found[:limit], more or len(found) > limit


def reindex(home: Home, progress: Any = None) -> ReindexResult:
    """Bring every dispute's own index up to date (another tokenizer version, PDF text not read
    yet), then build a new catalog from all of them and switch to it."""
    started = time.perf_counter()
    home.require_writable()
    slugs = home.slugs()
    if progress is not None:
        progress.start(len(slugs), sum(_size(home.dispute(s).db) for s in slugs))
    problems: list[tuple[str, str]] = []
    pdfs = 0
    for slug in slugs:
        try:
            pdfs += _update_dispute_index(home, slug)
        except Exception as err:  # noqa: BLE001 - reported per dispute, the others go on
            problems.append((slug, getattr(err, "message", None) or str(err)))
    path, documents, catalog_problems = catalog.rebuild(home, slugs, progress)
    reported = {slug for slug, _ in problems}
    problems += [(slug, problem) for slug, problem in catalog_problems if slug not in reported]
    indexed = len(slugs) - len({slug for slug, _ in problems})
    return ReindexResult(indexed, documents, pdfs, time.perf_counter() - started, path, tuple(problems))


def _update_dispute_index(home: Home, slug: str) -> int:
    ddir = home.dispute(slug)
    dcon = connect(ddir.db)  # migrates (and so indexes) a database made before search
    try:
        if index.meta(dcon).get("tokenizer") != search_text.TOKENIZER_VERSION:
            with immediate(dcon):
                index.rebuild_fts(dcon)
        read = 0
        for number, sha256 in index.todo(dcon):
            pages = index.pdf_pages(ddir.object_path(sha256))  # outside the transaction: it can take a while
            with immediate(dcon):
                index.fill_pdf(dcon, number, pages)
            read += 1
        return read
    finally:
        dcon.close()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
