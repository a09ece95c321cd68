"""The services behind machine-read data, fed with readings as the OCR pipeline hands them in
(``transcribe(readings=…)``): what is stored, what verify checks, and which dispute fields an
order page's facts propose (``locker edit DISPUTE --from-exhibit N``). Real OCR on drawn pictures
is in tests/test_ocr_chat.py."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from locker.errors import NotFound, UsageError
from locker.ocr.chat import Page
from locker.paths import open_home
from locker.services import ocrchat
from tests.test_ocr_layout import _order, _shot


def _png(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (108, 234), colour).save(path)
    return path


@pytest.fixture
def held(cli, home: Path, tmp_path: Path) -> dict:  # noqa: ANN001
    """A dispute with an order page (1) and two chat screenshots (2, 3), read from hand-made readings."""
    assert cli("profile", "--tz", "Asia/Shanghai").code == 0
    assert cli("new", "耳机", "--slug", "ear", "--merchant", "我写的店名").code == 0
    files = [_png(tmp_path / "Screenshot_20250502-100000.png", (200, 0, 0)),
             _png(tmp_path / "Screenshot_20250504-093000.png", (0, 200, 0)),
             _png(tmp_path / "Screenshot_20250504-093100.png", (0, 0, 200))]
    assert cli("add", "ear", *files).code == 0
    order = _order([("实付款", "¥199.00"), ("订单编号", "250501123456789"), ("下单时间", "2025-05-01 20:15:32")])
    first = _shot([("time", "昨天 15:20"), ("me", "耳机左耳没声音"), ("them", "亲，不支持退款哦"), ("me", "为什么")])
    second = _shot([("them", "亲，不支持退款哦"), ("me", "为什么"), ("time", "昨天 15:30"), ("them", "补偿5元红包")])
    readings = {1: [Page(order)], 2: [Page(first)], 3: [Page(second)]}
    result = ocrchat.transcribe(open_home(str(home)), "ear", readings=readings)
    return {"home": home, "result": result, "readings": readings}


def test_readings_handed_in_are_stored_as_machine_read(cli, held) -> None:  # noqa: ANN001
    layouts = {r.exhibit: (r.layout, r.messages, r.changed) for r in held["result"].exhibits}
    assert layouts == {1: ("order", 0, True), 2: ("chat", 3, True), 3: ("chat", 1, True)}
    shown = cli("show", "ear", "2", "--json").json
    assert [(m["text"], m["me"], m["source"], m["at"]) for m in shown["messages"]] == [
        ("耳机左耳没声音", True, "ocr", "2025-05-03T15:20:00+08:00"),
        ("亲，不支持退款哦", False, "ocr", "2025-05-03T15:20:00+08:00"),
        ("为什么", True, "ocr", "2025-05-03T15:20:00+08:00")]
    assert [m["text"] for m in cli("show", "ear", "3", "--json").json["messages"]] == ["补偿5元红包"]
    assert cli("show", "ear", "1", "--json").json["facts"]["facts"][0]["name"] == "order_id"
    assert cli("verify", "ear").code == 0


def test_reading_again_changes_nothing_and_keeps_positions(cli, held) -> None:  # noqa: ANN001
    before = cli("log", "ear", "--json").json
    again = ocrchat.transcribe(open_home(str(held["home"])), "ear", readings=held["readings"])
    assert not any(r.changed for r in again.exhibits)
    assert cli("log", "ear", "--json").json == before


def test_a_new_reading_replaces_the_old_in_one_entry(cli, held) -> None:  # noqa: ANN001
    readings = dict(held["readings"])
    readings[3] = [Page(_shot([("them", "补偿10元红包"), ("me", "不接受")]))]
    ocrchat.transcribe(open_home(str(held["home"])), "ear", [3], readings=readings)
    assert [m["text"] for m in cli("show", "ear", "3", "--json").json["messages"]] == ["补偿10元红包", "不接受"]
    assert [e["action"] for e in cli("log", "ear", "--json").json][-1] == "exhibit.transcribed"
    assert cli("search", "补偿10元", "--json").json["hits"][0]["field"] == "ocr_message"
    assert cli("search", "补偿5元", "--json").json["hits"] == []  # the old reading left the index
    assert cli("verify", "ear").code == 0


@pytest.mark.parametrize(("sql", "problem"), [
    ("UPDATE chat_message SET text = '同意退款' WHERE exhibit = 2 AND position = 2", "messages_altered"),
    ("UPDATE chat_message SET source = 'export' WHERE exhibit = 3", "messages_altered"),
    ("DELETE FROM chat_message WHERE exhibit = 3", "messages_altered"),
    ("UPDATE ocr_facts SET facts = replace(facts, '199.00', '19.00')", "row_altered"),
    ("UPDATE ocr_facts SET platform = 'jd'", "row_altered"),
    ("DELETE FROM ocr_facts", "row_missing"),
    ("UPDATE ocr_facts SET exhibit = 9 WHERE exhibit = 1", "row_unrecorded"),
])
def test_tampering_with_machine_read_data_is_found(cli, held, sql: str, problem: str) -> None:  # noqa: ANN001
    con = sqlite3.connect(held["home"] / "disputes" / "ear" / "dispute.sqlite")
    con.execute(sql)
    con.commit()
    con.close()
    ran = cli("verify", "ear", "--json")
    assert ran.code == 1
    assert problem in {p["problem"] for p in ran.json["disputes"][0]["problems"]}


def test_tampering_with_the_transcribed_entry_is_found(cli, held) -> None:  # noqa: ANN001
    con = sqlite3.connect(held["home"] / "disputes" / "ear" / "dispute.sqlite")
    seq, payload = con.execute("SELECT seq, payload FROM custody WHERE action = 'exhibit.transcribed' LIMIT 1").fetchone()
    con.execute("UPDATE custody SET payload = ? WHERE seq = ?", (payload.replace("199.00", "19.00"), seq))
    con.commit()
    con.close()
    ran = cli("verify", "ear", "--json")
    assert ran.code == 1
    assert "custody_entry_altered" in {p["problem"] for p in ran.json["disputes"][0]["problems"]}


def test_propose_fields_fills_only_empty_ones(held) -> None:  # noqa: ANN001
    proposal = ocrchat.propose_fields(open_home(str(held["home"])), "ear", 1)
    assert {k: v["value"] for k, v in proposal.fill.items()} == {
        "order_id": "250501123456789", "amount": "199.00", "item": "无线蓝牙耳机 珍珠白", "purchased_on": "2025-05-01"}
    assert proposal.skipped == {"merchant": ("我写的店名", "优品数码旗舰店")}
    assert proposal.fill["order_id"]["text"] == "250501123456789" and len(proposal.fill["order_id"]["box"]) == 4


def test_propose_fields_says_why_not(held) -> None:  # noqa: ANN001
    home = open_home(str(held["home"]))
    with pytest.raises(UsageError, match="no order facts"):
        ocrchat.propose_fields(home, "ear", 2)
    with pytest.raises(NotFound):
        ocrchat.propose_fields(home, "ear", 9)


def test_json_documents_match_their_schemas(cli, held) -> None:  # noqa: ANN001
    from tests.test_contract import check

    check(cli("show", "ear", "1", "--json").json, "show-exhibit")
    check(cli("show", "ear", "2", "--json").json, "show-exhibit")
    ran = cli("ocr", "ear", "2", "--json")  # reads the stored (plain) picture: no chat on it
    assert ran.code == 0, ran.err
    check(ran.json, "ocr")
    check(ran.json["transcribed"], "transcribe")
    assert json.dumps(ran.json)


def test_a_reading_filed_by_the_ocr_pipeline_becomes_pages() -> None:
    """The manifest services.ocr files (boxes in the whole picture, one slice number per line)."""
    from tests.test_ocr_layout import centred, mine, them

    rows = [(centred("优品数码旗舰店", 150), 1), (them("第一条", 1500), 1), (mine("第二条", 1560), 2),
            (them("第三条", 2900), 2)]
    manifest = {"engine": "e", "source": "image", "width": 1080, "height": 3200,
                "parts": [{"slice": 1, "top": 0, "bottom": 1600}, {"slice": 2, "top": 1552, "bottom": 3200}],
                "lines": [{"text": ln.text, "box": [list(p) for p in ln.box], "score": ln.score, "slice": n}
                          for ln, n in rows]}
    pages = ocrchat.pages_from_manifest(manifest)
    assert [(p.offset, p.reading.height) for p in pages] == [(0, 1600), (1552, 1648)]
    assert pages[1].reading.lines[0].top == 1560 - 1552
    from locker.ocr.chat import messages_from_readings

    assert [(m.side, m.text) for m in messages_from_readings([pages])] == [
        ("them", "第一条"), ("me", "第二条"), ("them", "第三条")]


def test_a_corrected_transcript_is_not_read_again(cli, held) -> None:  # noqa: ANN001
    """A correction (as `locker edit DISPUTE N --message K --text` makes it: the text changed and a custody
    entry with the new digest) is never overwritten by the next reading."""
    con = sqlite3.connect(held["home"] / "disputes" / "ear" / "dispute.sqlite")
    con.execute("UPDATE chat_message SET text = '为什么不能退？' WHERE exhibit = 2 AND position = 3")
    con.commit()
    con.close()
    again = ocrchat.transcribe(open_home(str(held["home"])), "ear", readings=held["readings"])
    assert [n for n, _ in again.skipped] == [2] and "corrected" in again.skipped[0][1]
    assert [m["text"] for m in cli("show", "ear", "2", "--json").json["messages"]][2] == "为什么不能退？"
