"""The first commands: open a dispute, add to it, list, show, export, record events and status,
withdraw, verify, collect orphans, rebuild derived files, the custody log, search, read a chat
again, rebuild the search catalog, and the profile. Each parses, calls one service and renders
what it returns; ``locker.cli`` imports this module before the others so that ``locker --help``
lists these first, in this order.
"""

from __future__ import annotations

from typing import List, Optional

import typer

from ..cli import INTERRUPTED, DisputeArg, JsonOpt, _home, _progressing, _state, app
from ..i18n import N_, _


@app.command(help=N_("Open a dispute and print its name (slug)."))
def new(
    title: str = typer.Argument(..., metavar="TITLE", help=N_("What the dispute is about, e.g. 小红书无线耳机退款.")),
    platform: Optional[str] = typer.Option(None, metavar="PLATFORM", help=N_("xiaohongshu, taobao, jd, pinduoduo, douyin, …")),
    merchant: Optional[str] = typer.Option(None, metavar="NAME", help=N_("The shop or seller's name.")),
    merchant_address: Optional[str] = typer.Option(None, metavar="ADDRESS", help=N_("The merchant's address or shop link.")),
    order_id: Optional[str] = typer.Option(None, metavar="NUMBER", help=N_("The platform's order number.")),
    item: Optional[str] = typer.Option(None, metavar="ITEM", help=N_("What was bought (name, spec, quantity).")),
    amount: Optional[str] = typer.Option(None, metavar="AMOUNT", help=N_("Amount paid, exact, e.g. 199.00.")),
    currency: Optional[str] = typer.Option(None, metavar="CODE", help=N_("Currency code (default CNY).")),
    purchased_on: Optional[str] = typer.Option(None, metavar="DATE", help=N_("Purchase date, e.g. 2025-05-01.")),
    claim: Optional[str] = typer.Option(None, metavar="CLAIM", help=N_("What you ask for (诉求).")),
    summary: Optional[str] = typer.Option(None, metavar="SUMMARY", help=N_("The facts in short (事实与理由).")),
    slug: Optional[str] = typer.Option(None, metavar="SLUG", help=N_("Name the dispute's folder yourself (a-z, 0-9, -).")),
    from_screenshot: Optional[str] = typer.Option(
        None, "--from-screenshot", metavar="FILE",
        help=N_("Fill the empty fields from an order or after-sales screenshot (OCR; each filled field is printed, "
                "a value typed here wins); the screenshot becomes exhibit 1.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import disputes

    fields = dict(platform=platform, merchant=merchant, merchant_address=merchant_address, order_id=order_id,
                  item=item, amount=amount, currency=currency, purchased_on=purchased_on, claim=claim, summary=summary)
    report = None
    if from_screenshot:
        from .ocrchat import fill_from_screenshot

        fields, report = fill_from_screenshot(from_screenshot, fields, json_out)
    dispute = disputes.new(_home(may_create=True), title, slug=slug, **fields)
    if report is not None:
        from .ocrchat import add_screenshot

        report = add_screenshot(dispute.slug, from_screenshot, report, json_out)  # type: ignore[arg-type]
    if json_out:
        render.emit_json({**render.new_doc(dispute), **({"from_screenshot": report} if report else {})})
    else:
        render.print_new(dispute)


@app.command(help=N_("Add files or folders to a dispute as exhibits: stored byte for byte, hashed, dated, logged."))
def add(
    dispute: str = DisputeArg,
    paths: List[str] = typer.Argument(..., metavar="FILE…", help=N_("Files or folders to add (folders are walked in sorted order).")),
    kind: Optional[str] = typer.Option(None, metavar="KIND", help=N_("{kinds}.")),
    title: Optional[str] = typer.Option(None, metavar="TITLE", help=N_("证据名称: a name for the exhibit.")),
    source: Optional[str] = typer.Option(None, metavar="SOURCE", help=N_("证据来源: where it came from.")),
    purpose: Optional[str] = typer.Option(None, metavar="PURPOSE", help=N_("证明目的: what it proves.")),
    note: Optional[str] = typer.Option(None, metavar="NOTE", help=N_("A note of your own.")),
    captured_at: Optional[str] = typer.Option(None, metavar="WHEN", help=N_("When it was taken, if you know better than the file, e.g. 2025-05-03T15:21.")),
    me: Optional[str] = typer.Option(None, metavar="NAME", help=N_("Your name as it appears in a chat export.")),
    tz: Optional[str] = typer.Option(None, metavar="ZONE", help=N_("Time zone for times without one, e.g. Asia/Shanghai or +08:00 (default: the profile's).")),
    chat_format: Optional[str] = typer.Option(None, metavar="FORMAT", help=N_("Read the files as this chat format (default: detected).")),
    date_order: Optional[str] = typer.Option(None, metavar="ORDER", help=N_("{date_orders}: day/month order of a chat's dates (default: the profile's, else the data's, else assumed with a warning).")),
    json_out: bool = JsonOpt,
) -> None:
    from ..services import ingest  # render after the add: its imports need not delay the first bytes

    options = ingest.AddOptions(kind=kind, title=title, source=source, purpose=purpose, note=note,
                                captured_at=captured_at, me=me, tz=tz, chat_format=chat_format,
                                date_order=date_order)
    _state["command"] = "add"  # its failures keep the added/errors form (see main)
    result = _progressing(_("adding"), json_out, ingest.add, _home(), dispute, paths, options)
    from .. import render

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


@app.command("list", help=N_("The disputes, newest first."))
def list_(
    status: Optional[str] = typer.Option(None, metavar="STATUS", help=N_("Only disputes with this status.")),
    platform: Optional[str] = typer.Option(None, metavar="PLATFORM", help=N_("Only disputes on this platform.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import disputes

    found = disputes.list_all(_home(), status=status, platform=platform)
    for slug, problem in found.unreadable:  # one damaged dispute never hides the others
        render.print_warning(_("{slug}: not listed: {problem}").format(slug=slug, problem=problem))
    render.emit_json(render.list_doc(list(found.disputes))) if json_out else render.print_list(list(found.disputes))


@app.command(help=N_("One dispute with its exhibits and timeline, or one exhibit."))
def show(
    dispute: str = DisputeArg,
    number: Optional[int] = typer.Argument(None, metavar="N", help=N_("One exhibit's number.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import disputes

    if number is None:
        detail = disputes.detail(_home(), dispute)
        render.emit_json(render.show_doc(detail)) if json_out else render.print_show(detail)
    else:
        from ..services import exhibits

        found = exhibits.detail(_home(), dispute, number)
        if json_out:
            render.emit_json(render.show_exhibit_doc(found.exhibit, list(found.messages), found.history, found.facts,
                                                     found.reading))
        else:
            from .ocr import print_reading

            render.print_exhibit(found.exhibit, found.messages, found.derived, found.history, found.facts)
            print_reading(found.reading)


@app.command(help=N_("Write the PDF evidence pack: cover, facts, 证据目录, timeline, every exhibit, hash appendix."))
def export(
    dispute: str = DisputeArg,
    output: Optional[str] = typer.Option(None, "-o", "--output", metavar="PATH",
                                         help=N_("Write the pack here (a file, or a folder for the dated name). "
                                                 "Default: the dispute's exports/ folder.")),
    lang: Optional[str] = typer.Option(None, "--lang", metavar="zh|en", help=N_("Language of the pack: {langs} (default: the profile's language, else {default_lang}).")),
    letter: bool = typer.Option(False, "--letter", help=N_("Begin with a letter of complaint (投诉书) for 12315 / a consumer association.")),
    max_size: Optional[str] = typer.Option(None, "--max-size", metavar="SIZE", help=N_("Fit the pack in this size, e.g. 10MB, by lowering picture quality step by step.")),
    attach_originals: bool = typer.Option(False, "--attach-originals", help=N_("Embed the original files as PDF attachments, to be extracted and re-hashed.")),
    include: Optional[List[str]] = typer.Option(None, "--include", metavar="N", help=N_("Only these exhibits, e.g. 1,3 or 2-5 (repeatable); a withdrawn exhibit named here is included.")),
    exclude: Optional[List[str]] = typer.Option(None, "--exclude", metavar="N", help=N_("Leave these exhibits out, e.g. 4 or 2-3 (repeatable).")),
    font: Optional[str] = typer.Option(None, "--font", metavar="PATH", help=N_("A CJK TrueType font file to use (PATH, or PATH#N for face N of a .ttc). Default: $LOCKER_FONT, the profile's font, else one found on the system.")),
    force: bool = typer.Option(False, "--force", help=N_("Let -o replace an existing file (never one inside the locker home).")),
    allow_damaged: bool = typer.Option(False, "--allow-damaged", help=N_("Write the pack even when originals fail their SHA-256 check; those exhibits are stamped FAILED VERIFICATION (原件校验失败).")),
    stamp: bool = typer.Option(False, "--stamp", help=N_("First ask a time-stamp authority (RFC 3161) for a token over the pack's fingerprint; the pack lists it, a copy goes beside the pack (.tsr). Uses the network.")),
    tsa: Optional[List[str]] = typer.Option(None, "--tsa", metavar="URL", help=N_("The time-stamp authority for --stamp (repeatable; default: the profile's).")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import export as exporting

    options = exporting.ExportOptions(output=output, lang=lang, letter=letter, max_size=max_size,
                                      attach_originals=attach_originals, include=tuple(include or ()),
                                      exclude=tuple(exclude or ()), font=font, force=force,
                                      allow_damaged=allow_damaged, stamp=stamp, tsa=tuple(tsa or ()))
    result = _progressing(_("rendering"), json_out, exporting.export, _home(), dispute, options)
    if json_out:
        render.emit_json(render.export_doc(result))
        for warning in result.warnings:
            render.print_warning(warning)
    else:
        render.print_export(result)


@app.command(help=N_("Add an event to the dispute's timeline."))
def event(
    dispute: str = DisputeArg,
    text: str = typer.Argument(..., metavar="WHAT", help=N_("What happened.")),
    at: str = typer.Option(..., "--at", metavar="WHEN", help=N_("When: 2025-05-03T15:21 (or 2025-05-03 15:21), in --tz or the profile's zone; an offset like +08:00 may follow.")),
    type: str = typer.Option("note", "--type", metavar="TYPE", help=N_("A short word: purchase, delivery, contact, refusal, appeal, …")),
    exhibit: Optional[List[int]] = typer.Option(None, "--exhibit", metavar="N", help=N_("Exhibit numbers this event refers to (repeatable).")),
    tz: Optional[str] = typer.Option(None, metavar="ZONE", help=N_("Time zone for --at without one, e.g. Asia/Shanghai.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import timeline

    ev = timeline.add_event(_home(), dispute, text, at=at, type=type, exhibits=exhibit or [], tz_name=tz)
    if json_out:
        render.emit_json(render.event_doc(ev))
    else:
        typer.echo(_("Event added at {at}.").format(at=ev.at))


@app.command(help=N_("Move the dispute on to a new status."))
def status(
    dispute: str = DisputeArg,
    new_status: str = typer.Argument(..., metavar="STATUS", help=N_("{statuses}.")),
    note: Optional[str] = typer.Option(None, metavar="NOTE", help=N_("Why, in a few words.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import disputes

    found = disputes.set_status(_home(), dispute, new_status, note)
    if json_out:
        render.emit_json(render.status_doc(found))
    else:
        typer.echo(_("{slug} is now {status}.").format(slug=found.slug, status=render.shown_code(found.status)))


@app.command(help=N_("Withdraw an exhibit: it leaves the pack, but its file and record are kept."))
def withdraw(
    dispute: str = DisputeArg,
    number: int = typer.Argument(..., metavar="N", help=N_("The exhibit's number.")),
    reason: str = typer.Option(..., "--reason", metavar="REASON", help=N_("Why it is withdrawn.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import exhibits

    found = exhibits.withdraw(_home(), dispute, number, reason)
    if json_out:
        render.emit_json(render.exhibit_doc(found))
    else:
        typer.echo(_("Exhibit {number} withdrawn; its file and record are kept.").format(number=found.number))


@app.command(help=N_("Re-hash every object and check every custody chain. Exit 1 on any problem."))
def verify(
    dispute: Optional[str] = typer.Argument(None, metavar="DISPUTE", help=N_("One dispute (default: all).")),
    bundle: Optional[str] = typer.Option(None, "--bundle", metavar="FILE.zip", help=N_("Check a bundle (locker bundle) instead, with no locker home needed.")),
    remote: Optional[str] = typer.Option(None, "--remote", metavar="NAME", help=N_("Check the dispute's copy on this remote instead (locker archive): every key present, byte-identical by the storage's SHA-256, under retention; every custody entry archived.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import verify as verifying

    if remote is not None:
        from ..errors import UsageError

        if dispute is None or bundle is not None:
            raise UsageError(_("verify --remote NAME checks one dispute: locker verify DISPUTE --remote NAME"))
        from .remote import verify_remote

        return verify_remote(dispute, remote, json_out)
    if bundle is not None:
        if dispute is not None:
            from ..errors import UsageError

            raise UsageError(_("verify checks a dispute or a bundle, not both"))
        from .bundle import verify_bundle

        return verify_bundle(bundle, json_out)
    report = _progressing(_("verifying"), json_out, verifying.verify, _home(), dispute)
    render.emit_json(render.verify_doc(report)) if json_out else render.print_verify(report)
    if not report.ok:
        raise typer.Exit(1)


@app.command(help=N_("Remove orphaned objects: intact files that no exhibit names, left by an interrupted add."))
def gc(
    dispute: str = DisputeArg,
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import gc as collecting

    result = collecting.remove_orphans(_home(), dispute)
    render.emit_json(render.gc_doc(result)) if json_out else render.print_gc(result)


@app.command(help=N_("Make the derived files again (video key frames, image renditions, slice plans) from the originals."))
def rebuild(
    dispute: str = DisputeArg,
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import rebuild as rebuilding

    result = _progressing(_("rebuilding"), json_out, rebuilding.rebuild, _home(), dispute)
    render.emit_json(render.rebuild_doc(result)) if json_out else render.print_rebuild(result)
    if result.failed:
        raise typer.Exit(1)


@app.command(help=N_("The dispute's custody log, oldest first."))
def log(
    dispute: str = DisputeArg,
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import timeline

    entries = timeline.log(_home(), dispute)
    render.emit_json(render.log_doc(entries)) if json_out else render.print_log(entries)


@app.command(help=N_("Find text across every dispute: fields, exhibit notes, chat messages, events, PDF text."))
def search(
    query: str = typer.Argument(..., metavar="WORDS", help=N_("Words, numbers or Chinese to find; every word must match (退款, 8 digits of an order number…).")),
    platform: Optional[str] = typer.Option(None, metavar="PLATFORM", help=N_("Only disputes on this platform.")),
    status: Optional[str] = typer.Option(None, metavar="STATUS", help=N_("Only disputes with this status.")),
    kind: Optional[str] = typer.Option(None, metavar="KIND", help=N_("Only in exhibits of this kind (chat, document, screenshot, …).")),
    since: Optional[str] = typer.Option(None, metavar="DATE", help=N_("Only what is dated on or after this day, e.g. 2025-05-01 (a message's time, an event's, an exhibit's capture).")),
    until: Optional[str] = typer.Option(None, metavar="DATE", help=N_("Only what is dated on or before this day, e.g. 2025-05-31.")),
    dispute: Optional[str] = typer.Option(None, "--dispute", metavar="DISPUTE", help=N_("Only in this dispute (its slug, a unique prefix of it, or a unique part of its title).")),
    limit: int = typer.Option(20, "--limit", metavar="N", help=N_("At most this many hits.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import search as searching

    result = searching.search(_home(), query, platform=platform, status=status, kind=kind, since=since,
                              until=until, dispute=dispute, limit=limit)
    for note in result.notices:
        render.print_warning(note)
    render.emit_json(render.search_doc(result)) if json_out else render.print_search(result)


@app.command(help=N_("Read a stored chat export into messages again (custody-logged; verify checks the new messages)."))
def reread(
    dispute: str = DisputeArg,
    number: int = typer.Argument(..., metavar="N", help=N_("The chat exhibit's number.")),
    date_order: Optional[str] = typer.Option(None, metavar="ORDER", help=N_("{date_orders}: day/month order of the chat's dates.")),
    me: Optional[str] = typer.Option(None, metavar="NAME", help=N_("Your name as it appears in the chat (default: as last read).")),
    tz: Optional[str] = typer.Option(None, metavar="ZONE", help=N_("Time zone of the chat's times (default: as last read).")),
    chat_format: Optional[str] = typer.Option(None, metavar="FORMAT", help=N_("Read it as this chat format (default: as last read, else detected).")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import chat

    result = chat.reread(_home(), dispute, number, date_order=date_order, me=me, tz=tz, chat_format=chat_format)
    render.emit_json(render.reread_doc(result)) if json_out else render.print_reread(result)


@app.command(help=N_("Rebuild the search catalog (a cache in the home) from every dispute's own index."))
def reindex(json_out: bool = JsonOpt) -> None:
    from .. import render
    from ..services import search as searching

    result = _progressing(_("reindexing"), json_out, searching.reindex, _home())
    render.emit_json(render.reindex_doc(result)) if json_out else render.print_reindex(result)
    if not result.ok:
        raise typer.Exit(1)


@app.command(help=N_("Show, or set, who the claimant is."))
def profile(
    name: Optional[str] = typer.Option(None, metavar="NAME", help=N_("Your name (the complainant).")),
    phone: Optional[str] = typer.Option(None, metavar="PHONE", help=N_("Your phone number.")),
    email: Optional[str] = typer.Option(None, metavar="EMAIL", help=N_("Your e-mail address.")),
    address: Optional[str] = typer.Option(None, metavar="ADDRESS", help=N_("Your postal address.")),
    lang: Optional[str] = typer.Option(None, metavar="zh|en", help=N_("Language of the documents and of the command line: {langs}.")),
    tz: Optional[str] = typer.Option(None, metavar="ZONE", help=N_("Your time zone, e.g. Asia/Shanghai.")),
    font: Optional[str] = typer.Option(None, metavar="PATH", help=N_("A CJK TrueType font for the PDF pack (PATH or PATH#N).")),
    date_order: Optional[str] = typer.Option(None, metavar="ORDER", help=N_("{date_orders}: how to read chat dates the data cannot tell.")),
    tsa: Optional[List[str]] = typer.Option(None, "--tsa", metavar="URL", help=N_("A time-stamp authority (RFC 3161) for locker stamp and --stamp (repeatable, asked in this order; --tsa \"\" clears). None by default.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import profile as profiles

    changes = {"name": name, "phone": phone, "email": email, "address": address, "lang": lang, "tz": tz,
               "font": font, "date_order": date_order, "tsa": None if tsa is None else " ".join(tsa)}
    home = _home(may_create=True)
    if any(v is not None for v in changes.values()):
        current = profiles.update(home, changes)
    else:
        current = profiles.load(home)
    render.emit_json(current.as_dict()) if json_out else render.print_profile(current)
