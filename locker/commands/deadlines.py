"""``locker due`` (record, mark done, remove and list deadlines; ``--ics``) and ``locker next``
(the usual next step of a dispute). Parse, call one service, render — the rendering and the
``--json`` documents of these two commands live here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional

import typer

from ..cli import DisputeArg, JsonOpt, _home, app
from ..i18n import N_, _

if TYPE_CHECKING:
    from datetime import datetime

    from ..services.deadlines import DeadlineView, DueList, NextStep


@app.command(help=N_(
    "Deadlines: record one (DISPUTE TEXT --at WHEN), mark one done (--done N) or remove it (--remove N); "
    "without TEXT, list them soonest first, overdue marked, of one dispute or of all."))
def due(
    dispute: Optional[str] = typer.Argument(None, metavar="[DISPUTE]",
                                            help=N_("The dispute (its slug, a unique prefix of it, or a unique part of its title); default: every dispute.")),
    text: Optional[str] = typer.Argument(None, metavar="[TEXT]",
                                         help=N_("What is due, e.g. 平台介入申请截止; records a deadline (needs --at).")),
    at: Optional[str] = typer.Option(None, "--at", metavar="WHEN",
                                     help=N_("When it is due: 2025-05-10 (a day alone means the end of that day, "
                                             "23:59:59, in the profile's time zone), 2025-05-10 18:00, or with an "
                                             "offset: 2025-05-10T18:00+08:00.")),
    exhibit: Optional[List[int]] = typer.Option(None, "--exhibit", metavar="N",
                                                help=N_("An exhibit this deadline concerns (repeatable).")),
    tz: Optional[str] = typer.Option(None, "--tz", metavar="ZONE",
                                     help=N_("Time zone for --at without an offset, e.g. Asia/Shanghai "
                                             "(default: the profile's, else the computer's).")),
    done: Optional[int] = typer.Option(None, "--done", metavar="N", help=N_("Mark deadline N of DISPUTE done.")),
    remove: Optional[int] = typer.Option(None, "--remove", metavar="N",
                                         help=N_("Remove deadline N of DISPUTE (one recorded by mistake; the "
                                                 "custody log keeps it).")),
    reason: Optional[str] = typer.Option(None, "--reason", metavar="TEXT", help=N_("Why it is removed (with --remove).")),
    show_all: bool = typer.Option(False, "--all", help=N_("List done deadlines too.")),
    ics: Optional[str] = typer.Option(None, "--ics", metavar="FILE",
                                      help=N_("Also write the deadlines listed to FILE, an iCalendar (.ics) file "
                                              "a phone's calendar imports.")),
    json_out: bool = JsonOpt,
) -> None:
    from ..errors import UsageError
    from ..services import deadlines

    changes = sum(x is not None for x in (text, done, remove))
    if changes > 1:
        raise UsageError(_("record a deadline (TEXT --at WHEN), --done N or --remove N: one at a time"))
    if changes and dispute is None:
        raise UsageError(_("name the dispute first: locker due DISPUTE …"))
    if text is not None and at is None:
        raise UsageError(_("say when it is due: --at WHEN (e.g. --at 2025-05-10)"))
    if at is not None and text is None:
        raise UsageError(_("say what is due: locker due DISPUTE TEXT --at WHEN"))
    if changes and (ics or show_all):
        raise UsageError(_("--ics and --all go with a listing, not with a change"))
    if reason is not None and remove is None:
        raise UsageError(_("--reason goes with --remove"))
    home = _home()
    if text is not None and dispute is not None and at is not None:
        added = deadlines.add(home, dispute, text, at=at, exhibits=exhibit or [], tz_name=tz)
        _changed("added", added.deadline, added.zone, json_out)
        return
    if done is not None and dispute is not None:
        _changed("done", deadlines.mark_done(home, dispute, done), None, json_out)
        return
    if remove is not None and dispute is not None:
        _changed("removed", deadlines.remove(home, dispute, remove, reason), None, json_out)
        return
    if exhibit or tz:
        raise UsageError(_("--exhibit and --tz go with a deadline being recorded (TEXT --at WHEN)"))
    listed = deadlines.list_due(home, dispute, include_done=show_all)
    written = None
    if ics and not listed.deadlines:
        from .. import render

        render.print_warning(_("no deadlines to write: {path} was not written").format(path=ics))
    elif ics:
        name = _("Dispute deadlines") if dispute is None else _("Deadlines of {slug}").format(slug=dispute)
        written = deadlines.write_ics(ics, listed.deadlines, listed.now, calendar_name=name)
    from .. import render

    for slug, problem in listed.unreadable:
        render.print_warning(_("{slug}: not listed: {problem}").format(slug=slug, problem=problem))
    if json_out:
        render.emit_json(due_doc(listed, written))
    else:
        _print_due(listed, one_dispute=dispute is not None, all_shown=show_all)
        if written:
            typer.echo(_("Wrote {n} deadline(s) to {path} (iCalendar: open it on the phone, or import it in its calendar).")
                       .format(n=len(listed.deadlines), path=written))


@app.command("next", help=N_(
    "The usual next step of a dispute (merchant → platform appeal → 12315 complaint → court), from its status "
    "and timeline, the documents the locker makes for it, and the general time limits with their sources."))
def next_(
    dispute: str = DisputeArg,
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import deadlines

    found = deadlines.next_step(_home(), dispute)
    render.emit_json(next_doc(found)) if json_out else _print_next(found)


# --------------------------------------------------------------------------- the --json documents


def deadline_doc(d: DeadlineView, now: datetime) -> dict[str, Any]:
    return {"dispute": d.dispute, "dispute_title": d.dispute_title, "id": d.id, "text": d.text, "due": d.due,
            "date_only": d.date_only, "exhibits": list(d.exhibits), "created_at": d.created_at,
            "done_at": d.done_at, "overdue": d.overdue(now)}


def due_doc(listed: DueList, ics: Any = None) -> dict[str, Any]:
    return {"now": listed.now.isoformat(timespec="seconds"),
            "deadlines": [deadline_doc(d, listed.now) for d in listed.deadlines],
            "unreadable": [{"dispute": slug, "problem": problem} for slug, problem in listed.unreadable],
            "ics": None if ics is None else str(ics)}


def change_doc(action: str, d: DeadlineView, zone: str | None) -> dict[str, Any]:
    from datetime import UTC, datetime

    return {"action": action, "deadline": deadline_doc(d, datetime.now(UTC)), "zone": zone}


def _both(texts: Any) -> dict[str, str]:
    return {"en": texts["en"], "zh": texts["zh"]}


def _export_command(slug: str, args: tuple[str, ...]) -> str:
    return " ".join(("locker", "export", slug, *args))


def next_doc(n: NextStep) -> dict[str, Any]:
    def step(s: Any) -> dict[str, Any]:
        return {"id": s.id, "title": _both(s.title), "what": _both(s.what),
                "documents": [{"command": _export_command(n.slug, args), "makes": _both(makes)}
                              for args, makes in s.documents]}

    return {
        "dispute": n.slug, "title": n.title, "status": n.status, "today": n.today.isoformat(),
        "finished": n.finished,
        "reached": None if n.reached is None else n.reached.id,
        "basis": [{"status": b.status} if b.status else {"event": b.event, "at": b.at} for b in n.basis],
        "next": None if n.next is None else step(n.next),
        "ladder": [{"id": s.id, "title": _both(s.title),
                    "reached": n.reached is not None and n.ladder.index(s) <= n.ladder.index(n.reached),
                    "next": n.next is not None and s.id == n.next.id} for s in n.ladder],
        "rules": [{"id": c.rule.id, "title": _both(c.rule.title), "source": c.rule.source, "text": _both(c.rule.text),
                   "period": c.rule.period, "unit": c.rule.unit, "counted_from": _both(c.rule.counted_from),
                   "anchor": None if c.anchor is None else {"kind": c.anchor.kind, "name": c.anchor.name,
                                                            "date": c.anchor.day.isoformat(),
                                                            "approximate": c.anchor.approximate},
                   "last_day": None if c.last_day is None else c.last_day.isoformat(), "passed": c.passed,
                   "relevant": c.relevant} for c in n.rules],
        "deadlines": [deadline_doc(d, n.now) for d in n.deadlines],
        "platform_note": _both(n.platform_note),
        "disclaimer": _both(n.disclaimer),
    }


def _changed(action: str, d: DeadlineView, zone: str | None, json_out: bool) -> None:
    from .. import render

    if json_out:
        render.emit_json(change_doc(action, d, zone))
        return
    if action == "added":
        typer.echo(_("Deadline {n} of {slug}: {text}, due {when}.").format(
            n=d.id, slug=d.dispute, text=render.safe(d.text), when=_when(d)))
        if d.date_only:
            typer.echo(_("A date without a time: due at the end of that day (23:59:59) in {zone}.").format(zone=zone))
        from datetime import UTC, datetime

        if d.overdue(datetime.now(UTC)):
            render.print_warning(_("deadline {n} is already past: check the date if that is not what you meant")
                                 .format(n=d.id))
    elif action == "done":
        typer.echo(_("Deadline {n} of {slug} marked done: {text}.").format(n=d.id, slug=d.dispute,
                                                                          text=render.safe(d.text)))
    else:
        typer.echo(_("Deadline {n} of {slug} removed: {text} (the custody log keeps it).").format(
            n=d.id, slug=d.dispute, text=render.safe(d.text)))


# --------------------------------------------------------------------------- human output


def _lang() -> str:
    from ..i18n import language

    return "zh" if language() == "zh" else "en"


def _when(d: DeadlineView) -> str:
    """``2025-05-10 18:00 +08:00``; a date-only deadline as ``2025-05-10 (end of day)``."""
    if d.date_only:
        return _("{day} (end of day)").format(day=d.day().isoformat())
    shown = d.due.replace("T", " ", 1)
    return f"{shown[:16]} {shown[19:]}" if len(shown) > 19 else shown


def _left(d: DeadlineView, now: datetime) -> str:
    """How long is left, in whole days: "3 days left", "due today", "2 days overdue", "done"."""
    from ..i18n import ngettext

    if d.done:
        return _("done")
    instant = d.instant()
    days = (instant.date() - now.astimezone(instant.tzinfo).date()).days
    if d.overdue(now):
        if days >= 0:
            return _("OVERDUE (today)")
        return ngettext("OVERDUE by {n} day", "OVERDUE by {n} days", -days).format(n=-days)
    if days == 0:
        return _("due today")
    return ngettext("{n} day left", "{n} days left", days).format(n=days)


def _print_due(listed: DueList, *, one_dispute: bool, all_shown: bool) -> None:
    from rich.text import Text

    from .. import render

    console = render._console()
    if not listed.deadlines:
        console.print(Text(_("No deadlines due.") if not all_shown else _("No deadlines.")))
        console.print(Text(_('Record one with: locker due DISPUTE "平台介入申请截止" --at 2025-05-10')))
        return
    table = render._table(_("due"), _("left"), *(() if one_dispute else (_("dispute"),)), _("No."), _("description"))
    for d in listed.deadlines:
        left = _left(d, listed.now)
        style = "bold red" if d.overdue(listed.now) else ("dim" if d.done else "")
        text = d.text + (_("  (exhibit {numbers})").format(numbers=", ".join(map(str, d.exhibits)))
                         if d.exhibits else "")
        cells = [Text(_when(d)), Text(left, style=style), *(() if one_dispute else (render._text(d.dispute),)),
                 Text(str(d.id)), render._text(text)]
        table.add_row(*cells)
    console.print(table)
    overdue = sum(d.overdue(listed.now) for d in listed.deadlines)
    if overdue:
        from ..i18n import ngettext

        console.print(Text(ngettext("{n} deadline is past and not marked done (locker due DISPUTE --done N).",
                                    "{n} deadlines are past and not marked done (locker due DISPUTE --done N).",
                                    overdue).format(n=overdue), style="red"))


def _print_next(n: NextStep) -> None:
    from rich.text import Text

    from .. import render

    lang = _lang()
    console = render._console()

    def say(text: str, style: str = "", indent: int = 0) -> None:
        console.print(Text(" " * indent + render.safe(text), style=style))

    say(_("{title}  [{slug}]  status: {status}").format(title=n.title, slug=n.slug, status=n.status), "bold")
    if n.reached is None:
        say(_("Where it stands: nothing on the ladder yet (no status or timeline event beyond open)."))
    else:
        why = []
        for b in n.basis:
            if b.status:
                why.append(_("status {status}").format(status=b.status))
            else:
                why.append(_("event {type} on {day}").format(type=b.event, day=(b.at or "")[:10]))
        say(_("Where it stands: {step} ({why}).").format(step=n.reached.title[lang], why="; ".join(why)))
    if n.finished:
        say(_("The dispute is {status}: no next step. Keep the locker; locker export makes the pack whenever "
              "you need it.").format(status=n.status))
    elif n.next is None:
        say(_("It has reached the last step of the usual ladder."))
    else:
        say(_("Usual next step: {step}").format(step=n.next.title[lang]), "bold")
        say(n.next.what[lang], indent=2)
        if n.next.documents:
            say(_("What the locker makes for it:"), indent=2)
            for args, makes in n.next.documents:
                say(f"{_export_command(n.slug, args)}    {makes[lang]}", indent=4)
    ladder = []
    for s in n.ladder:
        mark = "▶ " if n.next is not None and s.id == n.next.id else ("✓ " if n.reached is not None and
                                                                      n.ladder.index(s) <= n.ladder.index(n.reached)
                                                                      else "")
        ladder.append(mark + s.title[lang])
    say(_("The usual ladder: {steps}").format(steps=" → ".join(ladder)))
    console.print()
    say(_("General time limits (today is {today}):").format(today=n.today.isoformat()), "bold")
    for c in n.rules:
        marker = _("  (matters now)") if c.relevant else ""
        say(f"{c.rule.title[lang]} — {c.rule.source}{marker}", indent=2)
        if c.anchor is None or c.last_day is None:
            say(_("counted from {start}: not in the timeline yet").format(start=c.rule.counted_from[lang]), indent=4)
        else:
            if c.anchor.kind == "event":
                origin = _("the {type} event of {day}").format(type=c.anchor.name, day=c.anchor.day.isoformat())
            else:
                origin = _("the dispute's {field} {day}, for want of a better date").format(
                    field=c.anchor.name, day=c.anchor.day.isoformat())
            state = _("passed") if c.passed else _("not yet passed")
            say(_("last day {day} ({state}): counted from {start}, here {origin}").format(
                day=c.last_day.isoformat(), state=state, start=c.rule.counted_from[lang], origin=origin),
                "red" if c.passed else "", indent=4)
            if not c.passed:
                say(_('record it: locker due {slug} "{title}" --at {day}').format(
                    slug=n.slug, title=c.rule.title[lang], day=c.last_day.isoformat()), "dim", indent=4)
        say(c.rule.text[lang], "dim", indent=4)
    if n.deadlines:
        console.print()
        say(_("Deadlines of this dispute:"), "bold")
        for d in n.deadlines:
            say(f"{d.id}. {_when(d)}  {d.text}  — {_left(d, n.now)}", "red" if d.overdue(n.now) else "", indent=2)
    console.print()
    say(n.platform_note[lang], "bold")
    say(n.disclaimer[lang], "dim")
