"""What the derivers make and where they write it: the results (:class:`Frame`,
:class:`Rendition`, :class:`Slice`), :class:`DerivationError`, and :class:`_Outputs`, which
stages every file under a temporary name in ``out_dir`` and renames them all into place at the end."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locker.errors import LockerError, StoreError

from ..i18n import _

__all__ = ["DerivationError", "Frame", "Rendition", "Slice", "timecode"]

_TMP_PREFIX = ".tmp-"  # as locker.store: a left-over temporary file is recognisable


class DerivationError(LockerError):
    """The original cannot be turned into a derivative: undecodable, truncated, too large."""

    code = "derive"


@dataclass(frozen=True)
class Frame:
    index: int  # 0..n-1
    time: float  # seconds from the start of the video stream, presentation time of the frame decoded
    timecode: str  # "00:01:23.500"
    file: str  # file name inside out_dir, e.g. "frame-00.jpg"
    width: int
    height: int  # after rotation


@dataclass(frozen=True)
class Rendition:
    display: str  # file name inside out_dir: JPEG, orientation applied, longest side <= max_side
    thumbnail: str  # file name inside out_dir: JPEG that fits thumb_side × thumb_side
    width: int  # of the display rendition
    height: int
    source_width: int  # of the original, after orientation
    source_height: int


@dataclass(frozen=True)
class Slice:
    top: int  # pixel rows of the image, [top, bottom)
    bottom: int


# --------------------------------------------------------------------------- helpers


def timecode(seconds: float) -> str:
    """12.5 → "00:00:12.500" (hours keep counting past 99)."""
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def _short(exc: object) -> str:
    text = " ".join(str(getattr(exc, "strerror", None) or exc).split())
    return (text[:160] + "…") if len(text) > 160 else (text or type(exc).__name__)


class _Outputs:
    """Files staged under temporary names in ``out_dir``; renamed into place by :meth:`commit`."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.staged: list[tuple[Path, Path]] = []
        self.created: list[Path] = []  # folders made here, removed again by abort() when left empty

    def _temp(self, name: str) -> Path:
        """A new empty file in out_dir, private (0600) like the rest of the locker, named as
        locker.store names its temporary files (``.tmp-<pid>-<random>-<name>``)."""
        temp = self.out_dir / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}-{name}"
        try:
            if not self.out_dir.is_dir():
                missing = [self.out_dir, *(p for p in self.out_dir.parents if not p.exists())]
                self.out_dir.mkdir(parents=True, exist_ok=True)
                self.created = [p for p in missing if p.is_dir()]
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            raise StoreError(_("cannot write: {short}").format(short=_short(exc)), path=str(self.out_dir / name)) from exc
        self.staged.append((temp, self.out_dir / name))
        return temp

    def save_jpeg(self, img: Any, name: str, *, quality: int, icc: bytes | None = None,
                  subsampling: int = -1) -> None:
        temp = self._temp(name)
        kwargs: dict[str, Any] = {"quality": quality}
        if icc:
            kwargs["icc_profile"] = icc
        if subsampling >= 0:
            kwargs["subsampling"] = subsampling
        try:
            img.save(temp, "JPEG", **kwargs)
        except OSError as exc:
            raise StoreError(_("cannot write: {short}").format(short=_short(exc)), path=str(self.out_dir / name)) from exc

    def copy(self, src: Path, name: str) -> None:
        temp = self._temp(name)
        try:
            shutil.copyfile(src, temp)
        except OSError as exc:
            raise StoreError(_("cannot copy: {short}").format(short=_short(exc)), path=str(self.out_dir / name)) from exc

    def commit(self) -> None:
        try:
            for temp, final in self.staged:
                os.replace(temp, final)
        except OSError as exc:
            self.abort()
            raise StoreError(_("cannot write: {short}").format(short=_short(exc)), path=str(self.out_dir)) from exc
        self.staged.clear()
        self.created = []

    def abort(self) -> None:
        for temp, _final in self.staged:
            try:
                temp.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                pass  # best effort: a stray ".tmp-…" file is harmless and recognisable
        self.staged.clear()
        for folder in self.created:  # deepest first
            try:
                folder.rmdir()
            except OSError:
                break  # not empty, or not ours to remove
        self.created = []


def _fit(width: int, height: int, limit: int) -> tuple[int, int, float]:
    """(w, h, scale) fitting the longest side into ``limit``, never upscaled."""
    scale = min(1.0, limit / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale)), scale
