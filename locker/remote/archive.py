"""``locker archive DISPUTE [--to NAME]``: copy a dispute to a write-once remote.

One run, in order:

1. one listing of the dispute's keys on the remote (ListObjectVersions), and the plan: every original
   (``objects/sha256/<hex>``, its SHA-256 the one its exhibit recorded), every pack, bundle, kit and
   timestamp token of the dispute's folder (``files/sha256/<hex>``). When the custody log's newest
   entry is this remote's ``archived`` entry and the remote holds every key planned and that run's
   manifest, nothing is new: nothing is uploaded and nothing recorded;
2. a consistent snapshot of the database (SQLite's backup API, into a temp file in the home);
3. every planned key the remote lacks is uploaded, each with the remote's Object Lock mode and
   retain-until date and its SHA-256 for the storage to check (``ChecksumSHA256``: a whole object's,
   or each part's when it goes in parts, memory flat in its size). Multipart uploads left under the
   dispute's keys by a run that was killed or cut off are resumed (the parts the storage holds are not
   sent again) or, when no longer needed, aborted; whatever such a run finished is skipped (it is in
   the listing);
4. under the database's write lock: if the custody log moved on since the snapshot (another command
   wrote), the run goes back to 2. Else the ``archived`` entry is appended (not yet committed), the
   custody log including it is rendered as canonical JSONL and uploaded, then the run's manifest; only
   then is the entry committed. So a failure anywhere (the server stopped, credentials refused) leaves
   the log as it was: what was uploaded stays on the remote, locked, and the next run skips it.

The plan and the listing are in :mod:`.planning`, the uploads in :mod:`.upload`; this module is the run
and its record. The names ``remote verify`` and ``remote restore`` use (:func:`plan`, :func:`list_keys`,
:func:`pick_remote`, :class:`Listing`, ``FOLDERS_SKIPPED``) are re-exported here.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import custody, db, domain, store
from ..errors import LockerError
from ..i18n import _
from ..paths import DisputeDir, Home
from ..values import iso, now_utc
from . import config, layout
from .client import S3, RemoteError
from .config import Remote
from .planning import FOLDERS_SKIPPED as FOLDERS_SKIPPED
from .planning import Item
from .planning import Listing as Listing
from .planning import list_keys as list_keys
from .planning import pick_remote as pick_remote
from .planning import plan as plan
from .upload import Uploaded, _settle_stale, stale_uploads, upload_all

MANIFEST_FORMAT = "locker-archive"
MANIFEST_VERSION = 1
SNAPSHOT_PREFIX = ".archive-"
RETRIES = 3  # times the run starts over when the custody log moved during the upload


@dataclass(frozen=True)
class ArchiveResult:
    slug: str
    remote: str
    url: str
    up_to_date: bool  # nothing was new: nothing uploaded, nothing recorded
    uploaded: tuple[Uploaded, ...]
    kept: int  # keys the remote held already
    bytes_uploaded: int
    objects: int
    files: int
    seq: int | None  # the archived entry
    manifest: str | None
    retain_until: str | None
    mode: str
    aborted_uploads: int  # multipart uploads a killed run left that were no longer needed, aborted


def archive(home: Home, ref: str, remote_name: str | None = None, progress: Any = None) -> ArchiveResult:
    remote = pick_remote(home, remote_name)
    ddir = home.locate(ref)  # plain sqlite3 from here on: SQLAlchemy's import is ~0.8 s of a run
    s3 = S3(remote)
    root = layout.base(remote, ddir.slug)
    home.require_writable()
    work = home.root / f"{SNAPSHOT_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
    _clean_stale(home)
    require_lock(s3, remote)
    stale = stale_uploads(s3, root)
    aborted = 0
    sent: list[Uploaded] = []  # by every attempt of this run (an attempt starts over when the log moved on)
    with closing_db(ddir) as con:
        for _attempt in range(RETRIES):
            listing = list_keys(s3, root)
            try:
                work.mkdir(mode=0o700)
                # The snapshot first, and the plan from it: an exhibit added meanwhile is either in both or
                # in neither (then its custody entry moves the log on, and the final step starts over).
                snapshot, snap_seq, snap_hash = _snapshot(ddir, work)
                frozen = sqlite3.connect(snapshot)
                try:
                    items = plan(ddir, root, frozen)
                    unchanged = _up_to_date(frozen, remote, listing, items)
                finally:
                    frozen.close()
                if unchanged is not None:
                    aborted += _settle_stale(s3, stale, [])[1]
                    return ArchiveResult(ddir.slug, remote.name, remote.url, True, (), len({i.key for i in items}), 0,
                                         _count(items, "object"), _count(items, "file"), unchanged, None, None,
                                         remote.mode, aborted)
                sha, size = store.hash_file(snapshot)
                snap = Item(layout.file_key(root, sha), snapshot, sha, size, "snapshot", "dispute.sqlite")
                until = config.retain_until(remote.retain)
                lock = {"ObjectLockMode": remote.mode.upper(), "ObjectLockRetainUntilDate": until}
                todo = [i for i in _unique([*items, snap]) if listing.latest.get(i.key, (None, -1))[1] != i.size]
                resume, gone = _settle_stale(s3, stale, todo)
                aborted += gone
                stale = {}
                sent += upload_all(s3, todo, lock, progress, resume)
                try:
                    return _record(home, ddir, con, s3, remote, root, items, snap, snap_seq, snap_hash, listing, sent,
                                   until, aborted)
                except _Moved:
                    continue
            finally:
                shutil.rmtree(work, ignore_errors=True)
    raise LockerError(_("the dispute kept changing while it was archived; run `locker archive` again"))


class _Moved(Exception):
    """The custody log moved on between the snapshot and the final step."""


def _count(items: list[Item], kind: str) -> int:
    return len({i.key for i in items if i.kind == kind})


def _unique(items: list[Item]) -> list[Item]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.key not in seen:
            seen.add(item.key)
            out.append(item)
    return out


@contextmanager
def closing_db(ddir: DisputeDir) -> Iterator[sqlite3.Connection]:
    con = db.connect_writer(ddir.db)
    try:
        yield con
    finally:
        con.close()


def _up_to_date(con: sqlite3.Connection, remote: Remote, listing: Listing, items: list[Item]) -> int | None:
    """The seq of the last ``archived`` entry when nothing is new since it; else None."""
    row = con.execute("SELECT seq, action, payload FROM custody ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None or row[1] != domain.ARCHIVED:
        return None
    try:
        last = domain.Archived.read(json.loads(row[2]))
    except ValueError:
        return None
    if last.url != remote.url or last.endpoint != remote.endpoint or not last.manifest:
        return None
    needed = [last.manifest, *(i.key for i in items)]
    if last.snapshot_key:
        needed.append(last.snapshot_key)
    sizes = {i.key: i.size for i in items}
    for key in needed:
        if key not in listing.latest or (key in sizes and listing.latest[key][1] != sizes[key]):
            return None
    return int(row[0])


def _snapshot(ddir: DisputeDir, work: Path) -> tuple[Path, int, str]:
    """A consistent copy of the dispute's database (SQLite's online backup), with its chain's head."""
    target = work / "dispute.sqlite"
    source = db.connect_read_only(ddir.db)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
            head = dest.execute("SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1").fetchone()
        finally:
            dest.close()
    finally:
        source.close()
    if head is None:
        raise LockerError(_("the dispute has no custody log to archive"), path=str(ddir.db))
    return target, int(head[0]), str(head[1])


def require_lock(s3: S3, remote: Remote) -> None:
    """Refuse, before anything is sent, a bucket without Object Lock: copies there could be deleted."""
    try:
        found = s3.call("get_object_lock_configuration").get("ObjectLockConfiguration") or {}
    except RemoteError as err:
        if err.reason != "remote":  # unreachable, credentials, no bucket: said as it is
            raise
        found = {}
    if found.get("ObjectLockEnabled") != "Enabled":
        raise RemoteError(_("remote {name}: bucket {bucket} has no Object Lock, so copies there could be deleted; "
                            "nothing was archived (`locker remote check {name}` says what is missing)").format(
            name=remote.name, bucket=remote.bucket), reason="no_object_lock")


# --------------------------------------------------------------------------- the run's record


def custody_jsonl(con: sqlite3.Connection) -> bytes:
    """The custody log as canonical JSONL: one entry a line, each its hashed document plus its hash."""
    rows = con.execute("SELECT seq, v, at, actor, action, payload, prev_hash, hash FROM custody ORDER BY seq").fetchall()
    lines = []
    for seq, v, at, actor, action, payload, prev, digest in rows:
        doc = custody.entry_document(seq, at, actor, action, json.loads(payload), prev, v)
        lines.append(custody.canonical({**doc, "hash": digest}) + b"\n")
    return b"".join(lines)


def _record(home: Home, ddir: DisputeDir, con: sqlite3.Connection, s3: S3, remote: Remote, root: str,
            items: list[Item], snap: Item, snap_seq: int, snap_hash: str, listing: Listing,
            done: list[Uploaded], until: datetime, aborted: int) -> ArchiveResult:
    lock = {"ObjectLockMode": remote.mode.upper(), "ObjectLockRetainUntilDate": until}
    kept = len({i.key for i in items} - {u.key for u in done})  # planned keys the remote held already
    versions = {k: v for k, (v, _size) in listing.latest.items()}
    versions.update({u.key: u.version_id for u in done})
    uploaded = [{"key": u.key, "version_id": u.version_id, "size": u.size,
                 **({"parts_reused": u.parts_reused} if u.parts_reused else {})} for u in done]
    with db.writing_dbapi(con, ddir.db):
        head = con.execute("SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1").fetchone()
        if head is None or (int(head[0]), str(head[1])) != (snap_seq, snap_hash):
            raise _Moved()
        seq = snap_seq + 1
        manifest = layout.manifest_key(root, seq)
        now = now_utc()
        written = custody.append(con, now, [domain.archived(
            remote=remote.name, url=remote.url, endpoint=remote.endpoint, manifest=manifest, snapshot_key=snap.key,
            snapshot_sha256=snap.sha256, snapshot_seq=snap_seq, mode=remote.mode.upper(), retain_until=iso(until),
            uploaded=uploaded, kept=kept)])
        log = custody_jsonl(con)
        log_sha = hashlib.sha256(log).hexdigest()
        log_key = layout.file_key(root, log_sha)
        log_put = _put_bytes(s3, log_key, log, lock)
        doc = _manifest(ddir, con, remote, items, snap, snap_seq, versions, written[0], log_key, log_sha, len(log),
                        log_put.version_id, until)
        _put_bytes(s3, manifest, custody.canonical(doc) + b"\n", lock)
    custody.publish_head(ddir.root, con)
    return ArchiveResult(ddir.slug, remote.name, remote.url, False, tuple(done), kept, sum(u.size for u in done),
                         _count(items, "object"), _count(items, "file"), int(written[0]["seq"]), manifest, iso(until),
                         remote.mode, aborted)


def _put_bytes(s3: S3, key: str, data: bytes, lock: dict[str, Any]) -> Uploaded:
    answer = s3.call("put_object", Key=key, Body=data, ContentLength=len(data),
                     ChecksumSHA256=layout.b64(hashlib.sha256(data).digest()), **lock)
    return Uploaded(key, answer.get("VersionId"), len(data), answer.get("ChecksumSHA256"))


def _manifest(ddir: DisputeDir, con: sqlite3.Connection, remote: Remote, items: list[Item], snap: Item,
              snap_seq: int, versions: dict[str, str | None], entry: dict[str, Any], log_key: str, log_sha: str,
              log_size: int, log_version: str | None, until: datetime) -> dict[str, Any]:
    row = con.execute("SELECT id, slug, title FROM dispute LIMIT 1").fetchone()

    def described(i: Item) -> dict[str, Any]:
        return {"key": i.key, "sha256": i.sha256, "size": i.size, "version_id": versions.get(i.key),
                "part_size": layout.part_size(i.size)}

    return {
        "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION,
        "dispute": {"id": row[0] if row else None, "slug": ddir.slug, "title": row[2] if row else None},
        "remote": remote.url, "archived_at": entry["at"],
        "entry": {"seq": entry["seq"], "hash": entry["hash"]},
        "snapshot": {**described(snap), "seq": snap_seq},
        "log": {"key": log_key, "sha256": log_sha, "size": log_size, "version_id": log_version,
                "entries": entry["seq"]},
        "objects": [{**described(i), "exhibit": i.exhibit} for i in items if i.kind == "object"],
        "files": [{**described(i), "path": i.name} for i in items if i.kind == "file"],
        "mode": remote.mode.upper(), "retain_until": iso(until),
    }


def _clean_stale(home: Home) -> None:
    """Remove the snapshot folders of archive runs that were killed."""
    try:
        entries = [e for e in os.scandir(home.root) if store.left_by_dead_process(e.name, SNAPSHOT_PREFIX)]
    except OSError:
        return
    for entry in entries:
        shutil.rmtree(entry.path, ignore_errors=True)
