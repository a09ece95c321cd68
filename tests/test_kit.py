"""Issue 16: ``locker kit`` — evidence cards a phone form takes, the description cut to its limit, the
choice of exhibits when the form takes fewer, kit.json against its schema and the custody log, the
pack's appendix listing the kit, ``verify`` catching a changed card, the caption read back by OCR."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest

from locker.kit import forms as formlib
from locker.kit import text as textlib
from tests import samples
from tests.test_contract import check

SLUG = "earbuds"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _dispute(cli, src: Path, *, long: bool = True, video: bool = True) -> dict[str, int]:  # noqa: ANN001
    """A dispute with a photo, a screenshot, (a long screenshot), a chat, a PDF, (a video); exhibit numbers by role."""
    ran = cli("new", "小红书无线耳机退款", "--platform", "xiaohongshu", "--merchant", "优品数码旗舰店",
              "--order-id", "250501123456789", "--amount", "199.00", "--purchased-on", "2025-05-01",
              "--item", "无线蓝牙耳机 X1", "--claim", "退货退款 199.00 元", "--slug", SLUG)
    assert ran.code == 0, ran.err
    src.mkdir(exist_ok=True)
    files = [samples.make_jpeg_with_exif(src / "IMG_0001.jpg", 1600, 1200),
             samples.make_png(src / "Screenshot_20250503-142210.png")]
    if long:
        files.append(samples.make_long_screenshot(src / "Screenshot_20250503-150000.png"))
    files.append(samples.make_plain_chat(src / "chat.txt"))
    files.append(samples.make_pdf(src / "invoice.pdf"))
    if video:
        files.append(samples.make_mp4(src / "unboxing.mp4"))
    ran = cli("add", SLUG, *files, "--json")
    assert ran.code == 0, ran.err
    numbers = {Path(a["original_name"]).stem: a["exhibit"] for a in ran.json["added"]}
    assert cli("event", SLUG, "收到货，发现左耳外壳有划痕", "--at", "2025-05-03 14:00").code == 0
    assert cli("event", SLUG, "商家拒绝退货退款，称划痕为人为", "--at", "2025-05-05 10:00", "--type", "refusal").code == 0
    return numbers


def _kit(cli, *args: object) -> dict:  # noqa: ANN001
    ran = cli("kit", SLUG, *args, "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "kit")
    return ran.json


def _band_top(img) -> int:  # noqa: ANN001
    """The row where the caption band starts: its red rule, looked for from the bottom up."""
    rgb = img.convert("RGB")
    for y in range(rgb.height - 1, 0, -1):
        r, g, b = rgb.getpixel((2, y))
        if r > 150 and g < 90 and b < 90:
            while y > 0 and rgb.getpixel((2, y - 1))[0] > 150 and rgb.getpixel((2, y - 1))[1] < 90:
                y -= 1
            return y
    raise AssertionError("no caption band")


# --------------------------------------------------------------------------- sizes, files, manifest


@pytest.mark.parametrize("form", ["generic-9", "generic-3", "taobao"])
def test_cards_fit_the_form_and_the_manifest_says_what_is_there(cli, home: Path, tmp_path: Path, form: str) -> None:  # noqa: ANN001
    from PIL import Image

    _dispute(cli, tmp_path / "in", video=form == "generic-9")
    doc = _kit(cli, "--for", form)
    profile = formlib.shipped()[form]
    folder, zip_path = Path(doc["folder"]), Path(doc["zip"])
    assert folder.is_dir() and zip_path.is_file() and zip_path.name == folder.name + ".zip"
    assert len(doc["cards"]) <= profile.max_images.value
    for card in doc["cards"]:
        path = folder / card["file"]
        data = path.read_bytes()
        assert data[:3] == b"\xff\xd8\xff"  # a JPEG
        assert len(data) == card["size"] <= profile.max_bytes.value
        with Image.open(path) as img:
            assert img.format == "JPEG"
            assert img.size == (card["width"], card["height"])
            assert img.width <= profile.max_width.value and img.height <= profile.max_height.value
        assert _sha(path) == card["sha256"]
        assert not card["over_limit"]
    manifest = json.loads((folder / "kit.json").read_text(encoding="utf-8"))
    check(manifest, "kit-manifest")
    assert _sha(folder / "kit.json") == doc["manifest_sha256"]
    assert manifest["cards"] == doc["cards"]
    assert manifest["form"]["id"] == form
    assert manifest["pack"] is None and doc["pack"] is None  # these forms take no PDF
    # Nothing in forms.toml was checked on a platform: every platform value says it is an assumption.
    if profile.kind == "platform":
        assert set(manifest["form"]["assumed"]) == set(formlib.LIMITS)
    else:
        assert manifest["form"]["assumed"] == []
    with zipfile.ZipFile(zip_path) as z:
        names = sorted(z.namelist())
        assert names == sorted(f"{folder.name}/{p.name}" for p in folder.iterdir())
        assert all(z.read(f"{folder.name}/{c['file']}") == (folder / c["file"]).read_bytes() for c in doc["cards"])
    assert _sha(zip_path) == doc["zip_sha256"]
    # Recorded: the custody log's kit.created entry holds the hashes of the manifest, the ZIP and each card.
    log = cli("log", SLUG, "--json").json
    entry = [e for e in log if e["action"] == "kit.created"][-1]["payload"]
    assert entry["manifest_sha256"] == doc["manifest_sha256"] and entry["zip_sha256"] == doc["zip_sha256"]
    assert [c["sha256"] for c in entry["cards"]] == [c["sha256"] for c in doc["cards"]]
    assert cli("verify", SLUG).code == 0


def test_a_tight_byte_limit_is_met_by_lower_quality(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _dispute(cli, tmp_path / "in", long=False, video=False)
    home.mkdir(exist_ok=True)
    (home / "locker.toml").write_text(
        '[forms.tiny]\nname = "很小的表单"\n'
        'max_images = { value = 4, checked = 2026-01-15, source = "app, 售后申请 page" }\n'
        'max_bytes = { value = 60000, assumed = true }\n'
        'max_width = { value = 720, assumed = true }\n'
        'max_height = { value = 1280, assumed = true }\n'
        'types = { value = ["image/jpeg"], assumed = true }\n'
        'text_limit = { value = 80, assumed = true }\n', encoding="utf-8")
    doc = _kit(cli, "--for", "tiny")
    assert doc["form"]["origin"] == "home"
    assert doc["form"]["limits"]["max_images"] == {"value": 4, "standing": "checked", "checked_on": "2026-01-15",
                                                  "source": "app, 售后申请 page"}
    assert "max_images" not in doc["form"]["assumed"] and "max_bytes" in doc["form"]["assumed"]
    assert len(doc["cards"]) == 4
    for card in doc["cards"]:
        assert card["size"] <= 60000 and card["width"] <= 720 and card["height"] <= 1280
    assert any(c["quality"] < 90 or c["scaled"] < 1 for c in doc["cards"])
    assert doc["description"]["chars"] <= 80
    # `locker profile` rewrites locker.toml: the user's own form stays in it
    assert cli("profile", "--name", "张三").code == 0
    assert "tiny" in {f["id"] for f in cli("kit", "--forms", "--json").json["forms"]}
    assert 'name = "张三"' in (home / "locker.toml").read_text(encoding="utf-8")


def test_forms_list_says_which_values_are_assumptions(cli) -> None:  # noqa: ANN001
    ran = cli("kit", "--forms", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "kit-forms")
    found = {f["id"]: f for f in ran.json["forms"]}
    assert {"generic-9", "generic-3", "12315", "taobao", "jd", "pinduoduo", "douyin", "xiaohongshu"} <= set(found)
    for f in found.values():
        for value in f["limits"].values():
            assert value["standing"] in ("checked", "assumed", "defined")
            if value["standing"] == "checked":
                assert value.get("checked_on") and value.get("source")


# --------------------------------------------------------------------------- long screenshots


def test_a_long_screenshot_is_split_by_the_slice_plan_never_shrunk(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    numbers = _dispute(cli, tmp_path / "in", video=False)
    long_n = numbers["Screenshot_20250503-150000"]
    doc = _kit(cli, "--for", "generic-9", "--exhibits", str(long_n))
    manifest = json.loads((Path(doc["folder"]) / "kit.json").read_text(encoding="utf-8"))
    parts = [c for c in manifest["cards"] if c["exhibit"] == long_n]
    plans = [json.loads(p.read_text()) for p in (home / "disputes" / SLUG / "derived").rglob("manifest.json")]
    plan = next(m for m in plans if m.get("exhibit_sha256") == parts[0]["exhibit_sha256"] and m.get("slices"))
    assert len(parts) == len(plan["slices"]) > 1
    assert [c["part"] for c in parts] == list(range(1, len(parts) + 1))
    assert all(c["parts"] == len(parts) for c in parts)
    # full width: the 1080-px screenshot is shown at 1080 px on every card
    assert all(c["width"] == 1080 for c in parts)


# --------------------------------------------------------------------------- selection


def test_more_exhibits_than_the_form_takes_are_chosen_by_purpose_kind_and_time(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    numbers = _dispute(cli, tmp_path / "in", long=False, video=True)
    photo, shot, chat, pdf, video = (numbers[k] for k in ("IMG_0001", "Screenshot_20250503-142210", "chat", "invoice",
                                                         "unboxing"))
    assert cli("edit", SLUG, str(pdf), "--purpose", "证明购买事实与金额").code == 0
    assert cli("edit", SLUG, str(chat), "--purpose", "证明商家拒绝退款").code == 0
    assert cli("edit", SLUG, str(video), "--purpose", "证明商家拒绝退款").code == 0  # the same purpose as the chat
    # generic-3: the overview and two exhibits. One per purpose first (the chat before the video: its kind
    # comes first), so the invoice and the chat; the photo, screenshot and video are left out and named.
    doc = _kit(cli, "--for", "generic-3")
    assert doc["exhibits"] == sorted([pdf, chat])
    assert {d["exhibit"]: d["reason"] for d in doc["left_out"]} == {photo: "no_room", shot: "no_room",
                                                                   video: "no_room"}
    assert [c["role"] for c in doc["cards"]] == ["overview", "exhibit", "exhibit"]
    ran = cli("kit", SLUG, "--for", "generic-3")
    assert ran.code == 0, ran.err
    assert f"not in the kit: exhibit {photo} (IMG_0001.jpg) — the form has no room left for it" in ran.out
    # --exhibits overrides the choice; a withdrawn exhibit is never chosen by itself
    doc = _kit(cli, "--for", "generic-3", "--exhibits", f"{photo},{shot}")
    assert doc["exhibits"] == [photo, shot]
    assert {d["reason"] for d in doc["left_out"]} == {"not_asked"}
    assert cli("withdraw", SLUG, str(pdf), "--reason", "重复").code == 0
    doc = _kit(cli, "--for", "generic-3")
    assert {"exhibit": pdf, "reason": "withdrawn", "name": "invoice.pdf"} in doc["left_out"]
    assert pdf not in doc["exhibits"]
    ran = cli("kit", SLUG, "--for", "generic-3", "--exhibits", "1-4")
    assert ran.code == 2 and "the form generic-3 takes 2" in ran.err
    ran = cli("kit", SLUG, "--exhibits", "99")
    assert ran.code != 0 and "has no exhibit 99" in ran.err
    ran = cli("kit", SLUG, "--for", "nosuch")
    assert ran.code == 2 and "no upload form named 'nosuch'" in ran.err


def test_the_ranking_itself() -> None:
    from locker.kit.select import Candidate, choose

    c = [Candidate(1, "photo", None, None, 1, 10.0), Candidate(2, "video", "拒绝退款", None, 1, 5.0),
         Candidate(3, "screenshot", "拒绝退款", None, 3, 1.0), Candidate(4, "chat", "质量问题", None, 1, 2.0),
         Candidate(5, "screenshot", None, None, 1, 0.0)]
    got = choose(c, 4)
    # one per purpose (3 before 2: screenshots first; 4) — 3 needs 3 cards, 4 one: full.
    assert got.numbers == (3, 4)
    assert got.left_out == ((1, "no_room"), (2, "no_room"), (5, "no_room"))
    assert choose(c, 3).numbers == (3,)  # exhibit 3's three slices fill the form
    assert choose(c, 2).numbers == (2, 4)  # 3 does not fit; smaller ones after it still do


# --------------------------------------------------------------------------- the description


def test_cut_keeps_whole_sentences_within_the_limit() -> None:
    text = "第一句话。第二句话很长很长！Third sentence here. 第四句？"
    for limit in range(1, len(text) + 3):
        out = textlib.cut(text, limit)
        assert len(out) <= limit
        if len(text) <= limit:
            assert out == text
        elif out.endswith("…"):
            assert limit < len("第一句话。")  # only when the first sentence alone is too long
        else:
            assert text.startswith(out) and out[-1] in "。！？.?"
    assert textlib.cut(text, 12) == "第一句话。"
    assert textlib.cut(text, 13) == "第一句话。"
    assert textlib.cut(text, 14) == "第一句话。第二句话很长很长！"


def test_the_description_is_cut_at_a_sentence_boundary_and_kept_whole_beside(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _dispute(cli, tmp_path / "in", long=False, video=False)
    for day in range(6, 20):
        assert cli("event", SLUG, f"第{day}天再次联系商家，商家仍未答复退款申请", "--at", f"2025-05-{day:02d} 09:00").code == 0
    doc = _kit(cli, "--for", "taobao")  # 200 characters
    folder = Path(doc["folder"])
    cut = (folder / "description.txt").read_text(encoding="utf-8").rstrip("\n")
    full = (folder / "description-full.txt").read_text(encoding="utf-8").rstrip("\n")
    d = doc["description"]
    assert d["limit"] == 200 and d["cut"] and len(cut) == d["chars"] <= 200 < len(full) == d["full_chars"]
    assert full.startswith(cut) and cut[-1] == "。"
    # what is asked for comes before the timeline: it survives the cut
    assert "订单号 250501123456789" in cut and "诉求：退货退款 199.00 元。" in cut
    assert "第19天" in full and "第19天" not in cut
    en = _kit(cli, "--for", "taobao", "--lang", "en")
    text = (Path(en["folder"]) / "description.txt").read_text(encoding="utf-8").rstrip("\n")
    assert len(text) <= 200 and text.endswith(".") and "What I ask for: 退货退款 199.00 元." in text


# --------------------------------------------------------------------------- honest and checkable


def test_verify_finds_a_changed_card_manifest_or_record(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _dispute(cli, tmp_path / "in", long=False, video=False)
    doc = _kit(cli, "--for", "generic-3")
    assert cli("verify", SLUG).code == 0
    folder = Path(doc["folder"])
    card = folder / doc["cards"][1]["file"]
    original = card.read_bytes()
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    card.write_bytes(bytes(flipped))
    ran = cli("verify", SLUG, "--json")
    assert ran.code == 1
    problems = [p["problem"] for d in ran.json["disputes"] for p in d["problems"]]
    assert problems == ["kit_file_changed"]
    card.write_bytes(original)
    assert cli("verify", SLUG).code == 0
    db = home / "disputes" / SLUG / "dispute.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("UPDATE kit SET manifest = replace(manifest, '\"lang\": \"zh\"', '\"lang\": \"en\"')")
    ran = cli("verify", SLUG, "--json")
    assert ran.code == 1
    assert "kit_manifest_changed" in [p["problem"] for d in ran.json["disputes"] for p in d["problems"]]
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM kit")
    ran = cli("verify", SLUG, "--json")
    assert "kit_row_missing" in [p["problem"] for d in ran.json["disputes"] for p in d["problems"]]


def test_the_12315_kit_carries_the_recorded_pack_among_its_attachments(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _dispute(cli, tmp_path / "in", long=False, video=False)
    doc = _kit(cli, "--for", "12315")
    profile = formlib.shipped()["12315"]
    pack = doc["pack"]
    folder = Path(doc["folder"])
    copy = folder / pack["file"]
    # The copy in the kit is the pack that export recorded, byte for byte.
    log = cli("log", SLUG, "--json").json
    assert [e["action"] for e in log[-2:]] == ["export.created", "kit.created"]
    exported = log[-2]["payload"]
    assert _sha(copy) == pack["sha256"] == exported["sha256"] == _sha(Path(exported["path"]))
    assert pack["exported_to"] == exported["path"] and pack["size"] == copy.stat().st_size
    assert log[-1]["payload"]["pack"] == {"file": pack["file"], "sha256": pack["sha256"]}
    # It counts as one of the form's attachments and fits the form's byte limit.
    assert len(doc["cards"]) + 1 <= profile.max_images.value
    assert pack["size"] <= profile.max_bytes.value and not pack["over_limit"]
    text = subprocess.run(["pdftotext", copy, "-"], capture_output=True, text=True, check=True).stdout
    for card in doc["cards"]:
        assert card["exhibit_sha256"] in text.replace("\n", "")
    manifest = json.loads((folder / "kit.json").read_text(encoding="utf-8"))
    check(manifest, "kit-manifest")
    assert manifest["pack"] == pack
    with zipfile.ZipFile(doc["zip"]) as z:
        assert z.read(f"{folder.name}/{pack['file']}") == copy.read_bytes()
    # verify re-hashes the copy: one flipped byte is found.
    assert cli("verify", SLUG).code == 0
    flipped = bytearray(copy.read_bytes())
    flipped[len(flipped) // 2] ^= 0x01
    copy.write_bytes(bytes(flipped))
    ran = cli("verify", SLUG, "--json")
    assert ran.code == 1
    found = [p for d in ran.json["disputes"] for p in d["problems"]]
    assert [p["problem"] for p in found] == ["kit_file_changed"] and pack["file"] in found[0]["detail"]


def test_a_moved_kit_is_a_warning_not_tampering(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _dispute(cli, tmp_path / "in", long=False, video=False)
    doc = _kit(cli, "--for", "generic-3", "-o", tmp_path / "upload")
    assert doc["folder"] == str(tmp_path / "upload") and (tmp_path / "upload.zip").is_file()
    os.rename(tmp_path / "upload", tmp_path / "elsewhere")
    ran = cli("verify", SLUG, "--json")
    assert ran.code == 0
    assert ran.json["ok"] is True  # a warning: the kit is the user's copy, not evidence
    assert [p["problem"] for d in ran.json["disputes"] for p in d["problems"]] == ["kit_moved"]
    ran = cli("kit", SLUG, "-o", tmp_path / "elsewhere")
    assert ran.code == 2 and "not an empty folder" in ran.err


def test_the_pack_appendix_lists_the_kit_with_its_card_hashes(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _dispute(cli, tmp_path / "in", long=False, video=False)
    doc = _kit(cli, "--for", "generic-3")
    ran = cli("export", SLUG, "-o", tmp_path / "pack.pdf", "--lang", "en")
    assert ran.code == 0, ran.err
    text = subprocess.run(["pdftotext", tmp_path / "pack.pdf", "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = "".join(text.split())
    assert "Upload kits (locker kit)" in text
    for card in doc["cards"]:
        assert card["sha256"] in flat and card["file"] in flat


# --------------------------------------------------------------------------- legibility (real OCR)


@pytest.mark.slow
def test_the_caption_band_reads_back_by_ocr(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    """The caption of a card is legible: the OCR engine of the ocr extra reads back the exhibit number and
    the 16 hex digits of the SHA-256 from the band alone, in both languages; the cards go to docs/ for the
    README (two of them, made here)."""
    from PIL import Image

    from locker.ocr import engine

    engine.require()  # the ocr extra is part of the test environment (scripts/setup.sh)
    numbers = _dispute(cli, tmp_path / "in", long=True, video=False)
    zh = _kit(cli, "--for", "generic-9", "--lang", "zh")
    en = _kit(cli, "--for", "generic-9", "--lang", "en")
    checked = 0
    for doc, word in ((zh, "证据"), (en, "Exhibit")):
        for card in doc["cards"]:
            if card["exhibit"] not in (numbers["IMG_0001"], numbers["chat"]) or card["part"] not in (None, 1):
                continue
            with Image.open(Path(doc["folder"]) / card["file"]) as img:
                band = img.crop((0, _band_top(img), img.width, img.height))
            read = "".join(engine.read(band).text.split())
            assert f"{word}{card['exhibit']}" in read, read
            assert card["exhibit_sha256"][:16] in read, read
            assert SLUG in read, read
            checked += 1
    assert checked == 4
    docs = Path(__file__).resolve().parents[1] / "docs" / "images"
    if os.environ.get("LOCKER_WRITE_DOCS"):
        docs.mkdir(parents=True, exist_ok=True)
        for doc, name in ((zh, "kit-card-photo.jpg"), (zh, "kit-card-long-part1.jpg")):
            want = "IMG_0001" if "photo" in name else "Screenshot_20250503-150000"
            card = next(c for c in doc["cards"] if c["exhibit"] == numbers[want] and c["part"] in (None, 1))
            with Image.open(Path(doc["folder"]) / card["file"]) as img:
                img.resize((540, round(img.height * 540 / img.width))).save(docs / name, quality=85)
