"""RFC 3161 trusted timestamps of a dispute (``locker stamp``, ``export --stamp``, ``bundle --stamp``).

A token is asked for first (:func:`locker.tsa.request`: the only network call locker makes, and
only here, to the TSAs the user gave or set in the profile). Only when one came back is anything
written: the token as ``timestamps/NNN-<subject kind>.tsr`` in the dispute's folder, beside it
``NNN-….json`` (what it stamps) and ``NNN-….pem`` (the certificates the token carries, for the
``openssl ts -verify`` line), and a ``timestamp.added`` custody entry, in one transaction. No
token: a :class:`locker.tsa.TsaError` naming each TSA's failure, and nothing recorded.

What a token stamps is named by its subject: ``custody:<seq>`` (the chain's head hash after entry
``seq``), ``pack:<file name>`` (a pack's fingerprint), ``bundle:<file name>`` (a bundle's tag
manifest). :func:`problems` is what ``verify`` checks the stored tokens with, offline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import custody, db, domain, durable, tsa
from ..errors import NotFound, UsageError
from ..i18n import _
from ..paths import DisputeDir, Home
from ..values import now_utc
from . import disputes

FOLDER = "timestamps"


@dataclass(frozen=True)
class Stamped:
    """One token stored in a dispute."""

    slug: str
    number: int
    subject: str
    sha256: str  # the digest stamped
    file: Path  # the .tsr
    tsa: str
    url: str
    gen_time: str
    serial: str
    method: str  # how the answer was checked: rfc3161-client | openssl
    tried: tuple[tuple[str, str], ...]  # TSAs that failed first, with why
    openssl: str  # the command that checks it, run in the folder of the .tsr


def tsa_urls(home: Home, given: Sequence[str] = ()) -> list[str]:
    """The TSAs to ask: those given (``--tsa``), else the profile's; never any by default."""
    from . import profile

    urls = [u.strip() for u in given if u.strip()] or profile.tsa_list(profile.load(home))
    if not urls:
        raise UsageError(_("no time-stamp authority to ask: give --tsa URL, or set one with "
                           "`locker profile --tsa URL` (the README lists well-known free ones)"))
    try:
        return [tsa.check_url(u) for u in urls]
    except tsa.TsaError as err:  # a typing mistake: a usage error
        raise UsageError(err.message) from None


def stamp_head(home: Home, ref: str, *, urls: Sequence[str] = (), timeout: float = 20.0) -> Stamped:
    """A token over the dispute's custody-chain head hash."""
    opened = disputes.resolve(home, ref)
    asked = tsa_urls(home, urls)
    with db.reading(opened.engine) as session:
        last = session.connection().exec_driver_sql(
            "SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1").first()
    if last is None:
        raise NotFound(_("{slug} has no custody log to stamp").format(slug=opened.slug))
    seq, head = int(last[0]), str(last[1])
    return _stamp(opened, asked, digest_hex=head, subject=f"custody:{seq}", timeout=timeout)


def stamp_digest(home: Home, slug: str, *, digest_hex: str, subject: str, urls: Sequence[str] = (),
                 timeout: float = 20.0) -> Stamped:
    """A token over ``digest_hex`` (SHA-256) stored in dispute ``slug``. ``subject`` names what it
    stamps: ``<kind>:<what>``, kind one of ``domain.TIMESTAMP_SUBJECTS`` (e.g. ``bundle:<file name>``)."""
    kind = subject.partition(":")[0]
    if kind not in domain.TIMESTAMP_SUBJECTS or ":" not in subject:
        raise UsageError(_("a timestamp's subject is <kind>:<what>, kind one of {kinds}, not {subject!r}").format(
            kinds=", ".join(domain.TIMESTAMP_SUBJECTS), subject=subject))
    opened = disputes.resolve(home, slug)
    return _stamp(opened, tsa_urls(home, urls), digest_hex=digest_hex, subject=subject, timeout=timeout)


def _stamp(opened: Any, urls: Sequence[str], *, digest_hex: str, subject: str, timeout: float) -> Stamped:
    token = tsa.request(urls, digest_hex, timeout=timeout)  # nothing is written unless this gave one
    ddir: DisputeDir = opened.dir
    folder = ddir.root / FOLDER
    kind = subject.partition(":")[0]
    certs = tsa.certificates_pem(token.der)
    written: list[Path] = []
    now = now_utc()
    try:
        with disputes.recording(opened) as session:
            conn = session.connection()
            count = conn.exec_driver_sql("SELECT COUNT(*) FROM custody WHERE action = 'timestamp.added'").scalar()
            number = int(count or 0) + 1
            name = f"{number:03d}-{kind}"
            tsr, meta, pem = (folder / f"{name}{ext}" for ext in (".tsr", ".json", ".pem"))
            folder.mkdir(mode=0o700, exist_ok=True)
            sidecar = {"subject": subject, "sha256": digest_hex, "tsa": token.tsa, "url": token.url,
                       "gen_time": token.gen_time, "serial": token.serial, "method": token.method,
                       "token": tsr.name, "certificates": pem.name if certs else None,
                       "openssl": tsa.openssl_command(tsr.name, digest_hex, pem.name)}
            for path, data in ((tsr, token.der), (meta, (json.dumps(sidecar, indent=2) + "\n").encode()),
                               *(((pem, certs),) if certs else ())):
                written.append(path)
                durable.write_atomic(path, data)
            disputes.touch(session, now)
            custody.append(conn, now, [domain.timestamp_added(
                number, file=f"{FOLDER}/{tsr.name}", subject=subject, sha256=digest_hex,
                token_sha256=hashlib.sha256(token.der).hexdigest(), tsa=token.tsa, url=token.url,
                gen_time=token.gen_time, serial=token.serial, method=token.method)])
    except BaseException:
        for path in written:  # a token the custody log does not record is not left behind
            path.unlink(missing_ok=True)
        raise
    return Stamped(slug=opened.slug, number=number, subject=subject, sha256=digest_hex, file=tsr, tsa=token.tsa,
                   url=token.url, gen_time=token.gen_time, serial=token.serial, method=token.method,
                   tried=token.tried, openssl=str(sidecar["openssl"]))


def place_beside(stamped: Stamped, target: Path) -> Path:
    """A copy of the token beside what it stamps (``pack.pdf`` → ``pack.pdf.tsr``)."""
    copy = target.with_name(target.name + ".tsr")
    durable.write_atomic(copy, stamped.file.read_bytes())
    return copy


# --------------------------------------------------------------------------- reading and checking


def recorded(readings: Iterable[Any]) -> list[domain.TimestampAdded]:
    """The tokens a dispute's custody log records, oldest first."""
    return [r for r in readings if isinstance(r, domain.TimestampAdded)]


def problems(root: Path, readings: Sequence[Any], chain: Sequence[Any]) -> list[tuple[str, str, str]]:
    """(problem code, detail, severity) for each stored token that is gone, altered, or does not check
    against what it stamps; and each token file in the folder that no entry records."""
    found: list[tuple[str, str, str]] = []
    hashes = {int(e.seq): str(e.hash) for e in chain}
    seen: set[str] = set()
    for r in recorded(readings):
        name = r.file or "?"
        if not r.file or Path(r.file).parent != Path(FOLDER) or r.file.endswith("/") or ".." in r.file:
            found.append(("timestamp_unrecorded", _("timestamp {n}: its file {file!r} is not in {folder}/").format(
                n=r.timestamp, file=name, folder=FOLDER), "error"))
            continue
        seen.add(Path(r.file).name)
        path = root / r.file
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            found.append(("timestamp_missing", _("{file}: the token is gone").format(file=name), "error"))
            continue
        except OSError as err:
            found.append(("timestamp_missing", f"{name}: {err.strerror}", "error"))
            continue
        if hashlib.sha256(data).hexdigest() != r.token_sha256:
            found.append(("timestamp_altered", _("{file}: the token's bytes differ from those the custody log "
                                                 "recorded").format(file=name), "error"))
        result = tsa.check(data, r.sha256 or "")
        if not result.ok:
            found.append(("timestamp_invalid", _("{file} ({tsa}, {time}): {problem}").format(
                file=name, tsa=r.tsa, time=r.gen_time, problem=result.problem), "error"))
        kind, _sep, what = (r.subject or "").partition(":")
        if kind == "custody" and what.isdigit() and hashes.get(int(what)) != r.sha256:
            found.append(("timestamp_mismatch", _("{file} stamps {digest} as the hash of custody entry {seq}, "
                                                  "which is {actual}").format(
                file=name, digest=r.sha256, seq=what, actual=hashes.get(int(what), _("missing"))), "error"))
    folder = root / FOLDER
    if folder.is_dir():
        for path in sorted(folder.glob("*.tsr")):
            if path.name not in seen:
                found.append(("timestamp_unrecorded", _("{folder}/{file} is a token no custody entry records").format(
                    folder=FOLDER, file=path.name), "warning"))
    return found
