"""``locker stamp``: an RFC 3161 trusted timestamp over the dispute's custody-chain head. The only
command that uses the network, and only to the TSAs given with ``--tsa`` or set in the profile.
The rendering and the ``--json`` document (``schemas/stamp.schema.json``) live here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional

import typer

from ..cli import DisputeArg, JsonOpt, _home, app
from ..i18n import N_, _

if TYPE_CHECKING:
    from ..services.stamp import Stamped


@app.command(help=N_(
    "Ask a time-stamp authority (RFC 3161) for a trusted timestamp over the dispute's custody-chain head; "
    "the token is stored in the dispute and custody-logged. Like export --stamp and bundle --stamp, it uses the network; "
    "nothing else in the locker does."))
def stamp(
    dispute: str = DisputeArg,
    tsa: Optional[List[str]] = typer.Option(
        None, "--tsa", metavar="URL",
        help=N_("A time-stamp authority to ask (repeatable: the next is asked when one fails). "
                "Default: the profile's (locker profile --tsa URL); none is ever asked otherwise.")),
    json_out: bool = JsonOpt,
) -> None:
    from ..render import emit_json, print_warning
    from ..services import stamp as stamping

    found = stamping.stamp_head(_home(), dispute, urls=tuple(tsa or ()))
    for url, why in found.tried:
        print_warning(_("{url} gave no token ({why}); the next one was asked").format(url=url, why=why))
    if json_out:
        emit_json(stamp_doc(found))
    else:
        print_stamped(found)


def stamp_doc(found: Stamped) -> dict[str, Any]:
    return {"dispute": found.slug, "timestamp": found.number, "subject": found.subject, "sha256": found.sha256,
            "file": str(found.file), "tsa": found.tsa, "url": found.url, "gen_time": found.gen_time,
            "serial": found.serial, "checked_with": found.method,
            "failed": [{"url": url, "error": why} for url, why in found.tried], "openssl": found.openssl}


def print_stamped(found: Stamped) -> None:
    typer.echo(_("Timestamp {n} of {slug}: {tsa} says {time} (serial {serial}).").format(
        n=found.number, slug=found.slug, tsa=found.tsa, time=found.gen_time, serial=found.serial))
    typer.echo(_("  stamps:  {subject} = {sha256}").format(subject=found.subject, sha256=found.sha256))
    typer.echo(_("  token:   {file}").format(file=found.file))
    typer.echo(_("  checked: with {method}").format(method=found.method))
    typer.echo(_("  check it yourself, in the token's folder:"))
    typer.echo(f"    {found.openssl}")
