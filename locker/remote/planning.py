"""What ``locker archive`` (and ``remote verify``) plans to hold on a remote and what the remote holds:
the remote to use (:func:`pick_remote`), one listing of a dispute's keys (:func:`list_keys`, every
version), and the plan (:func:`plan`): every original as an object, every file of the dispute's folder
(packs, bundles, kits, timestamp tokens) as a file, each under its SHA-256.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import domain, store
from ..errors import LockerError, UsageError
from ..i18n import _
from ..paths import DisputeDir, Home
from . import config, layout
from .client import S3
from .config import Remote

FOLDERS_SKIPPED = ("objects", "derived")  # the originals go as objects; derived files are made again


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
