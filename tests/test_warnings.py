"""Warnings stored with an exhibit speak the reader's language (issue 11, the last gap).

What ``add`` notices about a file (a damaged header, an assumed date order, why a file could not be
read as a chat) is stored as a code with parameters and put into words when shown: ``add`` and
``show`` in the run's language, the pack in the pack's language; ``--json`` prints the same stable
code and the English text whatever the language. Rows stored as plain English by older versions
still display, translated when their sentence is one the locker knows. All through the real CLI.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from locker import warncodes
from tests import samples

TRUNCATED_ZH = "图片被截断或已损坏"
ASSUMED_ZH = "日期可读作日/月或月/日，导出文件无法判断：推定按日在前（dmy）读取"
ASSUMED_EN = "the dates could be day/month or month/day and nothing in the export tells which"
BINARY_ZH = "未能按聊天记录读取：是二进制数据，不是文本（含有 NUL 字节）"
BINARY_EN = "could not read it as a chat: binary data, not text (it holds NUL bytes)"


def _files(tmp_path: Path) -> list[Path]:
    """A truncated photo, a WhatsApp chat whose dates could be either order, a "chat" of binary bytes."""
    photo = samples.make_truncated(samples.make_jpeg(tmp_path / "src.jpg"), tmp_path / "photo.jpg", keep=0.01)
    chat = tmp_path / "WhatsApp Chat with Shop.txt"
    chat.write_text("5/3/25, 14:20 - Anna: the earbuds are broken\n6/3/25, 09:00 - Shop: send a photo\n",
                    encoding="utf-8")
    binary = tmp_path / "chat.txt"
    binary.write_bytes(b"hello\x00world, not a chat\n")
    return [photo, chat, binary]


def _add(cli, dispute: str, tmp_path: Path, *lang: str):  # noqa: ANN001, ANN202
    photo, chat, binary = _files(tmp_path)
    first = cli("add", dispute, photo, chat, *lang)
    assert first.code == 0, first.err
    second = cli("add", dispute, binary, "--kind", "chat", *lang)
    assert second.code == 0, second.err
    return first.err + second.err


def test_add_and_show_say_the_warnings_in_chinese(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    said = _add(cli, dispute, tmp_path, "--lang", "zh")
    assert f"证据 1（photo.jpg）：{TRUNCATED_ZH}" in said
    assert f"证据 2（WhatsApp Chat with Shop.txt）：{ASSUMED_ZH}" in said
    assert "（locker reread earbuds 2 --date-order mdy）" in said  # the exact command, inside the Chinese
    assert f"证据 3（chat.txt）：{BINARY_ZH}" in said
    assert "could not" not in said and "the dates could" not in said
    shown = cli("show", dispute, "3", "--lang", "zh").out
    assert "警告" in shown and BINARY_ZH in shown and "could not read" not in shown
    assert ASSUMED_ZH in cli("show", dispute, "2", "--lang", "zh").out


def test_add_and_show_say_the_warnings_in_english(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    said = _add(cli, dispute, tmp_path, "--lang", "en")
    assert "exhibit 1 (photo.jpg): truncated or damaged image" in said
    assert f"exhibit 2 (WhatsApp Chat with Shop.txt): {ASSUMED_EN}" in said
    assert f"exhibit 3 (chat.txt): {BINARY_EN}" in said
    assert BINARY_EN in cli("show", dispute, "3", "--lang", "en").out


def test_json_keeps_a_stable_code_and_the_english_text(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    photo, chat, binary = _files(tmp_path)
    added = cli("add", dispute, photo, chat, "--lang", "zh", "--json")
    assert added.code == 0, added.err
    by_number = {a["exhibit"]: a for a in added.json["added"]}
    assert [c["code"] for c in by_number[1]["warning_codes"]] == ["image.header_unreadable"]
    assumed = by_number[2]["warning_codes"][0]
    assert assumed["code"] == "chat.dates_assumed_dmy"
    assert assumed["params"] == {"command": f"locker reread {dispute} 2 --date-order mdy"}
    assert by_number[2]["warnings"] == [assumed["text"]] and assumed["text"].startswith(ASSUMED_EN)
    cli("add", dispute, binary, "--kind", "chat")
    docs = {lang: cli("show", dispute, "--json", "--lang", lang).out for lang in ("zh", "en")}
    assert docs["zh"] == docs["en"]  # --json never depends on the language
    exhibits = json.loads(docs["zh"])["exhibits"]
    assert exhibits[2]["warning_codes"] == [{
        "code": "chat.unreadable", "text": BINARY_EN,
        "params": {"reason": {"code": "chat.binary", "params": {}, "text": "binary data, not text (it holds NUL bytes)"}},
    }]
    assert exhibits[2]["warnings"] == [BINARY_EN]
    one = cli("show", dispute, "2", "--json", "--lang", "zh").json["exhibit"]
    assert one["warning_codes"][0]["code"] == "chat.dates_assumed_dmy"


def test_the_warnings_column_holds_codes_with_parameters(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    _add(cli, dispute, tmp_path, "--lang", "zh")
    with sqlite3.connect(home / "disputes" / dispute / "dispute.sqlite") as con:
        rows = dict(con.execute("SELECT number, warnings FROM exhibit"))
    stored = json.loads(rows[2])
    assert stored == [{"code": "chat.dates_assumed_dmy", "params": {"command": f"locker reread {dispute} 2 --date-order mdy"},
                       "text": stored[0]["text"]}]
    assert all(not any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in rows.values())  # never the run's language


def _store_plain(home: Path, slug: str, number: int, warnings: list[str]) -> None:
    """The warnings column as versions before codes wrote it: plain English strings."""
    with sqlite3.connect(home / "disputes" / slug / "dispute.sqlite") as con:
        con.execute("UPDATE exhibit SET warnings = ? WHERE number = ?", (json.dumps(warnings), number))


OLD_ROWS = [  # exactly as the previous version stored them
    "truncated or damaged image (header unreadable: cannot identify image file)",
    "could not read it as a chat: no line reads as a chat message (2025-05-05 09:12:30 Name：text)",
    "3 lines could not be read as chat messages and were kept as unparsed text",
    "name says JPEG (.jpg) but content is application/octet-stream",
    "a sentence no template knows",
]


def test_old_rows_in_plain_english_still_display_translated(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    photo = samples.make_jpeg(tmp_path / "photo.jpg")
    assert cli("add", dispute, photo).code == 0
    _store_plain(home, dispute, 1, OLD_ROWS)
    zh = cli("show", dispute, "1", "--lang", "zh")
    assert zh.code == 0, zh.err
    for expected in ("图片被截断或已损坏（文件头无法读取：cannot identify image file）",
                     "未能按聊天记录读取：没有一行能读取为聊天消息（格式如 2025-05-05 09:12:30 姓名：内容）",
                     "有 3 行无法读取为聊天消息，已作为未解析文本保留",
                     "文件扩展名（.jpg）表明是 JPEG，但内容是 application/octet-stream",
                     "a sentence no template knows"):
        assert expected in zh.out
    en = cli("show", dispute, "1", "--lang", "en").out
    assert all(text in en for text in OLD_ROWS)
    codes = cli("show", dispute, "1", "--json").json["exhibit"]["warning_codes"]
    assert [c["code"] for c in codes] == ["image.header_unreadable", "chat.unreadable", "chat.unparsed",
                                          "file.name_mismatch", None]
    assert [c["text"] for c in codes] == OLD_ROWS
    assert codes[3]["params"] == {"category": "JPEG", "ext": "jpg", "mime": "application/octet-stream"}
    assert cli("verify", dispute).code == 0  # the warnings are no part of what the custody chain holds


def _pack_text(path: Path) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() or "" for page in PdfReader(path).pages).replace("\n", "")


def test_the_pack_prints_the_warnings_in_its_own_language(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    _add(cli, dispute, tmp_path, "--lang", "en")
    _store_plain(home, dispute, 1, ["truncated or damaged image", "a sentence no template knows"])  # an old row
    zh, en = tmp_path / "zh.pdf", tmp_path / "en.pdf"
    # The run speaks English and the pack Chinese, then the other way round: the pack's language wins.
    assert cli("export", dispute, "--lang", "zh", "-o", zh).code == 0
    assert cli("--lang", "zh", "export", dispute, "--lang", "en", "-o", en).code == 0
    zh_text, en_text = _pack_text(zh), _pack_text(en)
    assert BINARY_ZH in zh_text and ASSUMED_ZH in zh_text and TRUNCATED_ZH in zh_text
    assert "（程序提示，英文原文）a sentence no template knows" in zh_text  # unknown: marked as the locker's English
    assert "could not read it as a chat" not in zh_text
    assert BINARY_EN in en_text and "truncated or damaged image" in en_text
    assert BINARY_ZH not in en_text


def test_reread_replaces_the_chat_warnings_and_says_them_in_chinese(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    _add(cli, dispute, tmp_path, "--lang", "zh")
    ran = cli("reread", dispute, "2", "--date-order", "mdy", "--lang", "zh")
    assert ran.code == 0, ran.err
    assert "日期可读作" not in ran.err
    codes = cli("show", dispute, "2", "--json").json["exhibit"]["warning_codes"]
    assert codes == []  # the assumption is gone once the order is given
    again = cli("reread", dispute, "2", "--lang", "zh", "--date-order", "dmy", "--json")
    assert again.code == 0 and again.json["warning_codes"] == []


def test_a_chat_reading_error_is_said_in_chinese(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    _add(cli, dispute, tmp_path)
    zh = cli("reread", dispute, "3", "--lang", "zh")
    assert zh.code == 1
    assert "是二进制数据，不是文本（含有 NUL 字节）" in zh.err and "binary data" not in zh.err
    en = cli("reread", dispute, "3", "--lang", "en")
    assert "binary data, not text (it holds NUL bytes)" in en.err
    doc = cli("reread", dispute, "3", "--json", "--lang", "zh").json  # --json: the English message and code
    assert doc["error"]["code"] == "chat" and doc["error"]["message"] == "binary data, not text (it holds NUL bytes)"
    bad = cli("reread", dispute, "2", "--chat-format", "nope", "--lang", "zh")
    assert "未知的聊天格式 'nope'（支持：" in bad.err


@pytest.mark.parametrize("code", sorted(warncodes.TEMPLATES))
def test_every_code_reads_back_from_its_own_english(code: str) -> None:
    """No template hides another: the English a code writes is recognised as that code again
    (which is what lets an old plain-English row be shown translated)."""
    from string import Formatter

    fields = {name for _lit, name, _spec, _conv in Formatter().parse(warncodes.TEMPLATES[code]) if name}
    values = {name: f"<{name} 1>" for name in fields}
    note = warncodes.make(code, **values)
    back = warncodes.parse(str(note))
    assert (back.code, {k: str(v) for k, v in back.params.items()}) == (code, values)
    assert warncodes.from_stored(warncodes.doc(note)) == note


def test_the_files_of_the_test_corpus_get_codes_for_every_warning(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    """Damaged and odd files of every kind the readers warn about: each warning add gives has a code,
    so none is left untranslated in a Chinese run."""
    src = samples.make_jpeg(tmp_path / "src.jpg")
    files = [
        samples.make_truncated(src, tmp_path / "cut.jpg", keep=0.3),
        samples.make_random(tmp_path / "random.jpg"),
        samples.make_png_bomb(tmp_path / "bomb.png"),
        samples.make_truncated(samples.make_pdf(tmp_path / "src.pdf"), tmp_path / "cut.pdf", keep=0.6),
        samples.make_pdf_broken_xref(tmp_path / "xref.pdf"),
        samples.make_truncated(samples.make_wav(tmp_path / "src.wav"), tmp_path / "cut.wav", keep=0.5),
        samples.make_truncated(samples.make_mp4(tmp_path / "src.mp4"), tmp_path / "cut.mp4", keep=0.5),
    ]
    looks_like = tmp_path / "log.txt"
    looks_like.write_text("".join(f"12:{i:02d} Anna: line {i}\n" for i in range(20)), encoding="utf-8")
    files.append(looks_like)
    ran = cli("add", dispute, *files, "--json")
    assert not ran.json["errors"], ran.json["errors"]
    codes = [c for a in ran.json["added"] for c in a["warning_codes"]]
    assert all(c["code"] for c in codes), [c["text"] for c in codes if not c["code"]]
    assert {"chat.looks_like", "file.name_mismatch", "image.damaged", "image.too_large_sized", "media.box_truncated",
            "media.riff_short", "pdf.no_eof"} <= {c["code"] for c in codes}
    zh = cli("show", dispute, "--lang", "zh")
    assert zh.code == 0


def test_the_chat_readers_sentences_have_codes() -> None:
    """The chat readers still write English (the column's text); each sentence they build is one a code names."""
    from locker.chats.lines import unparsed_warning
    from locker.chats.whatsapp import assumed_warning, resolve_date_order

    assert warncodes.parse(unparsed_warning(1)).code == "chat.unparsed_one"
    assert warncodes.parse(unparsed_warning(7)).params == {"count": "7"}
    assert warncodes.parse(assumed_warning("dmy")).code == "chat.dates_assumed_dmy"
    assert warncodes.parse(assumed_warning("mdy")).code == "chat.dates_assumed_mdy"
    _order, _source, said = resolve_date_order(["13/3/25"], "mdy", "profile")
    assert said is not None and warncodes.parse(said).params == {"given": "mdy", "found": "dmy"}
