"""The ``openssl`` command as the second checker of a token (one rfc3161-client cannot read, or signed in a
way :mod:`.signature` does not know), the certificates a token carries as PEM, and the one
``openssl ts -verify`` line a reader can run themselves (:func:`openssl_command`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from ..i18n import N_, _
from .der import _token_of, as_response
from .values import TokenCheck, TsaError, _hex, _iso


def openssl_available() -> bool:
    return shutil.which("openssl") is not None


def _openssl(args: Sequence[str], cwd: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, check=False,
                          env={**os.environ, "LC_ALL": "C"})


def _check_openssl(response: bytes, digest_hex: str) -> TokenCheck:
    with tempfile.TemporaryDirectory(prefix="locker-tsa-") as folder:
        return _openssl_check(response, digest_hex, folder)


def _openssl_check(response: bytes, digest_hex: str, folder: str, *, query: Path | None = None) -> TokenCheck:
    """``openssl ts -verify`` of a TimeStampResp, the signer's chain taken from the token itself
    (``-partial_chain``: the certificates it carries are the anchors, as in the rfc3161-client check);
    with ``query``, the nonce and imprint are checked against that TimeStampReq."""
    method = "openssl"
    if not openssl_available():
        return TokenCheck(False, method, "", "", "", _(
            "this token can only be checked with the openssl command, which is not installed"))
    reply = Path(folder) / "token.tsr"
    reply.write_bytes(response)
    shown = _openssl(["ts", "-reply", "-in", "token.tsr", "-text"], folder)
    if shown.returncode != 0:
        return TokenCheck(False, method, "", "", "", _("unreadable token: {reason}").format(
            reason=_first_error(shown.stderr)))
    fields = _fields(shown.stdout.decode("utf-8", "replace"))
    gen_time, serial, tsa = fields.get("time", ""), fields.get("serial", ""), fields.get("tsa", "")
    token = _token_of_safely(response)
    if token is None:
        return TokenCheck(False, method, gen_time, serial, tsa, _("the reply holds no token"))
    (Path(folder) / "token.p7").write_bytes(token)
    certs = _openssl(["pkcs7", "-inform", "DER", "-in", "token.p7", "-print_certs", "-out", "certs.pem"], folder)
    if certs.returncode != 0 or not (Path(folder) / "certs.pem").read_bytes().strip():
        return TokenCheck(False, method, gen_time, serial, tsa,
                          _("the token carries no certificate to check its signature with"))
    against = ["-queryfile", str(query)] if query is not None else ["-digest", digest_hex]
    verified = _openssl(["ts", "-verify", *against, "-in", "token.tsr", "-CAfile", "certs.pem", "-partial_chain"],
                        folder)
    if verified.returncode != 0:
        problem = _first_error(verified.stderr)
        return TokenCheck(False, method, gen_time, serial, tsa, problem)
    return TokenCheck(True, method, gen_time, serial, tsa, None)


def _token_of_safely(response: bytes) -> bytes | None:
    try:
        return _token_of(response)
    except ValueError:
        return None


_OPENSSL_PROBLEMS = (
    ("message imprint mismatch", N_("the token stamps another digest")),
    ("nonce mismatch", N_("the answer's nonce is not the one sent (a replayed or misdirected answer)")),
    ("signature failure", N_("the token's signature does not match its content: it was altered")),
    ("ess cert id not found", N_("the token's signing certificate is not the one it names: it was altered")),
    ("certificate verify error", N_("the token's certificates do not verify")),
)


# One line of openssl's error queue: "<thread id>:error:<code>:<library>:<function>:<reason>:<file>:<line>:<data>".
_ERROR_LINE = re.compile(r"^[0-9A-Fa-f]+:error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+):[^:]*:\d+:(.*)$")


def _first_error(stderr: bytes) -> str:
    """What openssl's complaint means, in a few words: a known one in locker's words, else the
    reason of the last error openssl queued (with its detail), else its last line. Never the
    thread id openssl starts each error line with, which differs from run to run."""
    text = stderr.decode("utf-8", "replace")
    low = text.lower()
    for known, meaning in _OPENSSL_PROBLEMS:
        if known in low:
            return _(meaning)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("Using configuration")]
    for line in reversed(lines):
        queued = _ERROR_LINE.match(line)
        if queued:
            reason, detail = queued.group(1).strip(), queued.group(2).strip()
            return f"{reason} ({detail})" if detail else reason
    return lines[-1].rsplit(":", 1)[-1].strip() or lines[-1] if lines else "openssl failed"


_TIME_FORMATS = ("%b %d %H:%M:%S %Y GMT", "%b %d %H:%M:%S.%f %Y GMT")


def _fields(text: str) -> dict[str, str]:
    """Serial, time and TSA from ``openssl ts -reply -text``."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "Serial number":
            found["serial"] = _serial(value)
        elif key == "Time stamp":
            squeezed = " ".join(value.split())
            for fmt in _TIME_FORMATS:
                try:
                    found["time"] = _iso(datetime.strptime(squeezed, fmt).replace(tzinfo=UTC))
                    break
                except ValueError:
                    continue
            else:
                found["time"] = value
        elif key == "TSA":
            found["tsa"] = _common_name(value)
    return found


def _serial(value: str) -> str:
    """A serial as openssl prints it, in the form the other checker gives (``0x`` and even hex
    digits). A damaged token can hold a negative serial, which openssl prints as ``0x-7E``: that
    is kept as printed (the token fails its check for its damage, not for this line)."""
    if not value.lower().startswith("0x"):
        return value
    try:
        return _hex(int(value, 16))
    except ValueError:
        return value


def _common_name(value: str) -> str:
    """The CN of ``DirName:/O=…/CN=…`` as openssl prints a TSA name; else the value."""
    match = re.search(r"CN\s*=\s*([^/,]+)", value)
    return match.group(1).strip() if match else value


def openssl_command(tsr_name: str, digest_hex: str, certs_name: str) -> str:
    """The one line that checks a stored token with standard tools. ``certs_name`` is the PEM file of
    the certificates the token carries (stored beside it); ``-partial_chain`` takes them as the
    anchors, as :func:`check` does. To check the TSA itself too, use its published root certificate
    as ``-CAfile`` and drop ``-partial_chain``."""
    return f"openssl ts -verify -digest {digest_hex} -in {tsr_name} -CAfile {certs_name} -partial_chain"


def certificates_pem(token_der: bytes) -> bytes:
    """The certificates a stored token carries, PEM (empty when none or unreadable)."""
    try:
        token = _token_of(as_response(token_der))
    except (TsaError, ValueError):
        return b""
    try:
        import warnings

        from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

        with warnings.catch_warnings():  # a SET OF out of DER order is read as BER, with a warning
            warnings.simplefilter("ignore")
            return b"".join(c.public_bytes(Encoding.PEM) for c in pkcs7.load_der_pkcs7_certificates(token))
    except Exception:  # noqa: BLE001 (cryptography missing, or a token it cannot read: ask openssl)
        pass
    if not openssl_available():
        return b""
    with tempfile.TemporaryDirectory(prefix="locker-tsa-") as folder:
        (Path(folder) / "token.p7").write_bytes(token)
        done = _openssl(["pkcs7", "-inform", "DER", "-in", "token.p7", "-print_certs"], folder)
    return done.stdout if done.returncode == 0 else b""

