"""Human output (rich) and the ``--json`` documents of DESIGN.md.

Every ``*_doc`` function returns the exact JSON document a command prints;
``tests/test_contract.py`` validates each against its schema in ``schemas/``.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from . import domain
from .values import clean_text, zone_assumed

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe(value: object) -> str:
    """Text safe to print on a terminal: control characters and escape sequences
    are shown as ``\\x1b``-style escapes, never interpreted."""
    text = clean_text(str(value))
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


# --- JSON documents -------------------------------------------------------

NEW_KEYS = ("slug", "id", "title", "platform", "merchant", "order_id", "amount", "currency",
            "purchased_on", "claim", "summary", "status", "created_at")
DISPUTE_KEYS = ("slug", "id", "title", "platform", "merchant", "merchant_address", "order_id", "item",
                "amount", "currency", "purchased_on", "claim", "summary", "status", "created_at", "updated_at")


def new_doc(dispute: Any) -> dict[str, Any]:
    return {k: getattr(dispute, k) for k in NEW_KEYS}


def status_doc(dispute: Any) -> dict[str, Any]:
    """What ``locker status --json`` prints (schemas/status.schema.json)."""
    return {"slug": dispute.slug, "status": dispute.status, "updated_at": dispute.updated_at}


def error_doc(code: str, message: str, path: str | None = None) -> dict[str, Any]:
    """What a failed command prints with --json (schemas/error.schema.json)."""
    return {"error": {"code": code, "message": message, "path": None if path is None else clean_text(path)}}


def add_doc(result: Any) -> dict[str, Any]:
    doc = {
        "added": [
            {
                "exhibit": a.exhibit, "sha256": a.sha256, "size": a.size, "mime": a.mime, "kind": a.kind,
                "original_name": a.original_name, "captured_at": a.captured_at,
                "captured_at_source": a.captured_at_source, "duplicate": a.duplicate, "warnings": list(a.warnings),
            }
            for a in result.added
        ],
        "errors": [{"path": clean_text(e.path), "error": e.error} for e in result.errors],
    }
    if getattr(result, "interrupted", False):  # Ctrl-C: what was recorded before it, and that it stopped
        doc.update(error_doc("interrupted", f"interrupted after {len(result.added)} file(s) were recorded"))
    return doc


def list_doc(summaries: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "slug": s.dispute.slug, "title": s.dispute.title, "platform": s.dispute.platform,
            "merchant": s.dispute.merchant, "status": s.dispute.status, "exhibit_count": s.exhibit_count,
            "created_at": s.dispute.created_at, "updated_at": s.dispute.updated_at,
        }
        for s in summaries
    ]


def exhibit_doc(e: Any) -> dict[str, Any]:
    return {
        "exhibit": e.number, "sha256": e.sha256, "size": e.size, "mime": e.mime, "kind": e.kind,
        "original_name": e.original_name, "title": e.title, "source": e.source, "purpose": e.purpose,
        "note": e.note, "captured_at": e.captured_at, "captured_at_source": e.captured_at_source,
        "ingested_at": e.ingested_at, "withdrawn": bool(e.withdrawn), "metadata": dict(e.metadata),
    }


def event_doc(ev: Any) -> dict[str, Any]:
    return {"at": ev.at, "type": ev.type, "description": ev.description, "exhibits": list(ev.exhibits)}


def show_doc(detail: Any) -> dict[str, Any]:
    doc = {k: getattr(detail.dispute, k) for k in DISPUTE_KEYS}
    doc["exhibits"] = [exhibit_doc(e) for e in detail.exhibits]
    doc["events"] = [event_doc(ev) for ev in detail.events]
    return doc


def message_doc(m: Any) -> dict[str, Any]:
    return {"at": m.at, "sender": m.sender, "text": m.text, "me": bool(m.me), "kind": m.kind,
            "system": m.kind == "service"}


def show_exhibit_doc(exhibit: Any, messages: list[Any] | None = None) -> dict[str, Any]:
    return {"exhibit": exhibit_doc(exhibit), "messages": [message_doc(m) for m in messages or []]}


def verify_doc(report: Any) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "disputes": [
            {
                "slug": d.slug, "ok": d.ok, "objects_checked": d.objects_checked,
                "problems": [{"exhibit": p.exhibit, "problem": p.problem, "detail": p.detail} for p in d.problems],
            }
            for d in report.disputes
        ],
    }


def rebuild_doc(result: Any) -> dict[str, Any]:
    return {
        "slug": result.slug,
        "made": [{"exhibit": d.exhibit, "key": d.key, "folder": str(d.folder), "type": d.manifest.get("type")}
                 for d in result.made],
        "failed": [{"exhibit": n, "error": reason} for n, reason in result.failed],
    }


def log_doc(entries: list[Any]) -> list[dict[str, Any]]:
    return [
        {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "payload": e.payload,
         "prev_hash": e.prev_hash, "hash": e.hash}
        for e in entries
    ]


def export_doc(result: Any) -> dict[str, Any]:
    return {"path": str(result.path), "sha256": result.sha256, "pages": result.pages,
            "exhibits": list(result.exhibits), "lang": result.lang}


def search_doc(result: Any) -> dict[str, Any]:
    return {
        "query": clean_text(result.query),
        "hits": [{"dispute": h.dispute, "exhibit": h.exhibit, "field": h.field, "snippet": h.snippet_text}
                 for h in result.hits],
    }


def reindex_doc(result: Any) -> dict[str, Any]:
    return {
        "disputes": result.disputes, "documents": result.documents, "pdfs_read": result.pdfs_read,
        "seconds": round(result.seconds, 3), "catalog": str(result.catalog),
        "problems": [{"dispute": slug, "problem": problem} for slug, problem in result.problems],
    }


# --- human output ---------------------------------------------------------

def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output has no width to respect; 120 columns keep tables from folding file names.
    width = None if stream.isatty() else 120
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def _text(value: object) -> Any:
    from rich.text import Text

    return Text("" if value is None else safe(value))


def print_new(dispute: Any) -> None:
    console = _console()
    console.print(_text(f"Opened dispute {dispute.slug}: {dispute.title}"))
    console.print(_text(f"Next: locker add {dispute.slug} FILE…"))


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _when(value: str | None, source: str | None = None, *, offset: bool = True, assumed: bool = False) -> str:
    """``2025-05-03T14:22:10+08:00`` shown as ``2025-05-03 14:22:10 +08:00 (exif)``;
    tables leave the offset out (``show N`` and ``--json`` have it). A time whose zone
    was assumed says so: ``(exif, zone assumed)``."""
    if not value:
        return "unknown"
    shown = value.replace("T", " ", 1)
    if len(shown) > 19 and shown[19] in "+-Z":
        shown = f"{shown[:19]} {shown[19:]}" if offset else shown[:16]
    notes = ", ".join(n for n in (source, "zone assumed" if assumed else None) if n)
    return f"{shown} ({notes})" if notes else shown


_MIN_WIDTH = {"sha256": 10, "file": 20}


def _table(*columns: str, title: str | None = None) -> Any:
    """A compact table: fixed-width columns never wrap, the first text column folds."""
    from rich import box
    from rich.table import Table

    table = Table(title=_text(title) if title else None, title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    for name in columns:
        folding = name in ("file", "title", "merchant", "description")
        table.add_column(name, overflow="fold" if folding else "ellipsis", no_wrap=not folding,
                         ratio=1 if folding else None, min_width=_MIN_WIDTH.get(name, 16 if folding else None))
    return table


def print_add(result: Any) -> None:
    console = _console()
    if result.added:
        table = _table("No.", "file", "kind", "size", "captured", "sha256", title=f"{result.slug}:")
        for a in result.added:
            number = f"{a.exhibit}" + (" (held)" if a.duplicate else "")
            table.add_row(number, _text(a.original_name), a.kind, _size(a.size),
                          _when(a.captured_at, a.captured_at_source, offset=False,
                                assumed=a.zone_assumed is not None), a.sha256[:10])
        console.print(table)
    new = sum(1 for a in result.added if not a.duplicate)
    held = len(result.added) - new
    console.print(f"{new} added" + (f", {held} already held (same content)" if held else "")
                  + (f", {len(result.errors)} refused" if result.errors else ""))
    for a in result.added:
        for w in a.warnings:
            print_warning(f"exhibit {a.exhibit} ({safe(a.original_name)}): {w}")
    for note in result.notices:
        print_warning(note)
    for e in result.errors:
        print_error(f"{safe(e.path)}: {e.error}")


def print_warning(message: str) -> None:
    sys.stderr.write(f"locker: warning: {safe(message)}\n")


def print_error(message: str) -> None:
    sys.stderr.write(f"locker: {safe(message)}\n")


def print_list(summaries: list[Any]) -> None:
    console = _console()
    if not summaries:
        console.print("No disputes yet. Open one with: locker new TITLE")
        return
    table = _table("dispute", "title", "platform", "status", "exhibits", "updated")
    for s in summaries:
        d = s.dispute
        table.add_row(_text(d.slug), _text(d.title), _text(d.platform or ""), d.status,
                      str(s.exhibit_count), _when(d.updated_at)[:16])
    console.print(table)


def _fields(rows: list[tuple[str, object]]) -> Any:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    for label, value in rows:
        if value not in (None, ""):
            grid.add_row(label, _text(value))
    return grid


def print_show(detail: Any) -> None:
    console = _console()
    d = detail.dispute
    console.print(_text(f"{d.title}  [{d.slug}]  status: {d.status}"))
    console.print(_fields([
        ("platform", d.platform), ("merchant", d.merchant), ("address", d.merchant_address),
        ("order", d.order_id), ("item", d.item), ("amount", f"{d.amount} {d.currency}" if d.amount else None),
        ("purchased", d.purchased_on), ("claim", d.claim), ("summary", d.summary),
    ]))
    table = _table("No.", "file", "kind", "captured", "sha256", title="exhibits")
    for e in detail.exhibits:
        name = (e.title or e.original_name) + ("  [withdrawn]" if e.withdrawn else "")
        assumed = zone_assumed(e.captured_at_source, e.metadata) is not None
        table.add_row(str(e.number), _text(name), e.kind,
                      _when(e.captured_at, e.captured_at_source, offset=False, assumed=assumed), e.sha256[:10])
    console.print(table)
    if detail.events:
        table = _table("when", "type", "description", title="timeline")
        for ev in detail.events:
            linked = ev.exhibits
            suffix = f"  (exhibit {', '.join(map(str, linked))})" if linked else ""
            table.add_row(_when(ev.at, offset=False), ev.type, _text(ev.description + suffix))
        console.print(table)


def print_exhibit(exhibit: Any, messages: Any = (), derived: Any = None) -> None:
    console = _console()
    doc = exhibit_doc(exhibit)
    metadata = doc.pop("metadata")
    assumed = zone_assumed(exhibit.captured_at_source, metadata)
    if assumed is not None and doc.get("captured_at"):
        doc["captured_at"] = f"{doc['captured_at']} (zone assumed{': ' + assumed if assumed else ''})"
    for key, value in doc.items():
        if value not in (None, ""):
            console.print(_text(f"{key:<19} {value}"))
    for w in exhibit.warnings:
        console.print(_text(f"{'warning':<19} {w}"))
    if metadata:
        console.print("metadata")
        for key, value in sorted(metadata.items()):
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
            console.print(_text(f"  {key:<17} {shown}"))
    if derived is not None:
        console.print(_text(f"{'derived files':<19} {derived.folder}"))
        for frame in derived.manifest.get("frames", []):
            console.print(_text(f"  {frame['timecode']}  {frame['file']}  {frame['width']}×{frame['height']}"))
    if messages:
        console.print(f"messages ({len(messages)})")
        for m in messages:
            when = _when(m.at, offset=False) if m.at else "?"
            if m.kind == "service":  # a system line: set apart, never shown as a participant's
                console.print(_text(f"  {when:<16}  ── {m.text} ──"))
                continue
            who = m.sender or ("(unparsed)" if m.kind == "unparsed" else "(unknown)")
            mark = "▶" if m.me else " "
            console.print(_text(f"{mark} {when:<16}  {who}: {m.text}"))


def print_verify(report: Any) -> None:
    console = _console()
    if not report.disputes:
        console.print("No disputes to verify.")
    for d in report.disputes:
        if d.ok:
            console.print(_text(f"{d.slug}: OK — {d.objects_checked} objects re-hashed, custody log intact"))
            for p in d.problems:  # warnings only: e.g. an object an interrupted add left behind
                console.print(_text(f"  warning: {p.problem}: {p.detail}"))
        else:
            console.print(_text(f"{d.slug}: {len(d.problems)} problem(s) — {d.objects_checked} objects checked"))
            for p in d.problems:
                where = f"exhibit {p.exhibit}" if p.exhibit is not None else "dispute"
                console.print(_text(f"  {where}: {p.problem}: {p.detail}"))


def print_rebuild(result: Any) -> None:
    console = _console()
    for d in result.made:
        what = (f"{len(d.manifest.get('frames', []))} key frames" if d.manifest.get("type") == "video_frames"
                else "display rendition and thumbnail" + (f", {len(d.manifest['slices'])} page slices"
                                                           if d.manifest.get("slices") else ""))
        console.print(_text(f"exhibit {d.exhibit}: {what}"))
    console.print(f"{len(result.made)} exhibit(s) rebuilt, {result.skipped} without derived files")
    for number, reason in result.failed:
        print_error(f"exhibit {number}: {reason}")


def _log_summary(action: str, payload: Any) -> str:
    """One line of what a custody entry says; `log --json` has all of it."""
    r = domain.read_entry(action, payload)
    if isinstance(r, domain.ExhibitAdded):
        extra = f", {r.messages.count} messages" if r.messages else ""
        return f"exhibit {r.exhibit}: {r.original_name} sha256 {(r.sha256 or '')[:12]}{extra}"
    if isinstance(r, domain.ExhibitWithdrawn):
        return f"exhibit {r.exhibit}: {r.reason}"
    if isinstance(r, domain.ExhibitReread):
        count = r.messages.count if r.messages else None
        order = f", dates {r.date_order}" if r.date_order else ""
        return f"exhibit {r.exhibit}: read again as {r.chat_format}{order}, {count} messages"
    if isinstance(r, domain.StatusChanged):
        note = f" ({r.note})" if r.note else ""
        return f"{r.before} → {r.after}{note}"
    if isinstance(r, domain.EventAdded):
        return f"{r.at} {r.type}: {r.description}"
    if isinstance(r, domain.DisputeCreated):
        return f"{r.slug}: {r.title}"
    if isinstance(r, domain.ExportCreated):
        return f"{r.path} sha256 {(r.sha256 or '')[:12]}"
    return json.dumps(payload, ensure_ascii=False)[:120]


def print_export(result: Any) -> None:
    console = _console()
    console.print(_text(f"Wrote the evidence pack of {result.slug}: {result.path}"))
    grid = _fields([
        ("pages", str(result.pages)),
        ("exhibits", ", ".join(map(str, result.exhibits)) or "none"),
        ("language", result.lang),
        ("size", f"{_size(result.size)} (pictures at {result.image_quality})"),
        ("sha256", result.sha256),
        ("fingerprint", result.fingerprint or "none (the pack holds no exhibits)"),
        ("font", result.font),
        ("attached", f"{len(result.attachments)} original(s)" if result.attachments else None),
    ])
    console.print(grid)
    for left in result.left_out:
        why = f"withdrawn: {left.reason}" if left.withdrawn else "left out"
        console.print(_text(f"not in the pack: exhibit {left.number} ({left.name}) — {why}"))
    for warning in result.warnings:
        print_warning(warning)


def print_log(entries: list[Any]) -> None:
    console = _console()
    for e in entries:
        summary = _log_summary(e.action, e.payload)
        console.print(_text(f"{e.seq:>4}  {_when(e.at)}  {e.action:<18} {e.hash[:12]}  {summary}"), soft_wrap=True)


def reread_doc(result: Any) -> dict[str, Any]:
    return {"dispute": result.slug, "exhibit": result.exhibit, "chat_format": result.chat_format,
            "previous_count": result.previous_count, "message_count": result.message_count,
            "messages_sha256": result.sha256, "date_order": result.date_order,
            "date_order_source": result.date_order_source, "tz": result.tz, "me": result.me,
            "captured_at": result.captured_at, "captured_at_source": result.captured_at_source,
            "warnings": list(result.warnings), "custody_seq": result.seq}


def print_reread(result: Any) -> None:
    console = _console()
    order = f", dates {result.date_order} ({result.date_order_source})" if result.date_order else ""
    console.print(_text(f"exhibit {result.exhibit} of {result.slug}: read again as {result.chat_format}{order}: "
                        f"{result.message_count} messages (were {result.previous_count}), custody entry {result.seq}"))
    for w in result.warnings:
        print_warning(w)


def print_profile(profile: Any) -> None:
    console = _console()
    for key, value in profile.as_dict().items():
        console.print(_text(f"{key:<10} {value if value is not None else '(not set)'}"))


_FIELD_NAMES = {"original_name": "file name", "order_id": "order id", "merchant_address": "merchant address",
                "pdf_text": "document text", "status_note": "status note", "withdrawn_reason": "withdrawal reason"}


def print_search(result: Any) -> None:
    """Each hit: where it is, then its snippet with the matches highlighted. User text goes in
    as rich Text (never as markup), through ``safe`` for control characters."""
    from rich.text import Text

    console = _console()
    if not result.hits:
        console.print(_text(f"No matches for {result.query}."))
        return
    for h in result.hits:
        where = f"exhibit {h.exhibit}" if h.exhibit is not None else "dispute"
        field = _FIELD_NAMES.get(h.field, h.field)
        head = Text()
        head.append(safe(h.dispute), style="bold")
        head.append(safe(f"  {where} · {field}" + (f" · {_when(h.at, offset=False)}" if h.at else "")
                         + ("  [withdrawn]" if h.withdrawn else "")), style="dim")
        console.print(head)
        line = Text("  ")
        for segment, is_match in h.snippet:
            line.append(safe(segment), style="bold reverse" if is_match else None)
        console.print(line)
    shown = f"{len(result.hits)} hit(s)"
    console.print(f"{shown}; more with --limit" if result.more else shown)


def print_reindex(result: Any) -> None:
    console = _console()
    console.print(_text(f"{result.disputes} dispute(s), {result.documents} searchable rows indexed in "
                        f"{result.seconds:.1f} s" + (f"; text read from {result.pdfs_read} PDF(s)" if result.pdfs_read else "")))
    for slug, problem in result.problems:
        print_error(f"{slug}: {problem}")


class RichProgress:
    """A byte-based progress bar on stderr; only on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: Any = None
        self._task: Any = None

    def start(self, files: int, total_bytes: int) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                             TimeRemainingColumn(), console=_console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task(f"{self.label} {files} file(s)", total=total_bytes)

    def advance(self, nbytes: int, name: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=nbytes)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def gc_doc(result: Any) -> dict[str, Any]:
    return {"slug": result.slug, "removed": list(result.removed), "bytes_freed": result.bytes_freed}


def print_gc(result: Any) -> None:
    console = _console()
    if not result.removed:
        console.print(_text(f"{result.slug}: no orphaned objects"))
    else:
        console.print(_text(f"{result.slug}: removed {len(result.removed)} orphaned object(s), "
                            f"{_size(result.bytes_freed)} freed"))
