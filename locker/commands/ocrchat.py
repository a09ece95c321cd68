"""Machine-read meaning as the command line shows it: what ``locker ocr`` found its readings to be
(chat screenshots into messages, order pages into facts: :func:`locker.services.ocrchat.transcribe`,
called by :mod:`locker.services.ocr`), the facts in ``show DISPUTE N``, and
``new --from-screenshot``'s report of what it filled.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..cli import _home
from ..i18n import N_, _

FACT_NAMES = {"order_id": N_("order number"), "amount": N_("amount paid"), "merchant": N_("shop"),
              "item": N_("item"), "order_time": N_("order time"), "refund_status": N_("refund status"),
              "platform": N_("platform")}
FIELD_NAMES = {"order_id": "--order-id", "amount": "--amount", "merchant": "--merchant", "item": "--item",
               "purchased_on": "--purchased-on", "platform": "--platform"}


def print_transcribed(result: Any) -> None:
    """One line per picture read for meaning: a chat, an order page, or neither; and what was not read."""
    from .. import render

    for r in result.exhibits:
        if r.layout == "chat":
            line = _("exhibit {n}: chat with {who}: {count} machine-read message(s)").format(
                n=r.exhibit, who=r.title or "?", count=r.messages)
        elif r.layout == "order":
            line = _("exhibit {n}: order page: {facts}").format(
                n=r.exhibit, facts=", ".join(f"{_(FACT_NAMES.get(k, k))} {v}" for k, v in r.facts.items()))
        else:
            line = _("exhibit {n}: neither a chat nor an order page").format(n=r.exhibit)
        if not r.changed:
            line += _(" (unchanged)")
        typer.echo(render.safe(line))
    for number, why in result.skipped:
        render.print_warning(_("exhibit {n} not read: {why}").format(n=number, why=why))


def transcribe_doc(result: Any) -> dict[str, Any]:
    return {"dispute": result.slug,
            "exhibits": [{"exhibit": r.exhibit, "layout": r.layout, "title": r.title, "messages": r.messages,
                          "facts": dict(r.facts), "changed": r.changed} for r in result.exhibits],
            "skipped": [{"exhibit": n, "reason": why} for n, why in result.skipped]}


def print_facts(console: Any, facts: dict[str, Any]) -> None:
    """The order facts of ``show DISPUTE N``: each with where on the picture it was read."""
    from ..render import _text

    where = " · ".join(x for x in (facts.get("page"), facts.get("platform")) if x)
    console.print(_text(_("order facts (machine-read by OCR{where})").format(where=f": {where}" if where else "")))
    for f in facts.get("facts") or ():
        box = f.get("box") or []
        xs = [p[0] for p in box] or [0]
        ys = [p[1] for p in box] or [0]
        place = f"[{min(xs):.0f},{min(ys):.0f}–{max(xs):.0f},{max(ys):.0f}]"
        name = _(FACT_NAMES.get(str(f.get("name")), str(f.get("name"))))
        console.print(_text(f"  {name:<14} {f.get('value')}  {place}"))


def fill_from_screenshot(path: str, typed: dict[str, Optional[str]], json_out: bool) -> tuple[dict[str, Any], Any]:
    """``new --from-screenshot FILE``: read the file, say what will be filled (on stderr with
    --json), and return the fields to open the dispute with plus what to report."""
    from .. import render
    from ..services import ocrchat

    found, pages = ocrchat.read_file(path)
    fill, skipped = ocrchat.from_screenshot_fields(found, typed)
    fields = {k: v for k, v in typed.items()}
    for field, proposal in fill.items():
        fields[field] = proposal["value"]
    if not json_out:
        if not found.facts:
            render.print_warning(_("{file}: no order facts found on it (is it an order or after-sales page?)").format(
                file=path))
        for field, proposal in fill.items():
            typer.echo(render.safe(_("filled {option} {value}  (read from: {text})").format(
                option=FIELD_NAMES.get(field, field), value=proposal["value"],
                text=" / ".join(str(proposal.get("text") or field).splitlines()))))
        for field, (mine, read) in skipped.items():
            typer.echo(render.safe(_("kept {option} {value} as typed (the screenshot says {read})").format(
                option=FIELD_NAMES.get(field, field), value=mine, read=read)))
    report = {"file": path, "filled": {k: v["value"] for k, v in fill.items()},
              "kept": {k: {"typed": a, "read": b} for k, (a, b) in skipped.items()},
              "facts": found.as_dict(), "pages": pages}
    return fields, report


def add_screenshot(slug: str, path: str, report: dict[str, Any], json_out: bool) -> dict[str, Any]:
    """The screenshot becomes exhibit 1 of the new dispute, and what was read from it its facts."""
    from .. import render
    from ..services import ingest, ocrchat

    result = ingest.add(_home(), slug, [path], ingest.AddOptions())
    if not result.ok or not result.added:
        raise typer.Exit(1)
    number = result.added[0].exhibit
    pages = report.pop("pages")
    ocrchat.transcribe(_home(), slug, [number], readings={number: pages})
    if not json_out:
        typer.echo(render.safe(_("{file} added as exhibit {n}; its order facts: locker show {slug} {n}").format(
            file=path, n=number, slug=slug)))
    report["exhibit"] = number
    return report
