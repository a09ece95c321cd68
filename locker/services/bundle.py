"""``locker bundle``: one ZIP a recipient can check without locker (layout in :mod:`locker.bundle`).

1. Every chosen exhibit's object is streamed into the bag as ``data/originals/NNN-<safe name>`` and hashed
   on the way: a byte that differs from the recorded SHA-256 (or a missing object) refuses the bundle.
2. The pack is made by ``export`` (recorded as usual with ``export.created``), told that the originals were
   just checked, and copied in as ``data/pack.pdf``.
3. The custody log (which now ends with that export), the dispute, the chats, the stored timestamp tokens,
   the two schemas and VERIFY.txt / VERIFY.zh.txt follow; then the manifests and bag-info.txt.
4. The ZIP is written under a temporary name in the target folder, its SHA-256 computed as it is written;
   once fsynced it is recorded (``bundle.created``) and then renamed into place, like a pack.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from .. import __version__, custody, domain, store
from ..domain import LANGS
from ..errors import DamagedOriginal, LockerError, UsageError
from ..i18n import _
from ..paths import DisputeDir, Home
from ..values import now_utc, resolve_tz
from . import disputes, export_snapshot
from . import export as exporting
from . import export_output as output
from .export_check import Check

STAMP_NAME = "tagmanifest-sha256.txt"  # bundle --stamp: <slug>/tagmanifest-sha256.txt.tsr


@dataclass(frozen=True)
class BundleOptions:
    output: str | None = None  # a .zip file, or a folder for the dated name; default: the dispute's exports/
    lang: str | None = None  # the pack's language (zh | en); default: the profile's, else zh
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    stamp: bool = False  # a timestamp token over the tag manifest (the only network call)
    tsa: tuple[str, ...] = ()  # the TSAs to ask for --stamp; default: the profile's
    force: bool = False  # -o may replace an existing file


@dataclass(frozen=True)
class BundleResult:
    slug: str
    path: Path
    sha256: str
    size: int
    exhibits: tuple[int, ...]
    lang: str
    pack: Path  # the pack made for it, kept in exports/ like any export
    pack_sha256: str
    tagmanifest_sha256: str
    payload_oxum: str
    custody_seq: int  # the last entry in data/custody.jsonl
    tokens: tuple[str, ...]  # data/timestamps/… and the token over the tag manifest
    stamped_by: str | None  # the TSA that stamped the tag manifest (--stamp)
    warnings: tuple[str, ...]


def bundle(home: Home, ref: str, options: BundleOptions = BundleOptions(), *,
           dispute_document: Callable[[Any], dict[str, Any]], progress: Any = None) -> BundleResult:
    """Write the bundle. ``dispute_document`` turns ``disputes.detail`` into the ``show --json`` document
    (``data/dispute.json``); the interface owns that document, so it hands the function in."""
    from . import profile as profiles

    prof = profiles.load(home)
    lang = (options.lang or prof.lang or LANGS[0]).strip().lower()
    if lang not in LANGS:
        raise UsageError(_("language must be one of {choices}, not {lang!r}").format(choices=", ".join(LANGS), lang=lang))
    if options.include and options.exclude:
        raise UsageError(_("use --include or --exclude, not both"))
    opened = disputes.resolve(home, ref)
    ddir = opened.dir
    if options.stamp:
        from . import stamp

        stamp.tsa_urls(home, options.tsa)  # no TSA to ask: refused before anything is made
    final = target(home, ddir, options.output, prof.tz, force=options.force)
    rows = export_snapshot._read(opened, exporting.ExportOptions(include=options.include, exclude=options.exclude))
    chosen = list(rows.chosen)
    if final.parent == ddir.exports:
        output.clean_stale(ddir.exports)
    temp = final.with_name(f"{store.TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}-{final.name}")
    try:
        made = _write(home, opened, chosen, options, lang, prof, temp, final.name, dispute_document, progress)
        _record(opened, final, made, lang, [e.number for e in chosen])
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    output.place_recorded(temp, final, replace=options.force or not options.output)
    return BundleResult(slug=ddir.slug, path=final, sha256=made.sha256, size=made.size,
                        exhibits=tuple(e.number for e in chosen), lang=lang, pack=made.pack.path,
                        pack_sha256=made.pack.sha256, tagmanifest_sha256=made.tagmanifest_sha256,
                        payload_oxum=made.payload_oxum, custody_seq=made.custody_seq, tokens=made.tokens,
                        stamped_by=made.stamped_by, warnings=tuple(made.pack.warnings))


def target(home: Home, ddir: DisputeDir, out: str | None, tz_name: str | None, *, force: bool = False) -> Path:
    """Where the bundle goes: ``exports/<slug>-bundle-<time>.zip``, or ``-o`` (outside the home)."""
    tz = resolve_tz(tz_name) if tz_name else None
    name = f"{ddir.slug}-bundle-{datetime.now(tz).strftime('%Y%m%d-%H%M%S')}.zip"
    if out:
        path = Path(out).expanduser()
        output.outside_home(home, path)
        if not path.is_dir():
            if not path.parent.is_dir():
                raise UsageError(_("no such folder: {parent}").format(parent=path.parent), path=str(path))
            if (path.exists() or path.is_symlink()) and not force:
                raise UsageError(_("the file exists; bundle will not replace it (add --force to replace it, or "
                                   "name another file)"), path=str(path))
            if path.exists() and not path.is_file():
                raise UsageError(_("not a regular file; bundle writes only to a new or a regular file"), path=str(path))
            return path.resolve()
        folder = path
    else:
        folder = ddir.exports
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as err:
            raise LockerError(_("cannot create the exports folder: {reason}").format(reason=err.strerror),
                              path=str(folder)) from None
    candidate, n = folder / name, 2
    while candidate.exists():
        candidate = folder / name.replace(".zip", f"-{n}.zip")
        n += 1
    return candidate.resolve()


class _HashingOut:
    """The ZIP's file, hashed as it is written (on its own thread). It has no ``seek``, so zipfile writes
    each member once, front to back (sizes in data descriptors), and the hash is of the final bytes."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.h = hashlib.sha256()
        self.pos = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="locker-bundle-out")
        self._pending: Future[None] | None = None

    def write(self, data: bytes | memoryview) -> int:
        # ``data`` may be a view of a buffer the writer reads into again: it is hashed before the next write
        # returns, and the writer reuses a buffer only two writes later.
        if self._pending is not None:
            self._pending.result()
        self._pending = self._pool.submit(self.h.update, data)
        self.f.write(data)
        n = memoryview(data).nbytes
        self.pos += n
        return n

    def tell(self) -> int:
        return self.pos

    def flush(self) -> None:
        self.f.flush()

    def digest(self) -> str:
        if self._pending is not None:
            self._pending.result()
        self._pool.shutdown(wait=True)
        return self.h.hexdigest()


@dataclass(frozen=True)
class _Made:
    sha256: str
    size: int
    pack: Any  # export.ExportResult
    tagmanifest_sha256: str
    payload_oxum: str
    custody_seq: int
    tokens: tuple[str, ...]
    stamped_by: str | None


def _write(home: Home, opened: Any, chosen: list[Any], options: BundleOptions, lang: str, prof: Any, temp: Path,
           bundle_name: str, dispute_document: Callable[[Any], dict[str, Any]], progress: Any) -> _Made:
    from ..bundle.writer import BagWriter

    ddir = opened.dir
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb", buffering=1 << 20) as raw:
        out = _HashingOut(raw)
        writer = BagWriter(out, ddir.slug)  # type: ignore[arg-type]
        try:
            # The pack is made meanwhile, on another thread (its layout is Python work, the copy below mostly
            # hashing and I/O outside the GIL); it waits for this check before it keeps anything.
            checks: Future[dict[int, Check]] = Future()
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="locker-bundle-pack") as packer:
                making = packer.submit(exporting.export, home, opened.slug, exporting.ExportOptions(
                    lang=lang, include=options.include, exclude=options.exclude, checked=checks))
                try:
                    found, damaged = _copy_originals(writer, ddir, chosen, progress)
                except BaseException as err:
                    checks.set_exception(err)
                    raise
                checks.set_result(found)
                if damaged:
                    making.exception()  # the pack refused too (DamagedOriginal): nothing of it is kept
                    raise DamagedOriginal(_("bundle refused, it would hold originals that fail their check: "
                                            "{problems} (locker verify says more)").format(problems="; ".join(damaged)))
                pack = making.result()
            member = writer.add_file("pack.pdf", pack.path)
            if member.sha256 != pack.sha256:
                raise LockerError(_("the pack changed while it was copied into the bundle"), path=str(pack.path))
            chain, messages = _read_records(opened, chosen)
            writer.add_bytes("custody.jsonl", b"".join(custody.canonical(entry) + b"\n" for entry in chain))
            writer.add_bytes("dispute.json", _json(dispute_document(disputes.detail(home, opened.slug))))
            for number, doc in sorted(messages.items()):
                writer.add_bytes(f"messages/{number:03d}.json", _json(doc))
            tokens = _stored_tokens(ddir, chain, writer)
            for schema in ("custody-entry.schema.json", "chat.schema.json"):
                writer.add_tag(f"schemas/{schema}", _resource("schemas", schema))
            for text in ("VERIFY.txt", "VERIFY.zh.txt"):
                writer.add_tag(text, _verify_text(text, ddir.slug))
            head: dict[str, Any] = chain[-1] if chain else {"seq": 0, "hash": custody.GENESIS}
            finished = writer.finish(_bag_info(opened, prof, head))
            stamped_by = None
            if options.stamp:
                stamped_by = _stamp(home, opened, writer, finished.tagmanifest_sha256, bundle_name, options.tsa)
                tokens = (*tokens, STAMP_NAME + ".tsr")
        finally:
            writer.close()
        raw.flush()
        os.fsync(raw.fileno())
        sha256 = out.digest()
        size = out.pos
    return _Made(sha256, size, pack, finished.tagmanifest_sha256, finished.payload_oxum, int(head["seq"]),
                 tuple(tokens), stamped_by)


def _copy_originals(writer: Any, ddir: DisputeDir, chosen: list[Any],
                    progress: Any) -> tuple[dict[int, Check], list[str]]:
    """Each original streamed into data/originals/, hashed on the way: (the check of each, the refusals)."""
    from ..bundle.writer import original_member

    if progress is not None:
        progress.start(len(chosen), sum(e.size for e in chosen))
    found: dict[int, Check] = {}
    damaged: list[str] = []
    for e in chosen:
        try:
            member = writer.add_file(original_member(e.number, e.original_name), ddir.object_path(e.sha256),
                                     None if progress is None else (lambda n, name=e.original_name: progress.advance(n, name)))
        except FileNotFoundError:
            found[e.number] = Check("missing", reason="missing")
            damaged.append(_("exhibit {number} ({name}): its original is missing from the locker").format(
                number=e.number, name=e.original_name))
            continue
        if member.sha256 != e.sha256:
            found[e.number] = Check("damaged", found=member.sha256)
            damaged.append(_("exhibit {number} ({name}): its bytes differ from the recorded SHA-256 "
                             "{recorded}… (now {found}…)").format(number=e.number, name=e.original_name,
                                                                 recorded=e.sha256[:12], found=member.sha256[:12]))
        else:
            found[e.number] = Check("ok")
    if progress is not None and hasattr(progress, "stop"):
        progress.stop()
    return found, damaged


def _json(doc: Any) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _resource(*parts: str) -> bytes:
    return resources.files("locker.bundle").joinpath(*parts).read_bytes()


def _verify_text(name: str, slug: str) -> bytes:
    text = _resource(name).decode("utf-8")
    return text.replace("{slug}", slug).encode("utf-8")


def _read_records(opened: Any, chosen: list[Any]) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The custody log as JSON lines (each entry's hashed document plus its hash) and the chats."""
    from sqlmodel import col, select

    from .. import db
    from ..models import CustodyEntry
    from . import chat

    with db.reading(opened.engine) as session:
        chain = [
            {**custody.entry_document(c.seq, c.at, c.actor, c.action, json.loads(c.payload), c.prev_hash, c.v),
             "hash": c.hash}
            for c in session.exec(select(CustodyEntry).order_by(col(CustodyEntry.seq))).all()
        ]
        messages: dict[int, dict[str, Any]] = {}
        for e in chosen:
            found = chat.stored_messages(session.connection(), e.number)
            if not found:
                continue
            meta = json.loads(e.meta or "{}")
            messages[e.number] = {
                "format": "locker-chat", "version": 1, "source_format": meta.get("chat_format"),
                "encoding": meta.get("encoding"), "tz": meta.get("tz"), "me": meta.get("me"),
                "participants": [p for p in meta.get("participants") or [] if isinstance(p, str)],
                "messages": [{"position": m.position, "at": m.at, "sender": m.sender, "text": m.text,
                              "me": bool(m.me), "system": m.kind == "service", "kind": m.kind} for m in found],
            }
    return chain, messages


def _bag_info(opened: Any, prof: Any, head: dict[str, Any]) -> list[tuple[str, str]]:
    from sqlmodel import select

    from .. import db
    from ..models import Dispute

    with db.reading(opened.engine) as session:
        dispute = session.exec(select(Dispute)).first()
    name = prof.name or "unknown"
    return [
        ("Source-Organization", name),
        ("Contact-Name", name),
        ("Contact-Phone", prof.phone or ""),
        ("Contact-Email", prof.email or ""),
        ("External-Description", getattr(dispute, "title", "") or ""),
        ("External-Identifier", f"{opened.dir.slug} custody {head['seq']} {head['hash']}"),
        ("Bag-Group-Identifier", opened.dir.slug),
        ("Bagging-Date", now_utc()[:10]),
        ("Bag-Software-Agent", f"locker {__version__}"),
    ]


def _stored_tokens(ddir: DisputeDir, chain: list[dict[str, Any]], writer: Any) -> tuple[str, ...]:
    """The dispute's stored timestamp tokens (``locker stamp``, ``export --stamp``, earlier ``bundle --stamp``),
    each with what it stamps (.json) and the certificates it carries (.pem), copied into data/timestamps/."""
    copied: list[str] = []
    for entry in chain:
        if entry.get("action") != domain.TIMESTAMP_ADDED:
            continue
        reading = domain.read_entry(str(entry["action"]), entry.get("payload"))
        file = getattr(reading, "file", None)
        if not file or "/" not in file:
            continue
        tsr = ddir.root / file
        if tsr.parent.name != "timestamps" or tsr.suffix != ".tsr":
            continue
        for part in (tsr, tsr.with_suffix(".json"), tsr.with_suffix(".pem")):
            if part == tsr or part.is_file():
                try:
                    writer.add_file(f"timestamps/{part.name}", part)
                except FileNotFoundError:
                    raise LockerError(_("a stored timestamp token is gone (locker verify says more)"),
                                      path=str(part)) from None
        copied.append(f"data/timestamps/{tsr.name}")
    return tuple(copied)


def _stamp(home: Home, opened: Any, writer: Any, digest_hex: str, name: str, urls: tuple[str, ...]) -> str:
    """A token over the tag manifest, stored in the dispute like every token (``timestamp.added``) and put
    in the bag beside the tag manifest: ``tagmanifest-sha256.txt.tsr`` (+ ``.pem``), in no manifest (they
    cannot list what stamps them)."""
    from . import stamp

    stamped = stamp.stamp_digest(home, opened.slug, digest_hex=digest_hex, subject=f"bundle:{name}", urls=urls)
    writer.add_unlisted(f"{STAMP_NAME}.tsr", stamped.file.read_bytes())
    pem = stamped.file.with_suffix(".pem")
    if pem.is_file():
        writer.add_unlisted(f"{STAMP_NAME}.pem", pem.read_bytes())
    return stamped.tsa


def _record(opened: Any, final: Path, made: _Made, lang: str, numbers: list[int]) -> None:
    with disputes.recording(opened) as session:
        custody.append(session.connection(), now_utc(), [domain.bundle_created(
            path=str(final), sha256=made.sha256, size=made.size, exhibits=numbers, pack_sha256=made.pack.sha256,
            tagmanifest_sha256=made.tagmanifest_sha256, custody_seq=made.custody_seq, lang=lang)])


def check(path: str) -> Any:
    """``locker verify --bundle``: the bundle checked with no home (:func:`locker.bundle.check.check_bundle`)."""
    from ..bundle.check import check_bundle

    return check_bundle(path)
