"""``locker restore --from NAME DISPUTE [--as SLUG]``: rebuild a dispute from a remote.

The newest manifest of the dispute on the remote names everything: the database snapshot, the custody
log (which holds the run's ``archived`` entry, made after the snapshot), the originals and the
dispute's other files. In order, and nothing in the home changes until the last step:

1. each is downloaded (the version the manifest names) into a hidden folder in the home, its SHA-256
   checked against the manifest on the way;
2. the custody log is checked as a chain, must end with the entry the manifest names, and the
   snapshot's own log must be its beginning; the entries after the snapshot's are added to it, then
   one ``restored`` entry (and a ``dispute.renamed`` one when ``--as`` gives another name);
3. the rebuilt dispute is checked by ``locker verify``'s own check;
4. one rename moves it into ``disputes/``, onto a name reserved empty first. The hidden folder is
   removed whatever happens.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
from typing import Any

from .. import custody, db, domain, durable, store
from ..errors import LockerError, NotFound, UsageError
from ..i18n import _
from ..paths import SLUG_RE, Home
from ..services import landing
from ..values import now_utc
from . import archive, config, layout
from .client import S3

STAGING_PREFIX = ".restore-"
DOWNLOAD_THREADS = 8
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class RestoreResult:
    slug: str
    recorded_slug: str
    remote: str
    manifest: str
    objects: int
    files: int
    bytes: int
    entries: int  # custody entries restored (the archived chain)
    seq: int  # the restored entry
    verified: bool


def restore(home: Home, remote_name: str, ref: str, *, slug: str | None = None, progress: Any = None) -> RestoreResult:
    remote = config.get(home, remote_name)
    if slug is not None and not SLUG_RE.match(slug):
        raise UsageError(_("a dispute name uses a-z, 0-9 and '-': {slug!r}").format(slug=slug))
    if not SLUG_RE.match(ref):
        raise UsageError(_("name the archived dispute by its slug (as `locker archive` printed it), not {ref!r}").format(ref=ref))
    s3 = S3(remote)
    root = layout.base(remote, ref)
    listing = archive.list_keys(s3, layout.manifests(root))
    names = sorted(k for k in listing.latest if k.endswith(".json"))
    if not names:
        raise NotFound(_("remote {name} holds no archive of {slug}{known}").format(
            name=remote.name, slug=ref, known=_known(s3, remote)))
    manifest_key = names[-1]
    manifest = _json(_get(s3, manifest_key, None), manifest_key)
    if manifest.get("format") != archive.MANIFEST_FORMAT or manifest.get("version") != archive.MANIFEST_VERSION:
        raise LockerError(_("{key} is not a manifest this locker can read").format(key=manifest_key))
    final = slug or ref
    home.require_writable().ensure()
    landing.clean_stale(home, STAGING_PREFIX)
    try:
        with landing.Landing(home, STAGING_PREFIX) as landed:
            landed.reserve(final)
            built = landed.builder()
            ddir = built.dispute(final)
            for folder in (ddir.root, ddir.objects, ddir.derived, ddir.exports):
                folder.mkdir(mode=0o700, exist_ok=True)
            result = _fetch_all(s3, manifest, ddir, progress)
            seq, entries = _rebuild(ddir, manifest, result["log"], remote, manifest_key, ref, final)
            from ..services.verify import check_dispute

            try:
                check = check_dispute(built, final)
            finally:
                db.dispose(ddir.db)
            errors = [p for p in check.problems if p.severity == "error"]
            if errors:
                shown = "; ".join(f"{p.problem}: {p.detail}" for p in errors[:3])
                raise LockerError(_("the restored dispute does not verify: {problems}").format(problems=shown))
            landed.move_in(built, final)
    except OSError as err:
        raise durable.os_error(err, home.root) from None
    return RestoreResult(final, ref, remote.name, manifest_key, result["objects"], result["files"], result["bytes"],
                         entries, seq, check.ok)


def _known(s3: S3, remote: config.Remote) -> str:
    found = s3.call("list_objects_v2", Prefix=layout.disputes_prefix(remote), Delimiter="/")
    names = [p["Prefix"].rstrip("/").rsplit("/", 1)[-1] for p in found.get("CommonPrefixes") or ()]
    return (" " + _("(it holds: {names})").format(names=", ".join(sorted(names)))) if names else ""


def _json(raw: bytes, key: str) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise LockerError(_("{key} is not a manifest this locker can read").format(key=key))
    return doc


def _get(s3: S3, key: str, version: str | None) -> bytes:
    extra = {"VersionId": version} if version else {}
    answer = s3.call("get_object", Key=key, **extra)
    data: bytes = s3.guard(answer["Body"].read)
    return data


def _download(s3: S3, key: str, version: str | None, sha256: str, target: Path, mode: int = 0o600) -> int:
    """Stream one key into ``target`` (a temp name, then renamed), its SHA-256 checked on the way."""
    extra = {"VersionId": version} if version else {}
    answer = s3.call("get_object", Key=key, **extra)
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with durable.atomic_path(target, mode=mode, durable=False) as tmp:
        with open(tmp, "wb") as out:
            chunks = _chunks(answer["Body"])
            while (chunk := s3.guard(lambda: next(chunks, None))) is not None:
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            if digest.hexdigest() != sha256:
                raise LockerError(_("{key}: its bytes on the remote do not match the SHA-256 the manifest records").format(
                    key=key))
    return size


def _chunks(body: Any) -> Any:
    yield from body.iter_chunks(CHUNK)


def _entry(found: object, what: str) -> dict[str, Any]:
    """One key the manifest names, checked before anything is fetched: a key, a SHA-256 (64 hex digits:
    it names the file it becomes), a version id or none."""
    ok = (isinstance(found, dict) and isinstance(found.get("key"), str) and isinstance(found.get("sha256"), str)
          and store.is_object_name(found["sha256"]) and isinstance(found.get("version_id"), str | None))
    if not ok:
        raise LockerError(_("the manifest's {what} is not a key this locker wrote").format(what=what))
    assert isinstance(found, dict)
    return found


def _fetch_all(s3: S3, manifest: dict[str, Any], ddir: Any, progress: Any) -> dict[str, Any]:
    jobs: list[tuple[str, str | None, str, Path, int]] = []
    snap = _entry(manifest.get("snapshot"), "snapshot")
    jobs.append((snap["key"], snap.get("version_id"), snap["sha256"], ddir.db, 0o600))
    objects = [_entry(o, "object") for o in manifest.get("objects") or []]
    for o in objects:
        jobs.append((o["key"], o.get("version_id"), o["sha256"], ddir.object_path(o["sha256"]), 0o444))
    files = [_entry(f, "file") for f in manifest.get("files") or []]
    for f in files:
        rel = PurePosixPath(str(f.get("path") or ""))
        if (rel.is_absolute() or ".." in rel.parts or len(rel.parts) < 2 or rel.parts[0] in archive.FOLDERS_SKIPPED
                or any(part.startswith(".") for part in rel.parts)):
            raise LockerError(_("the manifest names a file outside the dispute's folder: {path!r}").format(path=str(rel)))
        jobs.append((f["key"], f.get("version_id"), f["sha256"], ddir.root.joinpath(*rel.parts), 0o600))
    log = _entry(manifest.get("log"), "custody log")
    if progress:
        progress.start(len(jobs), sum(int(o.get("size") or 0) for o in [snap, *objects, *files]))

    def one(job: tuple[str, str | None, str, Path, int]) -> int:
        size = _download(s3, *job)
        if progress:
            progress.advance(size, job[3].name)
        return size

    with ThreadPoolExecutor(max_workers=DOWNLOAD_THREADS, thread_name_prefix="locker-download") as pool:
        sizes = list(pool.map(one, jobs))
    durable.sync_filesystem(ddir.root)
    raw = _get(s3, log["key"], log.get("version_id"))
    if hashlib.sha256(raw).hexdigest() != log.get("sha256"):
        raise LockerError(_("{key}: the custody log on the remote does not match the SHA-256 the manifest records").format(
            key=log["key"]))
    return {"objects": len(objects), "files": len(files), "bytes": sum(sizes), "log": raw}


def _rebuild(ddir: Any, manifest: dict[str, Any], log: bytes, remote: config.Remote, manifest_key: str,
             recorded: str, final: str) -> tuple[int, int]:
    """Complete the snapshot's custody log from the archived one, add the ``restored`` entry; returns its seq
    and how many entries were restored."""
    chain = []
    for line in log.splitlines():
        try:
            chain.append(json.loads(line))
        except ValueError:
            raise LockerError(_("the custody log on the remote has a line that is not an entry")) from None
    rows = [SimpleNamespace(**{**e, "payload": custody.canonical(e.get("payload")).decode("utf-8")}) for e in chain]
    try:
        problems = custody.check_chain(rows)
    except (TypeError, AttributeError):
        raise LockerError(_("the custody log on the remote has a line that is not an entry")) from None
    if problems:
        raise LockerError(_("the custody log on the remote is not one unbroken chain: {problem}").format(
            problem=problems[0].detail))
    entry = manifest.get("entry") or {}
    if not chain or chain[-1].get("seq") != entry.get("seq") or chain[-1].get("hash") != entry.get("hash"):
        raise LockerError(_("the custody log on the remote does not end with the entry its manifest names"))
    con = db.connect_writer(ddir.db)
    try:
        with db.writing_dbapi(con, ddir.db):
            have = con.execute("SELECT seq, hash FROM custody ORDER BY seq").fetchall()
            if [(r["seq"], r["hash"]) for r in chain[:len(have)]] != [(int(s), str(h)) for s, h in have]:
                raise LockerError(_("the database snapshot's custody log is not the beginning of the archived one"))
            rest = [{**r.__dict__} for r in rows[len(have):]]
            con.executemany("INSERT INTO custody (seq, v, at, actor, action, payload, prev_hash, hash) "
                            "VALUES (:seq, :v, :at, :actor, :action, :payload, :prev_hash, :hash)", rest)
            entries = [domain.restored(url=remote.url, endpoint=remote.endpoint, manifest=manifest_key, slug=recorded,
                                       head_seq=int(chain[-1]["seq"]), head_hash=str(chain[-1]["hash"]))]
            if final != recorded:
                entries.append(domain.dispute_renamed(recorded, final))
                con.execute("UPDATE dispute SET slug = ?", (final,))
            written = custody.append(con, now_utc(), entries)
        custody.publish_head(ddir.root, con)
    finally:
        con.close()
    return int(written[0]["seq"]), len(chain)
