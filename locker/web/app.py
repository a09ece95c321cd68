"""The web app: its routes, what wraps every request (:class:`Shell`), the error pages, and
:func:`create_app`. Each route parses the request, calls one service (the same ones the command
line calls), and renders a template with what it returned (the ``--json`` documents of
:mod:`locker.documents` are the pages' models). The routes live by what they serve:

    common    the settings of a run; session, CSRF, form and page helpers
    disputes  the desktop's pages of disputes and exhibits, and the language
    uploads   files sent from a browser (PUT, multipart)
    jobs      export (on a thread), download, search, verify
    phone     pairing and the phone's pages (--lan)
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import LockerError
from ..i18n import _, set_language
from ..paths import Home
from . import security
from .common import Settings, _allowed_hosts, _page
from .disputes import (
    dispute_page,
    disputes_page,
    edit_facts,
    exhibit_page,
    login,
    new_dispute,
    original,
    picture,
    set_lang,
)
from .jobs import download, export_job, export_page, export_start, search_page, verify_page, verify_run
from .phone import (
    lan_end,
    lan_page,
    lan_pair,
    pair,
    phone_choose,
    phone_end,
    phone_page,
    phone_upload,
    phone_upload_batch,
)
from .uploads import add_page, upload, upload_batch, upload_form

HERE = Path(__file__).parent


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or ""
    if "upload" in request.url.path and request.method in ("PUT", "POST") and "form" not in request.url.path:
        return JSONResponse({"error": {"code": str(status), "message": str(detail)}}, status_code=status)
    return _page(request, "error.html", None, status=status, message=str(detail), code=status)


async def _locker_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LockerError)
    if request.method == "PUT" or request.url.path.endswith("upload-batch"):
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=400)
    return _page(request, "error.html", None, status=400, message=exc.message, code=400)


def routes() -> list[Any]:
    return [
        Route("/", disputes_page),
        Route("/login/{key}", login),
        Route("/disputes", new_dispute, methods=["POST"]),
        Route("/lang", set_lang, methods=["POST"]),
        Route("/search", search_page),
        Route("/verify", verify_page),
        Route("/verify", verify_run, methods=["POST"]),
        Route("/d/{slug}", dispute_page),
        Route("/d/{slug}/facts", edit_facts, methods=["POST"]),
        Route("/d/{slug}/add", add_page),
        Route("/d/{slug}/upload", upload, methods=["PUT"]),
        Route("/d/{slug}/upload-form", upload_form, methods=["POST"]),
        Route("/d/{slug}/upload-batch", upload_batch, methods=["POST"]),
        Route("/d/{slug}/e/{number:int}", exhibit_page),
        Route("/d/{slug}/e/{number:int}/original", original),
        Route("/d/{slug}/e/{number:int}/{which}", picture),
        Route("/d/{slug}/export", export_page),
        Route("/d/{slug}/export", export_start, methods=["POST"]),
        Route("/d/{slug}/export/{job:int}", export_job),
        Route("/d/{slug}/pack/{export:int}", download),
        Route("/phones", lan_page),
        Route("/phones/pair", lan_pair, methods=["POST"]),
        Route("/phones/end", lan_end, methods=["POST"]),
        Route("/pair/{token}", pair),
        Route("/phone", phone_page),
        Route("/phone/choose", phone_choose, methods=["POST"]),
        Route("/phone/d/{slug}/upload", phone_upload, methods=["PUT"]),
        Route("/phone/d/{slug}/upload-batch", phone_upload_batch, methods=["POST"]),
        Route("/phone/end", phone_end, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


class Shell:
    """Around every request: the Host header checked (no DNS rebinding), the language chosen
    (cookie, else the profile, else the browser's Accept-Language), the security headers added."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = urllib.parse.urlsplit("//" + headers.get("host", "")).hostname or ""
        if host not in _allowed_hosts(self.settings):
            response = Response(_("unknown host: open the address that `locker serve` printed"), status_code=421,
                                headers=security.HEADERS)
            await response(scope, receive, send)
            return
        token = set_language(_choose_language(headers, self.settings.home))

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                present = {k.lower() for k, _v in raw}
                for name, value in security.HEADERS.items():
                    if name.encode() not in present:
                        raw.append((name.encode(), value.encode()))
                message = {**message, "headers": raw}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            from ..i18n import _lang

            _lang.reset(token)


def _choose_language(headers: dict[str, str], home: Home) -> str:
    from ..i18n import normalize

    cookies = headers.get("cookie", "")
    for part in cookies.split(";"):
        name, _sep, value = part.strip().partition("=")
        if name == "locker_lang" and normalize(value):
            return normalize(value) or "en"
    try:
        from ..services import profile

        wanted = normalize(profile.load(home).lang)
    except (LockerError, OSError):
        wanted = None
    if wanted:
        return wanted
    for item in headers.get("accept-language", "").split(","):
        found = normalize(item.split(";")[0].strip())
        if found:
            return found
    return "en"


def create_app(settings: Settings) -> Any:
    app = Starlette(routes=routes(), exception_handlers={HTTPException: _http_error, LockerError: _locker_error})
    app.state.settings = settings
    return Shell(app, settings)
