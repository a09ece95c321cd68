"""DER, the little the RFC 3161 client writes and reads by hand: a TimeStampReq (:func:`build_query`),
a stored token as a TimeStampResp (:func:`as_response`), the token inside a response, and the
elements of a DER structure (tag, where its content starts and ends).
"""

from __future__ import annotations

from ..i18n import _
from .values import TsaError

_SHA256_OID_DER = bytes.fromhex("0609608648016503040201")


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


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, content start, content end) of each DER element in data[start:end]."""
    found = []
    at = start
    while at < end:
        tag, content, stop = _read_tlv(data, at)
        found.append((tag, at, content, stop))
        at = stop
    return found
