"""The --json documents of `locker stamp`, `export --stamp` and `profile --tsa`, pinned by their schemas."""

from __future__ import annotations

from tests.test_contract import check, schema
from tests.tsa_server import tsa, tsa_down  # noqa: F401 (fixtures)


def test_stamp_export_and_profile_documents_match_their_schemas(cli, dispute, tmp_path, tsa, tsa_down) -> None:  # noqa: ANN001, F811
    note = tmp_path / "note.txt"
    note.write_text("商家答复：不予退款", encoding="utf-8")
    assert cli("add", dispute, note).code == 0
    ran = cli("stamp", dispute, "--tsa", tsa_down.url, "--tsa", tsa.url, "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "stamp")
    assert set(ran.json) == set(schema("stamp")["properties"]) and len(ran.json["failed"]) == 1
    ran = cli("export", dispute, "--stamp", "--tsa", tsa.url, "-o", tmp_path / "pack.pdf", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "export")
    assert set(ran.json["timestamp"]) == set(schema("export")["properties"]["timestamp"]["properties"])
    ran = cli("profile", "--tsa", tsa.url, "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "profile")
    ran = cli("stamp", dispute, "--tsa", tsa_down.url, "--json")
    assert ran.code == 1
    check(ran.json, "error")
    assert ran.json["error"]["code"] == "tsa"
