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
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import custody, db, domain, store
from ..errors import LockerError, UsageError
from ..i18n import _
from ..paths import DisputeDir, Home
from ..values import iso, now_utc
from . import config, layout
from .client import S3, RemoteError
from .config import Remote

MANIFEST_FORMAT = "locker-archive"
MANIFEST_VERSION = 1
FOLDERS_SKIPPED = ("objects", "derived")  # the originals go as objects; derived files are made again
SNAPSHOT_PREFIX = ".archive-"
UPLOAD_THREADS = 8
PART_THREADS = 4
RETRIES = 3  # times the run starts over when the custody log moved during the upload


@dataclass(frozen=True)
class Item:
    """One thing to hold on the remote."""

    key: str
    path: Path
    sha256: str
    size: int
    kind: str  # object | file | snapshot
    name: str  # the exhibit's number, or the path in the dispute's folder
    exhibit: int | None = None


@dataclass(frozen=True)
class Uploaded:
    key: str
    version_id: str | None
    size: int
    checksum: str | None  # what the storage said it checked (ChecksumSHA256)
    parts_reused: int = 0  # parts a cut-off run had sent already (a resumed multipart upload)


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


@dataclass
class Listing:
    latest: dict[str, tuple[str | None, int]] = field(default_factory=dict)  # key -> (version id, size)
    versions: dict[str, int] = field(default_factory=dict)  # key -> how many versions (delete markers not counted)
    deleted: set[str] = field(default_factory=set)  # keys whose latest version is a delete marker


def pick_remote(home: Home, name: str | None) -> Remote:
    if name:
        return config.get(home, name)
    remotes = config.load_all(home)
    if len(remotes) == 1:
        return next(iter(remotes.values()))
    if not remotes:
        raise UsageError(_("no remote yet: `locker remote add NAME s3://BUCKET/PREFIX --endpoint URL`"))
    raise UsageError(_("several remotes: name one with --to ({names})").format(names=", ".join(sorted(remotes))))


def list_keys(s3: S3, prefix: str) -> Listing:
    """Every version under ``prefix``, in one paginated listing (ListObjectVersions, 1,000 a page).

    botocore's generic XML parsing costs ~0.4 ms a version (0.8 s for a dispute of 2,000 objects on a
    busy machine), more than the requests themselves; so each page's body is read here with ElementTree
    (a before-parse hook of the same client: signing, retries and errors stay botocore's) and botocore
    is left only the page's truncation markers, which its paginator follows."""
    found = Listing()
    rows: list[tuple[str, str, str | None, bool, int]] = []

    def read_page(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_kw: Any) -> None:
        if response_dict.get("status_code") != 200 or not response_dict.get("body"):
            return
        rows.extend(_versions_of(response_dict))

    events = s3.client.meta.events
    events.register("before-parse.s3.ListObjectVersions", read_page, unique_id="locker-listing")
    try:
        def pages() -> None:
            paginator = s3.client.get_paginator("list_object_versions")
            for _page in paginator.paginate(Bucket=s3.bucket, Prefix=prefix):
                pass

        s3.guard(pages)
    finally:
        events.unregister("before-parse.s3.ListObjectVersions", unique_id="locker-listing")
    for kind, key, version, latest, size in rows:
        if kind == "Version":
            found.versions[key] = found.versions.get(key, 0) + 1
            if latest:
                found.latest[key] = (version, size)
        elif latest:
            found.deleted.add(key)
    for key in found.deleted:
        found.latest.pop(key, None)
    return found


def _versions_of(response_dict: dict[str, Any]) -> list[tuple[str, str, str | None, bool, int]]:
    """(Version | DeleteMarker, key, version id, is latest, size) of each entry of a ListVersionsResult page;
    the body is then cut down to its truncation markers for botocore's paginator."""
    from urllib.parse import unquote_plus
    from xml.etree import ElementTree

    root = ElementTree.fromstring(response_dict["body"])
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    encoded = (root.findtext(f"{ns}EncodingType") or "").lower() == "url"
    out = []
    for child in root:
        kind = child.tag[len(ns):]
        if kind not in ("Version", "DeleteMarker"):
            continue
        key = child.findtext(f"{ns}Key") or ""
        out.append((kind, unquote_plus(key) if encoded else key, child.findtext(f"{ns}VersionId"),
                    (child.findtext(f"{ns}IsLatest") or "").lower() == "true", int(child.findtext(f"{ns}Size") or 0)))
    kept = [f"<{t}>{_xml_text(root.findtext(ns + t))}</{t}>" for t in
            ("IsTruncated", "NextKeyMarker", "NextVersionIdMarker", "EncodingType") if root.find(ns + t) is not None]
    response_dict["body"] = f'<ListVersionsResult xmlns="{ns[1:-1]}">{"".join(kept)}</ListVersionsResult>'.encode() \
        if ns else f"<ListVersionsResult>{''.join(kept)}</ListVersionsResult>".encode()
    return out


def _xml_text(value: str | None) -> str:
    from xml.sax.saxutils import escape

    return escape(value or "")


def dispute_files(ddir: DisputeDir) -> list[tuple[str, Path]]:
    """The dispute folder's own files to keep (packs, bundles, kits, timestamp tokens): every regular file
    in its sub-folders but objects/ and derived/, temp and hidden names left out; sorted."""
    found = []
    for top in sorted(os.scandir(ddir.root), key=lambda e: e.name):
        if not top.is_dir(follow_symlinks=False) or top.name in FOLDERS_SKIPPED or top.name.startswith("."):
            continue
        for folder, dirs, files in os.walk(top.path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                if name.startswith(".") or not path.is_file() or path.is_symlink():
                    continue
                found.append((layout.relative(path, ddir.root), path))
    return found


def plan(ddir: DisputeDir, root: str, con: sqlite3.Connection) -> list[Item]:
    items = []
    missing = []
    absent = _not_imported(con)
    for number, sha, size in con.execute("SELECT number, sha256, size FROM exhibit ORDER BY number"):
        path = ddir.object_path(sha)
        if not path.is_file():
            if number not in absent:
                missing.append(number)
            continue
        items.append(Item(layout.object_key(root, sha), path, sha, int(size), "object", str(number), number))
    if missing:
        raise LockerError(_("the originals of exhibit(s) {numbers} are not in the locker: nothing was archived "
                            "(run `locker verify`)").format(numbers=", ".join(map(str, missing))), path=str(ddir.root))
    for name, path in dispute_files(ddir):
        sha, size = store.hash_file(path)
        items.append(Item(layout.file_key(root, sha), path, sha, size, "file", name))
    return items


def _not_imported(con: sqlite3.Connection) -> set[int]:
    """Exhibits whose originals the bundle this dispute was imported from did not carry (locker import):
    there is nothing of them to archive, as there is nothing of them to verify."""
    row = con.execute("SELECT payload FROM custody WHERE action = ? ORDER BY seq DESC LIMIT 1",
                      (domain.IMPORTED,)).fetchone()
    if row is None:
        return set()
    try:
        return set(domain.Imported.read(json.loads(row[0])).absent)
    except ValueError:
        return set()


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


def stale_uploads(s3: S3, root: str) -> dict[str, list[str]]:
    """The multipart uploads a killed (or cut off) run left under the dispute's keys: key -> upload ids,
    oldest first."""
    found: dict[str, list[tuple[str, str]]] = {}
    for upload in s3.call("list_multipart_uploads", Prefix=root).get("Uploads") or ():
        found.setdefault(upload["Key"], []).append((str(upload.get("Initiated") or ""), upload["UploadId"]))
    return {key: [u for _t, u in sorted(ids)] for key, ids in found.items()}


def _settle_stale(s3: S3, stale: dict[str, list[str]], todo: list[Item]) -> tuple[dict[str, str], int]:
    """Which stale upload each large item resumes (the newest of its key), and how many others were aborted
    (their parts cost storage and would never complete)."""
    large = {i.key for i in todo if layout.part_size(i.size) is not None}
    resume: dict[str, str] = {}
    aborted = 0
    for key, ids in stale.items():
        keep = ids[-1] if key in large else None
        for upload_id in ids:
            if upload_id == keep:
                resume[key] = upload_id
                continue
            s3.call("abort_multipart_upload", Key=key, UploadId=upload_id)
            aborted += 1
    return resume, aborted


# --------------------------------------------------------------------------- uploading


def upload_all(s3: S3, items: list[Item], lock: dict[str, Any], progress: Any = None,
               resume: dict[str, str] | None = None) -> list[Uploaded]:
    """Upload each item (small ones on UPLOAD_THREADS threads, then the large ones one by one, their parts
    on PART_THREADS); the first failure stops the rest and is raised."""
    if progress:
        progress.start(len(items), sum(i.size for i in items))
    small = [i for i in items if layout.part_size(i.size) is None]
    large = [i for i in items if layout.part_size(i.size) is not None]
    done: list[Uploaded] = []
    stop = threading.Event()

    def one(item: Item) -> Uploaded:
        if stop.is_set():
            raise RemoteError(_("stopped"))
        result = put_single(s3, item, lock)
        if progress:
            progress.advance(item.size, item.name)
        return result

    if small:
        with ThreadPoolExecutor(max_workers=UPLOAD_THREADS, thread_name_prefix="locker-upload") as pool:
            futures = [pool.submit(one, i) for i in small]
            finished, _pending = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in finished if f.exception() is not None]
            if failed:
                stop.set()
                for f in futures:
                    f.cancel()
                raise _first(failed)
            done += [f.result() for f in futures]
    for item in large:
        done.append(put_multipart(s3, item, lock, progress, (resume or {}).get(item.key)))
    return done


def _first(failed: list[Future[Uploaded]]) -> BaseException:
    errors = [f.exception() for f in failed]
    remote = [e for e in errors if isinstance(e, RemoteError)]
    found = (remote or errors)[0]
    assert found is not None
    return found


def put_single(s3: S3, item: Item, lock: dict[str, Any]) -> Uploaded:
    """One PUT with the SHA-256 the storage checks: the one recorded (an original's) or just computed; a
    file whose bytes no longer match it is refused by the storage (BadDigest), so never stored under
    the wrong name."""
    with open(item.path, "rb") as body:
        try:
            answer = s3.call("put_object", Key=item.key, Body=body, ContentLength=item.size,
                             ChecksumSHA256=layout.single_checksum(item.sha256), **lock)
        except RemoteError as err:
            if err.reason == "checksum":
                raise _changed(item) from None
            raise
    return Uploaded(item.key, answer.get("VersionId"), item.size, answer.get("ChecksumSHA256"))


def _changed(item: Item) -> LockerError:
    if item.kind == "object":
        return LockerError(_("exhibit {n}: its original no longer matches its recorded SHA-256; nothing of it was "
                             "uploaded (run `locker verify`)").format(n=item.name), path=str(item.path))
    return LockerError(_("{name} changed while it was archived; run `locker archive` again").format(name=item.name),
                       path=str(item.path))


def put_multipart(s3: S3, item: Item, lock: dict[str, Any], progress: Any = None,
                  resume: str | None = None) -> Uploaded:
    """A large file in parts: read here in order (the whole file's SHA-256 computed on the way, to be the
    one its name says), each part hashed and sent on a worker thread with its SHA-256 for the storage
    to check. At most PART_THREADS + 1 parts are in memory.

    ``resume``: the upload a cut-off run left for this key. Its parts whose size and MD5 (the ETag the
    storage lists; it lists no part checksum) match the local part are not sent again; the storage's
    composite SHA-256 of the completed object must then equal the one computed here from every local
    part, and the object's retention is brought to this run's date (extending is always allowed). An
    upload cut off by the network is left for the next run to resume; one whose file changed is aborted.
    """
    import base64

    part = layout.part_size(item.size)
    assert part is not None
    held: dict[int, tuple[int, str]] = {}
    if resume is not None:
        def listed() -> None:
            for page in s3.client.get_paginator("list_parts").paginate(Bucket=s3.bucket, Key=item.key, UploadId=resume):
                for p in page.get("Parts") or ():
                    held[int(p["PartNumber"])] = (int(p.get("Size") or 0), str(p.get("ETag") or "").strip('"').lower())
        s3.guard(listed)
        upload_id = resume
    else:
        upload_id = s3.call("create_multipart_upload", Key=item.key, ChecksumAlgorithm="SHA256", **lock)["UploadId"]
    slots = threading.BoundedSemaphore(PART_THREADS + 1)
    whole = hashlib.sha256()
    reused = 0

    def send(number: int, chunk: bytes) -> dict[str, Any]:
        nonlocal reused
        try:
            checksum = layout.b64(hashlib.sha256(chunk).digest())
            have = held.get(number)
            if have and have[0] == len(chunk) and have[1] == hashlib.md5(chunk, usedforsecurity=False).hexdigest():
                reused += 1
                etag = f'"{have[1]}"'
            else:
                etag = s3.call("upload_part", Key=item.key, UploadId=upload_id, PartNumber=number, Body=chunk,
                               ChecksumSHA256=checksum)["ETag"]
            if progress:
                progress.advance(len(chunk), item.name)
            return {"PartNumber": number, "ETag": etag, "ChecksumSHA256": checksum}
        finally:
            slots.release()

    try:
        futures: list[Future[dict[str, Any]]] = []
        with ThreadPoolExecutor(max_workers=PART_THREADS, thread_name_prefix="locker-part") as pool, \
                open(item.path, "rb", buffering=0) as f:
            number = 0
            while True:
                slots.acquire()
                if any(fut.done() and fut.exception() for fut in futures):
                    slots.release()
                    break
                chunk = f.read(part)
                if not chunk:
                    slots.release()
                    break
                whole.update(chunk)
                number += 1
                futures.append(pool.submit(send, number, chunk))
        parts = [fut.result() for fut in futures]  # the first failure is raised here
        if whole.hexdigest() != item.sha256:
            raise _changed(item)
    except LockerError as err:
        if not isinstance(err, RemoteError) or err.reason == "checksum":
            _abort_quietly(s3, item.key, upload_id)
        raise
    answer = s3.call("complete_multipart_upload", Key=item.key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    said = answer.get("ChecksumSHA256")
    want = layout.composite_checksum([base64.b64decode(p["ChecksumSHA256"]) for p in parts])
    if said and said != want:
        raise RemoteError(_("{name}: the storage's checksum of the uploaded object is {said}, the local file "
                            "gives {want}").format(name=item.name, said=said, want=want), reason="checksum")
    if resume is not None and answer.get("VersionId"):
        try:  # the upload was started by an earlier run, with its (earlier) date
            s3.call("put_object_retention", Key=item.key, VersionId=answer["VersionId"],
                    Retention={"Mode": lock["ObjectLockMode"], "RetainUntilDate": lock["ObjectLockRetainUntilDate"]})
        except RemoteError as err:
            if err.reason != "denied":  # denied: it is locked longer already
                raise
    return Uploaded(item.key, answer.get("VersionId"), item.size, said, reused)


def _abort_quietly(s3: S3, key: str, upload_id: str) -> None:
    try:
        s3.call("abort_multipart_upload", Key=key, UploadId=upload_id)
    except Exception:  # the server may be the reason we are here; the next run aborts it
        pass


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
