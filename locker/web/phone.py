"""The phone (``locker serve --lan``): the desktop's pairing page with its QR code, the phone
redeeming it, picking its one dispute, sending files to it, and either side ending the session.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import domain
from ..i18n import _
from ..paths import Home, is_folder_name
from . import security
from .common import Settings, _call, _changing, _check_csrf, _desktop, _form, _page, _settings
from .security import PHONE_COOKIE
from .uploads import _batch, _name_of, _receive


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
