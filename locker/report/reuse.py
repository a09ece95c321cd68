"""Flowables made once and laid out in every pass.

The pack is laid out in passes over the same story (see :mod:`locker.report.pack`), as reportlab's own
``multiBuild`` does: only the sections that print page numbers of the pass before are made again. What
makes the passes cheap:

* a paragraph remembers its line breaks per width (:class:`Paragraph`): Chinese line breaking goes
  character by character and was two thirds of an export's time, done again in every pass and again
  each time a table measured a cell;
* in a pass that only finds where things fall (no pictures; its PDF is thrown away) paragraphs and
  tables are measured but not drawn, and the PDF is not written out (:func:`quiet`).

The classes are made per layout (:func:`classes`) so that the pieces reportlab splits off a paragraph or a
table (it makes them with ``self.__class__``) know the pass they are in.
"""

from __future__ import annotations

from typing import Any

from .page import State

_WRAPPED = ("width", "height", "blPara", "_wrapWidths")  # what Paragraph.wrap sets


def classes(state: State) -> tuple[type, type]:
    """(Paragraph, Table) classes bound to one layout's pass ``state``."""
    from reportlab.platypus import Paragraph, Table

    class MemoParagraph(Paragraph):  # type: ignore[misc]
        """A Paragraph that keeps the line breaks it found for each width it was wrapped at."""

        _state = state

        def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
            memo: dict[float, Any] = self.__dict__.setdefault("_memo", {})
            found: Any = memo.get(availWidth)
            if found is None:
                size: tuple[float, float] = Paragraph.wrap(self, availWidth, availHeight)
                if "blPara" in self.__dict__:
                    memo[availWidth] = {name: self.__dict__[name] for name in _WRAPPED}
                return size
            self.__dict__.update(found)  # as the wrap at this width left them
            return found["width"], found["height"]

        def draw(self) -> None:
            if self._state.draw_images:
                Paragraph.draw(self)

    class QuietTable(Table):  # type: ignore[misc]
        """A Table not drawn in a pass that only finds where things fall."""

        _state = state

        def draw(self) -> None:
            if self._state.draw_images:
                Table.draw(self)

    return MemoParagraph, QuietTable


def undo_edits(doc: Any) -> Any:
    """Have ``doc`` record what its build changes on the flowables (as reportlab's multiBuild does: it
    turns ``keepWithNext`` off on the flowables it groups), so that the same story can be built again.
    Returns the function that puts them back."""
    edits: list[tuple[Any, ...]] = []
    doc._multiBuildEdits = edits.append

    def undo() -> None:
        while edits:
            edit = edits.pop(0)
            edit[0](*edit[1:])

    return undo


def quiet(doc: Any) -> None:
    """A pass that only finds where things fall: its PDF is not written out."""
    doc._doSave = 0
