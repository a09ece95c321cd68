"""Asking TSAs over HTTP for a token: :func:`request` posts a TimeStampReq to each URL in turn and keeps
the first answer that is granted, for its nonce and digest, and whose signature checks; :func:`check_url`
checks an address a user gives. The only network call locker makes, and only when asked.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..i18n import _
from .checking import check
from .der import _read_tlv, build_query
from .openssl import _openssl_check
from .values import Token, TsaError, _digest_bytes

MAX_REPLY = 1 << 20  # a TimeStampResp is a few KiB; more is not an answer
URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)


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
