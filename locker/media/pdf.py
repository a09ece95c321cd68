"""PDF page count: a few small reads for classic files, pypdf (bounded) for the rest.

1. Classic cross-reference table: ``startxref`` → ``xref`` table → trailer
   ``/Root`` → catalog ``/Pages`` → ``/Count``, following ``/Prev`` for objects
   an incremental update did not rewrite. A handful of small reads.
2. Otherwise (cross-reference streams and object streams, as pdfTeX, Word and most
   e-invoice generators write them; damaged tables) pypdf reads the page tree, for
   files up to :data:`PYPDF_MAX_BYTES`, reading at most 8 passes over the file (see
   :func:`_count_with_pypdf` for its bounds and timings).
3. Where pypdf fails (or the file is larger): a bounded scan in 1 MiB chunks of the
   whole file when it is at most 8 MiB, else of its first and last 4 MiB, for
   the catalog and page-tree objects; for a fully scanned file with no object
   streams, ``/Type /Page`` objects are counted as a last resort.

Otherwise the page count is None, with a warning, and no page count is recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator, cast

from ..readbudget import BudgetedFile, pdf_read_budget

PYPDF_MAX_BYTES = 64 * 1024 * 1024
"""PDFs whose page count the fast paths cannot read are given to pypdf up to this size."""
REGION = 4 * 1024 * 1024
CHUNK = 1024 * 1024
OBJ_WINDOW = 64 * 1024  # how much of an object's body is looked at
MAX_PREV = 32

# Numbers have at most 10 digits (xref offsets are written with 10): a longer run is not a number
# of the file's structure, and int() refuses runs over 4,300 digits (ValueError).
_STARTXREF = re.compile(rb"startxref\s+(\d{1,10})(?!\d)")
_ROOT = re.compile(rb"/Root\s+(\d{1,10})\s+(\d{1,10})\s+R")
_PREV = re.compile(rb"/Prev\s+(\d{1,10})(?!\d)")
_PAGES_REF = re.compile(rb"/Pages\s+(\d{1,10})\s+(\d{1,10})\s+R")
_COUNT = re.compile(rb"/Count\s+(\d{1,10})(?!\d)")
_OBJ = re.compile(rb"(?<![0-9])(\d{1,10})\s+(\d{1,5})\s+obj\b")
_TYPE_CATALOG = re.compile(rb"/Type\s*/Catalog\b")
_TYPE_PAGES = re.compile(rb"/Type\s*/Pages\b")
_TYPE_PAGE = re.compile(rb"/Type\s*/Page\b")
_OBJSTM = re.compile(rb"/Type\s*/ObjStm\b")
_ENCRYPT = re.compile(rb"/Encrypt\s+\d+\s+\d+\s+R|/Encrypt\s*<<")
_VERSION = re.compile(rb"%PDF-(\d\.\d)")


@dataclass
class PdfInfo:
    """What :func:`inspect_pdf` found."""

    page_count: int | None = None
    metadata: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _object_body(f: BinaryIO, offset: int) -> bytes:
    f.seek(offset)
    data = f.read(OBJ_WINDOW).lstrip()
    m = _OBJ.match(data)
    if not m:
        return b""
    body = data[m.end() :]
    for stop in (b"endobj", b"stream"):
        cut = body.find(stop)
        if cut >= 0:
            body = body[:cut]
    return body


def _xref_offsets(f: BinaryIO, xref_at: int, size: int) -> tuple[dict[int, int], bytes] | None:
    """Parse a classic xref section at ``xref_at``: ({object number: offset}, trailer bytes)."""
    f.seek(xref_at)
    if f.read(4) != b"xref":
        return None
    offsets: dict[int, int] = {}
    pos = xref_at + 4
    for _ in range(10_000):  # subsections
        f.seek(pos)
        line = f.read(64)
        stripped = line.lstrip()
        pos += len(line) - len(stripped)
        if stripped.startswith(b"trailer"):
            f.seek(pos)
            return offsets, f.read(8192)
        m = re.match(rb"(\d+)\s+(\d+)[ \t]*\r?\n?", stripped)
        if not m:
            return None
        first, count = int(m[1]), int(m[2])
        pos += m.end()
        if count > 10_000_000 or pos + 20 * count > size:
            return None
        # Only a bounded number of entries are read; enough for the objects we look up.
        f.seek(pos)
        table = f.read(min(count, 200_000) * 20)
        for i in range(len(table) // 20):
            entry = table[i * 20 : i * 20 + 20]
            if entry[10:11] != b" " or entry[16:17] != b" ":
                return None  # not 20-byte entries: leave it to the scan
            if entry[17:18] == b"n":
                try:
                    offsets.setdefault(first + i, int(entry[:10]))
                except ValueError:
                    return None
        pos += 20 * count
    return None


def _count_via_xref(f: BinaryIO, size: int) -> int | None:
    f.seek(max(0, size - 2048))
    tail = f.read()
    found = _STARTXREF.findall(tail)
    if not found:
        return None
    xref_at = int(found[-1])
    offsets: dict[int, int] = {}
    root: tuple[int, int] | None = None
    seen: set[int] = set()
    for _ in range(MAX_PREV):
        if not 0 <= xref_at < size:
            return None
        if xref_at in seen:  # a /Prev loop: every section is read once (32 re-reads took seconds)
            break
        seen.add(xref_at)
        parsed = _xref_offsets(f, xref_at, size)
        if parsed is None:
            return None
        section, trailer = parsed
        for number, offset in section.items():
            offsets.setdefault(number, offset)  # the newest section wins
        if root is None:
            m = _ROOT.search(trailer)
            root = (int(m[1]), int(m[2])) if m else None
        prev = _PREV.search(trailer.split(b"startxref")[0])
        if not prev:
            break
        xref_at = int(prev[1])
    if root is None or root[0] not in offsets:
        return None
    catalog = _object_body(f, offsets[root[0]])
    m = _PAGES_REF.search(catalog)
    if not m or int(m[1]) not in offsets:
        return None
    pages = _object_body(f, offsets[int(m[1])])
    count = _COUNT.search(pages)
    return int(count[1]) if count and _TYPE_PAGES.search(pages) else None


def _regions(size: int) -> list[tuple[int, int]]:
    if size <= 2 * REGION:
        return [(0, size)]
    return [(0, REGION), (size - REGION, size)]


def _windows(f: BinaryIO, start: int, end: int) -> Iterator[tuple[int, bytes, int]]:
    """(offset, data, limit): matches starting at or after ``limit`` belong to the next window."""
    pos = start
    while pos < end:
        f.seek(pos)
        data = f.read(min(CHUNK + OBJ_WINDOW, end - pos))
        limit = pos + CHUNK if pos + CHUNK < end else end
        yield pos, data, limit
        pos += CHUNK


@dataclass
class _Scan:
    root: tuple[int, int] | None = None
    catalogs: dict[int, bytes] = field(default_factory=dict)
    pages: dict[int, bytes] = field(default_factory=dict)
    page_objects: int = 0
    objstm: bool = False
    encrypted: bool = False
    complete: bool = False


def _scan(f: BinaryIO, size: int) -> _Scan:
    scan = _Scan(complete=size <= 2 * REGION)
    for start, end in _regions(size):
        for offset, data, limit in _windows(f, start, end):
            own = limit - offset
            for m in _ROOT.finditer(data, 0, own):
                scan.root = (int(m[1]), int(m[2]))  # the last one is the newest trailer
            if _OBJSTM.search(data):
                scan.objstm = True
            if _ENCRYPT.search(data):
                scan.encrypted = True
            scan.page_objects += sum(1 for _ in _TYPE_PAGE.finditer(data, 0, own))
            # An object's body ends at endobj/stream, and at the latest where the next object
            # starts: bodies never overlap, so the scan stays linear (looking OBJ_WINDOW bytes past
            # every header took minutes for a 1 MB file of "1 0 obj 1 0 obj …").
            headers = list(_OBJ.finditer(data, 0, own))
            for i, m in enumerate(headers):
                body_start = m.end()
                following = headers[i + 1] if i + 1 < len(headers) else _OBJ.search(data, body_start)
                body_end = min(following.start() if following else len(data), body_start + OBJ_WINDOW)
                for stop in (b"endobj", b"stream"):
                    cut = data.find(stop, body_start, body_end)
                    if cut >= 0:
                        body_end = cut
                if _TYPE_CATALOG.search(data, body_start, body_end):
                    scan.catalogs[int(m[1])] = data[body_start : min(body_end, body_start + 4096)]
                elif _TYPE_PAGES.search(data, body_start, body_end):
                    count = _COUNT.search(data, body_start, body_end)
                    scan.pages[int(m[1])] = bytes(count[0]) if count else b""
    return scan


def _count_via_scan(scan: _Scan) -> int | None:
    catalog = scan.catalogs.get(scan.root[0]) if scan.root else None
    if catalog is None and len(scan.catalogs) == 1:
        catalog = next(iter(scan.catalogs.values()))
    if catalog is not None:
        m = _PAGES_REF.search(catalog)
        if m and int(m[1]) in scan.pages:
            count = _COUNT.search(scan.pages[int(m[1])])
            if count:
                return int(count[1])
    if not scan.complete or scan.objstm:
        return None
    counts = [int(c[1]) for body in scan.pages.values() if (c := _COUNT.search(body))]
    if counts:
        return max(counts)  # the root of the page tree counts every page
    return scan.page_objects or None


def _count_with_pypdf(f: BinaryIO) -> int | None:
    """The page count as pypdf reads it (cross-reference streams, object streams, damaged
    cross-reference tables rebuilt), or None when pypdf cannot read the page tree.

    Bounded: only files up to :data:`PYPDF_MAX_BYTES` come here; pypdf reads from the open
    file (not a copy in memory, except when it must rebuild a damaged cross-reference table),
    inflates only the object streams that hold the catalog and the page tree, each capped by
    its ``Configuration`` limits (75 MB), and walks the page tree once. What it reads is capped
    too (:func:`locker.readbudget.pdf_read_budget`: 8 passes over the file and 8 MiB): for every
    object it does not find where the cross-reference table says, pypdf searches the whole
    file again, and its search for a catalog tries up to 10,000 objects, so a 1 MB table of
    50,000 entries pointing at nothing made it read ~10 GB. Past the cap every read fails,
    pypdf gives up, and the page count is None (the bounded scan below still runs).

    Measured (``inspect_pdf(path)``, best of 3 after a warm-up, pypdf 7.1.1, on ``%PDF-1.4``,
    an ``xref`` table of N entries ``0000000000 65535 n``, a trailer ``/Root 1 0 R /Prev 9``):
    N = 2,000 / 10,000 / 50,000 (40 KB / 200 KB / 1 MB) took 1.3 s / 28 s / 130–180 s before
    the cap, 0.14 / 0.25 / 0.54 s with it. Real files read far less than the cap: a 4-page
    pdfTeX file 0.75 passes (20–70 ms, pypdf's one-time import not counted), a 260 KB manual
    with its ``startxref`` broken 2.2 passes. The worst measured before the cap, a 64 MiB PDF whose cross-reference table pypdf
    must rebuild by reading every object, took 2.5 s and 93 MiB of memory. A subprocess with
    a time limit would add about 0.5 s (a Python start and pypdf's import) to every such PDF.
    """
    import logging

    from pypdf import PdfReader

    logger = logging.getLogger("pypdf")  # damaged files are reported through logging: keep them off stderr
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    budgeted = BudgetedFile(f, pdf_read_budget(f.seek(0, 2)))
    try:
        reader = PdfReader(cast(BinaryIO, budgeted), strict=False)  # it only reads, seeks and tells
        if reader.is_encrypted:
            try:
                reader.decrypt("")  # most encrypted PDFs open without a password; else /Count is read
            except Exception:
                pass
        count = len(reader.pages)
    except Exception:  # damaged beyond pypdf's repair, a loop in the page tree, a missing codec…
        return None
    if budgeted.exceeded:  # pypdf swallows most errors: what it made of a file it could not finish is not trusted
        return None
    return count if isinstance(count, int) and 0 <= count <= 10_000_000 else None


def inspect_pdf(path: Path) -> PdfInfo:
    """Page count, PDF version and whether the file is encrypted. Never raises."""
    info = PdfInfo()
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(1024)
            version = _VERSION.search(head)
            if version:
                info.metadata["pdf_version"] = version[1].decode()
            else:
                info.warnings.append("no PDF header in the first 1 KiB")
            f.seek(max(0, size - 1024))
            ends = b"%%EOF" in f.read()
            if not ends:
                info.warnings.append("PDF seems truncated (no %%EOF at the end)")
            try:
                info.page_count = _count_via_xref(f, size)
            except (ValueError, OverflowError):
                info.page_count = None
            scan: _Scan | None = None
            too_large = False
            if info.page_count is None:
                # pypdf looks for %%EOF line by line backwards from the end: 250 MiB of trailing
                # junk took it 166 s. Only a file that ends as a PDF does is given to it.
                if size > PYPDF_MAX_BYTES:
                    too_large = True
                elif ends:
                    info.page_count = _count_with_pypdf(f)
            if info.page_count is None:
                scan = _scan(f, size)
                info.page_count = _count_via_scan(scan)
            if scan is None:
                # Encryption is named in the trailer, which lives in the last few KiB.
                f.seek(max(0, size - 8192))
                info.metadata["encrypted"] = bool(_ENCRYPT.search(f.read()))
            else:
                info.metadata["encrypted"] = scan.encrypted
    except OSError as exc:
        info.warnings.append(f"cannot read PDF: {exc.strerror or exc}")
        return info
    if info.page_count is not None:
        info.metadata["page_count"] = info.page_count
    elif scan is not None and scan.objstm and too_large:
        info.warnings.append(f"page count unknown: the page tree is in a compressed object stream of a PDF "
                             f"over {PYPDF_MAX_BYTES >> 20} MiB, which is not parsed")
    elif scan is not None and scan.objstm:
        info.warnings.append("page count unknown: the PDF's compressed page tree could not be read")
    elif scan is not None and not scan.complete:
        info.warnings.append("page count unknown: page tree not found in the scanned part of the PDF")
    else:
        info.warnings.append("page count unknown: no page tree found")
    return info
