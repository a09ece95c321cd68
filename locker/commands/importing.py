"""``locker import FILE.zip [--as SLUG] [--allow-damaged]``: a bundle becomes a dispute in this home.
Parse, call the service, render — the rendering and the ``--json`` document live here."""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..cli import JsonOpt, _home, app
from ..i18n import N_


@app.command("import", help=N_(
    "Take in a bundle (made by `locker bundle`) as a dispute of this home: checked first, the original "
    "custody log kept and an `imported` entry added; nothing is written until the whole bundle is accepted."))
def import_(
    bundle: str = typer.Argument(..., metavar="FILE.zip", help=N_("The bundle: a ZIP file made by `locker bundle`.")),
    as_slug: Optional[str] = typer.Option(None, "--as", metavar="SLUG",
                                          help=N_("The name (slug) of the dispute here (default: the bundle's).")),
    allow_damaged: bool = typer.Option(False, "--allow-damaged",
                                       help=N_("Take in a bundle that fails its check; the problems are recorded in the "
                                               "custody log and `locker verify` keeps reporting them.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import importing

    done = importing.import_bundle(_home(may_create=True), bundle, slug=as_slug, allow_damaged=allow_damaged)
    if json_out:
        render.emit_json(import_doc(done))
        return
    typer.echo(import_text(done))
    for problem in done.problems:
        render.print_warning(f"{problem.member}: {problem.detail}" if problem.member else problem.detail)


def import_doc(done: Any) -> dict[str, Any]:
    """What ``locker import --json`` prints (schemas/import.schema.json)."""
    return {"slug": done.slug, "recorded_slug": done.recorded_slug, "title": done.title, "exhibits": done.exhibits,
            "messages": done.messages, "entries_kept": done.entries_kept, "seq": done.seq,
            "head_hash": done.head_hash, "bundle_sha256": done.bundle_sha256, "bundle_size": done.bundle_size,
            "verified": done.verified,
            "problems": [{"problem": p.problem, "member": p.member, "detail": p.detail} for p in done.problems]}


def import_text(done: Any) -> str:
    from ..i18n import _

    line = _("Imported {slug}: {title} — {exhibits} exhibit(s), {entries} custody entries kept "
             "(head {head}…), entry {seq} records the import.").format(
        slug=done.slug, title=done.title, exhibits=done.exhibits, entries=done.entries_kept,
        head=done.head_hash[:12], seq=done.seq)
    if not done.verified:
        line += "\n" + _("It does not verify: run `locker verify {slug}` to see what is wrong.").format(slug=done.slug)
    return line
