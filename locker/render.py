"""Human output (rich), and the face of the ``--json`` documents of DESIGN.md
(built in :mod:`locker.documents`, re-exported here for the command line)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import domain
from .documents import (
    DISPUTE_KEYS,
    NEW_KEYS,
    add_doc,
    error_doc,
    event_doc,
    exhibit_doc,
    export_doc,
    gc_doc,
    list_doc,
    log_doc,
    message_doc,
    new_doc,
    rebuild_doc,
    reindex_doc,
    reread_doc,
    search_doc,
    show_doc,
    show_exhibit_doc,
    status_doc,
    verify_doc,
)
from .values import clean_text, human_size, zone_assumed

if TYPE_CHECKING:
    from .services.chat import Reread
    from .services.derivatives import Derivation
    from .services.disputes import Detail, Summary
    from .services.gc import Collected
    from .services.ingest import AddResult
    from .services.profile import Profile
    from .services.verify import VerifyReport
    from .services.views import DisputeView, ExhibitView, LogEntry, MessageView

# The documents are built in locker.documents; the command line reaches them here.
__all__ = [
    "DISPUTE_KEYS", "NEW_KEYS", "RichProgress", "add_doc", "emit_json", "error_doc", "event_doc", "exhibit_doc",
    "export_doc", "gc_doc", "list_doc", "log_doc", "message_doc", "new_doc", "print_add", "print_error",
    "print_exhibit", "print_export", "print_gc", "print_list", "print_log", "print_new", "print_profile",
    "print_rebuild", "print_reindex", "print_reread", "print_search", "print_show", "print_verify",
    "print_warning", "rebuild_doc", "reindex_doc", "reread_doc", "safe", "search_doc", "show_doc",
    "show_exhibit_doc", "status_doc", "verify_doc",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe(value: object) -> str:
    """Text safe to print on a terminal: control characters and escape sequences
    are shown as ``\\x1b``-style escapes, never interpreted."""
    text = clean_text(str(value))
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


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


def print_new(dispute: DisputeView) -> None:
    console = _console()
    console.print(_text(f"Opened dispute {dispute.slug}: {dispute.title}"))
    console.print(_text(f"Next: locker add {dispute.slug} FILE…"))


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


def print_add(result: AddResult) -> None:
    console = _console()
    if result.added:
        table = _table("No.", "file", "kind", "size", "captured", "sha256", title=f"{result.slug}:")
        for a in result.added:
            number = f"{a.exhibit}" + (" (held)" if a.duplicate else "")
            table.add_row(number, _text(a.original_name), a.kind, human_size(a.size),
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


def print_list(summaries: Sequence[Summary]) -> None:
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


def print_show(detail: Detail) -> None:
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


def print_exhibit(exhibit: ExhibitView, messages: Sequence[MessageView] = (), derived: Derivation | None = None) -> None:
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


def print_verify(report: VerifyReport) -> None:
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
    if getattr(result, "ocr", None) is not None and result.ocr.read_now:
        from .i18n import _

        console.print(_text(_("{count} picture(s) read by OCR").format(count=result.ocr.read_now)))
    for number, reason in result.failed:
        print_error(f"exhibit {number}: {reason}")
    for note in getattr(result, "notes", ()):
        print_warning(note)


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
        ("size", f"{human_size(result.size)} (pictures at {result.image_quality})"),
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


def print_log(entries: Sequence[LogEntry]) -> None:
    console = _console()
    for e in entries:
        summary = _log_summary(e.action, e.payload)
        console.print(_text(f"{e.seq:>4}  {_when(e.at)}  {e.action:<18} {e.hash[:12]}  {summary}"), soft_wrap=True)


def print_reread(result: Reread) -> None:
    console = _console()
    order = f", dates {result.date_order} ({result.date_order_source})" if result.date_order else ""
    console.print(_text(f"exhibit {result.exhibit} of {result.slug}: read again as {result.chat_format}{order}: "
                        f"{result.message_count} messages (were {result.previous_count}), custody entry {result.seq}"))
    for w in result.warnings:
        print_warning(w)


def print_profile(profile: Profile) -> None:
    console = _console()
    for key, value in profile.as_dict().items():
        console.print(_text(f"{key:<10} {value if value is not None else '(not set)'}"))


_FIELD_NAMES = {"original_name": "file name", "order_id": "order id", "merchant_address": "merchant address",
                "pdf_text": "document text", "status_note": "status note", "withdrawn_reason": "withdrawal reason",
                "ocr": "machine-read text (OCR)"}


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
        if h.field == "ocr" and isinstance(getattr(h, "ref", None), int) and h.ref:
            from .i18n import _

            where_in = _("page {n}") if h.ref > 0 else _("slice {n}")
            field = f"{_('machine-read text (OCR)')}, {where_in.format(n=abs(h.ref))}"
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


def print_gc(result: Collected) -> None:
    console = _console()
    if not result.removed:
        console.print(_text(f"{result.slug}: no orphaned objects"))
    else:
        console.print(_text(f"{result.slug}: removed {len(result.removed)} orphaned object(s), "
                            f"{human_size(result.bytes_freed)} freed"))
