"""The desktop's pages of disputes and exhibits: signing in, the list of disputes and a new one,
a dispute's page and its facts, an exhibit's page with its pictures and original, the language.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from .. import domain
from ..errors import LockerError
from ..i18n import N_, _
from .common import _call, _changing, _desktop, _page, _settings, _slug, _this_computer
from .security import DESKTOP_COOKIE

EDIT_FIELDS = ("title", *domain.DISPUTE_FIELDS)
LABELS = {
    "title": N_("Title"), "platform": N_("Platform"), "merchant": N_("Merchant"),
    "merchant_address": N_("Merchant's address or shop link"), "order_id": N_("Order number"),
    "item": N_("What was bought"), "amount": N_("Amount paid"), "currency": N_("Currency"),
    "purchased_on": N_("Purchase date"), "claim": N_("What you ask for"), "summary": N_("The facts in short"),
}


async def login(request: Request) -> Response:
    """The address ``locker serve`` prints: sets the desktop session cookie, once per browser."""
    settings = _settings(request)
    client = request.client.host if request.client else ""
    if not settings.guard.login_ok(request.path_params["key"]) or not _this_computer(settings, client):
        raise HTTPException(403, _("open the address that `locker serve` printed on this computer"))
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(DESKTOP_COOKIE, settings.guard.desktop_cookie(), httponly=True, samesite="strict")
    return response


async def disputes_page(request: Request) -> Response:
    session = _desktop(request)
    from ..documents import list_doc
    from ..services import deadlines, disputes

    found = await _call(disputes.list_all, _settings(request).home)
    due = await _call(deadlines.list_due, _settings(request).home)
    soonest: dict[str, Any] = {}
    for d in due.deadlines:  # soonest first
        soonest.setdefault(d.dispute, {"due": d.due, "text": d.text, "overdue": d.overdue(due.now)})
    return _page(request, "disputes.html", session, disputes=list_doc(list(found.disputes)),
                 unreadable=list(found.unreadable), statuses=domain.STATUSES, due=soonest)


async def new_dispute(request: Request) -> Response:
    session, form = await _changing(request)
    from ..services import disputes

    fields = {k: (form.get(k) or None) for k in domain.DISPUTE_FIELDS}
    try:
        made = await _call(disputes.new, _settings(request).home.ensure(), form.get("title", ""), **fields)
    except LockerError as err:
        from ..documents import list_doc

        found = await _call(disputes.list_all, _settings(request).home)
        return _page(request, "disputes.html", session, status=400, error=err.message, form=form,
                     disputes=list_doc(list(found.disputes)), unreadable=list(found.unreadable),
                     statuses=domain.STATUSES)
    return RedirectResponse(f"/d/{made.slug}", status_code=303)


async def _dispute_context(request: Request, slug: str) -> dict[str, Any]:
    from ..documents import show_doc
    from ..services import derivatives, disputes

    detail = await _call(disputes.detail, _settings(request).home, slug)
    doc = show_doc(detail)
    pictures = {e.number for e in detail.exhibits if derivatives.applies(e)}
    return {"d": doc, "pictures": pictures, "fields": EDIT_FIELDS, "labels": {k: _(v) for k, v in LABELS.items()},
            "request_saved": request.query_params.get("saved")}


async def dispute_page(request: Request) -> Response:
    session = _desktop(request)
    slug = _slug(request)
    context = await _dispute_context(request, slug)
    return _page(request, "dispute.html", session, slug=slug, **context)


async def edit_facts(request: Request) -> Response:
    session, form = await _changing(request)
    slug = _slug(request)
    from ..services import disputes, edit

    current = (await _call(disputes.detail, _settings(request).home, slug)).dispute
    wanted = {k: form[k] for k in EDIT_FIELDS if k in form and (form[k] or None) != getattr(current, k)}
    if wanted:
        try:
            await _call(edit.edit_dispute, _settings(request).home, slug, **wanted)
        except LockerError as err:
            context = await _dispute_context(request, slug)
            return _page(request, "dispute.html", session, status=400, slug=slug, error=err.message, **context)
    return RedirectResponse(f"/d/{slug}?saved={len(wanted)}", status_code=303)


def _number(request: Request) -> int:
    return int(request.path_params["number"])


async def exhibit_page(request: Request) -> Response:
    session = _desktop(request)
    slug = _slug(request)
    number = _number(request)
    from ..documents import show_exhibit_doc
    from ..services import exhibits, files, timeline

    home = _settings(request).home
    try:
        found = await _call(exhibits.detail, home, slug, number)
    except LockerError as err:
        raise HTTPException(404, err.message) from None
    doc = show_exhibit_doc(found.exhibit, list(found.messages), found.history, found.facts, found.reading)
    entries = [e for e in await _call(timeline.log, home, slug)
               if isinstance(e.payload, dict) and e.payload.get("exhibit") == number]
    from ..services import derivatives

    picture = derivatives.applies(found.exhibit)
    frames = await _call(files.frame_count, home, slug, found.exhibit) if found.exhibit.kind == "video" else 0
    if found.exhibit.kind == "video" and picture and not frames:
        await _call(files.rendition, home, slug, number, "thumb")  # makes the key frames
        frames = await _call(files.frame_count, home, slug, found.exhibit)
    return _page(request, "exhibit.html", session, slug=slug, dispute=found.dispute, doc=doc,
                 e=doc["exhibit"], entries=entries, picture=picture, frames=frames)


async def picture(request: Request) -> Response:
    """A thumbnail, display picture or key frame of an exhibit (desktop, or no one)."""
    _desktop(request)
    slug = _slug(request)
    which = request.path_params["which"]
    if which not in ("thumb", "display") and not (which.startswith("frame-") and which[6:].isdigit()):
        raise HTTPException(404)
    from ..services import files

    try:
        path = await _call(files.rendition, _settings(request).home, slug, _number(request), which)
    except LockerError as err:
        raise HTTPException(404, err.message) from None
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, media_type="image/jpeg", headers={"cache-control": "private, max-age=3600"})


async def original(request: Request) -> Response:
    _desktop(request)
    slug = _slug(request)
    from ..services import files

    try:
        path, exhibit = await _call(files.original, _settings(request).home, slug, _number(request))
    except LockerError as err:
        raise HTTPException(404, err.message) from None
    return FileResponse(path, media_type="application/octet-stream", filename=exhibit.original_name,
                        content_disposition_type="attachment")


async def set_lang(request: Request) -> Response:
    _session, form = await _changing(request)
    wanted = form.get("lang", "en")
    back = form.get("next", "/")
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    response = RedirectResponse(back, status_code=303)
    if wanted in ("zh", "en"):
        response.set_cookie("locker_lang", wanted, httponly=True, samesite="strict")
    return response
