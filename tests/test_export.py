"""``locker export``: the PDF evidence pack, checked as a reader would check it.

With poppler-utils (pdftotext, pdfinfo, pdffonts, pdfdetach) and qpdf, the
tools a clerk or a helper would have: the text layer shows every hash, the
order number, the chat and the invoice's own text; the page count is the one
the index states; every font is embedded; attachments come out byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import samples
from tests.conftest import shared_home

ORDER_ID = "250501123456789"
MARKUP = "退款 <b>&amp; & <br/> <font size=40>大</font> 50%<i>"


def run(*cmd: object) -> str:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    assert proc.returncode == 0, (cmd, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc.stdout


def text_of(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    pages = ["-f", first, "-l", last if last is not None else first] if first is not None else []
    return run("pdftotext", *pages, pdf, "-")


def page_count(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", pdf), re.M).group(1))


def fonts_of(pdf: Path) -> list[tuple[str, str]]:
    """(name, emb) per font line of pdffonts."""
    rows = []
    for line in run("pdffonts", pdf).splitlines()[2:]:
        parts = line.split()
        # name type... encoding emb sub uni object ID: emb is the 5th field from the end
        rows.append((parts[0], parts[-5]))
    return rows


def make_invoice(path: Path, text: str = "INVOICE 7788 发票 own text", pages: int = 2) -> Path:
    """An e-invoice as real ones are: its own font embedded (WenQuanYi), no Helvetica."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from locker.report import fonts

    choice = fonts.find()
    pdfmetrics.registerFont(TTFont("InvoiceFont", str(choice.path), subfontIndex=choice.index))
    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(path), pagesize=A4, initialFontName="InvoiceFont")
    for n in range(1, pages + 1):
        c.setFont("InvoiceFont", 14)
        c.drawString(72, 760, f"{text} p{n}")
        c.showPage()
    c.save()
    return path


@pytest.fixture(scope="module")
def made_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """``case``'s home, made once per module (it takes ~0.7 s): each test gets a copy of it. The
    evidence files stay here, read-only."""
    root = tmp_path_factory.mktemp("export-case")
    with shared_home(root / "home") as cli:
        made = _case(cli, root)
    for path in made["files"].values():
        path.chmod(0o444)
    return root / "home", made


@pytest.fixture
def case(made_case: tuple[Path, dict], home: Path, tmp_path: Path) -> dict:
    """A dispute with one exhibit of every shape, one withdrawn, and markup-looking user text: a copy
    of the home ``made_case`` made (the home holds no path of its own: copied, it is the same home)."""
    template, made = made_case
    shutil.copytree(template, home, symlinks=True)
    return {**made, "tmp": tmp_path}


def _case(cli, tmp_path: Path) -> dict:  # noqa: ANN001
    assert cli("profile", "--name", "张三", "--phone", "13800000000", "--address", "上海市徐汇区示例路1号",
               "--tz", "Asia/Shanghai").code == 0
    ran = cli("new", f"耳机退款 {MARKUP}", "--platform", "xiaohongshu", "--merchant", "优品数码旗舰店",
              "--merchant-address", "深圳市龙岗区", "--order-id", ORDER_ID, "--item", "无线蓝牙耳机 ×1",
              "--amount", "199.00", "--purchased-on", "2025-05-01", "--claim", "退货退款 ¥199.00",
              "--summary", "左耳无声。商家拒绝退款。", "--slug", "earbuds", "--json")
    assert ran.code == 0, ran.err
    ev = tmp_path / "evidence"
    files = {
        "shot": samples.make_png(ev / "Screenshot_20250503-142210.png", 1080, 2340, seed=1),
        "long": samples.make_long_screenshot(ev / "Screenshot_20250503-142500.png", 1080, 6000),
        "photo": samples.make_jpeg_with_exif(ev / "IMG_20250503_150102.jpg", 2000, 1500, seed=2),
        "video": samples.make_numbered_video(ev / "VID_20250503_150530.mp4", seconds=3),
        "chat": samples.make_plain_chat(ev / "chat.txt", [("我", "左耳没有声音，要求退货退款"),
                                                         ("商家", "亲，不支持退款哦"), ("我", MARKUP)]),
        "invoice": make_invoice(ev / "invoice.pdf"),
        "audio": samples.make_wav(ev / "call.wav", 1.0),
        "wrong": samples.make_png(ev / "wrong.png", 300, 200, seed=9),
    }
    for key, path in files.items():
        extra = ["--me", "我"] if key == "chat" else []
        if key == "photo":
            extra = ["--note", MARKUP, "--source", "手机拍摄 <camera>"]
        ran = cli("add", "earbuds", path, *extra, "--json")
        assert ran.code == 0, ran.err
    shown = cli("show", "earbuds", "--json").json
    numbers = {Path(e["original_name"]).stem: e["exhibit"] for e in shown["exhibits"]}
    assert cli("withdraw", "earbuds", numbers["wrong"], "--reason", "拍错了 <x>").code == 0
    assert cli("event", "earbuds", "商家拒绝退款", "--at", "2025-05-03 15:21", "--type", "refusal",
               "--exhibit", numbers["chat"]).code == 0
    assert cli("status", "earbuds", "negotiating").code == 0
    return {"files": files, "exhibits": {e["exhibit"]: e for e in shown["exhibits"]}, "numbers": numbers,
            "tmp": tmp_path}


def export(cli, *args: object) -> dict:  # noqa: ANN001
    ran = cli("export", "earbuds", *args, "--json")
    assert ran.code == 0, ran.err
    doc = ran.json
    doc["stderr"] = ran.err
    return doc


def test_pack_reads_as_a_clerk_would_read_it(cli, case) -> None:  # noqa: ANN001
    doc = export(cli, "-o", case["tmp"] / "pack.pdf")
    pdf = Path(doc["path"])
    text = text_of(pdf)
    numbers, exhibits = case["numbers"], case["exhibits"]
    withdrawn = numbers["wrong"]
    included = [n for n in sorted(exhibits) if n != withdrawn]
    assert doc["exhibits"] == included and doc["lang"] == "zh"

    # every included exhibit's full SHA-256, the index, the order, the chat, the invoice's own text
    for n in included:
        assert exhibits[n]["sha256"] in text, n
    assert "证据目录" in text and ORDER_ID in text
    assert "亲，不支持退款哦" in text and "左耳没有声音，要求退货退款" in text
    assert "INVOICE 7788 发票 own text p1" in text and "INVOICE 7788 发票 own text p2" in text
    assert "序号" in text and "证据名称" in text and "证据来源" in text and "证明目的" in text and "页码" in text

    # the page count is the one the index states, and every page is numbered "第 X 页 / 共 Y 页"
    pages = page_count(pdf)
    assert doc["pages"] == pages
    assert re.search(rf"本证据包共 {pages} 页", text)
    for p in (1, pages // 2, pages):
        assert f"第 {p} 页 / 共 {pages} 页" in text_of(pdf, p)

    # the index's page column is where each exhibit's stamp is
    index_text = run("pdftotext", "-layout", "-f", 3, "-l", 3, pdf, "-")
    assert "证据目录" in index_text
    for n in included:
        first_page = _first_page(text, pdf, n)
        assert f"证据 {n}" in text_of(pdf, first_page)

    # the invoice's own 2 pages are in the pack, stamped, and counted
    inv = numbers["invoice"]
    stamped = [p for p in range(1, pages + 1) if f"证据 {inv} · 原件第" in text_of(pdf, p)]
    assert len(stamped) == 2
    assert "INVOICE 7788 发票 own text p1" in text_of(pdf, stamped[0])
    assert f"证据 {inv} · 原件第 2/2 页" in text_of(pdf, stamped[1])

    # the long screenshot spans several pages, each part labelled
    long_no = numbers["Screenshot_20250503-142500"]
    parts = [p for p in range(1, pages + 1) if re.search(rf"证据 {long_no} · 第 \d+/\d+ 段", text_of(pdf, p))]
    assert len(parts) >= 2
    count = int(re.search(rf"证据 {long_no} · 第 1/(\d+) 段", text).group(1))
    assert count == len(parts) and f"证据 {long_no} · 第 {count}/{count} 段" in text

    # fonts: all embedded subsets, no Helvetica anywhere
    fonts = fonts_of(pdf)
    assert fonts and all(emb == "yes" for _name, emb in fonts), fonts
    assert not any("Helvetica" in name for name, _emb in fonts)
    assert all("+" in name for name, _emb in fonts)  # subsets: ABCDEF+Name

    # the file is a clean PDF, with bookmarks and metadata
    assert "No syntax or stream encoding errors" in run("qpdf", "--check", pdf)
    info = run("pdfinfo", pdf)
    assert "Title:" in info and "证据材料" in info and "Author:          张三" in info
    assert re.search(r"CreationDate:\s+\S", info)
    outline = _outline(pdf)
    assert "证据目录" in outline and "附录" in outline and "时间线" in outline
    assert all(f"证据 {n}" in " ".join(outline) for n in included)

    # video: key frames with time codes, duration, resolution, codecs; audio: how to get the original
    video_page = text_of(pdf, _first_page(text, pdf, numbers["VID_20250503_150530"]))
    assert "视频信息" in video_page and "分辨率 320×240" in video_page and "编码" in video_page
    assert len(re.findall(r"00:00:0\d\.\d{3}", video_page)) == 9
    audio_page = text_of(pdf, _first_page(text, pdf, numbers["call"]))
    assert "获取原件" in audio_page and "objects/" in audio_page

    # user text that looks like markup prints literally
    assert MARKUP in text
    assert "手机拍摄 <camera>" in text

    # the withdrawn exhibit is left out, and the index says so
    assert exhibits[withdrawn]["sha256"] not in text
    assert f"证据 {withdrawn}（wrong.png）已撤回：拍错了 <x>" in text

    # the appendix: manifest, fingerprint and how it is computed, how to check a hash, the honest claim
    manifest = "".join(f"{n} {exhibits[n]['sha256']}\n" for n in included)
    fingerprint = hashlib.sha256(manifest.encode()).hexdigest()
    assert fingerprint in text
    lines = text.splitlines()  # the manifest printed as it is hashed: each "N sha256" line whole, in order
    at = [lines.index(line) for line in manifest.splitlines()]
    assert at == sorted(at) and at[-1] - at[0] == len(at) - 1, at
    assert "sha256sum" in text and "shasum -a 256" in text and "certutil -hashfile" in text
    assert "未被改动" in text and "时间戳" in text

    # recorded: an Export row's custody entry with the file's hash; verify still passes
    log = cli("log", "earbuds", "--json").json
    assert log[-1]["action"] == "export.created"
    assert log[-1]["payload"]["sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest() == doc["sha256"]
    assert log[-1]["payload"]["pages"] == pages and log[-1]["payload"]["exhibits"] == included
    ran = cli("verify", "earbuds", "--json")
    assert ran.code == 0 and ran.json["ok"] is True, ran.out


def _first_page(text: str, pdf: Path, number: int) -> int:
    """The first page of an exhibit as the index's 页码 column states it (from the layout text)."""
    layout = run("pdftotext", "-layout", pdf, "-")
    start = layout.index("证据目录")
    rows = layout[start:layout.index("本证据包共", start)]
    for line in rows.splitlines():
        m = re.match(rf"\s*{number}\s+.*?(\d+)(?:–(\d+))?\s*$", line)
        if m:
            return int(m.group(1))
    raise AssertionError(f"exhibit {number} not in the index:\n{rows}")


def _outline(pdf: Path) -> list[str]:
    from pypdf import PdfReader

    titles: list[str] = []

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(PdfReader(str(pdf)).outline)
    return titles


def test_english_pack(cli, case) -> None:  # noqa: ANN001
    doc = export(cli, "--lang", "en", "-o", case["tmp"] / "en.pdf")
    pdf = Path(doc["path"])
    text = text_of(pdf)
    pages = page_count(pdf)
    assert doc["lang"] == "en"
    assert "Exhibit 1" in text and "Exhibit index" in text and f"Page 1 of {pages}" in text
    assert f"Page {pages} of {pages}" in text_of(pdf, pages)
    assert re.search(r"part 1 of \d+", text)
    assert "证据目录" not in text  # the labels are English; the user's own text stays as written
    assert "亲，不支持退款哦" in text


def test_profile_language_and_default_output(cli, case, home) -> None:  # noqa: ANN001
    assert cli("profile", "--lang", "en").code == 0
    doc = export(cli)
    path = Path(doc["path"])
    assert doc["lang"] == "en" and path.parent == home / "disputes" / "earbuds" / "exports"
    assert re.fullmatch(r"earbuds-en-\d{8}-\d{6}\.pdf", path.name)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]


def test_letter_names_missing_fields(cli, case, tmp_path) -> None:  # noqa: ANN001
    complete = export(cli, "--letter", "-o", tmp_path / "letter.pdf")
    text = text_of(Path(complete["path"]))
    assert "投诉书" in text and "13800000000" in text and "深圳市龙岗区" in text and "此致" in text
    assert "未填写" not in text and "lacks" not in complete["stderr"]
    assert "商家拒绝退款" in text  # the negotiation, from the timeline
    assert cli("profile", "--phone", "", "--address", "").code == 0
    ran = cli("export", "earbuds", "--letter", "-o", tmp_path / "letter2.pdf")
    assert ran.code == 0, ran.err
    assert "complainant's phone" in ran.err and "complainant's address" in ran.err
    text = text_of(tmp_path / "letter2.pdf")
    assert "【未填写：投诉人联系电话】" in text and "【未填写：投诉人地址】" in text


def test_attached_originals_come_out_byte_identical(cli, case, tmp_path) -> None:  # noqa: ANN001
    doc = export(cli, "--attach-originals", "-o", tmp_path / "attached.pdf")
    pdf = Path(doc["path"])
    out = tmp_path / "detached"
    out.mkdir()
    run("pdfdetach", "-saveall", "-o", out, pdf)
    got = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in out.iterdir()}
    exhibits = case["exhibits"]
    for n in doc["exhibits"]:
        assert exhibits[n]["sha256"] in got, (n, got)
        name = got[exhibits[n]["sha256"]]
        assert name == f"exhibit-{n:02d}-{exhibits[n]['original_name']}"
    assert len(got) == len(doc["exhibits"])
    for key in ("photo", "invoice", "audio"):
        original = case["files"][key].read_bytes()
        n = case["numbers"][case["files"][key].stem]
        assert (out / f"exhibit-{n:02d}-{case['files'][key].name}").read_bytes() == original
    assert "No syntax or stream encoding errors" in run("qpdf", "--check", pdf)
    assert page_count(pdf) == doc["pages"]
    assert "已作为附件" in text_of(pdf)


def test_max_size_is_respected_or_fails_clearly(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    for i in range(4):  # noisy photos: large at 200 dpi
        photo = tmp_path / f"IMG_2025050{i}_120000.jpg"
        _noise_jpeg(photo, seed=i)
        assert cli("add", dispute, photo).code == 0
    full = export(cli, "-o", tmp_path / "full.pdf")
    size = Path(full["path"]).stat().st_size
    limit = int(size * 0.5)
    small = export(cli, "--max-size", str(limit), "-o", tmp_path / "small.pdf")
    assert Path(small["path"]).stat().st_size <= limit
    assert small["pages"] == full["pages"]
    assert Path(export(cli, "--max-size", "10MB", "-o", tmp_path / "ten.pdf")["path"]).stat().st_size <= 10_000_000
    ran = cli("export", dispute, "--max-size", "20KB", "-o", tmp_path / "tiny.pdf")
    assert ran.code == 1
    assert "cannot make the pack fit in" in ran.err and "the smallest made was" in ran.err
    assert not (tmp_path / "tiny.pdf").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert cli("export", dispute, "--max-size", "ten").code == 2


def _noise_jpeg(path: Path, seed: int) -> None:
    import random

    from PIL import Image

    rng = random.Random(seed)
    Image.frombytes("RGB", (1600, 1200), rng.randbytes(1600 * 1200 * 3)).save(path, quality=92)


def test_include_a_withdrawn_exhibit_and_exclude_others(cli, case, tmp_path) -> None:  # noqa: ANN001
    numbers, exhibits = case["numbers"], case["exhibits"]
    wrong, photo = numbers["wrong"], numbers["IMG_20250503_150102"]
    doc = export(cli, "--include", f"{photo},{wrong}", "-o", tmp_path / "some.pdf")
    assert doc["exhibits"] == sorted([photo, wrong])
    text = text_of(Path(doc["path"]))
    assert exhibits[wrong]["sha256"] in text and "（已撤回）" in text
    assert exhibits[numbers["invoice"]]["sha256"] not in text
    assert "提交人选择不列入" in text
    doc = export(cli, "--exclude", str(photo), "-o", tmp_path / "less.pdf")
    assert photo not in doc["exhibits"] and wrong not in doc["exhibits"]
    ran = cli("export", "earbuds", "--include", "99")
    assert ran.code == 1 and "has no exhibit 99" in ran.err
    assert cli("export", "earbuds", "--include", "1", "--exclude", "2").code == 2


def test_a_document_with_fonts_it_does_not_embed_is_said_so(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    plain = samples.make_pdf(tmp_path / "receipt.pdf", pages=1, title="Receipt 4455")
    assert cli("add", dispute, plain).code == 0
    doc = export(cli, "-o", tmp_path / "pack.pdf")
    pdf = Path(doc["path"])
    text = text_of(pdf)
    assert "Receipt 4455: page 1 of 1" in text
    assert "该文件未嵌入字体 Helvetica" in text
    # the pack's own fonts are embedded; only the inserted receipt's page refers to Helvetica
    stamped = [p for p in range(1, doc["pages"] + 1) if "原件第" in text_of(pdf, p)]
    for p in range(1, doc["pages"] + 1):
        names = [line.split()[0] for line in run("pdffonts", "-f", p, "-l", p, pdf).splitlines()[2:]]
        assert ("Helvetica" in names) == (p in stamped), (p, names)


def test_a_killed_export_leaves_no_pack_under_the_final_name(cli, case, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from locker import store

    real = store.hash_file

    def interrupted(path: Path) -> tuple[str, int]:
        if not path.name.startswith(".tmp-"):
            return real(path)  # the check of the originals
        assert path.stat().st_size > 0  # the pack was written, not yet renamed
        raise KeyboardInterrupt

    target = tmp_path / "pack.pdf"
    with monkeypatch.context() as patched:
        patched.setattr(store, "hash_file", interrupted)
        ran = cli("export", "earbuds", "-o", target)
    assert ran.code == 130
    assert not target.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    ran = cli("log", "earbuds", "--json")
    assert ran.code == 0, ran.err
    assert ran.json[-1]["action"] != "export.created"


def test_font_errors_say_how_to_install_one(cli, case, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    ran = cli("export", "earbuds", "--font", tmp_path / "missing.ttf")
    assert ran.code == 1 and "--font (or $LOCKER_FONT) cannot be used: no such file" in ran.err
    notfont = tmp_path / "not-a-font.ttf"
    notfont.write_bytes(b"hello")
    ran = cli("export", "earbuds", "--font", notfont)
    assert ran.code == 1 and "not-a-font.ttf" in ran.err

    (tmp_path / "home" / "locker.toml").write_text(
        f'[profile]\nname = "张三"\nfont = "{notfont}"\n', encoding="utf-8")
    ran = cli("export", "earbuds")
    assert ran.code == 1 and "the profile's font cannot be used" in ran.err
    (tmp_path / "home" / "locker.toml").write_text('[profile]\nname = "张三"\n', encoding="utf-8")

    from locker.report import fonts

    monkeypatch.setattr(fonts, "candidates", lambda: [])
    ran = cli("export", "earbuds")
    assert ran.code == 1
    assert "apt-get install fonts-wqy-microhei" in ran.err and "--font" in ran.err
    assert ran.err.count("\n") == 1


def test_font_named_with_a_face_index(cli, case, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from locker.report import fonts

    choice = fonts.find()
    doc = export(cli, "--font", f"{choice.path}#{choice.index}", "-o", tmp_path / "f.pdf")
    assert all(emb == "yes" for _n, emb in fonts_of(Path(doc["path"])))
    monkeypatch.setenv("LOCKER_FONT", f"{choice.path}#{choice.index}")
    doc = export(cli, "-o", tmp_path / "g.pdf")
    assert all(emb == "yes" for _n, emb in fonts_of(Path(doc["path"])))
    monkeypatch.setenv("LOCKER_FONT", str(tmp_path / "nothing.ttf"))
    assert cli("export", "earbuds", "-o", tmp_path / "h.pdf").code == 1


def test_every_label_exists_in_both_languages() -> None:
    from locker.report.labels import TEXT

    for key, (zh, en) in TEXT.items():
        assert zh and en, key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


def test_user_text_escaping() -> None:
    from locker.report.markup import Text

    text = Text(lambda cp: cp < 0x1F000 and cp != 0x200D)
    assert text("<b>a & b</b>\nline") == "&lt;b&gt;a &amp; b&lt;/b&gt;<br/>line"
    assert text("笑😀\u200d") == "笑(grinning face)"
    assert text("🎧👍🏽🇨🇳\U000f0000") == "(headphone)(thumbs up sign)(flag CN)[U+F0000]"
    assert text("a\x1bb") == "a\\x1bb"
    # characters once found drawable are taken as they are; one the font lacks is still replaced after them
    assert text.plain("笑 ok") == "笑 ok" and text.plain("笑 ok😀") == "笑 ok(grinning face)"


def test_the_json_document(cli, case, tmp_path) -> None:  # noqa: ANN001
    ran = cli("export", "earbuds", "-o", tmp_path / "j.pdf", "--json")
    assert ran.code == 0
    doc = json.loads(ran.out)
    assert set(doc) == {"path", "sha256", "pages", "exhibits", "lang", "timestamp"}
    assert doc["timestamp"] is None  # only export --stamp has one (tests/test_stamp.py)
    assert doc["sha256"] == hashlib.sha256(Path(doc["path"]).read_bytes()).hexdigest()


def _images(pdf: Path) -> list[dict]:
    rows = []
    for line in run("pdfimages", "-list", pdf).splitlines()[2:]:
        f = line.split()
        rows.append({"page": int(f[0]), "width": int(f[3]), "height": int(f[4]), "enc": f[8],
                     "x_ppi": int(f[12]), "y_ppi": int(f[13])})
    return rows


def test_pictures_at_about_200_dpi_never_upscaled_jpeg_passed_through(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    big = samples.make_jpeg_with_exif(tmp_path / "IMG_20250503_150102.jpg", 3000, 2000, seed=1)
    small = samples.make_png(tmp_path / "small.png", 300, 200, seed=2)
    suitable = samples.make_jpeg(tmp_path / "wechat.jpg", 800, 600, seed=3)
    turned = samples.make_oriented_image(tmp_path / "turned.jpg", 6, 1200, 900)
    for path in (big, small, suitable, turned):
        assert cli("add", dispute, path).code == 0
    doc = export(cli, "-o", tmp_path / "pack.pdf")
    pdf = Path(doc["path"])
    pictures = {row["page"]: row for row in _images(pdf)}
    assert len(pictures) == 4 and all(r["enc"] == "jpeg" for r in pictures.values())
    rows = sorted(pictures.values(), key=lambda r: r["page"])
    # the 3000×2000 photo: made for its placed size, about 200 dpi
    assert 190 <= rows[0]["x_ppi"] <= 205 and rows[0]["width"] < 3000
    # the 300×200 picture: not enlarged
    assert (rows[1]["width"], rows[1]["height"]) == (300, 200)
    # an upright JPEG small enough already is embedded as it is, byte for byte
    assert (rows[2]["width"], rows[2]["height"]) == (800, 600)
    assert suitable.read_bytes() in pdf.read_bytes()
    # stored 900×1200 with EXIF orientation 6: shown upright, 1200 wide and 900 high
    assert rows[3]["width"] > rows[3]["height"]
    # the renditions are cached beside the other derived files and embedded byte-identical
    cached = list((tmp_path / "home" / "disputes" / dispute / "derived").rglob("pack-v*/img-*.jpg"))
    assert cached and all(p.read_bytes() in pdf.read_bytes() for p in cached)


def test_a_rendition_turned_otherwise_than_planned_is_laid_out_again() -> None:
    from locker.report.builder import Plan
    from locker.report.images import Made
    from locker.report.pack import _fix_aspects
    from locker.report.snapshot import ExhibitInfo

    e = ExhibitInfo(number=1, sha256="0" * 64, size=1, mime="image/png", kind="photo", original_name="a.png",
                    original=Path("a.png"), object_ref="objects/00/0")
    plan = Plan(e, "image", source=Path("a.png"), px=(1200, 900))
    assert not _fix_aspects([plan], {"1:img": Made("1:img", Path("x.jpg"), 1200, 900)})
    assert _fix_aspects([plan], {"1:img": Made("1:img", Path("x.jpg"), 600, 800)})
    assert plan.px == (900, 1200)
