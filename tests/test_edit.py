"""Edit with history (issue 11, point 1), through the real command line: ``locker edit`` of a
dispute, an exhibit and one chat message, ``locker restore``, ``add`` of a held file with new
descriptions; the history in ``show`` and ``log``, the search index following, the pack using
the current values, and ``verify`` catching a row changed behind the custody log's back."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from locker import domain
from tests import samples
from tests.test_contract import check, schema
from tests.test_upgrade import NUMBER, WITHDRAWN, OldDispute, old, verify_problems  # noqa: F401 (old: a fixture)
from tests.test_upgrade import SLUG as OLD


def _database(slug: str) -> Path:
    return Path(os.environ["LOCKER_HOME"]) / "disputes" / slug / "dispute.sqlite"


def _sql(slug: str, statement: str, *args: object) -> None:
    """An edit made behind the locker's back, as anybody with sqlite3 could make it."""
    from locker import db

    db.dispose(_database(slug))
    con = sqlite3.connect(_database(slug))
    with con:
        con.execute(statement, args)
    con.close()


def _problems(cli, slug: str) -> list[tuple[int | None, str, str]]:  # noqa: ANN001
    ran = cli("verify", slug, "--json")
    return [(p["exhibit"], p["problem"], p["detail"]) for p in ran.json["disputes"][0]["problems"]]


def _log(cli, slug: str) -> list[dict]:  # noqa: ANN001
    return cli("log", slug, "--json").json


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return samples.make_jpeg_with_exif(tmp_path / "IMG_20250503_150102.jpg")


@pytest.fixture
def chat(cli, dispute, tmp_path: Path) -> int:  # noqa: ANN001
    """A chat exhibit of four messages: 你好，收到的商品是坏的 / 抱歉，请发一下照片 / …"""
    ran = cli("add", dispute, samples.make_plain_chat(tmp_path / "chat.txt"), "--me", "我", "--json")
    assert ran.code == 0, ran.err
    return ran.json["added"][0]["exhibit"]


# --------------------------------------------------------------------------- the dispute's facts


def test_a_dispute_is_corrected_with_old_and_new_values_in_one_entry(cli, dispute) -> None:  # noqa: ANN001
    before = len(_log(cli, dispute))
    ran = cli("edit", dispute, "--amount", "1,299.5", "--claim", "退货退款 ¥1299.50", "--merchant", "优品数码官方店",
              "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "edit")
    assert ran.json["changed"] is True and ran.json["exhibit"] is None
    assert ran.json["changes"] == [
        {"field": "merchant", "from": "优品数码旗舰店", "to": "优品数码官方店"},
        {"field": "amount", "from": "199.00", "to": "1299.50"},
        {"field": "claim", "from": None, "to": "退货退款 ¥1299.50"},
    ]
    log = _log(cli, dispute)
    assert len(log) == before + 1 and log[-1]["seq"] == ran.json["custody_seq"]
    assert log[-1]["action"] == "dispute.edited"
    assert log[-1]["payload"] == {"fields": {"merchant": {"from": "优品数码旗舰店", "to": "优品数码官方店"},
                                             "amount": {"from": "199.00", "to": "1299.50"},
                                             "claim": {"from": None, "to": "退货退款 ¥1299.50"}}}
    shown = cli("show", dispute, "--json").json
    check(shown, "show")
    assert (shown["amount"], shown["merchant"], shown["claim"]) == ("1299.50", "优品数码官方店", "退货退款 ¥1299.50")
    assert [(h["field"], h["from"], h["to"], h["seq"]) for h in shown["history"]] == [
        ("merchant", "优品数码旗舰店", "优品数码官方店", log[-1]["seq"]), ("amount", "199.00", "1299.50", log[-1]["seq"]),
        ("claim", None, "退货退款 ¥1299.50", log[-1]["seq"])]
    human = cli("show", dispute)
    assert "history" in human.out and "199.00" in human.out and "1299.50" in human.out
    assert "amount “199.00” → “1299.50”" in cli("log", dispute).out
    assert _problems(cli, dispute) == []


def test_an_edit_that_changes_nothing_writes_nothing_and_says_so(cli, dispute) -> None:  # noqa: ANN001
    before = _log(cli, dispute)
    ran = cli("edit", dispute, "--amount", "199", "--platform", "xiaohongshu", "--json")
    assert ran.code == 0, ran.err
    assert ran.json == {"dispute": dispute, "exhibit": None, "message": None, "changed": False, "changes": [],
                        "custody_seq": None}
    ran = cli("edit", dispute, "--order-id", "250501123456789")
    assert ran.code == 0 and "Nothing to change" in ran.out and "nothing was written" in ran.out
    assert _log(cli, dispute) == before


def test_values_are_checked_as_new_checks_them(cli, dispute) -> None:  # noqa: ANN001
    before = _log(cli, dispute)
    for args, words in ((("--amount", "abc"), "not an amount"), (("--amount", "-5"), "not an amount"),
                        (("--purchased-on", "2025-13-45"), "not a date"), (("--title", "  "), "needs a title"),
                        ((), "say what to correct"), (("--source", "x"), "only with an exhibit")):
        ran = cli("edit", dispute, *args)
        assert ran.code == 2, (args, ran.out, ran.err)
        assert words in ran.err, (args, ran.err)
    ran = cli("edit", dispute, "--amount", "abc", "--json")
    assert ran.code == 2 and ran.json["error"]["code"] == "usage"
    assert _log(cli, dispute) == before
    # A currency is written in capitals, an empty one is CNY again, an empty field is cleared.
    assert cli("edit", dispute, "--currency", "usd").code == 0
    assert cli("show", dispute, "--json").json["currency"] == "USD"
    ran = cli("edit", dispute, "--currency", "", "--merchant", "", "--json")
    assert ran.json["changes"] == [{"field": "merchant", "from": "优品数码旗舰店", "to": None},
                                   {"field": "currency", "from": "USD", "to": "CNY"}]
    assert cli("edit", dispute, "--purchased-on", " 2025-05-02 ").code == 0
    assert cli("show", dispute, "--json").json["purchased_on"] == "2025-05-02"
    assert _problems(cli, dispute) == []


def test_search_follows_the_corrected_facts(cli, dispute) -> None:  # noqa: ANN001
    assert cli("search", "旗舰店", "--json").json["hits"]
    assert cli("edit", dispute, "--merchant", "优品数码官方店", "--title", "蓝牙耳机退款").code == 0
    assert cli("search", "旗舰店", "--json").json["hits"] == []
    fields = {(h["field"], h["exhibit"]) for h in cli("search", "官方店", "--json").json["hits"]}
    assert fields == {("merchant", None)}
    assert {h["field"] for h in cli("search", "蓝牙耳机", "--json").json["hits"]} == {"title"}
    assert cli("search", "无线耳机", "--json").json["hits"] == []
    assert [d["title"] for d in cli("list", "--json").json] == ["蓝牙耳机退款"]


# --------------------------------------------------------------------------- an exhibit


def test_an_exhibit_is_corrected_and_its_old_capture_time_and_source_are_kept(cli, dispute, photo) -> None:  # noqa: ANN001
    added = cli("add", dispute, photo, "--json").json["added"][0]
    assert added["captured_at_source"] == "exif"
    old_time = added["captured_at"]
    ran = cli("edit", dispute, "1", "--title", "开箱照片", "--source", "本人手机拍摄", "--purpose", "证明商品破损",
              "--note", "快递到达当天", "--captured-at", "2025-05-03 16:00", "--tz", "Asia/Shanghai", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "edit")
    assert ran.json["exhibit"] == 1
    assert [(c["field"], c["from"], c["to"]) for c in ran.json["changes"]] == [
        ("title", None, "开箱照片"), ("source", None, "本人手机拍摄"), ("purpose", None, "证明商品破损"),
        ("note", None, "快递到达当天"), ("captured_at", old_time, "2025-05-03T16:00:00+08:00"),
        ("captured_at_source", "exif", "user")]
    shown = cli("show", dispute, "1", "--json").json
    check(shown, "show-exhibit")
    e = shown["exhibit"]
    assert (e["title"], e["source"], e["purpose"], e["note"]) == ("开箱照片", "本人手机拍摄", "证明商品破损", "快递到达当天")
    assert (e["captured_at"], e["captured_at_source"]) == ("2025-05-03T16:00:00+08:00", "user")
    history = {h["field"]: (h["from"], h["to"]) for h in shown["history"]}
    assert history["captured_at"] == (old_time, "2025-05-03T16:00:00+08:00")
    assert history["captured_at_source"] == ("exif", "user")
    assert all(h["exhibit"] == 1 and h["action"] == "exhibit.edited" for h in shown["history"])
    human = cli("show", dispute, "1").out
    assert "history" in human and "exif" in human and "开箱照片" in human
    # The dispute's own history holds only the dispute's facts.
    assert cli("show", dispute, "--json").json["history"] == []
    # A time given again, or the same title: nothing changes, nothing is written.
    before = _log(cli, dispute)
    ran = cli("edit", dispute, "1", "--captured-at", "2025-05-03T16:00:00+08:00", "--title", "开箱照片", "--json")
    assert ran.json["changed"] is False and _log(cli, dispute) == before
    # Cleared with an empty value.
    ran = cli("edit", dispute, "1", "--note", "", "--json")
    assert ran.json["changes"] == [{"field": "note", "from": "快递到达当天", "to": None}]
    assert _problems(cli, dispute) == []


def test_exhibit_edits_are_refused_clearly(cli, dispute, photo) -> None:  # noqa: ANN001
    assert cli("add", dispute, photo).code == 0
    for args, code, words in (
        (("9", "--title", "x"), 1, "has no exhibit 9"),
        (("1", "--amount", "5"), 2, "a fact of the dispute"),
        (("1", "--captured-at", "2099-01-01"), 2, ""),
        (("1", "--captured-at", "next tuesday"), 2, "not a date and time"),
        (("1",), 2, "say what to correct"),
        (("1", "--message", "1"), 2, "--message K --text TEXT"),
        (("1", "--message", "1", "--text", "x", "--title", "y"), 2, "nothing else"),
        (("1", "--message", "1", "--text", "x"), 2, "has no messages"),
    ):
        ran = cli("edit", dispute, *args)
        assert ran.code == code, (args, ran.err)
        assert words in ran.err, (args, ran.err)


def test_search_follows_a_corrected_exhibit(cli, dispute, photo) -> None:  # noqa: ANN001
    assert cli("add", dispute, photo, "--purpose", "证明外包装破损").code == 0
    assert cli("search", "外包装", "--json").json["hits"]
    assert cli("edit", dispute, "1", "--purpose", "证明耳机无法充电").code == 0
    assert cli("search", "外包装", "--json").json["hits"] == []
    hits = cli("search", "无法充电", "--json").json["hits"]
    assert [(h["exhibit"], h["field"]) for h in hits] == [(1, "purpose")]


# --------------------------------------------------------------------------- one chat message


def test_a_chat_message_is_corrected_and_search_follows(cli, dispute, chat) -> None:  # noqa: ANN001
    human = cli("show", dispute, str(chat)).out
    assert "2   2025-05-05 09:13  商家: 抱歉，请发一下照片" in human  # numbered as --message counts them
    ran = cli("edit", dispute, str(chat), "--message", "2", "--text", "抱歉，请发一下破损处的照片", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "edit")
    assert (ran.json["exhibit"], ran.json["message"]) == (chat, 2)
    assert ran.json["changes"] == [{"field": "text", "from": "抱歉，请发一下照片", "to": "抱歉，请发一下破损处的照片"}]
    shown = cli("show", dispute, str(chat), "--json").json
    check(shown, "show-exhibit")
    assert shown["messages"][1]["text"] == "抱歉，请发一下破损处的照片"
    assert [m["text"] for m in shown["messages"]][::2] == ["你好，收到的商品是坏的", "已发，我要求退款"]
    assert shown["history"] == [{"seq": ran.json["custody_seq"], "at": shown["history"][0]["at"],
                                 "action": "message.edited", "exhibit": chat, "message": 2, "field": "text",
                                 "from": "抱歉，请发一下照片", "to": "抱歉，请发一下破损处的照片"}]
    entry = _log(cli, dispute)[-1]
    assert entry["action"] == "message.edited" and entry["payload"]["messages"]["count"] == 4
    assert cli("search", "破损处", "--json").json["hits"][0]["field"] == "message"
    assert cli("search", "请发一下照片", "--json").json["hits"] == []
    assert _problems(cli, dispute) == []
    ran = cli("edit", dispute, str(chat), "--message", "5", "--text", "x")
    assert ran.code == 1 and "messages 1 to 4, not 5" in ran.err
    assert cli("edit", dispute, str(chat), "--message", "2", "--text", "  ").code == 2


# --------------------------------------------------------------------------- add of a held file


def test_add_of_a_held_file_with_descriptions_applies_them_as_an_edit(cli, dispute, photo) -> None:  # noqa: ANN001
    assert cli("add", dispute, photo).code == 0
    before = len(_log(cli, dispute))
    ran = cli("add", dispute, photo, "--purpose", "证明商品破损", "--title", "开箱照片", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "add")
    held = ran.json["added"][0]
    assert held["duplicate"] is True and held["exhibit"] == 1 and held["edited"] == ["title", "purpose"]
    log = _log(cli, dispute)
    assert len(log) == before + 1 and log[-1]["action"] == "exhibit.edited"
    assert log[-1]["payload"]["fields"]["purpose"] == {"from": None, "to": "证明商品破损"}
    e = cli("show", dispute, "1", "--json").json["exhibit"]
    assert (e["title"], e["purpose"]) == ("开箱照片", "证明商品破损")
    # Said so, in words; the same again changes nothing and writes nothing.
    ran = cli("add", dispute, photo, "--note", "第二次拍")
    assert ran.code == 0 and "exhibit 1 was held already: its note corrected as an edit" in ran.out
    again = cli("add", dispute, photo, "--note", "第二次拍", "--json")
    assert again.json["added"][0]["edited"] == []
    # A plain add of a held file, and a new file, carry an empty list.
    assert cli("add", dispute, photo, "--json").json["added"][0]["edited"] == []
    other = samples.make_png(photo.parent / "order.png", 100, 200)
    assert cli("add", dispute, other, "--json").json["added"][0]["edited"] == []
    assert _problems(cli, dispute) == []


# --------------------------------------------------------------------------- restore


def test_restore_undoes_a_withdrawal(cli, dispute, photo, tmp_path: Path) -> None:  # noqa: ANN001
    assert cli("add", dispute, photo, "--purpose", "证明商品破损").code == 0
    assert cli("withdraw", dispute, "1", "--reason", "拍错了").code == 0
    assert cli("search", "商品破损", "--json").code == 0
    ran = cli("restore", dispute, "1", "--reason", "其实没拍错", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "restore")
    assert ran.json["exhibit"] == 1 and ran.json["withdrawn"] is False
    entry = _log(cli, dispute)[-1]
    assert (entry["action"], entry["payload"]) == ("exhibit.restored", {"exhibit": 1, "reason": "其实没拍错"})
    assert "exhibit 1 restored: 其实没拍错" in cli("log", dispute).out
    hits = cli("search", "商品破损").out
    assert "[withdrawn]" not in hits and "exhibit 1" in hits
    ran = cli("export", dispute, "-o", tmp_path / "pack.pdf", "--json")
    assert ran.code == 0, ran.err
    assert ran.json["exhibits"] == [1]
    assert _problems(cli, dispute) == []
    for args, words in ((("1", "--reason", "again"), "is not withdrawn"), (("1", "--reason", " "), "say why"),
                        (("7", "--reason", "x"), "has no exhibit 7")):
        ran = cli("restore", dispute, *args)
        assert ran.code in (1, 2) and words in ran.err, (args, ran.err)
    # Withdrawn again and restored again: the chain replays both.
    assert cli("withdraw", dispute, "1", "--reason", "又撤回").code == 0
    assert cli("restore", dispute, "1", "--reason", "又恢复").code == 0
    assert _problems(cli, dispute) == []


# --------------------------------------------------------------------------- the pack


def test_the_pack_uses_current_values_and_its_custody_log_shows_the_changes(cli, dispute, chat, tmp_path) -> None:  # noqa: ANN001
    assert cli("edit", dispute, "--amount", "209", "--merchant", "优品数码官方店").code == 0
    assert cli("edit", dispute, str(chat), "--title", "与商家的聊天", "--purpose", "证明商家同意退款").code == 0
    assert cli("edit", dispute, str(chat), "--message", "2", "--text", "抱歉，请发一下破损处的照片").code == 0
    assert cli("withdraw", dispute, str(chat), "--reason", "稍后补充").code == 0
    assert cli("restore", dispute, str(chat), "--reason", "已补充").code == 0
    zh = _pdf_text(Path(cli("export", dispute, "-o", tmp_path / "zh.pdf", "--json").json["path"]))
    flat = "".join(zh.split())
    assert "209.00" in flat and "优品数码官方店" in flat and "证明商家同意退款" in flat
    (message_seq,) = [e["seq"] for e in _log(cli, dispute) if e["action"] == "message.edited"]
    # The transcript prints the corrected text, marked as corrected, never as what the export said.
    assert f"抱歉，请发一下破损处的照片（已更正，原文见保管记录第{message_seq}条）" in flat
    for words in ("更正纠纷信息", "更正证据信息", "更正聊天消息", "恢复证据", "「199.00」→「209.00」",
                  "证明目的：（未填写）→「证明商家同意退款」", "恢复：已补充", f"可用lockeredit{dispute}--summary填写"):
        assert words in flat, words
    assert "lockernew--summary" not in flat
    en = _pdf_text(Path(cli("export", dispute, "--lang", "en", "-o", tmp_path / "en.pdf", "--json").json["path"]))
    flat = " ".join(en.split())
    for words in ("dispute corrected", "exhibit corrected", "message corrected", "exhibit restored",
                  "“199.00” → “209.00”", f"locker edit {dispute} --summary",
                  f"(corrected; the original text is in custody entry {message_seq})"):
        assert words in flat, words


# --------------------------------------------------------------------------- tampering


def test_each_edit_changed_behind_the_chains_back_is_found(cli, dispute, photo, chat) -> None:  # noqa: ANN001
    """For each new action: the row as the action left it verifies; the same row changed with
    sqlite3 (including back to its old value) fails verify with a problem naming it."""
    assert cli("add", dispute, photo).code == 0
    number = 2 if chat == 1 else 1
    assert cli("edit", dispute, "--amount", "209", "--claim", "退款").code == 0
    assert cli("edit", dispute, str(number), "--title", "开箱照片", "--captured-at", "2025-05-03T16:00:00+08:00").code == 0
    assert cli("edit", dispute, str(chat), "--message", "1", "--text", "你好，收到的耳机是坏的").code == 0
    assert cli("withdraw", dispute, str(number), "--reason", "拍错了").code == 0
    assert cli("restore", dispute, str(number), "--reason", "没拍错").code == 0
    assert _problems(cli, dispute) == []

    cases = [
        # dispute.edited: the old value put back, or another value
        ("UPDATE dispute SET amount = '199.00'", None, "row_altered", "amount"),
        ("UPDATE dispute SET claim = NULL", None, "row_altered", "claim"),
        # exhibit.edited: title put back; the capture time or its source changed
        (f"UPDATE exhibit SET title = NULL WHERE number = {number}", number, "row_altered", "title"),
        (f"UPDATE exhibit SET captured_at_source = 'exif' WHERE number = {number}", number, "row_altered",
         "captured_at_source"),
        (f"UPDATE exhibit SET captured_at = '2025-05-03T15:01:02+08:00' WHERE number = {number}", number,
         "row_altered", "captured_at"),
        # message.edited: the old text put back, or another message changed
        (f"UPDATE chat_message SET text = '你好，收到的商品是坏的' WHERE exhibit = {chat} AND position = 0", chat,
         "messages_altered", "chat messages"),
        (f"UPDATE chat_message SET text = '好的' WHERE exhibit = {chat} AND position = 3", chat,
         "messages_altered", "chat messages"),
        # exhibit.restored: withdrawn again behind the chain's back, or a reason left on it
        (f"UPDATE exhibit SET withdrawn = 1, withdrawn_reason = '拍错了' WHERE number = {number}", number,
         "row_altered", "withdrawn flag"),
        (f"UPDATE exhibit SET withdrawn_reason = '拍错了' WHERE number = {number}", number, "row_altered",
         "withdrawal reason"),
    ]
    database = _database(dispute)
    pristine = database.read_bytes()
    for statement, exhibit, problem, words in cases:
        _sql(dispute, statement)
        found = _problems(cli, dispute)
        assert any(e == exhibit and p == problem and words in d for e, p, d in found), (statement, found)
        assert cli("verify", dispute).code == 1
        from locker import db

        db.dispose(database)
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        database.write_bytes(pristine)
        assert _problems(cli, dispute) == [], statement

    # An edit's own entry changed (its recorded new value) is a broken chain.
    _sql(dispute, "UPDATE custody SET payload = replace(payload, '209.00', '199.00') WHERE action = 'dispute.edited'")
    assert {p for _, p, _ in _problems(cli, dispute)} >= {"custody_entry_altered"}


# --------------------------------------------------------------------------- vocabulary and contract


def test_the_new_actions_round_trip_and_never_trust_their_payload() -> None:
    import json

    def through_json(entry: domain.Entry) -> domain.Reading | None:
        return domain.read_entry(entry[0], json.loads(json.dumps(entry[1])))

    change = domain.FieldChange("amount", "199.00", None)
    assert through_json(domain.dispute_edited([change])) == domain.DisputeEdited((change,))
    edited = through_json(domain.exhibit_edited(3, [domain.FieldChange("captured_at_source", "exif", "user")]))
    assert edited == domain.ExhibitEdited(3, (domain.FieldChange("captured_at_source", "exif", "user"),))
    digest = domain.MessagesDigest(4, "ab" * 32)
    assert through_json(domain.message_edited(2, 5, 4, "旧", "新", digest)) == domain.MessageEdited(2, 5, 4, "旧", "新",
                                                                                                    digest)
    assert through_json(domain.exhibit_restored(2, "why")) == domain.ExhibitRestored(2, "why")
    # A hand-made entry: unknown fields are left out, values of the wrong type read as None.
    forged = domain.read_entry("dispute.edited", {"fields": {"status": {"from": "open", "to": "closed"},
                                                             "amount": {"from": 1, "to": ["x"]}, "claim": "x"}})
    assert forged == domain.DisputeEdited((domain.FieldChange("amount", None, None),
                                           domain.FieldChange("claim", None, None)))
    assert domain.read_entry("exhibit.edited", {"fields": []}) == domain.ExhibitEdited(None, ())


def test_new_documents_reject_extra_keys() -> None:
    for name in ("edit", "restore"):
        assert schema(name)["additionalProperties"] is False
    for name in ("show", "show-exhibit"):
        assert schema(name)["properties"]["history"]["items"]["additionalProperties"] is False
    assert schema("add")["properties"]["added"]["items"]["additionalProperties"] is False


# --------------------------------------------------------------------------- a dispute made by an older locker


def test_an_older_dispute_is_corrected_and_restored_and_still_verifies(cli, old: OldDispute) -> None:  # noqa: ANN001, F811
    assert cli("edit", OLD, "--title", "旧纠纷 蓝牙耳机", "--summary", "收货后无法充电").code == 0
    assert cli("edit", OLD, str(NUMBER["IMG_20250503_150102.jpg"]), "--purpose", "证明商品破损").code == 0
    chat = NUMBER["chat.txt"]
    ran = cli("edit", OLD, str(chat), "--message", "1", "--text", "更正后的消息")
    assert ran.code == (0 if old.has("m002_chat_messages") else 2), ran.err  # before m002 a chat has no messages
    assert cli("restore", OLD, str(WITHDRAWN[0]), "--reason", "仍要提交").code == 0
    assert verify_problems(cli) == []
    assert [h["field"] for h in cli("show", OLD, "--json").json["history"]] == ["title", "summary"]
    hits = cli("search", "蓝牙耳机", "--json").json["hits"]
    assert [(h["dispute"], h["field"]) for h in hits] == [(OLD, "title")]
