"""The text layer of a PDF exhibit, for search (pypdf, imported only when a PDF is read).

Called while the file is staged (on the ingest worker threads, before the
transaction), never inside one. A PDF that cannot be read, is encrypted, or is
a scan without a text layer gives no text: that is not an error of the
exhibit, which is stored as it is either way.

What pypdf reads of the file is capped (:func:`locker.readbudget.pdf_read_budget`, 8 passes
over it and 8 MiB): pypdf searches the whole file again for every object it does not find
where the cross-reference table says: tables of 2,000 / 10,000 / 50,000 entries at
wrong offsets (40 KB / 200 KB / 1 MB) took 3.4 s / 50 s / 140 s, with the cap
0.14 / 0.23 / 0.41 s. A real PDF's text costs about 1–3 passes. Once the cap is reached, the pages read before it are kept.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, BinaryIO, cast

from ..readbudget import BudgetedFile, pdf_read_budget

MAX_PAGES = 1000
MAX_CHARS = 4_000_000  # of all pages together: a 1,000-page contract is ~3 M characters


def pages(path: str | Path | Any) -> tuple[str, ...]:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf is a dependency
        return ()
    # pypdf reports damaged files through logging; without a handler of its own Python's
    # last-resort handler would print them on stderr in the middle of `locker add`.
    logger = logging.getLogger("pypdf")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    out: list[str] = []
    total = 0
    try:
        with open(path, "rb") as f:
            budgeted = BudgetedFile(f, pdf_read_budget(f.seek(0, 2)))
            reader = PdfReader(cast(BinaryIO, budgeted), strict=False)  # it only reads, seeks and tells
            if reader.is_encrypted and not reader.decrypt(""):
                return ()
            for number, page in enumerate(reader.pages):
                if number >= MAX_PAGES or total >= MAX_CHARS or budgeted.exceeded:
                    break
                try:
                    text = page.extract_text() or ""
                except Exception:  # one bad page (odd fonts, broken streams) does not lose the others
                    text = ""
                if budgeted.exceeded:  # this page was cut short
                    break
                text = text[: MAX_CHARS - total]
                total += len(text)
                out.append(text)
    except Exception:  # damaged beyond reading: no text, as for a scan
        pass
    while out and not out[-1].strip():
        out.pop()
    return tuple(out)
