"""The --json documents of ``locker bundle`` and ``locker verify --bundle`` against their schemas."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests import samples

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def test_bundle_and_verify_bundle_documents_match_their_schemas(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    assert cli("add", dispute, samples.make_random(tmp_path / "a.bin", size=3000)).code == 0
    made = cli("bundle", dispute, "--json")
    assert made.code == 0, made.err
    jsonschema.validate(made.json, _schema("bundle.schema.json"))
    checked = cli("verify", "--bundle", made.json["path"], "--json")
    assert checked.code == 0, checked.out
    jsonschema.validate(checked.json, _schema("verify.schema.json"))
    refused = cli("bundle", "no-such-dispute", "--json")
    assert refused.code != 0
    jsonschema.validate(refused.json, _schema("error.schema.json"))
