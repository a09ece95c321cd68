"""Who may use the web app, and how every answer is protected.

* **The desktop** (a browser on this computer) signs in once through the address
  ``locker serve`` prints, which carries a random key made for this run; the answer sets a
  session cookie (HttpOnly, SameSite=Strict). Without it every page is refused, so another
  local user or a web page trying ``127.0.0.1`` (DNS rebinding: the Host header is checked
  too) gets nothing.
* **A phone** (``--lan`` only) opens the QR code's address once: a one-time pairing token,
  valid for 10 minutes. It becomes a phone session, which picks one dispute (unless the
  pairing named one: ``locker serve --phone DISPUTE``) and from then on may only send files
  to that dispute, until the session runs out or the desktop ends it.
* **CSRF**: every request that changes something (any method but GET/HEAD) must carry the
  session's token (a form field or the ``X-CSRF-Token`` header), and its Origin, when sent,
  must be this server.
* **Headers**: a strict Content-Security-Policy (scripts and styles from this server only,
  no inline script, no eval), no framing, no sniffing, no referrer.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass, field

PAIRING_SECONDS = 10 * 60
PHONE_SESSION_SECONDS = 30 * 60
DESKTOP_COOKIE = "locker_desktop"
PHONE_COOKIE = "locker_phone"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",
}


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass
class PhoneSession:
    id: str
    slug: str | None  # the dispute it sends to; None until the phone has picked one
    started: float
    expires: float
    user_agent: str
    ended: bool = False

    def active(self, now: float) -> bool:
        return not self.ended and now < self.expires

    def seconds_left(self, now: float) -> int:
        return max(0, int(self.expires - now))


@dataclass
class Pairing:
    token: str
    slug: str | None  # None: the phone picks the dispute
    expires: float
    used: bool = False


@dataclass
class Guard:
    """The secrets of one run of ``locker serve``: nothing of it is written to disk."""

    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    login_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    pairings: dict[str, Pairing] = field(default_factory=dict)
    phones: dict[str, PhoneSession] = field(default_factory=dict)
    clock: object = time.time  # tests may not move it: they end sessions instead
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return float(self.clock())  # type: ignore[operator]

    # --- desktop -----------------------------------------------------------------

    def _sign(self, value: str) -> str:
        return hmac.new(self.secret, value.encode(), hashlib.sha256).hexdigest()

    def desktop_cookie(self) -> str:
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._sign('desktop:' + nonce)}"

    def desktop_ok(self, cookie: str | None) -> bool:
        if not cookie or "." not in cookie:
            return False
        nonce, mac = cookie.rsplit(".", 1)
        return hmac.compare_digest(mac, self._sign("desktop:" + nonce))

    def login_ok(self, key: str) -> bool:
        return hmac.compare_digest(key.encode(), self.login_key.encode())

    def csrf_token(self, session_cookie: str) -> str:
        return self._sign("csrf:" + session_cookie)

    def csrf_ok(self, session_cookie: str | None, token: str | None) -> bool:
        return bool(session_cookie and token) and hmac.compare_digest(self.csrf_token(session_cookie or ""), token or "")

    # --- phones ------------------------------------------------------------------

    def pair(self, slug: str | None = None) -> Pairing:
        with self.lock:
            self._forget()
            found = Pairing(secrets.token_urlsafe(24), slug, self.now() + PAIRING_SECONDS)
            self.pairings[found.token] = found
            return found

    def redeem(self, token: str, user_agent: str) -> PhoneSession | None:
        """A phone session for a pairing token seen for the first time within its 10 minutes."""
        with self.lock:
            found = self.pairings.get(token)
            now = self.now()
            if found is None or found.used or now >= found.expires:
                return None
            found.used = True
            session = PhoneSession(secrets.token_urlsafe(24), found.slug, now, now + PHONE_SESSION_SECONDS,
                                   user_agent[:400])
            self.phones[session.id] = session
            return session

    def phone(self, cookie: str | None) -> PhoneSession | None:
        if not cookie:
            return None
        with self.lock:
            found = self.phones.get(cookie)
            return found if found is not None and found.active(self.now()) else None

    def choose(self, session_id: str, slug: str) -> bool:
        """The phone's one choice of a dispute: False once it has one (or the session is over)."""
        with self.lock:
            found = self.phones.get(session_id)
            if found is None or not found.active(self.now()) or found.slug is not None:
                return False
            found.slug = slug
            return True

    def end(self, session_id: str) -> bool:
        with self.lock:
            found = self.phones.get(session_id)
            if found is None:
                return False
            found.ended = True
            return True

    def active_phones(self) -> list[PhoneSession]:
        now = self.now()
        with self.lock:
            return [p for p in self.phones.values() if p.active(now)]

    def _forget(self) -> None:
        now = self.now()
        for token in [t for t, p in self.pairings.items() if p.used or now >= p.expires]:
            del self.pairings[token]
