"""The font faces the pack reads in bulk (locker.report.ttfread) are the ones reportlab reads: every
attribute equal, the dictionaries in the same order, for every TrueType face on this machine; and a
font the bulk reader does not know is read, or refused, by reportlab itself."""

from __future__ import annotations

import shutil
import struct
import subprocess
from functools import cache
from pathlib import Path

import pytest
import reportlab
from reportlab.pdfbase.ttfonts import TTFont, TTFontFace

from locker.report import fonts, ttfread

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # scripts/setup.sh installs it


@cache
def _faces() -> list[tuple[Path, int]]:
    """Every face of every TrueType file fontconfig knows (the CJK font of the pack among them)."""
    found: set[Path] = {WQY}
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list", ":fontformat=TrueType", "file"], capture_output=True, text=True).stdout
        found |= {Path(line.split(":")[0]) for line in listed.splitlines() if line.strip()}
    faces = []
    for path in sorted(p for p in found if p.suffix.lower() in (".ttf", ".ttc") and p.is_file()):
        count = 1
        if path.suffix.lower() == ".ttc":  # a collection: its face count in the header
            with path.open("rb") as f:
                count = struct.unpack(">L", f.read(12)[8:12])[0]
        faces += [(path, i) for i in range(count)]
    return faces


def _same_face(theirs: TTFontFace, ours: TTFontFace) -> None:
    assert set(theirs.__dict__) == set(ours.__dict__)
    for name, value in theirs.__dict__.items():
        mine = ours.__dict__[name]
        if name == "_pdfScale":  # a function: the same scale
            assert [mine(v) for v in (0, 1, 1000, 2048, 65535)] == [value(v) for v in (0, 1, 1000, 2048, 65535)]
        elif isinstance(value, dict):
            assert list(mine.items()) == list(value.items()), name  # order too
        else:
            assert mine == value and type(mine) is type(value), name


# Faces every machine that ran scripts/setup.sh has, which the bulk reader must read: format 12 maps
# (WenQuanYi Micro Hei, DejaVu Sans) and a format 4 map with deltas and a glyph id array (DejaVu Sans
# ExtraLight: 145 segments, 40 of them through the array).
REQUIRED = {("wqy-microhei.ttc", 0), ("wqy-microhei.ttc", 1), ("DejaVuSans.ttf", 0), ("DejaVuSans-ExtraLight.ttf", 0)}


@pytest.mark.parametrize("path,index", _faces(), ids=lambda v: v.name if isinstance(v, Path) else str(v))
def test_a_face_read_in_bulk_is_the_face_reportlab_reads(path: Path, index: int) -> None:
    try:
        theirs = TTFontFace(str(path), subfontIndex=index)
    except Exception:  # a face reportlab refuses is left to reportlab, which says why
        assert ttfread.read_face(str(path), index) is None
        return
    ours = ttfread.read_face(str(path), index)
    if ours is None:  # another kind of character map (some other machine's font): reportlab reads it
        assert (path.name, index) not in REQUIRED, (
            f"{path}#{index} was left to reportlab: reportlab {reportlab.Version} not in ttfread.CHECKED "
            "(compare, then add it), or the reader lost its way")
        return
    _same_face(theirs, ours)


def test_the_pack_font_is_the_ttfont_reportlab_makes() -> None:
    assert WQY.is_file(), "fonts-wqy-microhei is installed by scripts/setup.sh"
    for index in (0, 1):
        theirs = TTFont("LockerCJK-test", str(WQY), subfontIndex=index)
        ours = ttfread.read_font("LockerCJK-test", str(WQY), index)
        _same_face(theirs.face, ours.face)
        rest = {k: v for k, v in theirs.__dict__.items() if k not in ("face", "state", "encoding")}
        assert {k: v for k, v in ours.__dict__.items() if k not in ("face", "state", "encoding")} == rest
        assert set(ours.__dict__) == set(theirs.__dict__)
        assert ours.encoding.__dict__ == theirs.encoding.__dict__ and len(ours.state) == len(theirs.state) == 0
        assert ours.stringWidth("证据目录 SHA-256 ¥199.00", 10) == theirs.stringWidth("证据目录 SHA-256 ¥199.00", 10)
    choice = fonts.find()
    assert fonts.register(choice)  # the pack's own path goes through it


def _dejavu() -> bytes:
    """DejaVu Sans, one of the REQUIRED faces scripts/setup.sh installs."""
    found = [path for path, _ in _faces() if path.name == "DejaVuSans.ttf"]
    assert found, "DejaVuSans.ttf is missing: run scripts/setup.sh"
    return found[0].read_bytes()


def _reportlab_says(path: Path) -> str:
    with pytest.raises(Exception) as caught:
        TTFont("x", str(path))
    return f"{type(caught.value).__name__}: {caught.value}"


def test_a_font_it_does_not_know_is_left_to_reportlab(tmp_path: Path) -> None:
    original = _dejavu()
    data = bytearray(original)
    # The glyph data format in the head table set to one reportlab does not know: reportlab refuses it.
    count = struct.unpack_from(">H", data, 4)[0]
    head = next(struct.unpack_from(">L", data, 12 + 16 * n + 8)[0] for n in range(count)
                if data[12 + 16 * n:16 + 16 * n] == b"head")
    struct.pack_into(">H", data, head + 52, 1)
    odd = tmp_path / "odd.ttf"
    odd.write_bytes(bytes(data))
    assert ttfread.read_face(str(odd), 0) is None
    with pytest.raises(Exception) as caught:
        ttfread.read_font("x", str(odd), 0)
    assert f"{type(caught.value).__name__}: {caught.value}" == _reportlab_says(odd)
    # Cut inside its tables: the same, whatever reportlab says of it.
    cut = tmp_path / "cut.ttf"
    cut.write_bytes(original[: len(original) // 3])
    assert ttfread.read_face(str(cut), 0) is None
    with pytest.raises(Exception) as caught:
        ttfread.read_font("x", str(cut), 0)
    assert f"{type(caught.value).__name__}: {caught.value}" == _reportlab_says(cut)


def test_the_faces_compared_cover_both_character_maps() -> None:
    names = {(path.name, index) for path, index in _faces()}
    missing = sorted(REQUIRED - names)
    assert not missing, f"{missing} not on this machine: run scripts/setup.sh"
