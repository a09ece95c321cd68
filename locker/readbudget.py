"""A read-only file that stops answering after a number of bytes: bounds what a parser reads.

pypdf's recovery of a damaged PDF reads the whole file again for every object it cannot find
where the cross-reference table says (``get_stream_data`` + a regular expression over it). A
1 MB file whose table lists 50,000 objects at wrong offsets made it read ~10 GB (its 10,000
catalog-search limit × the file) and take minutes. Handed a :class:`BudgetedFile` instead of
the open file, the parser gets :class:`ReadBudgetExceeded` from every read once it has read
``budget`` bytes, so its total work stays proportional to the budget whatever the file holds;
the caller then treats the file as unreadable (:attr:`BudgetedFile.exceeded`).
"""

from __future__ import annotations

import os
from typing import BinaryIO


class ReadBudgetExceeded(Exception):
    """Raised by :meth:`BudgetedFile.read` once the budget is spent."""


def pdf_read_budget(size: int) -> int:
    """Bytes pypdf may read of a ``size``-byte PDF: 8 passes over it and 8 MiB more.

    Real files need far less: pypdf reads a well-formed PDF about once (the 4-page pdfTeX
    sample: 0.3 passes for its page count, 1.3 for its text), and rebuilding a damaged
    cross-reference table costs two passes (one read of the file, one of every object).
    """
    return 8 * size + 8 * 1024 * 1024


class BudgetedFile:
    """``read``/``seek``/``tell`` of ``f`` (binary, seekable), refusing reads past ``budget`` bytes.

    A read may ask for at most what is left of the budget (``read()`` and ``read(-1)`` ask for
    the rest of the file) and costs the bytes it returns plus 1, so a parser looping on empty
    reads spends the budget too. A refused read raises before touching the file; every later
    read is refused as well.
    """

    mode = "rb"  # pypdf warns about files without "b" in their mode

    def __init__(self, f: BinaryIO, budget: int) -> None:
        self._f = f
        self.budget = budget
        self.spent = 0
        self.exceeded = False
        self._size = f.seek(0, os.SEEK_END)
        f.seek(0)

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:  # to the end: refused before the file is read
            n = max(self._size - self._f.tell(), 0)
        if self.exceeded or self.spent + n >= self.budget:
            self.exceeded = True
            raise ReadBudgetExceeded(f"read budget of {self.budget} bytes spent")
        data = self._f.read(n)
        self.spent += len(data) + 1
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()
