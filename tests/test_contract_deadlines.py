"""The --json documents of `locker due` and `locker next`, pinned by their schemas."""

from __future__ import annotations

import pytest

from tests.test_contract import check, schema


def test_due_and_next_documents_match_their_schemas(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    assert cli("event", dispute, "收到耳机", "--at", "2025-05-03 10:00", "--type", "delivery").code == 0
    for args in (("平台介入申请截止", "--at", "2025-05-10"), ("商家答复", "--at", "2199-05-08 18:00+08:00"),
                 ("打错了", "--at", "2025-05-11")):
        ran = cli("due", dispute, *args, "--json")
        assert ran.code == 0, ran.err
        check(ran.json, "due-change")
    for args in (("--done", "1"), ("--remove", "3", "--reason", "typo")):
        ran = cli("due", dispute, *args, "--json")
        assert ran.code == 0, ran.err
        check(ran.json, "due-change")
    assert cli("new", "另一个纠纷", "--slug", "other").code == 0
    for args in ((), (dispute,), ("--all",), ("--ics", tmp_path / "due.ics")):
        ran = cli("due", *args, "--json")
        assert ran.code == 0, ran.err
        check(ran.json, "due")
    assert set(ran.json) == set(schema("due")["properties"])
    for ref in (dispute, "other"):
        ran = cli("next", ref, "--json")
        assert ran.code == 0, ran.err
        check(ran.json, "next")
    assert set(ran.json) == set(schema("next")["properties"])
    ran = cli("due", "nosuch", "--json")
    assert ran.code == 1
    check(ran.json, "error")


@pytest.mark.parametrize("name", ["due", "due-change", "next"])
def test_deadline_schemas_reject_extra_keys(name: str) -> None:
    doc = schema(name)
    assert doc["additionalProperties"] is False
    assert all(d.get("additionalProperties") is False for d in doc.get("$defs", {}).values())
