"""The dispute's ``derived/`` folder: one layout, one way to put a file or folder in place, one cleanup.

Everything made from an original is filed under the original's SHA-256 and a key that names what was
made and how::

    derived/ab/abcdef…/frames-v1-9-1280/{frame-00.jpg …, manifest.json}   a video's key frames
    derived/ab/abcdef…/image-v1-2400-320/{display.jpg, thumb.jpg, manifest.json}
    derived/ab/abcdef…/pack-v2/img-1081x2339-q80.jpg …                   pictures sized for the pack

A folder of several files that belong together (a manifest and what it lists) is made in a work
folder beside its place and renamed into place whole (:func:`publish_folder`, durable); a single file
is renamed into place (:func:`publish_file`). A reader therefore finds a whole derivation or none.
Work left by a process that was killed is removed by the next one (:func:`clean_stale`).

All of it can be deleted and made again from the originals (``locker rebuild``; an export makes what
it misses); nothing here ever touches ``objects/``. Services and the pack both use this module; only
it knows the layout. Standard library only.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from . import store

WORK_PREFIX = store.TMP_PREFIX  # work folders and files: ".tmp-PID-…"
OLD_PREFIX = ".old-"  # a folder being replaced: ".old-PID-…"


def folder(derived: Path, sha256: str, key: str) -> Path:
    """Where the derivation ``key`` of the object ``sha256`` lives."""
    return derived / sha256[:2] / sha256 / key


def read_manifest(place: Path) -> dict[str, Any] | None:
    """The manifest of a published derivation folder, or None when there is none (or it is unreadable)."""
    try:
        manifest = json.loads((place / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def work_folder(final: Path) -> Path:
    """A new, empty work folder beside ``final`` (whose parents are made); stale work there is removed."""
    final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    clean_stale(final.parent)
    work = final.parent / f"{WORK_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    work.mkdir(mode=0o700)
    return work


def publish_folder(work: Path, final: Path) -> None:
    """Put the finished ``work`` folder in place of ``final``: every file is fsynced first, so that after a
    power cut a derivation is whole or absent (never a right-named folder of empty pictures); a reader
    sees the old folder or the new one."""
    for path in work.iterdir():
        store.fsync_file(path)
    store.fsync_dir(work)
    old = None
    if final.exists():
        old = final.with_name(f"{OLD_PREFIX}{os.getpid()}-{secrets.token_hex(4)}")
        os.rename(final, old)
    os.rename(work, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    store.fsync_dir(final.parent)


def publish_file(temp: Path, final: Path) -> None:
    """Rename the finished file ``temp`` to ``final`` (parents made); from another file system, by a copy
    beside ``final`` renamed into place. A reader sees no file or the whole file."""
    final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.replace(temp, final)
        return
    except OSError as err:
        import errno

        if err.errno != errno.EXDEV:
            raise
    beside = final.with_name(f"{WORK_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{final.name}")
    try:
        shutil.copyfile(temp, beside)
        os.replace(beside, final)
    except BaseException:
        beside.unlink(missing_ok=True)
        raise
    temp.unlink(missing_ok=True)


def clean_stale(parent: Path) -> None:
    """Work folders and files (``.tmp-PID-…``) and replaced folders (``.old-PID-…``) left in ``parent`` by a
    process killed while it derived; those of a process still running are its own business."""
    try:
        entries = list(parent.iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        if not any(store.left_by_dead_process(entry.name, p) for p in (WORK_PREFIX, OLD_PREFIX)):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def write_manifest(work: Path, manifest: dict[str, Any]) -> None:
    """The manifest of a derivation folder being made (published with it by :func:`publish_folder`)."""
    (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
