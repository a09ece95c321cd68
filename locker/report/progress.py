"""The export's one progress bar, from the first moment to the written pack.

The bar counts the exhibits' bytes. Each exhibit's share moves in three phases:

* ``layout`` (a fifth): the first pass has laid the exhibit out (``DRAWN`` of the phase); the rest
  moves with that pass's pages after the exhibits (the appendix, whose length is not known yet: each
  page moves a fifth of what is left), and completes when the pass ends;
* ``pictures`` (two fifths): its renditions are made or found in the cache (an exhibit without
  pictures completes this share as soon as the pictures start);
* ``write`` (two fifths): the pass that writes the PDF has drawn the exhibit (``DRAWN`` of the
  phase); the rest is the closing, shared by all exhibits: the pages after the last exhibit (the
  appendix: manifest, fingerprint, custody log), then the file written out and checked. A
  300-exhibit pack spends about a second there, which the bar now shows instead of standing still.

A phase that runs again (a layout pass repeated because a page number moved a line) never moves the
bar back nor beyond its share, so the total reached is exactly the total announced.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from .. import interrupts
from ..durable import Writeback

PHASES = (("layout", 1), ("pictures", 2), ("write", 2))  # (phase, fifths of each exhibit's share)
_FIFTHS = sum(weight for _name, weight in PHASES)
DRAWN = 0.75  # of an exhibit's layout or write share: its pages done; the rest is the closing (see closing())
CLOSING_PAGES = 0.8  # of the closing: the pages after the exhibits (report.decoration moves it page by page)
CLOSING_WRITTEN = 0.9  # the file written out (and its inserted pages placed); then checked and recorded


class Meter:
    """Reports the phases of an export to a ``progress`` with ``start(files, total)`` and
    ``advance(amount, name)`` (locker.services.ingest.Progress); ``None`` reports nothing."""

    def __init__(self, progress: Any, exhibits: Iterable[tuple[int, int]]) -> None:
        self.progress = progress
        self.sizes = {number: max(1, size) for number, size in exhibits}
        self.total = sum(self.sizes.values()) or 1
        self._done: dict[tuple[str, int], int] = {}
        self._finished = False
        if progress is not None:
            progress.start(len(self.sizes), self.total)
            if not self.sizes:
                progress.advance(0, "nothing to lay out")

    def share(self, phase: str, number: int) -> int:
        """The bytes of exhibit ``number`` that ``phase`` moves the bar by (the shares add up to its size)."""
        size = self.sizes.get(number, 0)
        cut = 0
        for name, weight in PHASES:
            end = cut + weight
            if name == phase:
                return size * end // _FIFTHS - size * cut // _FIFTHS
            cut = end
        raise ValueError(f"no such phase: {phase}")

    def advance(self, phase: str, number: int, fraction: float = 1.0) -> None:
        """Exhibit ``number`` has done ``fraction`` more of ``phase`` (capped at the whole of it)."""
        interrupts.check()  # a Ctrl-C swallowed on its way up (reportlab's imports) stops the export here
        if self.progress is None or number not in self.sizes:
            return
        done = self._done.get((phase, number), 0)
        step = self._raise(phase, number, done + max(0, round(self.share(phase, number) * fraction)))
        if step:
            self.progress.advance(step, f"{phase}: exhibit {number}")

    def closing(self, fraction: float, phase: str = "write") -> None:
        """The closing of ``phase`` is ``fraction`` done: one move of the bar, never back. The write's
        closing is the pages after the exhibits, then the file written and checked; the layout's, the
        first pass's pages after the exhibits (the appendix)."""
        self.reach(phase, DRAWN + (1 - DRAWN) * min(1.0, max(0.0, fraction)), f"{phase}: closing")

    def reach(self, phase: str, fraction: float, label: str) -> None:
        """Every exhibit has done at least ``fraction`` of ``phase``, reported as one move."""
        if self.progress is None:
            return
        moved = sum(self._raise(phase, number, round(self.share(phase, number) * fraction)) for number in self.sizes)
        if moved:
            self.progress.advance(moved, label)

    def _raise(self, phase: str, number: int, done: int) -> int:
        """Record that exhibit ``number`` has done ``done`` bytes of ``phase`` (never more than its share,
        never less than before); the bytes it moved by."""
        before = self._done.get((phase, number), 0)
        step = min(done, self.share(phase, number)) - before
        if step <= 0:
            return 0
        self._done[(phase, number)] = before + step
        return step

    def complete(self, phase: str) -> None:
        """Every exhibit has done ``phase``."""
        for number in self.sizes:
            self.advance(phase, number)

    def finish(self) -> None:
        """The pack is written: whatever is left of every phase."""
        if not self._finished:
            self._finished = True
            for phase, _weight in PHASES:
                self.complete(phase)


WRITE_SLICE = 4 * 1024 * 1024  # the pack's file is written out in slices this big (see WrittenOut)


class WrittenOut:
    """The file the writing pass draws the PDF into. reportlab puts the whole file together and hands
    it to one ``write`` (38 MB for 300 pictures): written in WRITE_SLICE slices, each moves the
    write's closing on from its pages (CLOSING_PAGES) towards the file written (CLOSING_WRITTEN), and
    the slices' writeback is started as they go (durable.Writeback), so that the fsync after the
    build has less left on a slow disk."""

    def __init__(self, fd: int, meter: Meter) -> None:
        self.fd = fd
        self.meter = meter
        self.flush = Writeback(fd)

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        total = len(view)
        done = 0
        try:
            while done < total:
                with view[done:done + WRITE_SLICE] as piece:
                    n = os.write(self.fd, piece)
                done += n
                self.flush.wrote(n)
                self.meter.closing(CLOSING_PAGES + (CLOSING_WRITTEN - CLOSING_PAGES) * done / total)
        finally:
            view.release()
        return total
