"""Chat exports on `add`: stored as an exhibit, parsed into messages in the same transaction."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests import samples


def test_plain_chat_becomes_messages(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    chat = samples.make_plain_chat(tmp_path / "chat.txt")
    ran = cli("add", dispute, chat, "--me", "我", "--tz", "Asia/Shanghai", "--json")
    assert ran.code == 0, ran.err
    entry = ran.json["added"][0]
    assert entry["kind"] == "chat"
    assert (entry["captured_at"], entry["captured_at_source"]) == ("2025-05-05T09:12:30+08:00", "chat")
    shown = cli("show", dispute, "1", "--json").json
    meta = shown["exhibit"]["metadata"]
    assert meta["chat_format"] == "plain_lines" and meta["encoding"] == "utf-8"
    assert meta["tz"] == "Asia/Shanghai" and meta["message_count"] == 4
    assert meta["participants"] == ["我", "商家"] and meta["me"] == "我"
    assert meta["first_message_at"] == "2025-05-05T09:12:30+08:00"
    assert meta["last_message_at"] == "2025-05-05T09:15:30+08:00"
    assert shown["messages"] == [
        {"at": "2025-05-05T09:12:30+08:00", "sender": "我", "text": "你好，收到的商品是坏的", "me": True},
        {"at": "2025-05-05T09:13:30+08:00", "sender": "商家", "text": "抱歉，请发一下照片", "me": False},
        {"at": "2025-05-05T09:14:30+08:00", "sender": "我", "text": "已发，我要求退款", "me": True},
        {"at": "2025-05-05T09:15:30+08:00", "sender": "商家", "text": "好的，已同意退款", "me": False},
    ]
    human = cli("show", dispute, "1")
    assert "商家: 抱歉，请发一下照片" in human.out and "messages (4)" in human.out
    assert cli("verify", dispute).code == 0


def test_gbk_chat_is_decoded_and_recorded(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    chat = samples.make_plain_chat(tmp_path / "gbk.txt", encoding="gbk")
    ran = cli("add", dispute, chat, "--json")
    assert ran.code == 0, ran.err
    shown = cli("show", dispute, "1", "--json").json
    assert shown["exhibit"]["metadata"]["encoding"] in ("gb18030", "gbk")
    assert shown["messages"][1]["text"] == "抱歉，请发一下照片"


def test_ambiguous_dates_are_asked_for(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    chat = samples.make_whatsapp_android_chat(tmp_path / "WhatsApp Chat with Shop.txt")
    ran = cli("add", dispute, chat, "--json")
    assert ran.code == 1
    assert ran.json["added"] == []
    assert "--date-order" in ran.json["errors"][0]["error"]
    objects = home / "disputes" / dispute / "objects"
    assert [p for p in objects.rglob("*") if p.is_file()] == []
    ran = cli("add", dispute, chat, "--date-order", "dmy", "--tz", "UTC", "--json")
    assert ran.code == 0, ran.err
    assert ran.json["added"][0]["captured_at"] == "2025-05-03T14:20:00+00:00"


def test_same_chat_twice_stores_messages_once(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    chat = samples.make_plain_chat(tmp_path / "chat.txt")
    cli("add", dispute, chat)
    again = cli("add", dispute, chat, "--json").json["added"][0]
    assert again["duplicate"] is True and again["exhibit"] == 1
    con = sqlite3.connect(home / "disputes" / dispute / "dispute.sqlite")
    assert con.execute("SELECT COUNT(*) FROM chat_message").fetchone()[0] == 4


def test_edited_message_is_found_by_verify(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    cli("add", dispute, samples.make_plain_chat(tmp_path / "chat.txt"))
    con = sqlite3.connect(home / "disputes" / dispute / "dispute.sqlite")
    with con:
        con.execute("UPDATE chat_message SET text = '好的，同意退款并赔偿' WHERE position = 3")
    ran = cli("verify", dispute, "--json")
    assert ran.code == 1
    assert [(p["exhibit"], p["problem"]) for p in ran.json["disputes"][0]["problems"]] == [(1, "messages_altered")]


def test_not_a_chat_forced_as_chat_is_kept_with_a_warning(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    junk = samples.make_random(tmp_path / "junk.txt", size=2000)
    ran = cli("add", dispute, junk, "--kind", "chat", "--json")
    assert ran.code == 0, ran.err
    entry = ran.json["added"][0]
    assert entry["kind"] == "chat"
    assert any("could not read it as a chat" in w for w in entry["warnings"])
    assert cli("show", dispute, "1", "--json").json["messages"] == []


def test_whatsapp_zip_export(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    archive = samples.make_whatsapp_ios_zip(tmp_path / "WhatsApp Chat - Shop.zip")
    ran = cli("add", dispute, archive, "--me", "Anna", "--date-order", "dmy", "--json")
    assert ran.code == 0, ran.err
    assert ran.json["added"][0]["kind"] == "chat"
    messages = cli("show", dispute, "1", "--json").json["messages"]
    assert [m["sender"] for m in messages] == ["Anna", "Shop", "Anna", "Shop"]
    assert [m["me"] for m in messages] == [True, False, True, False]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text()),
       st.text(), st.booleans(), st.sampled_from(["message", "media", "service", "unparsed"]))
def test_message_digest_is_the_documented_canonical_form(position, at, sender, text, me, kind) -> None:  # noqa: ANN001
    """One `json.dumps(row, ensure_ascii=False, separators=(",", ":"))` line per message, hashed."""
    from locker.services.chat import digest_rows

    row = [position, at, sender, text, me, kind]
    line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        expected = hashlib.sha256(line.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:  # lone surrogates cannot be stored in SQLite text either
        return
    assert digest_rows([row]) == expected
