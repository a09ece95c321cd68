"""``locker rebuild``: make every exhibit's derived files again from the originals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import LockerError
from ..i18n import _
from ..paths import Home
from . import derivatives, disputes
from .derivatives import Derivation


@dataclass(frozen=True)
class RebuildResult:
    slug: str
    made: tuple[Derivation, ...]
    failed: tuple[tuple[int, str], ...]
    skipped: int
    ocr: Any = None  # services.ocr.OcrResult when pictures were read (the ocr extra), else None
    notes: tuple[str, ...] = ()  # e.g. that OCR was not run, and how to get it


def rebuild(home: Home, ref: str, progress: Any = None) -> RebuildResult:
    """Make every exhibit's derived files again from the originals (each original is hashed first)."""
    from ..media.derive import DerivationError

    detail = disputes.detail(home, ref)
    ddir = home.dispute(detail.dispute.slug)
    todo = [e for e in detail.exhibits if derivatives.applies(e)]
    if progress:
        progress.start(len(todo), sum(e.size for e in todo))
    made: list[Derivation] = []
    failed: list[tuple[int, str]] = []
    for exhibit in todo:
        try:
            if not ddir.object_path(exhibit.sha256).exists():
                raise LockerError(_("its original is missing (run locker verify)"))
            result = derivatives.ensure(ddir, exhibit, force=True)
            if result is not None:
                made.append(result)
        except (DerivationError, LockerError) as err:
            failed.append((exhibit.number, err.message))
        if progress:
            progress.advance(exhibit.size, exhibit.original_name)
    # OCR readings are derived files too: those not made yet are read now (one reading per object and
    # engine, so what is filed already is kept; with the extra missing, a note says how to get it).
    from . import ocr

    if progress is not None and hasattr(progress, "stop"):
        progress.stop()  # the reading has a bar of its own
    readings, note = ocr.run_if_missing(home, ddir, progress)
    if readings is not None:
        failed += [(n, f"OCR: {why}") for n, why in readings.failed]
    return RebuildResult(ddir.slug, tuple(made), tuple(failed), len(detail.exhibits) - len(todo), readings,
                         (note,) if note and readings is None else ())
