"""``locker ocr DISPUTE [N…]``, and how machine-read text is shown by ``show`` (the OCR section of one
exhibit, human and ``--json``)."""

from __future__ import annotations

from typing import Any, List, Optional

import typer

from ..cli import JsonOpt, _home, _progressing, app
from ..i18n import N_, _


@app.command(help=N_("Read the text in the dispute's screenshots, photos and scanned PDF pages (offline OCR; "
                     "needs the ocr extra). Machine-read text is searchable and shown marked as such; "
                     "it never replaces the picture."))
def ocr(
    dispute: str = typer.Argument(..., help=N_("The dispute (its slug or a unique prefix).")),
    numbers: Optional[List[int]] = typer.Argument(None, metavar="[N]...",
                                                  help=N_("Only these exhibits (default: every picture and PDF "
                                                          "not read yet; a withdrawn one only when named).")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import ocr as reading

    # Ctrl-C: main answers 130; every reading is filed and indexed whole, or not at all
    result = _progressing(_("reading"), json_out, reading.run, _home(), dispute, tuple(numbers or ()))
    if json_out:
        render.emit_json(ocr_doc(result))
        for number, problem in result.failed:
            render.print_error(_("exhibit {number}: {problem}").format(number=number, problem=problem))
    else:
        print_ocr(result)
    if not result.ok:
        raise typer.Exit(1)


def ocr_doc(result: Any) -> dict[str, Any]:
    """The ``locker ocr --json`` document (schemas/ocr.schema.json)."""
    from .ocrchat import transcribe_doc

    return {
        "slug": result.slug,
        "engine": result.engine,
        "read": [{"exhibit": d.exhibit, "lines": d.lines, "parts": d.parts, "read_now": d.read_now}
                 for d in result.done],
        "failed": [{"exhibit": n, "error": why} for n, why in result.failed],
        "not_readable": list(result.not_readable),
        "workers": result.workers,
        "seconds": result.seconds,
        "transcribed": None if result.transcribed is None else transcribe_doc(result.transcribed),
    }


def print_ocr(result: Any) -> None:
    from ..render import _console, _text, print_error
    from .ocrchat import print_transcribed

    console = _console()
    for d in result.done:
        if d.read_now:
            line = _("exhibit {number}: {lines} line(s) read").format(number=d.exhibit, lines=d.lines)
        else:
            line = _("exhibit {number}: {lines} line(s), read before").format(number=d.exhibit, lines=d.lines)
        console.print(_text(line))
    for number in result.not_readable:
        console.print(_text(_("exhibit {number}: not a picture or a PDF: nothing to read").format(number=number)))
    for number, problem in result.failed:
        print_error(_("exhibit {number}: {problem}").format(number=number, problem=problem))
    if not result.done and not result.failed and not result.not_readable:
        console.print(_text(_("{slug}: no pictures or PDFs to read").format(slug=result.slug)))
    else:
        console.print(_text(_("{read} read now, {kept} read before, in {seconds:.1f} s ({engine})").format(
            read=result.read_now, kept=len(result.done) - result.read_now, seconds=result.seconds,
            engine=result.engine)))
    if result.transcribed is not None:
        print_transcribed(result.transcribed)


# --- ``show DISPUTE N``: the machine-read text of one exhibit ---------------------------------------


def print_reading(reading: dict[str, Any] | None) -> None:
    """The machine-read text under an exhibit, headed as such (机器识别), slice by slice or page by page."""
    from ..render import _console, _text

    if reading is None:
        return
    console = _console()
    lines = reading.get("lines", [])
    console.print(_text(_("machine-read text (机器识别, OCR: may contain errors; the picture is the evidence), "
                          "{count} line(s) — {engine}").format(count=len(lines), engine=reading.get("engine"))))
    current = None
    for line in lines:
        part = ("page", line["page"]) if "page" in line else ("slice", line.get("slice", 1))
        several = len(reading.get("parts", [])) > 1
        if several and part != current:
            label = _("page {n}") if part[0] == "page" else _("slice {n}")
            console.print(_text("  " + label.format(n=part[1])))
            current = part
        console.print(_text(f"  ⌗ {line['text']}"))
