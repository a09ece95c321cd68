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
        {"at": "2025-05-05T09:12:30+08:00", "sender": "我", "text": "你好，收到的商品是坏的", "me": True,
         "kind": "message", "system": False, "source": "export"},
        {"at": "2025-05-05T09:13:30+08:00", "sender": "商家", "text": "抱歉，请发一下照片", "me": False,
         "kind": "message", "system": False, "source": "export"},
        {"at": "2025-05-05T09:14:30+08:00", "sender": "我", "text": "已发，我要求退款", "me": True,
         "kind": "message", "system": False, "source": "export"},
        {"at": "2025-05-05T09:15:30+08:00", "sender": "商家", "text": "好的，已同意退款", "me": False,
         "kind": "message", "system": False, "source": "export"},
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


def test_ambiguous_dates_are_stored_with_an_assumption_and_reread(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    # 5/3/25 and 6/3/25: no day above 12, chronological either way, no locale signature
    chat = tmp_path / "WhatsApp Chat with Shop.txt"
    chat.write_text("5/3/25, 14:20 - Anna: the earbuds are broken\n6/3/25, 09:00 - Shop: send a photo\n",
                    encoding="utf-8")
    ran = cli("add", dispute, chat, "--tz", "UTC", "--json")
    assert ran.code == 0, ran.err
    added = ran.json["added"][0]
    assert added["kind"] == "chat" and added["captured_at"] == "2025-03-05T14:20:00+00:00"
    (warning,) = added["warnings"]
    assert "assumption" in warning and f"locker reread {dispute} 1 --date-order mdy" in warning
    meta = cli("show", dispute, "1", "--json").json["exhibit"]["metadata"]
    assert (meta["date_order"], meta["date_order_source"]) == ("dmy", "assumed")

    ran = cli("reread", dispute, "1", "--date-order", "mdy", "--json")
    assert ran.code == 0, ran.err
    doc = ran.json
    assert (doc["date_order"], doc["date_order_source"], doc["message_count"]) == ("mdy", "option", 2)
    assert doc["warnings"] == [] and doc["captured_at"] == "2025-05-03T14:20:00+00:00"
    shown = cli("show", dispute, "1", "--json").json
    assert [m["at"] for m in shown["messages"]] == ["2025-05-03T14:20:00+00:00", "2025-06-03T09:00:00+00:00"]
    assert shown["exhibit"]["captured_at"] == "2025-05-03T14:20:00+00:00"
    log = cli("log", dispute, "--json").json
    entry = log["entries"][-1] if isinstance(log, dict) else log[-1]
    assert entry["action"] == "exhibit.reread" and entry["payload"]["messages"]["sha256"] == doc["messages_sha256"]
    ran = cli("verify", dispute, "--json")
    assert ran.code == 0, ran.json
    # search finds the messages of the new read, once
    found = cli("search", "photo", "--json").json
    assert len([h for h in found["hits"] if h.get("exhibit") == 1]) == 1, found

    con = sqlite3.connect(home / "disputes" / dispute / "dispute.sqlite")
    assert con.execute("SELECT warnings FROM exhibit WHERE number = 1").fetchone()[0] == "[]"
    with con:
        con.execute("UPDATE chat_message SET text = 'send nothing' WHERE position = 1")
    ran = cli("verify", dispute, "--json")
    assert ran.code == 1
    assert [(p["exhibit"], p["problem"]) for p in ran.json["disputes"][0]["problems"]] == [(1, "messages_altered")]


def test_reread_takes_the_profile_order_and_keeps_an_option(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    chat = tmp_path / "chat.txt"
    chat.write_text("5/3/25, 14:20 - Anna: hi\n6/3/25, 09:00 - Shop: ok\n", encoding="utf-8")
    assert cli("profile", "--date-order", "mdy", "--json").json["date_order"] == "mdy"
    ran = cli("add", dispute, chat, "--tz", "UTC", "--json")
    assert ran.json["added"][0]["captured_at"] == "2025-05-03T14:20:00+00:00"
    assert ran.json["added"][0]["warnings"] == []
    ran = cli("reread", dispute, "1", "--date-order", "dmy", "--json")
    assert (ran.json["date_order"], ran.json["date_order_source"]) == ("dmy", "option")
    ran = cli("reread", dispute, "1", "--me", "Anna", "--json")  # the option given last time is kept
    assert (ran.json["date_order"], ran.json["me"]) == ("dmy", "Anna")
    assert cli("profile", "--date-order", "xyz").code != 0
    assert cli("reread", dispute, "7").code == 1


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


def test_pack_prints_the_assumed_date_order_above_the_transcript(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    import re
    import subprocess

    chat = tmp_path / "chat.txt"
    chat.write_text("5/3/25, 14:20 - Anna: hi\n6/3/25, 09:00 - Shop: Missed voice call\n", encoding="utf-8")
    assert cli("add", dispute, chat, "--tz", "UTC").code == 0

    def pack_text(lang: str) -> str:
        out = tmp_path / f"pack-{lang}-{len(list(tmp_path.glob('pack-*')))}.pdf"  # a new file each time
        ran = cli("export", dispute, "--lang", lang, "-o", out)
        assert ran.code == 0, ran.err
        text = subprocess.run(["pdftotext", out, "-"], capture_output=True, text=True, check=True).stdout
        return re.sub(r"\s+", "", text)

    en, zh = pack_text("en"), pack_text("zh")
    assert "Dateorderassumed" in en and "day/month/year" in en
    assert "日期顺序为推定" in zh and "日/月/年" in zh
    assert "(servicemessage)" in en  # the missed call is set apart, not Shop's
    cli("reread", dispute, "1", "--date-order", "mdy")
    assert "Dateorderassumed" not in pack_text("en")


def test_a_chat_of_no_known_format_is_stored_with_a_warning(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    odd = tmp_path / "export.txt"  # times without dates: no format this version reads
    odd.write_text("".join(f"[14:{m:02d}] {who}: message {m}\n" for m, who in
                           zip(range(20, 28), ["Anna", "Shop"] * 4)), encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_text("Shopping list\n14:22 meeting: bring notes\nmilk\nbread\neggs\ncall Shop at 3\n",
                     encoding="utf-8")
    ran = cli("add", dispute, odd, notes, "--json")
    assert ran.code == 0, ran.err
    chatty, plain = ran.json["added"]
    assert chatty["kind"] != "chat"
    (warning,) = chatty["warnings"]
    assert "looks like a chat export (8 of 8 lines" in warning and "--chat-format" in warning
    assert f"locker reread {dispute} 1 --chat-format" in warning
    assert plain["warnings"] == []


def _make_eml(path: Path, *, html_only: bool = False) -> Path:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "优品数码 <shop@example.com>"
    msg["To"] = "Zhang San <zhang@example.com>"
    msg["Subject"] = "关于退款 refund request"
    msg["Date"] = "Sat, 03 May 2025 14:22:10 +0800"
    msg["Message-ID"] = "<1@example.com>"
    if html_only:
        msg.set_content("<html><head><style>p{}</style></head><body><p>We <b>refuse</b> the refund.</p></body></html>",
                        subtype="html")
    else:
        msg.set_content("We refuse the refund.\n退款不予受理。\n")
        msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf")
    path.write_bytes(bytes(msg))
    return path


def test_email_is_a_document_with_its_date_headers_text_and_attachments(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    mail = _make_eml(tmp_path / "refund.eml")
    html = _make_eml(tmp_path / "refund-html.eml", html_only=True)
    ran = cli("add", dispute, mail, html, "--tz", "UTC", "--json")
    assert ran.code == 0, ran.err
    first, second = ran.json["added"]
    assert first["kind"] == "document"
    assert (first["captured_at"], first["captured_at_source"]) == ("2025-05-03T14:22:10+08:00", "email")
    meta = cli("show", dispute, "1", "--json").json["exhibit"]["metadata"]["email"]
    assert meta["from"] == "优品数码 <shop@example.com>" and meta["to"] == "Zhang San <zhang@example.com>"
    assert meta["subject"] == "关于退款 refund request" and meta["body"] == "text/plain"
    assert meta["attachments"] == [{"name": "invoice.pdf", "type": "application/pdf", "size": 13}]
    assert second["captured_at_source"] == "email"
    assert cli("show", dispute, "2", "--json").json["exhibit"]["metadata"]["email"]["body"] == "text/html"
    hits = cli("search", "不予受理", "--json").json["hits"]
    assert [h["exhibit"] for h in hits] == [1]
    hits = cli("search", "refuse", "--json").json["hits"]
    assert sorted(h["exhibit"] for h in hits) == [1, 2]
    assert cli("verify", "--json").code == 0


def test_show_sets_system_lines_apart(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    chat = tmp_path / "chat.txt"
    chat.write_text("03/05/2025, 14:20 - Anna: hi\n03/05/2025, 14:21 - Shop: This message was deleted\n",
                    encoding="utf-8")
    assert cli("add", dispute, chat, "--me", "Anna").code == 0
    out = cli("show", dispute, "1").out
    assert "── Shop: This message was deleted ──" in out
    assert "Shop: This message was deleted" not in out.replace("── Shop: This message was deleted ──", "")
    messages = cli("show", dispute, "1", "--json").json["messages"]
    assert [(m["sender"], m["system"]) for m in messages] == [("Anna", False), (None, True)]


def test_a_chats_wall_clock_times_are_in_an_assumed_zone(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    """A WhatsApp or plain-lines export names no zone: the user's zone is put on its times, and
    show and the pack say so. Telegram's date_unixtime is an exact instant: nothing is assumed."""
    import re
    import subprocess

    plain = samples.make_plain_chat(tmp_path / "chat.txt")
    telegram = samples.make_telegram_json(tmp_path / "result.json")
    assert cli("add", dispute, plain, telegram, "--tz", "Asia/Shanghai").code == 0
    one = cli("show", dispute, "1", "--json").json["exhibit"]["metadata"]
    two = cli("show", dispute, "2", "--json").json["exhibit"]["metadata"]
    assert one["captured_at_offset_assumed"] is True and one["captured_at_tz"] == "Asia/Shanghai"
    assert two["captured_at_offset_assumed"] is False and "captured_at_tz" not in two
    rows = {line.split()[0]: line for line in cli("show", dispute).out.splitlines() if line.strip()[:1].isdigit()}
    assert "zone assumed" in rows["1"] and "zone assumed" not in rows["2"]
    assert "zone assumed: Asia/Shanghai" in cli("show", dispute, "1").out
    out = tmp_path / "pack.pdf"
    assert cli("export", dispute, "-o", out).code == 0
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", out, "-"], capture_output=True, text=True,
                                             check=True).stdout)
    assert "时区：Asia/ShanghaiUTC+08:00，时区推定" in text
    assert "时区：Asia/ShanghaiUTC+08:00底色" in text  # the Telegram transcript's zone is not assumed
