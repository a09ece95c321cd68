"""The --json document of `locker import`, pinned by its schema (and the error document of a refusal)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests import samples
from tests.test_contract import check, schema


def test_import_document_matches_its_schema(cli, dispute: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    assert cli("add", dispute, samples.make_jpeg(tmp_path / "a.jpg"), samples.make_plain_chat(tmp_path / "chat.txt")).code == 0
    bundle = tmp_path / "b.zip"
    assert cli("bundle", dispute, "-o", bundle).code == 0
    monkeypatch.setenv("LOCKER_HOME", str(tmp_path / "second"))
    ran = cli("import", bundle, "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "import")
    assert set(ran.json) == set(schema("import")["properties"])
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(bundle) as zin, zipfile.ZipFile(damaged, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, data + b"x" if "/data/originals/" in info.filename else data)
    ran = cli("import", damaged, "--json")
    assert ran.code == 1
    check(ran.json, "error")
    ran = cli("import", damaged, "--as", "damaged", "--allow-damaged", "--json")
    assert ran.code == 0 and ran.json["problems"] and ran.json["verified"] is False
    check(ran.json, "import")


def test_import_schema_rejects_extra_keys() -> None:
    doc = schema("import")
    assert doc["additionalProperties"] is False
    assert all(d.get("additionalProperties") is False for d in doc.get("$defs", {}).values())
