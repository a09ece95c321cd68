"""``locker verify DISPUTE --remote NAME``: does the remote hold this dispute, unaltered and locked?

Every original, every pack, bundle, kit and timestamp token of the dispute's folder, and the newest
run's database snapshot, custody log and manifest are looked up (HEAD, with the checksum asked for):

- ``remote_missing``: the key is not there (or its newest version is a delete marker);
- ``remote_differs``: the storage's SHA-256 checksum of the key is not what the local file gives
  (the file's own SHA-256 for one PUT; the composite of its parts' when it went in parts, computed from
  the local file with the same part size), or its size differs;
- ``remote_unchecked`` (warning): the storage keeps no SHA-256 checksum for it, so identity cannot be shown;
- ``remote_unprotected``: no Object Lock retention, or one that has run out;
- ``entry_not_archived`` / ``entry_differs``: a custody entry of the local log that the remote's newest
  custody log lacks, or holds with another hash.

Every problem is reported; none stops the check.
"""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .. import db, domain
from ..i18n import _
from ..paths import Home
from . import archive, layout
from .client import S3, RemoteError, error_code, translate
from .config import Remote

HEAD_THREADS = 8


@dataclass(frozen=True)
class RemoteProblem:
    key: str | None
    problem: str
    detail: str
    severity: str = "error"


@dataclass(frozen=True)
class RemoteReport:
    slug: str
    remote: Remote
    keys_checked: int
    entries_checked: int
    last_archived: domain.LastArchived | None
    problems: tuple[RemoteProblem, ...]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def last_archived(con: sqlite3.Connection, remote: Remote | None = None) -> domain.LastArchived | None:
    """The newest ``archived`` entry of the log (to ``remote`` only, when given)."""
    rows = con.execute("SELECT seq, at, payload FROM custody WHERE action = ? ORDER BY seq DESC",
                       (domain.ARCHIVED,)).fetchall()
    for seq, at, payload in rows:
        try:
            r = domain.Archived.read(json.loads(payload))
        except ValueError:
            continue
        if remote is None or (r.url == remote.url and r.endpoint == remote.endpoint):
            return domain.LastArchived(at, int(seq), r.remote, r.url, r.retain_until)
    return None


def verify_remote(home: Home, ref: str, remote_name: str | None) -> RemoteReport:
    remote = archive.pick_remote(home, remote_name)
    ddir = home.locate(ref)  # plain sqlite3 from here on: SQLAlchemy's import is ~0.8 s of a run
    s3 = S3(remote)
    root = layout.base(remote, ddir.slug)
    con = db.connect(ddir.db)
    try:
        items = archive.plan(ddir, root, con)
        local_chain = con.execute("SELECT seq, hash FROM custody ORDER BY seq").fetchall()
        last = last_archived(con, remote)
    finally:
        con.close()
    listing = archive.list_keys(s3, root)
    problems: list[RemoteProblem] = []
    manifest = _newest_manifest(s3, root, listing)
    expected: dict[str, tuple[str, str]] = {}  # key -> (checksum expected, what it is)
    for i in items:
        expected[i.key] = (layout.expected_checksum(i.path, i.sha256, i.size), i.name)
    remote_log: dict[int, str] = {}
    if manifest is None:
        problems.append(RemoteProblem(None, "remote_missing", _("the remote holds no archive of {slug} "
                                                                "(run `locker archive {slug}`)").format(slug=ddir.slug)))
    else:
        key, doc = manifest
        expected[key] = ("", "manifest")
        for part in ("snapshot", "log"):
            found = doc.get(part) or {}
            if isinstance(found.get("key"), str) and isinstance(found.get("sha256"), str):
                expected[found["key"]] = (_checksum_of(found), part)
        remote_log = _remote_log(s3, doc, problems)
    sizes = {i.key: i.size for i in items}
    keys = sorted(expected)
    with ThreadPoolExecutor(max_workers=HEAD_THREADS, thread_name_prefix="locker-head") as pool:
        heads = list(pool.map(lambda k: _head(s3, k), keys))
    now = datetime.now(UTC)
    for key, head in zip(keys, heads):
        want, name = expected[key]
        problems += _judge(key, name, head, want, sizes.get(key), listing, now)
    for seq, digest in local_chain:
        if remote_log and seq not in remote_log:
            problems.append(RemoteProblem(None, "entry_not_archived", _(
                "custody entry {seq} is not in the remote's custody log (archived since? run `locker archive`)").format(seq=seq)))
        elif remote_log and remote_log[seq] != digest:
            problems.append(RemoteProblem(None, "entry_differs", _(
                "custody entry {seq} differs from the remote's custody log").format(seq=seq)))
    return RemoteReport(ddir.slug, remote, len(keys), len(local_chain), last, tuple(problems))


def _checksum_of(found: dict[str, Any]) -> str:
    """The checksum the storage should report for a snapshot or log the manifest names (uploaded in one PUT
    when small; a large snapshot's composite cannot be computed without its bytes: size only)."""
    size = found.get("size")
    if isinstance(size, int) and layout.part_size(size) is None:
        return layout.single_checksum(found["sha256"])
    return ""


def _newest_manifest(s3: S3, root: str, listing: archive.Listing) -> tuple[str, dict[str, Any]] | None:
    names = sorted(k for k in listing.latest if k.startswith(layout.manifests(root)) and k.endswith(".json"))
    if not names:
        return None
    key = names[-1]
    body = s3.call("get_object", Key=key)["Body"]
    raw = s3.guard(body.read)
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = {}
    return key, doc if isinstance(doc, dict) else {}


def _remote_log(s3: S3, doc: dict[str, Any], problems: list[RemoteProblem]) -> dict[int, str]:
    """seq -> hash of the entries in the custody log the newest manifest names."""
    log = doc.get("log") or {}
    key = log.get("key")
    if not isinstance(key, str):
        problems.append(RemoteProblem(None, "remote_missing", _("the newest manifest names no custody log")))
        return {}
    try:
        raw = s3.guard(s3.call("get_object", Key=key)["Body"].read)
    except RemoteError as err:
        if err.reason == "unreachable":
            raise
        return {}  # reported with the key itself
    entries: dict[int, str] = {}
    for line in raw.splitlines():
        try:
            entry = json.loads(line)
            entries[int(entry["seq"])] = str(entry["hash"])
        except (ValueError, KeyError, TypeError):
            problems.append(RemoteProblem(key, "remote_differs", _("the remote's custody log has a line that is not an entry")))
            break
    return entries


def _head(s3: S3, key: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = s3.client.head_object(Bucket=s3.bucket, Key=key, ChecksumMode="ENABLED")
        return result
    except Exception as err:
        if error_code(err) in ("404", "NoSuchKey", "NotFound", "405", "MethodNotAllowed"):
            return None
        raise translate(err, s3.remote) from None


def _judge(key: str, name: str, head: dict[str, Any] | None, want: str, size: int | None,
           listing: archive.Listing, now: datetime) -> list[RemoteProblem]:
    if head is None:
        older = listing.versions.get(key, 0)
        more = (" " + _("({count} older version(s) remain under it, hidden by a delete marker)").format(count=older)
                if older else "")
        return [RemoteProblem(key, "remote_missing", _("{name}: not on the remote").format(name=name) + more)]
    found: list[RemoteProblem] = []
    said = head.get("ChecksumSHA256")
    if size is not None and int(head.get("ContentLength") or 0) != size:
        found.append(RemoteProblem(key, "remote_differs", _("{name}: {found} bytes on the remote, {size} here").format(
            name=name, found=head.get("ContentLength"), size=size)))
    elif want and said and said != want:
        found.append(RemoteProblem(key, "remote_differs", _("{name}: the remote's SHA-256 checksum is {said}, "
                                                            "the local file gives {want}").format(name=name, said=said, want=want)))
    elif want and not said:
        found.append(RemoteProblem(key, "remote_unchecked", _("{name}: the remote keeps no SHA-256 checksum for it").format(
            name=name), severity="warning"))
    until = head.get("ObjectLockRetainUntilDate")
    mode = head.get("ObjectLockMode")
    if not mode or until is None:
        found.append(RemoteProblem(key, "remote_unprotected", _("{name}: no Object Lock retention on its newest version").format(
            name=name)))
    elif until <= now:
        found.append(RemoteProblem(key, "remote_unprotected", _("{name}: its retention ran out on {until}").format(
            name=name, until=until.isoformat())))
    return found
