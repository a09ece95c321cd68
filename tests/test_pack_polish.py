"""The pack as a reader sees it (issue 17, point 11): one language per pack, sizes that agree, a
signature that never stands alone, a portrait video's frames on its first page, emoji by name, an empty
pack without a made-up fingerprint, page ranges that read as such. Read back with poppler's pdftotext."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from tests import samples
from tests.conftest import shared_home

CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")
ENGLISH_SENTENCE = re.compile(r"\b[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,}){3,}\b")


def pdftotext(pdf: Path) -> list[str]:
    proc = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split("\f")


def every_kind(cli, tmp: Path, lang: str) -> dict:  # noqa: ANN001
    """A dispute with an exhibit of every kind, in the user's language, exported in that language."""
    ev = tmp / f"ev-{lang}"
    if lang == "zh":
        assert cli("profile", "--name", "张三", "--tz", "Asia/Shanghai").code == 0
        assert cli("new", "耳机退款", "--slug", "zh", "--merchant", "优品数码", "--summary", "左耳无声。").code == 0
        chat = samples.make_plain_chat(ev / "聊天.txt", [("我", "左耳没有声音"), ("商家", "亲，不支持退款哦")])
        slug, extra = "zh", {"聊天.txt": ["--me", "我"]}
    else:
        assert cli("profile", "--name", "Jane Roe", "--tz", "Europe/London").code == 0
        assert cli("new", "Earbuds refund", "--slug", "en", "--merchant", "Gadget Shop", "--summary",
                   "Left earbud silent.").code == 0
        chat = samples.make_telegram_json(ev / "result.json")
        slug, extra = "en", {}
    files = [
        samples.make_png(ev / "Screenshot_20250503-142210.png", 1080, 2340, seed=1),
        samples.make_long_screenshot(ev / "Screenshot_20250503-142500.png", 1080, 6000),
        samples.make_jpeg_with_exif(ev / "IMG_20250503_150102.jpg", 1600, 1200, seed=2),
        samples.make_oriented_image(ev / "turned.jpg", 6, 1200, 900),
        samples.make_numbered_video(ev / "VID_20250503_150530.mp4", seconds=2),
        samples.make_numbered_video(ev / "VID_portrait.mp4", seconds=2, width=240, height=426),
        chat,
        samples.make_pdf(ev / "receipt.pdf", pages=1),  # Helvetica, not embedded: a note
        samples.make_wav(ev / "call.wav", 1.0),
        samples.make_random(ev / "blob.bin", 3000),
        samples.make_truncated(samples.make_jpeg(ev / "whole.jpg", 800, 600, seed=5), ev / "cut 🎧.jpg", 0.5),
    ]
    for f in files:
        ran = cli("add", slug, f, *extra.get(f.name, []))
        assert ran.code == 0, ran.err
    assert cli("event", slug, "商家拒绝" if lang == "zh" else "refused", "--at", "2025-05-03 15:21",
               "--exhibit", "1", "--exhibit", "2", "--exhibit", "3").code == 0
    ran = cli("export", slug, "--lang", lang, "-o", tmp / f"{lang}.pdf")
    assert ran.code == 0, ran.err
    numbers = {e["original_name"]: e["exhibit"] for e in cli("show", slug, "--json").json["exhibits"]}
    return {"pages": pdftotext(tmp / f"{lang}.pdf"), "numbers": numbers}


@pytest.fixture(scope="module")
def zh_pack(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Any]:
    """The Chinese pack, made once for the five tests that read its text (a pack of every kind takes
    seconds); read-only: its pages are a tuple, its numbers a read-only mapping."""
    root = tmp_path_factory.mktemp("zh-pack")
    with shared_home(root / "home") as cli:
        made = every_kind(cli, root, "zh")
    return MappingProxyType({"pages": tuple(made["pages"]), "numbers": MappingProxyType(made["numbers"])})


def test_a_chinese_pack_has_no_english_sentence(zh_pack) -> None:  # noqa: ANN001
    found = [m.group() for page in zh_pack["pages"] for m in ENGLISH_SENTENCE.finditer(page)]
    assert not found, found
    text = "\n".join(zh_pack["pages"])
    assert "该文件未嵌入字体 Helvetica" in text and "图片被截断或已损坏" in text


def test_an_english_pack_has_no_chinese(cli, tmp_path) -> None:  # noqa: ANN001
    pages = every_kind(cli, tmp_path, "en")["pages"]
    found = [(i + 1, m.group()) for i, page in enumerate(pages) for m in CJK.finditer(page)]
    assert not found, found


def test_a_turned_photo_has_one_size(zh_pack) -> None:  # noqa: ANN001
    n = zh_pack["numbers"]["turned.jpg"]
    page = next(p for p in zh_pack["pages"] if f"证据 {n} turned.jpg" in p and "画面尺寸" in p)
    assert re.search(r"画面尺寸\s+1200×900（按 EXIF 方向 6 转正显示；文件中存储为 900×1200）", page), page
    assert "原图 1200×900 像素" in page


def test_a_portrait_video_starts_its_frames_on_its_first_page(zh_pack) -> None:  # noqa: ANN001
    n = zh_pack["numbers"]["VID_portrait.mp4"]
    first = next(p for p in zh_pack["pages"] if f"证据 {n} VID_portrait.mp4" in p and "视频信息" in p)
    assert len(re.findall(r"00:00:0\d\.\d{3}", first)) == 9, first


def test_emoji_print_by_name(zh_pack) -> None:  # noqa: ANN001
    text = "\n".join(zh_pack["pages"])
    assert "cut (headphone).jpg" in text and "[U+" not in text


def test_page_ranges_read_as_ranges(zh_pack) -> None:  # noqa: ANN001
    text = "\n".join(zh_pack["pages"])
    line = re.search(r"本证据包共 (\d+) 页：证据 第 (\d+)–(\d+) 页，附录 第 (\d+)(?:–(\d+))? 页。", text)
    assert line, text
    assert not re.search(r"\b(\d+)–\1\b", text)  # never "5–5"


def test_a_single_page_appendix_reads_page_n() -> None:
    from locker.report.builder import Layout
    from locker.report.labels import Labels

    class Stub:
        L = Labels("zh")

    assert Layout.pages(Stub(), 5, 5) == "第 5 页" and Layout.pages(Stub(), 5, 7) == "第 5–7 页"
    Stub.L = Labels("en")
    assert Layout.pages(Stub(), 5, 5) == "page 5" and Layout.pages(Stub(), 5, 7) == "pages 5–7"


def test_number_ranges() -> None:
    from locker.report.markup import number_ranges

    assert number_ranges(range(1, 301)) == "1–300"
    assert number_ranges([1, 2, 3, 5, 7, 8], "zh") == "1–3、5、7–8"
    assert number_ranges([4], "en") == "4" and number_ranges([9, 1, 2], "en") == "1–2, 9"


# --------------------------------------------------------------------------- packs built from a snapshot


def _snapshot(count: int, purpose_lines: int = 0) -> object:
    from locker.report import snapshot as S

    exhibits = tuple(
        S.ExhibitInfo(number=i, sha256=f"{i:064x}", size=10, mime="application/octet-stream", kind="other",
                      original_name=f"file{i}.bin", original=Path("/nonexistent"), object_ref=f"objects/{i}",
                      purpose=("证明商家拒绝退款。" * purpose_lines) if i == 1 and purpose_lines else None)
        for i in range(1, count + 1))
    return S.Snapshot(dispute=S.DisputeInfo(slug="d", title="耳机退款"), claimant=S.Party(name="张三"),
                      exhibits=exhibits, left_out=(), events=(), status_changes=(), custody=(),
                      generated_at="2025-05-05T10:00:00+00:00")


def _build(snap: object) -> list[str]:
    from locker.report import fonts
    from locker.report.pack import PackOptions, build

    out = Path(tempfile.mkdtemp()) / "pack.pdf"
    build(snap, out, PackOptions(font=fonts.find(), workers=1))
    return pdftotext(out)


def test_the_signature_line_never_stands_alone() -> None:
    """The index grows line by line (a longer 证明目的) until its end crosses a page: the signature line
    always shares its page with the line above it (the page count of the pack)."""
    moved = 0
    for lines in range(20, 44, 2):
        pages = _build(_snapshot(14, lines))
        at = next(i for i, p in enumerate(pages) if "提交人（签名）" in p)
        assert "本证据包共" in pages[at], (lines, pages[at])
        moved += "证据目录" not in pages[at]  # the index began on an earlier page
    assert moved  # the case was met


def test_the_cover_lists_many_exhibits_as_ranges() -> None:
    pages = _build(_snapshot(30))
    assert re.search(r"证据 1–30（各自的页码见证据目录）", pages[0]), pages[0]


def test_an_empty_pack_has_no_fingerprint(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    ran = cli("export", dispute, "-o", tmp_path / "empty.pdf")
    assert ran.code == 0, ran.err
    text = "\n".join(pdftotext(tmp_path / "empty.pdf"))
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # SHA-256 of nothing
    assert empty[:16] not in text
    assert "无：本证据包不含证据。" in text and "无证据，无包指纹" in text and "没有包指纹" in text
    assert cli("log", dispute, "--json").json[-1]["payload"]["fingerprint"] is None


def test_every_warning_the_locker_writes_reads_in_chinese(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    """What `add` says about a file is printed in the pack: each warning made by real files of the
    kinds that have new warnings (a GPS time that does not fit, a 9-byte WAV, a chat-like file of no
    format, an undecidable date order, unparsed lines, a symlink, an e-mail without Date) has a
    Chinese form, not the marked English fallback."""
    from locker.report.labels import Labels

    data = Path(__file__).parent / "data"
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "cut.wav").write_bytes(samples.make_wav(tmp_path / "w.wav").read_bytes()[:9])
    (ev / "undecided.txt").write_text("5/3/25, 14:20 - Anna: hi\n6/3/25, 09:00 - Shop: ok\n", encoding="utf-8")
    (ev / "looks-like.txt").write_text("".join(f"2025.05.{d:02d} 10:{d:02d} Anna > hello {d}\n" for d in range(1, 20)),
                                       encoding="utf-8")
    (ev / "no-date.eml").write_text("From: shop@example.com\nTo: me@example.com\nSubject: refund\n\nNo.\n",
                                    encoding="utf-8")
    (ev / "link.jpg").symlink_to(data / "exif-py-DSCN0021.jpg")
    ran = cli("add", dispute, *sorted(ev.iterdir()), "--json")
    assert ran.code == 0, ran.err
    from locker.chats import unparsed_warning

    warnings = [w for entry in ran.json["added"] for w in entry.get("warnings", [])]
    warnings += [unparsed_warning(1), unparsed_warning(3, "row")]
    for start in ("truncated WAV file", "named by a symbolic link", "GPS time", "the e-mail has no Date",
                  "the dates could be day/month", "looks like a chat export"):
        assert any(w.startswith(start) for w in warnings), (start, warnings)
    zh = Labels("zh")
    untranslated = [w for w in warnings if zh.note(w).startswith("（程序提示")]
    assert untranslated == [], untranslated
