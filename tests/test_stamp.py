"""RFC 3161 trusted timestamps (issue 13 §2), against a real local TSA (``openssl ts -reply`` behind
HTTP on 127.0.0.1, tests/tsa_server.py), through the real command line.

``locker stamp`` stamps the custody head, ``export --stamp`` the pack's fingerprint; each token is
stored as a ``.tsr`` in the dispute (and beside the pack), recorded in the custody log, listed in
the pack's appendix with the ``openssl ts -verify`` line that checks it, and checked offline by
``verify``, which names a token that does not match. Tokens are checked with rfc3161-client (given
the TSA's root) and with ``openssl ts -verify``; the ``certs =`` trap falls back to openssl.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from locker import db, tsa
from tests.tsa_server import LocalTsa, tsa_chain, tsa_down, tsa_wrong_nonce  # noqa: F401 (fixtures)
from tests.tsa_server import tsa as local_tsa  # noqa: F401 (fixture)

DIGEST = hashlib.sha256(b"evidence").hexdigest()
OTHER = hashlib.sha256(b"something else").hexdigest()


def _ran_ok(ran) -> None:  # noqa: ANN001
    assert ran.code == 0, ran.err


@pytest.fixture
def stamped_dispute(cli, dispute, tmp_path) -> str:  # noqa: ANN001
    shot = tmp_path / "order.txt"
    shot.write_text("订单 250501123456789 已签收", encoding="utf-8")
    _ran_ok(cli("add", dispute, shot))
    return dispute


def _log(cli, slug: str) -> list[dict]:  # noqa: ANN001
    ran = cli("log", slug, "--json")
    _ran_ok(ran)
    return ran.json


def _openssl_verify(folder: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command.split(), cwd=folder, capture_output=True, text=True, check=False)


# --------------------------------------------------------------------------- locker/tsa/


def test_request_sends_a_nonce_and_the_token_checks_with_both_tools(local_tsa, tmp_path) -> None:  # noqa: ANN001, F811
    token = tsa.request([local_tsa.url], DIGEST)
    assert token.tsa == "Locker Test TSA" and token.url == local_tsa.url and token.nonce > 0
    assert token.gen_time.endswith("Z") and token.serial.startswith("0x")
    # rfc3161-client, given the TSA's root certificate (the full RFC 3161 check, chain included)
    check = tsa.check(token.der, DIGEST, roots=[local_tsa.ca.read_bytes()])
    assert check.ok and check.method == "rfc3161-client", check
    assert (check.gen_time, check.serial, check.tsa) == (token.gen_time, token.serial, token.tsa)
    # offline, with nothing but the token: read by rfc3161-client, its signature checked against the
    # certificate it carries (what openssl -partial_chain does), no openssl needed
    alone = tsa.check(token.der, DIGEST)
    assert alone.ok and alone.method == "rfc3161-client", alone
    # openssl ts -verify against the TSA's real root, as a recipient would run it
    (tmp_path / "t.tsr").write_bytes(token.der)
    done = subprocess.run(["openssl", "ts", "-verify", "-digest", DIGEST, "-in", "t.tsr", "-CAfile",
                           str(local_tsa.ca)], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr
    # the nonce sent is the one in the token
    shown = subprocess.run(["openssl", "ts", "-reply", "-in", "t.tsr", "-text"], cwd=tmp_path, capture_output=True,
                           text=True, check=True).stdout
    assert f"Nonce: 0x{token.nonce:X}".lower() in shown.lower()


def test_a_token_over_another_digest_or_altered_does_not_check(local_tsa, tmp_path) -> None:  # noqa: ANN001, F811
    token = tsa.request([local_tsa.url], DIGEST)
    for roots in ((), (local_tsa.ca.read_bytes(),)):
        wrong = tsa.check(token.der, OTHER, roots=roots)
        assert not wrong.ok and "another digest" in (wrong.problem or "")
    # One bit flipped anywhere in the signed content, the signature or the signing certificate: every
    # flip that `openssl ts -verify -partial_chain` refuses, the offline check refuses too.
    (tmp_path / "certs.pem").write_bytes(tsa.certificates_pem(token.der))
    missed = []
    for at in range(0, len(token.der), 7):
        flipped = bytearray(token.der)
        flipped[at] ^= 0x01
        (tmp_path / "t.tsr").write_bytes(bytes(flipped))
        refused = subprocess.run(["openssl", "ts", "-verify", "-digest", DIGEST, "-in", "t.tsr", "-CAfile",
                                  "certs.pem", "-partial_chain"], cwd=tmp_path, capture_output=True).returncode != 0
        if refused and tsa.check(bytes(flipped), DIGEST).ok:
            missed.append(at)
    assert missed == []
    flipped = bytearray(token.der)
    flipped[-20] ^= 0x01  # inside the signature
    for roots in ((), (local_tsa.ca.read_bytes(),)):
        bad = tsa.check(bytes(flipped), DIGEST, roots=roots)
        assert not bad.ok and "altered" in (bad.problem or ""), bad
    assert not tsa.check(b"not a token", DIGEST).ok


def test_the_certs_line_trap_falls_back_to_openssl_and_says_so(tsa_chain) -> None:  # noqa: ANN001, F811
    import rfc3161_client

    token = tsa.request([tsa_chain.url], DIGEST)
    with pytest.raises(ValueError, match="InvalidSetOrdering"):  # the trap itself, as rfc3161-client meets it
        rfc3161_client.decode_timestamp_response(token.der)
    assert token.method == "openssl" and token.tsa == "Locker Chain TSA"
    check = tsa.check(token.der, DIGEST)
    assert check.ok and check.method == "openssl", check
    assert tsa.certificates_pem(token.der).count(b"BEGIN CERTIFICATE") == 2
    wrong = tsa.check(token.der, OTHER)
    assert not wrong.ok and wrong.method == "openssl" and "another digest" in (wrong.problem or "")


def test_one_failing_tsa_moves_on_to_the_next(tsa_down, tsa_wrong_nonce, local_tsa) -> None:  # noqa: ANN001, F811
    before = local_tsa.requests
    token = tsa.request([tsa_down.url, tsa_wrong_nonce.url, local_tsa.url], DIGEST)
    assert token.url == local_tsa.url and local_tsa.requests == before + 1
    assert [url for url, _why in token.tried] == [tsa_down.url, tsa_wrong_nonce.url]
    assert "503" in token.tried[0][1]
    assert "nonce" in token.tried[1][1]  # a token for another nonce is refused, though its signature is good


def test_no_token_is_a_clear_error_naming_each_tsa(tsa_down, tmp_path) -> None:  # noqa: ANN001, F811
    rejecting = LocalTsa(tmp_path / "rejecting", mode="rejection").start()
    try:
        with pytest.raises(tsa.TsaError) as caught:
            tsa.request([tsa_down.url, rejecting.url, "http://127.0.0.1:9/closed"], DIGEST, timeout=5)
    finally:
        rejecting.stop()
    message = caught.value.message
    assert message.startswith("no time-stamp authority gave a token")
    assert tsa_down.url in message and "503" in message
    assert rejecting.url in message and "refused: rejection" in message
    assert "127.0.0.1:9/closed" in message
    with pytest.raises(tsa.TsaError, match="no time-stamp authority to ask"):
        tsa.request([], DIGEST)
    with pytest.raises(tsa.TsaError, match="not a SHA-256"):
        tsa.request([tsa_down.url], "abc")


# --------------------------------------------------------------------------- locker stamp, profile --tsa


def test_stamp_stores_the_token_records_it_and_verify_checks_it(cli, stamped_dispute, home, local_tsa) -> None:  # noqa: ANN001, F811
    slug = stamped_dispute
    head = _log(cli, slug)[-1]
    ran = cli("stamp", slug, "--tsa", local_tsa.url, "--json")
    _ran_ok(ran)
    doc = ran.json
    assert doc["subject"] == f"custody:{head['seq']}" and doc["sha256"] == head["hash"]
    assert doc["tsa"] == "Locker Test TSA" and doc["failed"] == [] and doc["checked_with"] in ("rfc3161-client", "openssl")
    tsr = Path(doc["file"])
    assert tsr == home / "disputes" / slug / "timestamps" / "001-custody.tsr"
    sidecar = json.loads(tsr.with_suffix(".json").read_text())
    assert sidecar["subject"] == doc["subject"] and sidecar["sha256"] == head["hash"]
    # the custody log records it, with the token's own hash
    entry = _log(cli, slug)[-1]
    assert entry["action"] == "timestamp.added"
    assert entry["payload"]["token_sha256"] == hashlib.sha256(tsr.read_bytes()).hexdigest()
    assert entry["payload"]["file"] == "timestamps/001-custody.tsr"
    # the one-line command works as printed, in the token's folder
    checked = _openssl_verify(tsr.parent, doc["openssl"])
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr
    # and against the TSA's real root (what a careful recipient does)
    checked = subprocess.run(["openssl", "ts", "-verify", "-digest", head["hash"], "-in", str(tsr), "-CAfile",
                              str(local_tsa.ca)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    _ran_ok(cli("verify", slug))
    # human output
    ran = cli("stamp", slug, "--tsa", local_tsa.url)
    _ran_ok(ran)
    assert "Timestamp 2 of earbuds: Locker Test TSA says" in ran.out and "openssl ts -verify" in ran.out


def test_profile_tsa_list_default_none_and_order(cli, stamped_dispute, home, tsa_down, local_tsa) -> None:  # noqa: ANN001, F811
    slug = stamped_dispute
    assert cli("profile", "--json").json["tsa"] is None
    ran = cli("stamp", slug)
    assert ran.code == 2 and "no time-stamp authority to ask" in ran.err and "locker profile --tsa" in ran.err
    assert not (home / "disputes" / slug / "timestamps").exists()
    ran = cli("profile", "--tsa", tsa_down.url, "--tsa", local_tsa.url, "--json")
    _ran_ok(ran)
    assert ran.json["tsa"] == f"{tsa_down.url} {local_tsa.url}"
    assert "tsa = " in (home / "locker.toml").read_text()
    ran = cli("stamp", slug, "--json")
    _ran_ok(ran)
    assert ran.json["url"] == local_tsa.url and [f["url"] for f in ran.json["failed"]] == [tsa_down.url]
    assert f"{tsa_down.url} gave no token" in ran.err
    for wrong in ("ftp://example/tsa", "http://[bad", "http://127.0.0.1:99999/tsa"):
        ran = cli("profile", "--tsa", wrong)
        assert ran.code == 2 and "not a time-stamp authority's address" in ran.err, ran.err
        ran = cli("stamp", slug, "--tsa", wrong)
        assert ran.code == 2 and "not a time-stamp authority's address" in ran.err, ran.err
    _ran_ok(cli("profile", "--tsa", ""))
    assert cli("profile", "--json").json["tsa"] is None


def test_no_token_records_nothing(cli, stamped_dispute, home, tsa_down, tsa_wrong_nonce) -> None:  # noqa: ANN001, F811
    slug = stamped_dispute
    before = _log(cli, slug)
    ran = cli("stamp", slug, "--tsa", tsa_down.url, "--tsa", tsa_wrong_nonce.url, "--json")
    assert ran.code == 1
    error = ran.json["error"]
    assert error["code"] == "tsa" and "no time-stamp authority gave a token" in error["message"]
    assert "nonce" in error["message"] and "503" in error["message"]
    assert _log(cli, slug) == before
    folder = home / "disputes" / slug / "timestamps"
    assert not folder.exists() or not list(folder.iterdir())


# --------------------------------------------------------------------------- verify: tampering


def _stamp(cli, slug: str, url: str) -> Path:  # noqa: ANN001
    ran = cli("stamp", slug, "--tsa", url, "--json")
    _ran_ok(ran)
    return Path(ran.json["file"])


def _problems(cli, slug: str) -> list[dict]:  # noqa: ANN001
    ran = cli("verify", slug, "--json")
    assert ran.code == 1, ran.out
    return ran.json["disputes"][0]["problems"]


def test_verify_names_an_altered_token(cli, stamped_dispute, local_tsa) -> None:  # noqa: ANN001, F811
    first = _stamp(cli, stamped_dispute, local_tsa.url)
    second = _stamp(cli, stamped_dispute, local_tsa.url)
    data = bytearray(second.read_bytes())
    data[-20] ^= 0x01
    second.write_bytes(bytes(data))
    problems = _problems(cli, stamped_dispute)
    codes = {p["problem"] for p in problems}
    assert codes == {"timestamp_altered", "timestamp_invalid"}, problems
    assert all("002-custody.tsr" in p["detail"] for p in problems)
    assert not any(first.name in p["detail"] for p in problems)


def test_verify_names_a_token_swapped_for_another_valid_one(cli, stamped_dispute, local_tsa) -> None:  # noqa: ANN001, F811
    first = _stamp(cli, stamped_dispute, local_tsa.url)
    second = _stamp(cli, stamped_dispute, local_tsa.url)
    second.write_bytes(first.read_bytes())  # a genuine token, but over another head
    problems = _problems(cli, stamped_dispute)
    assert {p["problem"] for p in problems} == {"timestamp_altered", "timestamp_invalid"}
    invalid = next(p for p in problems if p["problem"] == "timestamp_invalid")
    assert "002-custody.tsr" in invalid["detail"] and "another digest" in invalid["detail"]


def test_verify_names_a_missing_or_planted_token(cli, stamped_dispute, local_tsa) -> None:  # noqa: ANN001, F811
    token = _stamp(cli, stamped_dispute, local_tsa.url)
    planted = token.with_name("009-custody.tsr")
    planted.write_bytes(token.read_bytes())
    token.unlink()
    ran = cli("verify", stamped_dispute, "--json")
    problems = ran.json["disputes"][0]["problems"]
    assert [(p["problem"], p["detail"]) for p in problems] == [
        ("timestamp_missing", "timestamps/001-custody.tsr: the token is gone"),
        ("timestamp_unrecorded", "timestamps/009-custody.tsr is a token no custody entry records")]
    assert ran.code == 1


def test_verify_names_a_token_whose_entry_was_edited(cli, stamped_dispute, home, local_tsa) -> None:  # noqa: ANN001, F811
    """An entry re-pointed at another digest (and its hash recomputed by the forger) is caught by the
    token itself: the token stamps the digest it stamps."""
    _stamp(cli, stamped_dispute, local_tsa.url)
    path = home / "disputes" / stamped_dispute / "dispute.sqlite"
    db.dispose(path)
    con = sqlite3.connect(path)
    with con:
        seq, payload = con.execute("SELECT seq, payload FROM custody WHERE action = 'timestamp.added'").fetchone()
        changed = json.loads(payload)
        changed["sha256"] = OTHER
        con.execute("UPDATE custody SET payload = ? WHERE seq = ?", (json.dumps(changed), seq))
    con.close()
    problems = _problems(cli, stamped_dispute)
    codes = {p["problem"] for p in problems}
    assert "timestamp_invalid" in codes and "timestamp_mismatch" in codes  # beside the chain's own report
    assert any(p["problem"] in ("hash_mismatch", "chain_broken", "entry_altered") or "hash" in p["detail"]
               for p in problems if not p["problem"].startswith("timestamp_"))


# --------------------------------------------------------------------------- export --stamp and the pack


def test_export_stamp_stamps_the_fingerprint_and_the_pack_lists_every_token(cli, stamped_dispute, home, tsa_chain, local_tsa) -> None:  # noqa: ANN001, F811
    slug = stamped_dispute
    _stamp(cli, slug, tsa_chain.url)  # a token from a TSA with a certs= line: checked with openssl
    ran = cli("export", slug, "--lang", "en", "--stamp", "--tsa", local_tsa.url, "--json")
    _ran_ok(ran)
    doc = ran.json
    stamp = doc["timestamp"]
    pack = Path(doc["path"])
    assert stamp["subject"] == f"pack:{pack.name}"
    beside = Path(stamp["file"])
    assert beside == pack.with_name(pack.name + ".tsr") and beside.read_bytes() == Path(stamp["stored"]).read_bytes()
    fingerprint = next(e for e in _log(cli, slug) if e["action"] == "export.created")["payload"]["fingerprint"]
    assert stamp["sha256"] == fingerprint
    assert tsa.check(beside.read_bytes(), fingerprint).ok
    text = subprocess.run(["pdftotext", "-layout", str(pack), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "C.1 Trusted timestamps (RFC 3161)" in flat
    assert "Locker Chain TSA" in flat and "Locker Test TSA" in flat
    assert f"pack fingerprint ({pack.name})" in flat
    for line in (f"openssl ts -verify -digest {fingerprint} -in 002-pack.tsr -CAfile 002-pack.pem -partial_chain",
                 "-in 001-custody.tsr -CAfile 001-custody.pem -partial_chain"):
        assert line in flat.replace("- ", "-"), line
    # each line the pack prints checks its token, as printed, in the dispute's timestamps folder
    folder = home / "disputes" / slug / "timestamps"
    for sidecar in sorted(folder.glob("*.json")):
        command = json.loads(sidecar.read_text())["openssl"]
        done = _openssl_verify(folder, command)
        assert done.returncode == 0, (sidecar.name, done.stderr)
    _ran_ok(cli("verify", slug))
    # a Chinese pack of the same dispute lists them too, in its own words (no new token without --stamp)
    ran = cli("export", slug, "--lang", "zh", "--json")
    _ran_ok(ran)
    assert ran.json["timestamp"] is None
    text = subprocess.run(["pdftotext", str(ran.json["path"]), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    assert "C.1可信时间戳（RFC3161）" in flat and "托管日志第" in flat and "条记录的哈希" in flat
    assert "证据包指纹（" in flat and "核对命令：" in flat and "-partial_chain" in flat


def test_export_stamp_without_a_tsa_writes_no_pack(cli, stamped_dispute, home) -> None:  # noqa: ANN001
    ran = cli("export", stamped_dispute, "--stamp")
    assert ran.code == 2 and "no time-stamp authority to ask" in ran.err
    ran = cli("export", stamped_dispute, "--tsa", "http://127.0.0.1:9/tsa")
    assert ran.code == 2 and "add --stamp" in ran.err
    assert not list((home / "disputes" / stamped_dispute / "exports").glob("*.pdf"))


def test_stamp_digest_is_what_bundle_calls(home, stamped_dispute, local_tsa) -> None:  # noqa: ANN001, F811
    from locker.paths import open_home
    from locker.services import stamp

    found = stamp.stamp_digest(open_home(str(home)), stamped_dispute, digest_hex=DIGEST,
                               subject="bundle:earbuds.zip", urls=[local_tsa.url])
    assert found.file.name == "001-bundle.tsr" and found.subject == "bundle:earbuds.zip"
    assert json.loads(found.file.with_suffix(".json").read_text())["sha256"] == DIGEST
    with pytest.raises(Exception, match="subject"):
        stamp.stamp_digest(open_home(str(home)), stamped_dispute, digest_hex=DIGEST, subject="whatever",
                           urls=[local_tsa.url])


def test_a_token_whose_serial_reads_negative_fails_its_check_without_an_error(local_tsa, tsa_chain) -> None:  # noqa: ANN001, F811
    """A damaged token can carry a negative serial number, which openssl prints as ``0x-…``: the
    check says the token does not check; it must not fail with an error of its own. (The chain
    TSA's tokens are read by openssl, see the certs line trap above.)"""
    for server in (local_tsa, tsa_chain):
        token = tsa.request([server.url], DIGEST)
        serial = bytes.fromhex(token.serial[2:])
        at = token.der.index(bytes([0x02, len(serial)]) + serial) + 2
        flipped = bytearray(token.der)
        flipped[at] ^= 0x80  # the serial's sign bit: the same digits, read as a negative number
        for roots in ((), (server.ca.read_bytes(),)):
            bad = tsa.check(bytes(flipped), DIGEST, roots=roots)
            assert not bad.ok and bad.problem, bad


def test_an_unknown_openssl_complaint_is_said_the_same_way_each_time(tmp_path) -> None:  # noqa: ANN001
    """openssl starts each error line with its thread's id, different in every run: the problem
    locker reports is the error's reason and detail, the same from run to run."""
    from locker.tsa.openssl import _first_error

    (tmp_path / "junk.tsr").write_bytes(b"\x30")  # a DER header cut short: openssl says so with no detail
    said = set()
    for _run in range(2):
        done = subprocess.run(["openssl", "ts", "-reply", "-in", "junk.tsr", "-text"], cwd=tmp_path,
                              capture_output=True, check=False)
        assert done.returncode != 0 and b":error:" in done.stderr, done.stderr
        said.add(_first_error(done.stderr))
    assert len(said) == 1, said
    (problem,) = said
    assert problem and ":error:" not in problem and "tasn_dec.c" not in problem, problem
