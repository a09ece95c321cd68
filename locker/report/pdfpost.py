"""After reportlab: the PDF exhibits' own pages, and the originals as attachments.

* :func:`place_documents` (pypdf) puts each page of a PDF exhibit onto the
  placeholder page made for it, scaled into the frame left free there, under
  the placeholder's stamp and page number. The placeholder page object stays
  where it is, so bookmarks and the page count are unchanged.
* :func:`attach_files` appends the originals as embedded files in an
  incremental update written by hand: each file is copied in chunks (memory
  stays flat whatever its size) and hashed on the way, and the copy is refused
  if its SHA-256 is not the exhibit's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import LockerError
from ..i18n import _

CHUNK = 1024 * 1024


class PackError(LockerError):
    code = "export"


@dataclass(frozen=True)
class Attachment:
    name: str  # file name shown by PDF readers and written by pdfdetach
    path: Path
    sha256: str
    size: int
    mime: str
    description: str


def quiet_pypdf() -> None:
    """pypdf logs what it repairs in a damaged file to stderr; the pack reports problems itself."""
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)


def open_document(path: Path) -> Any:
    """A pypdf reader for an exhibit, decrypted when it only has an owner password.
    Raises ValueError with a reason a reader can understand."""
    from pypdf import PdfReader

    quiet_pypdf()
    _within_read_budget(path)
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise ValueError("it is protected by a password")
            except ValueError:
                raise
            except Exception as exc:
                raise ValueError(f"it is encrypted ({exc})") from exc
        _ = len(reader.pages)
    except ValueError:
        raise
    except Exception as exc:  # PdfReadError, damaged xref, …
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"cannot read it as a PDF: {text[:160]}") from exc
    return reader


def _within_read_budget(path: Path) -> None:
    """Refuse a PDF whose page tree pypdf cannot read within the read budget (a damaged table that
    would make it search the whole file again for each of thousands of objects: minutes of work).
    The reader the pack keeps reads the file into memory, where no budget applies, so this first
    reading is made through a budgeted file and thrown away."""
    from typing import BinaryIO, cast

    from pypdf import PdfReader

    from ..readbudget import BudgetedFile, pdf_read_budget

    try:
        with open(path, "rb") as f:
            budgeted = BudgetedFile(f, pdf_read_budget(f.seek(0, 2)))
            try:
                reader = PdfReader(cast(BinaryIO, budgeted), strict=False)  # it only reads, seeks and tells
                if reader.is_encrypted:
                    return  # open_document says what it makes of the encryption
                _ = len(reader.pages)
            except Exception:
                pass  # open_document reports what is wrong, unless it was the budget
    except OSError:
        return  # open_document reports it
    if budgeted.exceeded:
        raise ValueError("cannot read it as a PDF: its cross-reference table is too damaged to read in bounded time")


def shown_size(page: Any) -> tuple[float, float]:
    """Width and height of a PDF page as a viewer shows it (crop box, rotation applied)."""
    box = page.cropbox
    width, height = abs(float(box.width)), abs(float(box.height))
    if (page.get("/Rotate", 0) or 0) % 180 == 90:
        width, height = height, width
    return width, height


def place_documents(src: Path, out: Path, inserted: dict[int, tuple[int, int, tuple[float, float, float, float]]],
                    documents: dict[int, Path]) -> None:
    """Write ``src`` to ``out`` with each placeholder page (1-based page number → exhibit, page index, box)
    carrying the exhibit's page under its stamp."""
    from pypdf import PdfWriter, Transformation

    quiet_pypdf()
    writer = PdfWriter(clone_from=str(src))
    readers: dict[int, Any] = {}
    for page_no, (number, index, (bx, by, bw, bh)) in sorted(inserted.items()):
        reader = readers.get(number)
        if reader is None:
            reader = readers[number] = open_document(documents[number])
        page = reader.pages[index]
        if (page.get("/Rotate", 0) or 0) % 360:
            page.transfer_rotation_to_content()
        box = page.cropbox
        left, bottom = float(min(box.left, box.right)), float(min(box.bottom, box.top))
        width, height = abs(float(box.width)), abs(float(box.height))
        scale = min(bw / width, bh / height)
        x = bx + (bw - width * scale) / 2
        y = by + (bh - height * scale) / 2
        ctm = Transformation().translate(-left, -bottom).scale(scale, scale).translate(x, y)
        target = writer.pages[page_no - 1]
        _own_resources(target)
        target.merge_transformed_page(page, ctm, over=False)
    with open(out, "wb") as f:
        writer.write(f)


def _own_resources(page: Any) -> None:
    """Give ``page`` its own /Resources dictionary (reportlab shares one among all pages), so that
    merging a document's page adds its fonts and images to this page alone."""
    from pypdf.generic import DictionaryObject, NameObject

    if "/Resources" not in page:
        return
    shared = page["/Resources"].get_object()
    own = DictionaryObject()
    for key in list(shared.keys()):
        value = shared.raw_get(key)
        resolved = value.get_object()
        if isinstance(resolved, DictionaryObject):
            own[NameObject(key)] = DictionaryObject({NameObject(k): resolved.raw_get(k) for k in resolved.keys()})
        else:
            own[NameObject(key)] = value
    page[NameObject("/Resources")] = own


# --------------------------------------------------------------------------- attachments


def _pdf_name(value: str) -> str:
    """A PDF name object: /image#2Fjpeg."""
    out = []
    for byte in value.encode("utf-8"):
        ch = chr(byte)
        if 0x21 <= byte <= 0x7E and ch not in "#/()<>[]{}%":
            out.append(ch)
        else:
            out.append(f"#{byte:02X}")
    return "/" + "".join(out)


def _pdf_text(value: str) -> bytes:
    """A PDF text string: literal when ASCII, else UTF-16BE with a BOM in hex."""
    if value.isascii() and all(32 <= ord(c) < 127 for c in value):
        escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return f"({escaped})".encode("ascii")
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _ascii_name(value: str) -> str:
    text = "".join(c if c.isascii() and c.isprintable() else "_" for c in value)
    return re.sub(r"_+", "_", text) or "file"


def _serialise(obj: Any) -> bytes:
    import io

    buf = io.BytesIO()
    obj.write_to_stream(buf)
    return buf.getvalue()


def _last_startxref(f: BinaryIO) -> int:
    f.seek(0, 2)
    end = f.tell()
    f.seek(max(0, end - 2048))
    tail = f.read()
    found = re.findall(rb"startxref\s+(\d+)", tail)
    if not found:
        raise PackError(_("the PDF written has no startxref"))
    return int(found[-1])


def attach_files(pdf: Path, files: list[Attachment]) -> None:
    """Append ``files`` to ``pdf`` as embedded files (an incremental update)."""
    if not files:
        return
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject, NameObject

    reader = PdfReader(str(pdf))
    trailer = reader.trailer
    root_ref = trailer.raw_get("/Root")
    root = root_ref.get_object()
    size = int(trailer["/Size"])  # type: ignore[call-overload]
    info = trailer.raw_get("/Info") if "/Info" in trailer else None
    ids = trailer.get("/ID")
    names = root.get("/Names")
    names = names.get_object() if names is not None else None

    with open(pdf, "r+b") as f:
        prev = _last_startxref(f)
        f.seek(0, 2)
        f.write(b"\n")
        offsets: dict[int, int] = {}
        number = size
        specs: list[tuple[str, int]] = []
        for i, item in enumerate(files, 1):
            stream_no, spec_no = number, number + 1
            number += 2
            offsets[stream_no] = f.tell()
            f.write(f"{stream_no} 0 obj\n<< /Type /EmbeddedFile /Subtype {_pdf_name(item.mime)} /Length {item.size} "
                    f"/Params << /Size {item.size} >> >>\nstream\n".encode("ascii"))
            _copy_checked(item, f)
            f.write(b"\nendstream\nendobj\n")
            offsets[spec_no] = f.tell()
            f.write(f"{spec_no} 0 obj\n<< /Type /Filespec /F ".encode("ascii") + _pdf_text(_ascii_name(item.name))
                    + b" /UF " + _pdf_text(item.name)
                    + f" /EF << /F {stream_no} 0 R /UF {stream_no} 0 R >> /Desc ".encode("ascii")
                    + _pdf_text(item.description) + b" /AFRelationship /Source >>\nendobj\n")
            specs.append((f"{i:04d}", spec_no))
        tree_no = number
        number += 1
        offsets[tree_no] = f.tell()
        f.write(f"{tree_no} 0 obj\n<< /Names [".encode("ascii")
                + b" ".join(f"({key}) {spec} 0 R".encode("ascii") for key, spec in specs) + b"] >>\nendobj\n")
        new_names = DictionaryObject()
        if isinstance(names, DictionaryObject):
            for key, value in names.items():
                if key != "/EmbeddedFiles":
                    new_names[NameObject(key)] = value
        catalog = DictionaryObject()
        for key in list(root.keys()):
            if key != "/Names":
                catalog[NameObject(key)] = root.raw_get(key)
        names_bytes = _serialise(new_names)
        # DictionaryObject writes "<<\n/Key value\n>>": splice our entry in before the closing ">>".
        names_bytes = names_bytes.rstrip()[:-2] + f" /EmbeddedFiles {tree_no} 0 R >>".encode("ascii")
        catalog_bytes = _serialise(catalog).rstrip()[:-2] + b" /Names " + names_bytes + b" >>"
        offsets[root_ref.idnum] = f.tell()
        f.write(f"{root_ref.idnum} {root_ref.generation} obj\n".encode("ascii") + catalog_bytes + b"\nendobj\n")
        xref_at = f.tell()
        f.write(b"xref\n")
        generations = {root_ref.idnum: root_ref.generation}
        for start, count in _runs(sorted(offsets)):
            f.write(f"{start} {count}\n".encode("ascii"))
            for n in range(start, start + count):
                f.write(f"{offsets[n]:010d} {generations.get(n, 0):05d} n \n".encode("ascii"))
        tail = f"trailer\n<< /Size {number} /Root {root_ref.idnum} {root_ref.generation} R".encode("ascii")
        if info is not None:
            tail += f" /Info {info.idnum} {info.generation} R".encode("ascii")
        if ids is not None:
            tail += b" /ID " + _serialise(ids)
        tail += f" /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n".encode("ascii")
        f.write(tail)
        f.flush()


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][0] + runs[-1][1] == n:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((n, 1))
    return runs


def _copy_checked(item: Attachment, out: BinaryIO) -> None:
    digest = hashlib.sha256()
    copied = 0
    writing = False
    try:
        with open(item.path, "rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                writing = True
                out.write(chunk)
                writing = False
                copied += len(chunk)
    except OSError as exc:
        if writing:  # the pack could not be written (a full disk): the export reports it against the pack
            raise
        raise PackError(_("cannot read the original to attach it: {reason}").format(reason=exc.strerror or exc), path=str(item.path)) from exc
    if copied != item.size or digest.hexdigest() != item.sha256:
        raise PackError(_("the stored original no longer matches its SHA-256 (run `locker verify`); not attached"),
                        path=str(item.path))
