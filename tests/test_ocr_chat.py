"""Chat screenshots become transcripts and order pages become facts, read by the real engine
(rapidocr) from screenshots drawn here in each app's layout (examples/screens.py) — no mocked OCR.

OCR costs seconds per picture on a busy machine: every picture is read once per module (fixtures),
and the layout logic itself is tested on hand-made readings in tests/test_ocr_layout.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from examples import screens as S
from locker.ocr import chat, engine, facts
from tests.conftest import REPO, Ran

CST = timezone(timedelta(hours=8))
CAPTURED = datetime(2025, 5, 4, 9, 30, tzinfo=CST)

CONVERSATION = [
    ("time", "昨天 15:20"),
    ("me", "你好，我5月1日买的无线蓝牙耳机今天到了，左耳完全没有声音，放回充电仓也不亮灯。"),
    ("me", "订单编号250501123456789，开箱视频我全程录了。"),
    ("them", "亲，不支持退款哦"),
    ("me", "商品到手就是坏的，属于质量问题，为什么不能退？"),
    ("them", "亲，耳机属于贴身用品，拆封后不支持七天无理由退换哦~"),
    ("time", "昨天 15:30"),
    ("them", "我们最多给您补偿5元红包，退款是不支持的哦"),
    ("me", "不接受。请按《消费者权益保护法》第二十四条给我退货退款¥199.00。"),
    ("system", "对方撤回了一条消息"),
    ("them", "亲，可能是您没有配对成功哦，可以先重置一下试试呢"),
    ("time", "16:02"),
    ("me", "已经按说明书长按10秒重置过了，右耳正常，左耳没有任何反应。"),
    ("them", "OK，请把Bluetooth设置页截图发给我们"),
    ("me", "那我只能申请平台介入，并向12315投诉了。"),
]
# Two screenshots of the conversation: the user scrolled, the second repeats three messages.
FIRST, SECOND = CONVERSATION[:8], CONVERSATION[5:]
TITLE = "优品数码旗舰店"


def expected(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(side, text) for side, text in items if side != "time"]


def squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def shots() -> dict[str, engine.Reading]:
    """The two chat screenshots, read once."""
    first = S.chat_screenshot(S.chat_items(FIRST), title=TITLE, height=2340)
    second = S.chat_screenshot(S.chat_items(SECOND), title=TITLE, height=2340)
    return {"first": engine.read(first), "second": engine.read(second)}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="lines are recognised one at a time on one core")
def test_lines_recognised_on_all_cores_read_as_one_at_a_time(shots, tmp_path: Path) -> None:  # noqa: ANN001
    """In locker's own process the text lines are recognised on one thread per core; a worker process
    (one onnxruntime thread) recognises them one at a time. The engine id is the same for both, so
    both must read every line alike: text, box and score."""
    assert engine._lanes() > 1  # this process reads on several lanes
    picture = tmp_path / "first.png"
    S.chat_screenshot(S.chat_items(FIRST), title=TITLE, height=2340).save(picture)
    code = ("import json, sys\nfrom PIL import Image\nfrom locker.ocr import engine\n"
            "engine.set_threads(1)\nassert engine._lanes() == 1\n"
            "reading = engine.read(Image.open(sys.argv[1]))\n"
            "print(json.dumps([[ln.text, ln.box, ln.score] for ln in reading.lines]))")
    ran = subprocess.run([sys.executable, "-c", code, str(picture)], capture_output=True, text=True, cwd=REPO,
                         check=True)
    one_at_a_time = json.loads(ran.stdout)
    assert len(one_at_a_time) > 10
    assert one_at_a_time == [[ln.text, [list(p) for p in ln.box], ln.score] for ln in shots["first"].lines]


def test_a_chat_screenshot_is_read_into_messages_with_sides_and_times(shots) -> None:  # noqa: ANN001
    t = chat.transcript_of(shots["first"], CAPTURED)
    assert t.is_chat and t.title == TITLE
    got = [(m.side if m.side != "system" else "system", squash(m.text)) for m in t.messages]
    assert got == [(side, squash(text)) for side, text in expected(FIRST)]
    assert [m.at for m in t.messages] == ["2025-05-03T15:20:00+08:00"] * 5 + ["2025-05-03T15:30:00+08:00"]
    assert t.messages[0].lines == 3  # a bubble of three lines is one message


def test_two_screenshots_of_one_conversation_merge_without_duplicates(shots) -> None:  # noqa: ANN001
    msgs = chat.messages_from_readings([shots["second"], shots["first"]], [CAPTURED, CAPTURED], ids=[2, 1])
    assert [(m.side, squash(m.text)) for m in msgs] == [(s, squash(t)) for s, t in expected(CONVERSATION)]
    assert [m.shot for m in msgs] == [1] * 6 + [2] * 6
    assert msgs[-1].at == "2025-05-04T16:02:00+08:00"


@pytest.mark.slow
def test_a_long_screenshot_is_one_transcript_across_its_slices(tmp_path: Path) -> None:
    from locker.services.ocrchat import read_picture

    items = S.chat_items(CONVERSATION + [("them", f"第{k}条补充说明：编号A{k:03d}") for k in range(12)])
    path = tmp_path / "long.png"
    S.chat_screenshot(items, title=TITLE).save(path)
    pages = read_picture(path)
    assert len(pages) >= 3  # read slice by slice (the pack's slice plan)
    msgs = chat.messages_from_readings([pages], [CAPTURED])
    assert [(m.side, squash(m.text)) for m in msgs] == [(s, squash(t)) for s, t in expected(list(items_as(items)))]


def items_as(items: list[S.Said]) -> list[tuple[str, str]]:
    return [(i.side, i.text) for i in items]


ORDER = S.Order("250501123456789", "199.00", "优品数码旗舰店", "无线蓝牙耳机 降噪入耳式 珍珠白 标准版", "2025-05-01 20:15:32")


@pytest.fixture(scope="module")
def order_readings() -> dict[str, engine.Reading]:
    out = {p: engine.read(S.order_screenshot(p, ORDER)) for p in S.LAYOUTS}
    refund = S.Order(ORDER.order_id, ORDER.amount, ORDER.shop, ORDER.item, ORDER.ordered_at, "商家拒绝退款", "refund")
    out["refund"] = engine.read(S.order_screenshot("jd", refund))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("platform", list(S.LAYOUTS))
def test_order_facts_in_each_apps_layout(order_readings, platform: str) -> None:  # noqa: ANN001
    found = facts.facts_from_reading(order_readings[platform])
    got = {f.name: f.value for f in found.facts}
    assert found.page == "order"
    assert got["order_id"] == "250501123456789" and got["amount"] == "199.00"
    assert got["merchant"] == "优品数码旗舰店" and got["order_time"] == "2025-05-01 20:15:32"
    assert squash(got["item"]) == squash(ORDER.item)
    for f in found.facts:  # each with the box it came from, inside the picture
        assert len(f.box) == 4 and all(0 <= x <= 1080 and 0 <= y <= 2340 for x, y in f.box)
    assert not chat.transcript_of(order_readings[platform]).is_chat or found.page  # never stored as a chat


@pytest.mark.slow
def test_refund_page_facts(order_readings) -> None:  # noqa: ANN001
    found = facts.facts_from_reading(order_readings["refund"])
    got = {f.name: f.value for f in found.facts}
    assert found.page == "refund"
    assert got["refund_status"] == "商家拒绝退款" and got["amount"] == "199.00" and got["order_id"] == ORDER.order_id


# --------------------------------------------------------------------------- through the CLI


def _here(home: Path, *args: object) -> Ran:
    """``locker ARGS`` in this process, as the tests' ``cli`` runs it, for a module fixture: the OCR engine
    loads once per worker instead of once per command (reading in child processes is tested in test_ocr.py)."""
    from locker.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        env.setenv("TZ", "UTC")
        env.setenv("LANG", "C.UTF-8")
        for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
            env.delenv(name, raising=False)
        code = main(["--home", str(home), *map(str, args)])
    assert code == 0, (args, err.getvalue())
    return Ran(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A dispute opened from an order screenshot, with two chat screenshots added and read."""
    root = tmp_path_factory.mktemp("ocrflow")
    home = root / "home"
    order = root / "Screenshot_20250502-100000.png"
    S.order_screenshot("taobao", ORDER).save(order)
    shot1, shot2 = root / "Screenshot_20250504-093000.png", root / "Screenshot_20250504-093100.png"
    S.chat_screenshot(S.chat_items(FIRST), title=TITLE, height=2340).save(shot1)
    S.chat_screenshot(S.chat_items(SECOND), title=TITLE, height=2340).save(shot2)
    _here(home, "profile", "--tz", "Asia/Shanghai")
    opened = _here(home, "new", "耳机退款", "--slug", "ear", "--merchant", "我记的店名", "--from-screenshot", order)
    opened_json = _here(home, "new", "耳机退款二", "--slug", "ear2", "--from-screenshot", order, "--json")
    _here(home, "add", "ear", shot2, shot1)
    read = _here(home, "ocr", "ear", "--json")  # reads, then transcribes what it read
    again = _here(home, "ocr", "ear", "--json")
    # A dispute typed by hand, then filled from its order page: `edit --from-exhibit N`.
    _here(home, "new", "耳机退款三", "--slug", "ear3", "--order-id", "999")
    _here(home, "add", "ear3", order)
    _here(home, "ocr", "ear3")
    filled = _here(home, "edit", "ear3", "--from-exhibit", "1", "--amount", "188.00")
    return {"home": home, "root": root, "opened": opened, "opened_json": opened_json.json,
            "read": read.json["transcribed"], "again": again.json["transcribed"], "filled": filled}


def locker_json(cli, flow: dict, *args: object) -> dict:  # noqa: ANN001
    """``locker ARGS --json`` on the module's home, in this process (the commands that read need no child)."""
    ran = cli("--home", flow["home"], *args, "--json")
    assert ran.code == 0, ran.err
    return ran.json


def locker_text(cli, flow: dict, *args: object) -> str:  # noqa: ANN001
    ran = cli("--home", flow["home"], *args)
    assert ran.code == 0, ran.err
    return ran.out


@pytest.mark.slow
def test_new_from_screenshot_fills_empty_fields_and_says_so(cli, flow) -> None:  # noqa: ANN001
    out = flow["opened"].out
    assert "filled --order-id 250501123456789" in out and "filled --amount 199.00" in out
    assert "filled --purchased-on 2025-05-01" in out
    assert "kept --merchant 我记的店名 as typed (the screenshot says 优品数码旗舰店)" in out
    shown = locker_json(cli, flow, "show", "ear")
    assert (shown["order_id"], shown["amount"], shown["purchased_on"]) == ("250501123456789", "199.00", "2025-05-01")
    assert shown["merchant"] == "我记的店名"  # typed on the command line: never overwritten
    doc = flow["opened_json"]
    assert doc["from_screenshot"]["filled"]["merchant"] == "优品数码旗舰店" and doc["from_screenshot"]["exhibit"] == 1
    assert doc["merchant"] == "优品数码旗舰店"
    exhibit = locker_json(cli, flow, "show", "ear", "1")
    names = {f["name"]: f for f in exhibit["facts"]["facts"]}
    assert names["order_id"]["value"] == "250501123456789" and len(names["order_id"]["box"]) == 4
    human = locker_text(cli, flow, "show", "ear", "1")
    assert "order facts (machine-read by OCR" in human and "250501123456789" in human


@pytest.mark.slow
def test_edit_from_exhibit_fills_only_empty_fields_and_says_each(cli, flow) -> None:  # noqa: ANN001
    said = flow["filled"].err
    assert "filled --merchant 优品数码旗舰店" in said and "filled --purchased-on 2025-05-01" in said
    assert "kept --order-id 999" in said  # it held a value: never overwritten
    assert "kept --amount 188.00 as typed" in said  # typed on the same command line: it wins
    shown = locker_json(cli, flow, "show", "ear3")
    assert (shown["order_id"], shown["amount"], shown["merchant"], shown["purchased_on"]) == (
        "999", "188.00", "优品数码旗舰店", "2025-05-01")
    log = locker_json(cli, flow, "log", "ear3")
    edits = [e for e in log["entries"] if e["action"] == "dispute.edited"] if isinstance(log, dict) else \
        [e for e in log if e["action"] == "dispute.edited"]
    assert len(edits) == 1  # one custody entry for the whole fill, with old and new values
    ran = cli("--home", flow["home"], "verify", "ear3")
    assert ran.code == 0, ran.out + ran.err


@pytest.mark.slow
def test_chat_screenshots_become_one_machine_read_conversation(cli, flow) -> None:  # noqa: ANN001
    by_exhibit = {e["exhibit"]: e for e in flow["read"]["exhibits"]}
    assert by_exhibit[1]["layout"] == "order"
    assert by_exhibit[2]["layout"] == by_exhibit[3]["layout"] == "chat"
    # exhibit 2 is the later screenshot: the overlap is kept under exhibit 3, which shows it first.
    first, second = locker_json(cli, flow, "show", "ear", "3"), locker_json(cli, flow, "show", "ear", "2")
    assert {m["source"] for m in first["messages"] + second["messages"]} == {"ocr"}
    got = [(("me" if m["me"] else "system" if m["system"] else "them"), squash(m["text"]))
           for m in first["messages"] + second["messages"]]
    assert got == [(s, squash(t)) for s, t in expected(CONVERSATION)]
    assert first["messages"][2]["sender"] == TITLE and first["messages"][0]["sender"] == "我"
    assert first["messages"][0]["at"] == "2025-05-03T15:20:00+08:00"
    # Read again: nothing changed, so no new custody entry and the same positions for `edit --message K`.
    assert not any(e["changed"] for e in flow["again"]["exhibits"])
    human = locker_text(cli, flow, "show", "ear", "3")
    assert "machine-read by OCR" in human


@pytest.mark.slow
def test_machine_read_messages_are_searchable_and_flagged(cli, flow) -> None:  # noqa: ANN001
    found = locker_json(cli, flow, "search", "贴身用品")
    # Stored once, as a message of exhibit 3 (the first screenshot that shows it); exhibit 2, the later
    # screenshot, shows it again, and is found by its machine-read text.
    assert [(h["exhibit"], h["field"]) for h in found["hits"]] == [(2, "ocr"), (3, "ocr_message")]
    human = locker_text(cli, flow, "search", "充电仓")
    assert "machine-read, OCR" in human


@pytest.mark.slow
def test_verify_checks_machine_read_data(cli, flow, tmp_path: Path) -> None:  # noqa: ANN001
    assert cli("--home", flow["home"], "verify", "ear").code == 0
    log = locker_json(cli, flow, "log", "ear")
    assert [e["action"] for e in log].count("exhibit.transcribed") == 3
    home = tmp_path / "home"
    shutil.copytree(flow["home"], home)
    db = home / "disputes" / "ear" / "dispute.sqlite"
    for sql, problem in [
        ("UPDATE chat_message SET text = '亲，同意退款' WHERE exhibit = 3 AND position = 3", "messages_altered"),
        ("UPDATE chat_message SET source = 'export' WHERE exhibit = 2", "messages_altered"),
        ("UPDATE ocr_facts SET facts = replace(facts, '199.00', '19.00') WHERE exhibit = 1", "row_altered"),
        ("DELETE FROM ocr_facts WHERE exhibit = 1", "row_missing"),
    ]:
        copy = tmp_path / "copy"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(home, copy)
        con = sqlite3.connect(copy / "disputes" / "ear" / "dispute.sqlite")
        con.execute(sql)
        con.commit()
        con.close()
        ran = cli("--home", copy, "verify", "ear", "--json")
        assert ran.code == 1, sql
        assert problem in {p["problem"] for p in ran.json["disputes"][0]["problems"]}, sql
    assert db.exists()


@pytest.mark.slow
def test_the_pack_prints_the_transcript_after_the_picture(cli, flow) -> None:  # noqa: ANN001
    pack = flow["root"] / "pack.pdf"
    locker_text(cli, flow, "export", "ear", "-o", pack, "--lang", "zh")
    text = subprocess.run(["pdftotext", "-layout", str(pack), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("机器识别文字（OCR）") == 3 and "以图片原件为准" in text
    assert "亲，不支持退款哦" in text and "250501123456789" in text
    images = subprocess.run(["pdfimages", "-list", str(pack)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) - 2 >= 3  # the three pictures are still there
