"""Files sent to a dispute from a browser: the add page, one file per PUT request (its bytes as
the body) and multipart forms (several files, or the add page without JavaScript), each streamed
into the dispute's store by :mod:`locker.services.upload` as it arrives.
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from .. import domain
from ..i18n import _
from .common import FORM_MAX, _call, _check_csrf, _desktop, _page, _settings, _slug
from .security import CSRF_FIELD, CSRF_HEADER


async def add_page(request: Request) -> Response:
    session = _desktop(request)
    slug = _slug(request)
    from ..services import disputes

    detail = await _call(disputes.detail, _settings(request).home, slug)
    return _page(request, "add.html", session, slug=slug, title=detail.dispute.title,
                 upload_url=f"/d/{slug}/upload", batch_url=f"/d/{slug}/upload-batch", limit=_settings(request).limit)


async def _receive(request: Request, slug: str, channel: domain.Channel, name: str) -> Response:
    """Stream the request's body into the dispute's store, then record it (services.upload)."""
    from ..documents import add_doc
    from ..services import upload

    settings = _settings(request)
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > settings.limit:
        return JSONResponse({"error": {"code": "too_large", "message": _(
            "{name} is larger than the upload limit ({limit} bytes)").format(name=name, limit=settings.limit)}},
            status_code=413)
    receiver = await _call(upload.Receiver, settings.home, slug, name, limit=settings.limit)
    writer = _Writer(receiver.write)
    try:
        async for chunk in request.stream():
            await writer.put(chunk)
        await writer.close()
    except upload.TooLarge as err:
        await writer.stop()
        return JSONResponse({"error": {"code": "too_large", "message": err.message}}, status_code=413)
    except ClientDisconnect:
        await writer.stop()
        receiver.abort()
        return Response(status_code=400)
    except BaseException:
        await writer.stop()
        receiver.abort()
        raise
    result = await _call(receiver.finish, channel=channel)
    doc = _shown(add_doc(result))
    doc["exhibit_urls"] = [f"/d/{slug}/e/{a.exhibit}" for a in result.added]
    doc["notes"] = [_note(a) for a in result.added]
    return JSONResponse(doc, status_code=200 if result.ok else 422)


class _Writer:
    """Hands an upload's pieces to a thread of its own, which parses, hashes and writes them while
    the event loop reads the next ones from the socket: at most QUEUE hand-overs of about PIECE
    bytes each wait, so memory stays flat. The thread joins each hand-over into one piece: one
    hash update and one write per MiB, not per 256 KiB read (every call gives up the interpreter
    lock and waits to take it back from the event loop)."""

    QUEUE = 16
    PIECE = 1024 * 1024

    def __init__(self, sink: Any) -> None:
        import queue

        self.sink = sink  # what each piece is handed to, on the thread
        self.queue: Any = queue.Queue(self.QUEUE)
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="locker-upload", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            pieces = self.queue.get()
            if pieces is None:
                return
            if self.error is None:
                try:
                    self.sink(pieces[0] if len(pieces) == 1 else b"".join(pieces))
                except BaseException as err:  # noqa: BLE001  handed to the request's task
                    self.error = err

    async def put(self, chunk: bytes) -> None:
        if self.error is not None:
            raise self.error
        if not chunk:
            return
        self.pending.append(chunk)
        self.pending_size += len(chunk)
        if self.pending_size >= self.PIECE:  # past the limit, the receiver refuses it (raised at the next put)
            await self._hand(self.pending)
            self.pending, self.pending_size = [], 0

    async def _hand(self, pieces: list[bytes] | None) -> None:
        import queue

        try:
            self.queue.put_nowait(pieces)
        except queue.Full:
            await run_in_threadpool(self.queue.put, pieces)

    async def close(self) -> None:
        """Every piece written; the receiver's error, if any, raised here."""
        if self.pending:
            await self._hand(self.pending)
            self.pending, self.pending_size = [], 0
        await self._hand(None)
        await run_in_threadpool(self.thread.join)
        if self.error is not None:
            raise self.error

    async def stop(self) -> None:
        if self.thread.is_alive():
            self.error = self.error or RuntimeError("stopped")
            await self._hand(None)
            await run_in_threadpool(self.thread.join)


def _note(added: Any) -> str:
    if added.duplicate:
        return _("already held as exhibit {number}").format(number=added.exhibit)
    return _("added as exhibit {number}").format(number=added.exhibit)


def _name_of(request: Request) -> str:
    return request.query_params.get("name") or request.headers.get("x-file-name") or "upload"


async def upload(request: Request) -> Response:
    """One file per request, its bytes as the body (the add page's script sends them)."""
    session = _desktop(request)
    slug = _slug(request)
    _check_csrf(request, session, None)
    channel = domain.Channel("web", request.headers.get("user-agent", "")[:400] or None)
    return await _receive(request, slug, channel, _name_of(request))


async def upload_form(request: Request) -> Response:
    """The add page without JavaScript: a multipart form, each part streamed like an upload."""
    session = _desktop(request)
    slug = _slug(request)
    channel = domain.Channel("web", request.headers.get("user-agent", "")[:400] or None)
    from ..documents import add_doc

    batch = await _multipart(request, slug, session, channel)
    finished = await _call(batch.finish)
    return _page(request, "added.html", session, slug=slug, results=[_shown(add_doc(finished.result))])


async def upload_batch(request: Request) -> Response:
    """Several files in one multipart request (the add page's script sends small files so): each
    streamed into the store and read as it arrives, then all recorded in one group, as add records a folder."""
    session = _desktop(request)
    slug = _slug(request)
    _check_csrf(request, session, None)
    channel = domain.Channel("web", request.headers.get("user-agent", "")[:400] or None)
    return await _batch(request, slug, session, channel)


async def _batch(request: Request, slug: str, session: str, channel: domain.Channel) -> Response:
    from ..documents import add_doc
    from ..services import upload

    try:
        batch = await _multipart(request, slug, session, channel)
    except upload.TooLarge as err:
        return JSONResponse({"error": {"code": "too_large", "message": err.message}}, status_code=413)
    finished = await _call(batch.finish)
    files = []
    for name, added, error in finished.files:
        one = _shown(add_doc(upload_result(slug, added, name, error)))
        one["name"] = name
        one["exhibit_urls"] = [f"/d/{slug}/e/{a['exhibit']}" for a in one["added"]]
        files.append(one)
    return JSONResponse({"files": files}, status_code=200 if finished.result.ok else 422)


def _shown(doc: dict[str, Any]) -> dict[str, Any]:
    """``add --json``'s document as a page shows it: each warning in the page's language
    (``warning_codes`` keeps the codes and the English text)."""
    from .. import warncodes

    for added in doc.get("added", []):
        added["warnings"] = [warncodes.show(w) for w in added["warnings"]]
    return doc


def upload_result(slug: str, added: Any, name: str, error: str | None) -> Any:
    from ..services.ingest import AddResult, Refused

    return AddResult(slug, (added,) if added is not None else (), (Refused(name, error),) if error else ())


async def _multipart(request: Request, slug: str, session: str, channel: domain.Channel) -> Any:
    """Each file of a multipart/form-data body streamed into the store as it arrives and read once
    complete (a :class:`services.upload.Batch`, not yet recorded). The CSRF token is the
    X-CSRF-Token header, or a form field before the files."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    from ..services import upload

    settings = _settings(request)
    _ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise HTTPException(400, _("not a form upload"))
    state: dict[str, Any] = {"headers": {}, "field": None, "value": b"", "receiver": None, "header": b"",
                             "hvalue": b"", "csrf": request.headers.get(CSRF_HEADER)}
    batch = await _call(upload.Batch, settings.home, slug, limit=settings.limit, channel=channel)

    def on_part_begin() -> None:
        state.update(headers={}, field=None, value=b"", receiver=None)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["hvalue"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["header"].lower()] = state["hvalue"]
        state["header"], state["hvalue"] = b"", b""

    def on_headers_finished() -> None:
        _disp, p = parse_options_header(state["headers"].get(b"content-disposition", b""))
        state["field"] = p.get(b"name", b"").decode("utf-8", "replace")
        filename = p.get(b"filename")
        if filename is not None:
            if not settings.guard.csrf_ok(session, state["csrf"]):
                raise HTTPException(403, _("this form has expired: reload the page and try again"))
            if filename:
                state["receiver"] = batch.receive(filename.decode("utf-8", "replace"))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["receiver"] is not None:
            state["receiver"].write(memoryview(data)[start:end])  # no copy: hashed and written from the piece
        elif len(state["value"]) < FORM_MAX:
            state["value"] += data[start:end]

    def on_part_end() -> None:
        if state["receiver"] is not None:
            batch.arrived()  # read while the next file arrives
        elif state["field"] == CSRF_FIELD:
            state["csrf"] = state["value"].decode("utf-8", "replace")

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end})
    writer = _Writer(parser.write)  # parsed, hashed and written on a thread while the next pieces arrive
    try:
        async for chunk in request.stream():
            await writer.put(chunk)
        await writer.close()
        parser.finalize()
    except BaseException:
        await writer.stop()
        await _call(batch.abort)
        raise
    if not settings.guard.csrf_ok(session, state["csrf"]):
        await _call(batch.abort)
        raise HTTPException(403, _("this form has expired: reload the page and try again"))
    return batch
