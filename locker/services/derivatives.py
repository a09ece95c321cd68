"""Derived files of an exhibit: key frames of videos, display renditions and thumbnails of images,
slice plans of long screenshots.

Filed in the dispute's ``derived/`` folder by :mod:`locker.derived` (which owns its layout), under the
original's SHA-256 and the derivation's key::

    derived/ab/abcdef…/frames-v1-9-1280/{frame-00.jpg …, manifest.json}
    derived/ab/abcdef…/image-v1-2400-320/{display.jpg, thumb.jpg, manifest.json}

so each is made once per object and reused, and any of it can be deleted and made again from the
originals (``locker rebuild``, :mod:`locker.services.rebuild`). Nothing in ``verify`` depends on them:
they are conveniences, never evidence. This module reads no database: callers hand it the exhibit.
"""

from __future__ import annotations

import os  # noqa: F401  (tests watch os.fsync/os.rename through this module)
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from .. import derived, store
from ..domain import LONG_RATIO
from ..errors import LockerError
from ..i18n import _
from ..paths import DisputeDir

FRAME_COUNT = 9
FRAME_SIDE = 1280
DISPLAY_SIDE = 2400
THUMB_SIDE = 320


class ExhibitRef(Protocol):
    """What this module needs of an exhibit (an ORM row, or export's small picklable record)."""

    @property
    def number(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def mime(self) -> str: ...
    @property
    def kind(self) -> str: ...


@dataclass(frozen=True)
class Derivation:
    exhibit: int
    key: str
    folder: Path
    manifest: dict[str, Any]


def _key(kind: str) -> str | None:
    if kind == "video":
        return f"frames-v1-{FRAME_COUNT}-{FRAME_SIDE}"
    if kind == "image":
        return f"image-v1-{DISPLAY_SIDE}-{THUMB_SIDE}"
    return None


def _family(exhibit: ExhibitRef) -> str | None:
    if exhibit.mime.startswith("video/") and exhibit.kind == "video":
        return "video"
    if exhibit.mime.startswith("image/") and exhibit.kind in ("photo", "screenshot", "other", "document"):
        return "image"
    return None


def applies(exhibit: ExhibitRef) -> bool:
    """Does this exhibit have derived files (a video, or a picture)?"""
    return _family(exhibit) is not None


def folder_for(ddir: DisputeDir, sha256: str, key: str) -> Path:
    return derived.folder(ddir.derived, sha256, key)


def existing(ddir: DisputeDir, exhibit: ExhibitRef) -> Derivation | None:
    """The derivation already made for this exhibit, if any."""
    family = _family(exhibit)
    key = _key(family) if family else None
    if key is None:
        return None
    folder = folder_for(ddir, exhibit.sha256, key)
    manifest = derived.read_manifest(folder)
    if manifest is None:
        return None
    return Derivation(exhibit.number, key, folder, manifest)


def ensure(ddir: DisputeDir, exhibit: ExhibitRef, *, force: bool = False,
           checked: bool = False) -> Derivation | None:
    """Make this exhibit's derived files unless they exist (or ``force``). None for kinds without any.
    Raises DerivationError when the original cannot be decoded.

    They are filed under the recorded SHA-256, so they are made only from bytes that have it: the
    object is hashed first unless the caller has just done so (``checked``, as export does), and an
    object that differs is refused (LockerError) with nothing made."""
    family = _family(exhibit)
    key = _key(family) if family else None
    if family is None or key is None:
        return None
    if not force:
        found = existing(ddir, exhibit)
        if found is not None:
            return found
    source = ddir.object_path(exhibit.sha256)
    if not checked and store.hash_file(source)[0] != exhibit.sha256:
        raise LockerError(_("its original does not match its recorded SHA-256: nothing made from it (run locker verify)"))
    final = folder_for(ddir, exhibit.sha256, key)
    work = derived.work_folder(final)
    try:
        manifest = make(family, source, work)
        manifest.update({"exhibit_sha256": exhibit.sha256, "key": key})
        derived.write_manifest(work, manifest)
        derived.publish_folder(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Derivation(exhibit.number, key, final, manifest)


def make(family: str, source: Path, work: Path) -> dict[str, Any]:
    """Make the derived files of ``family`` ("video" or "image") from ``source`` into ``work``; their manifest."""
    from ..media import derive

    if family == "video":
        frames = derive.video_frames(source, work, FRAME_COUNT, max_side=FRAME_SIDE)
        return {"type": "video_frames", "frames": [asdict(f) for f in frames]}
    rendition = derive.image_rendition(source, work, max_side=DISPLAY_SIDE, thumb_side=THUMB_SIDE)
    manifest: dict[str, Any] = {"type": "image", **asdict(rendition)}
    if rendition.height >= LONG_RATIO * rendition.width:
        manifest["slices"] = [asdict(s) for s in derive.slice_plan(work / rendition.display)]
    return manifest


def make_unfiled(exhibit: ExhibitRef, source: Path, work: Path) -> Derivation | None:
    """Derived files of ``source``'s present bytes in ``work``, filed nowhere (export uses this for an
    object that failed its check: the cache is keyed by the recorded hash). None for kinds without any."""
    family = _family(exhibit)
    if family is None:
        return None
    return Derivation(exhibit.number, "damaged", work, make(family, source, work))
