"""``locker serve``: the local web app (locker/web/), for people who do not use a terminal."""

from __future__ import annotations

from typing import Optional

import typer

from ..cli import _home, app
from ..i18n import N_


@app.command(help=N_("Start the local web app (a browser on this computer; --lan lets a paired phone send files)."))
def serve(
    port: int = typer.Option(8765, "--port", metavar="PORT", help=N_("The port to listen on.")),
    host: Optional[str] = typer.Option(None, "--host", metavar="ADDRESS", help=N_("The address to listen on (default 127.0.0.1; another needs --lan).")),
    lan: bool = typer.Option(False, "--lan", help=N_("Also listen on the local network, for a phone paired by QR code.")),
    open_browser: bool = typer.Option(False, "--open", help=N_("Open the web app in the default browser.")),
    max_upload: str = typer.Option("4GiB", "--max-upload", metavar="SIZE", help=N_("The largest file one upload may send, e.g. 500MB.")),
    phone: Optional[str] = typer.Option(None, "--phone", metavar="DISPUTE", help=N_("With --lan: print a QR code here that pairs one phone with this dispute (one use, 10 minutes).")),
) -> None:
    from ..i18n import _
    from ..services.export import parse_size

    try:
        from ..web import server
    except ImportError as err:
        from ..errors import UsageError

        raise UsageError(_("the web app needs the web extra: pip install 'locker[web]' ({error})").format(error=err)) from None
    settings = server.prepare(_home(may_create=True).ensure(), host=host, port=port, lan=lan, limit=parse_size(max_upload))
    local = "127.0.0.1" if settings.bind in ("0.0.0.0", "::") else settings.bind
    url = f"http://{local}:{port}/login/{settings.guard.login_key}"
    typer.echo(_("Evidence Locker is open at {url}").format(url=url))
    typer.echo(_("(this address signs your browser in; keep it to yourself)"))
    if lan:
        typer.echo(_("Phones on this network: choose “Send from a phone” in the web app to show a QR code; the phone "
                     "then picks the dispute (listening on {address}:{port}).").format(address=settings.lan_address, port=port))
    if phone is not None:
        if not lan:
            from ..errors import UsageError

            raise UsageError(_("--phone needs --lan: a phone reaches this computer over the local network"))
        from ..services import disputes

        pairing = settings.guard.pair(disputes.resolve(settings.home, phone).slug)
        pair_url = server.pairing_url(settings, pairing.token)
        typer.echo(_("Scan this with the phone (works once, for 10 minutes): {url}").format(url=pair_url))
        import segno

        segno.make(pair_url, error="m").terminal(compact=True)
    typer.echo(_("Press Ctrl-C to stop."))
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    server.server(settings).run()
