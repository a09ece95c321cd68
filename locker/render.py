"""Human output (rich), and the face of the ``--json`` documents of DESIGN.md
(built in :mod:`locker.documents`, re-exported here for the command line).

Why it is long: it holds one printer per command of the first wave (add, list, show, an
exhibit, verify, rebuild, export, the log, reread, the profile, search, reindex, gc), each 10 to
50 lines, around the console helpers they share (a terminal or a plain pipe, tables, times with
their source). The second wave's commands print from their own modules in locker/commands/.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import warncodes
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
from .i18n import N_, _, ngettext
from .values import clean_text, human_size, zone_assumed

if TYPE_CHECKING:
    from .services.chat import Reread
    from .services.derivatives import Derivation
    from .services.disputes import Detail, Summary
    from .services.gc import Collected
    from .services.history import Change
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
    "show_exhibit_doc", "shown_code", "status_doc", "verify_doc",
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

PIPE_WIDTH = 1_000_000  # "no width": output that is not a terminal is never folded


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, highlight=False, soft_wrap=False)
    return _Plain(Console(stderr=stderr, highlight=False, soft_wrap=False, width=PIPE_WIDTH), stream)


class _Plain:
    """A console for a pipe or a file: lines as long as their content (a table takes the width
    it needs, never folded at some width), without the spaces rich pads cells with at the end
    of a line, so that ``grep``, ``cut`` and ``diff`` see the text."""

    def __init__(self, console: Any, stream: Any) -> None:
        self._console = console
        self._stream = stream

    def print(self, *objects: Any, **options: Any) -> None:
        with self._console.capture() as captured:
            self._console.print(*objects, **options)
        self._stream.write("\n".join(line.rstrip() for line in captured.get().split("\n")))
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._console, name)


def _text(value: object) -> Any:
    from rich.text import Text

    return Text("" if value is None else safe(value))


def print_new(dispute: DisputeView) -> None:
    console = _console()
    console.print(_text(_("Opened dispute {slug}: {title}").format(slug=dispute.slug, title=dispute.title)))
    console.print(_text(_("Next: locker add {slug} FILE…").format(slug=dispute.slug)))


def _when(value: str | None, source: str | None = None, *, offset: bool = True, assumed: bool = False) -> str:
    """``2025-05-03T14:22:10+08:00`` shown as ``2025-05-03 14:22:10 +08:00 (exif)``;
    tables leave the offset out (``show N`` and ``--json`` have it). A time whose zone
    was assumed says so: ``(exif, zone assumed)``."""
    if not value:
        return _("unknown")
    shown = value.replace("T", " ", 1)
    if len(shown) > 19 and shown[19] in "+-Z":
        shown = f"{shown[:19]} {shown[19:]}" if offset else shown[:16]
    notes = _(", ").join(n for n in (source, _("zone assumed") if assumed else None) if n)
    return f"{shown} ({notes})" if notes else shown


_MIN_WIDTH = {"sha256": 10, "file": 20}


def _table(*columns: str, title: str | None = None) -> Any:
    """A compact table: fixed-width columns never wrap, the first text column folds."""
    from rich import box
    from rich.table import Table

    table = Table(title=_text(title) if title else None, title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    for name in columns:  # English names marked N_(): shown translated
        folding = name in ("file", "title", "merchant", "description")
        table.add_column(_(name), overflow="fold" if folding else "ellipsis", no_wrap=not folding,
                         ratio=1 if folding else None, min_width=_MIN_WIDTH.get(name, 16 if folding else None))
    return table


def print_add(result: AddResult) -> None:
    console = _console()
    if result.added:
        table = _table(N_("No."), N_("file"), N_("kind"), N_("size"), N_("captured"), N_("sha256"),
                       title=f"{result.slug}:")
        for a in result.added:
            number = f"{a.exhibit}" + (_(" (held)") if a.duplicate else "")
            table.add_row(number, _text(a.original_name), shown_code(a.kind), human_size(a.size),
                          _when(a.captured_at, a.captured_at_source, offset=False,
                                assumed=a.zone_assumed is not None), a.sha256[:10])
        console.print(table)
    new = sum(1 for a in result.added if not a.duplicate)
    held = len(result.added) - new
    console.print(_("{count} added").format(count=new)
                  + (_(", {count} already held (same content)").format(count=held) if held else "")
                  + (_(", {count} refused").format(count=len(result.errors)) if result.errors else ""))
    for a in result.added:
        if a.edited:
            console.print(_text(_("exhibit {n} was held already: its {fields} corrected as an edit "
                                  "(locker show {slug} {n} shows the history)").format(
                n=a.exhibit, fields=", ".join(a.edited), slug=result.slug)))
        for w in a.warnings:
            print_warning(_("exhibit {number} ({name}): {warning}").format(number=a.exhibit,
                                                                           name=safe(a.original_name),
                                                                           warning=warncodes.show(w)))
    for note in result.notices:
        print_warning(note)
    for e in result.errors:
        print_error(f"{safe(e.path)}: {e.error}")


def print_warning(message: str) -> None:
    sys.stderr.write(_("locker: warning: {message}").format(message=safe(message)) + "\n")


def print_error(message: str) -> None:
    sys.stderr.write(_("locker: {message}").format(message=safe(message)) + "\n")


def print_list(summaries: Sequence[Summary]) -> None:
    console = _console()
    if not summaries:
        console.print(_("No disputes yet. Open one with: locker new TITLE"))
        return
    table = _table(N_("dispute"), N_("title"), N_("platform"), N_("status"), N_("exhibits"), N_("updated"))
    for s in summaries:
        d = s.dispute
        table.add_row(_text(d.slug), _text(d.title), _text(d.platform or ""), shown_code(d.status),
                      str(s.exhibit_count), _when(d.updated_at)[:16])
    console.print(table)


def _fields(rows: list[tuple[str, object]]) -> Any:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    for label, value in rows:  # labels marked N_(): shown translated
        if value not in (None, ""):
            grid.add_row(_(label), _text(value))
    return grid


def print_show(detail: Detail) -> None:
    console = _console()
    d = detail.dispute
    console.print(_text(_("{title}  [{slug}]  status: {status}").format(title=d.title, slug=d.slug,
                                                                       status=shown_code(d.status))))
    if detail.recorded_slug:  # a folder copied or moved by hand (see services.disputes.folder_note)
        from .services.disputes import folder_note

        print_warning(folder_note(d.slug, detail.recorded_slug))
    console.print(_fields([
        (N_("platform"), d.platform), (N_("merchant"), d.merchant), (N_("address"), d.merchant_address),
        (N_("order"), d.order_id), (N_("item"), d.item), (N_("amount"), f"{d.amount} {d.currency}" if d.amount else None),
        (N_("purchased"), d.purchased_on), (N_("claim"), d.claim), (N_("summary"), d.summary),
    ]))
    table = _table(N_("No."), N_("file"), N_("kind"), N_("captured"), N_("sha256"), title=_("exhibits"))
    for e in detail.exhibits:
        name = (e.title or e.original_name) + (_("  [withdrawn]") if e.withdrawn else "")
        assumed = zone_assumed(e.captured_at_source, e.metadata) is not None
        table.add_row(str(e.number), _text(name), shown_code(e.kind),
                      _when(e.captured_at, e.captured_at_source, offset=False, assumed=assumed), e.sha256[:10])
    console.print(table)
    if detail.events:
        table = _table(N_("when"), N_("type"), N_("description"), title=_("timeline"))
        for ev in detail.events:
            linked = ev.exhibits
            suffix = _("  (exhibit {numbers})").format(numbers=", ".join(map(str, linked))) if linked else ""
            table.add_row(_when(ev.at, offset=False), ev.type, _text(ev.description + suffix))
        console.print(table)
    _print_history(console, detail.history)


def _print_history(console: Any, changes: Sequence[Change]) -> None:
    """The corrections made with ``locker edit``: when, what, the old and the new value."""
    if not changes:
        return
    table = _table(N_("when"), N_("field"), N_("was"), N_("now"), title=_("history (locker edit)"))
    for c in changes:
        field = _("message {k}").format(k=c.message) if c.message is not None else c.field
        table.add_row(_when(c.at, offset=False), field, _text("—" if c.before is None else c.before),
                      _text("—" if c.after is None else c.after))
    console.print(table)


def print_exhibit(exhibit: ExhibitView, messages: Sequence[MessageView] = (), derived: Derivation | None = None,
                  history: Sequence[Change] = (), facts: dict[str, Any] | None = None) -> None:
    console = _console()
    doc = exhibit_doc(exhibit)
    metadata = doc.pop("metadata")
    doc.pop("warnings"), doc.pop("warning_codes")  # shown below, in the language of the run
    assumed = zone_assumed(exhibit.captured_at_source, metadata)
    if assumed is not None and doc.get("captured_at"):
        doc["captured_at"] = (_("{time} (zone assumed: {zone})").format(time=doc["captured_at"], zone=assumed) if assumed
                              else _("{time} (zone assumed)").format(time=doc["captured_at"]))
    for key, value in doc.items():
        if value not in (None, ""):
            label = _pad(_(EXHIBIT_LABELS.get(key, key)), 19)
            console.print(_text(f"{label} {_yes_no(value)}"))
    warning_label = _pad(_("warning"), 19)
    for w in exhibit.warnings:
        console.print(_text(f"{warning_label} {warncodes.show(w)}"))
    for label, line in credential_lines(metadata):
        console.print(_text(f"{_pad(label, 19)} {line}"))
    if metadata:
        console.print(_("metadata"))
        for key, value in sorted(metadata.items()):
            if key in ("c2pa", "aigc"):
                continue  # shown above; `show --json` has them whole
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
            console.print(_text(f"  {key:<17} {shown}"))
    if derived is not None:
        derived_label = _pad(_("derived files"), 19)
        console.print(_text(f"{derived_label} {derived.folder}"))
        for frame in derived.manifest.get("frames", []):
            console.print(_text(f"  {frame['timecode']}  {frame['file']}  {frame['width']}×{frame['height']}"))
    if facts and facts.get("facts"):
        from .commands.ocrchat import print_facts

        print_facts(console, facts)
    if messages:
        if any(m.source == "ocr" for m in messages):
            console.print(_("messages ({count}, machine-read by OCR: check them against the picture)").format(
                count=len(messages)))
        else:
            console.print(_("messages ({count})").format(count=len(messages)))
        width = len(str(len(messages)))
        for k, m in enumerate(messages, 1):  # numbered as `locker edit DISPUTE N --message K` counts them
            when = _when(m.at, offset=False) if m.at else "?"
            if m.kind == "service":  # a system line: set apart, never shown as a participant's
                console.print(_text(f"{k:>{width}}   {when:<16}  ── {m.text} ──"))
                continue
            who = m.sender or (_("(unparsed)") if m.kind == "unparsed" else _("(unknown)"))
            mark = "▶" if m.me else " "
            console.print(_text(f"{k:>{width}} {mark} {when:<16}  {who}: {m.text}"))
    _print_history(console, history)


def credential_lines(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) lines for an exhibit's content credentials (C2PA) and GB 45438-2025 AIGC label."""
    lines: list[tuple[str, str]] = []
    c2pa = metadata.get("c2pa")
    if isinstance(c2pa, dict):
        state = c2pa.get("state")
        codes = ", ".join(str(c) for c in c2pa.get("codes") or [] if c != "signingCredential.untrusted")
        if state == "valid":
            shown = _("valid")
        elif state == "untrusted":
            shown = _("untrusted (the signer is not on the C2PA trust list)")
        elif state == "invalid":
            shown = _("invalid ({codes})").format(codes=codes) if codes else _("invalid")
        elif c2pa.get("reason") == "not_installed":
            shown = _("present, not checked: c2pa-python is not installed (extra c2pa)")
        elif c2pa.get("reason") == "remote_manifest":
            shown = _("kept online at {url}, not fetched (the locker works offline)").format(
                url=c2pa.get("manifest_url"))
        else:
            shown = _("present, not checked: c2pa-python does not read this format")
        signer = c2pa.get("signer") or c2pa.get("signer_name")
        text = _("signed by {signer} · {state}").format(signer=signer, state=shown) if signer else shown
        lines.append((_("Content Credentials"), text))
        if c2pa.get("claim_generator"):
            lines.append(("  " + _("claim generator"), str(c2pa["claim_generator"])))
        if c2pa.get("actions"):
            actions = ", ".join(str(a) for a in c2pa["actions"])
            if c2pa.get("digital_source_type"):
                actions += f" ({c2pa['digital_source_type']})"
            lines.append(("  " + _("actions"), actions))
    aigc = metadata.get("aigc")
    if isinstance(aigc, dict):
        meaning = {"ai_generated": _("AI-generated content"),
                   "possibly_ai_generated": _("possibly AI-generated content"),
                   "suspected_ai_generated": _("suspected AI-generated content")}.get(
            str(aigc.get("meaning")), _("label value {label}").format(label=aigc.get("label")))
        text = _("{meaning} (GB 45438-2025 label in the XMP)").format(meaning=meaning)
        if aigc.get("producer"):
            text += " · " + _("producer {producer}").format(producer=aigc["producer"])
        lines.append((_("AI label"), text))
    return lines


def print_verify(report: VerifyReport) -> None:
    console = _console()
    if not report.disputes:
        console.print(_("No disputes to verify."))
    for d in report.disputes:
        if d.ok:
            console.print(_text(_("{slug}: OK — {count} objects re-hashed, custody log intact").format(
                slug=d.slug, count=d.objects_checked)))
            for p in d.problems:  # warnings only: e.g. an object an interrupted add left behind
                console.print(_text(_("  warning: {problem}: {detail}").format(problem=p.problem, detail=p.detail)))
        else:
            console.print(_text(_("{slug}: {problems} problem(s) — {count} objects checked").format(
                slug=d.slug, problems=len(d.problems), count=d.objects_checked)))
            for p in d.problems:
                where = _("exhibit {number}").format(number=p.exhibit) if p.exhibit is not None else _("dispute")
                console.print(_text(f"  {where}: {p.problem}: {p.detail}"))
        if d.archived is not None:
            console.print(_text(_("  last archived to {remote} ({url}) at {at}, custody entry {seq}").format(
                remote=d.archived.remote, url=d.archived.url, at=d.archived.at, seq=d.archived.seq)))


def print_rebuild(result: Any) -> None:
    console = _console()
    for d in result.made:
        what = (_("{count} key frames").format(count=len(d.manifest.get("frames", [])))
                if d.manifest.get("type") == "video_frames"
                else _("display rendition and thumbnail") + (_(", {count} page slices").format(count=len(d.manifest["slices"]))
                                                             if d.manifest.get("slices") else ""))
        console.print(_text(_("exhibit {number}: {what}").format(number=d.exhibit, what=what)))
    console.print(_("{count} exhibit(s) rebuilt, {skipped} without derived files").format(
        count=len(result.made), skipped=result.skipped))
    if getattr(result, "ocr", None) is not None and result.ocr.read_now:
        console.print(_text(_("{count} picture(s) read by OCR").format(count=result.ocr.read_now)))
    for number, reason in result.failed:
        print_error(_("exhibit {number}: {what}").format(number=number, what=reason))
    for note in getattr(result, "notes", ()):
        print_warning(note)


def _log_summary(action: str, payload: Any) -> str:
    """One line of what a custody entry says; `log --json` has all of it."""
    from . import domain  # lazily: its custody readings cost ~30 ms that search and most commands never use

    r = domain.read_entry(action, payload)
    if isinstance(r, domain.ExhibitAdded):
        extra = _(", {count} messages").format(count=r.messages.count) if r.messages else ""
        if r.channel is not None:  # sent through locker serve: the copy a browser sent
            extra += _(", sent by a browser ({channel})").format(channel=r.channel.name)
        return _("exhibit {number}: {name} sha256 {sha256}{extra}").format(
            number=r.exhibit, name=r.original_name, sha256=(r.sha256 or "")[:12], extra=extra)
    if isinstance(r, domain.ExhibitWithdrawn):
        return _("exhibit {number}: {what}").format(number=r.exhibit, what=r.reason)
    if isinstance(r, domain.ExhibitRestored):
        return _("exhibit {number} restored: {reason}").format(number=r.exhibit, reason=r.reason)
    if isinstance(r, (domain.DisputeEdited, domain.ExhibitEdited)):
        where = _("exhibit {number}: ").format(number=r.exhibit) if isinstance(r, domain.ExhibitEdited) else ""
        return where + "; ".join(f"{c.field} {_was(c.before)} → {_was(c.after)}" for c in r.changes)
    if isinstance(r, domain.MessageEdited):
        return _("exhibit {number} message {k}: {before} → {after}").format(
            number=r.exhibit, k=r.message, before=_was(r.before), after=_was(r.after))
    if isinstance(r, domain.ExhibitReread):
        count = r.messages.count if r.messages else None
        order = _(", dates {order}").format(order=r.date_order) if r.date_order else ""
        return _("exhibit {number}: read again as {format}{order}, {count} messages").format(
            number=r.exhibit, format=r.chat_format, order=order, count=count)
    if isinstance(r, domain.ExhibitTranscribed):
        count = r.messages.count if r.messages else 0
        facts = ", ".join(f"{f.get('name')} {f.get('value')}" for f in r.facts or ())
        return _("exhibit {number}: machine-read (OCR): {count} messages").format(number=r.exhibit, count=count) + (
            f"; {facts}" if facts else "")
    if isinstance(r, domain.KitCreated):
        return _("upload kit for {form}: {count} cards, kit.json {sha}…").format(
            form=r.form, count=len(r.cards), sha=(r.manifest_sha256 or "")[:12])
    if isinstance(r, domain.StatusChanged):
        note = f" ({r.note})" if r.note else ""
        return f"{r.before} → {r.after}{note}"
    if isinstance(r, domain.EventAdded):
        return f"{r.at} {r.type}: {r.description}"
    if isinstance(r, domain.DisputeCreated):
        return f"{r.slug}: {r.title}"
    if isinstance(r, domain.ExportCreated):
        return f"{r.path} sha256 {(r.sha256 or '')[:12]}"
    if isinstance(r, domain.BundleCreated):
        return f"{r.path} sha256 {(r.sha256 or '')[:12]}"
    if isinstance(r, domain.DisputeRenamed):
        return f"{r.before} → {r.after}"
    if isinstance(r, domain.Archived):  # locker archive: one run to a write-once remote
        return _("to {remote} ({url}): {count} key(s) uploaded, {kept} already there; locked until {until}").format(
            remote=r.remote, url=r.url, count=len(r.uploaded), kept=r.kept, until=r.retain_until)
    if isinstance(r, domain.Restored):  # locker restore --from: the entries before this one are the archive's
        return _("from {url}, recorded as {slug}, archived chain up to entry {seq}").format(
            url=r.url, slug=r.slug, seq=r.head_seq)
    if isinstance(r, domain.Imported):  # locker import: the entries before this one are the bundle's
        return _("from {bundle} sha256 {sha256}, recorded as {slug}").format(
            bundle=r.bundle, sha256=(r.sha256 or "")[:12], slug=r.slug) + (
            "; " + ", ".join(r.problems) if r.problems else "")
    return json.dumps(payload, ensure_ascii=False)[:120]


def _was(value: str | None, limit: int = 60) -> str:
    """A corrected value in one line of the log: quoted and cut short, or — when empty."""
    if value is None:
        return "—"
    flat = " ".join(value.split())
    return f"“{flat if len(flat) <= limit else flat[:limit - 1] + '…'}”"


def print_export(result: Any) -> None:
    console = _console()
    console.print(_text(_("Wrote the evidence pack of {slug}: {path}").format(slug=result.slug, path=result.path)))
    grid = _fields([
        (N_("pages"), str(result.pages)),
        (N_("exhibits"), ", ".join(map(str, result.exhibits)) or _("none")),
        (N_("language"), result.lang),
        (N_("size"), _("{size} (pictures at {quality})").format(size=human_size(result.size), quality=result.image_quality)),
        (N_("sha256"), result.sha256),
        (N_("fingerprint"), result.fingerprint or _("none (the pack holds no exhibits)")),
        (N_("font"), result.font),
        (N_("attached"), _("{count} original(s)").format(count=len(result.attachments)) if result.attachments else None),
    ])
    console.print(grid)
    stamped = getattr(result, "timestamp", None)
    if stamped is not None:  # export --stamp
        console.print(_text(_("timestamp: {tsa} says {time} (serial {serial}) over the fingerprint; token: {file}").format(
            tsa=stamped.tsa, time=stamped.gen_time, serial=stamped.serial, file=result.timestamp_copy)))
    for left in result.left_out:
        why = _("withdrawn: {reason}").format(reason=left.reason) if left.withdrawn else _("left out")
        console.print(_text(_("not in the pack: exhibit {number} ({name}) — {why}").format(
            number=left.number, name=left.name, why=why)))
    for warning in result.warnings:
        print_warning(warning)


def print_log(entries: Sequence[LogEntry]) -> None:
    console = _console()
    for e in entries:
        summary = _log_summary(e.action, e.payload)
        console.print(_text(f"{e.seq:>4}  {_when(e.at)}  {e.action:<18} {e.hash[:12]}  {summary}"), soft_wrap=True)


def print_reread(result: Reread) -> None:
    console = _console()
    order = (_(", dates {order} ({source})").format(order=result.date_order, source=result.date_order_source)
             if result.date_order else "")
    console.print(_text(_("exhibit {number} of {slug}: read again as {format}{order}: {count} messages "
                          "(were {previous}), custody entry {seq}").format(
        number=result.exhibit, slug=result.slug, format=result.chat_format, order=order,
        count=result.message_count, previous=result.previous_count, seq=result.seq)))
    for w in result.warnings:
        print_warning(warncodes.show(w))


def print_profile(profile: Profile) -> None:
    console = _console()
    for key, value in profile.as_dict().items():
        label = _pad(_(PROFILE_LABELS.get(key, key)), 10)
        shown = value if value is not None else _("(not set)")
        console.print(_text(f"{label} {shown}"))


PROFILE_LABELS = {"name": N_("name"), "phone": N_("phone"), "email": N_("email"), "address": N_("address"),
                  "lang": N_("lang"), "tz": N_("tz"), "font": N_("font"), "date_order": N_("date_order"),
                  "tsa": N_("tsa")}
EXHIBIT_LABELS = {
    "exhibit": N_("exhibit"), "sha256": N_("sha256"), "size": N_("size"), "mime": N_("mime"), "kind": N_("kind"),
    "original_name": N_("original_name"), "title": N_("title"), "source": N_("source"), "purpose": N_("purpose"),
    "note": N_("note"), "captured_at": N_("captured_at"), "captured_at_source": N_("captured_at_source"),
    "ingested_at": N_("ingested_at"), "withdrawn": N_("withdrawn"),
}
_FIELD_NAMES = {"original_name": N_("file name"), "order_id": N_("order id"), "merchant_address": N_("merchant address"),
                "pdf_text": N_("document text"), "status_note": N_("status note"), "withdrawn_reason": N_("withdrawal reason"),
                "ocr_message": N_("message (machine-read, OCR)"), "ocr": N_("machine-read text (OCR)")}


# What the status and kind codes mean, for a reader of another language than English: shown
# beside the code (which is what --status, --kind and `locker status` take), never instead of it.
_GLOSSES = {
    "open": N_("status open"), "negotiating": N_("status negotiating"), "appealed": N_("status appealed"),
    "complained": N_("status complained"), "resolved": N_("status resolved"), "rejected": N_("status rejected"),
    "closed": N_("status closed"),
    "screenshot": N_("kind screenshot"), "photo": N_("kind photo"), "video": N_("kind video"),
    "audio": N_("kind audio"), "chat": N_("kind chat"), "document": N_("kind document"), "other": N_("kind other"),
}


def shown_code(code: str) -> str:
    """``negotiating`` in English, ``协商中（negotiating）`` in Chinese."""
    gloss = _GLOSSES.get(code)
    meaning = _(gloss) if gloss else gloss
    if not meaning or meaning == gloss:  # English, or a catalog without it
        return code
    return _("{meaning} ({code})").format(meaning=meaning, code=code)


def _pad(label: str, width: int) -> str:
    """``label`` padded to ``width`` terminal columns (a CJK character takes two)."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in label)
    return label + " " * max(width - used, 0)


def _yes_no(value: object) -> object:
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return value


_SGR = {"bold": "1", "dim": "2", "bold reverse": "1;7"}


def _styles_shown(stream: Any) -> bool:
    """Would rich style text on ``stream``? On a terminal (or with FORCE_COLOR), not a dumb one."""
    import os

    forced = bool(os.environ.get("FORCE_COLOR"))
    return (forced or stream.isatty()) and os.environ.get("TERM", "").lower() not in ("dumb", "unknown")


def print_search(result: Any) -> None:
    """Each hit: where it is, then its snippet with the matches highlighted. User text goes
    through ``safe`` for control characters and is never read as markup. Written without rich:
    importing it was a third of a whole ``locker search`` process (issue 10 §6)."""
    out = sys.stdout
    styled = _styles_shown(out)

    def paint(text: str, style: str | None) -> str:
        return f"\x1b[{_SGR[style]}m{text}\x1b[0m" if styled and style and text else text

    if not result.hits:
        out.write(safe(_("No matches for {query}.").format(query=result.query)) + "\n")
        return
    lines = []
    for h in result.hits:
        where = _("exhibit {number}").format(number=h.exhibit) if h.exhibit is not None else _("dispute")
        field = _(_FIELD_NAMES.get(h.field, h.field))
        if h.field == "ocr" and isinstance(getattr(h, "ref", None), int) and h.ref:
            where_in = _("page {n}") if h.ref > 0 else _("slice {n}")
            ocr_text = _("machine-read text (OCR)")
            field = f"{ocr_text}, {where_in.format(n=abs(h.ref))}"
        lines.append(paint(safe(h.dispute), "bold")
                     + paint(safe(f"  {where} · {field}" + (f" · {_when(h.at, offset=False)}" if h.at else "")
                                  + (_("  [withdrawn]") if h.withdrawn else "")), "dim"))
        lines.append("  " + "".join(paint(safe(segment), "bold reverse" if is_match else None)
                                    for segment, is_match in h.snippet))
    shown = ngettext("{count} hit", "{count} hits", len(result.hits)).format(count=len(result.hits))
    lines.append(_("{hits}; more with --limit").format(hits=shown) if result.more else shown)
    out.write("\n".join(line.rstrip() for line in lines) + "\n")
    out.flush()


def print_reindex(result: Any) -> None:
    console = _console()
    console.print(_text(_("{disputes} dispute(s), {rows} searchable rows indexed in {seconds} s").format(
        disputes=result.disputes, rows=result.documents, seconds=f"{result.seconds:.1f}")
        + (_("; text read from {count} PDF(s)").format(count=result.pdfs_read) if result.pdfs_read else "")))
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
        self._task = self._bar.add_task(_("{label} {count} file(s)").format(label=self.label, count=files),
                                        total=total_bytes)

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
        console.print(_text(_("{slug}: no orphaned objects").format(slug=result.slug)))
    else:
        console.print(_text(_("{slug}: removed {count} orphaned object(s), {size} freed").format(
            slug=result.slug, count=len(result.removed), size=human_size(result.bytes_freed))))
