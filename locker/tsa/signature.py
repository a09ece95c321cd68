"""The CMS signature of a token checked against the signing certificate the token carries (as
``openssl ts -verify -partial_chain`` does): the signed message digest, the ESS attribute naming that
certificate, its extended key usage and validity, and the signature itself (RSA PKCS#1 v1.5 or
ECDSA; anything else raises :class:`_Unsupported`, for openssl to check).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any, NamedTuple

from ..i18n import _
from .der import _children, _read_tlv, _token_of


class _Unsupported(Exception):
    """A token this module's own signature check does not handle (openssl checks it)."""


_DIGESTS = {  # DER of the OID's content → hashlib / cryptography name
    bytes.fromhex("608648016503040201"): "sha256", bytes.fromhex("608648016503040202"): "sha384",
    bytes.fromhex("608648016503040203"): "sha512", bytes.fromhex("2b0e03021a"): "sha1",
}
_MESSAGE_DIGEST_OID = bytes.fromhex("2a864886f70d010904")
_RSA_PSS_OID = bytes.fromhex("2a864886f70d01010a")
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

    try:
        token = _token_of(response)
        cms = _cms_parts(token)
    except (ValueError, IndexError, StopIteration):
        return _("unreadable token: its signature is not where CMS puts it")
    name = _DIGESTS.get(token[cms.digest_oid[2]:cms.digest_oid[3]])
    if not _declares(token, cms.signed, cms.digest_oid):
        return _("unreadable token: its digest algorithms do not agree")
    if name is None or (cms.sig_alg is not None and token[cms.sig_alg[2]:cms.sig_alg[3]] == _RSA_PSS_OID):
        raise _Unsupported
    signed_attrs = b"\x31" + token[cms.attrs[1] + 1:cms.attrs[3]]  # signed as a SET OF (RFC 5652 §5.4)
    if _message_digest(token, cms.attrs) != _hashlib.new(name, cms.content).digest():
        return _("the token's signature does not match its content: it was altered")
    signature = token[cms.signature[2]:cms.signature[3]]
    signer = _carried_signer(decoded)
    if signer is None:
        return _("the token does not carry the certificate that signed it")
    if not _ess_binds(token, cms.attrs, signer):
        return _("the token's signing certificate is not the one it names: it was altered")
    problem = _certificate_problem(signer, decoded)
    if problem is not None:
        return problem
    return _signature_problem(signer, signature, signed_attrs, name)


_Element = tuple[int, int, int, int]  # tag, element start, content start, content end (as _children gives them)


class _Cms(NamedTuple):
    """Where the parts a token's signature covers lie in its DER."""

    content: bytes  # the encapsulated TSTInfo, which the signed message digest covers
    signed: list[_Element]  # the fields of SignedData
    digest_oid: _Element  # the digest algorithm the signer used
    attrs: _Element  # the signed attributes, [0] IMPLICIT
    sig_alg: _Element | None  # the signature algorithm's OID
    signature: _Element


def _cms_parts(token: bytes) -> _Cms:
    """The parts of a TimeStampToken (ContentInfo → SignedData, one SignerInfo) the signature check
    reads. ValueError, IndexError or StopIteration when they are not where CMS puts them;
    _Unsupported when the token has more than one signer."""
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
    return _Cms(content, signed, digest_oid, attrs, sig_alg, signature_field)


def _declares(token: bytes, signed: list[_Element], digest_oid: _Element) -> bool:
    """The digest algorithm the signer used is among those SignedData declares."""
    try:
        declared = {token[a[2]:a[3]] for d in _children(token, signed[1][2], signed[1][3])
                    for a in _children(token, d[2], d[3])[:1]}
    except ValueError:
        declared = set()
    return token[digest_oid[2]:digest_oid[3]] in declared


def _message_digest(token: bytes, attrs: _Element) -> bytes | None:
    """The value of the signed message-digest attribute (the last one); None when there is none."""
    recorded = None
    for attr in _children(token, attrs[2], attrs[3]):
        inner = _children(token, attr[2], attr[3])
        if token[inner[0][2]:inner[0][3]] == _MESSAGE_DIGEST_OID:
            value = _children(token, inner[1][2], inner[1][3])[0]
            recorded = token[value[2]:value[3]]
    return recorded


def _carried_signer(decoded: Any) -> Any:
    """The certificate the token carries that its SignerInfo names (issuer and serial number); None when
    it does not carry it."""
    import cryptography.x509

    infos_parsed = list(decoded.signed_data.signer_infos)
    certs = [cryptography.x509.load_der_x509_certificate(c) for c in decoded.signed_data.certificates]
    return next((c for c in certs if c.issuer == infos_parsed[0].issuer
                 and c.serial_number == infos_parsed[0].serial_number), None)


def _certificate_problem(signer: Any, decoded: Any) -> str | None:
    """What makes the signing certificate unfit to sign this token (no critical timeStamping extended
    key usage, or not valid at the token's time); None when it is fit."""
    import cryptography.x509

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
    return None


def _signature_problem(signer: Any, signature: bytes, signed_attrs: bytes, name: str) -> str | None:
    """None when ``signature`` over the signed attributes holds under the signer's key (RSA PKCS#1 v1.5
    or ECDSA, hashed with ``name``); else what is wrong. _Unsupported for another kind of key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

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
