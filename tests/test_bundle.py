"""``locker bundle`` and ``locker verify --bundle`` (issue 13 §1, §3), checked as the recipient would:
the ZIP unpacked, the bag validated by the Library of Congress's own ``bagit.py`` in a child process,
``sha256sum -c`` over the manifests, the originals compared byte for byte with the locker's objects, and a
copy of the bundle with one byte flipped in each kind of member named by ``verify --bundle``."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import struct
import subprocess
import sys
import unicodedata
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import pytest

from locker.bundle.writer import safe_name
from tests import samples
from tests.conftest import REPO, new_dispute, shared_home

HOSTILE = "..\u202egnp.exe"  # leading dots and a right-to-left override: shows as "exe.png"
NFD = "e\u0301te\u0301.txt"  # "été" decomposed, as macOS file names come


def _schema(name: str) -> dict:
    return json.loads((REPO / "schemas" / name).read_text(encoding="utf-8"))


@pytest.fixture
def made(cli, dispute: str, tmp_path: Path) -> dict:  # noqa: ANN001
    """A dispute with a photo, a chat, two hostile names and a withdrawn exhibit, and its bundle, in this
    test's home (for the tests that look at the home or change it)."""
    return _made(cli, dispute, tmp_path / "src")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Any]:
    """``made``'s bundle, made once for the tests that only read it or change a copy of it (a bundle takes
    ~0.6 s; 15 tests use this one). Read-only, so that a test writing to it fails instead of changing the
    others' bundle."""
    root = tmp_path_factory.mktemp("bundle")
    with shared_home(root / "home") as cli:
        doc = _made(cli, new_dispute(cli), root / "src")
    Path(doc["path"]).chmod(0o444)
    return MappingProxyType(doc)


def _made(cli, dispute: str, src: Path) -> dict:  # noqa: ANN001
    src.mkdir()
    photo = samples.make_jpeg_with_exif(src / "IMG_20250503_150102.jpg")
    chat = src / "chat.txt"
    chat.write_text("2025-05-05 09:12:30 商家：亲，不支持退款哦\n2025-05-05 09:13:00 我：商品有破损\n", encoding="utf-8")
    hostile = samples.make_random(src / HOSTILE, size=3000, seed=1)
    nfd = samples.make_random(src / NFD, size=2000, seed=2)
    gone = samples.make_random(src / "wrong.bin", size=1000, seed=3)
    for path in (photo, chat, hostile, nfd, gone):
        extra = ["--me", "我"] if path == chat else []
        ran = cli("add", dispute, path, *extra)
        assert ran.code == 0, ran.err
    assert cli("withdraw", dispute, "5", "--reason", "wrong file").code == 0
    ran = cli("bundle", dispute, "--json")
    assert ran.code == 0, ran.err
    doc = ran.json
    jsonschema.validate(doc, _schema("bundle.schema.json"))
    return doc


def _unzip(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as zf:
        zf.extractall(into)
    (bag,) = list(into.iterdir())
    return bag


def _bagit_py() -> Path:
    found = Path(sys.executable).parent / "bagit.py"
    assert found.exists(), "the test extra installs bagit (bagit.py)"
    return found


def test_the_bundle_is_a_bag_that_bagit_validates(made: dict, home: Path, tmp_path: Path) -> None:
    path = Path(made["path"])
    assert path.parent == home / "disputes" / "earbuds" / "exports" and path.suffix == ".zip"
    bag = _unzip(path, tmp_path / "out")
    assert bag.name == "earbuds"
    names = sorted(str(p.relative_to(bag)) for p in bag.rglob("*") if p.is_file())
    originals = [n for n in names if n.startswith("data/originals/")]
    assert [n.split("/")[-1][:4] for n in originals] == ["001-", "002-", "003-", "004-"]  # 5 is withdrawn
    for needed in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", "VERIFY.txt",
                   "VERIFY.zh.txt", "schemas/custody-entry.schema.json", "schemas/chat.schema.json",
                   "data/pack.pdf", "data/custody.jsonl", "data/dispute.json", "data/messages/002.json"):
        assert needed in names, needed
    assert (bag / "bagit.txt").read_text() == "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    info = (bag / "bag-info.txt").read_text(encoding="utf-8")
    for field in ("Source-Organization", "Contact-Name", "External-Identifier", "Bagging-Date", "Payload-Oxum",
                  "Bag-Group-Identifier"):
        assert f"\n{field}: " in f"\n{info}", field
    # The Library of Congress's validator, as the recipient would run it.
    proc = subprocess.run([sys.executable, str(_bagit_py()), "--validate", str(bag)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "is valid" in proc.stderr + proc.stdout
    # The standard tools VERIFY.txt names.
    for manifest in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):
        proc = subprocess.run(["sha256sum", "-c", manifest], cwd=bag, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sha256sum -c manifest-sha256.txt" in (bag / "VERIFY.txt").read_text(encoding="utf-8")
    assert "bagit.py --validate earbuds" in (bag / "VERIFY.zh.txt").read_text(encoding="utf-8")


def test_originals_are_byte_identical_and_names_are_safe(made: dict, home: Path, tmp_path: Path, cli) -> None:  # noqa: ANN001
    with zipfile.ZipFile(made["path"]) as zf:
        members = zf.namelist()
    for name in members:
        assert unicodedata.normalize("NFC", name) == name
        assert not name.startswith("/") and ".." not in name.split("/")
        assert "\u202e" not in name
    assert "earbuds/data/originals/003-gnp.exe" in members
    assert f"earbuds/data/originals/004-{unicodedata.normalize('NFC', NFD)}" in members
    bag = _unzip(Path(made["path"]), tmp_path / "out")
    shown = cli("show", "earbuds", "--json").json
    for e in shown["exhibits"]:
        if e["withdrawn"]:
            continue
        (copy,) = (bag / "data" / "originals").glob(f"{e['exhibit']:03d}-*")
        stored = home / "disputes" / "earbuds" / "objects" / e["sha256"][:2] / e["sha256"][2:]
        assert copy.read_bytes() == stored.read_bytes()
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\a:b.png") == "a_b.png"
    assert safe_name("\u202e\u200b") == "file"
    assert safe_name("50%.jpg") == "50_.jpg"
    long = safe_name("长" * 200 + ".jpeg")
    assert long.endswith(".jpeg") and len(long.encode("utf-8")) <= 120


def test_the_bundle_is_custody_logged_and_its_log_and_chats_are_in_it(made: dict, cli, tmp_path: Path) -> None:  # noqa: ANN001
    log = cli("log", "earbuds", "--json").json
    assert [e["action"] for e in log[-2:]] == ["export.created", "bundle.created"]
    created = log[-1]["payload"]
    data = Path(made["path"]).read_bytes()
    assert created["sha256"] == hashlib.sha256(data).hexdigest() == made["sha256"]
    assert created["size"] == len(data) and created["exhibits"] == [1, 2, 3, 4]
    assert created["custody_seq"] == log[-2]["seq"] == made["custody_seq"]
    bag = _unzip(Path(made["path"]), tmp_path / "out")
    lines = (bag / "data" / "custody.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]
    assert [{k: v for k, v in e.items() if k != "v"} for e in entries] == log[:-1]  # as locker log --json has them
    schema = json.loads((bag / "schemas" / "custody-entry.schema.json").read_text(encoding="utf-8"))
    for e in entries:
        jsonschema.validate({k: v for k, v in e.items() if k != "hash"}, schema)
    pack = (bag / "data" / "pack.pdf").read_bytes()
    assert hashlib.sha256(pack).hexdigest() == log[-2]["payload"]["sha256"] == made["pack_sha256"]
    chat = json.loads((bag / "data" / "messages" / "002.json").read_text(encoding="utf-8"))
    jsonschema.validate(chat, json.loads((bag / "schemas" / "chat.schema.json").read_text(encoding="utf-8")))
    assert [m["text"] for m in chat["messages"]] == ["亲，不支持退款哦", "商品有破损"]
    dispute = json.loads((bag / "data" / "dispute.json").read_text(encoding="utf-8"))
    jsonschema.validate(dispute, _schema("show.schema.json"))
    assert dispute["order_id"] == "250501123456789"
    assert cli("verify", "earbuds").code == 0


def test_verify_bundle_needs_no_home(bundle: Mapping[str, Any], tmp_path: Path, cli) -> None:  # noqa: ANN001
    copy = tmp_path / "received.zip"
    shutil.copy(bundle["path"], copy)
    ran = cli("--home", tmp_path / "no-such-home", "verify", "--bundle", copy, "--json")
    assert ran.code == 0, ran.out + ran.err
    jsonschema.validate(ran.json, _schema("verify.schema.json"))
    assert ran.json["ok"] and ran.json["disputes"][0]["slug"] == "earbuds"
    assert ran.json["disputes"][0]["objects_checked"] == 4
    assert not (tmp_path / "no-such-home").exists()
    ran = cli("--home", tmp_path / "no-such-home", "verify", "--bundle", copy)
    assert ran.code == 0 and "earbuds: OK" in ran.out


def _flip(src: Path, dst: Path, member: str, at: int = 0) -> None:
    """A copy of the bundle with one byte of ``member``'s stored bytes flipped (its CRC left as it was)."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(member)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    assert 0 <= at < info.compress_size
    data[start + at] ^= 0x01
    dst.write_bytes(bytes(data))


FLIPS = {  # member kind -> (member, byte to flip)
    "original": ("data/originals/001-IMG_20250503_150102.jpg", 200),
    "chat original": ("data/originals/002-chat.txt", 0),
    "pack": ("data/pack.pdf", 1000),
    "custody log": ("data/custody.jsonl", 60),
    "dispute": ("data/dispute.json", 20),
    "messages": ("data/messages/002.json", 30),
    "bagit.txt": ("bagit.txt", 5),
    "bag-info": ("bag-info.txt", 3),
    "manifest": ("manifest-sha256.txt", 0),
    "tag manifest": ("tagmanifest-sha256.txt", 0),
    "VERIFY.txt": ("VERIFY.txt", 10),
    "VERIFY.zh.txt": ("VERIFY.zh.txt", 10),
    "schema": ("schemas/chat.schema.json", 10),
}


@pytest.mark.parametrize("kind", sorted(FLIPS))
def test_one_flipped_byte_in_each_kind_of_member_is_named(bundle: Mapping[str, Any], tmp_path: Path, cli, kind: str) -> None:  # noqa: ANN001
    member, at = FLIPS[kind]
    bad = tmp_path / "flipped.zip"
    _flip(Path(bundle["path"]), bad, f"earbuds/{member}", at)
    ran = cli("--home", tmp_path / "none", "verify", "--bundle", bad, "--json")
    assert ran.code == 1, ran.out
    doc = ran.json
    jsonschema.validate(doc, _schema("verify.schema.json"))
    assert doc["ok"] is False
    details = [p["detail"] for p in doc["disputes"][0]["problems"]]
    assert any(d.startswith(f"{member}: ") for d in details), details
    if member.startswith("data/originals/"):
        problems = {p["problem"] for p in doc["disputes"][0]["problems"]}
        assert {"hash_mismatch", "original_mismatch", "pack_manifest_mismatch"} <= problems
    text = cli("--home", tmp_path / "none", "verify", "--bundle", bad)
    assert text.code == 1 and member in text.out


def test_a_damaged_original_refuses_the_bundle(cli, dispute: str, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    path = samples.make_random(tmp_path / "a.bin", size=5000)
    assert cli("add", dispute, path).code == 0
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    obj = home / "disputes" / dispute / "objects" / sha[:2] / sha[2:]
    obj.chmod(0o600)
    data = bytearray(obj.read_bytes())
    data[10] ^= 1
    obj.write_bytes(bytes(data))
    ran = cli("bundle", dispute)
    assert ran.code == 1 and "exhibit 1" in ran.err and "bundle refused" in ran.err
    exports = home / "disputes" / dispute / "exports"
    assert not list(exports.glob("*.zip")) and not list(exports.glob(".tmp-*"))
    assert "bundle.created" not in [e["action"] for e in cli("log", dispute, "--json").json]


def test_output_choice_include_and_refusals(cli, dispute: str, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    for n in range(3):
        assert cli("add", dispute, samples.make_random(tmp_path / f"f{n}.bin", size=1000 + n, seed=n)).code == 0
    out = tmp_path / "mine.zip"
    ran = cli("bundle", dispute, "-o", out, "--include", "1,3", "--json")
    assert ran.code == 0, ran.err
    assert ran.json["path"] == str(out.resolve()) and ran.json["exhibits"] == [1, 3]
    with zipfile.ZipFile(out) as zf:
        assert sorted(n for n in zf.namelist() if "/originals/" in n) == [
            "earbuds/data/originals/001-f0.bin", "earbuds/data/originals/003-f2.bin"]
    again = cli("bundle", dispute, "-o", out)
    assert again.code != 0 and "--force" in again.err
    assert cli("bundle", dispute, "-o", out, "--force").code == 0
    inside = cli("bundle", dispute, "-o", home / "x.zip")
    assert inside.code != 0 and "inside the locker home" in inside.err
    assert cli("bundle", dispute, "--include", "1", "--exclude", "2").code != 0


def test_a_tampered_bundle_entry_is_found_by_verify(made: dict, cli, home: Path) -> None:  # noqa: ANN001
    db = home / "disputes" / "earbuds" / "dispute.sqlite"
    con = sqlite3.connect(db)
    with con:
        row = con.execute("SELECT seq, payload FROM custody WHERE action = 'bundle.created'").fetchone()
        payload = json.loads(row[1])
        payload["sha256"] = "0" * 64
        con.execute("UPDATE custody SET payload = ? WHERE seq = ?", (json.dumps(payload), row[0]))
    con.close()
    ran = cli("verify", "earbuds", "--json")
    assert ran.code == 1
    assert "custody_entry_altered" in {p["problem"] for p in ran.json["disputes"][0]["problems"]}


def test_not_a_bundle(tmp_path: Path, cli) -> None:  # noqa: ANN001
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    ran = cli("verify", "--bundle", junk, "--json")
    assert ran.code == 1 and ran.json["disputes"][0]["problems"][0]["problem"] == "not_a_zip"
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.writestr("a/x.txt", b"1")
        zf.writestr("b/y.txt", b"2")
    ran = cli("verify", "--bundle", two, "--json")
    assert ran.code == 1 and ran.json["disputes"][0]["problems"][0]["problem"] == "bag_layout"


def test_the_schemas_in_every_bag_are_those_of_the_repository() -> None:
    for name in ("custody-entry.schema.json", "chat.schema.json"):
        assert (REPO / "locker" / "bundle" / "schemas" / name).read_bytes() == (REPO / "schemas" / name).read_bytes()


def test_the_chain_check_verify_txt_gives_runs_as_written(bundle: Mapping[str, Any], tmp_path: Path) -> None:
    bag = _unzip(Path(bundle["path"]), tmp_path / "out")
    for name in ("VERIFY.txt", "VERIFY.zh.txt"):
        lines = (bag / name).read_text(encoding="utf-8").splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith('python3 -c "'))
        script = "\n".join(lines[start:start + 2])
        proc = subprocess.run(["bash", "-c", script], cwd=bag, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        said = proc.stdout.split()
        assert said[1::2] == ["OK"] * (len(said) // 2) and len(said) >= 16, proc.stdout
