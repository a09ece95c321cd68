"""``locker rename DISPUTE NEW-SLUG``: a readable name for a dispute, custody-logged."""

from __future__ import annotations

from typing import Any

import typer

from ..cli import DisputeArg, JsonOpt, _home, app
from ..i18n import N_


@app.command(help=N_("Give a dispute another name (slug) and move its folder; custody-logged, search follows."))
def rename(
    dispute: str = DisputeArg,
    new_slug: str = typer.Argument(..., metavar="NEW-SLUG", help=N_("The new name: a-z, 0-9 and '-'.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import rename as renaming

    done = renaming.rename(_home(), dispute, new_slug)
    if json_out:
        render.emit_json(rename_doc(done))
    else:
        typer.echo(rename_text(done))


def rename_doc(done: Any) -> dict[str, Any]:
    return {"from": done.before, "to": done.after, "recorded_from": done.recorded_before, "seq": done.seq,
            "moved": done.moved}


def rename_text(done: Any) -> str:
    from ..i18n import _

    if not done.moved:
        return _("{slug} is now the recorded name of this dispute (it was recorded as {old}).").format(
            slug=done.after, old=done.recorded_before)
    if done.seq is None:
        return _("Moved the folder {old} to {slug}, as the interrupted rename had recorded.").format(
            old=done.before, slug=done.after)
    return _("Renamed {old} to {slug}.").format(old=done.before, slug=done.after)
