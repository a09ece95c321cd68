"""Files the web app sends to a browser, found by dispute slug and number, never by a path
the browser names: an exhibit's thumbnail, display picture or key frame (the derived renditions
of services.derivatives, made on first request), its original, and a pack written by export."""

from __future__ import annotations

from pathlib import Path

from .. import db
from ..errors import NotFound
from ..i18n import _
from ..paths import Home
from . import derivatives, disputes
from .exhibits import get_exhibit
from .views import ExhibitView


def _exhibit(home: Home, slug: str, number: int) -> ExhibitView:
    opened = disputes.resolve(home, slug)
    with db.reading(opened.engine) as session:
        found = get_exhibit(session, number)
        if found is None:
            raise NotFound(_("{slug} has no exhibit {number}").format(slug=slug, number=number))
        return ExhibitView.of(found)


def rendition(home: Home, slug: str, number: int, which: str) -> Path | None:
    """The exhibit's ``thumb`` or ``display`` picture (for a video: its first key frame), or key
    frame ``frame-N``; made now if it was not yet. None when the exhibit has no pictures (a chat,
    a PDF) or its original cannot be decoded."""
    exhibit = _exhibit(home, slug, number)
    ddir = home.dispute(slug)
    if not derivatives.applies(exhibit):
        return None
    try:
        made = derivatives.ensure(ddir, exhibit)
    except Exception:  # noqa: BLE001  an undecodable or damaged original simply has no picture
        return None
    if made is None:
        return None
    manifest = made.manifest
    if manifest.get("type") == "video_frames":
        frames = [f.get("file") for f in manifest.get("frames", [])]
        frames = [f for f in frames if isinstance(f, str)]
        index = int(which.split("-", 1)[1]) if which.startswith("frame-") and which[6:].isdigit() else 0
        name = frames[index] if 0 <= index < len(frames) else None
    else:
        name = manifest.get("display" if which == "display" else "thumbnail")
    if not isinstance(name, str) or "/" in name or name.startswith("."):
        return None
    path = made.folder / name
    return path if path.is_file() else None


def frame_count(home: Home, slug: str, exhibit: ExhibitView) -> int:
    """How many key frames a video exhibit has (0 when none were made or it is no video)."""
    found = derivatives.existing(home.dispute(slug), exhibit)
    if found is None or found.manifest.get("type") != "video_frames":
        return 0
    return len(found.manifest.get("frames", []))


def original(home: Home, slug: str, number: int) -> tuple[Path, ExhibitView]:
    """The stored original of an exhibit and its record."""
    exhibit = _exhibit(home, slug, number)
    return home.dispute(slug).object_path(exhibit.sha256), exhibit


def exported(home: Home, slug: str, export_id: int) -> Path:
    """The pack written by export ``export_id`` of this dispute, when it is still in the dispute's
    ``exports/`` folder (a pack written elsewhere with ``-o`` is not served)."""
    from ..models import Export

    opened = disputes.resolve(home, slug)
    with db.reading(opened.engine) as session:
        row = session.get(Export, export_id)
        recorded = None if row is None else Path(row.path)
    folder = opened.dir.root / "exports"
    if recorded is None or recorded.parent.resolve() != folder.resolve() or not recorded.is_file():
        raise NotFound(_("{slug} has no pack {number}").format(slug=slug, number=export_id))
    return recorded


def latest_export_id(home: Home, slug: str) -> int | None:
    """The id of the dispute's newest recorded export."""
    from sqlmodel import col, select

    from ..models import Export

    opened = disputes.resolve(home, slug)
    with db.reading(opened.engine) as session:
        row = session.exec(select(Export).order_by(col(Export.id).desc())).first()
        return None if row is None else row.id
