"""One chat detector: what ``probe`` calls a chat is what the chat registry detects (and parses)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

try:
    from tests import samples
except ImportError:  # tests/ is not a package: pytest puts tests/ itself on sys.path
    import samples

from locker.chats import ChatError, ChatParse, Options, Sample, Source, detect_format, parse_chat, register, unregister
from locker.media import looks_like_chat, probe

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZH = [("我", "你好，收到的商品是坏的"), ("商家", "抱歉，请发一下照片"), ("我", "已发，我要求退款"), ("商家", "好的，已同意退款")]


def test_a_file_no_parser_can_decode_is_not_probed_as_a_chat(tmp_path: Path) -> None:
    """A GBK WhatsApp chat with a control byte: the strict decoding of a prefix (the old, separate
    sniffer) read it as a chat that no parser could then decode; the registry does not."""
    path = samples.make_whatsapp_android_chat(tmp_path / "wa-gbk.txt", ZH, encoding="gbk")
    path.write_bytes(path.read_bytes().replace(b" - Messages", b" -\x1bMessages"))
    found = probe(path, path.name, SHANGHAI)
    assert found.kind != "chat" and "chat_format" not in found.metadata
    assert detect_format(path) is None
    with pytest.raises(ChatError):
        parse_chat(path, tz=SHANGHAI)


class _Tagged:
    """A plug-in format: text files whose first line is ``#tagged-chat``."""

    name = "test_tagged"

    def detect(self, sample: Sample) -> float:
        return 1.0 if (sample.text or "").startswith("#tagged-chat\n") else 0.0

    def parse(self, source: Source, options: Options) -> ChatParse:
        raise ChatError("not needed here")


def test_probe_finds_a_plug_in_format(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("#tagged-chat\nhello\n", encoding="utf-8")
    register(_Tagged())
    try:
        found = probe(path, path.name, SHANGHAI)
        assert (found.kind, found.metadata.get("chat_format")) == ("chat", "test_tagged")
    finally:
        unregister("test_tagged")
    assert probe(path, path.name, SHANGHAI).kind == "other"


@pytest.mark.parametrize("maker", [samples.make_whatsapp_ios_zip, samples.make_plain_chat, samples.make_telegram_json])
def test_looks_like_chat_asks_zips_about_zip_formats_and_text_about_the_others(tmp_path: Path, maker) -> None:  # noqa: ANN001
    path = maker(tmp_path / "chat")
    fmt = detect_format(path)
    assert fmt is not None
    is_zip = fmt.endswith("_zip")
    assert looks_like_chat(path, "application/zip") == (fmt if is_zip else None)
    assert looks_like_chat(path, "text/plain") == (None if is_zip else fmt)
    assert looks_like_chat(path, "image/png") is None
