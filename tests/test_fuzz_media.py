"""Fuzzing the media metadata extractors (issue 6, point 4): random bytes, mutated real samples and
random file names through everything that reads an exhibit's bytes.

The contract under test, per extractor:

* :func:`locker.media.probe`, ``inspect_image``, ``inspect_av``, ``inspect_pdf``,
  ``looks_like_chat``, ``time_from_name`` and the PDF text layer never raise: damage becomes a
  warning (probe's own catch-all warning "could not inspect the file" counts as a crash: it is
  the net for extractor bugs);
* ``derive.image_rendition``, ``slice_plan`` and ``video_frames`` raise nothing but
  ``DerivationError`` (one line, naming the file) and leave no file behind when they fail;
* every call returns within a few seconds and without a large memory peak;
* ``locker add`` of such files exits 0 (or 1 for a documented refusal), prints no traceback, and
  ``locker verify`` passes afterwards.

CI runs a fixed, modest number of examples (derandomized); ``LOCKER_STRESS=1`` runs ten times as
many with a random seed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import resource
import shutil
import signal
import tempfile
import warnings
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests import samples

STRESS = os.environ.get("LOCKER_STRESS") == "1"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DATA = Path(__file__).parent / "data"
CALL_LIMIT = 20.0  # seconds for one example (a hang is interrupted there and fails the test)
MEMORY_GROWTH_KB = 400 * 1024  # peak resident set growth allowed over a whole fuzz test


def fuzz(examples: int, **kw: object) -> settings:
    options: dict[str, object] = {
        "max_examples": examples * 10 if STRESS else examples,
        "deadline": 5000,  # ms per example: generous, the slowest (a 3-frame video) takes ~0.1 s
        "derandomize": not STRESS,
        "database": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                  HealthCheck.data_too_large],
    }
    return settings(**{**options, **kw})


class Hang(Exception):
    pass


@contextlib.contextmanager
def bounded(what: str) -> Iterator[None]:
    """Fail instead of hanging: SIGALRM interrupts Python code after CALL_LIMIT seconds."""

    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"{what}: no answer after {CALL_LIMIT:.0f} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, CALL_LIMIT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def memory_bound() -> Iterator[None]:
    """The whole test may not raise the process's peak memory by more than MEMORY_GROWTH_KB."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < MEMORY_GROWTH_KB, f"peak memory grew by {grown} kB"


# --------------------------------------------------------------------------- the checks


def _one_line(text: str) -> None:
    assert text and "\n" not in text and "Traceback" not in text, text


def check_probe(path: Path, name: str) -> None:
    from locker.media import KINDS, probe

    found = probe(path, name, SHANGHAI)
    assert found.kind in KINDS
    assert found.mime and "/" in found.mime, found.mime
    json.dumps(found.metadata, allow_nan=False)  # JSON-serialisable, no NaN/inf
    for warning in found.warnings:
        _one_line(warning)
        assert not warning.startswith("could not inspect the file"), warning  # an extractor crashed
    if found.captured_at is not None:
        at = datetime.fromisoformat(found.captured_at)
        assert at.tzinfo is not None and 2000 <= at.year <= 2100, found.captured_at
        assert found.captured_at_source in ("exif", "container", "filename")


IMAGE_MIMES = ("image/jpeg", "image/png", "image/heic", "image/heif", "image/avif", "image/gif",
               "image/webp", "image/tiff", "image/bmp")


def check_extractors(path: Path, mimes: tuple[str, ...] = IMAGE_MIMES) -> None:
    """Every extractor, called directly whatever the content: none may raise."""
    from locker.media import looks_like_chat
    from locker.media.av_probe import inspect_av
    from locker.media.images import inspect_image
    from locker.media.pdf import inspect_pdf
    from locker.media.sniff import read_head
    from locker.search.pdftext import pages

    for mime in mimes:
        info = inspect_image(path, mime)
        assert all("\n" not in w for w in info.warnings), info.warnings
        if info.readable:
            assert info.metadata["width"] >= 0 and info.metadata["height"] >= 0
    media = inspect_av(path, read_head(path))
    assert all("\n" not in w for w in media.warnings), media.warnings
    assert media.created is None or media.created.tzinfo is not None
    pdf = inspect_pdf(path)
    assert pdf.page_count is None or pdf.page_count >= 0
    for mime in ("text/plain", "application/zip", "application/json", "text/csv"):
        assert looks_like_chat(path, mime) in (None, "whatsapp_android", "whatsapp_ios", "whatsapp_ios_zip",
                                               "whatsapp_android_zip", "telegram_json", "wechat_memotrace_csv",
                                               "csv_chat", "plain_lines", "wechat_memotrace_txt",
                                               "locker_chat_json")
    assert isinstance(pages(path), tuple)


def _derive_failed(err: Exception, src: Path, out: Path) -> None:
    from locker.media.derive import DerivationError

    assert type(err) is DerivationError, f"{type(err).__name__}: {err}"
    _one_line(str(err))
    assert err.path == str(src), err.path
    left = list(out.iterdir()) if out.exists() else []
    assert left == [], f"a failed derivation left {left}"


def check_derive(path: Path, work: Path, *, video: bool = True) -> None:
    """Renditions, slice plans and video frames: a result, or a clean DerivationError and no files."""
    from locker.media import derive

    out = work / "rendition"
    try:
        rendition = derive.image_rendition(path, out, max_side=400, thumb_side=64)
    except Exception as err:
        _derive_failed(err, path, out)
    else:
        assert {p.name for p in out.iterdir()} == {"display.jpg", "thumb.jpg"}
        assert 0 < rendition.width <= 400 and rendition.height > 0, rendition
        if rendition.height < derive.LONG_RATIO * rendition.width:
            assert rendition.height <= 400, rendition
    try:
        plan = derive.slice_plan(path)
    except Exception as err:
        _derive_failed(err, path, work / "nothing")
    else:
        assert plan and plan[0].top == 0
        assert all(a.bottom >= b.top for a, b in zip(plan, plan[1:]))
    if video:
        out = work / "frames"
        try:
            frames = derive.video_frames(path, out, 3, max_side=64)
        except Exception as err:
            _derive_failed(err, path, out)
        else:
            assert len(frames) == 3
            assert sorted(p.name for p in out.iterdir()) == [f.file for f in frames]


def check_everything(path: Path, name: str, *, derive_video: bool = True) -> None:
    work = Path(tempfile.mkdtemp(prefix="fuzz-", dir=path.parent))
    try:
        with bounded(f"{name} ({path.stat().st_size} bytes)"), no_python_warnings():
            check_probe(path, name)
            check_extractors(path)
            check_derive(path, work, video=derive_video)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def no_python_warnings() -> Iterator[None]:
    """A library warning that escapes is printed by Python on the user's terminal, with a source
    path and line: damage must be reported as the locker's own warning or error instead."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    shown = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]
    assert not shown, shown


# --------------------------------------------------------------------------- 1. random bytes

EXTENSIONS = (".jpg", ".png", ".heic", ".mp4", ".mov", ".m4a", ".amr", ".pdf", ".txt", ".zip", ".gif",
              ".webp", "")


def _box(kind: bytes, body: bytes) -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + kind + body


PDF_UP_TO_COUNT = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Count "

# Leading bytes that send random data down each extractor's path (libmagic sniffs by them).
MAGIC = (
    b"",
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    b"\xff\xd8\xff\xe1\x01\x00Exif\x00\x00MM\x00*\x00\x00\x00\x08",
    b"\xff\xd8\xff\xe1\x01\x00Exif\x00\x00II*\x00\x08\x00\x00\x00",
    b"\x89PNG\r\n\x1a\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x02\x00\x00\x00",
    b"GIF89a",
    b"RIFF\x00\x10\x00\x00WEBPVP8 ",
    b"RIFF\x00\x10\x00\x00WAVEfmt ",
    _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic"),
    _box(b"ftyp", b"avif\x00\x00\x00\x00mif1avif"),
    _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41"),
    _box(b"ftyp", b"qt  \x00\x00\x00\x00qt  "),
    _box(b"ftyp", b"M4A \x00\x00\x00\x00M4A mp42isom"),
    _box(b"ftyp", b"isom\x00\x00\x02\x00isom") + b"\x00\x00\x10\x00moov",
    b"#!AMR\n",
    b"#!SILK_V3",
    b"ID3\x03\x00\x00\x00",
    b"OggS\x00\x02",
    b"fLaC",
    b"\x1aE\xdf\xa3",
    b"%PDF-1.7\n",
    PDF_UP_TO_COUNT,
    b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
    b"II*\x00",
    b"MM\x00*",
    b"BM",
    b"\x00\x00\x01\xba",  # MPEG-PS
    b"G",  # MPEG-TS sync byte
    b"{\"name\": \"x\", \"type\": \"personal_chat\", \"messages\": [",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
)

# 8 bytes of TIFF header: Pillow's Image.open warned "Corrupt EXIF data" from derive._open_image.
TIFF_HEADER_ONLY = b"II*\x00\x00\x00\x00\x01"
# 13 bytes of GIF whose screen is 3983×53964: FFmpeg's GIF decoder allocated 860 MB in video_frames.
GIF_SCREEN_BOMB = b"GIF89a\x8f\x0f\xcc\xd2?\x14\xca"

random_files = st.tuples(st.sampled_from(MAGIC), st.binary(min_size=1, max_size=4096),
                         st.sampled_from(EXTENSIONS))


@fuzz(150)
@given(case=random_files)
@example(case=(b"", b"\x00", ".jpg"))
@example(case=(b"", TIFF_HEADER_ONLY, ".jpg"))
@example(case=(b"", GIF_SCREEN_BOMB, ".gif"))
@example(case=(_box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic"), b"\x00" * 64, ".heic"))
@example(case=(b"%PDF-1.7\n", b"startxref\n99999999999999999999\n%%EOF", ".pdf"))
def test_random_bytes(tmp_path: Path, memory_bound: None, case: tuple[bytes, bytes, str]) -> None:
    magic, body, ext = case
    path = tmp_path / f"x{ext}"
    path.write_bytes(magic + body)
    check_everything(path, f"random{ext}")


# Repeated structure tokens make files of up to a few hundred KB: loops over headers, boxes, chunks and
# markers that are linear on real files can turn quadratic on these.
TOKENS = (
    b"1 0 obj ", b"endobj\n", b"stream\n", b"xref\n0 1\n", b"0000000000 65535 n\r\n", b"trailer\n<< /Root 1 0 R >>\n",
    b"/Type /Pages /Count 3 ", b"/Type /Page ", b"/Prev 9 ", b"startxref\n9\n%%EOF\n", b"<< /Type /Catalog /Pages 2 0 R >>",
    b"\x00\x00\x00\x08free", b"\x00\x00\x00\x08moov", b"\x00\x00\x00\x08trak", b"\x00\x00\x00\x00mdat", b"\x00\x00\x00\x01",
    b"\xff", b"\xff\xe1\x00\x02", b"\xff\xd8", b"\x00\x00\x00\x00IDAT\x00\x00\x00\x00", b"Exif\x00\x00MM\x00*",
    b"2025-05-05 09:12:30 \xe5\x95\x86\xe5\xae\xb6\xef\xbc\x9ahi\n", b"03/05/2025, 14:22 - Anna: hi\n", b",,,,", b"\"",
    b"{\"messages\": [", b"PK\x05\x06", b" ", b"0", b"\n",
)
repetitive_files = st.tuples(st.sampled_from(MAGIC), st.lists(st.sampled_from(TOKENS), min_size=1, max_size=3),
                             st.integers(1, 40_000), st.sampled_from(EXTENSIONS))


@fuzz(60)
@given(case=repetitive_files)
@example(case=(b"%PDF-1.4\n", [b"1 0 obj "], 32_768, ".pdf"))  # 256 KB: 11 s before the scan was made linear
@example(case=(PDF_UP_TO_COUNT, [b"0"], 16_623, ".pdf"))  # /Count 000…: int() raised ValueError (> 4,300 digits)
def test_repetitive_structures(tmp_path: Path, memory_bound: None, case: tuple[bytes, list[bytes], int, str]) -> None:
    magic, tokens, repeat, ext = case
    body = b"".join(tokens)
    path = tmp_path / f"r{ext}"
    path.write_bytes(magic + body * max(1, min(repeat, 300_000 // len(body))))
    check_everything(path, f"repeated{ext}", derive_video=False)


# --------------------------------------------------------------------------- 2. mutated samples


@functools.cache
def _seeds() -> dict[str, tuple[bytes, str]]:
    """name → (bytes, original name) of small real files made by tests/samples.py."""
    folder = Path(tempfile.mkdtemp(prefix="locker-fuzz-seeds-"))
    try:
        made = {
            "jpeg_exif": samples.make_jpeg_with_exif(folder / "IMG_20250503_150102.jpg", 48, 32, seed=1,
                                                     orientation=6, user_comment="Screenshot"),
            "png": samples.make_png(folder / "Screenshot_20250503-150102.png", 24, 80, seed=2),
            "png_exif": samples.make_png(folder / "p.png", 32, 24, exif=samples.camera_exif()),
            "heic": samples.make_heic(folder / "IMG_0001.heic", 32, 24, seed=3),
            "webp": samples.make_webp(folder / "w.webp", 32, 24, seed=4),
            "gif": samples.make_gif(folder / "g.gif", 16, 12, frames=2, seed=5),
            "mp4": samples.make_mp4(folder / "VID_20250503_142210.mp4", 0.4, width=32, height=24, fps=10,
                                    rotation=90),
            "mp4_faststart_audio": samples.make_mp4(folder / "v.mov", 0.3, width=32, height=24, fps=10,
                                                    audio=True, faststart=True),
            "m4a": samples.make_m4a(folder / "memo.m4a", 0.2, creation_time="2025-05-03T06:22:10Z"),
            "wav": samples.make_wav(folder / "a.wav", 0.1),
            "silk": samples.make_silk(folder / "v.amr", size=128),
            "pdf": samples.make_pdf(folder / "invoice.pdf", pages=2),
            "pdf_objstm": samples.make_pdf_with_object_streams(folder / "objstm.pdf", pages=2),
            "pdf_broken_xref": samples.make_pdf_broken_xref(folder / "broken.pdf"),
            "whatsapp_android": samples.make_whatsapp_android_chat(folder / "WhatsApp Chat with Shop.txt"),
            "whatsapp_ios_zip": samples.make_whatsapp_ios_zip(folder / "WhatsApp Chat - Shop.zip"),
            "telegram": samples.make_telegram_json(folder / "result.json"),
            "memotrace_csv": samples.make_memotrace_csv(folder / "chat.csv"),
            "plain_chat": samples.make_plain_chat(folder / "chat.txt"),
            "gopro_gpmf": samples.add_gpmf_track(
                samples.make_mp4(folder / "GX010001.MP4", 0.3, width=32, height=24, fps=10,
                                 creation_time="2017-04-17T10:31:00.000000Z"),
                (DATA / "gpmf-parser-hero5.raw").read_bytes()),
            "avi_idit": samples.make_avi(folder / "MVI_0001.AVI", 0.3, idit=b"THU OCT 22 12:34:56 2009\n\0"),
            "jpeg_gps_time": samples.make_jpeg_with_exif(folder / "p.jpg", 32, 24, offset=None,
                                                         gps_time=datetime(2025, 5, 3, 7, 1, 2)),
            "pdftex": DATA / "pypdf-pdflatex-outline.pdf",
        }
        return {key: (path.read_bytes(), path.name) for key, path in made.items()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _exif_region(data: bytes) -> tuple[int, int] | None:
    """Where the EXIF block of a JPEG/PNG/HEIC sample lies, to aim mutations at it."""
    for marker in (b"Exif\x00\x00", b"eXIf"):
        at = data.find(marker)
        if at < 0:
            continue
        if marker == b"Exif\x00\x00" and at >= 4 and data[at - 4:at - 2] == b"\xff\xe1":
            return at, min(len(data), at - 2 + int.from_bytes(data[at - 2:at], "big"))
        if marker == b"eXIf" and at >= 4:
            return at + 4, min(len(data), at + 4 + int.from_bytes(data[at - 4:at], "big"))
        return at, min(len(data), at + 1024)
    tiff = max(data.find(b"MM\x00*"), data.find(b"II*\x00"))
    return (tiff, min(len(data), tiff + 1024)) if tiff >= 0 else None


INTERESTING = (0, 1, 7, 8, 16, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)
OPS = ("flip", "set", "insert", "delete", "truncate", "int32be", "int32le", "copy")

mutation = st.tuples(
    st.sampled_from(OPS),
    st.sampled_from(("header", "exif", "any", "tail")),
    st.integers(0, 1 << 24),  # position inside the region
    st.integers(0, 255),  # a byte, or a bit number, or an index into INTERESTING
    st.binary(min_size=1, max_size=32),
)


def mutate(data: bytes, mutations: list[tuple[str, str, int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for op, region, where, value, blob in mutations:
        if not out:
            break
        lo, hi = 0, len(out)
        if region == "header":
            hi = min(len(out), 64)
        elif region == "tail":
            lo = max(0, len(out) - 64)
        elif region == "exif":
            found = _exif_region(bytes(out))
            if found and found[0] < found[1] <= len(out):
                lo, hi = found
        at = lo + where % max(1, hi - lo)
        if op == "flip":
            out[at] ^= 1 << (value % 8)
        elif op == "set":
            out[at] = value
        elif op == "insert":
            out[at:at] = blob
        elif op == "delete":
            del out[at:at + 1 + value % 32]
        elif op == "truncate":
            del out[max(1, at):]
        elif op in ("int32be", "int32le"):
            number = INTERESTING[value % len(INTERESTING)]
            out[at:at + 4] = number.to_bytes(4, "big" if op == "int32be" else "little")
        elif op == "copy":  # repeat a stretch of the file elsewhere (boxes and chunks duplicated)
            src = where % len(out)
            out[at:at] = out[src:src + 1 + value]
    return bytes(out)


SEED_NAMES = ("jpeg_exif", "png", "png_exif", "heic", "webp", "gif", "mp4", "mp4_faststart_audio", "m4a", "wav",
              "silk", "pdf", "pdf_objstm", "pdf_broken_xref", "whatsapp_android", "whatsapp_ios_zip", "telegram",
              "memotrace_csv", "plain_chat", "gopro_gpmf", "avi_idit", "jpeg_gps_time", "pdftex")
mutated_files = st.tuples(st.sampled_from(SEED_NAMES), st.lists(mutation, min_size=1, max_size=4))


def test_seeds_are_what_they_claim(tmp_path: Path) -> None:
    """The unmutated seeds reach the extractors they are meant for (else the fuzzing tests nothing)."""
    from locker.media import probe

    expected = {"jpeg_exif": "screenshot", "png": "screenshot", "heic": "photo", "webp": "photo", "gif": "photo",
                "mp4": "video", "m4a": "audio", "wav": "audio", "silk": "audio", "pdf": "document",
                "whatsapp_android": "chat", "whatsapp_ios_zip": "chat", "telegram": "chat",
                "memotrace_csv": "chat", "plain_chat": "chat", "gopro_gpmf": "video", "avi_idit": "video",
                "jpeg_gps_time": "photo", "pdftex": "document"}
    seeds = _seeds()
    assert set(SEED_NAMES) == set(seeds)
    for key, kind in expected.items():
        data, name = seeds[key]
        path = tmp_path / name
        path.write_bytes(data)
        found = probe(path, name, SHANGHAI)
        assert found.kind == kind or (key in ("webp", "gif") and found.kind == "screenshot"), (key, found)
    assert _exif_region(seeds["jpeg_exif"][0]) is not None
    assert _exif_region(seeds["png_exif"][0]) is not None
    assert _exif_region(seeds["heic"][0]) is not None


@fuzz(300)
@given(data=st.binary(max_size=2048), cut=st.integers(0, 64))
def test_camera_clock_parsers_never_raise(data: bytes, cut: int) -> None:
    """The GPMF walker, the AVI header reader and the RIFF namer on arbitrary bytes."""
    import io

    from locker.media.av_probe import avi_header_times, gpmf_gps_time
    from locker.media.sniff import riff_mime

    when = gpmf_gps_time(data)
    assert when is None or when.tzinfo is not None
    riff = b"RIFF" + data[:4] + b"AVI " + b"LIST" + data[4:]
    assert isinstance(avi_header_times(io.BytesIO(riff), len(riff)), list)
    assert riff_mime((b"RIFF" + data)[:cut], "x.wav") in (None, "audio/x-wav", "video/x-msvideo", "image/webp")


@fuzz(150)
@given(case=mutated_files)
def test_mutated_samples(tmp_path: Path, memory_bound: None, case: tuple[str, list]) -> None:
    key, mutations = case
    data, name = _seeds()[key]
    path = tmp_path / name
    path.write_bytes(mutate(data, mutations))
    check_everything(path, name)


@fuzz(100)
@given(case=st.tuples(st.sampled_from(("jpeg_exif", "png_exif", "heic")),
                      st.lists(mutation.map(lambda m: (m[0], "exif", *m[2:])), min_size=1, max_size=6)))
def test_mutated_exif_blocks(tmp_path: Path, memory_bound: None, case: tuple[str, list]) -> None:
    """Mutations aimed at the EXIF block only: the image header stays readable, EXIF parsing is hit."""
    from locker.media.images import inspect_image

    key, mutations = case
    data, name = _seeds()[key]
    path = tmp_path / name
    path.write_bytes(mutate(data, mutations))
    mime = {"jpeg_exif": "image/jpeg", "png_exif": "image/png", "heic": "image/heic"}[key]
    with bounded(name):
        info = inspect_image(path, mime)
    assert all("\n" not in w for w in info.warnings)
    if info.taken is not None:
        assert 2000 <= info.taken.year <= 2100
    gps = info.metadata.get("gps")
    if gps:
        assert abs(gps["latitude"]) <= 90 and abs(gps["longitude"]) <= 180
    json.dumps(info.metadata, allow_nan=False)
    check_everything(path, name, derive_video=False)


# --------------------------------------------------------------------------- regressions found by the fuzzing



def _webp_with_corrupt_exif(path: Path) -> Path:
    """80 bytes: a WebP whose EXIF says 5 entries and has none (getexif() warned in derive._orientation)."""
    from PIL import Image

    Image.new("RGB", (8, 8)).save(path, "WEBP", exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00")
    return path


def _png_mov_claiming(path: Path, side: int) -> Path:
    """A 1.5 KB MOV of PNG frames whose PNG headers claim side×side pixels (the frames are 64×48)."""
    import struct
    import zlib

    import av

    with av.open(str(path), "w", format="mov") as container:
        stream = container.add_stream("png", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "rgb24"
        for i in range(5):
            frame = av.VideoFrame(64, 48, "rgb24")
            frame.planes[0].update(bytes([i * 40]) * frame.planes[0].buffer_size)
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    data = bytearray(path.read_bytes())
    at = data.find(b"IHDR")
    while at >= 0:
        data[at + 4:at + 12] = struct.pack(">II", side, side)
        data[at + 17:at + 21] = struct.pack(">I", zlib.crc32(bytes(data[at:at + 17])))
        at = data.find(b"IHDR", at + 4)
    path.write_bytes(bytes(data))
    return path


def test_regression_pillow_warnings_stay_off_the_terminal(tmp_path: Path) -> None:
    tiff = tmp_path / "x.tif"
    tiff.write_bytes(TIFF_HEADER_ONLY)
    for path in (tiff, _webp_with_corrupt_exif(tmp_path / "x.webp")):
        with no_python_warnings():
            check_derive(path, tmp_path / f"work-{path.suffix[1:]}", video=False)
    assert (tmp_path / "work-webp" / "rendition" / "display.jpg").exists()  # the WebP itself is fine


_MEASURE = """
import sys
from pathlib import Path
from zoneinfo import ZoneInfo
from locker.media import probe
from locker.media.derive import DerivationError, video_frames
src, out = Path(sys.argv[1]), Path(sys.argv[2])
found = probe(src, src.name, ZoneInfo("UTC"))
try:
    video_frames(src, out, 3)
    outcome = "frames"
except DerivationError:
    outcome = "DerivationError"
peak = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
print(found.kind, outcome, peak)
"""


@pytest.mark.parametrize("case", ["png_mov", "gif", "ordinary_mp4"])
def test_regression_video_header_claiming_huge_frames(tmp_path: Path, case: str) -> None:
    """A tiny file whose frame header claims 15000×15000 pixels: probe (FFmpeg decodes a frame while
    opening) and video_frames peaked at 0.7–1.3 GB; now both stay near an ordinary video's footprint."""
    import subprocess
    import sys

    from tests.conftest import REPO

    if case == "png_mov":
        src = _png_mov_claiming(tmp_path / "claims.mov", 15000)
    elif case == "gif":
        src = tmp_path / "screen.gif"
        src.write_bytes(GIF_SCREEN_BOMB)
    else:
        src = samples.make_mp4(tmp_path / "ok.mp4", 0.4, width=64, height=48, fps=10)
    child = subprocess.run([sys.executable, "-c", _MEASURE, str(src), str(tmp_path / "out")],
                           capture_output=True, text=True, cwd=REPO, timeout=120)
    assert child.returncode == 0, child.stderr
    kind, outcome, peak_kb = child.stdout.split()
    assert int(peak_kb) < 250 * 1024, f"{case}: peak {int(peak_kb) >> 10} MB"
    if case == "ordinary_mp4":
        assert (kind, outcome) == ("video", "frames")  # the limit does not stop real videos
    else:
        assert outcome == "DerivationError"


def test_regression_pdf_scan_of_many_object_headers_is_linear(tmp_path: Path) -> None:
    """1 MB of "1 0 obj ": the scan looked 64 KiB past each of 131,072 headers per MiB (30 s)."""
    import time

    from locker.media.pdf import inspect_pdf

    path = tmp_path / "objs.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"1 0 obj " * 131_072)
    started = time.monotonic()
    info = inspect_pdf(path)
    assert time.monotonic() - started < 5.0
    assert info.page_count is None and "page count unknown: no page tree found" in info.warnings


def test_regression_pdf_numbers_too_long_for_int(tmp_path: Path) -> None:
    """/Count, /Root, /Prev or startxref followed by 5,000 digits: int() raised ValueError out of
    inspect_pdf (probe turned it into "could not inspect the file"); a sane count is still read."""
    from locker.media.pdf import inspect_pdf

    digits = b"7" * 5000
    for text in (PDF_UP_TO_COUNT + digits + b" >>\nendobj\n",
                 b"%PDF-1.4\ntrailer\n<< /Root " + digits + b" 0 R >>\n",
                 b"%PDF-1.4\nxref\n0 0\ntrailer\n<< /Prev " + digits + b" >>\nstartxref\n9\n%%EOF\n",
                 b"%PDF-1.4\nstartxref\n" + digits + b"\n%%EOF\n"):
        path = tmp_path / "long.pdf"
        path.write_bytes(text)
        assert inspect_pdf(path).page_count is None
    path.write_bytes(PDF_UP_TO_COUNT + b"3 >>\nendobj\n")
    assert inspect_pdf(path).page_count == 3


def test_regression_pdf_xref_prev_loop_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trailer whose /Prev names its own xref section: it was parsed MAX_PREV (32) times."""
    from locker.media import pdf

    head = b"%PDF-1.4\n"
    entries = 50_000
    path = tmp_path / "loop.pdf"
    path.write_bytes(head + b"xref\n0 %d\n" % entries + b"0000000000 65535 n\r\n" * entries
                     + b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
                     % (entries, len(head), len(head)))
    calls = []
    original = pdf._xref_offsets
    monkeypatch.setattr(pdf, "_xref_offsets", lambda *a: calls.append(a[1]) or original(*a))
    info = pdf.inspect_pdf(path)
    assert calls == [len(head)]
    assert info.page_count is None


def _xref_of_wrong_offsets(path: Path, entries: int) -> int:
    """%PDF, a classic xref table whose every entry points at offset 0, a trailer naming object 1."""
    head = b"%PDF-1.4\n"
    data = (head + b"xref\n0 %d\n" % entries + b"0000000000 65535 n\r\n" * entries
            + b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
            % (entries, len(head), len(head)))
    path.write_bytes(data)
    return len(data)


def test_regression_pdf_wrong_xref_offsets_do_not_make_pypdf_reread_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No entry of the table holds its object: pypdf's catalog search tried 10,000 objects, each
    with a regular expression over a copy of the whole file (10 GB read for 1 MB, minutes).
    What pypdf reads is capped: its whole-file copies add up to a few passes, not 10,000."""
    import pypdf._reader

    from locker.media.pdf import inspect_pdf
    from locker.readbudget import pdf_read_budget
    from locker.search.pdftext import pages

    path = tmp_path / "wrong.pdf"
    size = _xref_of_wrong_offsets(path, 50_000)
    copied: list[int] = []
    original = pypdf._reader.get_stream_data
    monkeypatch.setattr(pypdf._reader, "get_stream_data", lambda stream: copied.append(len(data := original(stream))) or data)

    info = inspect_pdf(path)
    assert info.page_count is None and info.warnings
    assert copied, "pypdf was not given the file: the test no longer covers its recovery"
    assert sum(copied) <= pdf_read_budget(size)

    copied.clear()
    assert pages(path) == ()
    assert copied and sum(copied) <= pdf_read_budget(size)

    from locker.report.pdfpost import open_document  # the pack: the exhibit gets its "cannot read" placeholder

    copied.clear()
    with pytest.raises(ValueError, match="too damaged"):
        open_document(path)
    assert copied and sum(copied) <= pdf_read_budget(size)


def test_read_budget_refuses_reads_past_it(tmp_path: Path) -> None:
    from locker.readbudget import BudgetedFile, ReadBudgetExceeded

    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    with open(path, "rb") as f:
        budgeted = BudgetedFile(f, 150)
        assert budgeted.read(10) == b"x" * 10 and budgeted.tell() == 10
        budgeted.seek(0)
        assert budgeted.read() == b"x" * 100  # 111 spent
        budgeted.seek(50)
        with pytest.raises(ReadBudgetExceeded):  # would be 162: refused before reading
            budgeted.read(-1)
        assert budgeted.exceeded and budgeted.tell() == 50
        with pytest.raises(ReadBudgetExceeded):  # and so is everything after
            budgeted.read(1)


# --------------------------------------------------------------------------- 3. file names

PREFIXES = ("IMG_", "IMG-", "VID_", "Screenshot_", "Screenshot ", "PXL_", "mmexport", "wx_camera_", "microMsg.",
            "微信图片_", "截屏", "WhatsApp Image ", "", "signal-", "Snipaste_", "录音 ")
name_chars = st.characters(codec=None, categories=None)  # anything, control characters and surrogates included
digit_runs = st.text(alphabet="0123456789", min_size=1, max_size=16)
separators = st.sampled_from(("", "_", "-", ".", " ", " at ", "T", ":", "/", "\\", "\x00", "\n", "　"))

structured_names = st.tuples(
    st.sampled_from(PREFIXES), st.lists(st.tuples(digit_runs, separators), max_size=5),
    st.text(max_size=8), st.sampled_from(EXTENSIONS),
).map(lambda t: t[0] + "".join(d + s for d, s in t[1]) + t[2] + t[3])
any_names = st.one_of(
    st.text(name_chars, max_size=80),
    st.text(alphabet="0123456789_-. :IMGVIDWApxl截屏微信图片\x00\x7f\u202e", max_size=60),
    structured_names,
)


def _check_name_time(name: str) -> None:
    from locker.media.timefromname import NameTime, time_from_name

    with bounded(repr(name)):
        found = time_from_name(name)
    if found is None:
        return
    assert isinstance(found, NameTime)
    if found.kind == "local":
        assert isinstance(found.value, datetime) and found.value.tzinfo is None
    elif found.kind == "instant":
        assert isinstance(found.value, datetime) and found.value.utcoffset() is not None
        assert found.value.utcoffset().total_seconds() == 0
    else:
        assert found.kind == "date"
        assert isinstance(found.value, date) and not isinstance(found.value, datetime)
    assert 2000 <= found.value.year <= 2100
    assert found.pattern and "\n" not in found.pattern


@fuzz(150)
@given(name=any_names)
@example(name="IMG_20250503_101010.jpg")
@example(name="mmexport99999999999999.jpg")
@example(name="IMG_20250231_101010.jpg")
@example(name="\x00IMG_20250503_101010")
def test_random_names(name: str) -> None:
    from locker.media.timefromname import time_from_name

    _check_name_time(name)
    # folders are ignored: the same name under any folder gives the same answer
    assert time_from_name("some/folder/" + name) == time_from_name(name.replace("\\", "/").split("/")[-1])


@fuzz(100)
@given(moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31, 23, 59, 59)),
       form=st.sampled_from(("IMG_%Y%m%d_%H%M%S", "Screenshot_%Y%m%d-%H%M%S", "PXL_%Y%m%d_%H%M%S%f",
                             "微信图片_%Y%m%d%H%M%S", "Screenshot %Y-%m-%d at %H.%M.%S", "VID_%Y%m%d_%H%M%S",
                             "截屏%Y-%m-%d %H.%M.%S")),
       tail=st.text(alphabet="()_-. abcXYZ中", max_size=6).filter(lambda t: not t[:1].isdigit()),
       ext=st.sampled_from(EXTENSIONS))
def test_names_with_a_time_round_trip(moment: datetime, form: str, tail: str, ext: str) -> None:
    from locker.media.timefromname import time_from_name

    name = moment.strftime(form.replace("%f", "")) + (f"{moment.microsecond // 1000:03d}" if "%f" in form else "")
    found = time_from_name(name + tail + ext)
    assert found is not None and found.kind == "local", (name, found)
    assert found.value == moment.replace(microsecond=0), (name, found)


@fuzz(60)
@given(name=any_names)
def test_random_names_through_probe(tmp_path: Path, name: str) -> None:
    """probe uses the name for the kind (screenshot…), the extension check and the time."""
    path = tmp_path / "content"
    if not path.exists():
        path.write_bytes(_seeds()["png"][0])
    with bounded(repr(name)):
        check_probe(path, name)


# --------------------------------------------------------------------------- end to end: locker add


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


e2e_files = st.lists(
    st.one_of(
        random_files.map(lambda t: (t[0] + t[1], f"random{t[2]}")),
        mutated_files.map(lambda t: (mutate(_seeds()[t[0]][0], t[1]), _seeds()[t[0]][1])),
    ),
    min_size=1, max_size=4,
)


@fuzz(8, deadline=None)
@given(files=e2e_files)
def test_add_fuzzed_files_end_to_end(cli, dispute: str, tmp_path: Path, files: list[tuple[bytes, str]]) -> None:  # noqa: ANN001
    folder = Path(tempfile.mkdtemp(prefix="add-", dir=tmp_path))
    paths = []
    for i, (data, name) in enumerate(files):
        path = folder / f"{i}-{name}"
        path.write_bytes(data)
        paths.append(path)
    with bounded("locker add"):
        ran = cli("add", dispute, *paths, "--json")
    assert "Traceback" not in ran.err and "internal error" not in ran.err, ran.err
    assert ran.code in (0, 1), (ran.code, ran.err)
    doc = ran.json
    refused = {e["path"]: e["error"] for e in doc["errors"]}
    assert (ran.code == 1) == bool(refused), (ran.code, refused)
    assert set(refused) <= {str(p) for p in paths}, refused
    for error in refused.values():  # the one refusal a non-empty readable file can get: an ambiguous chat
        assert "--date-order" in error, refused
    kept = [p for p in paths if str(p) not in refused]
    assert len(doc["added"]) == len(kept), doc
    objects = Path(os.environ["LOCKER_HOME"]) / "disputes" / dispute / "objects"
    # In the order given; matched by content, since a duplicate of a file that an earlier example
    # added keeps that file's name and number.
    for path, got in zip(kept, doc["added"]):
        data = path.read_bytes()
        sha = _sha(data)
        assert got["sha256"] == sha and got["size"] == len(data), (path.name, got)
        assert (objects / sha[:2] / sha[2:]).read_bytes() == data
        for warning in got["warnings"]:
            _one_line(warning)
            assert not warning.startswith("could not inspect the file"), warning
            assert ".tmp-" not in warning, warning  # no internal paths
    with bounded("locker rebuild"):
        rebuilt = cli("rebuild", dispute, "--json")
    assert "Traceback" not in rebuilt.err and "internal error" not in rebuilt.err, rebuilt.err
    assert rebuilt.code in (0, 1), (rebuilt.code, rebuilt.err)
    assert (rebuilt.code == 1) == bool(rebuilt.json["failed"]), rebuilt.out
    for failure in rebuilt.json["failed"]:
        _one_line(failure["error"])
    verified = cli("verify", dispute)
    assert verified.code == 0, verified.out + verified.err


def test_end_to_end_inputs_are_varied() -> None:
    """The e2e strategy really produces damaged media, not only one kind of file."""
    from hypothesis import find

    find(e2e_files, lambda fs: any(n.endswith(".mp4") for _, n in fs) and any(n.endswith(".pdf") for _, n in fs),
         settings=settings(database=None, derandomize=True, max_examples=2000))


def test_bounded_interrupts_a_hang() -> None:
    """The hang guard itself works (a guard that never fires would hide hangs)."""
    import time

    global CALL_LIMIT
    saved, CALL_LIMIT = CALL_LIMIT, 0.2
    try:
        with pytest.raises(Hang), bounded("sleep"):
            time.sleep(5)
    finally:
        CALL_LIMIT = saved

