"""Tampering is found and named: objects, custody entries, exhibit rows."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests import samples


@pytest.fixture
def filled(cli, dispute, home, tmp_path):  # noqa: ANN001, ANN201
    files = [samples.make_png(tmp_path / f"s{i}.png", 200, 400, seed=i) for i in range(3)]
    ran = cli("add", dispute, *files, "--json")
    assert ran.code == 0, ran.err
    cli("status", dispute, "negotiating")
    folder = home / "disputes" / dispute
    return folder, ran.json["added"]


def problems(cli, dispute):  # noqa: ANN001, ANN201
    ran = cli("verify", dispute, "--json")
    doc = ran.json
    assert (ran.code == 0) == doc["ok"]
    return ran.code, [(p["exhibit"], p["problem"]) for p in doc["disputes"][0]["problems"]]


def obj(folder: Path, sha: str) -> Path:
    return folder / "objects" / sha[:2] / sha[2:]


def test_clean_dispute_verifies(cli, dispute, filled) -> None:  # noqa: ANN001
    code, found = problems(cli, dispute)
    assert (code, found) == (0, [])
    assert "OK" in cli("verify").out


def test_flipped_byte_is_found(cli, dispute, filled) -> None:  # noqa: ANN001
    folder, added = filled
    path = obj(folder, added[1]["sha256"])
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert problems(cli, dispute) == (1, [(2, "hash_mismatch")])
    human = cli("verify", dispute)
    assert human.code == 1 and "exhibit 2: hash_mismatch" in human.out


def test_missing_and_extra_objects_are_found(cli, dispute, filled) -> None:  # noqa: ANN001
    folder, added = filled
    obj(folder, added[0]["sha256"]).unlink()
    stray = obj(folder, "ab" * 32)
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"planted")
    code, found = problems(cli, dispute)
    assert code == 1
    assert sorted(found, key=str) == sorted([(1, "object_missing"), (None, "object_unexpected")], key=str)


def _sql(folder: Path, statement: str, *args: object) -> None:
    con = sqlite3.connect(folder / "dispute.sqlite")
    with con:
        con.execute(statement, args)
    con.close()


def test_edited_custody_payload_is_found(cli, dispute, filled) -> None:  # noqa: ANN001
    folder, _ = filled
    _sql(folder, "UPDATE custody SET payload = replace(payload, 's1.png', 'forged.png') WHERE seq = 3")
    code, found = problems(cli, dispute)
    assert code == 1 and (None, "custody_entry_altered") in found


def test_deleted_custody_entry_is_found(cli, dispute, filled) -> None:  # noqa: ANN001
    folder, _ = filled
    _sql(folder, "DELETE FROM custody WHERE seq = 3")
    code, found = problems(cli, dispute)
    assert code == 1
    assert (None, "custody_sequence") in found and (None, "custody_link") in found
    assert (2, "row_unrecorded") in found


def test_edited_exhibit_row_is_found(cli, dispute, filled) -> None:  # noqa: ANN001
    folder, _ = filled
    _sql(folder, "UPDATE exhibit SET captured_at = '2025-01-01T00:00:00+08:00' WHERE number = 3")
    _sql(folder, "UPDATE dispute SET status = 'resolved'")
    code, found = problems(cli, dispute)
    assert code == 1 and (3, "row_altered") in found and (None, "row_altered") in found


def test_every_problem_is_reported_not_only_the_first(cli, dispute, filled) -> None:  # noqa: ANN001
    folder, added = filled
    for entry in added:
        path = obj(folder, entry["sha256"])
        os.chmod(path, 0o644)
        path.write_bytes(path.read_bytes() + b"\0")
    code, found = problems(cli, dispute)
    assert code == 1 and found == [(1, "hash_mismatch"), (2, "hash_mismatch"), (3, "hash_mismatch")]


@pytest.mark.parametrize("payload", ["[1]", "null", "\"text\"", "42"])
def test_a_payload_that_is_json_but_not_an_object_is_reported_not_a_crash(cli, dispute, filled, payload) -> None:  # noqa: ANN001
    folder, _ = filled
    _sql(folder, "UPDATE custody SET payload = ? WHERE seq = 2", payload)
    code, found = problems(cli, dispute)
    assert code == 1 and (None, "custody_entry_altered") in found and (1, "row_unrecorded") in found
