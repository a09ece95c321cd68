"""RFC 3161 trusted timestamps: ask a Time-Stamp Authority (TSA) for a token over a SHA-256
digest, and check a stored token offline.

This is the one place locker talks to the network, and only when the user asks (``locker
stamp``, ``export --stamp``, ``bundle --stamp``) with TSA URLs given by the user or the
profile: no TSA is ever contacted by default.

- :func:`request` builds the TimeStampReq itself (DER, SHA-256 imprint of the digest as given,
  a fresh 64-bit nonce, ``certReq`` true), posts it to each URL in turn until one answers with a
  token that checks out (status granted, same nonce, same imprint, valid signature), and
  returns it as a :class:`Token`. A TSA that fails (no answer, HTTP error, rejection, a token
  that does not check) is noted and the next one asked; when none answers it raises
  :class:`TsaError` naming each failure.
- :func:`check` verifies a stored token (the ``.tsr`` file: a DER TimeStampResp, or a bare
  TimeStampToken) against a digest without the network. ``rfc3161-client`` reads it and, when a
  root is known (given, or carried by the token), verifies it fully; when the token carries only
  its signing certificate (the usual case), the CMS signature is checked here against that
  certificate (cryptography), as ``openssl ts -verify -partial_chain`` does. A token that
  rfc3161-client cannot read (a TSA whose config has a ``certs =`` line embeds its chain in an
  order rfc3161-client rejects with ``InvalidSetOrdering``), or signed with an algorithm the
  check here does not know (RSA-PSS), is checked with ``openssl ts -verify`` instead.
  :attr:`TokenCheck.method` says which: ``rfc3161-client`` or ``openssl``.

What "checks" means offline: the token's signature is valid under the signing certificate the
token carries (its extended key usage must be ``timeStamping``, it must be valid at the token's
time and be the one the signed ESS attribute names), and the token stamps exactly this digest.
Whether that TSA is one to trust is for the reader to judge from its name (and from the TSA's
published root: see :func:`openssl_command`).

Core layer: bytes in, bytes out; no home, no dispute. ``rfc3161_client`` and ``cryptography`` are
imported inside the functions (start-up time of the command line).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import LockerError
from .i18n import N_, _

SHA256_OID = "2.16.840.1.101.3.4.2.1"
_SHA256_OID_DER = bytes.fromhex("0609608648016503040201")
MAX_REPLY = 1 << 20  # a TimeStampResp is a few KiB; more is not an answer
HEX64 = re.compile(r"^[0-9a-f]{64}$")
URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)


class TsaError(LockerError):
    """No TSA gave a token (each one's failure is in the message), or a token cannot be read."""

    code = "tsa"


@dataclass(frozen=True)
class Token:
    """A token a TSA gave: ``der`` is its TimeStampResp as received (what a ``.tsr`` file holds)."""

    url: str
    der: bytes
    gen_time: str  # ISO 8601, UTC ("...Z")
    serial: str  # hex, as openssl prints it ("0x1A2B")
    tsa: str  # the TSA's name: its signing certificate's common name (else its subject, else the token's name)
    nonce: int
    method: str  # how the answer was checked: "rfc3161-client" | "openssl"
    tried: tuple[tuple[str, str], ...] = ()  # the URLs that failed before this one, with why


@dataclass(frozen=True)
class TokenCheck:
    ok: bool
    method: str  # "rfc3161-client" | "openssl"
    gen_time: str
    serial: str
    tsa: str
    problem: str | None


def check_url(url: str) -> str:
    """An http(s) URL with a host, stripped; else a TsaError."""
    from urllib.parse import urlsplit

    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
        ok = bool(URL.match(url)) and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise TsaError(_("{url!r} is not a time-stamp authority's address (http:// or https://)").format(url=url))
    return url


def _digest_bytes(digest_hex: str) -> bytes:
    value = digest_hex.strip().lower()
    if not HEX64.match(value):
        raise TsaError(_("{digest!r} is not a SHA-256 digest (64 hex digits)").format(digest=digest_hex))
    return bytes.fromhex(value)


# --------------------------------------------------------------------------- DER, the little we write and read


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _integer(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")  # room for a leading 0: positive
    return _tlv(0x02, raw)


def build_query(digest: bytes, nonce: int) -> bytes:
    """A DER TimeStampReq (RFC 3161 §2.4.1): version 1, SHA-256 imprint, nonce, certReq true."""
    algorithm = _tlv(0x30, _SHA256_OID_DER + b"\x05\x00")
    imprint = _tlv(0x30, algorithm + _tlv(0x04, digest))
    return _tlv(0x30, _integer(1) + imprint + _integer(nonce) + b"\x01\x01\xff")


def _read_tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``at``."""
    if at + 2 > len(data):
        raise ValueError("truncated")
    tag, first = data[at], data[at + 1]
    at += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[at:at + count], "big")
        at += count
    if at + length > len(data):
        raise ValueError("truncated")
    return tag, at, at + length


def as_response(der: bytes) -> bytes:
    """A stored token as a DER TimeStampResp: a response as it is; a bare TimeStampToken
    (ContentInfo, OID signedData) wrapped in one with status granted."""
    try:
        tag, start, end = _read_tlv(der, 0)
        if tag != 0x30 or end != len(der):
            raise ValueError("not one SEQUENCE")
        tag, inner, _end = _read_tlv(der, start)
    except ValueError as err:
        raise TsaError(_("not a time-stamp token: {reason}").format(reason=err)) from None
    if tag == 0x06:  # ContentInfo: contentType OID first
        return _tlv(0x30, _tlv(0x30, _integer(0)) + der)
    return der


def _token_of(response: bytes) -> bytes:
    """The TimeStampToken (ContentInfo) inside a DER TimeStampResp."""
    _tag, start, _end = _read_tlv(response, 0)
    _tag, _s, status_end = _read_tlv(response, start)
    tag, token_start, token_end = _read_tlv(response, status_end)
    if tag != 0x30:
        raise ValueError("no token")
    return response[status_end:token_end]


# --------------------------------------------------------------------------- asking


def request(urls: Sequence[str], digest_hex: str, *, timeout: float = 20.0) -> Token:
    """A token over ``digest_hex`` (SHA-256) from the first TSA of ``urls`` that gives a good one."""
    digest = _digest_bytes(digest_hex)
    if not urls:
        raise TsaError(_("no time-stamp authority to ask: give --tsa URL, or set one with `locker profile --tsa URL`"))
    failed: list[tuple[str, str]] = []
    for raw in urls:
        url = raw.strip()
        nonce = secrets.randbits(63) | (1 << 62)  # positive, 63 bits: fits every TSA's INTEGER handling
        try:
            check_url(url)
            reply = _post(url, build_query(digest, nonce), timeout)
            token = _accept(url, reply, digest, nonce)
        except TsaError as err:
            failed.append((url, err.message))
            continue
        return Token(token.url, token.der, token.gen_time, token.serial, token.tsa, token.nonce, token.method,
                     tuple(failed))
    raise TsaError(_("no time-stamp authority gave a token: {failures}").format(
        failures="; ".join(f"{url}: {why}" for url, why in failed)))


def _post(url: str, query: bytes, timeout: float) -> bytes:
    import http.client
    import urllib.error
    import urllib.request

    try:
        req = urllib.request.Request(url, data=query, method="POST", headers={
            "Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply",
            "User-Agent": "locker (RFC 3161 client)"})
        with urllib.request.urlopen(req, timeout=timeout) as answer:  # noqa: S310 (http(s) only: check_url)
            body: bytes = answer.read(MAX_REPLY + 1)
    except urllib.error.HTTPError as err:
        raise TsaError(_("HTTP {status} {reason}").format(status=err.code, reason=err.reason)) from None
    except urllib.error.URLError as err:
        raise TsaError(str(err.reason)) from None
    except (OSError, ValueError, http.client.HTTPException) as err:  # timeouts, resets, garbled HTTP, a bad URL
        raise TsaError(str(err) or type(err).__name__) from None
    if len(body) > MAX_REPLY:
        raise TsaError(_("the answer is larger than {n} bytes: not a time-stamp reply").format(n=MAX_REPLY))
    if not body:
        raise TsaError(_("empty answer"))
    return body


def _accept(url: str, reply: bytes, digest: bytes, nonce: int) -> Token:
    """The reply as a Token if it is granted, for our nonce and digest, and its signature checks."""
    try:
        import rfc3161_client
    except ImportError:
        rfc3161_client = None  # type: ignore[assignment]
    if rfc3161_client is not None:
        try:
            response = rfc3161_client.decode_timestamp_response(reply)
        except Exception:  # noqa: BLE001 (a parse error of any kind: try openssl below)
            response = None
        if response is not None:
            if response.status not in (0, 1):
                words = "; ".join(response.status_string) or _status_name(response.status)
                raise TsaError(_("refused: {status}").format(status=words))
            info = response.tst_info
            if info.nonce != nonce:
                raise TsaError(_("the answer's nonce is not the one sent (a replayed or misdirected answer)"))
            if info.message_imprint.message != digest:
                raise TsaError(_("the token stamps another digest than the one sent"))
            result = check(reply, digest.hex())
            if not result.ok:
                raise TsaError(result.problem or _("the token does not check"))
            return Token(url, reply, result.gen_time, result.serial, result.tsa, nonce, result.method)
    status = _status_of(reply)
    if status not in (0, 1):
        raise TsaError(_("refused: {status}").format(status=_status_name(status)))
    return _accept_openssl(url, reply, digest, nonce)


def _status_of(reply: bytes) -> int:
    try:
        _tag, start, _end = _read_tlv(reply, 0)
        _tag, inner, _e = _read_tlv(reply, start)
        tag, s, e = _read_tlv(reply, inner)
        if tag != 0x02:
            raise ValueError("no status")
        return int.from_bytes(reply[s:e], "big", signed=True)
    except ValueError as err:
        raise TsaError(_("not a time-stamp reply: {reason}").format(reason=err)) from None


def _status_name(status: int) -> str:
    names = {2: "rejection", 3: "waiting", 4: "revocationWarning", 5: "revocationNotification"}
    return names.get(status, str(status))


def _accept_openssl(url: str, reply: bytes, digest: bytes, nonce: int) -> Token:
    with tempfile.TemporaryDirectory(prefix="locker-tsa-") as folder:
        query = Path(folder) / "query.tsq"
        query.write_bytes(build_query(digest, nonce))
        result = _openssl_check(reply, digest.hex(), folder, query=query)
    if not result.ok:
        raise TsaError(result.problem or _("the token does not check"))
    return Token(url, reply, result.gen_time, result.serial, result.tsa, nonce, result.method)


# --------------------------------------------------------------------------- checking


def check(token_der: bytes, digest_hex: str, *, roots: Sequence[bytes] = ()) -> TokenCheck:
    """Check a stored token against ``digest_hex`` offline (see the module's docstring). ``roots``:
    trusted root certificates (PEM or DER) of the TSA, when known."""
    try:
        digest = _digest_bytes(digest_hex)
        response = as_response(token_der)
    except TsaError as err:
        return TokenCheck(False, "rfc3161-client", "", "", "", err.message)
    try:
        import rfc3161_client
    except ImportError:
        return _check_openssl(response, digest.hex())
    try:
        decoded = rfc3161_client.decode_timestamp_response(response)
    except Exception:  # noqa: BLE001 (InvalidSetOrdering and the like: openssl reads those)
        return _check_openssl(response, digest.hex())
    try:
        found = _check_rfc3161(decoded, digest, roots)
    except Exception as err:  # noqa: BLE001 (its parts are read lazily: a damaged one raises late)
        return TokenCheck(False, "rfc3161-client", "", "", "", _("unreadable token: {reason}").format(reason=err))
    if not found.ok and found.problem == _NO_ANCHOR:
        # The token carries its signer's certificate but not the root it chains to (the usual case),
        # and no root was given: rfc3161-client cannot take the signer's certificate itself as the
        # anchor. Its signature is checked here against that certificate (as openssl -partial_chain
        # does); a signature algorithm this does not know goes to openssl.
        try:
            problem = _signed_by_carried_certificate(response, decoded)
        except _Unsupported:
            return _check_openssl(response, digest.hex())
        except Exception as err:  # noqa: BLE001 (a damaged part read late)
            problem = _("unreadable token: {reason}").format(reason=err)
        return TokenCheck(problem is None, found.method, found.gen_time, found.serial, found.tsa, problem)
    return found


_NO_ANCHOR = "no anchor"


class _Unsupported(Exception):
    """A token this module's own signature check does not handle (openssl checks it)."""


_DIGESTS = {  # DER of the OID's content → hashlib / cryptography name
    bytes.fromhex("608648016503040201"): "sha256", bytes.fromhex("608648016503040202"): "sha384",
    bytes.fromhex("608648016503040203"): "sha512", bytes.fromhex("2b0e03021a"): "sha1",
}
_MESSAGE_DIGEST_OID = bytes.fromhex("2a864886f70d010904")
_RSA_PSS_OID = bytes.fromhex("2a864886f70d01010a")


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, content start, content end) of each DER element in data[start:end]."""
    found = []
    at = start
    while at < end:
        tag, content, stop = _read_tlv(data, at)
        found.append((tag, at, content, stop))
        at = stop
    return found


_ESS_V2_OID = bytes.fromhex("2a864886f70d010910022f")  # id-aa-signingCertificateV2 (RFC 5035)
_ESS_V1_OID = bytes.fromhex("2a864886f70d010910020c")  # id-aa-signingCertificate (RFC 2634)


def _ess_binds(token: bytes, attrs: tuple[int, int, int, int], signer: Any) -> bool:
    """The signed ESS signing-certificate attribute names exactly this certificate (its hash)."""
    import hashlib as _hashlib

    from cryptography.hazmat.primitives.serialization import Encoding

    der = signer.public_bytes(Encoding.DER)
    for attr in _children(token, attrs[2], attrs[3]):
        inner = _children(token, attr[2], attr[3])
        oid = token[inner[0][2]:inner[0][3]]
        if oid not in (_ESS_V2_OID, _ESS_V1_OID):
            continue
        value = _children(token, inner[1][2], inner[1][3])[0]  # SigningCertificate(V2)
        certs = _children(token, value[2], value[3])[0]  # SEQUENCE OF ESSCertID(v2)
        first = _children(token, certs[2], certs[3])[0]
        fields = _children(token, first[2], first[3])
        name = "sha1"
        if oid == _ESS_V2_OID and fields[0][0] == 0x30:  # hashAlgorithm given (default sha256)
            name = _DIGESTS.get(token[_children(token, fields[0][2], fields[0][3])[0][2]:
                                     _children(token, fields[0][2], fields[0][3])[0][3]], "")
            fields = fields[1:]
        elif oid == _ESS_V2_OID:
            name = "sha256"
        if not name:
            raise _Unsupported
        return token[fields[0][2]:fields[0][3]] == _hashlib.new(name, der).digest()
    return False


def _signed_by_carried_certificate(response: bytes, decoded: Any) -> str | None:
    """None when the token's CMS signature holds under the certificate it names and carries (with the
    timeStamping extended key usage, valid at the token's time); else what is wrong."""
    import hashlib as _hashlib

    import cryptography.x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    try:
        token = _token_of(response)
        _t, s, e = _read_tlv(token, 0)  # ContentInfo
        parts = _children(token, s, e)
        _t, s, e = _read_tlv(token, parts[1][2])  # [0] EXPLICIT → SignedData
        signed = _children(token, s, e)
        encap = _children(token, signed[2][2], signed[2][3])
        _t, es, ee = _read_tlv(token, encap[1][2])  # eContent [0] EXPLICIT OCTET STRING
        content = token[es:ee]
        infos = [c for c in signed if c[0] == 0x31][-1]
        signer_infos = _children(token, infos[2], infos[3])
        if len(signer_infos) != 1:
            raise _Unsupported
        fields = _children(token, signer_infos[0][2], signer_infos[0][3])
        digest_oid = _children(token, fields[2][2], fields[2][3])[0]
        attrs = next(f for f in fields if f[0] == 0xA0)
        sig_alg = _children(token, fields[4][2], fields[4][3])[0] if fields[3][0] == 0xA0 else None
        signature_field = fields[5] if fields[3][0] == 0xA0 else fields[4]
    except (ValueError, IndexError, StopIteration):
        return _("unreadable token: its signature is not where CMS puts it")
    name = _DIGESTS.get(token[digest_oid[2]:digest_oid[3]])
    try:  # the digest algorithm the signer used must be among those SignedData declares
        declared = {token[a[2]:a[3]] for d in _children(token, signed[1][2], signed[1][3])
                    for a in _children(token, d[2], d[3])[:1]}
    except ValueError:
        declared = set()
    if token[digest_oid[2]:digest_oid[3]] not in declared:
        return _("unreadable token: its digest algorithms do not agree")
    if name is None or (sig_alg is not None and token[sig_alg[2]:sig_alg[3]] == _RSA_PSS_OID):
        raise _Unsupported
    signed_attrs = b"\x31" + token[attrs[1] + 1:attrs[3]]  # signed as a SET OF (RFC 5652 §5.4)
    recorded = None
    for attr in _children(token, attrs[2], attrs[3]):
        inner = _children(token, attr[2], attr[3])
        if token[inner[0][2]:inner[0][3]] == _MESSAGE_DIGEST_OID:
            value = _children(token, inner[1][2], inner[1][3])[0]
            recorded = token[value[2]:value[3]]
    if recorded != _hashlib.new(name, content).digest():
        return _("the token's signature does not match its content: it was altered")
    signature = token[signature_field[2]:signature_field[3]]
    infos_parsed = list(decoded.signed_data.signer_infos)
    certs = [cryptography.x509.load_der_x509_certificate(c) for c in decoded.signed_data.certificates]
    signer = next((c for c in certs if c.issuer == infos_parsed[0].issuer
                   and c.serial_number == infos_parsed[0].serial_number), None)
    if signer is None:
        return _("the token does not carry the certificate that signed it")
    if not _ess_binds(token, attrs, signer):
        return _("the token's signing certificate is not the one it names: it was altered")
    try:
        eku = signer.extensions.get_extension_for_class(cryptography.x509.ExtendedKeyUsage)
    except cryptography.x509.ExtensionNotFound:
        eku = None
    if eku is None or not eku.critical or cryptography.x509.oid.ExtendedKeyUsageOID.TIME_STAMPING not in eku.value:
        return _("the certificate that signed the token is not one for timestamps (extended key usage)")
    when = decoded.tst_info.gen_time
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if not signer.not_valid_before_utc <= when <= signer.not_valid_after_utc:
        return _("the certificate that signed the token was not valid at the token's time")
    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512(),
                 "sha1": hashes.SHA1()}[name]
    key = signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed_attrs, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed_attrs, ec.ECDSA(algorithm))
        else:
            raise _Unsupported
    except InvalidSignature:
        return _("the token's signature does not match its content: it was altered")
    return None


def _load_certs(blobs: Sequence[bytes]) -> list[Any]:
    import cryptography.x509

    found = []
    for blob in blobs:
        if b"-----BEGIN" in blob:
            found += cryptography.x509.load_pem_x509_certificates(blob)
        else:
            found.append(cryptography.x509.load_der_x509_certificate(blob))
    return found


def _check_rfc3161(response: Any, digest: bytes, roots: Sequence[bytes] = ()) -> TokenCheck:
    import cryptography.x509
    from rfc3161_client import VerificationError, VerifierBuilder

    method = "rfc3161-client"
    try:
        info = response.tst_info
        gen_time, serial = _iso(info.gen_time), _hex(info.serial_number)
        certs = [cryptography.x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]
        anchors = _load_certs(roots)
    except Exception as err:  # noqa: BLE001 (a token missing its parts)
        return TokenCheck(False, method, "", "", "", _("unreadable token: {reason}").format(reason=err))
    tsa = _tsa_name(response, certs)
    if info.message_imprint.message != digest:
        return TokenCheck(False, method, gen_time, serial, tsa, _("the token stamps another digest: {found}").format(
            found=info.message_imprint.message.hex()))
    builder = VerifierBuilder()
    for cert in [*anchors, *(c for c in certs if c.issuer == c.subject)]:
        builder = builder.add_root_certificate(cert)
    for cert in certs:
        if cert.issuer != cert.subject:
            builder = builder.add_intermediate_certificate(cert)
    if not anchors and not any(c.issuer == c.subject for c in certs):
        return TokenCheck(False, method, gen_time, serial, tsa, _NO_ANCHOR)
    try:
        builder.build().verify(response, digest)
    except VerificationError as err:
        problem = str(err)
        if "unable to get local issuer certificate" in problem and not anchors:
            problem = _NO_ANCHOR
        elif "signature failure" in problem:
            problem = _("the token's signature does not match its content: it was altered")
        return TokenCheck(False, method, gen_time, serial, tsa, problem)
    except Exception as err:  # noqa: BLE001 (a damaged signature surfaces as assorted errors)
        return TokenCheck(False, method, gen_time, serial, tsa, str(err) or type(err).__name__)
    return TokenCheck(True, method, gen_time, serial, tsa, None)


def _tsa_name(response: Any, certs: list[Any]) -> str:
    from cryptography.x509.oid import NameOID

    signer = None
    try:
        infos = list(response.signed_data.signer_infos)
        if len(infos) == 1:
            signer = next((c for c in certs if c.issuer == infos[0].issuer
                           and c.serial_number == infos[0].serial_number), None)
    except Exception:  # noqa: BLE001
        signer = None
    if signer is not None:
        names = signer.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else signer.subject.rfc4514_string()
    try:
        value: Any = getattr(response.tst_info.name, "value", None)
        return str(value.rfc4514_string()) if hasattr(value, "rfc4514_string") else str(value or "")
    except Exception:  # noqa: BLE001
        return ""


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    text = when.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def _hex(serial: int) -> str:
    digits = format(serial, "X")
    return "0x" + ("0" + digits if len(digits) % 2 else digits)


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


def _first_error(stderr: bytes) -> str:
    """What openssl's complaint means, in a few words (else its last line)."""
    text = stderr.decode("utf-8", "replace")
    low = text.lower()
    for known, meaning in _OPENSSL_PROBLEMS:
        if known in low:
            return _(meaning)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("Using configuration")]
    return lines[-1].rsplit(":", 1)[-1] or lines[-1] if lines else "openssl failed"


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
            found["serial"] = _hex(int(value, 16)) if value.lower().startswith("0x") else value
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

