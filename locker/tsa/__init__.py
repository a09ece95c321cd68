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

The rooms: :mod:`.values` (the token, the check's result, the error), :mod:`.der` (the DER written
and read by hand), :mod:`.asking` (the HTTP request), :mod:`.checking` (the offline check),
:mod:`.signature` (a token's signature against the certificate it carries) and :mod:`.openssl` (the
``openssl`` command as the second checker). This face re-exports what the rest of locker uses.

Core layer: bytes in, bytes out; no home, no dispute. ``rfc3161_client`` and ``cryptography`` are
imported inside the functions (start-up time of the command line).
"""

from __future__ import annotations

from .asking import MAX_REPLY, URL, check_url, request
from .checking import check
from .der import as_response, build_query
from .openssl import certificates_pem, openssl_available, openssl_command
from .values import HEX64, SHA256_OID, Token, TokenCheck, TsaError

__all__ = [
    "HEX64", "MAX_REPLY", "SHA256_OID", "URL", "Token", "TokenCheck", "TsaError", "as_response", "build_query",
    "certificates_pem", "check", "check_url", "openssl_available", "openssl_command", "request",
]
