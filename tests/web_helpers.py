"""Shared by the web app's tests: an app on a fresh home, a signed-in desktop client."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BASE = "http://127.0.0.1:8765"


def make_app(home: Path, *, lan: bool = False, limit: int | None = None) -> tuple[Any, Any]:
    from locker.paths import open_home
    from locker.web import server

    settings = server.prepare(open_home(str(home), may_create=True).ensure(), lan=lan, limit=limit,
                              host="127.0.0.1")
    if lan:
        settings.lan_address = "127.0.0.2"
    return settings, server.app_for(settings)


def client(app: Any, host: str = "127.0.0.1", base: str = BASE) -> Any:
    from starlette.testclient import TestClient

    return TestClient(app, base_url=base, client=(host, 50000), follow_redirects=False)


def desktop(home: Path, **kw: Any) -> tuple[Any, Any]:
    """A client signed in as the desktop (through the printed address)."""
    settings, app = make_app(home, **kw)
    c = client(app)
    r = c.get(f"/login/{settings.guard.login_key}")
    assert r.status_code == 303, r.text
    return settings, c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@contextmanager
def real_server(home: Path, *, lan: bool = False, lan_address: str | None = None) -> Iterator[tuple[Any, Any]]:
    """The web app served by uvicorn as ``locker serve`` runs it, on a free port of 127.0.0.1:
    its settings (``base`` its address) and the running uvicorn server."""
    from locker.paths import open_home
    from locker.web import server

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = server.prepare(open_home(str(home), may_create=True).ensure(), host="127.0.0.1", port=port, lan=lan)
    if lan_address is not None:
        settings.lan_address = lan_address
    running = server.server(settings)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.02)
    settings.base = f"http://127.0.0.1:{port}"
    try:
        yield settings, running
    finally:
        running.should_exit = True
        thread.join(timeout=30)
        sock.close()
