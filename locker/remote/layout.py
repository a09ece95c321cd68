"""Where a dispute lives on a remote: keys under ``s3://BUCKET/PREFIX``.

::

    PREFIX/disputes/<slug>/objects/sha256/<hex>     an original, named by its SHA-256
    PREFIX/disputes/<slug>/files/sha256/<hex>       a database snapshot, a custody log (JSONL), a pack,
                                                    a bundle, a timestamp token: named by SHA-256 too
    PREFIX/disputes/<slug>/manifests/<seq>.json     one per archive run, <seq> the number (10 digits)
                                                    of the run's ``archived`` custody entry: what
                                                    ``restore`` fetches, and where each file goes

Everything but the manifests is content-addressed, so a key's bytes never change: a second version of
a key with other bytes is damage, and an archive run uploads only keys the remote lacks. Objects of
MULTIPART_MIN bytes and more are sent in parts of :func:`part_size` bytes; the storage then keeps a
composite checksum (base64 SHA-256 of the parts' SHA-256s, ``-N``), which :func:`expected_checksum`
computes from the local file the same way.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from .config import Remote

MIB = 1024 * 1024
MULTIPART_MIN = 16 * MIB  # objects this large go in parts (memory flat: at most a few parts in memory)
PART_MIN = 16 * MIB
MAX_PARTS = 10_000  # S3's limit
MANIFEST_DIGITS = 10


def base(remote: Remote, slug: str) -> str:
    return f"{remote.prefix}/disputes/{slug}/" if remote.prefix else f"disputes/{slug}/"


def disputes_prefix(remote: Remote) -> str:
    return f"{remote.prefix}/disputes/" if remote.prefix else "disputes/"


def object_key(root: str, sha256: str) -> str:
    return f"{root}objects/sha256/{sha256}"


def file_key(root: str, sha256: str) -> str:
    return f"{root}files/sha256/{sha256}"


def manifests(root: str) -> str:
    return f"{root}manifests/"


def manifest_key(root: str, seq: int) -> str:
    return f"{manifests(root)}{seq:0{MANIFEST_DIGITS}d}.json"


def part_size(size: int) -> int | None:
    """The part size an object of ``size`` bytes is sent in; None: one PUT."""
    if size < MULTIPART_MIN:
        return None
    per_part = -(-size // MAX_PARTS)
    return max(PART_MIN, -(-per_part // MIB) * MIB)


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def single_checksum(sha256_hex: str) -> str:
    """What the storage reports as ChecksumSHA256 of an object sent in one PUT."""
    return b64(bytes.fromhex(sha256_hex))


def composite_checksum(part_digests: list[bytes]) -> str:
    return f"{b64(hashlib.sha256(b''.join(part_digests)).digest())}-{len(part_digests)}"


def expected_checksum(path: Path, sha256_hex: str, size: int, part: int | None = None) -> str:
    """The ChecksumSHA256 the storage should report for this local file as the locker uploads it:
    the file's SHA-256 (one PUT), or the composite of its parts' (multipart), read from the file."""
    part = part if part is not None else part_size(size)
    if part is None:
        return single_checksum(sha256_hex)
    digests = []
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(part):
            digests.append(hashlib.sha256(chunk).digest())
    return composite_checksum(digests)


def relative(path: Path, root: Path) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")
