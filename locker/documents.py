"""The ``--json`` documents of DESIGN.md: what each command prints with ``--json``.

Every ``*_doc`` function returns the exact document (plain dicts and lists, ready for
``json.dumps``); ``tests/test_contract.py`` validates each against its schema in
``schemas/``. They read the services' typed results, never database rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import warncodes
from .values import clean_text
from .words import DISPUTE_FIELDS

if TYPE_CHECKING:
    from .services.chat import Reread
    from .services.disputes import Detail, Summary
    from .services.gc import Collected
    from .services.history import Change
    from .services.ingest import AddResult
    from .services.verify import VerifyReport
    from .services.views import DisputeView, EventView, ExhibitView, LogEntry, MessageView

# ``new --json`` prints fewer facts than ``show --json`` (DESIGN.md pins both).
NEW_KEYS = ("slug", "id", "title", "platform", "merchant", "order_id", "amount", "currency",
            "purchased_on", "claim", "summary", "status", "created_at")
DISPUTE_KEYS = ("slug", "id", "title", *DISPUTE_FIELDS, "status", "created_at", "updated_at")


def new_doc(dispute: DisputeView) -> dict[str, Any]:
    return {k: getattr(dispute, k) for k in NEW_KEYS}


def status_doc(dispute: DisputeView) -> dict[str, Any]:
    """What ``locker status --json`` prints (schemas/status.schema.json)."""
    return {"slug": dispute.slug, "status": dispute.status, "updated_at": dispute.updated_at}


def error_doc(code: str, message: str, path: str | None = None) -> dict[str, Any]:
    """What a failed command prints with --json (schemas/error.schema.json)."""
    return {"error": {"code": code, "message": message, "path": None if path is None else clean_text(path)}}


def add_doc(result: AddResult) -> dict[str, Any]:
    doc = {
        "added": [
            {
                "exhibit": a.exhibit, "sha256": a.sha256, "size": a.size, "mime": a.mime, "kind": a.kind,
                "original_name": a.original_name, "captured_at": a.captured_at,
                "captured_at_source": a.captured_at_source, "duplicate": a.duplicate, "warnings": [str(w) for w in a.warnings],
                "warning_codes": warncodes.stored(a.warnings), "edited": list(a.edited),
            }
            for a in result.added
        ],
        "errors": [{"path": clean_text(e.path), "error": e.error} for e in result.errors],
    }
    if getattr(result, "interrupted", False):  # Ctrl-C: what was recorded before it, and that it stopped
        doc.update(error_doc("interrupted", f"interrupted after {len(result.added)} file(s) were recorded"))
    return doc


def list_doc(summaries: Sequence[Summary]) -> list[dict[str, Any]]:
    return [
        {
            "slug": s.dispute.slug, "title": s.dispute.title, "platform": s.dispute.platform,
            "merchant": s.dispute.merchant, "status": s.dispute.status, "exhibit_count": s.exhibit_count,
            "created_at": s.dispute.created_at, "updated_at": s.dispute.updated_at,
        }
        for s in summaries
    ]


def exhibit_doc(e: ExhibitView) -> dict[str, Any]:
    return {
        "exhibit": e.number, "sha256": e.sha256, "size": e.size, "mime": e.mime, "kind": e.kind,
        "original_name": e.original_name, "title": e.title, "source": e.source, "purpose": e.purpose,
        "note": e.note, "captured_at": e.captured_at, "captured_at_source": e.captured_at_source,
        "ingested_at": e.ingested_at, "withdrawn": bool(e.withdrawn), "metadata": dict(e.metadata),
        "warnings": [str(w) for w in e.warnings], "warning_codes": warncodes.stored(e.warnings),
    }


def event_doc(ev: EventView) -> dict[str, Any]:
    return {"at": ev.at, "type": ev.type, "description": ev.description, "exhibits": list(ev.exhibits)}


def history_doc(changes: Sequence[Change]) -> list[dict[str, Any]]:
    """The corrections made with ``locker edit``, oldest first: one item per field changed."""
    return [{"seq": c.seq, "at": c.at, "action": c.action, "exhibit": c.exhibit, "message": c.message,
             "field": c.field, "from": c.before, "to": c.after} for c in changes]


def show_doc(detail: Detail) -> dict[str, Any]:
    doc = {k: getattr(detail.dispute, k) for k in DISPUTE_KEYS}
    doc["exhibits"] = [exhibit_doc(e) for e in detail.exhibits]
    doc["events"] = [event_doc(ev) for ev in detail.events]
    doc["history"] = history_doc(detail.history)
    if detail.recorded_slug:  # the folder's name (slug) differs from what its database recorded
        doc["recorded_slug"] = detail.recorded_slug
    return doc


def message_doc(m: MessageView) -> dict[str, Any]:
    return {"at": m.at, "sender": m.sender, "text": m.text, "me": bool(m.me), "kind": m.kind,
            "system": m.kind == "service", "source": m.source}


def show_exhibit_doc(exhibit: ExhibitView, messages: Sequence[MessageView] | None = None,
                     history: Sequence[Change] = (), facts: dict[str, Any] | None = None,
                     reading: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"exhibit": exhibit_doc(exhibit), "messages": [message_doc(m) for m in messages or []],
            "history": history_doc(history), "facts": facts, "ocr": ocr_doc(reading)}


def ocr_doc(reading: dict[str, Any] | None) -> dict[str, Any] | None:
    """The machine-read text of one exhibit (its OCR reading, see locker/services/ocr.py): the engine
    and every line with its box (four corners in the picture's pixels, clockwise from top-left) and
    score; null when it was not read."""
    if reading is None:
        return None
    return {"engine": reading.get("engine"),
            "lines": [{"text": line["text"], "box": line["box"], "score": line["score"]}
                      for line in reading.get("lines", [])]}


def verify_doc(report: VerifyReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "disputes": [
            {
                "slug": d.slug, "ok": d.ok, "objects_checked": d.objects_checked,
                "problems": [{"exhibit": p.exhibit, "problem": p.problem, "detail": p.detail} for p in d.problems],
                "last_archived": None if d.archived is None else {
                    "at": d.archived.at, "custody_seq": d.archived.seq, "remote": d.archived.remote, "url": d.archived.url},
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
        "ocr_read": [d.exhibit for d in result.ocr.done if d.read_now] if getattr(result, "ocr", None) else [],
        "notes": list(getattr(result, "notes", ())),
    }


def log_doc(entries: Sequence[LogEntry]) -> list[dict[str, Any]]:
    return [
        {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "payload": e.payload,
         "prev_hash": e.prev_hash, "hash": e.hash}
        for e in entries
    ]


def export_doc(result: Any) -> dict[str, Any]:
    return {"path": str(result.path), "sha256": result.sha256, "pages": result.pages,
            "exhibits": list(result.exhibits), "lang": result.lang, **_timestamp_part(result)}


def _timestamp_part(result: Any) -> dict[str, Any]:
    """``export --stamp``: the token over the pack's fingerprint."""
    t = getattr(result, "timestamp", None)
    if t is None:
        return {"timestamp": None}
    return {"timestamp": {"subject": t.subject, "sha256": t.sha256, "file": str(result.timestamp_copy),
                          "stored": str(t.file), "tsa": t.tsa, "url": t.url, "gen_time": t.gen_time,
                          "serial": t.serial, "checked_with": t.method, "openssl": t.openssl}}


def search_doc(result: Any) -> dict[str, Any]:
    return {
        "query": clean_text(result.query),
        "hits": [{"dispute": h.dispute, "exhibit": h.exhibit, "field": h.field, "snippet": h.snippet_text,
                  **_ocr_part(h)} for h in result.hits],
    }


def _ocr_part(hit: Any) -> dict[str, int]:
    """Where in the exhibit machine-read text was found: its page (a PDF) or slice (a picture)."""
    ref = getattr(hit, "ref", None)
    if hit.field != "ocr" or not isinstance(ref, int) or ref == 0:
        return {}
    return {"page": ref} if ref > 0 else {"slice": -ref}


def reindex_doc(result: Any) -> dict[str, Any]:
    return {
        "disputes": result.disputes, "documents": result.documents, "pdfs_read": result.pdfs_read,
        "seconds": round(result.seconds, 3), "catalog": str(result.catalog),
        "problems": [{"dispute": slug, "problem": problem} for slug, problem in result.problems],
    }


def reread_doc(result: Reread) -> dict[str, Any]:
    return {"dispute": result.slug, "exhibit": result.exhibit, "chat_format": result.chat_format,
            "previous_count": result.previous_count, "message_count": result.message_count,
            "messages_sha256": result.sha256, "date_order": result.date_order,
            "date_order_source": result.date_order_source, "tz": result.tz, "me": result.me,
            "captured_at": result.captured_at, "captured_at_source": result.captured_at_source,
            "warnings": [str(w) for w in result.warnings], "warning_codes": warncodes.stored(result.warnings),
            "custody_seq": result.seq}


def gc_doc(result: Collected) -> dict[str, Any]:
    return {"slug": result.slug, "removed": list(result.removed), "bytes_freed": result.bytes_freed}
