"""``bundle --stamp`` and the tokens inside a bundle, with a real local TSA (``openssl ts -reply`` on
127.0.0.1, tests/tsa_server.py): the stored tokens travel in data/timestamps/, the tag manifest's token
beside it; ``verify --bundle`` checks each offline and names a flipped one; ``openssl ts -verify`` checks
the tag manifest's token against the file itself, as VERIFY.txt tells the recipient."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

from tests import samples
from tests.test_bundle import _flip, _unzip
from tests.tsa_server import tsa, tsa_down  # noqa: F401 (fixtures)


def test_bundle_stamp_and_stored_tokens(cli, dispute: str, tmp_path: Path, tsa) -> None:  # noqa: ANN001, F811
    assert cli("add", dispute, samples.make_random(tmp_path / "a.bin", size=4000)).code == 0
    ran = cli("stamp", dispute, "--tsa", tsa.url)
    assert ran.code == 0, ran.err
    ran = cli("bundle", dispute, "--stamp", "--tsa", tsa.url, "--json")
    assert ran.code == 0, ran.err
    doc = ran.json
    assert doc["stamped_by"] and doc["tokens"] == ["data/timestamps/001-custody.tsr", "tagmanifest-sha256.txt.tsr"]
    with zipfile.ZipFile(doc["path"]) as zf:
        names = zf.namelist()
    for name in ("data/timestamps/001-custody.tsr", "data/timestamps/001-custody.json",
                 "tagmanifest-sha256.txt.tsr"):
        assert f"earbuds/{name}" in names
    log = cli("log", dispute, "--json").json
    assert [e["action"] for e in log[-3:]] == ["export.created", "timestamp.added", "bundle.created"]
    assert log[-2]["payload"]["subject"] == f"bundle:{Path(doc['path']).name}"
    assert log[-2]["payload"]["sha256"] == doc["tagmanifest_sha256"]

    ran = cli("--home", tmp_path / "none", "verify", "--bundle", doc["path"], "--json")
    assert ran.code == 0, ran.out
    ran = cli("--home", tmp_path / "none", "verify", "--bundle", doc["path"])
    assert "2 timestamp token(s) checked" in ran.out

    bag = _unzip(Path(doc["path"]), tmp_path / "out")
    pem = bag / "tagmanifest-sha256.txt.pem"
    proc = subprocess.run(["openssl", "ts", "-verify", "-data", "tagmanifest-sha256.txt", "-in",
                           "tagmanifest-sha256.txt.tsr", "-CAfile", pem.name, "-partial_chain"],
                          cwd=bag, capture_output=True, text=True)
    assert proc.returncode == 0 and "Verification: OK" in proc.stdout, proc.stdout + proc.stderr
    side = json.loads((bag / "data" / "timestamps" / "001-custody.json").read_text())
    assert side["sha256"] == log[[e["action"] for e in log].index("timestamp.added") - 1]["hash"]

    for member in ("data/timestamps/001-custody.tsr", "tagmanifest-sha256.txt.tsr"):
        bad = tmp_path / "bad.zip"
        size = len((bag / member).read_bytes())
        _flip(Path(doc["path"]), bad, f"earbuds/{member}", size - 40)  # inside the signature or the signed data
        ran = cli("--home", tmp_path / "none", "verify", "--bundle", bad, "--json")
        assert ran.code == 1, (member, ran.out)
        details = [p["detail"] for p in ran.json["disputes"][0]["problems"]]
        assert any(d.startswith(f"{member}: ") for d in details), details
        problems = {p["problem"] for p in ran.json["disputes"][0]["problems"]}
        assert "token_mismatch" in problems, problems


def test_no_token_means_no_bundle(cli, dispute: str, tmp_path: Path, home: Path, tsa_down) -> None:  # noqa: ANN001, F811
    assert cli("add", dispute, samples.make_random(tmp_path / "a.bin", size=4000)).code == 0
    ran = cli("bundle", dispute, "--stamp", "--tsa", tsa_down.url)
    assert ran.code == 1 and ran.err
    assert not list((home / "disputes" / dispute / "exports").glob("*.zip"))
    assert not list((home / "disputes" / dispute / "exports").glob(".tmp-*"))
    actions = [e["action"] for e in cli("log", dispute, "--json").json]
    assert "bundle.created" not in actions and "timestamp.added" not in actions
