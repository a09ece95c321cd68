"""``locker edit`` (correct a dispute, an exhibit or one chat message) and ``locker restore``
(undo a withdrawal). Both are custody-logged; the rendering of their results lives here."""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..cli import DisputeArg, JsonOpt, _home, app
from ..i18n import N_, _


@app.command(help=N_("Correct what was typed about a dispute, or about exhibit N (or one of its chat messages). "
                     "The old and the new value go into the custody log; an empty value clears a field."))
def edit(
    dispute: str = DisputeArg,
    number: Optional[int] = typer.Argument(None, metavar="[N]",
                                           help=N_("An exhibit's number: correct that exhibit instead of the dispute.")),
    title: Optional[str] = typer.Option(None, help=N_("The dispute's title, or with N the exhibit's name (证据名称).")),
    platform: Optional[str] = typer.Option(None, help=N_("xiaohongshu, taobao, jd, pinduoduo, douyin, …")),
    merchant: Optional[str] = typer.Option(None, help=N_("The shop or seller's name.")),
    merchant_address: Optional[str] = typer.Option(None, help=N_("The merchant's address or shop link.")),
    order_id: Optional[str] = typer.Option(None, help=N_("The platform's order number.")),
    item: Optional[str] = typer.Option(None, help=N_("What was bought (name, spec, quantity).")),
    amount: Optional[str] = typer.Option(None, help=N_("Amount paid, exact, e.g. 199.00.")),
    currency: Optional[str] = typer.Option(None, help=N_("Currency code (default CNY).")),
    purchased_on: Optional[str] = typer.Option(None, metavar="DATE", help=N_("Purchase date, YYYY-MM-DD.")),
    claim: Optional[str] = typer.Option(None, help=N_("What you ask for (诉求).")),
    summary: Optional[str] = typer.Option(None, help=N_("The facts in short (事实与理由).")),
    source: Optional[str] = typer.Option(None, help=N_("With N: 证据来源, where the exhibit came from.")),
    purpose: Optional[str] = typer.Option(None, help=N_("With N: 证明目的, what the exhibit proves.")),
    note: Optional[str] = typer.Option(None, help=N_("With N: a note of your own.")),
    captured_at: Optional[str] = typer.Option(None, metavar="WHEN",
                                              help=N_("With N: when it was taken, e.g. 2025-05-03 14:22; the old "
                                                      "time and where it came from stay in the history.")),
    tz: Optional[str] = typer.Option(None, help=N_("With --captured-at: the zone of a time without one "
                                                   "(default: the profile's).")),
    message: Optional[int] = typer.Option(None, "--message", metavar="K",
                                          help=N_("With N and --text: correct message K of a chat, numbered as "
                                                  "`locker show DISPUTE N` lists them.")),
    text: Optional[str] = typer.Option(None, "--text", help=N_("With --message: the message's corrected text.")),
    from_exhibit: Optional[int] = typer.Option(
        None, "--from-exhibit", metavar="N",
        help=N_("Fill the dispute's empty fields from the order facts OCR read from exhibit N (an order page read by "
                "`locker ocr`): each filled field is printed, a field that holds a value is kept, a value typed here wins.")),
    json_out: bool = JsonOpt,
) -> None:
    facts = {"platform": platform, "merchant": merchant, "merchant_address": merchant_address,
             "order_id": order_id, "item": item, "amount": amount, "currency": currency,
             "purchased_on": purchased_on, "claim": claim, "summary": summary}
    described = {"source": source, "purpose": purpose, "note": note, "captured_at": captured_at}
    if number is None:
        _edit_dispute(dispute, title, facts, {**described, "tz": tz, "message": message, "text": text},
                      from_exhibit, json_out)
    else:
        _edit_exhibit(dispute, number, title, facts, described, tz, message, text, from_exhibit, json_out)


def _edit_dispute(dispute: str, title: Optional[str], facts: dict[str, Optional[str]],
                  exhibit_only: dict[str, Any], from_exhibit: Optional[int], json_out: bool) -> None:
    """``locker edit DISPUTE …``: the dispute's own facts, perhaps filled from an exhibit's OCR."""
    from ..errors import UsageError
    from ..services import edit as editing

    wrong = [k for k, v in exhibit_only.items() if v is not None]
    if wrong:
        raise UsageError(_("{options}: only with an exhibit's number (locker edit DISPUTE N …)").format(
            options=_options(wrong)))
    proposal = None
    if from_exhibit is not None:
        proposal = _fill_from_exhibit(dispute, from_exhibit, facts, json_out)
    if proposal is not None and title is None and all(v is None for v in facts.values()):
        result = editing.Edited(proposal.slug, None, None, (), None)  # nothing empty it could fill
    else:
        result = editing.edit_dispute(_home(), dispute, title=title, **facts)
    if not json_out:
        print_edited(result)
        return
    from ..render import emit_json

    doc = edit_doc(result)
    if proposal is not None:
        doc["from_exhibit"] = {
            "exhibit": proposal.exhibit,
            "filled": {f: dict(p) for f, p in proposal.fill.items() if facts.get(f) == p["value"]},
            "kept": {f: {"current": now, "read": read} for f, (now, read) in proposal.skipped.items()},
        }
    emit_json(doc)


def _edit_exhibit(dispute: str, number: int, title: Optional[str], facts: dict[str, Optional[str]],
                  described: dict[str, Optional[str]], tz: Optional[str], message: Optional[int],
                  text: Optional[str], from_exhibit: Optional[int], json_out: bool) -> None:
    """``locker edit DISPUTE N …``: what was typed about exhibit N, or one of its chat messages."""
    from ..errors import UsageError
    from ..services import edit as editing

    if from_exhibit is not None:
        raise UsageError(_("--from-exhibit fills the dispute's own fields: give no exhibit number before it"))
    wrong = [k for k, v in facts.items() if v is not None]
    if wrong:
        raise UsageError(_("{options}: a fact of the dispute, not of an exhibit (locker edit DISPUTE …)").format(
            options=_options(wrong)))
    if message is not None or text is not None:
        others = [k for k, v in {"title": title, **described}.items() if v is not None]
        if message is None or text is None or others:
            raise UsageError(_("correct a message with --message K --text TEXT, and nothing else in the same call"))
        result = editing.edit_message(_home(), dispute, number, message, text)
    else:
        result = editing.edit_exhibit(_home(), dispute, number, tz=tz, title=title, **described)
    if json_out:
        from ..render import emit_json

        emit_json(edit_doc(result))
    else:
        print_edited(result)


def _fill_from_exhibit(dispute: str, number: int, facts: dict[str, Optional[str]], json_out: bool) -> Any:
    """``--from-exhibit N``: the empty dispute fields exhibit N's order facts can fill go into
    ``facts`` (a value typed on the command line wins), each said on stderr before it is written."""
    from ..render import print_warning, safe
    from ..services import ocrchat

    proposal = ocrchat.propose_fields(_home(), dispute, number)
    for field, fact in proposal.fill.items():
        option = "--" + field.replace("_", "-")
        if field not in facts:
            continue
        if facts[field] is not None:
            if not json_out:
                print_warning(_("kept {option} {value} as typed (exhibit {n} says {read})").format(
                    option=option, value=facts[field], n=number, read=fact["value"]))
            continue
        facts[field] = str(fact["value"])
        if not json_out:
            typer.echo(safe(_("filled {option} {value}  (read from exhibit {n}: {text})").format(
                option=option, value=fact["value"], n=number, text=fact.get("text", ""))), err=True)
    for field, (now, read) in proposal.skipped.items():
        if not json_out:
            typer.echo(safe(_("kept --{field} {value} (it holds a value; exhibit {n} says {read})").format(
                field=field.replace("_", "-"), value=now, n=number, read=read)), err=True)
    return proposal


def _options(names: list[str]) -> str:
    return ", ".join("--" + n.replace("_", "-") for n in names)


@app.command(help=N_("Undo a withdrawal: the exhibit is back in the pack and in search (custody-logged). "
                      "With --from NAME: rebuild the dispute from a remote instead (locker archive)."))
def restore(
    dispute: str = DisputeArg,
    number: Optional[int] = typer.Argument(None, metavar="N", help=N_("The exhibit's number.")),
    reason: Optional[str] = typer.Option(None, "--reason", help=N_("Why it is restored.")),
    remote: Optional[str] = typer.Option(None, "--from", metavar="NAME", help=N_("Rebuild DISPUTE (its slug) from this remote into this home; it must not be here yet.")),
    slug: Optional[str] = typer.Option(None, "--as", metavar="SLUG", help=N_("With --from: the name to give it here.")),
    json_out: bool = JsonOpt,
) -> None:
    from ..errors import UsageError

    if remote is not None:
        if number is not None or reason is not None:
            raise UsageError(_("restore --from NAME DISPUTE rebuilds a whole dispute: no exhibit number or --reason"))
        from .remote import restore_remote

        return restore_remote(remote, dispute, slug, json_out)
    if number is None or reason is None or slug is not None:
        raise UsageError(_("restore DISPUTE N --reason TEXT undoes a withdrawal; restore --from NAME DISPUTE rebuilds a dispute"))
    from ..services import exhibits

    found = exhibits.restore(_home(), dispute, number, reason)
    if json_out:
        from ..render import emit_json, exhibit_doc

        emit_json(exhibit_doc(found))
    else:
        typer.echo(_("Exhibit {n} restored: it is back in the pack.").format(n=found.number))


# --------------------------------------------------------------------------- rendering


def edit_doc(result: Any) -> dict[str, Any]:
    """What ``locker edit --json`` prints (schemas/edit.schema.json)."""
    return {
        "dispute": result.slug, "exhibit": result.exhibit, "message": result.message, "changed": result.changed,
        "changes": [{"field": c.field, "from": c.before, "to": c.after} for c in result.changes],
        "custody_seq": result.seq,
    }


def print_edited(result: Any) -> None:
    from ..render import safe

    if result.message is not None:
        where = _("message {k} of exhibit {n} of {slug}").format(k=result.message, n=result.exhibit, slug=result.slug)
    elif result.exhibit is not None:
        where = _("exhibit {n} of {slug}").format(n=result.exhibit, slug=result.slug)
    else:
        where = result.slug
    if not result.changed:
        typer.echo(safe(_("Nothing to change: {where} says that already; nothing was written.").format(where=where)))
        return
    typer.echo(safe(_("Corrected {where} (custody entry {seq}):").format(where=where, seq=result.seq)))
    width = max(len(c.field) for c in result.changes)
    for c in result.changes:
        typer.echo(safe(f"  {c.field:<{width}}  {shown(c.before)} → {shown(c.after)}"))


def shown(value: str | None) -> str:
    """A value of a correction as the history shows it: quoted, or (empty)."""
    return _("(empty)") if value is None else f"“{value}”"
