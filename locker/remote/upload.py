"""The uploads of ``locker archive``: each item with the remote's Object Lock and its SHA-256 for the
storage to check, small ones in one PUT on several threads, large ones in parts (the S3 multipart
upload, memory flat in the file's size); a multipart upload a cut-off run left is resumed (its parts
the storage holds are not sent again) or, when no longer needed, aborted.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from ..errors import LockerError
from ..i18n import _
from . import layout
from .client import S3, RemoteError
from .planning import Item

UPLOAD_THREADS = 8
PART_THREADS = 4


@dataclass(frozen=True)
class Uploaded:
    key: str
    version_id: str | None
    size: int
    checksum: str | None  # what the storage said it checked (ChecksumSHA256)
    parts_reused: int = 0  # parts a cut-off run had sent already (a resumed multipart upload)


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
    part = layout.part_size(item.size)
    assert part is not None
    if resume is not None:
        held = _held_parts(s3, item.key, resume)
        upload_id = resume
    else:
        held = {}
        upload_id = s3.call("create_multipart_upload", Key=item.key, ChecksumAlgorithm="SHA256", **lock)["UploadId"]
    sender = _PartSender(s3, item, upload_id, held, progress)
    try:
        parts = _send_parts(sender, part)
    except LockerError as err:
        if not isinstance(err, RemoteError) or err.reason == "checksum":
            _abort_quietly(s3, item.key, upload_id)
        raise
    answer = _complete(s3, item, upload_id, parts)
    if resume is not None and answer.get("VersionId"):
        _extend_retention(s3, item.key, answer["VersionId"], lock)
    return Uploaded(item.key, answer.get("VersionId"), item.size, answer.get("ChecksumSHA256"), sender.reused)


def _held_parts(s3: S3, key: str, upload_id: str) -> dict[int, tuple[int, str]]:
    """The parts the storage holds of an upload a cut-off run left: number -> (size, MD5 hex, the ETag
    it lists)."""
    held: dict[int, tuple[int, str]] = {}

    def listed() -> None:
        for page in s3.client.get_paginator("list_parts").paginate(Bucket=s3.bucket, Key=key, UploadId=upload_id):
            for p in page.get("Parts") or ():
                held[int(p["PartNumber"])] = (int(p.get("Size") or 0), str(p.get("ETag") or "").strip('"').lower())
    s3.guard(listed)
    return held


class _PartSender:
    """Sends the parts of one multipart upload, each on a worker thread with its SHA-256 for the storage to
    check; a part a cut-off run sent already (same size, same MD5) is named, not sent again. ``slots``
    bounds the parts in memory: one is taken before a part is read and given back once it is sent."""

    def __init__(self, s3: S3, item: Item, upload_id: str, held: dict[int, tuple[int, str]],
                 progress: Any) -> None:
        self.s3 = s3
        self.item = item
        self.upload_id = upload_id
        self.held = held
        self.progress = progress
        self.slots = threading.BoundedSemaphore(PART_THREADS + 1)
        self.reused = 0  # parts not sent again

    def send(self, number: int, chunk: bytes) -> dict[str, Any]:
        try:
            checksum = layout.b64(hashlib.sha256(chunk).digest())
            have = self.held.get(number)
            if have and have[0] == len(chunk) and have[1] == hashlib.md5(chunk, usedforsecurity=False).hexdigest():
                self.reused += 1
                etag = f'"{have[1]}"'
            else:
                etag = self.s3.call("upload_part", Key=self.item.key, UploadId=self.upload_id, PartNumber=number,
                                    Body=chunk, ChecksumSHA256=checksum)["ETag"]
            if self.progress:
                self.progress.advance(len(chunk), self.item.name)
            return {"PartNumber": number, "ETag": etag, "ChecksumSHA256": checksum}
        finally:
            self.slots.release()


def _send_parts(sender: _PartSender, part: int) -> list[dict[str, Any]]:
    """The file read in order, ``part`` bytes at a time (its SHA-256 computed on the way), each part handed
    to a worker; the parts as CompleteMultipartUpload lists them. Reading stops at the first failure,
    which is raised; a file that is no longer the one its SHA-256 names raises too."""
    item = sender.item
    whole = hashlib.sha256()
    futures: list[Future[dict[str, Any]]] = []
    with ThreadPoolExecutor(max_workers=PART_THREADS, thread_name_prefix="locker-part") as pool, \
            open(item.path, "rb", buffering=0) as f:
        number = 0
        while True:
            sender.slots.acquire()
            if any(fut.done() and fut.exception() for fut in futures):
                sender.slots.release()
                break
            chunk = f.read(part)
            if not chunk:
                sender.slots.release()
                break
            whole.update(chunk)
            number += 1
            futures.append(pool.submit(sender.send, number, chunk))
    parts = [fut.result() for fut in futures]  # the first failure is raised here
    if whole.hexdigest() != item.sha256:
        raise _changed(item)
    return parts


def _complete(s3: S3, item: Item, upload_id: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """CompleteMultipartUpload, the storage's composite SHA-256 of the object checked against the one of
    the local parts; the storage's answer."""
    import base64

    answer: dict[str, Any] = s3.call("complete_multipart_upload", Key=item.key, UploadId=upload_id,
                                     MultipartUpload={"Parts": parts})
    said = answer.get("ChecksumSHA256")
    want = layout.composite_checksum([base64.b64decode(p["ChecksumSHA256"]) for p in parts])
    if said and said != want:
        raise RemoteError(_("{name}: the storage's checksum of the uploaded object is {said}, the local file "
                            "gives {want}").format(name=item.name, said=said, want=want), reason="checksum")
    return answer


def _extend_retention(s3: S3, key: str, version_id: str, lock: dict[str, Any]) -> None:
    """An object's retention brought to this run's date (extending is always allowed)."""
    try:  # the upload was started by an earlier run, with its (earlier) date
        s3.call("put_object_retention", Key=key, VersionId=version_id,
                Retention={"Mode": lock["ObjectLockMode"], "RetainUntilDate": lock["ObjectLockRetainUntilDate"]})
    except RemoteError as err:
        if err.reason != "denied":  # denied: it is locked longer already
            raise


def _abort_quietly(s3: S3, key: str, upload_id: str) -> None:
    try:
        s3.call("abort_multipart_upload", Key=key, UploadId=upload_id)
    except Exception:  # the server may be the reason we are here; the next run aborts it
        pass
