"""Shared by the web app's tests: an app on a fresh home, a signed-in desktop client."""

from __future__ import annotations

import re
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
