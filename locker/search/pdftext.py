"""The text layer of a PDF exhibit, for search (pypdf, imported only when a PDF is read).

Called while the file is staged (on the ingest worker threads, before the
transaction), never inside one. A PDF that cannot be read, is encrypted, or is
a scan without a text layer gives no text: that is not an error of the
exhibit, which is stored as it is either way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

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
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return ()
        for number, page in enumerate(reader.pages):
            if number >= MAX_PAGES or total >= MAX_CHARS:
                break
            try:
                text = page.extract_text() or ""
            except Exception:  # one bad page (odd fonts, broken streams) does not lose the others
                text = ""
            text = text[: MAX_CHARS - total]
            total += len(text)
            out.append(text)
    except Exception:  # damaged beyond reading: no text, as for a scan
        pass
    while out and not out[-1].strip():
        out.pop()
    return tuple(out)
