"""The ``locker`` command line: parse → one core call → render.

Only typer is imported at module level so that ``locker --help`` starts fast;
the core (SQLModel, Pillow, PyAV, reportlab) is imported inside the commands.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, List, Optional

import typer

from .domain import DATE_ORDERS, KINDS, LANGS, STATUSES  # plain data: imports nothing


def _or(words: tuple[str, ...]) -> str:  # "a, b or c"
    return f"{', '.join(words[:-1])} or {words[-1]}"


app = typer.Typer(
    name="locker",
    help="Evidence Locker: keep every piece of a refund dispute hashed, dated and provably unaltered.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: typer's rich ones import rich, markdown-it and pydantic
    # (~0.3 s), and `locker --help` must start in under 0.2 s.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state: dict[str, Any] = {"home": None, "debug": False, "command": None, "answered": False}

JsonOpt = typer.Option(False, "--json", help="Print one JSON document on stdout and nothing else there.")


@app.callback()
def _global(
    home: Optional[str] = typer.Option(None, "--home", help="Locker home folder (default: $LOCKER_HOME, else the user data folder).", envvar=None),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback when something goes wrong."),
) -> None:
    _state["home"] = home
    _state["debug"] = debug


def _home(*, may_create: bool = False) -> Any:
    from .paths import open_home

    return open_home(_state["home"], may_create=may_create)


def _progress(label: str, json_out: bool) -> Any:
    if json_out or not sys.stderr.isatty():
        return None
    from .render import RichProgress

    return RichProgress(label)


@app.command()
def new(
    title: str = typer.Argument(..., help="What the dispute is about, e.g. 小红书无线耳机退款."),
    platform: Optional[str] = typer.Option(None, help="xiaohongshu, taobao, jd, pinduoduo, douyin, …"),
    merchant: Optional[str] = typer.Option(None, help="The shop or seller's name."),
    merchant_address: Optional[str] = typer.Option(None, help="The merchant's address or shop link."),
    order_id: Optional[str] = typer.Option(None, help="The platform's order number."),
    item: Optional[str] = typer.Option(None, help="What was bought (name, spec, quantity)."),
    amount: Optional[str] = typer.Option(None, help="Amount paid, exact, e.g. 199.00."),
    currency: Optional[str] = typer.Option(None, help="Currency code (default CNY)."),
    purchased_on: Optional[str] = typer.Option(None, help="Purchase date, YYYY-MM-DD."),
    claim: Optional[str] = typer.Option(None, help="What you ask for (诉求)."),
    summary: Optional[str] = typer.Option(None, help="The facts in short (事实与理由)."),
    slug: Optional[str] = typer.Option(None, help="Name the dispute's folder yourself (a-z, 0-9, -)."),
    json_out: bool = JsonOpt,
) -> None:
    """Open a dispute and print its name (slug)."""
    from . import render
    from .services import disputes

    dispute = disputes.new(
        _home(may_create=True), title, slug=slug, platform=platform, merchant=merchant, merchant_address=merchant_address,
        order_id=order_id, item=item, amount=amount, currency=currency, purchased_on=purchased_on,
        claim=claim, summary=summary,
    )
    render.emit_json(render.new_doc(dispute)) if json_out else render.print_new(dispute)


@app.command()
def add(
    dispute: str = typer.Argument(..., help="The dispute (its slug or a unique prefix)."),
    paths: List[str] = typer.Argument(..., help="Files or folders to add (folders are walked in sorted order)."),
    kind: Optional[str] = typer.Option(None, help=f"{_or(KINDS)}."),
    title: Optional[str] = typer.Option(None, help="证据名称: a name for the exhibit."),
    source: Optional[str] = typer.Option(None, help="证据来源: where it came from."),
    purpose: Optional[str] = typer.Option(None, help="证明目的: what it proves."),
    note: Optional[str] = typer.Option(None, help="A note of your own."),
    captured_at: Optional[str] = typer.Option(None, help="When it was taken, if you know better than the file."),
    me: Optional[str] = typer.Option(None, help="Your name as it appears in a chat export."),
    tz: Optional[str] = typer.Option(None, help="Time zone for times without one (default: the profile's)."),
    chat_format: Optional[str] = typer.Option(None, help="Read the files as this chat format (default: detected)."),
    date_order: Optional[str] = typer.Option(None, help=f"{_or(DATE_ORDERS)}: day/month order of a chat's dates (default: the profile's, else the data's, else assumed with a warning)."),
    json_out: bool = JsonOpt,
) -> None:
    """Add files or folders to a dispute as exhibits: stored byte for byte, hashed, dated, logged."""
    from . import render
    from .services import ingest

    options = ingest.AddOptions(kind=kind, title=title, source=source, purpose=purpose, note=note,
                                captured_at=captured_at, me=me, tz=tz, chat_format=chat_format,
                                date_order=date_order)
    _state["command"] = "add"  # its failures keep the added/errors form (see main)
    bar = _progress("adding", json_out)
    try:
        result = ingest.add(_home(), dispute, paths, options, progress=bar)
    finally:
        if bar:
            bar.stop()
    if json_out:
        render.emit_json(render.add_doc(result))
        _state["answered"] = True
        for note in result.notices:
            render.print_warning(note)
        for e in result.errors:
            render.print_error(f"{e.path}: {e.error}")
    else:
        render.print_add(result)
    if result.interrupted:
        raise typer.Exit(INTERRUPTED)
    if not result.ok:
        raise typer.Exit(1)


@app.command("list")
def list_(
    status: Optional[str] = typer.Option(None, help="Only disputes with this status."),
    platform: Optional[str] = typer.Option(None, help="Only disputes on this platform."),
    json_out: bool = JsonOpt,
) -> None:
    """The disputes, newest first."""
    from . import render
    from .services import disputes

    found = disputes.list_all(_home(), status=status, platform=platform)
    for slug, problem in found.unreadable:  # one damaged dispute never hides the others
        render.print_warning(f"{slug}: not listed: {problem}")
    render.emit_json(render.list_doc(list(found.disputes))) if json_out else render.print_list(list(found.disputes))


@app.command()
def show(
    dispute: str = typer.Argument(..., help="The dispute (its slug or a unique prefix)."),
    number: Optional[int] = typer.Argument(None, help="One exhibit's number."),
    json_out: bool = JsonOpt,
) -> None:
    """One dispute with its exhibits and timeline, or one exhibit."""
    from . import render
    from .services import disputes

    if number is None:
        detail = disputes.detail(_home(), dispute)
        render.emit_json(render.show_doc(detail)) if json_out else render.print_show(detail)
    else:
        from .services import exhibits

        found = exhibits.detail(_home(), dispute, number)
        if json_out:
            render.emit_json(render.show_exhibit_doc(found.exhibit, list(found.messages), found.reading))
        else:
            from .commands.ocr import print_reading

            render.print_exhibit(found.exhibit, found.messages, found.derived)
            print_reading(found.reading)


@app.command()
def export(
    dispute: str = typer.Argument(..., help="The dispute (its slug or a unique prefix)."),
    output: Optional[str] = typer.Option(None, "-o", "--output",
                                         help="Write the pack here (a file, or a folder for the dated name). "
                                              "Default: the dispute's exports/ folder."),
    lang: Optional[str] = typer.Option(None, "--lang", help=f"{_or(LANGS)} (default: the profile's language, else {LANGS[0]})."),
    letter: bool = typer.Option(False, "--letter", help="Begin with a letter of complaint (投诉书) for 12315 / a consumer association."),
    max_size: Optional[str] = typer.Option(None, "--max-size", help="Fit the pack in this size, e.g. 10MB, by lowering picture quality step by step."),
    attach_originals: bool = typer.Option(False, "--attach-originals", help="Embed the original files as PDF attachments, to be extracted and re-hashed."),
    include: Optional[List[str]] = typer.Option(None, "--include", help="Only these exhibits, e.g. 1,3 or 2-5 (repeatable); a withdrawn exhibit named here is included."),
    exclude: Optional[List[str]] = typer.Option(None, "--exclude", help="Leave these exhibits out, e.g. 4 or 2-3 (repeatable)."),
    font: Optional[str] = typer.Option(None, "--font", help="A CJK TrueType font file to use (PATH, or PATH#N for face N of a .ttc). Default: $LOCKER_FONT, the profile's font, else one found on the system."),
    force: bool = typer.Option(False, "--force", help="Let -o replace an existing file (never one inside the locker home)."),
    allow_damaged: bool = typer.Option(False, "--allow-damaged", help="Write the pack even when originals fail their SHA-256 check; those exhibits are stamped FAILED VERIFICATION (原件校验失败)."),
    json_out: bool = JsonOpt,
) -> None:
    """Write the PDF evidence pack: cover, facts, 证据目录, timeline, every exhibit, hash appendix."""
    from . import render
    from .services import export as exporting

    options = exporting.ExportOptions(output=output, lang=lang, letter=letter, max_size=max_size,
                                      attach_originals=attach_originals, include=tuple(include or ()),
                                      exclude=tuple(exclude or ()), font=font, force=force,
                                      allow_damaged=allow_damaged)
    bar = _progress("rendering", json_out)
    try:
        result = exporting.export(_home(), dispute, options, progress=bar)
    finally:
        if bar:
            bar.stop()
    if json_out:
        render.emit_json(render.export_doc(result))
        for warning in result.warnings:
            render.print_warning(warning)
    else:
        render.print_export(result)


@app.command()
def event(
    dispute: str = typer.Argument(..., help="The dispute."),
    text: str = typer.Argument(..., help="What happened."),
    at: str = typer.Option(..., "--at", help="When: 2025-05-03 15:20, or with an offset."),
    type: str = typer.Option("note", "--type", help="A short word: purchase, delivery, contact, refusal, appeal, …"),
    exhibit: Optional[List[int]] = typer.Option(None, "--exhibit", help="Exhibit numbers this event refers to (repeatable)."),
    tz: Optional[str] = typer.Option(None, help="Time zone for --at without one."),
    json_out: bool = JsonOpt,
) -> None:
    """Add an event to the dispute's timeline."""
    from . import render
    from .services import timeline

    ev = timeline.add_event(_home(), dispute, text, at=at, type=type, exhibits=exhibit or [], tz_name=tz)
    if json_out:
        render.emit_json(render.event_doc(ev))
    else:
        typer.echo(f"Event added at {ev.at}.")


@app.command()
def status(
    dispute: str = typer.Argument(..., help="The dispute."),
    new_status: str = typer.Argument(..., metavar="STATUS",
                                     help=f"{_or(STATUSES)}."),
    note: Optional[str] = typer.Option(None, help="Why, in a few words."),
    json_out: bool = JsonOpt,
) -> None:
    """Move the dispute on to a new status."""
    from . import render
    from .services import disputes

    found = disputes.set_status(_home(), dispute, new_status, note)
    if json_out:
        render.emit_json(render.status_doc(found))
    else:
        typer.echo(f"{found.slug} is now {found.status}.")


@app.command()
def withdraw(
    dispute: str = typer.Argument(..., help="The dispute."),
    number: int = typer.Argument(..., help="The exhibit's number."),
    reason: str = typer.Option(..., "--reason", help="Why it is withdrawn."),
    json_out: bool = JsonOpt,
) -> None:
    """Withdraw an exhibit: it leaves the pack, but its file and record are kept."""
    from . import render
    from .services import exhibits

    found = exhibits.withdraw(_home(), dispute, number, reason)
    if json_out:
        render.emit_json(render.exhibit_doc(found))
    else:
        typer.echo(f"Exhibit {found.number} withdrawn; its file and record are kept.")


@app.command()
def verify(
    dispute: Optional[str] = typer.Argument(None, help="One dispute (default: all)."),
    json_out: bool = JsonOpt,
) -> None:
    """Re-hash every object and check every custody chain. Exit 1 on any problem."""
    from . import render
    from .services import verify as verifying

    bar = _progress("verifying", json_out)
    try:
        report = verifying.verify(_home(), dispute, progress=bar)
    finally:
        if bar:
            bar.stop()
    render.emit_json(render.verify_doc(report)) if json_out else render.print_verify(report)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def gc(
    dispute: str = typer.Argument(..., help="The dispute."),
    json_out: bool = JsonOpt,
) -> None:
    """Remove orphaned objects: intact files that no exhibit names, left by an interrupted add."""
    from . import render
    from .services import gc as collecting

    result = collecting.remove_orphans(_home(), dispute)
    render.emit_json(render.gc_doc(result)) if json_out else render.print_gc(result)


@app.command()
def rebuild(
    dispute: str = typer.Argument(..., help="The dispute."),
    json_out: bool = JsonOpt,
) -> None:
    """Make the derived files again (video key frames, image renditions, slice plans) from the originals."""
    from . import render
    from .services import rebuild as rebuilding

    bar = _progress("rebuilding", json_out)
    try:
        result = rebuilding.rebuild(_home(), dispute, progress=bar)
    finally:
        if bar:
            bar.stop()
    render.emit_json(render.rebuild_doc(result)) if json_out else render.print_rebuild(result)
    if result.failed:
        raise typer.Exit(1)


@app.command()
def log(
    dispute: str = typer.Argument(..., help="The dispute."),
    json_out: bool = JsonOpt,
) -> None:
    """The dispute's custody log, oldest first."""
    from . import render
    from .services import timeline

    entries = timeline.log(_home(), dispute)
    render.emit_json(render.log_doc(entries)) if json_out else render.print_log(entries)


@app.command()
def search(
    query: str = typer.Argument(..., help="Words, numbers or Chinese to find; every word must match (退款, 8 digits of an order number…)."),
    platform: Optional[str] = typer.Option(None, help="Only disputes on this platform."),
    status: Optional[str] = typer.Option(None, help="Only disputes with this status."),
    kind: Optional[str] = typer.Option(None, help="Only in exhibits of this kind (chat, document, screenshot, …)."),
    since: Optional[str] = typer.Option(None, help="Only what is dated on or after this day, YYYY-MM-DD (a message's time, an event's, an exhibit's capture)."),
    until: Optional[str] = typer.Option(None, help="Only what is dated on or before this day, YYYY-MM-DD."),
    dispute: Optional[str] = typer.Option(None, "--dispute", help="Only in this dispute (its slug or a unique prefix)."),
    limit: int = typer.Option(20, "--limit", help="At most this many hits."),
    json_out: bool = JsonOpt,
) -> None:
    """Find text across every dispute: fields, exhibit notes, chat messages, events, PDF text."""
    from . import render
    from .services import search as searching

    result = searching.search(_home(), query, platform=platform, status=status, kind=kind, since=since,
                              until=until, dispute=dispute, limit=limit)
    for note in result.notices:
        render.print_warning(note)
    render.emit_json(render.search_doc(result)) if json_out else render.print_search(result)


@app.command()
def reread(
    dispute: str = typer.Argument(..., help="The dispute (its slug or a unique prefix)."),
    number: int = typer.Argument(..., help="The chat exhibit's number."),
    date_order: Optional[str] = typer.Option(None, help=f"{_or(DATE_ORDERS)}: day/month order of the chat's dates."),
    me: Optional[str] = typer.Option(None, help="Your name as it appears in the chat (default: as last read)."),
    tz: Optional[str] = typer.Option(None, help="Time zone of the chat's times (default: as last read)."),
    chat_format: Optional[str] = typer.Option(None, help="Read it as this chat format (default: as last read, else detected)."),
    json_out: bool = JsonOpt,
) -> None:
    """Read a stored chat export into messages again (custody-logged; verify checks the new messages)."""
    from . import render
    from .services import chat

    result = chat.reread(_home(), dispute, number, date_order=date_order, me=me, tz=tz, chat_format=chat_format)
    render.emit_json(render.reread_doc(result)) if json_out else render.print_reread(result)


@app.command()
def reindex(json_out: bool = JsonOpt) -> None:
    """Rebuild the search catalog (a cache in the home) from every dispute's own index."""
    from . import render
    from .services import search as searching

    bar = _progress("reindexing", json_out)
    try:
        result = searching.reindex(_home(), progress=bar)
    finally:
        if bar:
            bar.stop()
    render.emit_json(render.reindex_doc(result)) if json_out else render.print_reindex(result)
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def profile(
    name: Optional[str] = typer.Option(None, help="Your name (the complainant)."),
    phone: Optional[str] = typer.Option(None, help="Your phone number."),
    email: Optional[str] = typer.Option(None, help="Your e-mail address."),
    address: Optional[str] = typer.Option(None, help="Your postal address."),
    lang: Optional[str] = typer.Option(None, help=f"Language of the documents: {_or(LANGS)}."),
    tz: Optional[str] = typer.Option(None, help="Your time zone, e.g. Asia/Shanghai."),
    font: Optional[str] = typer.Option(None, help="A CJK TrueType font for the PDF pack (PATH or PATH#N)."),
    date_order: Optional[str] = typer.Option(None, help=f"{_or(DATE_ORDERS)}: how to read chat dates the data cannot tell."),
    json_out: bool = JsonOpt,
) -> None:
    """Show, or set, who the claimant is."""
    from . import render
    from .services import profile as profiles

    changes = {"name": name, "phone": phone, "email": email, "address": address, "lang": lang, "tz": tz,
               "font": font, "date_order": date_order}
    home = _home(may_create=True)
    if any(v is not None for v in changes.values()):
        current = profiles.update(home, changes)
    else:
        current = profiles.load(home)
    render.emit_json(current.as_dict()) if json_out else render.print_profile(current)


# The second wave's commands live in locker/commands/ (one module per area); importing them
# registers them on `app`.
from .commands import register as _register_commands  # noqa: E402

_register_commands()


_DISK_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.EIO}
INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C (128 + SIGINT)


def _fail(json_out: bool, code: str, message: str, path: str | None = None) -> None:
    """A failure's one JSON document on stdout (with --json, when the command has not answered)."""
    if not json_out or _state["answered"]:
        return
    from .render import emit_json, error_doc

    doc = error_doc(code, message, path)
    emit_json({"added": [], "errors": [], **doc} if _state["command"] == "add" else doc)


def main(argv: list[str] | None = None) -> int:
    """Entry point and the one error boundary: no traceback reaches a user without --debug.

    Every failure is one line on stderr and an exit code: 2 for a usage error, 1 for anything
    the user can act on, 130 after Ctrl-C, 70 for a bug. With --json, stdout holds exactly one
    document even then: the command's own, or ``{"error": {"code", "message", "path"}}``.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args
    json_out = "--json" in args
    _state.update(command=None, answered=False)
    # Evidence is personal: whatever the locker creates (databases and their -wal/-shm
    # files, temp files, exports, derived files) is the user's alone.
    previous_umask = os.umask(0o077)
    try:
        # Without --json typer shows its usage errors itself; with it, they come here as
        # exceptions to be answered in JSON. Ctrl-C comes back from typer as exit code 130.
        code = app(args=args, prog_name="locker", standalone_mode=not json_out)
        code = code if isinstance(code, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        code = INTERRUPTED
    except BrokenPipeError:
        return 141
    except Exception as exc:
        from .errors import LockerError

        if debug:
            import traceback

            traceback.print_exc()
        if isinstance(exc, LockerError):
            from .render import print_error

            print_error(str(exc))
            _fail(json_out, exc.code, exc.message, exc.path)
            return exc.exit_code
        if hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int):
            message = exc.format_message()  # typer's usage error (only with --json: see above)
            sys.stderr.write(f"locker: {message}\n")
            _fail(json_out, "usage", message)
            return int(exc.exit_code)  # type: ignore[attr-defined]  # an int: checked above
        if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:  # the disk said no: not a bug
            from .errors import READ_ONLY
            from .render import print_error

            message = READ_ONLY if exc.errno == errno.EROFS else (exc.strerror or str(exc))
            path = None if exc.filename is None else os.fsdecode(exc.filename)
            print_error(f"{path}: {message}" if path else message)
            _fail(json_out, "store", message, path)
            return 1
        if type(exc).__name__ == "Abort":  # typer's answer to end-of-input at a prompt
            sys.stderr.write("locker: aborted\n")
            _fail(json_out, "aborted", "aborted")
            return 1
        first = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(f"locker: internal error: {type(exc).__name__}: {first}"
                         f"{'' if debug else ' (run with --debug for details)'}\n")
        _fail(json_out, "internal", f"{type(exc).__name__}: {first}")
        return 70
    finally:
        os.umask(previous_umask)
    if code == INTERRUPTED:
        sys.stderr.write("locker: interrupted\n")
        _fail(json_out, "interrupted", "interrupted")
    return code


if __name__ == "__main__":
    sys.exit(main())
