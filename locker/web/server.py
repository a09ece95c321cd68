"""Starting the web app: the address rule (loopback only unless ``--lan``), the settings, and
uvicorn. ``locker serve`` (commands/serve.py) and the tests and benchmarks start it through
:func:`prepare` and :func:`run`."""

from __future__ import annotations

import socket
from typing import Any

from ..errors import UsageError
from ..i18n import _
from ..paths import Home
from .security import Guard, is_loopback

DEFAULT_PORT = 8765


def lan_address() -> str | None:
    """This machine's address on its local network, as its own name resolves (no packet is sent)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return None
    for info in infos:
        address = str(info[4][0])
        if not is_loopback(address):
            return address
    return None


def prepare(home: Home, *, host: str | None = None, port: int = DEFAULT_PORT, lan: bool = False,
            limit: int | None = None, guard: Guard | None = None) -> Any:
    """The settings of one run: refuses a non-loopback address without ``lan``."""
    from .common import Settings

    if host is None:
        host = "0.0.0.0" if lan else "127.0.0.1"
    if not lan and not is_loopback(host):
        raise UsageError(_("{host} is not a loopback address: the web app listens on this computer only, "
                           "unless you start it with --lan").format(host=host))
    shown = None
    if lan:
        shown = host if host not in ("0.0.0.0", "::") else (lan_address() or "127.0.0.1")
    settings = Settings(home=home, lan=lan, port=port, lan_address=shown, guard=guard or Guard())
    if limit is not None:
        settings.limit = limit
    settings.bind = host  # type: ignore[attr-defined]
    if host not in ("0.0.0.0", "::") and host not in settings.hosts:
        settings.hosts = (*settings.hosts, host)  # the Host header a browser sends for this address
    return settings


def app_for(settings: Any) -> Any:
    from .app import create_app

    return create_app(settings)


def server(settings: Any, *, port: int | None = None) -> Any:
    """A uvicorn server for these settings (not started)."""
    import uvicorn

    from .protocol import http_protocol, keep_freed_memory

    keep_freed_memory()
    # loop="auto": uvloop (the web extra, not on Windows) runs the event loop in C; else asyncio's.
    config = uvicorn.Config(app_for(settings), host=settings.bind, port=settings.port if port is None else port,
                            http=http_protocol(), log_level="warning", access_log=False, lifespan="off",
                            server_header=False, date_header=False)
    return uvicorn.Server(config)


def pairing_url(settings: Any, token: str) -> str:
    from .phone import pairing_url as url

    return url(settings, token)
