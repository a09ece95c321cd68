"""``locker import``: a bundle made by ``locker bundle`` in one home becomes the same dispute in
another, with its custody chain kept and one ``imported`` entry added; a damaged bundle is refused
(unless --allow-damaged) and the receiving home is left exactly as it was."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from tests import samples


def _sent(cli, dispute: str, tmp_path: Path) -> Path:  # noqa: ANN001
    """A dispute with pictures, a chat, an event, a status change, a correction, a withdrawal and a
    deadline, bundled (in the sender's home, the test's home)."""
    files = tmp_path / "files"
    files.mkdir()
    ran = cli("add", dispute, samples.make_png(files / "Screenshot_20250503-142210.png", 300, 600),
              samples.make_jpeg_with_exif(files / "IMG_0001.jpg"), samples.make_plain_chat(files / "chat.txt"),
              "--json")
    assert ran.code == 0 and not ran.json["errors"], ran.out
    assert cli("add", dispute, samples.make_jpeg(files / "wrong.jpg", seed=7)).code == 0
    assert cli("event", dispute, "商家拒绝退款", "--at", "2025-05-03 15:21", "--exhibit", "1").code == 0
    assert cli("status", dispute, "negotiating", "--note", "merchant answered").code == 0
    assert cli("edit", dispute, "2", "--purpose", "证明商品破损").code == 0
    assert cli("withdraw", dispute, "4", "--reason", "wrong photo").code == 0
    assert cli("due", dispute, "平台介入申请截止", "--at", "2025-05-10").code == 0
    out = tmp_path / "out" / "earbuds.zip"
    out.parent.mkdir()
    ran = cli("bundle", dispute, "-o", out, "--lang", "en")
    assert ran.code == 0, ran.err
    return out


def _without(doc: dict, *keys: str) -> dict:
    return {k: v for k, v in doc.items() if k not in keys}


def test_round_trip_into_a_second_home(cli, dispute: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    bundle = _sent(cli, dispute, tmp_path)
    shown = cli("show", dispute, "--json").json
    chat = cli("show", dispute, "3", "--json").json
    log = cli("log", dispute, "--json").json
    second = tmp_path / "second-home"
    monkeypatch.setenv("LOCKER_HOME", str(second))

    ran = cli("import", bundle, "--json")
    assert ran.code == 0, ran.err
    done = ran.json
    assert done["slug"] == done["recorded_slug"] == dispute and done["exhibits"] == 4
    assert done["verified"] is True and done["problems"] == []
    assert done["entries_kept"] == len(log) - 1  # the bundle's chain ends with its pack's export; bundle.created follows it
    assert cli("verify", dispute).code == 0
    there = cli("show", dispute, "--json").json
    assert _without(there, "history") == _without(shown, "history")
    assert there["history"] == shown["history"]
    assert cli("show", dispute, "3", "--json").json["messages"] == chat["messages"]
    imported_log = cli("log", dispute, "--json").json
    assert imported_log[:-1] == log[:-1]  # the original chain, entry for entry, hash for hash
    last = imported_log[-1]
    assert last["action"] == "imported" and last["prev_hash"] == log[-2]["hash"]
    assert last["payload"]["bundle"] == "earbuds.zip" and last["payload"]["head"] == {"seq": log[-2]["seq"],
                                                                                     "hash": log[-2]["hash"]}
    assert last["payload"]["problems"] == []
    # the originals are the same bytes, read-only; the home holds nothing left over
    folder = second / "disputes" / dispute
    for exhibit in there["exhibits"]:
        obj = folder / "objects" / exhibit["sha256"][:2] / exhibit["sha256"][2:]
        if exhibit["withdrawn"]:  # a bundle leaves out what its pack leaves out: said, as a warning
            assert not obj.exists()
            continue
        assert obj.stat().st_mode & 0o777 == 0o444
    assert last["payload"]["absent"] == [4]
    checked = cli("verify", dispute, "--json").json
    assert checked["ok"] is True
    assert [(p["exhibit"], p["problem"]) for p in checked["disputes"][0]["problems"]] == [(4, "original_not_imported")]
    assert sorted(p.name for p in second.iterdir() if p.name.startswith(".")) == []
    # it is an ordinary dispute from here on: search finds the chat, a new exhibit goes in, still verifies
    assert cli("search", "退款", "--json").json["hits"]
    assert cli("add", dispute, samples.make_jpeg(tmp_path / "later.jpg", seed=3)).code == 0
    assert cli("verify", dispute).code == 0
    human = cli("log", dispute)
    assert "imported" in human.out


def test_import_as_another_name_and_twice(cli, dispute: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    bundle = _sent(cli, dispute, tmp_path)
    ran = cli("import", bundle)  # into the home it came from: the name is taken
    assert ran.code == 2 and "a dispute named earbuds is in this home already" in ran.err, ran.err
    ran = cli("import", bundle, "--as", "received-earbuds", "--json")
    assert ran.code == 0, ran.err
    assert ran.json["slug"] == "received-earbuds" and ran.json["recorded_slug"] == dispute
    assert cli("verify", "received-earbuds").code == 0
    actions = [e["action"] for e in cli("log", "received-earbuds", "--json").json]
    assert actions[-2:] == ["imported", "dispute.renamed"]
    assert cli("show", "received-earbuds", "--json").json["slug"] == "received-earbuds"
    human = cli("import", bundle, "--as", "third")
    assert human.code == 0 and human.out.startswith("Imported third: 小红书无线耳机退款"), human.out
    # in a child process: nothing is written outside the receiving home (its TMPDIR and HOME stay empty)
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    tmp, user = tmp_path / "tmpdir", tmp_path / "user-home"
    tmp.mkdir()
    user.mkdir()
    env = {**os.environ, "LOCKER_HOME": str(tmp_path / "fourth-home"), "TMPDIR": str(tmp), "HOME": str(user)}
    ran = subprocess.run([sys.executable, "-m", "locker", "import", str(bundle)], env=env, cwd=REPO,
                         capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert list(tmp.iterdir()) == [] and list(user.iterdir()) == []


def _rewrite(src: Path, dst: Path, change) -> Path:  # noqa: ANN001
    """A copy of a bundle with one member's bytes changed by ``change(name, data) -> data``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, change(info.filename, zin.read(info)))
    return dst


def _flip_original(name: str, data: bytes) -> bytes:
    if "/data/originals/001-" in name:
        return data[:-10] + bytes([data[-10] ^ 1]) + data[-9:]
    return data


def test_a_damaged_bundle_is_refused_unless_allowed(cli, dispute: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    bundle = _sent(cli, dispute, tmp_path)
    damaged = _rewrite(bundle, tmp_path / "out" / "damaged.zip", _flip_original)
    second = tmp_path / "second-home"
    monkeypatch.setenv("LOCKER_HOME", str(second))
    ran = cli("import", damaged)
    assert ran.code == 1 and "the bundle is damaged" in ran.err and "data/originals/001-" in ran.err, ran.err
    assert ran.err.count("\n") == 1
    assert not (second / "disputes").exists() or list((second / "disputes").iterdir()) == []
    assert [p.name for p in second.iterdir() if p.name.startswith(".import-")] == [] if second.exists() else True
    ran = cli("import", damaged, "--json")
    assert ran.json["error"]["code"] == "damaged_bundle"

    ran = cli("import", damaged, "--allow-damaged", "--json")
    assert ran.code == 0, ran.err
    assert ran.json["verified"] is False and "hash_mismatch" in {p["problem"] for p in ran.json["problems"]}
    last = cli("log", dispute, "--json").json[-1]
    assert last["action"] == "imported" and "hash_mismatch" in last["payload"]["problems"]
    found = cli("verify", dispute, "--json").json
    assert found["ok"] is False
    assert {(p["exhibit"], p["problem"]) for p in found["disputes"][0]["problems"]} == {(1, "object_missing"), (4, "original_not_imported")}


def test_a_rewritten_custody_log_is_refused(cli, dispute: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    bundle = _sent(cli, dispute, tmp_path)

    def forge(name: str, data: bytes) -> bytes:
        if name.endswith("/data/custody.jsonl"):
            return data.replace(b"wrong photo", b"right photo")
        return data

    forged = _rewrite(bundle, tmp_path / "out" / "forged.zip", forge)
    monkeypatch.setenv("LOCKER_HOME", str(tmp_path / "second-home"))
    ran = cli("import", forged)
    assert ran.code == 1 and "the bundle is damaged" in ran.err and "custody" in ran.err, ran.err


def test_tampering_with_the_imported_entry_is_found(cli, dispute: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    bundle = _sent(cli, dispute, tmp_path)
    second = tmp_path / "second-home"
    monkeypatch.setenv("LOCKER_HOME", str(second))
    assert cli("import", bundle).code == 0
    db = second / "disputes" / dispute / "dispute.sqlite"
    con = sqlite3.connect(db)
    with con:
        (payload,) = con.execute("SELECT payload FROM custody WHERE action = 'imported'").fetchone()
        doc = json.loads(payload)
        doc["bundle"] = "someone-else.zip"
        con.execute("UPDATE custody SET payload = ? WHERE action = 'imported'",
                    (json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")),))
    con.close()
    found = cli("verify", dispute, "--json").json
    assert found["ok"] is False
    assert "custody_entry_altered" in {p["problem"] for p in found["disputes"][0]["problems"]}


def test_a_file_that_is_not_there(cli, tmp_path: Path) -> None:  # noqa: ANN001
    ran = cli("import", tmp_path / "nothing.zip")
    assert ran.code == 1 and ran.err == f"locker: {tmp_path / 'nothing.zip'}: not a readable file\n"
    ran = cli("import", tmp_path / "nothing.zip", "--as", "Bad Name")
    assert ran.code == 1


def _rehashed(data: bytes, change) -> bytes:  # noqa: ANN001
    """A custody log edited by ``change(entry)`` and then re-chained, so that every hash is right again:
    what a forger who knows the format can make."""
    from locker import custody

    out, prev = [], custody.GENESIS
    for line in data.decode("utf-8").splitlines():
        entry = json.loads(line)
        change(entry)
        entry["prev_hash"] = prev
        doc = custody.entry_document(entry["seq"], entry["at"], entry["actor"], entry["action"], entry["payload"],
                                     prev, entry["v"])
        entry["hash"] = prev = custody.entry_hash(doc)
        out.append(json.dumps(entry, ensure_ascii=False))
    return ("\n".join(out) + "\n").encode("utf-8")


def test_records_a_database_refuses_are_a_damaged_bundle(cli, dispute: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """A re-chained log whose dispute has no title (the bag's manifests no longer match, so only
    --allow-damaged goes this far): one clear line, not an internal error, and nothing left."""
    bundle = _sent(cli, dispute, tmp_path)

    def untitled(entry: dict) -> None:
        if entry["action"] == "dispute.created":
            entry["payload"]["title"] = None

    forged = _rewrite(bundle, tmp_path / "out" / "forged.zip",
                      lambda name, data: _rehashed(data, untitled) if name.endswith("/data/custody.jsonl") else data)
    second = tmp_path / "second-home"
    monkeypatch.setenv("LOCKER_HOME", str(second))
    ran = cli("import", forged, "--allow-damaged")
    assert ran.code == 1 and "the bundle's records cannot be stored" in ran.err and "Traceback" not in ran.err, ran.err
    assert list((second / "disputes").iterdir()) == []
    assert [p.name for p in second.iterdir() if p.name.startswith(".")] == []


def test_a_killed_import_leaves_nothing_the_next_one_trips_on(cli, dispute: str, tmp_path: Path) -> None:  # noqa: ANN001
    """SIGKILL at spread-out moments of an import in a child process (fractions of how long one takes
    here): the receiving home then holds either nothing of the dispute or all of it, verified, and the
    next import cleans what a killed one left (its hidden folder, the name it had reserved)."""
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO

    bundle = _sent(cli, dispute, tmp_path)
    second = tmp_path / "second-home"
    env = {**os.environ, "LOCKER_HOME": str(second), "TZ": "UTC"}
    command = [sys.executable, "-m", "locker", "import", str(bundle)]
    started = time.monotonic()
    subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True)
    whole = time.monotonic() - started
    shutil.rmtree(second / "disputes" / dispute)
    for fraction in (0.5, 0.7, 0.8, 0.9, 0.95):
        child = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(whole * fraction)
        child.send_signal(signal.SIGKILL)
        child.wait()
        folder = second / "disputes" / dispute
        # What comes after the kill runs in this process: only the killed import needs a child.
        if (folder / "dispute.sqlite").exists():  # it had finished: the whole dispute, verified
            ran = cli("--home", second, "verify", dispute)
            assert ran.code == 0, ran.out + ran.err
            shutil.rmtree(folder)
            continue
        assert not folder.exists() or [p.name for p in folder.iterdir()][0].startswith(".import-")
        ran = cli("--home", second, "import", bundle, "--json")
        assert ran.code == 0, ran.err
        assert [p.name for p in second.iterdir() if p.name.startswith(".import-")] == []
        shutil.rmtree(folder)


from tests.tsa_server import tsa  # noqa: E402,F401  (the local TSA fixture, started once for this module)


def test_timestamp_tokens_travel_and_still_check(cli, dispute: str, tsa, tmp_path: Path,  # noqa: ANN001,F811
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A dispute stamped by a TSA: its stored tokens travel in the bundle, are put back where the
    custody log says they are, and the receiving `verify` checks them offline."""
    assert cli("add", dispute, samples.make_jpeg(tmp_path / "a.jpg")).code == 0
    ran = cli("stamp", dispute, "--tsa", tsa.url)
    assert ran.code == 0, ran.err
    bundle = tmp_path / "stamped.zip"
    assert cli("bundle", dispute, "-o", bundle).code == 0
    with zipfile.ZipFile(bundle) as zf:
        assert any("/data/timestamps/" in n and n.endswith(".tsr") for n in zf.namelist())
    second = tmp_path / "second-home"
    monkeypatch.setenv("LOCKER_HOME", str(second))
    ran = cli("import", bundle, "--json")
    assert ran.code == 0 and ran.json["verified"] is True, ran.out + ran.err
    tokens = sorted(p.name for p in (second / "disputes" / dispute / "timestamps").iterdir())
    assert any(n.endswith(".tsr") for n in tokens) and any(n.endswith(".json") for n in tokens)
    checked = cli("verify", dispute, "--json").json
    assert checked["ok"] is True and checked["disputes"][0]["problems"] == []
