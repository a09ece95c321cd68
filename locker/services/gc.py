"""``locker gc``: remove the orphaned objects an interrupted ``add`` leaves behind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import db, store
from ..paths import Home


@dataclass(frozen=True)
class Collected:
    slug: str
    removed: tuple[str, ...]  # sha256 of each orphan removed
    bytes_freed: int


def is_orphan(sha: str, path: Path) -> bool:
    """Is this object, which no exhibit names, intact (its bytes hash to its name)? Then it is what a
    crash between publishing an object and committing its row leaves: harmless. Otherwise it was
    planted or is corrupt, which is evidence of tampering."""
    if not (store.is_object_name(sha) and path.is_file()):
        return False
    try:
        digest, _ = store.hash_file(path)
    except OSError:
        return False
    return digest == sha


def remove_orphans(home: Home, ref: str) -> Collected:
    """Delete the orphaned objects of one dispute: intact, unreferenced, and (under the objects lock,
    held exclusive) not an object some running add has published but not yet recorded.
    An unreferenced object whose bytes do not match its name is evidence of tampering and is kept."""
    from sqlmodel import select

    from ..models import Exhibit

    ddir = home.locate(ref)
    objects = ddir.objects
    if not objects.is_dir():
        return Collected(ddir.slug, (), 0)
    removed: list[str] = []
    freed = 0
    with store.ObjectsLock(objects, exclusive=True, wait=False):
        store.clean_stale_temps(objects)
        engine = db.engine_for(ddir.db)
        with db.reading(engine) as session:
            named = set(session.exec(select(Exhibit.sha256)).all())
        for sha, path in store.iter_objects(objects):
            if sha in named or not is_orphan(sha, path):
                continue
            size = path.stat().st_size
            store.remove_object(path)
            removed.append(sha)
            freed += size
    return Collected(ddir.slug, tuple(removed), freed)
