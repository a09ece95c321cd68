"""``locker add``: files and folders in, exhibits out.

The pipeline, per call:

1. collect — walk the paths (folders in sorted order) and refuse, with a
   reason, what is not a readable non-empty regular file;
2. stage — two worker threads copy each file into a temp file under
   ``objects/`` while hashing it (one pass over the bytes), then probe the
   copy for its type, time and metadata;
3. commit, in groups — one file-system sync makes the whole group durable,
   each object is renamed to its content address, and one short transaction
   writes the exhibit rows with their custody entries.

Only then is a file reported as added. Grouping the syncs and the
transactions is what keeps 2,000 screenshots close to the speed of ``cp -r``
plus ``sync``; an fsync and a commit per file runs at about three times that.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import stat
import sys
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .. import custody, db, store
from ..errors import READ_ONLY, InputRefused, StoreError, UsageError
from ..paths import Home
from ..search import index as search_index
from ..values import clean_text, now_utc, parse_capture_time, resolve_tz, zone_assumed
from . import chat, disputes, profile

KINDS = ("screenshot", "photo", "video", "audio", "chat", "document", "other")
GROUP_FILES = 256
GROUP_BYTES = 256 * 1024 * 1024
GROUP_SECONDS = 2.0
WORKERS = 2
AHEAD = 16  # staged files in flight beyond the one being committed
SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class AddOptions:
    kind: str | None = None
    title: str | None = None
    source: str | None = None
    purpose: str | None = None
    note: str | None = None
    captured_at: str | None = None  # as typed by the user
    me: str | None = None
    tz: str | None = None
    chat_format: str | None = None
    date_order: str | None = None  # "dmy", "mdy" or "ymd": a chat's day/month order (else the profile's)
    profile_date_order: str | None = None  # filled in by add() from the profile


@dataclass(frozen=True)
class Added:
    exhibit: int
    sha256: str
    size: int
    mime: str
    kind: str
    original_name: str
    captured_at: str | None
    captured_at_source: str | None
    duplicate: bool
    warnings: tuple[str, ...]
    path: str
    zone_assumed: str | None = None  # the zone put on a capture time that named none (see values.zone_assumed)


@dataclass(frozen=True)
class Refused:
    path: str
    error: str


@dataclass(frozen=True)
class AddResult:
    slug: str
    added: tuple[Added, ...]
    errors: tuple[Refused, ...]
    notices: tuple[str, ...] = ()
    interrupted: bool = False  # Ctrl-C: ``added`` is what was recorded before it

    @property
    def ok(self) -> bool:
        return not self.errors and not self.interrupted


class Progress(Protocol):
    def start(self, files: int, total_bytes: int) -> None: ...
    def advance(self, nbytes: int, name: str) -> None: ...


@dataclass
class _Candidate:
    path: Path
    size: int
    symlink_target: str | None = None  # the file a symbolic link named on the command line points to


@dataclass
class _Staged:
    candidate: _Candidate
    staged: store.Staged | None = None
    probe: Any = None
    chat: Any = None  # a chat.ChatImport for chat exports
    pages: tuple[str, ...] = ()  # the text layer of a PDF, for search
    warnings: tuple[str, ...] = ()
    error: str | None = None
    reported: int = 0  # bytes already shown on the progress bar while it was copied


@dataclass
class _Collected:
    files: list[_Candidate] = field(default_factory=list)
    errors: list[Refused] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def _kind_of_mode(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _stat_error(err: OSError) -> str:
    if err.errno == errno.ELOOP:
        return "symbolic link loop"
    if err.errno == errno.ENOENT:
        return "no such file or folder"
    if err.errno == errno.EACCES:
        return "permission denied"
    return err.strerror or str(err)


def _consider_file(path: Path, info: os.stat_result, out: _Collected, symlink_target: str | None = None) -> None:
    if not stat.S_ISREG(info.st_mode):
        out.errors.append(Refused(str(path), f"not a regular file ({_kind_of_mode(info.st_mode)})"))
    elif info.st_size == 0:
        out.errors.append(Refused(str(path), "empty file"))
    elif not os.access(path, os.R_OK):
        out.errors.append(Refused(str(path), "unreadable: permission denied"))
    else:
        out.files.append(_Candidate(path, info.st_size, symlink_target))


def _sorted_entries(folder: Path, out: _Collected) -> Any:
    try:
        return iter(sorted(os.scandir(folder), key=lambda e: e.name))
    except OSError as err:
        out.errors.append(Refused(str(folder), _stat_error(err)))
        return iter(())


OWN_FILE = "a file of the locker itself (inside its home {home}): not evidence"


def _inside(real: str, home: str | None) -> bool:
    """Is the resolved path ``real`` the locker home or something in it?"""
    return home is not None and (real == home or real.startswith(home.rstrip(os.sep) + os.sep))


def _walk(top: Path, out: _Collected, home: str | None = None) -> None:
    """Files and sub-folders together in name order, as a file list sorted by path reads.
    Iterative, so that no nesting depth can exhaust the stack."""
    stack = [_sorted_entries(top, out)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        path = Path(entry.path)
        try:
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                path.stat()  # raises ELOOP for a loop, ENOENT for a dangling link
                out.notices.append(f"{path}: skipped symbolic link inside a folder")
                continue
        except OSError as err:
            out.errors.append(Refused(str(path), _stat_error(err)))
            continue
        if entry.name in SKIP_NAMES or entry.name.startswith("._"):
            out.notices.append(f"{path}: skipped system file")
        elif stat.S_ISDIR(info.st_mode):
            if entry.name.startswith("."):
                out.notices.append(f"{path}: skipped hidden folder")
            elif _inside(os.path.realpath(path), home):
                out.errors.append(Refused(str(path), OWN_FILE.format(home=home)))
            else:
                stack.append(_sorted_entries(path, out))
        else:
            _consider_file(path, info, out)


def collect(paths: Sequence[str | os.PathLike[str]], home: Path | None = None) -> _Collected:
    """Expand the command line into files, in order; refuse what cannot be evidence,
    including the locker's own files (anything inside ``home``, however it is named)."""
    out = _Collected()
    home_real = os.path.realpath(home) if home is not None else None
    for raw in paths:
        path = Path(raw)
        try:
            info = path.stat()  # a symlink named on the command line is followed
            link = path.is_symlink()
        except OSError as err:
            out.errors.append(Refused(str(path), _stat_error(err)))
            continue
        real = os.path.realpath(path)
        if _inside(real, home_real):
            out.errors.append(Refused(str(path), OWN_FILE.format(home=home_real)))
        elif stat.S_ISDIR(info.st_mode):
            if link:
                out.notices.append(f"{path}: a symbolic link; followed to the folder {real}")
            _walk(path, out, home_real)
        else:
            _consider_file(path, info, out, real if link else None)
    return out


def _stage_one(candidate: _Candidate, objects: Path, tz: Any, options: AddOptions,
               progress: Progress | None = None) -> _Staged:
    from .. import media

    shown = [0]

    def advance(nbytes: int) -> None:  # a large file moves the bar while it is copied
        shown[0] += nbytes
        if progress is not None:
            progress.advance(nbytes, candidate.path.name)

    try:
        staged = store.stage(candidate.path, objects, sync=False, on_progress=advance)
    except InputRefused as err:
        return _Staged(candidate, error=err.message, reported=shown[0])
    try:
        found = media.probe(staged.tmp, clean_text(candidate.path.name), tz)
        found, body = _email(staged.tmp, found, candidate.path.name)
        warnings = _read_warnings(candidate, staged) + tuple(found.warnings)
        item = _Staged(candidate, staged=staged, probe=found, warnings=warnings, reported=shown[0])
        if body:
            item.pages = (body,)  # searchable like a PDF's text
        if found.mime == search_index.PDF_MIME:
            item.pages = search_index.pdf_pages(staged.tmp)
        forced = options.kind == "chat" or options.chat_format is not None
        if forced or (found.kind == "chat" and options.kind is None):
            _read_chat(item, tz, options)
        elif found.kind != "chat":
            item.warnings += _chat_like_warning(staged.tmp, found.mime)
    except BaseException:
        store.discard(staged)
        raise
    if item.error is not None:
        store.discard(staged)
        item.staged = None
    return item


def _email(path: Path, found: Any, name: str) -> tuple[Any, str]:
    """An e-mail (``.eml``) as a ``document``: its Date (with its zone) is the capture time, source
    ``email``; From/To/Subject and the attachments go to the metadata; returns its text body too."""
    from ..media.email import looks_like_email, read_email

    if not looks_like_email(path, found.mime, name):
        return found, ""
    mail = read_email(path)
    metadata = {**found.metadata, **mail.metadata}
    captured_at, source = found.captured_at, found.captured_at_source
    if mail.captured_at is not None:
        captured_at, source = mail.captured_at.isoformat(timespec="seconds"), "email"
        metadata.pop("captured_at_offset_assumed", None)
        metadata.pop("captured_at_tz", None)
    found = dataclasses.replace(found, kind="document", captured_at=captured_at, captured_at_source=source,
                                metadata=metadata, warnings=tuple(found.warnings) + tuple(mail.warnings))
    return found, mail.body


def _chat_like_warning(path: Path, mime: str) -> tuple[str, ...]:
    """A text file whose lines start like chat messages but that no chat format reads: say so."""
    from ..chats import FORMATS
    from ..media.chatsniff import chat_like

    found = chat_like(path, mime)
    if found is None:
        return ()
    return (f"looks like a chat export ({found[0]} of {found[1]} lines start with a date or time and a name) "
            "but matches no chat format this version reads, so no messages were read; if it is a chat, "
            "read it as one with --chat-format (locker reread DISPUTE N --chat-format FORMAT; formats: "
            f"{', '.join(FORMATS)})",)


def _read_warnings(candidate: _Candidate, staged: store.Staged) -> tuple[str, ...]:
    """What the user should know about how the file was read, before what it holds."""
    warnings = []
    if candidate.symlink_target is not None:
        # The path itself stays in the metadata: a warning is printed in the pack, a local path need not be.
        warnings.append("named by a symbolic link: the file it points to was stored (its path: symlink_target)")
    if staged.changed:
        warnings.append("changed while being read: its size or modification time moved during the copy; "
                        f"stored as read ({staged.size} bytes, hashed as stored)")
    return tuple(warnings)


def _read_chat(item: _Staged, tz: Any, options: AddOptions) -> None:
    from ..chats import ChatError
    from . import chat

    assert item.staged is not None
    try:
        item.chat = chat.read(item.staged.tmp, tz=tz, me=options.me, fmt=options.chat_format,
                              date_order=options.date_order or options.profile_date_order,
                              date_order_source="option" if options.date_order else "profile")
    except ChatError as err:
        item.warnings += (f"could not read it as a chat: {err.message}",)
    else:
        item.warnings += item.chat.warnings


def add(
    home: Home,
    ref: str,
    paths: Sequence[str | os.PathLike[str]],
    options: AddOptions = AddOptions(),
    progress: Progress | None = None,
) -> AddResult:
    if not paths:
        raise UsageError("name at least one file or folder to add")
    if options.kind is not None and options.kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}, not {options.kind!r}")
    ddir = disputes.locate(home, ref)
    profile.check_date_order(options.date_order)
    user = profile.load(home)
    tz = resolve_tz(options.tz or user.tz)
    if options.date_order is None and user.date_order in profile.DATE_ORDERS:
        options = dataclasses.replace(options, profile_date_order=user.date_order)
    user_time = parse_capture_time(options.captured_at, tz) if options.captured_at else None

    # Opening the database imports SQLAlchemy and SQLModel (a few hundred ms):
    # do it on a thread of its own while the first files are hashed.
    opener = ThreadPoolExecutor(max_workers=1, thread_name_prefix="locker-open")
    engine_future = opener.submit(db.engine_for, ddir.db)
    opener.shutdown(wait=False)
    opened = _LazyOpened(ddir, engine_future)

    collected = collect(paths, home.root)
    objects = ddir.objects
    if not os.access(ddir.root, os.W_OK):  # before any file is read: one line, not one error per file
        raise StoreError(READ_ONLY, path=str(ddir.root))
    objects.mkdir(mode=0o700, exist_ok=True)
    store.clean_stale_temps(objects)
    if progress:
        progress.start(len(collected.files), sum(c.size for c in collected.files))

    added: list[Added] = []
    errors = list(collected.errors)
    group: list[_Staged] = []
    group_bytes = 0
    group_started = time.monotonic()
    pending: deque[Future[_Staged]] = deque()
    todo = iter(collected.files)

    stopped: StoreError | None = None
    interrupted = False
    with store.ObjectsLock(objects, exclusive=False), \
            ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="locker-ingest") as pool:
        try:
            for candidate in _take(todo, AHEAD):
                pending.append(pool.submit(_stage_one, candidate, objects, tz, options, progress))
            while pending:
                item = pending.popleft().result()
                for candidate in _take(todo, 1):
                    pending.append(pool.submit(_stage_one, candidate, objects, tz, options, progress))
                if progress:
                    progress.advance(item.candidate.size - item.reported, item.candidate.path.name)
                if item.error is not None:
                    errors.append(Refused(str(item.candidate.path), item.error))
                    continue
                group.append(item)
                group_bytes += item.candidate.size
                if (len(group) >= GROUP_FILES or group_bytes >= GROUP_BYTES
                        or time.monotonic() - group_started >= GROUP_SECONDS):
                    _commit(opened, group, options, user_time, added)
                    group, group_bytes, group_started = [], 0, time.monotonic()
            if group:
                _commit(opened, group, options, user_time, added)
                group = []
        except BaseException:
            for future in pending:
                future.cancel()
            for future in pending:
                if not future.cancelled():
                    try:
                        leftover = future.result()
                    except BaseException:
                        continue
                    if leftover.staged:
                        store.discard(leftover.staged)
            for item in group:
                if item.staged:
                    store.discard(item.staged)
            if isinstance(sys.exc_info()[1], KeyboardInterrupt):
                interrupted = True  # report what was recorded before the Ctrl-C; the rest was not added
            elif not (added and isinstance(sys.exc_info()[1], StoreError)):
                raise
            else:
                # The disk failed after earlier groups were recorded: report those, and what was not added.
                stopped = sys.exc_info()[1]  # type: ignore[assignment]
    if interrupted:
        return AddResult(ddir.slug, tuple(added), tuple(errors), tuple(collected.notices), interrupted=True)
    engine_future.result()
    if stopped is not None:
        errors.append(_not_added(collected.files, added, errors, stopped))  # a database that cannot be opened fails the call even with nothing to add
    order = {str(c.path): i for i, c in enumerate(collected.files)}
    errors.sort(key=lambda e: order.get(e.path, -1))
    return AddResult(ddir.slug, tuple(added), tuple(errors), tuple(collected.notices))


def _not_added(files: list[_Candidate], added: list[Added], errors: list[Refused], err: StoreError) -> Refused:
    """One error for a storage failure part-way: names the first file not recorded and counts the rest."""
    done = {a.path for a in added} | {e.path for e in errors}
    left = [c for c in files if clean_text(str(c.path)) not in done and str(c.path) not in done]
    where = f" ({err.path})" if err.path else ""
    if not left:
        return Refused(err.path or "", f"{err.message}{where}")
    more = f", nor the {len(left) - 1} file(s) after it" if len(left) > 1 else ""
    return Refused(str(left[0].path), f"not added{more}: {err.message}{where}")


@dataclass(frozen=True)
class _LazyOpened:
    """A dispute whose database is being opened on another thread."""

    dir: Any
    future: Future[Any]

    @property
    def engine(self) -> Any:
        return self.future.result()


def _take(iterator: Any, n: int) -> list[Any]:
    out = []
    for _ in range(n):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out


def _commit(opened: Any, group: list[_Staged], options: AddOptions, user_time: str | None,
            added: list[Added]) -> None:
    """Make a group durable, publish its objects, then record them in one transaction; once it
    has committed, the group goes onto ``added`` (so that a Ctrl-C right after still reports it)."""
    from sqlalchemy import insert, select

    from ..models import Exhibit

    objects = opened.dir.objects
    store.make_durable([item.staged for item in group if item.staged], objects)
    shards = set()
    try:
        for item in group:
            assert item.staged is not None
            final = opened.dir.object_path(item.staged.sha256)
            store.publish(item.staged, final)
            shards.add(final.parent)
    except BaseException:
        for item in group:
            if item.staged:
                store.discard(item.staged)
        raise
    store.fsync_dirs([*sorted(shards), objects])

    now = now_utc()
    results: list[Added] = []
    with disputes.recording(opened) as session:
        conn = session.connection()
        shas = sorted({item.staged.sha256 for item in group if item.staged})
        known = {row.sha256: row for row in conn.execute(select(Exhibit.__table__).where(Exhibit.sha256.in_(shas)))}
        number = (conn.exec_driver_sql("SELECT COALESCE(MAX(number), 0) FROM exhibit").scalar() or 0) + 1
        rows: list[dict] = []
        entries: list[tuple[str, dict]] = []
        chats: list[tuple[int, list[Any]]] = []
        pages: dict[int, tuple[str, ...]] = {}
        for item in group:
            staged, found = item.staged, item.probe
            assert staged is not None
            path = clean_text(str(item.candidate.path))
            if staged.sha256 in known:
                row = known[staged.sha256]
                results.append(Added(
                    row.number, row.sha256, row.size, row.mime, row.kind, row.original_name,
                    row.captured_at, row.captured_at_source, True, tuple(json.loads(row.warnings)), path,
                    zone_assumed(row.captured_at_source, row.metadata),
                ))
                continue
            chat_import = item.chat
            kind = options.kind or ("chat" if chat_import else found.kind)
            if kind == "chat" and found.kind == "chat" and chat_import is None:
                kind = "other"  # it looked like a chat but could not be read as one (see its warning)
            captured_at, source = found.captured_at, found.captured_at_source
            if chat_import and chat_import.captured_at:
                captured_at, source = chat_import.captured_at, "chat"
            if user_time:
                captured_at, source = user_time, "user"
            metadata = dict(found.metadata)
            if item.candidate.symlink_target is not None:
                metadata["symlink_target"] = clean_text(item.candidate.symlink_target)
            if chat_import:
                metadata.update(chat_import.metadata)
            warnings = chat.with_reread_command(item.warnings, opened.dir.slug, number)  # the exact reread command
            row = {
                "number": number, "sha256": staged.sha256, "size": staged.size, "mime": found.mime,
                "kind": kind, "original_name": clean_text(item.candidate.path.name), "title": options.title,
                "source": options.source, "purpose": options.purpose, "note": options.note,
                "captured_at": captured_at, "captured_at_source": source, "ingested_at": now,
                "metadata": json.dumps(metadata, ensure_ascii=False, sort_keys=True),
                "warnings": json.dumps(list(warnings), ensure_ascii=False),
                "withdrawn": False, "withdrawn_reason": None,
            }
            rows.append(row)
            payload = exhibit_payload(row)
            if chat_import:
                payload["messages"] = {"count": len(chat_import.messages), "sha256": chat_import.digest}
                chats.append((number, chat_import.messages))
            if item.pages:
                pages[number] = item.pages
            entries.append(("exhibit.added", payload))
            known[staged.sha256] = _RowView(row)
            results.append(Added(
                number, staged.sha256, staged.size, found.mime, kind, row["original_name"],
                captured_at, source, False, warnings, path, zone_assumed(source, metadata),
            ))
            number += 1
        if rows:
            conn.execute(insert(Exhibit.__table__), rows)
            for number_, messages in chats:
                chat.insert(conn, number_, messages)
            search_index.index_exhibits(conn, rows, pages)
            conn.exec_driver_sql("UPDATE dispute SET updated_at = ?", (now,))
            custody.append(conn, now, entries)
    added.extend(results)


class _RowView:
    """Attribute access to a row dict written earlier in the same group."""

    def __init__(self, row: dict) -> None:
        self.__dict__.update(row)


PAYLOAD_FIELDS = (
    "number", "sha256", "size", "mime", "kind", "original_name", "title", "source", "purpose", "note",
    "captured_at", "captured_at_source", "ingested_at",
)


def exhibit_payload(row: dict) -> dict:
    """What the custody entry of an added exhibit records (and what verify checks rows against)."""
    payload = {k: row[k] for k in PAYLOAD_FIELDS}
    payload["exhibit"] = payload.pop("number")
    return payload
