"""Write-once copies on S3 Object Lock storage (issue 15), against a real server: SeaweedFS on 127.0.0.1
(tests/s3_server.py). What a user checks: the storage refuses to delete or shorten what was archived;
archive uploads only what is new; verify --remote names each missing, differing or unprotected key;
restore into an empty home gives a dispute that verifies; failures are one clear line."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.s3_server import ACCESS_KEY, SECRET_KEY, SeaweedS3, bucket, credentials, s3_server  # noqa: F401 (fixtures)
from tests.test_contract import check


def _remote(cli, server: SeaweedS3, bucket: str, name: str = "lab", *extra: str) -> None:  # noqa: ANN001, F811
    ran = cli("remote", "add", name, f"s3://{bucket}/locker", "--endpoint", server.endpoint, "--retain", "2d", *extra)
    assert ran.code == 0, ran.err


def _files(tmp_path: Path, count: int = 3) -> list[Path]:
    made = []
    for n in range(count):
        path = tmp_path / f"evidence-{n}.txt"
        path.write_text(f"商家答复 {n}：不予退款\n", encoding="utf-8")
        made.append(path)
    return made


def _log(cli, slug: str) -> list[dict]:  # noqa: ANN001
    ran = cli("log", slug, "--json")
    assert ran.code == 0, ran.err
    return ran.json


def _locker(*args: object, env: dict[str, str] | None = None, **kw) -> subprocess.Popen[str]:  # noqa: ANN003
    return subprocess.Popen([sys.executable, "-m", "locker", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, cwd=REPO, **kw)


def _big(tmp_path: Path, mib: int) -> Path:
    path = tmp_path / "video.bin"
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1024 * 1024))
    return path


# --------------------------------------------------------------------------- the storage really is write-once


def test_compliance_retention_refuses_delete_and_shortening(s3_server: SeaweedS3, bucket: str, cli, dispute, tmp_path) -> None:  # noqa: ANN001, F811
    _remote(cli, s3_server, bucket)
    assert cli("add", dispute, *_files(tmp_path, 1)).code == 0
    ran = cli("archive", dispute, "--json")
    assert ran.code == 0, ran.err
    first = ran.json["uploaded"][0]
    s3 = s3_server.client()
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=first["key"], VersionId=first["version_id"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    sooner = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(ClientError) as refused:
        s3.put_object_retention(Bucket=bucket, Key=first["key"], VersionId=first["version_id"],
                                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": sooner})
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):
        s3.put_object_retention(Bucket=bucket, Key=first["key"], VersionId=first["version_id"],
                                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": datetime.now(UTC) + timedelta(days=3)})
    # Still there, byte for byte, still locked.
    head = s3.head_object(Bucket=bucket, Key=first["key"], VersionId=first["version_id"], ChecksumMode="ENABLED")
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"] > datetime.now(UTC) + timedelta(days=1)


# --------------------------------------------------------------------------- configuration and check


def test_remote_add_list_and_check(s3_server: SeaweedS3, bucket: str, cli, home: Path) -> None:  # noqa: ANN001, F811
    _remote(cli, s3_server, bucket)
    toml = (home / "locker.toml").read_text()
    assert "[remotes.\"lab\"]" in toml and SECRET_KEY not in toml and ACCESS_KEY not in toml
    assert cli("profile", "--name", "张三").code == 0  # rewriting the profile keeps the remote
    listed = cli("remote", "list", "--json")
    check(listed.json, "remote-list")
    assert [r["name"] for r in listed.json["remotes"]] == ["lab"]
    assert listed.json["remotes"][0]["url"] == f"s3://{bucket}/locker"
    ran = cli("remote", "check", "lab", "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "remote-check")
    assert [(r["name"], r["ok"]) for r in ran.json["requirements"]] == [
        ("bucket", True), ("versioning", True), ("object_lock", True), ("retention", True)]
    assert cli("remote", "add", "lab", "s3://other").code == 2  # exists already
    assert cli("remote", "add", "bad", "s3://b/p", "--retain", "forever").code == 2


def test_a_bucket_without_object_lock_is_named_and_refused(s3_server: SeaweedS3, bucket: str, cli, dispute, tmp_path) -> None:  # noqa: ANN001, F811
    plain = s3_server.make_bucket(lock=False)
    _remote(cli, s3_server, plain, "plain")
    ran = cli("remote", "check", "plain")
    assert ran.code == 1
    assert "MISSING  object_lock: Object Lock is off" in ran.out
    assert "plain cannot keep write-once copies yet." in ran.out
    missing = cli("remote", "check", "plain", "--json").json
    assert {r["name"] for r in missing["requirements"] if not r["ok"]} >= {"object_lock", "retention"}
    assert cli("add", dispute, *_files(tmp_path, 1)).code == 0
    ran = cli("archive", dispute, "--to", "plain")
    assert ran.code == 1 and "Traceback" not in ran.err
    assert "Object Lock" in ran.err, ran.err
    assert [e["action"] for e in _log(cli, dispute)][-1] == "exhibit.added"
    nowhere = s3_server.make_bucket()
    _remote(cli, s3_server, nowhere + "-gone", "gone")
    ran = cli("remote", "check", "gone")
    assert ran.code == 1 and "MISSING  bucket" in ran.out and "does not exist" in ran.out


def test_wrong_or_missing_credentials_are_one_clear_line(s3_server: SeaweedS3, bucket: str, cli, dispute, tmp_path,  # noqa: ANN001, F811
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _remote(cli, s3_server, bucket)
    assert cli("add", dispute, *_files(tmp_path, 1)).code == 0
    credentials(monkeypatch, tmp_path, secret_key="not-the-secret")
    ran = cli("archive", dispute)
    assert ran.code == 1 and "Traceback" not in ran.err
    assert "remote lab refused the credentials (SignatureDoesNotMatch)" in ran.err, ran.err
    credentials(monkeypatch, tmp_path, access_key="NOSUCHKEY")
    ran = cli("archive", dispute, "--json")
    assert ran.code == 1 and ran.json["error"]["code"] == "remote"
    assert "InvalidAccessKeyId" in ran.json["error"]["message"]
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    ran = cli("archive", dispute)
    assert ran.code == 1 and "no credentials for remote lab" in ran.err, ran.err
    assert [e["action"] for e in _log(cli, dispute)][-1] == "exhibit.added"


def test_without_boto3_the_remote_commands_say_what_to_install(tmp_path: Path, home: Path) -> None:
    code = ("import sys; sys.modules['boto3'] = sys.modules['botocore'] = None; from locker.cli import main; "
            "sys.exit(main(['remote', 'add', 'lab', 's3://b-1/p']) or main(['remote', 'check', 'lab']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "LOCKER_HOME": str(home)})
    assert proc.returncode == 1
    assert "remotes need boto3, which is not installed: pip install 'locker[s3]'" in proc.stderr
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- archive


def test_archive_then_a_second_run_uploads_nothing(s3_server: SeaweedS3, bucket: str, cli, dispute, tmp_path) -> None:  # noqa: ANN001, F811
    _remote(cli, s3_server, bucket)
    assert cli("add", dispute, *_files(tmp_path, 3)).code == 0
    assert cli("export", dispute, "--json").code == 0
    ran = cli("archive", dispute, "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "archive")
    doc = ran.json
    assert not doc["up_to_date"] and doc["objects"] == 3 and doc["files"] == 1 and doc["kept"] == 0
    assert len(doc["uploaded"]) == 5  # 3 originals, the pack, the database snapshot (then the log and the manifest)
    keys = {u["key"] for u in doc["uploaded"]}
    shas = {hashlib.sha256(p.read_bytes()).hexdigest() for p in _files(tmp_path, 3)}
    assert {f"locker/disputes/{dispute}/objects/sha256/{s}" for s in shas} <= keys
    entry = _log(cli, dispute)[-1]
    assert entry["action"] == "archived" and entry["seq"] == doc["custody_seq"]
    assert entry["payload"]["url"] == f"s3://{bucket}/locker"
    assert {u["key"]: u["version_id"] for u in entry["payload"]["uploaded"]} == {u["key"]: u["version_id"] for u in doc["uploaded"]}
    assert entry["payload"]["retain_until"] == doc["retain_until"]
    assert entry["payload"]["manifest"] == f"locker/disputes/{dispute}/manifests/{doc['custody_seq']:010d}.json"

    s3 = s3_server.client()
    before = sum(1 for _ in _versions(s3, bucket))
    again = cli("archive", dispute, "--json")
    assert again.code == 0 and again.json["up_to_date"] and again.json["uploaded"] == []
    assert sum(1 for _ in _versions(s3, bucket)) == before
    assert _log(cli, dispute)[-1]["seq"] == doc["custody_seq"]  # nothing recorded either

    # Something new: only it (and the run's snapshot) is uploaded.
    extra = tmp_path / "new.txt"
    extra.write_text("新证据", encoding="utf-8")
    assert cli("add", dispute, extra).code == 0
    third = cli("archive", dispute, "--json").json
    new_keys = {u["key"].rsplit("/", 3)[1] for u in third["uploaded"]}
    assert new_keys == {"objects", "files"} and len(third["uploaded"]) == 2 and third["kept"] == 4
    text = cli("verify", dispute)
    assert text.code == 0
    assert f"last archived to lab (s3://{bucket}/locker) at " in text.out and f"custody entry {third['custody_seq']}" in text.out
    last = cli("verify", dispute, "--json").json["disputes"][0]["last_archived"]
    assert last["custody_seq"] == third["custody_seq"] and last["remote"] == "lab"


def _versions(s3, name: str):  # noqa: ANN001, ANN202
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        yield from page.get("Versions") or ()


def test_a_big_file_goes_in_parts_with_a_composite_checksum(s3_server: SeaweedS3, bucket: str, cli, dispute, tmp_path) -> None:  # noqa: ANN001, F811
    _remote(cli, s3_server, bucket)
    big = _big(tmp_path, 40)
    assert cli("add", dispute, big).code == 0
    ran = cli("archive", dispute, "--json")
    assert ran.code == 0, ran.err
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    up = next(u for u in ran.json["uploaded"] if u["key"].endswith(sha))
    data = big.read_bytes()
    part = 16 * 1024 * 1024
    import base64

    digests = b"".join(hashlib.sha256(data[i:i + part]).digest() for i in range(0, len(data), part))
    assert up["checksum"] == base64.b64encode(hashlib.sha256(digests).digest()).decode() + "-3"
    assert cli("verify", dispute, "--remote", "lab").code == 0


def test_a_killed_archive_resumes(s3_server: SeaweedS3, bucket: str, cli, dispute, tmp_path, home) -> None:  # noqa: ANN001, F811
    _remote(cli, s3_server, bucket)
    big = _big(tmp_path, 160)
    assert cli("add", dispute, *_files(tmp_path, 2), big).code == 0
    s3 = s3_server.client()
    proc = _locker("archive", dispute)
    try:
        deadline = time.monotonic() + 60
        while True:  # killed once the storage holds a part of the big file
            uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads") or []
            if uploads and s3.list_parts(Bucket=bucket, Key=uploads[0]["Key"], UploadId=uploads[0]["UploadId"]).get("Parts"):
                break
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert [e["action"] for e in _log(cli, dispute)][-1] == "exhibit.added"  # nothing half-recorded
    small = {u["Key"] for u in _versions(s3, bucket) if "/objects/" in u["Key"]}
    cut = s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]
    held = s3.list_parts(Bucket=bucket, Key=cut["Key"], UploadId=cut["UploadId"])["Parts"]
    whole = [p for p in held if p["Size"] == 16 * 1024 * 1024]  # a part cut off mid-way is not reused
    ran = cli("archive", dispute, "--json")
    assert ran.code == 0, ran.err
    assert ran.json["kept"] == len(small)  # what the killed run finished is not sent again
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    resumed = next(u for u in ran.json["uploaded"] if u["key"].endswith(sha))
    # Nor are the parts the storage held: at least those it listed just after the kill (parts already in
    # the socket may land after it). And not all of them: the killed run was cut off after its first
    # part, so this run must have sent at least one of the file's parts itself.
    parts = 160 // 16  # the 160 MiB file in 16 MiB parts
    assert len(whole) >= 1, held
    assert resumed["parts_reused"] >= len(whole), (resumed, whole)
    assert resumed["parts_reused"] < parts, resumed
    assert ran.json["aborted_uploads"] == 0
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    head = s3.head_object(Bucket=bucket, Key=resumed["key"], ChecksumMode="ENABLED")
    assert head["ObjectLockRetainUntilDate"].isoformat() == ran.json["retain_until"]  # this run's date, not the killed one's
    assert cli("verify", dispute, "--remote", "lab").code == 0
    assert not [p for p in home.iterdir() if p.name.startswith(".archive-")]


def test_a_server_that_stops_mid_run_is_one_line_and_nothing_is_recorded(cli, dispute, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    server = SeaweedS3(tmp_path / "own-server").start()
    try:
        credentials(monkeypatch, tmp_path)
        name = server.make_bucket()
        _remote(cli, server, name)
        assert cli("add", dispute, *_files(tmp_path, 2), _big(tmp_path, 160)).code == 0
        s3 = server.client()
        proc = _locker("archive", dispute)
        deadline = time.monotonic() + 60
        while not s3.list_multipart_uploads(Bucket=name).get("Uploads"):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        server.stop()
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err
        assert "Traceback" not in err and "cannot reach remote lab" in err, err
        assert len(err.strip().splitlines()) == 1
        assert [e["action"] for e in _log(cli, dispute)][-1] == "exhibit.added"
        server.start()  # back: the next run completes
        ran = cli("archive", dispute, "--json")
        assert ran.code == 0, ran.err
        assert cli("verify", dispute, "--remote", "lab").code == 0
    finally:
        server.stop(graceful=False)  # the stop under test is the one above; this one only ends the server


# --------------------------------------------------------------------------- verify --remote


def test_verify_remote_names_missing_differing_and_unprotected_keys(s3_server: SeaweedS3, bucket: str, cli, dispute, tmp_path) -> None:  # noqa: ANN001, F811
    _remote(cli, s3_server, bucket)
    files = _files(tmp_path, 3)
    assert cli("add", dispute, *files).code == 0
    archived = cli("archive", dispute, "--json").json
    ok = cli("verify", dispute, "--remote", "lab", "--json")
    assert ok.code == 0, ok.out
    check(ok.json, "verify-remote")
    assert ok.json["ok"] and ok.json["problems"] == [] and ok.json["last_archived"]["custody_seq"] == archived["custody_seq"]
    assert ok.json["keys_checked"] == 3 + 3  # the originals; the snapshot, the log and the manifest

    root = f"locker/disputes/{dispute}/objects/sha256/"
    sha = [hashlib.sha256(p.read_bytes()).hexdigest() for p in files]
    s3 = s3_server.client()
    # 1. differing: under lock a key cannot be overwritten, but a newer version can be put on top of it.
    s3.put_object(Bucket=bucket, Key=root + sha[0], Body=b"forged", ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=2))
    # 2. unprotected: the same bytes again, as a newer version with no retention.
    s3.put_object(Bucket=bucket, Key=root + sha[1], Body=files[1].read_bytes())
    # 3. missing: a delete marker hides the (still locked) version.
    s3.delete_object(Bucket=bucket, Key=root + sha[2])
    # 4. a new exhibit, never archived, and its custody entry.
    late = tmp_path / "late.txt"
    late.write_text("后来的证据", encoding="utf-8")
    assert cli("add", dispute, late).code == 0

    ran = cli("verify", dispute, "--remote", "lab", "--json")
    assert ran.code == 1
    check(ran.json, "verify-remote")
    found = {(p["problem"], p["key"]) for p in ran.json["problems"]}
    late_sha = hashlib.sha256(late.read_bytes()).hexdigest()
    assert ("remote_differs", root + sha[0]) in found
    assert ("remote_unprotected", root + sha[1]) in found
    assert ("remote_missing", root + sha[2]) in found
    assert ("remote_missing", root + late_sha) in found
    assert ("entry_not_archived", None) in found
    assert all(p[1] != root + sha[1] for p in found if p[0] == "remote_differs")
    text = cli("verify", dispute, "--remote", "lab")
    assert text.code == 1 and "Traceback" not in text.err
    assert "1 older version(s) remain under it, hidden by a delete marker" in text.out


# --------------------------------------------------------------------------- restore


def test_restore_into_an_empty_home_verifies_and_continues_the_log(s3_server: SeaweedS3, bucket: str, cli, dispute, tmp_path) -> None:  # noqa: ANN001, F811
    _remote(cli, s3_server, bucket)
    assert cli("add", dispute, *_files(tmp_path, 2)).code == 0
    assert cli("export", dispute).code == 0
    assert cli("archive", dispute).code == 0
    original = _log(cli, dispute)
    fresh = tmp_path / "new-machine"  # no home there yet
    assert not fresh.exists()
    _remote(cli, s3_server, bucket, "lab", "--home", str(fresh))
    ran = cli("--home", fresh, "restore", "--from", "lab", dispute, "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "restore-remote")
    assert ran.json["objects"] == 2 and ran.json["files"] == 1 and ran.json["verified"]
    verified = cli("--home", fresh, "verify", dispute)
    assert verified.code == 0, verified.out
    log = _log(cli, dispute) if False else cli("--home", fresh, "log", dispute, "--json").json
    assert [(e["seq"], e["hash"]) for e in log[:-1]] == [(e["seq"], e["hash"]) for e in original]
    assert log[-1]["action"] == "restored" and log[-1]["prev_hash"] == original[-1]["hash"]
    exports = list((fresh / "disputes" / dispute / "exports").iterdir())
    assert len(exports) == 1 and exports[0].suffix == ".pdf"
    again = cli("--home", fresh, "restore", "--from", "lab", dispute)
    assert again.code == 2 and "is in this home already" in again.err
    renamed = cli("--home", fresh, "restore", "--from", "lab", dispute, "--as", "copy-2")
    assert renamed.code == 0, renamed.err
    assert cli("--home", fresh, "verify", "copy-2").code == 0
    nothing = cli("--home", fresh, "restore", "--from", "lab", "no-such-dispute")
    assert nothing.code == 1 and f"(it holds: {dispute})" in nothing.err
    assert cli("--home", fresh, "restore", dispute, "1").code == 2  # the withdrawal's undo still needs --reason


# --------------------------------------------------------------------------- configuration, without a server


def test_retention_periods_and_remote_urls() -> None:
    from locker.errors import UsageError
    from locker.remote import config, layout

    leap = datetime(2024, 2, 29, 12, 0, 0, 123, tzinfo=UTC)
    assert config.retain_until("1y", leap) == datetime(2025, 2, 28, 12, 0, 0, tzinfo=UTC)
    assert config.retain_until("3y", leap) == datetime(2027, 2, 28, 12, 0, 0, tzinfo=UTC)
    assert config.retain_until("6m", leap) == datetime(2024, 8, 29, 12, 0, 0, tzinfo=UTC)
    assert config.retain_until("90d", leap) == leap.replace(microsecond=0) + timedelta(days=90)
    assert config.retain_until("2w", leap) == leap.replace(microsecond=0) + timedelta(days=14)
    for bad in ("0d", "3", "1h", "-1y", "forever", ""):
        with pytest.raises(UsageError):
            config.check_retain(bad)
    assert config.parse_url("s3://evidence-bucket/locker/org/") == ("evidence-bucket", "locker/org")
    assert config.parse_url("s3://evidence-bucket") == ("evidence-bucket", "")
    for bad in ("https://b/p", "s3://B/p", "s3://bucket/a//b", "s3://bucket/../x"):
        with pytest.raises(UsageError):
            config.parse_url(bad)
    remote = config.Remote("lab", "bucket", "locker")
    root = layout.base(remote, "earbuds")
    assert root == "locker/disputes/earbuds/"
    assert layout.object_key(root, "ab" * 32) == f"locker/disputes/earbuds/objects/sha256/{'ab' * 32}"
    assert layout.manifest_key(root, 12) == "locker/disputes/earbuds/manifests/0000000012.json"
    assert layout.part_size(16 * 1024 * 1024 - 1) is None and layout.part_size(16 * 1024 * 1024) == 16 * 1024 * 1024
    assert layout.part_size(200 * 1024 ** 3) == 21 * 1024 * 1024  # at most 10,000 parts


def test_a_manifest_naming_paths_outside_the_dispute_is_refused(s3_server: SeaweedS3, bucket: str, cli, home: Path) -> None:  # noqa: ANN001, F811
    _remote(cli, s3_server, bucket)
    s3 = s3_server.client()
    good = {"key": "locker/disputes/evil/files/sha256/" + "a" * 64, "sha256": "a" * 64, "version_id": None, "size": 1}
    for snapshot, files in (({**good, "sha256": "../../../outside"}, []),
                            (good, [{**good, "path": "../../outside.txt"}]),
                            (good, [{**good, "path": "dispute.sqlite"}])):
        manifest = {"format": "locker-archive", "version": 1, "snapshot": snapshot, "objects": [], "files": files,
                    "log": good, "entry": {"seq": 1, "hash": "0" * 64}}
        s3.put_object(Bucket=bucket, Key="locker/disputes/evil/manifests/0000000001.json",
                      Body=json.dumps(manifest).encode())
        ran = cli("restore", "--from", "lab", "evil")
        assert ran.code == 1 and "Traceback" not in ran.err, ran.err
        assert "the manifest" in ran.err
        assert not (home / "disputes" / "evil").exists()
        assert not list(home.glob(".restore-*")) and not (home.parent / "outside.txt").exists()


def test_a_change_during_the_upload_is_archived_too(s3_server: SeaweedS3, bucket: str, cli, dispute, tmp_path) -> None:  # noqa: ANN001, F811
    """The custody log moves on while a big file goes up: the run starts over from a new snapshot (uploading
    only what is new), so the archived database and log hold the change."""
    _remote(cli, s3_server, bucket)
    assert cli("add", dispute, _big(tmp_path, 160)).code == 0
    s3 = s3_server.client()
    proc = _locker("archive", dispute, "--json")
    deadline = time.monotonic() + 60
    while not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert cli("event", dispute, "商家在上传期间回复", "--at", "2025-05-06T10:00").code == 0
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    log = _log(cli, dispute)
    assert [e["action"] for e in log[-2:]] == ["event.added", "archived"] and doc["custody_seq"] == log[-1]["seq"]
    assert log[-1]["payload"]["snapshot"]["seq"] == log[-2]["seq"]  # the snapshot holds the event
    assert cli("verify", dispute, "--remote", "lab").code == 0


def test_governance_mode_is_what_the_storage_records(s3_server: SeaweedS3, bucket: str, cli, dispute, tmp_path) -> None:  # noqa: ANN001, F811
    _remote(cli, s3_server, bucket, "gov", "--mode", "governance")
    ran = cli("remote", "check", "gov", "--json")
    assert ran.code == 0 and "GOVERNANCE" in ran.json["requirements"][-1]["detail"]
    assert cli("add", dispute, *_files(tmp_path, 1)).code == 0
    doc = cli("archive", dispute, "--json").json
    assert doc["mode"] == "GOVERNANCE"
    head = s3_server.client().head_object(Bucket=bucket, Key=doc["uploaded"][0]["key"])
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert cli("verify", dispute, "--remote", "gov").code == 0
