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
from . import disputes
from . import export as exporting
from . import export_output as output
from .export_check import Check


@dataclass(frozen=True)
class BundleOptions:
    output: str | None = None  # a .zip file, or a folder for the dated name; default: the dispute's exports/
    lang: str | None = None  # the pack's language (zh | en); default: the profile's, else zh
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    stamp: bool = False  # a timestamp token over the tag manifest (the only network call)
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
    final = target(home, ddir, options.output, prof.tz, force=options.force)
    rows = exporting._read(opened, exporting.ExportOptions(include=options.include, exclude=options.exclude))
    chosen = list(rows.chosen)
    if final.parent == ddir.exports:
        output.clean_stale(ddir.exports)
    temp = final.with_name(f"{store.TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}-{final.name}")
    try:
        made = _write(home, opened, chosen, options, lang, prof, temp, dispute_document, progress)
        _record(opened, final, made, lang, [e.number for e in chosen])
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    try:
        output.place(temp, final, replace=options.force or not options.output)
    except OSError as err:
        temp.unlink(missing_ok=True)
        raise store._os_error(err, final) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    store.fsync_dir(final.parent)
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

    def write(self, data: bytes) -> int:
        if self._pending is not None:
            self._pending.result()
        data = bytes(data)
        self._pending = self._pool.submit(self.h.update, data)
        self.f.write(data)
        self.pos += len(data)
        return len(data)

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
           dispute_document: Callable[[Any], dict[str, Any]], progress: Any) -> _Made:
    from ..bundle.writer import BagWriter, original_member

    ddir = opened.dir
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb", buffering=1 << 20) as raw:
        out = _HashingOut(raw)
        writer = BagWriter(out, ddir.slug)  # type: ignore[arg-type]
        try:
            if progress is not None:
                progress.start(len(chosen), sum(e.size for e in chosen))
            damaged = []
            for e in chosen:
                try:
                    member = writer.add_file(original_member(e.number, e.original_name), ddir.object_path(e.sha256))
                except FileNotFoundError:
                    damaged.append(_("exhibit {number} ({name}): its original is missing from the locker").format(
                        number=e.number, name=e.original_name))
                    continue
                if member.sha256 != e.sha256:
                    damaged.append(_("exhibit {number} ({name}): its bytes differ from the recorded SHA-256 "
                                     "{recorded}… (now {found}…)").format(number=e.number, name=e.original_name,
                                                                         recorded=e.sha256[:12], found=member.sha256[:12]))
                if progress is not None:
                    progress.advance(e.size, e.original_name)
            if damaged:
                raise DamagedOriginal(_("bundle refused, it would hold originals that fail their check: {problems} "
                                        "(locker verify says more)").format(problems="; ".join(damaged)))
            if progress is not None and hasattr(progress, "stop"):
                progress.stop()
            pack = exporting.export(home, opened.slug, exporting.ExportOptions(
                lang=lang, include=options.include, exclude=options.exclude,
                checked={e.number: Check("ok") for e in chosen}))
            member = writer.add_file("pack.pdf", pack.path)
            if member.sha256 != pack.sha256:
                raise LockerError(_("the pack changed while it was copied into the bundle"), path=str(pack.path))
            chain, messages = _read_records(opened, chosen)
            writer.add_bytes("custody.jsonl", b"".join(custody.canonical(entry) + b"\n" for entry in chain))
            writer.add_bytes("dispute.json", _json(dispute_document(disputes.detail(home, opened.slug))))
            for number, doc in sorted(messages.items()):
                writer.add_bytes(f"messages/{number:03d}.json", _json(doc))
            tokens = _stored_tokens(opened, writer)
            for name in ("custody-entry.schema.json", "chat.schema.json"):
                writer.add_tag(f"schemas/{name}", _resource("schemas", name))
            for name in ("VERIFY.txt", "VERIFY.zh.txt"):
                writer.add_tag(name, _verify_text(name, ddir.slug))
            head = chain[-1] if chain else {"seq": 0, "hash": custody.GENESIS}
            finished = writer.finish(_bag_info(opened, prof, head))
            stamped_by = None
            if options.stamp:
                stamped_by = _stamp(home, opened, writer, finished.tagmanifest_sha256)
                tokens = (*tokens, "tagmanifest-sha256.txt.tsr")
        finally:
            writer.close()
        raw.flush()
        os.fsync(raw.fileno())
        sha256 = out.digest()
        size = out.pos
    return _Made(sha256, size, pack, finished.tagmanifest_sha256, finished.payload_oxum, int(head["seq"]),
                 tuple(tokens), stamped_by)


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
            found = chat.load(session, e.number)
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


def _stored_tokens(opened: Any, writer: Any) -> tuple[str, ...]:
    """The dispute's stored timestamp tokens, copied into data/timestamps/ (none until ``locker stamp``)."""
    return ()


def _stamp(home: Home, opened: Any, writer: Any, digest_hex: str) -> str | None:
    raise UsageError(_("--stamp needs the timestamp support of `locker stamp`, which this locker does not have yet"))


def _record(opened: Any, final: Path, made: _Made, lang: str, numbers: list[int]) -> None:
    with disputes.recording(opened) as session:
        custody.append(session.connection(), now_utc(), [domain.bundle_created(
            path=str(final), sha256=made.sha256, size=made.size, exhibits=numbers, pack_sha256=made.pack.sha256,
            tagmanifest_sha256=made.tagmanifest_sha256, custody_seq=made.custody_seq, lang=lang)])


def check(path: str) -> Any:
    """``locker verify --bundle``: the bundle checked with no home (:func:`locker.bundle.check.check_bundle`)."""
    from ..bundle.check import check_bundle

    return check_bundle(path)
