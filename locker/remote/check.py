"""``locker remote check NAME``: is this remote fit to keep write-once copies? Each requirement is
checked and named, with what is missing: the bucket is there (and these credentials may read it),
versioning is on, Object Lock is on, and an object can be written with the remote's retention mode and
date, which the storage then reports (a storage that silently ignores the lock headers fails here).

The last check writes one small object (``PREFIX/.locker-check/<random>``) locked for PROBE_RETAIN: in
compliance mode nobody can delete it before then; it is a few bytes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..i18n import _
from ..paths import Home
from . import config, layout
from .client import S3, RemoteError
from .config import Remote

PROBE_RETAIN = timedelta(days=1)


@dataclass(frozen=True)
class Requirement:
    name: str  # bucket | versioning | object_lock | retention
    ok: bool
    detail: str


@dataclass(frozen=True)
class RemoteCheck:
    remote: Remote
    requirements: tuple[Requirement, ...]
    default_retention: str | None  # the bucket's own default retention, when it has one

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.requirements)


def check(home: Home, name: str) -> RemoteCheck:
    remote = config.get(home, name)
    s3 = S3(remote)
    found: list[Requirement] = []
    default = None
    try:
        versioning = s3.call("get_bucket_versioning")
    except RemoteError as err:
        if err.reason not in ("no_bucket", "denied"):
            raise  # unreachable, wrong credentials: the one line says it all
        found.append(Requirement("bucket", False, err.message))
        return RemoteCheck(remote, tuple(found), None)
    found.append(Requirement("bucket", True, _("bucket {bucket} is there").format(bucket=remote.bucket)))
    status = versioning.get("Status") or "Off"
    found.append(Requirement("versioning", status == "Enabled", _("versioning is {status}").format(status=status)
                             if status == "Enabled" else
                             _("versioning is {status}: it must be Enabled (Object Lock turns it on)").format(status=status)))
    try:
        lock = s3.call("get_object_lock_configuration").get("ObjectLockConfiguration") or {}
    except RemoteError as err:
        lock = {}
        if err.reason not in ("remote", "denied"):
            raise
    enabled = lock.get("ObjectLockEnabled") == "Enabled"
    rule = (lock.get("Rule") or {}).get("DefaultRetention") or {}
    if rule:
        default = f"{rule.get('Mode')} {rule.get('Days') or rule.get('Years')} {'days' if rule.get('Days') else 'years'}"
    found.append(Requirement("object_lock", enabled, _("Object Lock is on") if enabled else _(
        "Object Lock is off: make a new bucket with Object Lock enabled (it cannot be turned on for most existing "
        "buckets), e.g. aws s3api create-bucket --bucket NAME --object-lock-enabled-for-bucket")))
    if enabled:
        found.append(_probe(s3, remote))
    else:
        found.append(Requirement("retention", False, _("not tried: Object Lock is off")))
    return RemoteCheck(remote, tuple(found), default)


def _probe(s3: S3, remote: Remote) -> Requirement:
    key = f"{remote.prefix}/.locker-check/{secrets.token_hex(8)}" if remote.prefix else f".locker-check/{secrets.token_hex(8)}"
    body = b"locker remote check\n"
    until = datetime.now(UTC).replace(microsecond=0) + PROBE_RETAIN
    mode = remote.mode.upper()
    try:
        s3.call("put_object", Key=key, Body=body, ChecksumSHA256=layout.b64(hashlib.sha256(body).digest()),
                ObjectLockMode=mode, ObjectLockRetainUntilDate=until)
        head = s3.call("head_object", Key=key, ChecksumMode="ENABLED")
    except RemoteError as err:
        if err.reason == "unreachable":
            raise
        return Requirement("retention", False, _("cannot write an object locked in {mode} mode: {problem}").format(
            mode=mode, problem=err.message))
    said_mode = head.get("ObjectLockMode")
    said_until = head.get("ObjectLockRetainUntilDate")
    if said_mode != mode or said_until is None or abs((said_until - until).total_seconds()) > 1:
        return Requirement("retention", False, _(
            "an object written with {mode} retention until {until} came back with {said_mode} until {said_until}: "
            "the storage does not keep the lock").format(mode=mode, until=until.isoformat(), said_mode=said_mode,
                                                         said_until=said_until))
    if head.get("ChecksumSHA256") != layout.b64(hashlib.sha256(body).digest()):
        return Requirement("retention", False, _("the storage does not keep the SHA-256 checksum it was sent"))
    return Requirement("retention", True, _("objects can be written in {mode} mode (test object {key}, locked "
                                            "until {until})").format(mode=mode, key=key, until=until.isoformat()))
