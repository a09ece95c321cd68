"""locker.media: MIME, kind, capture time and metadata, on files the tests generate."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

try:
    from tests import samples
except ImportError:  # tests/ is not a package: pytest puts tests/ itself on sys.path
    import samples

from locker.chats.encoding import decode_head as decode_text
from locker.errors import MissingDependency
from locker.media import Probe, looks_like_chat, probe, sniff
from locker.media.timefromname import time_from_name

SHANGHAI = ZoneInfo("Asia/Shanghai")
DATA = Path(__file__).parent / "data"
BERLIN = ZoneInfo("Europe/Berlin")


def assert_jsonable(result: Probe) -> None:
    json.dumps(result.metadata, allow_nan=False)
    assert all(isinstance(w, str) and "\n" not in w for w in result.warnings)


# --------------------------------------------------------------------------- images


def test_jpeg_with_exif_and_offset(tmp_path: Path) -> None:
    path = samples.make_jpeg_with_exif(tmp_path / "IMG_0001.jpg")
    result = probe(path, "IMG_0001.jpg", BERLIN)  # the EXIF offset wins over the user's zone
    assert result.mime == "image/jpeg"
    assert result.kind == "photo"
    assert result.captured_at == "2025-05-03T15:01:02+08:00"
    assert result.captured_at_source == "exif"
    md = result.metadata
    assert (md["width"], md["height"], md["format"]) == (640, 480, "JPEG")
    assert md["exif"]["Make"] == "Apple" and md["exif"]["Model"] == "iPhone 15 Pro"
    assert md["exif"]["OffsetTimeOriginal"] == "+08:00"
    assert md["gps"]["latitude"] == pytest.approx(31.2304, abs=1e-4)
    assert md["gps"]["longitude"] == pytest.approx(121.4737, abs=1e-4)
    assert md["gps"]["altitude"] == pytest.approx(12.5)
    assert md["captured_at_offset_assumed"] is False
    assert result.warnings == ()
    assert_jsonable(result)


def test_jpeg_exif_without_offset_gets_user_zone(tmp_path: Path) -> None:
    path = samples.make_jpeg_with_exif(tmp_path / "p.jpg", offset=None)
    result = probe(path, "p.jpg", BERLIN)
    assert result.captured_at == "2025-05-03T15:01:02+02:00"
    assert result.captured_at_source == "exif"
    assert result.metadata["captured_at_offset_assumed"] is True
    assert result.metadata["captured_at_tz"] == "Europe/Berlin"


def test_southern_western_gps(tmp_path: Path) -> None:
    path = samples.make_jpeg_with_exif(tmp_path / "p.jpg", gps=(-33.8568, -70.6483, -5.0))
    gps = probe(path, "p.jpg", SHANGHAI).metadata["gps"]
    assert gps["latitude"] == pytest.approx(-33.8568, abs=1e-4)
    assert gps["longitude"] == pytest.approx(-70.6483, abs=1e-4)
    assert gps["altitude"] == pytest.approx(-5.0)


def test_exif_placeholder_date_is_not_a_time(tmp_path: Path) -> None:
    path = samples.make_jpeg_with_exif(tmp_path / "p.jpg", datetime_original="0000:00:00 00:00:00")
    result = probe(path, "p.jpg", SHANGHAI)
    assert result.captured_at is None
    assert result.kind == "photo"
    assert any("DateTimeOriginal" in w for w in result.warnings)


def test_png_phone_screenshot(tmp_path: Path) -> None:
    path = samples.make_png(tmp_path / "a.png", 1080, 2340)
    result = probe(path, "a.png", SHANGHAI)
    assert (result.mime, result.kind) == ("image/png", "screenshot")
    assert (result.metadata["width"], result.metadata["height"]) == (1080, 2340)
    assert result.captured_at is None and result.captured_at_source is None
    assert result.warnings == ()


def test_ios_screenshot_png_with_exif(tmp_path: Path) -> None:
    exif = samples.camera_exif(make=None, model=None, offset=None, gps=None, exposure_time=None,
                               f_number=None, user_comment="Screenshot")
    path = samples.make_png(tmp_path / "IMG_0042.PNG", 1179, 2556, exif=exif)
    result = probe(path, "IMG_0042.PNG", SHANGHAI)
    assert result.kind == "screenshot"
    assert result.captured_at == "2025-05-03T15:01:02+08:00"
    assert result.captured_at_source == "exif"


@pytest.mark.parametrize(
    ("size", "name", "kind"),
    [
        ((4032, 3024), "IMG_1.jpg", "photo"),  # landscape 4:3 without EXIF: a stripped photo
        ((1080, 2340), "IMG_2.jpg", "screenshot"),  # phone-screen shape
        ((1920, 1080), "IMG_3.jpg", "screenshot"),  # desktop resolution
        ((1000, 1000), "Screenshot_x.jpg", "screenshot"),  # the name says so
        ((1280, 960), "x.jpg", "photo"),
    ],
)
def test_image_kind_without_camera_exif(tmp_path: Path, size: tuple[int, int], name: str,
                                        kind: str) -> None:
    path = samples.make_jpeg(tmp_path / "f.jpg", *size, quality=30)
    assert probe(path, name, SHANGHAI).kind == kind


def test_samples_seed_changes_bytes(tmp_path: Path) -> None:
    a = samples.make_png(tmp_path / "a.png", 64, 128)
    b = samples.make_png(tmp_path / "b.png", 64, 128)
    c = samples.make_png(tmp_path / "c.png", 64, 128, seed=1)
    d = samples.make_png(tmp_path / "d.png", 64, 128, seed=2)
    assert a.read_bytes() == b.read_bytes()
    assert len({a.read_bytes(), c.read_bytes(), d.read_bytes()}) == 3


def test_camera_exif_makes_a_photo_whatever_the_shape(tmp_path: Path) -> None:
    path = samples.make_jpeg_with_exif(tmp_path / "p.jpg", 1080, 2340)
    assert probe(path, "p.jpg", SHANGHAI).kind == "photo"


def test_heic_with_exif(tmp_path: Path) -> None:
    path = samples.make_heic(tmp_path / "IMG_0003.HEIC")
    result = probe(path, "IMG_0003.HEIC", SHANGHAI)
    assert result.mime == "image/heic"
    assert result.kind == "photo"
    assert result.captured_at == "2025-05-03T15:01:02+08:00"
    assert result.captured_at_source == "exif"
    assert result.metadata["exif"]["Model"] == "iPhone 15 Pro"
    assert (result.metadata["width"], result.metadata["height"]) == (640, 480)
    assert_jsonable(result)


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + bytes(64)


@pytest.mark.parametrize(
    ("head", "libmagic", "expected"),
    [
        (_ftyp(b"heic", b"mif1", b"heic"), "application/octet-stream", "image/heic"),
        (_ftyp(b"mif1", b"mif1", b"heic"), "application/octet-stream", "image/heic"),
        (_ftyp(b"mif1", b"mif1"), "application/octet-stream", "image/heif"),
        (_ftyp(b"avif", b"mif1", b"avif"), "application/octet-stream", "image/avif"),
        (_ftyp(b"msf1", b"msf1", b"hevc"), "application/octet-stream", "image/heic"),
        (_ftyp(b"isom", b"isom", b"mif1"), "video/mp4", None),  # a video is left alone
        (_ftyp(b"isom", b"isom", b"avc1"), "application/octet-stream", None),
        (b"\xff\xd8\xff\xe0" + bytes(60), "application/octet-stream", None),
    ],
)
def test_heif_brands(head: bytes, libmagic: str, expected: str | None) -> None:
    assert sniff.heif_mime(head, libmagic) == expected


def test_random_bytes_named_jpg(tmp_path: Path) -> None:
    path = samples.make_random(tmp_path / "x.jpg", 5000)
    result = probe(path, "x.jpg", SHANGHAI)
    assert not result.mime.startswith("image/")
    assert result.kind == "other"
    assert f"name says image (.jpg) but content is {result.mime}" in result.warnings


def test_truncated_jpeg(tmp_path: Path) -> None:
    whole = samples.make_jpeg_with_exif(tmp_path / "whole.jpg", 800, 600)
    assert probe(whole, "whole.jpg", SHANGHAI).warnings == ()
    cut = samples.make_truncated(whole, tmp_path / "cut.jpg", 0.6)
    result = probe(cut, "cut.jpg", SHANGHAI)
    assert result.mime == "image/jpeg"
    assert "truncated or damaged image" in result.warnings
    assert result.captured_at_source == "exif"  # the header survived


def test_jpeg_cut_inside_header(tmp_path: Path) -> None:
    whole = samples.make_jpeg_with_exif(tmp_path / "whole.jpg")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[:300])
    result = probe(cut, "cut.jpg", SHANGHAI)
    assert any("truncated or damaged image" in w for w in result.warnings)


def test_truncated_png(tmp_path: Path) -> None:
    whole = samples.make_png(tmp_path / "a.png", 300, 600)
    cut = samples.make_truncated(whole, tmp_path / "b.png", 0.5)
    result = probe(cut, "b.png", SHANGHAI)
    assert "truncated or damaged image" in result.warnings


def _max_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


@pytest.mark.parametrize("side", [20000, 30000])  # 400 MP: Pillow warns; 900 MP: Pillow refuses
def test_png_decompression_bomb(tmp_path: Path, side: int) -> None:
    path = samples.make_png_bomb(tmp_path / "bomb.png", side, side)
    assert path.stat().st_size < 1_000_000
    rss_before = _max_rss_bytes()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = probe(path, "bomb.png", SHANGHAI)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2.0
    assert peak < 100 * 1024 * 1024
    assert _max_rss_bytes() - rss_before < 100 * 1024 * 1024
    assert result.mime == "image/png"
    assert f"image too large to decode safely ({side}×{side})" in result.warnings
    assert (result.metadata["width"], result.metadata["height"]) == (side, side)


# --------------------------------------------------------------------------- video and audio


def test_mp4_with_creation_time_and_rotation(tmp_path: Path) -> None:
    path = samples.make_mp4(tmp_path / "v.mp4", 2.0, width=320, height=240, rotation=90, audio=True)
    result = probe(path, "v.mp4", SHANGHAI)
    assert result.mime == "video/mp4"
    assert result.kind == "video"
    assert result.captured_at == "2025-05-03T14:22:10+08:00"  # 06:22:10Z shown in the user's zone
    assert result.captured_at_source == "container"
    md = result.metadata
    assert md["duration"] == pytest.approx(2.0, abs=0.1)
    assert (md["width"], md["height"]) == (320, 240)
    assert md["video_codec"] in ("h264", "mpeg4")
    assert md["audio_codec"] == "aac"
    assert md["frame_rate"] == pytest.approx(25.0)
    assert md["rotation"] == 90
    assert (md["display_width"], md["display_height"]) == (240, 320)
    assert md["captured_at_offset_assumed"] is False
    assert result.warnings == ()
    assert_jsonable(result)


def test_mp4_without_tags_falls_back_to_filename(tmp_path: Path) -> None:
    path = samples.make_mp4(tmp_path / "v.mp4", 1.0, creation_time=None)
    result = probe(path, "VID_20250503_142210.mp4", SHANGHAI)
    assert result.captured_at == "2025-05-03T14:22:10+08:00"
    assert result.captured_at_source == "filename"
    assert result.metadata["rotation"] == 0


@pytest.mark.parametrize("faststart", [False, True])
def test_truncated_mp4(tmp_path: Path, faststart: bool) -> None:
    whole = samples.make_mp4(tmp_path / "v.mp4", 2.0, faststart=faststart)
    cut = samples.make_truncated(whole, tmp_path / "cut.mp4", 0.5)
    result = probe(cut, "cut.mp4", SHANGHAI)
    assert result.mime == "video/mp4"
    assert result.kind == "video"
    assert any(w.startswith("truncated media file") for w in result.warnings)
    assert_jsonable(result)


def test_m4a_audio(tmp_path: Path) -> None:
    path = samples.make_m4a(tmp_path / "r.m4a", 1.0, creation_time="2025-05-03T06:22:10Z")
    result = probe(path, "r.m4a", BERLIN)
    assert result.mime.startswith("audio/")
    assert result.kind == "audio"
    assert result.metadata["audio_codec"] == "aac"
    assert result.metadata["duration"] == pytest.approx(1.0, abs=0.1)
    assert result.captured_at == "2025-05-03T08:22:10+02:00"
    assert result.captured_at_source == "container"


def test_wav_audio(tmp_path: Path) -> None:
    path = samples.make_wav(tmp_path / "r.wav", 1.5)
    result = probe(path, "Record_2025-05-03-14-22-10.wav", SHANGHAI)
    assert result.kind == "audio"
    assert result.metadata["duration"] == pytest.approx(1.5, abs=0.05)
    assert result.metadata["sample_rate"] == 8000
    assert result.captured_at_source == "filename"


@pytest.mark.parametrize("qq", [False, True])
def test_silk_voice_note(tmp_path: Path, qq: bool) -> None:
    path = samples.make_silk(tmp_path / "msg.amr", qq=qq)
    result = probe(path, "msg.amr", SHANGHAI)
    assert (result.mime, result.kind) == ("audio/silk", "audio")
    assert result.warnings == ()


# --------------------------------------------------------------------------- documents


def test_pdf_page_count(tmp_path: Path) -> None:
    path = samples.make_pdf(tmp_path / "invoice.pdf", 3)
    result = probe(path, "invoice.pdf", SHANGHAI)
    assert (result.mime, result.kind) == ("application/pdf", "document")
    assert result.metadata["page_count"] == 3
    assert result.warnings == ()


def test_pdf_with_broken_xref_is_scanned(tmp_path: Path) -> None:
    path = samples.make_pdf(tmp_path / "a.pdf", 5)
    data = path.read_bytes()
    at = data.rindex(b"startxref")
    path.write_bytes(data[:at] + b"startxref\n999999999\n%%EOF\n")
    assert probe(path, "a.pdf", SHANGHAI).metadata["page_count"] == 5


def test_pdf_with_object_streams(tmp_path: Path) -> None:
    path = samples.make_pdf_with_object_streams(tmp_path / "a.pdf", pages=7)
    result = probe(path, "a.pdf", SHANGHAI)
    assert result.kind == "document"
    assert result.metadata["page_count"] == 7  # pypdf reads the compressed page tree
    assert result.warnings == ()


def test_real_pdftex_page_count(tmp_path: Path) -> None:
    # pdfTeX-1.40.23 output from pypdf's test resources: xref stream, page tree in an /ObjStm.
    result = probe(DATA / "pypdf-pdflatex-outline.pdf", "paper.pdf", SHANGHAI)
    assert result.kind == "document"
    assert result.metadata["page_count"] == 4
    assert result.metadata["pdf_version"] == "1.5"
    assert result.warnings == ()


def test_pdf_over_the_pypdf_cap_says_page_count_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from locker.media import pdf

    path = samples.make_pdf_with_object_streams(tmp_path / "a.pdf", pages=3)
    monkeypatch.setattr(pdf, "PYPDF_MAX_BYTES", path.stat().st_size - 1)  # the cap, not pypdf, is what changes
    result = probe(path, "a.pdf", SHANGHAI)
    assert "page_count" not in result.metadata
    assert any("page count unknown" in w and "not parsed" in w for w in result.warnings)


def test_pdf_truncated(tmp_path: Path) -> None:
    path = samples.make_truncated(samples.make_pdf(tmp_path / "a.pdf", 3), tmp_path / "b.pdf")
    result = probe(path, "b.pdf", SHANGHAI)
    assert result.kind == "document"
    assert any("truncated" in w for w in result.warnings)


# --------------------------------------------------------------------------- chats


@pytest.mark.parametrize(
    ("maker", "name", "expected"),
    [
        (samples.make_whatsapp_android_chat, "WhatsApp Chat with Shop.txt", "whatsapp_android"),
        (samples.make_whatsapp_ios_chat, "_chat.txt", "whatsapp_ios"),
        (samples.make_plain_chat, "chat.txt", "plain_lines"),
        (lambda p: samples.make_plain_chat(p, encoding="gb18030", colon=":"), "gbk.txt",
         "plain_lines"),
        (lambda p: samples.make_plain_chat(p, encoding="utf-16"), "u16.txt", "plain_lines"),
        (samples.make_telegram_json, "result.json", "telegram_json"),
        (samples.make_memotrace_csv, "wechat.csv", "wechat_memotrace_csv"),
        (samples.make_csv_chat, "chat.csv", "csv_chat"),
        (lambda p: samples.make_csv_chat(p, chinese=False), "chat.csv", "csv_chat"),
        (samples.make_whatsapp_ios_zip, "WhatsApp Chat - Shop.zip", "whatsapp_ios_zip"),
    ],
)
def test_chat_exports(tmp_path: Path, maker, name: str, expected: str) -> None:
    path = maker(tmp_path / name)
    result = probe(path, name, SHANGHAI)
    assert result.kind == "chat", result
    assert result.metadata["chat_format"] == expected
    assert result.captured_at is None


def test_long_chat_is_sniffed_from_its_start(tmp_path: Path) -> None:
    messages = [("商家", "您好，请问有什么可以帮您？" * 3), ("我", "我要退款")] * 2000
    path = samples.make_plain_chat(tmp_path / "long.txt", messages)
    assert path.stat().st_size > 200_000
    assert looks_like_chat(path, "text/plain") == "plain_lines"


@pytest.mark.parametrize(
    "text",
    [
        "Dear merchant,\nthe parcel arrived damaged.\nPlease refund.\n",
        "2025-05-05 09:12:30 商家：只有一行\n",
        "2025-05-05 09:12:30 INFO: server started\n2025-05-05 09:12:31 ERROR: disk full\n",
        "a,b,c\n1,2,3\n",
        '{"name": "x", "messages": "not a list"}',
        "2025-05-05 09:12:30 商家：一\n" + "no chat here\n" * 20 + "2025-05-05 09:12:31 我：二\n",
    ],
)
def test_not_a_chat(tmp_path: Path, text: str) -> None:
    path = tmp_path / "note.txt"
    path.write_text(text, encoding="utf-8")
    result = probe(path, "note.txt", SHANGHAI)
    assert result.kind == "other"


def test_random_bytes_are_never_a_chat(tmp_path: Path) -> None:
    for seed in range(20):
        path = samples.make_random(tmp_path / f"r{seed}.txt", 3000, seed)
        assert looks_like_chat(path, "text/plain") is None


def test_zip_without_chat(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("_chat.txt", "hello\nworld\n")
        zf.writestr("b.txt", "x")
    assert probe(path, "a.zip", SHANGHAI).kind == "other"


def test_zip_bomb_member_is_read_only_64k(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "bomb.zip"
    line = "[03/05/25, 14:22:10] Anna: " + "x" * 100 + "\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("_chat.txt", "w", force_zip64=True) as member:
            chunk = (line * 10_000).encode()
            for _ in range(200):  # ~250 MB uncompressed, ~1 MB on disk
                member.write(chunk)
    tracemalloc.start()
    try:
        assert looks_like_chat(path, "application/zip") == "whatsapp_ios_zip"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_decode_text_order() -> None:
    gbk = "商家：你好".encode("gb18030")
    assert decode_text(gbk) == "商家：你好"
    assert decode_text("商家：你好".encode()) == "商家：你好"
    assert decode_text("\ufeff商家".encode("utf-8")) == "商家"
    assert decode_text("商家".encode("utf-16")) == "商家"
    cut = "商家：你好".encode()[:-1]  # a character cut by the 64 KiB window
    assert decode_text(cut, final=False) == "商家：你"


# --------------------------------------------------------------------------- capture time from names


@pytest.mark.parametrize(
    ("name", "kind", "value"),
    [
        ("Screenshot_20250503-142210.png", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("Screenshot_2025-05-03-14-22-10.png", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("Screenshot_2025-05-03-14-22-10-123_com.xunmeng.pinduoduo.jpg", "local",
         datetime(2025, 5, 3, 14, 22, 10)),
        ("Screenshot 2025-05-03 at 14.22.10.png", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("IMG_20250503_142210.jpg", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("VID_20250503_142210.mp4", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("PXL_20250503_142210123.jpg", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("PXL_20250503_142210123.MP.jpg", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("微信图片_20250503142210.jpg", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("Record_2025-05-03-14-22-10.m4a", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("录音_20250503142210.m4a", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("WhatsApp Image 2025-05-03 at 14.22.10.jpeg", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("20250503_142210.jpg", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("/sdcard/DCIM/Screenshot_20250503-142210.png", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("C:\\Users\\a\\IMG_20250503_142210.jpg", "local", datetime(2025, 5, 3, 14, 22, 10)),
        ("mmexport1714717330000.jpg", "instant", datetime(2024, 5, 3, 6, 22, 10, tzinfo=UTC)),
        ("wx_camera_1714717330000.jpg", "instant",
         datetime(2024, 5, 3, 6, 22, 10, tzinfo=UTC)),
        ("IMG-20250503-WA0001.jpg", "date", date(2025, 5, 3)),
        ("PTT-20250503-WA0002.opus", "date", date(2025, 5, 3)),
        ("Screenshot_20251303-142210.png", None, None),  # month 13
        ("Screenshot_20250431-142210.png", None, None),  # 31 April
        ("Screenshot_20250503-252210.png", None, None),  # hour 25
        ("IMG_19990503_142210.jpg", None, None),  # before 2000
        ("IMG_21010503_142210.jpg", None, None),  # after 2100
        ("IMG-20251340-WA0001.jpg", None, None),
        ("mmexport0000000000001.jpg", None, None),
        ("mmexport9999999999999.jpg", None, None),  # year 2286
        ("2025050314221099.jpg", None, None),  # an order number, not a time
        ("IMG_1234.JPG", None, None),
        ("a.png", None, None),
        ("", None, None),
    ],
)
def test_time_from_name(name: str, kind: str | None, value: object) -> None:
    found = time_from_name(name)
    if kind is None:
        assert found is None
    else:
        assert found is not None
        assert (found.kind, found.value) == (kind, value)


def test_filename_times_through_probe(tmp_path: Path) -> None:
    path = samples.make_png(tmp_path / "s.png", 100, 200)
    local = probe(path, "Screenshot_20250503-142210.png", SHANGHAI)
    assert local.captured_at == "2025-05-03T14:22:10+08:00"
    assert local.captured_at_source == "filename"
    assert local.metadata["captured_at_offset_assumed"] is True
    instant = probe(path, "mmexport1714717330000.png", BERLIN)
    assert instant.captured_at == "2024-05-03T08:22:10+02:00"
    assert instant.metadata["captured_at_offset_assumed"] is False
    dated = probe(path, "IMG-20250503-WA0001.png", SHANGHAI)
    assert dated.captured_at is None and dated.captured_at_source is None
    assert dated.metadata["filename_date"] == "2025-05-03"


def test_mtime_is_never_used(tmp_path: Path) -> None:
    path = samples.make_png(tmp_path / "a.png", 200, 400)
    os.utime(path, (1714717330, 1714717330))
    result = probe(path, "a.png", SHANGHAI)
    assert result.captured_at is None
    assert result.captured_at_source is None
    assert "captured_at_offset_assumed" not in result.metadata


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"\x89PNG\r\n\x1a\n", "a.png"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\xff" * 13 + b"\0\0\0\0", "a.png"),
        (b"\xff\xd8\xff", "a.jpg"),
        (b"\xff\xd8\xff\xe1\xff\xffExif\0\0MM\0*" + b"\xff" * 40, "a.jpg"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x00mdat", "a.mp4"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "a.heic"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\nstartxref\n5\n%%EOF", "a.pdf"),
        (b"PK\x03\x04" + b"\x00" * 26, "a.zip"),
        (b"RIFF\xff\xff\xff\x7fWAVEfmt ", "a.wav"),
        (b"\x00", "a.bin"),
    ],
)
def test_hostile_headers_never_raise(tmp_path: Path, content: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = probe(path, name, SHANGHAI)
    assert result.kind in ("screenshot", "photo", "video", "audio", "chat", "document", "other")
    assert_jsonable(result)


def test_missing_libmagic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = samples.make_png(tmp_path / "a.png", 10, 10)
    monkeypatch.setattr(sniff, "_magic", None)
    monkeypatch.setitem(sys.modules, "magic", None)  # "import magic" now raises ImportError
    with pytest.raises(MissingDependency) as info:
        probe(path, "a.png", SHANGHAI)
    assert "apt-get install libmagic1" in str(info.value)
    assert "brew install libmagic" in str(info.value)


def test_import_is_light() -> None:
    code = (
        "import sys, locker.media; "
        "print(sorted(m for m in ('av', 'PIL', 'magic', 'pillow_heif') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- clocks (issue 17, point 7)

LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def test_gps_time_gives_the_offset(tmp_path: Path) -> None:
    # A camera in Tokyo: local 15:01:02, no OffsetTimeOriginal; its GPS receiver says 06:00:31 UTC.
    path = samples.make_jpeg_with_exif(tmp_path / "p.jpg", offset=None,
                                       gps_time=datetime(2025, 5, 3, 6, 0, 31, tzinfo=UTC))
    result = probe(path, "p.jpg", BERLIN)  # the user's zone is not what decides
    assert result.captured_at == "2025-05-03T15:01:02+09:00"
    assert result.captured_at_source == "exif"
    md = result.metadata
    assert md["offset_from"] == "gps"
    assert md["gps_time"] == "2025-05-03T06:00:31+00:00"
    assert md["captured_at_offset_assumed"] is False and "captured_at_tz" not in md
    assert result.warnings == ()


@pytest.mark.parametrize(("gps", "expected"), [
    (datetime(2025, 5, 3, 9, 46, 2, tzinfo=UTC), "2025-05-03T15:01:02+05:15"),  # a quarter-hour zone (Nepal is +05:45)
    (datetime(2025, 5, 4, 5, 1, 2, tzinfo=UTC), "2025-05-03T15:01:02-14:00"),  # -14 h: the edge
])
def test_gps_offsets_on_quarter_hours(tmp_path: Path, gps: datetime, expected: str) -> None:
    path = samples.make_jpeg_with_exif(tmp_path / "p.jpg", offset=None, gps_time=gps)
    assert probe(path, "p.jpg", BERLIN).captured_at == expected


@pytest.mark.parametrize("gps", [
    datetime(2025, 5, 4, 7, 1, 2, tzinfo=UTC),  # the right time of day, a day off
    datetime(2025, 5, 3, 7, 8, 2, tzinfo=UTC),  # 7 min from any quarter hour
])
def test_gps_time_that_does_not_fit_is_ignored(tmp_path: Path, gps: datetime) -> None:
    path = samples.make_jpeg_with_exif(tmp_path / "p.jpg", offset=None, gps_time=gps)
    result = probe(path, "p.jpg", SHANGHAI)
    assert result.captured_at == "2025-05-03T15:01:02+08:00"  # the user's zone, marked as assumed
    assert result.metadata["captured_at_offset_assumed"] is True
    assert "offset_from" not in result.metadata
    assert "ignored" in result.metadata["gps_time_ignored"]
    assert any("GPS time" in w and "ignored" in w for w in result.warnings)


def test_exif_offset_is_kept_beside_a_gps_time(tmp_path: Path) -> None:
    path = samples.make_jpeg_with_exif(tmp_path / "p.jpg", gps_time=datetime(2025, 5, 3, 7, 1, 2, tzinfo=UTC))
    result = probe(path, "p.jpg", BERLIN)
    assert result.captured_at == "2025-05-03T15:01:02+08:00"
    assert "offset_from" not in result.metadata


def test_real_gps_photo_with_a_gps_date_a_day_off() -> None:
    # Nikon Coolpix P6000 (exif-py's samples): DateTimeOriginal 2008:10:22 16:38:20 (Italy, +02:00),
    # GPS 2008:10:23 14:36:47 UTC: the time of day fits +02:00 within 2 min, the date does not.
    result = probe(DATA / "exif-py-DSCN0021.jpg", "DSCN0021.jpg", ZoneInfo("Europe/Rome"))
    assert result.kind == "photo"
    assert result.captured_at == "2008-10-22T16:38:20+02:00"
    md = result.metadata
    assert md["gps_time"] == "2008-10-23T14:36:47+00:00"
    assert md["captured_at_offset_assumed"] is True and md["captured_at_tz"] == "Europe/Rome"
    assert "offset_from" not in md and "gps_time_ignored" in md


def _gopro(tmp_path: Path, creation_time: str, gpmf: bytes | None) -> Path:
    path = samples.make_mp4(tmp_path / "GX010001.MP4", 1.0, creation_time=creation_time)
    if gpmf is not None:
        samples.add_gpmf_track(path, gpmf)
    return path


def test_gopro_local_clock_with_gps(tmp_path: Path) -> None:
    # Real HERO5 GPMF (GPSU 2017-04-17 17:31:03 UTC, with a fix); the camera's clock said 10:31:00
    # local (California, -07:00) and wrote it as creation_time "…Z", as GoPros do.
    gpmf = (DATA / "gpmf-parser-hero5.raw").read_bytes()
    path = _gopro(tmp_path, "2017-04-17T10:31:00.000000Z", gpmf)
    result = probe(path, "GX010001.MP4", SHANGHAI)
    assert result.captured_at == "2017-04-17T10:31:00-07:00"
    assert result.captured_at_source == "container"
    md = result.metadata
    assert md["offset_from"] == "gps" and md["gps_time"] == "2017-04-17T17:31:03+00:00"
    assert md["captured_at_offset_assumed"] is False
    assert "GoPro" in md["creation_time_clock"]


def test_gopro_local_clock_without_a_fix(tmp_path: Path) -> None:
    # Real HERO6 GPMF whose GPSF is 0 (no fix): its GPSU is not believed; the local time is put
    # in the user's zone and marked as assumed (a plain MP4 would have read it as UTC: 18:28 here).
    gpmf = (DATA / "gpmf-parser-hero6.raw").read_bytes()
    path = _gopro(tmp_path, "2018-01-24T10:28:00.000000Z", gpmf)
    result = probe(path, "GX010002.MP4", LOS_ANGELES)
    assert result.captured_at == "2018-01-24T10:28:00-08:00"
    assert result.metadata["captured_at_offset_assumed"] is True
    assert result.metadata["captured_at_tz"] == "America/Los_Angeles"
    assert "gps_time" not in result.metadata


def test_gopro_gps_day_off_is_ignored(tmp_path: Path) -> None:
    gpmf = samples.gpmf_gpsu(datetime(2025, 5, 4, 6, 22, 40, tzinfo=UTC))
    result = probe(_gopro(tmp_path, "2025-05-03T14:22:10.000000Z", gpmf), "GX1.MP4", SHANGHAI)
    assert result.captured_at == "2025-05-03T14:22:10+08:00"
    assert result.metadata["captured_at_offset_assumed"] is True
    assert "gps_time_ignored" in result.metadata


def test_plain_mp4_creation_time_stays_utc_beside_a_gpmf_less_file(tmp_path: Path) -> None:
    path = samples.make_mp4(tmp_path / "v.mp4", 1.0, creation_time="2025-05-03T06:22:10.000000Z")
    result = probe(path, "v.mp4", SHANGHAI)
    assert result.captured_at == "2025-05-03T14:22:10+08:00"
    assert result.metadata["captured_at_offset_assumed"] is False
    assert "creation_time_clock" not in result.metadata


@pytest.mark.parametrize("idit", [b"THU OCT 22 12:34:56 2009\n\0", b"2009:10:22 12:34:56\0"])
def test_avi_idit_is_local_time(tmp_path: Path, idit: bytes) -> None:
    path = samples.make_avi(tmp_path / "MVI_0001.AVI", idit=idit)
    result = probe(path, "MVI_0001.AVI", SHANGHAI)
    assert (result.mime, result.kind) == ("video/x-msvideo", "video")
    assert result.captured_at == "2009-10-22T12:34:56+08:00"  # not 20:34:56, as read as UTC
    assert result.captured_at_source == "container"
    assert result.metadata["captured_at_offset_assumed"] is True
    assert result.metadata["captured_at_tz"] == "Asia/Shanghai"


@pytest.mark.parametrize("stamp", ["0001:01:01 00:00:00", "9999:12:31 23:59:59", "1969:12:31 12:00:00"])
def test_exif_time_outside_the_window_is_ignored(tmp_path: Path, stamp: str) -> None:
    path = samples.make_jpeg_with_exif(tmp_path / "p.jpg", datetime_original=stamp, offset="+08:00")
    result = probe(path, "p.jpg", SHANGHAI)
    assert result.captured_at is None and result.captured_at_source is None
    assert any("outside 1970" in w for w in result.warnings)


def test_container_time_of_1904_is_ignored(tmp_path: Path) -> None:
    # QuickTime's epoch, what a camera whose clock was never set writes as its creation date.
    import av

    path = tmp_path / "v.mov"
    with av.open(str(path), "w", format="mov", options={"movflags": "use_metadata_tags"}) as container:
        container.metadata["com.apple.quicktime.creationdate"] = "1904-01-01T00:00:00+0000"
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame(64, 48, "yuv420p")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    result = probe(path, "VID_20250503_142210.mov", SHANGHAI)
    assert (result.captured_at, result.captured_at_source) == ("2025-05-03T14:22:10+08:00", "filename")
    assert any("1904" in w and "ignored" in w for w in result.warnings)


# --------------------------------------------------------------------------- kinds (issue 17, point 8)


def test_date_only_exif_on_a_phone_screen_is_a_screenshot(tmp_path: Path) -> None:
    exif = samples.camera_exif(make=None, model=None, gps=None, exposure_time=None, f_number=None)
    path = samples.make_jpeg(tmp_path / "IMG_1.jpg", 1170, 2532, exif=exif)
    result = probe(path, "IMG_1.jpg", SHANGHAI)
    assert result.kind == "screenshot"
    assert result.captured_at == "2025-05-03T15:01:02+08:00"  # the date is still the capture time


def test_lens_or_model_alone_is_camera_exif(tmp_path: Path) -> None:
    exif = samples.camera_exif(make=None, gps=None, exposure_time=None, f_number=None)
    path = samples.make_jpeg(tmp_path / "IMG_1.jpg", 1170, 2532, exif=exif)
    assert probe(path, "IMG_1.jpg", SHANGHAI).kind == "photo"


@pytest.mark.parametrize("keep", [4, 8, 10, 11])
def test_truncated_wav_is_named_by_its_header(tmp_path: Path, keep: int) -> None:
    whole = samples.make_wav(tmp_path / "r.wav", 0.5)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:keep])
    result = probe(cut, "录音.wav", SHANGHAI)
    assert (result.mime, result.kind) == ("audio/x-wav", "audio")
    assert any(w.startswith("truncated WAV file") for w in result.warnings)


def test_riff_cut_before_its_form_type_without_a_telling_name(tmp_path: Path) -> None:
    cut = tmp_path / "blob"
    cut.write_bytes(samples.make_wav(tmp_path / "r.wav", 0.5).read_bytes()[:8])
    assert not probe(cut, "blob", SHANGHAI).mime.startswith("audio/")  # RIFF, but which kind is not known


def test_riff_avi_cut_inside_its_form_type(tmp_path: Path) -> None:
    cut = tmp_path / "x.bin"
    cut.write_bytes(samples.make_avi(tmp_path / "a.avi").read_bytes()[:10])  # "RIFF" size "AV"
    assert probe(cut, "x.bin", SHANGHAI).mime == "video/x-msvideo"


def test_heic_gps_time_gives_the_offset(tmp_path: Path) -> None:
    path = samples.make_heic(tmp_path / "IMG_0004.HEIC", offset=None,
                             gps_time=datetime(2025, 5, 3, 7, 1, 2, tzinfo=UTC))
    result = probe(path, "IMG_0004.HEIC", BERLIN)
    assert result.captured_at == "2025-05-03T15:01:02+08:00"
    assert result.metadata["offset_from"] == "gps"


def test_a_gpmf_track_alone_marks_a_gopro(tmp_path: Path) -> None:
    # No "GoPro" in any name: the 'gpmd' sample entry (GoPro's metadata format) is enough.
    path = samples.make_mp4(tmp_path / "clip.mp4", 1.0, creation_time="2025-05-03T14:22:10.000000Z")
    samples.add_gpmf_track(path, samples.gpmf_gpsu(datetime(2025, 5, 3, 6, 22, 40, tzinfo=UTC)), handler="MET")
    result = probe(path, "clip.mp4", BERLIN)
    assert result.captured_at == "2025-05-03T14:22:10+08:00"
    assert result.metadata["offset_from"] == "gps"


def test_gopro_firmware_tag_marks_a_local_clock(tmp_path: Path) -> None:
    # A GoPro's udta 'FIRM' box ("HD5.02.02.00.00"), which FFmpeg reads as the "firmware" tag.
    import struct

    path = samples.make_mp4(tmp_path / "clip.mp4", 1.0, creation_time="2025-05-03T14:22:10.000000Z")
    data = bytearray(path.read_bytes())
    moov = data.rindex(b"moov") - 4
    assert struct.unpack(">I", data[moov:moov + 4])[0] == len(data) - moov  # moov is the last box
    firm = b"HD5.02.02.00.00"
    udta = struct.pack(">I", 16 + len(firm)) + b"udta" + struct.pack(">I", 8 + len(firm)) + b"FIRM" + firm
    data[moov:moov + 4] = struct.pack(">I", len(data) - moov + len(udta))
    path.write_bytes(bytes(data + udta))
    result = probe(path, "clip.mp4", SHANGHAI)
    assert result.captured_at == "2025-05-03T14:22:10+08:00"  # local, not 22:22 as UTC would give
    assert result.metadata["captured_at_offset_assumed"] is True
