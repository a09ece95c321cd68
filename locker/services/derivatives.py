"""Derived files: key frames of videos, display renditions and thumbnails of images,
slice plans of long screenshots.

They live under the dispute's ``derived/`` folder, named by the original's
SHA-256 and the derivation's parameters::

    derived/ab/abcdef…/frames-v1-9-1280/{frame-00.jpg …, manifest.json}
    derived/ab/abcdef…/image-v1-2400-320/{display.jpg, thumb.jpg, manifest.json}

so each is made once per object and reused, and any of it can be deleted and
made again from the originals (``locker rebuild``). Nothing in ``verify``
depends on them: they are conveniences, never evidence.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import store
from ..errors import LockerError
from ..paths import DisputeDir, Home
from . import disputes

FRAME_COUNT = 9
FRAME_SIDE = 1280
DISPLAY_SIDE = 2400
THUMB_SIDE = 320
LONG_RATIO = 2.5


@dataclass(frozen=True)
class Derivation:
    exhibit: int
    key: str
    folder: Path
    manifest: dict


@dataclass(frozen=True)
class RebuildResult:
    slug: str
    made: tuple[Derivation, ...]
    failed: tuple[tuple[int, str], ...]
    skipped: int


def _key(kind: str) -> str | None:
    if kind == "video":
        return f"frames-v1-{FRAME_COUNT}-{FRAME_SIDE}"
    if kind == "image":
        return f"image-v1-{DISPLAY_SIDE}-{THUMB_SIDE}"
    return None


def _family(exhibit: Any) -> str | None:
    if exhibit.mime.startswith("video/") and exhibit.kind == "video":
        return "video"
    if exhibit.mime.startswith("image/") and exhibit.kind in ("photo", "screenshot", "other", "document"):
        return "image"
    return None


def folder_for(ddir: DisputeDir, sha256: str, key: str) -> Path:
    return ddir.derived / sha256[:2] / sha256 / key


def existing(ddir: DisputeDir, exhibit: Any) -> Derivation | None:
    """The derivation already made for this exhibit, if any."""
    family = _family(exhibit)
    key = _key(family) if family else None
    if key is None:
        return None
    folder = folder_for(ddir, exhibit.sha256, key)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Derivation(exhibit.number, key, folder, manifest)


def ensure(ddir: DisputeDir, exhibit: Any, *, force: bool = False, checked: bool = False) -> Derivation | None:
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
        raise LockerError("its original does not match its recorded SHA-256: nothing made from it "
                          "(run locker verify)")
    final = folder_for(ddir, exhibit.sha256, key)
    final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _clean_stale(final.parent)
    work = final.parent / f".tmp-{os.getpid()}-{secrets.token_hex(4)}"
    work.mkdir(mode=0o700)
    try:
        manifest = _make(family, source, work)
        manifest.update({"exhibit_sha256": exhibit.sha256, "key": key})
        (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        _make_durable(work)
        _swap_in(work, final)
        store.fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Derivation(exhibit.number, key, final, manifest)


def _make(family: str, source: Path, work: Path) -> dict:
    from ..media import derive

    if family == "video":
        frames = derive.video_frames(source, work, FRAME_COUNT, max_side=FRAME_SIDE)
        return {"type": "video_frames", "frames": [asdict(f) for f in frames]}
    rendition = derive.image_rendition(source, work, max_side=DISPLAY_SIDE, thumb_side=THUMB_SIDE)
    manifest: dict = {"type": "image", **asdict(rendition)}
    if rendition.height >= LONG_RATIO * rendition.width:
        manifest["slices"] = [asdict(s) for s in derive.slice_plan(work / rendition.display)]
    return manifest


def _make_durable(work: Path) -> None:
    """fsync the finished files before the folder is renamed into place: after a power cut a
    derived folder is whole or absent, never a right-named folder of empty pictures."""
    for path in work.iterdir():
        store.fsync_file(path)
    store.fsync_dir(work)


def _clean_stale(folder: Path) -> None:
    """Work folders (``.tmp-PID-…``) and replaced ones (``.old-PID-…``) left by a process killed while it
    derived; those of a process still running are its own business."""
    for entry in folder.iterdir():
        if entry.is_dir() and any(store.left_by_dead_process(entry.name, p) for p in (".tmp-", ".old-")):
            shutil.rmtree(entry, ignore_errors=True)


def _swap_in(work: Path, final: Path) -> None:
    """Replace ``final`` with the finished ``work`` folder; a reader sees the old or the new one."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{os.getpid()}-{secrets.token_hex(4)}")
        os.rename(final, old)
    os.rename(work, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def rebuild(home: Home, ref: str, progress: Any = None) -> RebuildResult:
    """Make every exhibit's derived files again from the originals."""
    from ..media.derive import DerivationError

    detail = disputes.detail(home, ref)
    ddir = home.dispute(detail.dispute.slug)
    todo = [e for e in detail.exhibits if _family(e)]
    if progress:
        progress.start(len(todo), sum(e.size for e in todo))
    made: list[Derivation] = []
    failed: list[tuple[int, str]] = []
    for exhibit in todo:
        try:
            if not ddir.object_path(exhibit.sha256).exists():
                raise LockerError("its original is missing (run locker verify)")
            result = ensure(ddir, exhibit, force=True)
            if result is not None:
                made.append(result)
        except (DerivationError, LockerError) as err:
            failed.append((exhibit.number, err.message))
        if progress:
            progress.advance(exhibit.size, exhibit.original_name)
    return RebuildResult(ddir.slug, tuple(made), tuple(failed), len(detail.exhibits) - len(todo))
