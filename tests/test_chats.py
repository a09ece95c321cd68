"""locker.chats: every chat format and encoding, bad input, the normalized document, fuzzing."""

from __future__ import annotations

import codecs
import io
import json
import time
import tracemalloc
import zipfile
from datetime import UTC, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:
    from tests import samples
    from tests.conftest import REPO
except ImportError:  # tests/ is not a package: pytest puts tests/ itself on sys.path
    import samples
    from conftest import REPO

from locker.chats import (
    FORMATS,
    ChatError,
    ChatParse,
    Message,
    Options,
    Sample,
    Source,
    build,
    detect_format,
    is_media_placeholder,
    parse_bytes,
    parse_chat,
    parsers,
    register,
    to_document,
    unregister,
)
from locker.chats.encoding import decode_text
from locker.media import looks_like_chat

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
SCHEMA = json.loads((REPO / "schemas" / "chat.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())

# Chinese text that must come back exactly: full-width punctuation, a rare name character (喆,
# outside GB2312), digits, Latin, ￥, a middle dot; all of it encodable in GBK.
ZH = [
    ("我", "你好，收到的商品是坏的（左耳没有声音）"),
    ("优品数码旗舰店", "抱歉！请发一下照片，谢谢～"),
    ("我", "已发。我要求退款￥199.00，订单号250501123456789"),
    ("客服·喆", "好的，已同意退款；3个工作日内到账"),
]
EN = [("Anna", "Hi, the parcel arrived damaged"), ("Shop", "Sorry! Please send a photo"),
      ("Anna", "Sent. I would like a refund"), ("Shop", "Refund approved")]


def parse(path: Path, **kw) -> ChatParse:
    kw.setdefault("tz", SHANGHAI)
    return parse_chat(path, **kw)


def text_of(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def write(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text_of(lines, encoding))
    return path


def assert_valid_document(parsed: ChatParse, me: str | None = None) -> dict:
    doc = to_document(parsed, me)
    errors = sorted(VALIDATOR.iter_errors(doc), key=str)
    assert not errors, [e.message for e in errors]
    return doc


def triples(parsed: ChatParse) -> list[tuple]:
    return [(m.at, m.sender, m.text, m.me, m.kind) for m in parsed.messages]


# --------------------------------------------------------------------------- one sample per format and encoding

ANDROID_TIMES = ["2025-05-03T14:22:00+08:00", "2025-05-03T14:23:00+08:00", "2025-05-03T14:24:00+08:00",
                 "2025-05-03T14:25:00+08:00"]
IOS_TIMES = ["2025-05-03T14:22:10+08:00", "2025-05-03T14:23:10+08:00", "2025-05-03T14:24:10+08:00",
             "2025-05-03T14:25:10+08:00"]
CN_TIMES = ["2025-05-05T09:12:30+08:00", "2025-05-05T09:13:30+08:00", "2025-05-05T09:14:30+08:00",
            "2025-05-05T09:15:30+08:00"]

SAMPLES = [
    # (id, maker, file name, format, encoding, messages, times, parse options)
    ("whatsapp-android", lambda p: samples.make_whatsapp_android_chat(p, ZH), "WhatsApp Chat with Shop.txt",
     "whatsapp_android", "utf-8", ZH, ANDROID_TIMES, {"date_order": "dmy"}),
    ("whatsapp-android-gbk", lambda p: samples.make_whatsapp_android_chat(p, ZH, encoding="gbk"), "wa-gbk.txt",
     "whatsapp_android", "gb18030", ZH, ANDROID_TIMES, {"date_order": "dmy"}),
    ("whatsapp-ios", lambda p: samples.make_whatsapp_ios_chat(p, EN), "_chat.txt", "whatsapp_ios", "utf-8",
     EN, IOS_TIMES, {"date_order": "dmy"}),
    ("whatsapp-ios-utf16", lambda p: samples.make_whatsapp_ios_chat(p, ZH, encoding="utf-16"), "_chat.txt",
     "whatsapp_ios", "utf-16", ZH, IOS_TIMES, {"date_order": "dmy"}),
    ("whatsapp-ios-zip", lambda p: samples.make_whatsapp_ios_zip(p, ZH, attachments=3), "WhatsApp Chat - Shop.zip",
     "whatsapp_ios_zip", "utf-8", ZH, IOS_TIMES, {"date_order": "dmy"}),
    ("whatsapp-android-zip", lambda p: samples.make_whatsapp_android_zip(p, EN), "WhatsApp Chat with Shop.zip",
     "whatsapp_android_zip", "utf-8", EN, ANDROID_TIMES, {"date_order": "dmy"}),
    ("telegram", lambda p: samples.make_telegram_json(p, ZH), "result.json", "telegram_json", "utf-8", ZH,
     IOS_TIMES, {}),
    ("memotrace-csv", lambda p: samples.make_memotrace_csv(p, ZH), "wechat.csv", "wechat_memotrace_csv",
     "utf-8-sig", ZH, CN_TIMES, {}),
    ("memotrace-csv-gbk", lambda p: samples.make_memotrace_csv(p, ZH, encoding="gbk"), "wechat-gbk.csv",
     "wechat_memotrace_csv", "gb18030", ZH, CN_TIMES, {}),
    ("memotrace-txt", lambda p: samples.make_memotrace_txt(p, ZH), "wechat.txt", "wechat_memotrace_txt", "utf-8",
     ZH, CN_TIMES, {}),
    ("memotrace-txt-gb18030", lambda p: samples.make_memotrace_txt(p, ZH, encoding="gb18030"), "wechat-gb.txt",
     "wechat_memotrace_txt", "gb18030", ZH, CN_TIMES, {}),
    ("csv-chinese", lambda p: samples.make_csv_chat(p, ZH), "chat.csv", "csv_chat", "utf-8", ZH, CN_TIMES, {}),
    ("csv-english", lambda p: samples.make_csv_chat(p, EN, chinese=False), "chat.csv", "csv_chat", "utf-8", EN,
     CN_TIMES, {}),
    ("csv-gbk", lambda p: samples.make_csv_chat(p, ZH, encoding="gbk"), "chat-gbk.csv", "csv_chat", "gb18030", ZH,
     CN_TIMES, {}),
    ("csv-utf8-bom", lambda p: samples.make_csv_chat(p, ZH, encoding="utf-8-sig"), "chat-bom.csv", "csv_chat",
     "utf-8-sig", ZH, CN_TIMES, {}),
    ("plain", lambda p: samples.make_plain_chat(p, ZH), "chat.txt", "plain_lines", "utf-8", ZH, CN_TIMES, {}),
    ("plain-gbk", lambda p: samples.make_plain_chat(p, ZH, encoding="gbk", colon=":"), "gbk.txt", "plain_lines",
     "gb18030", ZH, CN_TIMES, {}),
    ("plain-gb18030", lambda p: samples.make_plain_chat(p, ZH, encoding="gb18030"), "gb18030.txt", "plain_lines",
     "gb18030", ZH, CN_TIMES, {}),
    ("plain-utf16", lambda p: samples.make_plain_chat(p, ZH, encoding="utf-16"), "u16.txt", "plain_lines",
     "utf-16", ZH, CN_TIMES, {}),
    ("plain-utf8-bom", lambda p: samples.make_plain_chat(p, ZH, encoding="utf-8-sig"), "bom.txt", "plain_lines",
     "utf-8-sig", ZH, CN_TIMES, {}),
]


@pytest.mark.parametrize(("maker", "name", "fmt", "encoding", "messages", "times", "options"),
                         [s[1:] for s in SAMPLES], ids=[s[0] for s in SAMPLES])
def test_sample(tmp_path: Path, maker, name: str, fmt: str, encoding: str, messages, times, options) -> None:
    path = maker(tmp_path / name)
    assert detect_format(path) == fmt
    me = messages[0][0]
    parsed = parse(path, me=me, **options)
    assert (parsed.format, parsed.encoding, parsed.tz) == (fmt, encoding, "Asia/Shanghai")
    real = [m for m in parsed.messages if m.kind != "service"]
    assert [(m.sender, m.text) for m in real] == list(messages)  # Chinese text round-trips exactly
    assert [m.at for m in real] == times
    assert [m.me for m in real] == [who == me for who, _ in messages]
    assert all(m.kind == "message" for m in real)
    assert parsed.participants == tuple(dict.fromkeys(who for who, _ in messages))
    assert [m.position for m in parsed.messages] == list(range(len(parsed.messages)))
    assert parsed.warnings == ()
    assert parsed.count == len(parsed.messages)
    assert parsed.last_at == times[-1]
    assert_valid_document(parsed, me)


@pytest.mark.parametrize(("maker", "name", "fmt"), [s[1:4] for s in SAMPLES], ids=[s[0] for s in SAMPLES])
def test_probe_sniffing_agrees_with_detection(tmp_path: Path, maker, name: str, fmt: str) -> None:
    """locker.media's cheap look (which decides the kind "chat" on add) finds the same format."""
    path = maker(tmp_path / name)
    mime = "application/zip" if name.endswith(".zip") else "text/plain"
    assert looks_like_chat(path, mime) == detect_format(path) == fmt
    doc = to_document(parse(path, date_order="dmy"))
    normalized = tmp_path / "chat.json"
    normalized.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert looks_like_chat(normalized, "application/json") == detect_format(normalized) == "locker_chat_json"


def test_whatsapp_android_sample_has_its_service_line(tmp_path: Path) -> None:
    parsed = parse(samples.make_whatsapp_android_chat(tmp_path / "wa.txt"), tz=UTC, date_order="dmy", me="Anna")
    first = parsed.messages[0]
    assert first == Message(0, "2025-05-03T14:20:00+00:00", None, "Messages and calls are end-to-end encrypted.",
                            False, "service")
    assert parsed.first_at == "2025-05-03T14:20:00+00:00"
    assert parsed.count == 5 and parsed.participants == ("Anna", "Shop")
    assert parsed.date_order == "dmy" and parsed.tz == "UTC"


def test_memotrace_csv_is_sender_marks_me_without_me_option(tmp_path: Path) -> None:
    parsed = parse(samples.make_memotrace_csv(tmp_path / "w.csv", ZH))
    assert [m.me for m in parsed.messages] == [True, False, True, False]


# --------------------------------------------------------------------------- WhatsApp variants


def test_ambiguous_day_month_is_read_not_refused(tmp_path: Path) -> None:
    path = samples.make_whatsapp_android_chat(tmp_path / "wa.txt")  # 03/05/2025, 14:22: no day above 12
    parsed = parse(path)
    assert (parsed.date_order, parsed.date_order_source) == ("dmy", "locale")  # 4-digit years, 24-hour clock
    assert parsed.messages[1].at == "2025-05-03T14:22:00+08:00"
    parsed = parse(path, date_order="mdy")
    assert (parsed.date_order, parsed.date_order_source) == ("mdy", "option")
    assert parsed.messages[1].at == "2025-03-05T14:22:00+08:00"
    parsed = parse(path, date_order="mdy", date_order_source="profile")
    assert (parsed.date_order, parsed.date_order_source) == ("mdy", "profile")


def test_undecidable_dates_are_assumed_day_first_with_a_warning() -> None:
    data = text_of(["5/3/25, 14:22 - Anna: hi", "6/3/25, 09:00 - Shop: later"])
    parsed = parse_bytes(data, tz=UTC)
    assert (parsed.date_order, parsed.date_order_source) == ("dmy", "assumed")
    assert parsed.messages[0].at == "2025-03-05T14:22:00+00:00"
    (warning,) = parsed.warnings
    assert "assumption" in warning and "--date-order mdy" in warning and "locker reread" in warning
    assert to_document(parsed)["date_order_source"] == "assumed"


@pytest.mark.parametrize(("lines", "order"), [
    # upper-case AM/PM: en-US writes month first
    (["5/3/25, 2:22 PM - Anna: hi", "5/3/25, 2:23 PM - Shop: ok"], "mdy"),
    # lower-case am/pm: en-GB, en-IN, en-AU write day first
    (["5/3/25, 2:22 pm - Anna: hi", "5/3/25, 2:23 pm - Shop: ok"], "dmy"),
    # Spanish-style p. m. with non-breaking spaces
    (["5/3/25, 2:22\u202fp.\u00a0m. - Anna: hi", "5/3/25, 2:23\u202fp.\u00a0m. - Shop: ok"], "dmy"),
    # 上午/下午 before day-first dates: Hong Kong
    (["5/3/2025 下午2:22 - Anna: hi", "5/3/2025 下午2:23 - Shop: ok"], "dmy"),
])
def test_locale_signature_decides_undecidable_dates(lines: list[str], order: str) -> None:
    parsed = parse_bytes(text_of(lines), tz=UTC)
    assert (parsed.date_order, parsed.date_order_source) == (order, "locale")
    assert parsed.warnings == ()


def test_profile_order_that_does_not_fit_the_dates_gives_way_to_the_data() -> None:
    data = text_of(["25/03/2025, 14:22 - Anna: hi", "26/03/2025, 09:00 - Shop: later"])
    parsed = parse_bytes(data, tz=UTC, date_order="mdy", date_order_source="profile")
    assert (parsed.date_order, parsed.date_order_source) == ("dmy", "data")
    assert "profile" in parsed.warnings[0]
    assert parsed.messages[0].at == "2025-03-25T14:22:00+00:00"


def test_whatsapp_dot_after_time_and_year_first_dates() -> None:
    data = text_of(["2022/12/14 13:34. - Anna: hola", "2022/12/14 13:35. - Tienda: buenas: sí"])
    parsed = parse_bytes(data, tz=UTC)
    assert parsed.format == "whatsapp_android"
    assert (parsed.date_order, parsed.date_order_source) == ("ymd", "data")
    assert [(m.at, m.sender, m.text) for m in parsed.messages] == [
        ("2022-12-14T13:34:00+00:00", "Anna", "hola"), ("2022-12-14T13:35:00+00:00", "Tienda", "buenas: sí")]
    dotted = text_of(["14/12/22, 13:34. - Anna: hola", "14/12/22, 13:35. - Tienda: ok"])
    assert parse_bytes(dotted, tz=UTC).messages[1].at == "2022-12-14T13:35:00+00:00"


@pytest.mark.parametrize(("lines", "order", "first_at"), [
    (["03/05/2025, 14:22 - Anna: hi", "13/05/2025, 09:00 - Shop: later"], "dmy", "2025-05-03T14:22:00+08:00"),
    (["05/03/2025, 14:22 - Anna: hi", "05/13/2025, 09:00 - Shop: later"], "mdy", "2025-05-03T14:22:00+08:00"),
    # no day above 12, but only day-first keeps the export in chronological order
    (["12/05/2025, 14:22 - Anna: hi", "01/06/2025, 09:00 - Shop: later"], "dmy", "2025-05-12T14:22:00+08:00"),
    (["05/12/2025, 14:22 - Anna: hi", "06/01/2025, 09:00 - Shop: later"], "mdy", "2025-05-12T14:22:00+08:00"),
    # dotted dates are day-first in every locale that writes them
    (["03.05.25, 14:22 - Anna: hi", "04.05.25, 09:00 - Shop: later"], "dmy", "2025-05-03T14:22:00+08:00"),
    # year first: no ambiguity
    (["2025/5/3 14:22 - Anna: hi", "2025/5/4 09:00 - Shop: later"], "ymd", "2025-05-03T14:22:00+08:00"),
])
def test_date_order_is_inferred(tmp_path: Path, lines: list[str], order: str, first_at: str) -> None:
    parsed = parse(write(tmp_path, "wa.txt", lines))
    assert parsed.format == "whatsapp_android"
    assert parsed.date_order == order
    assert parsed.messages[0].at == first_at


@pytest.mark.parametrize(("lines", "times"), [
    (["5/3/25, 2:22 PM - Anna: hi", "5/13/25, 12:05 AM - Shop: night", "5/13/25, 12:30 PM - Shop: noon"],
     ["2025-05-03T14:22:00+08:00", "2025-05-13T00:05:00+08:00", "2025-05-13T12:30:00+08:00"]),
    (["[5/3/25, 2:22:10\u202fPM] Anna: hi", "[5/13/25, 9:05:00\u202fAM] Shop: morning"],
     ["2025-05-03T14:22:10+08:00", "2025-05-13T09:05:00+08:00"]),
    (["2025/5/3 下午2:22 - 卖家: 你好", "2025/5/3 上午12:30 - 我: 深夜", "2025/5/4 上午9:05 - 卖家: 早"],
     ["2025-05-03T14:22:00+08:00", "2025-05-03T00:30:00+08:00", "2025-05-04T09:05:00+08:00"]),
    (["[2025/5/3 下午2:22:10] 卖家: 你好", "[2025/5/3 晚上11:00:00] 我: 好的"],
     ["2025-05-03T14:22:10+08:00", "2025-05-03T23:00:00+08:00"]),
    (["13/5/2025, 2:22 p. m. - Ana: hola", "13/5/2025, 9:05 a. m. - Tienda: buenos días"],
     ["2025-05-13T14:22:00+08:00", "2025-05-13T09:05:00+08:00"]),
    (["[12.3.2022 klo 14.08.18] Matti: moi", "[13.3.2022 klo 9.01.00] Kauppa: hei"],
     ["2022-03-12T14:08:18+08:00", "2022-03-13T09:01:00+08:00"]),
])
def test_twelve_hour_and_locale_variants(tmp_path: Path, lines: list[str], times: list[str]) -> None:
    parsed = parse(write(tmp_path, "chat.txt", lines))
    assert parsed.format.startswith("whatsapp_")
    assert [m.at for m in parsed.messages] == times
    assert all(m.kind == "message" for m in parsed.messages)


def test_direction_marks_are_stripped_from_names_not_from_text(tmp_path: Path) -> None:
    lines = [
        "\u200e[13/05/2025, 14:22:10] \u202a+86 138 0013 8000\u202c: \u200eimage omitted",
        "[13/05/2025, 14:22:30] \u202a+86 138 0013 8000\u202c: 收到了吗\u200f?",
        "\u200e[13/05/2025, 14:23:00] Shop: \u200eMessages and calls are end-to-end encrypted.",
        "[13/05/2025, 14:24:00] \u2068Shop\u2069: <attached: 00000012-PHOTO-2025-05-13-14-24-00.jpg>",
    ]
    parsed = parse(write(tmp_path, "_chat.txt", lines), me=" \u202a+86 138 0013 8000\u202c ")
    got = [(m.sender, m.text, m.me, m.kind) for m in parsed.messages]
    assert got == [
        ("+86 138 0013 8000", "image omitted", True, "media"),
        ("+86 138 0013 8000", "收到了吗\u200f?", True, "message"),
        (None, "Shop: Messages and calls are end-to-end encrypted.", False, "service"),
        ("Shop", "<attached: 00000012-PHOTO-2025-05-13-14-24-00.jpg>", False, "media"),
    ]
    assert parsed.participants == ("+86 138 0013 8000", "Shop")


def test_continuation_lines_join_the_message_above(tmp_path: Path) -> None:
    lines = [
        "13/05/2025, 14:22 - Anna: first line",
        "second line",
        "",
        "after a blank line",
        "13/05/2025, 14:23 - Shop: IMG-20250513-WA0001.jpg (file attached)",
        "caption of the photo",
        "13/05/2025, 14:24 - Anna: last",
        "",
        "",
    ]
    parsed = parse(write(tmp_path, "wa.txt", lines))
    assert [(m.text, m.kind) for m in parsed.messages] == [
        ("first line\nsecond line\n\nafter a blank line", "message"),
        ("IMG-20250513-WA0001.jpg (file attached)\ncaption of the photo", "media"),
        ("last", "message"),
    ]
    assert parsed.warnings == ()


def test_crlf_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "wa.txt"
    path.write_bytes(b"13/05/2025, 14:22 - Anna: one\r\ntwo\r\n13/05/2025, 14:23 - Shop: three\r\n")
    assert [m.text for m in parse(path).messages] == ["one\ntwo", "three"]


def test_unparsed_lines_are_kept_and_counted(tmp_path: Path) -> None:
    lines = [
        "some text someone pasted above the export",
        "13/05/2025, 14:22 - Anna: hello",
        "31/02/2025, 14:23 - Anna: a date that does not exist",
        "13/05/2025, 25:61 - Anna: a time that does not exist",
        "13/05/2025 14:24 Shop without the dash",
        "13/05/2025, 14:25 - Shop: still read",
        "and its second line",
    ]
    parsed = parse(write(tmp_path, "wa.txt", lines))
    assert [(m.kind, m.text) for m in parsed.messages] == [
        ("unparsed", lines[0]),
        ("message", "hello"),
        ("unparsed", lines[2]),
        ("unparsed", lines[3]),
        ("unparsed", lines[4]),
        ("message", "still read\nand its second line"),
    ]
    unparsed = [m for m in parsed.messages if m.kind == "unparsed"]
    assert all(m.at is None and m.sender is None and not m.me for m in unparsed)
    assert len(parsed.warnings) == 1 and parsed.warnings[0].startswith("4 lines could not be read")
    assert_valid_document(parsed)


def test_a_file_of_only_broken_lines_is_not_a_chat(tmp_path: Path) -> None:
    path = write(tmp_path, "wa.txt", ["31/02/2025, 14:23 - Anna: x", "30/02/2025, 14:23 - Anna: y"])
    with pytest.raises(ChatError, match="no line reads as a whatsapp_android message"):
        parse(path, fmt="whatsapp_android", date_order="dmy")


@pytest.mark.parametrize("text", [
    "<Media omitted>", "<Medien ausgeschlossen>", "<媒体文件已省略>", "image omitted", "sticker omitted",
    "<attached: 00000012-PHOTO-2025-05-03-14-22-10.jpg>", "<附件：00000012-PHOTO-2025-05-03-14-22-10.jpg>",
    "IMG-20250503-WA0001.jpg (file attached)", "[图片]", "[语音] 5\"", "[文件] 发票.pdf", "[视频]", "[表情]",
    "图片已忽略",
])
def test_media_placeholders(text: str) -> None:
    assert is_media_placeholder(text)


@pytest.mark.parametrize("text", ["<3", "[微笑]", "hello [图片]", "I omitted nothing", "(file attached)", "", "<>"])
def test_not_media_placeholders(text: str) -> None:
    assert not is_media_placeholder(text)


def test_placeholders_keep_their_text_in_every_line_format(tmp_path: Path) -> None:
    plain = parse(write(tmp_path, "p.txt", ["2025-05-05 09:12:30 商家：[图片]", "2025-05-05 09:12:31 我：好"]))
    assert [(m.text, m.kind) for m in plain.messages] == [("[图片]", "media"), ("好", "message")]
    wa = parse(write(tmp_path, "w.txt", ["13/05/2025, 14:22 - Anna: <Media omitted>", "13/05/2025, 14:23 - Shop: ok"]))
    assert [(m.text, m.kind) for m in wa.messages] == [("<Media omitted>", "media"), ("ok", "message")]


# --------------------------------------------------------------------------- ZIP


def test_ios_zip_reads_only_the_chat_member(tmp_path: Path) -> None:
    path = samples.make_whatsapp_ios_zip(tmp_path / "export.zip", EN, attachments=5)
    parsed = parse(path, date_order="dmy", me="Anna")
    assert parsed.format == "whatsapp_ios_zip"
    assert [m.sender for m in parsed.messages] == ["Anna", "Shop", "Anna", "Shop"]
    assert [m.me for m in parsed.messages] == [True, False, True, False]


def test_zip_with_a_chat_in_a_folder_and_other_text(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("notes.txt", "not the chat")
        zf.writestr("WhatsApp Chat - Shop/_chat.txt", "[13/05/25, 14:22:10] Anna: hi\n[13/05/25, 14:23:10] Shop: yo\n")
    assert detect_format(path) == "whatsapp_ios_zip"
    assert [m.text for m in parse(path).messages] == ["hi", "yo"]


def test_zip_without_a_chat(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", "hello\n")
        zf.writestr("b.txt", "world\n")
    assert detect_format(path) is None
    with pytest.raises(ChatError, match="_chat.txt"):
        parse(path, fmt="whatsapp_ios_zip")


def test_zip_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    line = b"[13/05/25, 14:22:10] Anna: " + b"x" * 100 + b"\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("_chat.txt", "w") as member:
            chunk = line * 10_000
            for _ in range(20):  # ~26 MB that deflate to ~100 KB
                member.write(chunk)
    tracemalloc.start()
    try:
        assert detect_format(path) == "whatsapp_ios_zip"  # its first 64 KiB are a chat
        with pytest.raises(ChatError, match="ZIP bomb"):
            parse(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_damaged_zip(tmp_path: Path) -> None:
    good = samples.make_whatsapp_ios_zip(tmp_path / "good.zip").read_bytes()
    path = tmp_path / "bad.zip"
    path.write_bytes(good[: len(good) // 2])
    assert detect_format(path) is None
    with pytest.raises(ChatError):
        parse(path, fmt="whatsapp_ios_zip")


# --------------------------------------------------------------------------- plain lines


def test_plain_lines_variants(tmp_path: Path) -> None:
    lines = [
        "2025-05-05 09:12:30 商家：你好",
        "2025/5/5 9:13 我: 好的",
        "2025年5月5日 下午2:30 商家：下午好",
        "2025-05-05 09:14:00 客服 小美 ：名字里有空格",
        "2025-05-05 09:15:00 没有冒号的一行",
        "第二行",
    ]
    parsed = parse(write(tmp_path, "chat.txt", lines))
    assert parsed.format == "plain_lines"
    assert [(m.at, m.sender, m.text, m.kind) for m in parsed.messages] == [
        ("2025-05-05T09:12:30+08:00", "商家", "你好", "message"),
        ("2025-05-05T09:13:00+08:00", "我", "好的", "message"),
        ("2025-05-05T14:30:00+08:00", "商家", "下午好", "message"),
        ("2025-05-05T09:14:00+08:00", "客服 小美", "名字里有空格", "message"),
        (None, None, "2025-05-05 09:15:00 没有冒号的一行\n第二行", "unparsed"),
    ]
    assert parsed.warnings[0].startswith("1 line could not be read")


def test_a_log_file_is_not_a_chat(tmp_path: Path) -> None:
    path = write(tmp_path, "app.log", ["2025-05-05 09:12:30 INFO: server started",
                                       "2025-05-05 09:12:31 ERROR: disk full"])
    assert detect_format(path) is None


# --------------------------------------------------------------------------- Telegram


def test_telegram_entities_service_media_and_exact_instants(tmp_path: Path) -> None:
    doc = {
        "name": "优品数码", "type": "personal_chat", "id": 1,
        "messages": [
            {"id": 1, "type": "service", "date": "2025-05-03T14:20:00", "date_unixtime": "1746253200",
             "actor": "优品数码", "actor_id": "user1", "action": "phone_call", "text": ""},
            {"id": 2, "type": "message", "date": "2025-05-03T14:22:10", "date_unixtime": "1746253330",
             "from": "我", "from_id": "user2",
             "text": ["订单 ", {"type": "bold", "text": "250501123456789"}, " 的耳机坏了，见 ",
                      {"type": "link", "text": "https://example.com/p/1"}],
             "text_entities": []},
            {"id": 3, "type": "message", "date": "2025-05-03T14:23:00", "date_unixtime": "1746253380",
             "from": "优品数码", "photo": "photos/photo_1@03-05-2025_14-23-00.jpg", "text": "请看这张图"},
            {"id": 4, "type": "message", "date": "2025-05-03T14:24:00", "date_unixtime": "1746253440",
             "from": "我", "file": "(File not included. Change data exporting settings to download.)",
             "media_type": "sticker", "sticker_emoji": "👍", "text": ""},
            {"id": 5, "type": "message", "date": "2025-05-03T14:25:00", "from": "优品数码",
             "text": "没有 date_unixtime"},
            "not a message",
        ],
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert detect_format(path) == "telegram_json"
    parsed = parse(path, tz=BERLIN, me="我")
    assert triples(parsed) == [
        ("2025-05-03T08:20:00+02:00", None, "优品数码: [phone_call]", False, "service"),
        ("2025-05-03T08:22:10+02:00", "我", "订单 250501123456789 的耳机坏了，见 https://example.com/p/1", True,
         "message"),
        ("2025-05-03T08:23:00+02:00", "优品数码", "请看这张图", False, "media"),
        ("2025-05-03T08:24:00+02:00", "我", "[sticker 👍]", True, "media"),
        # without date_unixtime, the zone-less date is wall-clock time in tz
        ("2025-05-03T14:25:00+02:00", "优品数码", "没有 date_unixtime", False, "message"),
        (None, None, '"not a message"', False, "unparsed"),
    ]
    assert parsed.participants == ("我", "优品数码")
    assert parsed.warnings[0].startswith("1 line could not be read")
    assert_valid_document(parsed, "我")


def test_telegram_full_export_with_one_chat(tmp_path: Path) -> None:
    single = samples.make_telegram_json(tmp_path / "one.json", EN)
    chat = json.loads(single.read_text(encoding="utf-8"))
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"about": "x", "chats": {"about": "y", "list": [chat]}}), encoding="utf-8")
    parsed = parse(path, fmt="telegram_json")
    assert [m.text for m in parsed.messages] == [text for _, text in EN]
    chat2 = dict(chat, name="other")
    path.write_text(json.dumps({"chats": {"list": [chat, chat2]}}), encoding="utf-8")
    with pytest.raises(ChatError, match="2 chats"):
        parse(path, fmt="telegram_json")


# --------------------------------------------------------------------------- WeChat (MemoTrace)


def test_memotrace_csv_types_and_one_to_one_rows(tmp_path: Path) -> None:
    header = "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender"
    rows = [  # a one-to-one chat: MemoTrace leaves the last three columns out
        "1,1,1,0,1,1746411150,2,你好，耳机坏了,2025-05-05 09:12:30",
        "2,1,3,0,0,1746411210,2,,2025-05-05 09:13:30",
        '3,1,10000,0,0,1746411270,2,"""优品数码""撤回了一条消息",2025-05-05 09:14:30',
        '4,1,1,0,0,1746411330,2,"多行\n消息，带逗号",2025-05-05 09:15:30',
        "5,1,34,0,1,1746411390,2,,",
        "6,1",
    ]
    path = tmp_path / "w.csv"
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode("utf-8-sig"))
    assert detect_format(path) == "wechat_memotrace_csv"
    parsed = parse(path)
    assert triples(parsed) == [
        ("2025-05-05T09:12:30+08:00", "我", "你好，耳机坏了", True, "message"),
        ("2025-05-05T09:13:30+08:00", "对方", "[图片]", False, "media"),
        ("2025-05-05T09:14:30+08:00", None, '"优品数码"撤回了一条消息', False, "service"),
        ("2025-05-05T09:15:30+08:00", "对方", "多行\n消息，带逗号", False, "message"),
        ("2025-05-05T10:16:30+08:00", "我", "[语音]", True, "media"),  # no StrTime: CreateTime
        (None, None, "6,1", False, "unparsed"),
    ]
    assert parse(path, me="Anna").messages[0].sender == "Anna"


def test_memotrace_txt_system_messages(tmp_path: Path) -> None:
    path = samples.make_memotrace_txt(tmp_path / "w.txt", ZH, system="你撤回了一条消息")
    parsed = parse(path, me="我")
    assert [(m.sender, m.text, m.kind) for m in parsed.messages][:2] == [
        ("我", ZH[0][1], "message"), (None, "你撤回了一条消息", "service")]
    assert parsed.participants == ("我", "优品数码旗舰店", "客服·喆")


# --------------------------------------------------------------------------- generic CSV


def test_csv_chat_columns_times_and_bad_rows(tmp_path: Path) -> None:
    lines = [
        "id;日期;时间;发送者;消息内容;是否本人",
        "1;2025-05-05;09:12:30;我;你好;1",
        "2;2025/5/5;9:13;商家;在的;0",
        "3;2025-05-05;07:14:30Z;商家;UTC 时间;0",
        "4;;;商家;没有时间;0",
        "5;2025-05-05",
    ]
    parsed = parse(write(tmp_path, "c.csv", lines))
    assert parsed.format == "csv_chat"
    assert triples(parsed) == [
        ("2025-05-05T09:12:30+08:00", "我", "你好", True, "message"),
        ("2025-05-05T09:13:00+08:00", "商家", "在的", False, "message"),
        ("2025-05-05T15:14:30+08:00", "商家", "UTC 时间", False, "message"),
        (None, "商家", "没有时间", False, "message"),
        (None, None, "5;2025-05-05", False, "unparsed"),
    ]
    assert any("1 message(s) have a time that could not be read" in w for w in parsed.warnings)


def test_csv_chat_epoch_and_offsets(tmp_path: Path) -> None:
    lines = ["timestamp,from,text", "1746411150,Shop,epoch seconds", "1746411150000,Shop,epoch ms",
             "2025-05-05T09:12:30+02:00,Anna,with offset", "2025-05-05 09:12,Anna,no seconds"]
    parsed = parse(write(tmp_path, "c.csv", lines), tz=UTC)
    assert [m.at for m in parsed.messages] == ["2025-05-05T02:12:30+00:00", "2025-05-05T02:12:30+00:00",
                                               "2025-05-05T07:12:30+00:00", "2025-05-05T09:12:00+00:00"]


# --------------------------------------------------------------------------- time zones


def test_fixed_offset_zone(tmp_path: Path) -> None:
    parsed = parse(samples.make_plain_chat(tmp_path / "p.txt", ZH), tz=timezone(timedelta(hours=8)))
    assert parsed.tz == "+08:00"
    assert parsed.messages[0].at == "2025-05-05T09:12:30+08:00"
    assert parse(samples.make_plain_chat(tmp_path / "q.txt", ZH), tz=UTC).tz == "UTC"


def test_daylight_saving_days(tmp_path: Path) -> None:
    lines = ["2025-03-30 01:30:00 Anna: before", "2025-03-30 03:30:00 Shop: after",
             "2025-10-26 02:30:00 Anna: in the fold", "2025-10-27 12:00:00 Shop: winter"]
    parsed = parse(write(tmp_path, "p.txt", lines), tz=BERLIN)
    assert [m.at for m in parsed.messages] == ["2025-03-30T01:30:00+01:00", "2025-03-30T03:30:00+02:00",
                                               "2025-10-26T02:30:00+02:00", "2025-10-27T12:00:00+01:00"]
    assert parsed.first_at == "2025-03-30T01:30:00+01:00" and parsed.last_at == "2025-10-27T12:00:00+01:00"


# --------------------------------------------------------------------------- the normalized document


def test_hand_written_document(tmp_path: Path) -> None:
    doc = {
        "format": "locker-chat", "version": 1, "me": "我",
        "messages": [
            {"at": "2025-05-05 09:12:30", "sender": "我", "text": "你好"},
            {"at": "2025-05-05T01:13:30Z", "sender": "商家", "text": "[图片]"},
            {"at": None, "sender": None, "text": "（系统）对方已退款", "kind": "service"},
            {"at": "yesterday", "sender": "商家", "text": "时间写错了"},
        ],
    }
    assert not list(VALIDATOR.iter_errors({**doc, "messages": doc["messages"][:3]}))
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert detect_format(path) == "locker_chat_json"
    parsed = parse(path)
    assert triples(parsed) == [
        ("2025-05-05T09:12:30+08:00", "我", "你好", True, "message"),
        ("2025-05-05T09:13:30+08:00", "商家", "[图片]", False, "media"),
        (None, None, "（系统）对方已退款", False, "service"),
        (None, "商家", "时间写错了", False, "message"),
    ]
    assert parsed.warnings == ("1 message(s) have a time that could not be read",)


@pytest.mark.parametrize("bad", [
    {"format": "locker-chat", "version": 2, "messages": []},
    {"format": "locker-chat", "version": 1, "messages": "none"},
    {"format": "other", "version": 1, "messages": []},
    [1, 2, 3],
])
def test_bad_documents(tmp_path: Path, bad: object) -> None:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ChatError):
        parse(path, fmt="locker_chat_json")


@pytest.mark.parametrize(("maker", "name", "fmt", "encoding", "messages", "times", "options"),
                         [s[1:] for s in SAMPLES], ids=[s[0] for s in SAMPLES])
def test_round_trip_through_the_normalized_document(tmp_path: Path, maker, name, fmt, encoding, messages, times,
                                                    options) -> None:
    parsed = parse(maker(tmp_path / name), me=messages[0][0], **options)
    doc = assert_valid_document(parsed, messages[0][0])
    assert doc["source_format"] == fmt and doc["me"] == messages[0][0]
    path = tmp_path / "normalized.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    back = parse(path)
    assert back.format == "locker_chat_json"
    assert back.messages == parsed.messages
    assert back.participants == parsed.participants


# --------------------------------------------------------------------------- encodings


def test_decode_text_rules() -> None:
    zh = "商家：你好，退款￥199"
    assert decode_text(zh.encode("gbk")) == (zh, "gb18030")
    assert decode_text(zh.encode()) == (zh, "utf-8")
    assert decode_text(codecs.BOM_UTF8 + zh.encode()) == (zh, "utf-8-sig")
    assert decode_text(zh.encode("utf-16")) == (zh, "utf-16")
    assert decode_text(codecs.BOM_UTF16_BE + zh.encode("utf-16-be")) == (zh, "utf-16")
    assert decode_text(zh.encode("utf-32")) == (zh, "utf-32")
    assert decode_text("2025-05-05 09:12:30 Shop: hi\n".encode("utf-16-le")) == (
        "2025-05-05 09:12:30 Shop: hi\n", "utf-16-le")
    assert decode_text("表情😀".encode("gb18030")) == ("表情😀", "gb18030")  # 4-byte GB18030
    for bad in (b"", b"\x00\x01\x02\x03" * 100):
        with pytest.raises(ChatError):
            decode_text(bad)


@pytest.mark.parametrize(("text", "encoding"), [
    ("您好，收到的商品是壞的。請發一下照片，我要求退款。這個耳機左邊沒有聲音。" * 3, "big5"),
    ("こんにちは、届いた商品が壊れていました。写真を送ってください。返金をお願いします。" * 3, "shift_jis"),
    ("Здравствуйте, посылка пришла повреждённой. Пожалуйста, пришлите фото." * 3, "cp1251"),
])
def test_other_encodings_are_not_taken_for_gb18030(text: str, encoding: str) -> None:
    decoded, name = decode_text(text.encode(encoding))
    assert name != "gb18030"
    assert decoded == text


def test_random_bytes_are_never_a_chat(tmp_path: Path) -> None:
    for seed in range(20):
        path = samples.make_random(tmp_path / f"r{seed}.txt", 3000, seed)
        assert detect_format(path) is None
        with pytest.raises(ChatError):
            parse(path)


@pytest.mark.parametrize("text", [
    "Dear merchant,\nthe parcel arrived damaged.\nPlease refund.\n",
    "2025-05-05 09:12:30 商家：只有一行\n",
    "a,b,c\n1,2,3\n",
    '{"name": "x", "messages": "not a list"}',
    "2025-05-05 09:12:30 商家：一\n" + "no chat here\n" * 20 + "2025-05-05 09:12:31 我：二\n",
])
def test_not_a_chat(tmp_path: Path, text: str) -> None:
    path = tmp_path / "note.txt"
    path.write_text(text, encoding="utf-8")
    assert detect_format(path) is None
    with pytest.raises(ChatError, match="not a chat export"):
        parse(path)


def test_paths_that_are_not_files(tmp_path: Path) -> None:
    with pytest.raises(ChatError, match="not a readable file"):
        parse(tmp_path / "missing.txt")
    with pytest.raises(ChatError):
        parse(tmp_path)
    assert detect_format(tmp_path / "missing.txt") is None


def test_bad_options(tmp_path: Path) -> None:
    path = samples.make_plain_chat(tmp_path / "p.txt")
    with pytest.raises(ChatError, match="date order"):
        parse(path, date_order="ydm")
    with pytest.raises(ChatError, match="unknown chat format"):
        parse(path, fmt="icq")


# --------------------------------------------------------------------------- big input


def test_a_huge_line_does_not_blow_up(tmp_path: Path) -> None:
    size = 20 * 1024 * 1024
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:
        f.write(b"13/05/2025, 14:22 - Anna: hi\n13/05/2025, 14:23 - Shop: ")
        f.write(b"x" * size)
        f.write(b"\n")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        parsed = parse(path, fmt="whatsapp_android")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 20
    assert [len(m.text) for m in parsed.messages] == [2, size]
    assert peak < 5 * size


def test_a_long_chat(tmp_path: Path) -> None:
    messages = [m for i in range(5_000) for m in (("商家", f"第{i}条：您好，请问有什么可以帮您？"), ("Anna", f"message {i}"))]
    path = samples.make_csv_chat(tmp_path / "long.csv", messages)
    parsed = parse(path, me="Anna")
    assert parsed.count == 10_000
    assert sum(m.me for m in parsed.messages) == 5_000
    assert parsed.messages[-1].text == "message 4999"


# --------------------------------------------------------------------------- the registry


class EchoParser:
    """A plug-in: files starting with "ECHO" are chats with one message per line."""

    name = "test_echo"

    def detect(self, sample: Sample) -> float:
        return 1.0 if sample.text and sample.text.startswith("ECHO\n") else 0.0

    def parse(self, source: Source, options: Options) -> ChatParse:
        text, encoding = source.text()
        messages = [Message(i, None, "echo", line, options.me == "echo", "message")
                    for i, line in enumerate(text.splitlines()[1:])]
        return build(self.name, encoding, options, messages)


def test_a_plug_in_registers_like_the_built_ins(tmp_path: Path) -> None:
    assert [p.name for p in parsers()][: len(FORMATS)] == sorted(FORMATS, key=[p.name for p in parsers()].index)
    assert set(FORMATS) <= {p.name for p in parsers()}
    path = tmp_path / "echo.txt"
    path.write_text("ECHO\none\ntwo\n", encoding="utf-8")
    assert detect_format(path) is None
    register(EchoParser())
    try:
        with pytest.raises(ValueError):
            register(EchoParser())
        assert detect_format(path) == "test_echo"
        parsed = parse(path, me="echo")
        assert (parsed.format, [m.text for m in parsed.messages], parsed.participants) == (
            "test_echo", ["one", "two"], ("echo",))
    finally:
        unregister("test_echo")
    assert detect_format(path) is None


# --------------------------------------------------------------------------- fuzzing: only ChatError escapes

FRAGMENTS = [
    "03/05/2025, ", "13/05/25, ", "2025-05-05 ", "2025/5/5 ", "[", "]", "14:22", ":10", " - ", " PM", "上午", "下午",
    "Anna", "商家", ": ", "：", "\n", "\r\n", "\u200e", "\u202a", ",", ";", "\t", '"', "{", "}", "[图片]",
    "<Media omitted>", "时间,发送人,内容\n", "StrTime,IsSender,StrContent,Type\n", '"messages": [', '"text": ',
    '"format": "locker-chat", "version": 1, ', "31/02/2025, ", "99:99", "1746411150", "x" * 30, "",
]
chat_like = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
DATES = st.sampled_from(["03/05/2025", "13/05/25", "5/13/25", "31/02/2025", "2025/5/3", "03.05.25", "00/00/0000",
                         "12/12/12", "99/99/99", "2025-05-05", "2025年5月5日", "1/1/1"])
TIMES = st.sampled_from(["14:22", "14:22:10", "2:22 PM", "12:00\u202fAM", "下午2:22", "中午1:00", "25:61",
                         "9.05.00", "00:00", "13:00 AM", "23:59:59"])
NAMES = st.sampled_from(["Anna", "商家", "\u202a+86 138 0013 8000\u202c", "客服 小美", "INFO", "x" * 120, ""])
TEXTS = st.one_of(st.sampled_from(["hi", "[图片]", "<Media omitted>", "\u200eimage omitted", "a: b", "：", ""]),
                  st.text(max_size=30))
chat_lines = st.lists(st.one_of(
    st.tuples(DATES, TIMES, NAMES, TEXTS).map(lambda t: f"{t[0]}, {t[1]} - {t[2]}: {t[3]}"),
    st.tuples(DATES, TIMES, NAMES, TEXTS).map(lambda t: f"\u200e[{t[0]}, {t[1]}] {t[2]}: {t[3]}"),
    st.tuples(DATES, TIMES, NAMES, TEXTS).map(lambda t: f"{t[0]} {t[1]} {t[2]}：{t[3]}"),
    st.tuples(DATES, TIMES, NAMES).map(lambda t: f"{t[0]} {t[1]}:00 {t[2]}"),
    st.tuples(DATES, TIMES, NAMES, TEXTS).map(lambda t: f"{t[0]} {t[1]},{t[2]},{t[3]}"),
    TEXTS,
), max_size=30).map("\n".join)
FUZZ = settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALL_FORMATS = [None, *FORMATS]


def _only_chat_errors(data: bytes, fmt: str | None, **kw) -> None:
    try:
        parsed = parse_bytes(data, tz=SHANGHAI, fmt=fmt, **kw)
    except ChatError as err:
        assert "\n" not in str(err)
        return
    assert all(m.kind in ("message", "media", "service", "unparsed") for m in parsed.messages)
    assert [m.position for m in parsed.messages] == list(range(len(parsed.messages)))
    assert not list(VALIDATOR.iter_errors(to_document(parsed)))


@pytest.mark.parametrize("fmt", ALL_FORMATS)
@FUZZ
@given(data=st.binary(max_size=2000))
def test_fuzz_random_bytes(fmt: str | None, data: bytes) -> None:
    _only_chat_errors(data, fmt)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
@FUZZ
@given(text=st.text(max_size=500), encoding=st.sampled_from(["utf-8", "utf-16", "gb18030"]))
def test_fuzz_random_text(fmt: str | None, text: str, encoding: str) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:  # lone surrogates
        return
    _only_chat_errors(data, fmt)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
@FUZZ
@given(text=st.one_of(chat_like, chat_lines), order=st.sampled_from([None, "dmy", "mdy", "ymd"]),
       header=st.sampled_from(["", "时间,发送人,内容\n", "localId,Type,IsSender,StrContent,StrTime\n"]))
def test_fuzz_chat_like_text(fmt: str | None, text: str, order: str | None, header: str) -> None:
    _only_chat_errors((header + text).encode("utf-8"), fmt, date_order=order)


@FUZZ
@given(text=st.one_of(st.text(max_size=300), chat_like, chat_lines), complete=st.booleans(),
       head=st.one_of(st.binary(max_size=64), st.just(b"PK\x03\x04" + bytes(40))))
def test_fuzz_detectors_never_raise(text: str, complete: bool, head: bytes) -> None:
    sample = Sample(text, complete, head, Source(data=head or b"x"))
    for parser in parsers():
        assert 0.0 <= parser.detect(sample) <= 1.0
        assert 0.0 <= parser.detect(Sample(None, complete, head, None)) <= 1.0


@FUZZ
@given(text=chat_like, flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=5))
def test_fuzz_zips(text: str, flips: list[tuple[int, int]]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("_chat.txt", text)
        zf.writestr("00000001-PHOTO.jpg", b"\xff\xd8" + bytes(100))
    data = bytearray(buffer.getvalue())
    for at, value in flips:
        data[at % len(data)] = value
    for fmt in (None, "whatsapp_ios_zip", "whatsapp_android_zip"):
        _only_chat_errors(bytes(data), fmt)


@FUZZ
@given(doc=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["format", "version", "messages", "text", "at", "sender", "me", "kind", "from", "date",
                         "date_unixtime", "type", "name", "chats", "list", "actor", "action", "photo",
                         "media_type"]),
        children, max_size=6),
    max_leaves=30))
def test_fuzz_json_documents(doc: object) -> None:
    for wrapper in (doc, {"format": "locker-chat", "version": 1, "messages": [doc]},
                    {"name": "x", "type": "personal_chat", "messages": [doc]}):
        data = json.dumps(wrapper).encode()
        for fmt in (None, "telegram_json", "locker_chat_json"):
            _only_chat_errors(data, fmt)


# --------------------------------------------------------------------------- system lines (issue 17, point 5)


def _who(parsed: ChatParse) -> list[tuple[str | None, str, str]]:
    return [(m.sender, m.text, m.kind) for m in parsed.messages]


def test_whatsapp_system_lines_are_nobodys() -> None:
    lines = [
        "03/05/2025, 14:20 - Messages and calls are end-to-end encrypted. No one outside of this chat can read them.",
        "03/05/2025, 14:21 - Anna created group \"Refund\"",
        "03/05/2025, 14:22 - Anna changed the subject from \"Refund\" to \"Refund: earbuds\"",
        "03/05/2025, 14:23 - Anna added Shop",
        "03/05/2025, 14:24 - Shop: This message was deleted",
        "03/05/2025, 14:25 - Anna: Missed voice call",
        "03/05/2025, 14:26 - Your security code with Shop changed. Tap to learn more.",
        "03/05/2025, 14:27 - Shop: <Media omitted>",
        "03/05/2025, 14:28 - Anna: I added a photo: see above",
        "03/05/2025, 14:29 - Shop left",
    ]
    parsed = parse_bytes(text_of(lines), tz=UTC, me="Anna")
    assert _who(parsed) == [
        (None, "Messages and calls are end-to-end encrypted. No one outside of this chat can read them.", "service"),
        (None, 'Anna created group "Refund"', "service"),
        (None, 'Anna changed the subject from "Refund" to "Refund: earbuds"', "service"),
        (None, "Anna added Shop", "service"),
        (None, "Shop: This message was deleted", "service"),
        (None, "Anna: Missed voice call", "service"),
        (None, "Your security code with Shop changed. Tap to learn more.", "service"),
        ("Shop", "<Media omitted>", "media"),  # a participant's photo: kept as theirs
        ("Anna", "I added a photo: see above", "message"),
        (None, "Shop left", "service"),
    ]
    assert [m.me for m in parsed.messages if m.kind == "service"] == [False] * 8
    assert parsed.participants == ("Shop", "Anna")
    doc = to_document(parsed)
    assert [m["system"] for m in doc["messages"]] == [m.kind == "service" for m in parsed.messages]
    jsonschema.validate(doc, json.loads((REPO / "schemas" / "chat.schema.json").read_text(encoding="utf-8")))


def test_chinese_system_lines_are_nobodys() -> None:
    lines = [
        "2025/5/3 下午2:20 - 消息和通话已进行端到端加密。对话之外的任何人都无法读取或收听。",
        "2025/5/3 下午2:21 - 商家: 此消息已删除",
        "2025/5/3 下午2:22 - 我: 你删除了此消息",
        "2025/5/3 下午2:23 - 商家: 未接语音通话",
        "2025/5/3 下午2:24 - 商家: 好的",
    ]
    parsed = parse_bytes(text_of(lines), tz=UTC, me="我")
    assert [(m.sender, m.kind) for m in parsed.messages] == [
        (None, "service"), (None, "service"), (None, "service"), (None, "service"), ("商家", "message")]
    assert parsed.messages[1].text == "商家: 此消息已删除"
    plain = text_of(["2025-05-05 09:12:30 商家：\"商家\" 撤回了一条消息", "2025-05-05 09:13:30 我：我拍了拍\"商家\"",
                     "2025-05-05 09:14:30 我：我要退款"])
    parsed = parse_bytes(plain, tz=UTC)
    assert parsed.format == "plain_lines"
    assert [(m.sender, m.kind) for m in parsed.messages] == [(None, "service"), (None, "service"), ("我", "message")]
    assert parsed.messages[0].text == '"商家" 撤回了一条消息'


def test_telegram_service_messages_are_nobodys() -> None:
    doc = {"name": "Shop", "type": "personal_chat", "id": 1, "messages": [
        {"id": 1, "type": "service", "date": "2025-05-03T14:20:00", "date_unixtime": "1746274800",
         "actor": "Anna", "actor_id": "user1", "action": "phone_call", "text": ""},
        {"id": 2, "type": "message", "date": "2025-05-03T14:21:00", "date_unixtime": "1746274860",
         "from": "Anna", "from_id": "user1", "text": "hi"},
    ]}
    parsed = parse_bytes(json.dumps(doc).encode(), tz=UTC, me="Anna")
    assert _who(parsed) == [(None, "Anna: [phone_call]", "service"), ("Anna", "hi", "message")]
    assert [m.me for m in parsed.messages] == [False, True]


# --------------------------------------------------------------------------- more formats (issue 17, point 6)


def _pywxdump_csv(rows: list[tuple[str, int, str, str]], *, old: bool = False) -> bytes:
    """A CSV as PyWxDump's export_csv writes it (columns from pywxdump/db/export/exportCSV.py;
    the older dbpreprocess version wrote ``content``, a JSON object, instead of ``msg,src``)."""
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf)
    tail = ["content"] if old else ["msg", "src"]
    writer.writerow(["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", *tail, "CreateTime"])
    for i, (type_name, mine, talker, msg) in enumerate(rows, 1):
        cells = [json.dumps({"src": "", "msg": msg}, ensure_ascii=False)] if old else [msg, ""]
        writer.writerow([i, 7000 + i, type_name, mine, talker, "wxid_shop", *cells, f"2024-04-20 10:{i:02d}:00"])
    return buf.getvalue().encode("utf-8")


PYWX_ROWS = [
    ("文本", 0, "wxid_shop", "你好，耳机坏了"),
    ("文本", 1, "我", "我要退款"),
    ("图片", 0, "wxid_shop", "图片"),
    ("语音", 1, "我", "语音时长：12.40秒\n翻译结果：请退款"),
    ("动画表情", 0, "wxid_shop", "表情"),
    ("转账消息", 0, "wxid_shop", "转账：￥50.00\n转账说明：部分退款\n转账时间：2024-04-20 10:05:00\n"),
    ("系统通知", 0, "wxid_shop", "\"商家\" 撤回了一条消息"),
    ("拍一拍", 1, "我", "我拍了拍\"商家\""),
]
PYWX_EXPECTED = [
    ("2024-04-20T10:01:00+08:00", "wxid_shop", "你好，耳机坏了", False, "message"),
    ("2024-04-20T10:02:00+08:00", "我", "我要退款", True, "message"),
    ("2024-04-20T10:03:00+08:00", "wxid_shop", "[图片]", False, "media"),
    ("2024-04-20T10:04:00+08:00", "我", "[语音 12″]\n请退款", True, "media"),
    ("2024-04-20T10:05:00+08:00", "wxid_shop", "[表情]", False, "media"),
    ("2024-04-20T10:06:00+08:00", "wxid_shop", "[转账 ¥50.00] 部分退款", False, "media"),
    ("2024-04-20T10:07:00+08:00", None, "\"商家\" 撤回了一条消息", False, "service"),
    ("2024-04-20T10:08:00+08:00", None, "我拍了拍\"商家\"", False, "service"),
]


@pytest.mark.parametrize("old", [False, True], ids=["msg-src", "json-content"])
def test_pywxdump_csv(tmp_path: Path, old: bool) -> None:
    path = tmp_path / "wxid_shop_0_5000.csv"
    path.write_bytes(_pywxdump_csv(PYWX_ROWS, old=old))
    assert detect_format(path) == "wechat_pywxdump_csv"
    assert looks_like_chat(path, "text/csv") is not None
    parsed = parse(path)
    assert parsed.format == "wechat_pywxdump_csv"
    assert [(m.at, m.sender, m.text, m.me, m.kind) for m in parsed.messages] == PYWX_EXPECTED
    assert parsed.participants == ("wxid_shop", "我")


def test_telegram_single_chat_result_json_without_a_chats_wrapper(tmp_path: Path) -> None:
    doc = {"name": "优品数码", "type": "personal_chat", "id": 4242, "messages": [
        {"id": 1, "type": "message", "date": "2025-05-03T14:20:00", "date_unixtime": "1746274800",
         "from": "Anna", "from_id": "user1", "text": "hi", "text_entities": [{"type": "plain", "text": "hi"}]},
        {"id": 2, "type": "message", "date": "2025-05-03T14:21:00", "date_unixtime": "1746274860",
         "from": "优品数码", "from_id": "user2", "text": ["see ", {"type": "link", "text": "https://x.y"}],
         "text_entities": [{"type": "plain", "text": "see "}, {"type": "link", "text": "https://x.y"}]},
    ]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + " " * 70_000, encoding="utf-8")  # > 64 KiB
    assert detect_format(path) == "telegram_json"
    parsed = parse(path, tz=UTC)
    assert [(m.at, m.sender, m.text) for m in parsed.messages] == [
        ("2025-05-03T12:20:00+00:00", "Anna", "hi"), ("2025-05-03T12:21:00+00:00", "优品数码", "see https://x.y")]


DATA = REPO / "tests" / "data" / "chats"


def test_real_telegram_single_export_without_name_or_type() -> None:
    # chat-miner's trimmed single-chat result.json: only a messages list (see tests/data/SOURCES.md)
    path = DATA / "chat-miner_telegram_test_single_export.json"
    assert detect_format(path) == "telegram_json"
    assert looks_like_chat(path, "application/json") == "telegram_json"
    parsed = parse(path, tz=UTC)
    assert [(m.at, m.sender, m.text) for m in parsed.messages] == [
        ("2018-12-05T10:39:10+00:00", "Author 1", "Minimal Message"),
        ("2018-12-05T10:49:24+00:00", "Author 2", "Link:https://telegram.org/"),
    ]


def test_real_whatsapp_exports_from_chat_miner() -> None:
    us = parse(DATA / "chat-miner_whatsapp_test_dateformat1.txt", tz=UTC)
    assert (us.format, us.date_order, us.date_order_source) == ("whatsapp_android", "mdy", "data")
    assert us.messages[0].at == "2019-12-24T11:23:00+00:00"
    assert [(m.sender, m.text[:30], m.kind) for m in us.messages[5:]] == [
        (None, "Messages and calls are end-to-", "service"),
        (None, '+12 345 578 created group "Gro', "service"),
        (None, "You were added", "service"),
        ("+12 345 578", "Lorem ipsum.", "message"),
    ]
    assert us.participants == ("John Doe", "John-John Doe", "Jahn Doe", "+12 345 578")
    eu = parse(DATA / "chat-miner_whatsapp_test_dateformat6.txt", tz=UTC)
    assert (eu.date_order, eu.date_order_source) == ("dmy", "data")
    assert [m.at for m in eu.messages] == ["2021-10-21T15:21:45+00:00", "2021-10-22T15:21:46+00:00",
                                           "2021-10-23T15:21:47+00:00", "2021-10-24T15:21:48+00:00"]
