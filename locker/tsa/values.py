"""What the RFC 3161 client hands out and raises: :class:`Token` (a token a TSA gave),
:class:`TokenCheck` (a stored token, checked), :class:`TsaError`; and how it reads a digest a caller
gives and writes a token's time and serial number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import LockerError
from ..i18n import _

SHA256_OID = "2.16.840.1.101.3.4.2.1"
HEX64 = re.compile(r"^[0-9a-f]{64}$")


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


def _digest_bytes(digest_hex: str) -> bytes:
    value = digest_hex.strip().lower()
    if not HEX64.match(value):
        raise TsaError(_("{digest!r} is not a SHA-256 digest (64 hex digits)").format(digest=digest_hex))
    return bytes.fromhex(value)


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    text = when.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def _hex(serial: int) -> str:
    digits = format(serial, "X")
    return "0x" + ("0" + digits if len(digits) % 2 else digits)
