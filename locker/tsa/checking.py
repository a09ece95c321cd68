"""Checking a stored token offline (:func:`check`): rfc3161-client reads it and verifies it against a
root when one is known; a token that carries only its signing certificate is checked against that
certificate (:mod:`.signature`); one rfc3161-client cannot read, or signed in a way the check here
does not know, goes to ``openssl ts -verify`` (:mod:`.openssl`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..i18n import _
from .der import as_response
from .openssl import _check_openssl
from .signature import _signed_by_carried_certificate, _Unsupported
from .values import TokenCheck, TsaError, _digest_bytes, _hex, _iso


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

