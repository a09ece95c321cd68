"""The web app's routes: parse the request, call one service (the same ones the command line
calls), render a template with what it returned (the ``--json`` documents of
:mod:`locker.documents` are the pages' models).

Disputes and exhibits are named by slug and number only; a slug must be the name of an
existing dispute folder exactly (no prefix or title matching here), so no request can name
a path. Every state-changing request goes through :func:`_changing` (session + CSRF).
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import domain
from ..errors import LockerError
from ..i18n import _, set_language
from ..paths import Home, is_folder_name
from . import security
from .common import (
    Settings,
    _allowed_hosts,
    _call,
    _changing,
    _check_csrf,
    _desktop,
    _form,
    _page,
    _settings,
)
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
from .security import PHONE_COOKIE
from .uploads import _batch, _name_of, _receive, add_page, upload, upload_batch, upload_form

HERE = Path(__file__).parent


# --------------------------------------------------------------------------- the phone (--lan)


async def lan_page(request: Request) -> Response:
    """The desktop's pairing page: a QR code, the phones paired (and the dispute each picked), end buttons."""
    session = _desktop(request)
    return await _lan(request, session, None)


async def _lan(request: Request, session: str, pairing: security.Pairing | None) -> Response:
    settings = _settings(request)
    url = qr = None
    if pairing is not None:
        import segno

        url = pairing_url(settings, pairing.token)
        qr = segno.make(url, error="m").svg_data_uri(scale=6, border=2)
    phones = settings.guard.active_phones() if settings.lan else []
    titles = await _call(_titles, settings.home) if phones else {}
    return _page(request, "lan.html", session, pairing=pairing, url=url, qr=qr, now=settings.guard.now(),
                 phones=phones, titles=titles)


def _titles(home: Home) -> dict[str, str]:
    """Each readable dispute's title by its slug (what a phone picks from)."""
    from ..services import disputes

    return {s.dispute.slug: s.dispute.title for s in disputes.list_all(home).disputes}


async def lan_pair(request: Request) -> Response:
    session, _form_ = await _changing(request)
    if not _settings(request).lan:
        raise HTTPException(404)
    return await _lan(request, session, _settings(request).guard.pair())


def pairing_url(settings: Settings, token: str) -> str:
    host = settings.lan_address or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}/pair/{token}"


async def lan_end(request: Request) -> Response:
    _session, form = await _changing(request)
    _settings(request).guard.end(form.get("session", ""))
    return RedirectResponse("/phones", status_code=303)


async def pair(request: Request) -> Response:
    """The QR code's address, opened by the phone: once, within 10 minutes."""
    settings = _settings(request)
    if not settings.lan:
        raise HTTPException(404)
    phone = settings.guard.redeem(request.path_params["token"], request.headers.get("user-agent", ""))
    if phone is None:
        return _page(request, "phone_refused.html", None, status=403)
    response = RedirectResponse("/phone", status_code=303)
    response.set_cookie(PHONE_COOKIE, phone.id, httponly=True, samesite="strict")
    return response


def _phone(request: Request) -> security.PhoneSession:
    settings = _settings(request)
    found = settings.guard.phone(request.cookies.get(PHONE_COOKIE)) if settings.lan else None
    if found is None:
        raise HTTPException(403, _("this phone is not paired, or its session has ended: scan a new QR code"))
    return found


def _phone_dispute(request: Request) -> security.PhoneSession:
    """A phone sending to the dispute the route names: the one it picked, and no other."""
    found = _phone(request)
    if found.slug is None or request.path_params["slug"] != found.slug:
        raise HTTPException(403, _("this phone may send files only to the dispute it picked"))
    return found


async def phone_page(request: Request) -> Response:
    """The phone's page: the disputes to pick from, then the one it picked (upload, session, end)."""
    settings = _settings(request)
    found = settings.guard.phone(request.cookies.get(PHONE_COOKIE)) if settings.lan else None
    if found is None:
        return _page(request, "phone_refused.html", None, status=403)
    left = found.seconds_left(settings.guard.now())
    if found.slug is None:
        titles = await _call(_titles, settings.home)
        return _page(request, "phone_pick.html", found.id, left=left,
                     disputes=[{"slug": slug, "title": title} for slug, title in titles.items()])
    from ..services import disputes

    detail = await _call(disputes.detail, settings.home, found.slug)
    return _page(request, "phone.html", found.id, title=detail.dispute.title, slug=found.slug, phone=found, left=left,
                 upload_url=f"/phone/d/{found.slug}/upload", batch_url=f"/phone/d/{found.slug}/upload-batch")


async def phone_choose(request: Request) -> Response:
    """The phone picks its dispute, once: an existing dispute folder's exact name."""
    found = _phone(request)
    form = await _form(request)
    _check_csrf(request, found.id, form)
    settings = _settings(request)
    slug = form.get("dispute", "")
    if not is_folder_name(slug) or slug not in settings.home.slugs():
        raise HTTPException(404, _("no dispute named {name}").format(name=repr(slug)))
    if not settings.guard.choose(found.id, slug) and found.slug != slug:
        raise HTTPException(403, _("this phone may send files only to the dispute it picked"))
    return RedirectResponse("/phone", status_code=303)


async def phone_upload(request: Request) -> Response:
    found = _phone_dispute(request)
    _check_csrf(request, found.id, None)
    channel = domain.Channel("web-lan", request.headers.get("user-agent", "")[:400] or None)
    return await _receive(request, str(found.slug), channel, _name_of(request))


async def phone_upload_batch(request: Request) -> Response:
    found = _phone_dispute(request)
    _check_csrf(request, found.id, None)
    channel = domain.Channel("web-lan", request.headers.get("user-agent", "")[:400] or None)
    return await _batch(request, str(found.slug), found.id, channel)


async def phone_end(request: Request) -> Response:
    found = _phone(request)
    form = await _form(request)
    _check_csrf(request, found.id, form)
    _settings(request).guard.end(found.id)
    return _page(request, "phone_refused.html", None, ended=True)


# --------------------------------------------------------------------------- the app


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
