"""The --json documents of DESIGN.md, pinned: each is validated against its schema."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import jsonschema
import pytest

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


@cache
def schema(name: str) -> dict:
    doc = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(doc)
    return doc


def check(doc: object, name: str) -> None:
    jsonschema.Draft202012Validator(schema(name), format_checker=jsonschema.FormatChecker()).validate(doc)


def test_every_schema_is_valid() -> None:
    names = sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))
    assert names, "no schemas"
    for name in names:
        schema(name)


def test_every_json_document_matches_its_schema(cli, tmp_path: Path) -> None:  # noqa: ANN001
    from tests import samples

    ran = cli("new", "耳机退款 earbuds", "--amount", "199", "--purchased-on", "2025-05-01", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "new")
    assert set(ran.json) == set(schema("new")["properties"]) - {"from_screenshot"}  # only with --from-screenshot
    slug = ran.json["slug"]

    photo = samples.make_jpeg_with_exif(tmp_path / "IMG_20250503_150102.jpg")
    shot = samples.make_png(tmp_path / "Screenshot_20250503-142210.png", 1080, 2340)
    ran = cli("add", slug, photo, shot, tmp_path / "missing.png", "--json")
    assert ran.code == 1
    check(ran.json, "add")
    assert [a["exhibit"] for a in ran.json["added"]] == [1, 2]
    assert ran.json["errors"][0]["error"] == "no such file or folder"

    ran = cli("event", slug, "商家拒绝退款", "--at", "2025-05-03 15:21", "--type", "refusal", "--exhibit", "1", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "event")

    for args, name in ((("list",), "list"), (("show", slug), "show"), (("show", slug, "1"), "show-exhibit"),
                       (("verify",), "verify"), (("log", slug), "log"), (("profile", "--name", "张三"), "profile")):
        ran = cli(*args, "--json")
        assert ran.code == 0, (args, ran.err)
        check(ran.json, name)

    head = json.loads((Path(os.environ["LOCKER_HOME"]) / "disputes" / slug / "custody-head.json").read_text())
    check(head, "custody-head")
    assert head["seq"] == len(cli("log", slug, "--json").json)


@pytest.mark.parametrize("name", ["new", "add", "list", "show", "show-exhibit", "verify", "log", "event", "profile",
                                  "error"])
def test_schemas_reject_extra_keys(name: str) -> None:
    doc = schema(name)
    target = doc["items"] if doc.get("type") == "array" else doc
    assert target.get("additionalProperties") is False


def test_export_document_matches_its_schema(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    from tests import samples

    photo = samples.make_jpeg_with_exif(tmp_path / "IMG_20250503_150102.jpg")
    assert cli("add", dispute, photo).code == 0
    ran = cli("export", dispute, "-o", tmp_path / "pack.pdf", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "export")
    assert set(ran.json) == set(schema("export")["properties"])
    assert ran.json["exhibits"] == [1] and ran.json["lang"] == "zh" and ran.json["path"].endswith("pack.pdf")
    assert schema("export").get("additionalProperties") is False


def test_search_and_reindex_documents_match_their_schemas(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    from tests import samples

    chat = samples.make_plain_chat(tmp_path / "chat.txt")
    assert cli("add", dispute, chat, "--note", "商家同意退款", "--json").code == 0
    assert cli("event", dispute, "商家拒绝退款", "--at", "2025-05-03 15:21", "--json").code == 0
    ran = cli("search", "退款", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "search")
    assert set(ran.json) == set(schema("search")["properties"])
    assert {(h["exhibit"], h["field"]) for h in ran.json["hits"]} >= {(None, "title"), (1, "note"), (None, "event"),
                                                                     (1, "message")}
    assert cli("search", "没有这样的话", "--json").json == {"query": "没有这样的话", "hits": []}
    ran = cli("reindex", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "reindex")
    assert set(ran.json) == set(schema("reindex")["properties"])
    for name in ("search", "reindex"):
        assert schema(name)["additionalProperties"] is False
    assert schema("search")["properties"]["hits"]["items"]["additionalProperties"] is False


def test_reread_and_chat_messages_match_their_schemas(cli, tmp_path: Path) -> None:  # noqa: ANN001
    slug = cli("new", "chat", "--json").json["slug"]
    chat = tmp_path / "chat.txt"
    chat.write_text("5/3/25, 14:20 - Anna: hi\n5/3/25, 14:21 - Shop: This message was deleted\n", encoding="utf-8")
    assert cli("add", slug, chat, "--json").code == 0
    ran = cli("reread", slug, "1", "--date-order", "mdy", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "reread")
    assert set(ran.json) == set(schema("reread")["properties"])
    shown = cli("show", slug, "1", "--json").json
    check(shown, "show-exhibit")
    assert [m["system"] for m in shown["messages"]] == [False, True]
    check(cli("log", slug, "--json").json, "log")


def test_status_document_matches_its_schema(cli, dispute) -> None:  # noqa: ANN001
    from locker.domain import STATUSES

    ran = cli("status", dispute, "negotiating", "--note", "merchant answered", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "status")
    assert set(ran.json) == set(schema("status")["properties"])
    assert ran.json["slug"] == dispute and ran.json["status"] == "negotiating"
    assert schema("status")["additionalProperties"] is False
    assert tuple(schema("status")["properties"]["status"]["enum"]) == STATUSES
