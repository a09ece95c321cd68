"""Work that runs longer than a request: an export (a :class:`Job` on a thread, watched by its
page) and its download, search, and verify.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from .. import domain
from ..errors import LockerError
from ..i18n import _, language, set_language
from .common import _call, _changing, _desktop, _page, _settings, _slug


@dataclass
class Job:
    """An export running on a thread, watched by the export page."""

    id: int
    slug: str
    started: float
    files: int = 0
    total: int = 1
    done: int = 0
    finished: bool = False
    error: str | None = None
    result: dict[str, Any] | None = None
    export_id: int | None = None

    # the Progress protocol of services.ingest / report.progress
    def start(self, files: int, total_bytes: int) -> None:
        self.files, self.total, self.done = files, max(1, total_bytes), 0

    def advance(self, nbytes: int, name: str) -> None:
        self.done = min(self.total, self.done + nbytes)

    def stop(self) -> None:
        pass

    @property
    def percent(self) -> int:
        return 100 if self.finished else min(99, int(100 * self.done / self.total))


async def export_page(request: Request) -> Response:
    session = _desktop(request)
    slug = _slug(request)
    from ..services import disputes, files

    detail = await _call(disputes.detail, _settings(request).home, slug)
    latest = await _call(files.latest_export_id, _settings(request).home, slug)
    return _page(request, "export.html", session, slug=slug, title=detail.dispute.title, latest=latest,
                 langs=domain.LANGS)


async def export_start(request: Request) -> Response:
    session, form = await _changing(request)
    slug = _slug(request)
    settings = _settings(request)
    from ..services import export as exporting
    from ..services import files

    def listed(value: str) -> tuple[str, ...]:
        return tuple(v for v in value.replace(" ", "").split(";") if v)

    options = exporting.ExportOptions(
        lang=form.get("lang") or None, letter=form.get("letter") == "on", max_size=form.get("max_size") or None,
        attach_originals=form.get("attach_originals") == "on", include=listed(form.get("include", "")),
        exclude=listed(form.get("exclude", "")), allow_damaged=form.get("allow_damaged") == "on")
    job = Job(next(settings.job_ids), slug, time.time())
    settings.jobs[job.id] = job
    lang = language()

    def run() -> None:
        set_language(lang)
        try:
            result = exporting.export(settings.home, slug, options, progress=job)
            from ..documents import export_doc

            job.result = export_doc(result)
            job.result["warnings"] = list(result.warnings)
            job.export_id = files.latest_export_id(settings.home, slug)
        except LockerError as err:
            job.error = err.message
        except Exception as err:  # noqa: BLE001  shown on the page instead of a dead thread
            job.error = f"{type(err).__name__}: {err}"
        finally:
            job.finished = True

    threading.Thread(target=run, name=f"locker-export-{job.id}", daemon=True).start()
    return RedirectResponse(f"/d/{slug}/export/{job.id}", status_code=303)


async def export_job(request: Request) -> Response:
    session = _desktop(request)
    slug = _slug(request)
    job = _settings(request).jobs.get(int(request.path_params["job"]))
    if job is None or job.slug != slug:
        raise HTTPException(404)
    template = "export_status.html" if request.headers.get("hx-request") else "export_job.html"
    return _page(request, template, session, slug=slug, job=job)


async def download(request: Request) -> Response:
    _desktop(request)
    slug = _slug(request)
    from ..services import files

    try:
        path = await _call(files.exported, _settings(request).home, slug, int(request.path_params["export"]))
    except LockerError as err:
        raise HTTPException(404, err.message) from None
    return FileResponse(path, media_type="application/pdf", filename=path.name, content_disposition_type="attachment")


async def search_page(request: Request) -> Response:
    session = _desktop(request)
    query = request.query_params.get("q", "").strip()
    doc, error = None, None
    if query:
        from ..documents import search_doc
        from ..services import search

        try:
            doc = search_doc(await _call(search.search, _settings(request).home, query, limit=100))
        except LockerError as err:
            error = err.message
    template = "search_hits.html" if request.headers.get("hx-request") else "search.html"
    return _page(request, template, session, q=query, doc=doc, error=error)


async def verify_page(request: Request) -> Response:
    session = _desktop(request)
    return _page(request, "verify.html", session, report=None, slug=request.query_params.get("dispute"))


async def verify_run(request: Request) -> Response:
    session, form = await _changing(request)
    from ..documents import verify_doc
    from ..services import verify

    slug = form.get("dispute") or None
    if slug is not None and slug not in _settings(request).home.slugs():
        raise HTTPException(404, _("no dispute named {name}").format(name=repr(slug)))
    report = await _call(verify.verify, _settings(request).home, slug)
    template = "verify_result.html" if request.headers.get("hx-request") else "verify.html"
    return _page(request, template, session, report=verify_doc(report), slug=slug)
