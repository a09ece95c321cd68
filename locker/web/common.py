"""What every route of the web app uses: the settings of one run, and the helpers that check a
request (the dispute it names, the desktop session, the form and its CSRF token) and render a page.

Disputes and exhibits are named by slug and number only; a slug must be the name of an
existing dispute folder exactly (no prefix or title matching here), so no request can name
a path. Every state-changing desktop request goes through :func:`_changing` (session + CSRF).
"""

from __future__ import annotations

import itertools
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..i18n import _, language
from ..paths import Home, is_folder_name
from . import security
from .pages import render_page
from .security import CSRF_FIELD, CSRF_HEADER, DESKTOP_COOKIE, Guard

if TYPE_CHECKING:
    from .jobs import Job

FORM_MAX = 64 * 1024  # bytes of a form (the facts of a dispute are short)


@dataclass
class Settings:
    home: Home
    lan: bool = False
    limit: int = 4 * 1024 ** 3
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
    lan_address: str | None = None  # the address printed in the QR code
    port: int = 8765
    guard: Guard = field(default_factory=Guard)
    jobs: dict[int, Job] = field(default_factory=dict)
    job_ids: Any = field(default_factory=lambda: itertools.count(1))


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _slug(request: Request) -> str:
    """The dispute the route names: an existing dispute folder's exact name, else 404."""
    slug = request.path_params["slug"]
    home = _settings(request).home
    if not is_folder_name(slug) or slug not in home.slugs():
        raise HTTPException(404, _("no dispute named {name}").format(name=repr(slug)))
    return str(slug)


def _desktop(request: Request) -> str:
    """The desktop session's cookie; 403 for anyone else (a phone, another program)."""
    settings = _settings(request)
    cookie = request.cookies.get(DESKTOP_COOKIE)
    client = request.client.host if request.client else ""
    if not settings.guard.desktop_ok(cookie) or (settings.lan and not _this_computer(settings, client)):
        raise HTTPException(403, _("open the address that `locker serve` printed on this computer"))
    return str(cookie)


def _this_computer(settings: Settings, client: str) -> bool:
    """A request from this computer: over loopback, or to its own LAN address from itself."""
    return security.is_loopback(client) or (settings.lan_address is not None and client == settings.lan_address)


async def _form(request: Request) -> dict[str, str]:
    """A url-encoded form, at most FORM_MAX bytes (last value of each name)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_MAX:
            raise HTTPException(413, _("the form is too large"))
    pairs = urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return dict(pairs)


def _check_csrf(request: Request, session: str, form: dict[str, str] | None) -> None:
    settings = _settings(request)
    token = request.headers.get(CSRF_HEADER) or (form or {}).get(CSRF_FIELD)
    if not settings.guard.csrf_ok(session, token):
        raise HTTPException(403, _("this form has expired: reload the page and try again"))
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = urllib.parse.urlsplit(origin).hostname or ""
        if host not in _allowed_hosts(settings):
            raise HTTPException(403, _("this request came from another site"))


async def _changing(request: Request, *, form: bool = True) -> tuple[str, dict[str, str]]:
    """A state-changing desktop request: its session and its (checked) form."""
    session = _desktop(request)
    fields = await _form(request) if form else {}
    _check_csrf(request, session, fields)
    return session, fields


def _allowed_hosts(settings: Settings) -> set[str]:
    hosts = set(settings.hosts)
    if settings.lan_address:
        hosts.add(settings.lan_address)
    return hosts


def _page(request: Request, template: str, session: str | None, status: int = 200, **context: Any) -> HTMLResponse:
    settings = _settings(request)
    csrf = settings.guard.csrf_token(session) if session else ""
    html = render_page(template, csrf=csrf, lan=settings.lan, lang=language(), path=request.url.path, **context)
    return HTMLResponse(html, status_code=status)


async def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await run_in_threadpool(fn, *args, **kwargs)
