"""The second step of ``locker add``: one file copied into ``objects/`` while it is hashed, then
probed for its type, time and metadata, and read as a chat when it is one; and where that is done
(:class:`Stagers`: on threads, or for many small files in forked processes).
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import BrokenExecutor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .. import store, warncodes
from ..errors import InputRefused, WorkerLost
from ..i18n import _
from ..values import clean_text
from ..words import PDF_MIME, is_text_mime
from .collect import Candidate

WORKERS = 2
PROCESSES_MIN = 64  # this many files under store.PIPELINE_MIN are staged in processes (see Stagers)
BATCH = 8  # small files per task sent to a stager process


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
    channel: Any = None  # a domain.Channel when the file came another way than the command line (the web app)


class Progress(Protocol):
    def start(self, files: int, total_bytes: int) -> None: ...
    def advance(self, nbytes: int, name: str) -> None: ...


@dataclass
class StagedFile:
    """One file on its way in: its temp copy (None once refused) and what was read from it."""

    candidate: Candidate
    staged: store.Staged | None = None
    probe: Any = None
    chat: Any = None  # a chat.ChatImport for chat exports
    pages: tuple[str, ...] = ()  # the text layer of a PDF, for search
    warnings: tuple[str, ...] = ()
    error: str | None = None
    reported: int = 0  # bytes already shown on the progress bar while it was copied


def stage_one(candidate: Candidate, objects: Path, tz: Any, options: AddOptions,
              progress: Progress | None = None) -> StagedFile:
    """Copy and hash one file into a temp file under ``objects``, then read what it is. A file
    that cannot be read comes back with ``error`` set and nothing left on disk."""
    shown = [0]

    def advance(nbytes: int) -> None:  # a large file moves the bar while it is copied
        shown[0] += nbytes
        if progress is not None:
            progress.advance(nbytes, candidate.path.name)

    from ..media.sniff import HEAD_SIZE  # the start of the file the probe looks at: kept from the copy

    try:
        staged = store.stage(candidate.path, objects, sync=False, on_progress=advance, head=HEAD_SIZE)
    except InputRefused as err:
        return StagedFile(candidate, error=err.message, reported=shown[0])
    return read_staged(candidate, staged, tz, options, reported=shown[0])


def read_staged(candidate: Candidate, staged: store.Staged, tz: Any, options: AddOptions,
                reported: int = 0) -> StagedFile:
    """Read what a copied file is (``stage_one``'s second half; the web app's upload arrives
    already copied, see services.upload). A file that cannot be read comes back with ``error``
    set and its copy removed. The start of the file the copy kept (``staged.head``) is probed,
    and left out of what is handed on (a stager process sends it back to the add)."""
    from .. import media

    head = staged.head or None
    if head is not None:
        staged = dataclasses.replace(staged, head=b"")
    try:
        found = media.probe(staged.tmp, clean_text(candidate.path.name), tz, head)
        found, body = _email(staged.tmp, found, candidate.path.name)
        warnings = _read_warnings(candidate, staged) + tuple(found.warnings)
        item = StagedFile(candidate, staged=staged, probe=found, warnings=warnings, reported=reported)
        if body:
            item.pages = (body,)  # searchable like a PDF's text
        if found.mime == PDF_MIME:
            from ..search import index as search_index

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
    if not is_text_mime(mime):  # a picture or a video need not load the chat readers
        return ()
    from ..chats import FORMATS, chat_like

    found = chat_like(path, mime)
    if found is None:
        return ()
    return (warncodes.make("chat.looks_like", count=found[0], total=found[1],
                           command="locker reread DISPUTE N --chat-format FORMAT", formats=", ".join(FORMATS)),)


def _read_warnings(candidate: Candidate, staged: store.Staged) -> tuple[str, ...]:
    """What the user should know about how the file was read, before what it holds."""
    warnings: list[str] = []
    if candidate.symlink_target is not None:
        # The path itself stays in the metadata: a warning is printed in the pack, a local path need not be.
        warnings.append(warncodes.make("read.symlink"))
    if staged.changed:
        warnings.append(warncodes.make("read.changed", size=staged.size))
    return tuple(warnings)


def _read_chat(item: StagedFile, tz: Any, options: AddOptions) -> None:
    from ..chats import ChatError
    from . import chat

    assert item.staged is not None
    try:
        item.chat = chat.read(item.staged.tmp, tz=tz, me=options.me, fmt=options.chat_format,
                              date_order=options.date_order or options.profile_date_order,
                              date_order_source="option" if options.date_order else "profile")
    except ChatError as err:
        item.warnings += (warncodes.make("chat.unreadable", reason=warncodes.parse(err.message)),)
    else:
        item.warnings += item.chat.warnings


Staging = tuple[list[StagedFile], Exception | None]  # the files staged, in order, and what stopped the rest


def discard_items(items: Sequence[StagedFile]) -> None:
    """Remove the temp copies of files staged and not recorded."""
    for item in items:
        if item.staged:
            store.discard(item.staged)


class Stagers:
    """Where files are staged: each on one of WORKERS threads, or, for a folder of many small
    files on Linux, in batches in WORKERS forked processes.

    Staging a small file takes some 0.3 ms of Python around its copy and hash (opening it, the
    temp name, the probe), and threads take turns holding the interpreter lock for that: on two
    cores, two staging threads kept each core about 60 % busy, and handing the lock back and forth
    cost 0.4 CPU-s per 2,000 files. Measured on 2,000 phone-size files (1.4 GB, 2 cores), staging
    and probing alone: 1.48-1.86 s on two threads, 1.27-1.32 s in two processes, 2.24 s on one
    thread. A file of store.PIPELINE_MIN or more stays on a thread, where its copy reports
    progress and pipelines its own reading and writing.

    The processes are forked when this is made, before the opening thread or a progress bar
    starts a thread, so that no lock another thread holds is copied into a child; in a process
    where another thread runs already (a program that calls add from a thread of its own), the
    files are staged on threads. They ignore Ctrl-C, which the terminal sends to each of them:
    the add stops, and what they staged is discarded as it would have been on a thread (see
    ingest._discard).
    """

    def __init__(self, files: Sequence[Candidate]) -> None:
        self.threads = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="locker-ingest")
        self.processes: Any = None
        small = sum(1 for c in files if c.size < store.PIPELINE_MIN)
        if small >= PROCESSES_MIN and sys.platform == "linux" and threading.active_count() == 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from .. import media

            media.warm()  # once, here, rather than in each process (60 ms of imports and libmagic's database)
            pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=multiprocessing.get_context("fork"),
                                       initializer=_stager_started)
            try:
                pool.submit(int)  # forks them all now: a pool of forked processes starts all at once
            except OSError:  # no process can be started (a limit on processes): the threads do it all
                pool.shutdown(wait=False)
            else:
                self.processes = pool

    def batches(self, files: Iterator[Candidate]) -> Iterator[list[Candidate]]:
        """The files in order, in the batches they are staged in: one file for a thread, up to
        BATCH small files for a process (a task sent to a process costs its pickling and wake-ups)."""
        batch: list[Candidate] = []
        for candidate in files:
            if self.processes is None or candidate.size >= store.PIPELINE_MIN:
                if batch:
                    yield batch
                    batch = []
                yield [candidate]
                continue
            batch.append(candidate)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def submit(self, batch: list[Candidate], objects: Path, tz: Any, options: AddOptions,
               progress: Progress | None) -> Future[Staging]:
        if self.processes is not None and batch[0].size < store.PIPELINE_MIN:
            # A small file reports no progress while it is copied: the bar moves once it is staged.
            try:
                return self.processes.submit(stage_batch, batch, objects, tz, options)  # type: ignore[no-any-return]
            except BrokenExecutor as err:
                raise _lost(err) from None
        return self.threads.submit(stage_batch, batch, objects, tz, options, progress)

    def __enter__(self) -> Stagers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.threads.shutdown(wait=True, cancel_futures=True)
        if self.processes is not None:
            self.processes.shutdown(wait=True, cancel_futures=True)


def _stager_started() -> None:
    """A stager process: Ctrl-C is for the add to handle (the terminal sends it to every process
    of the group); the objects it was forked with are left out of its garbage collections, and its
    collector runs even though the add's process holds its own back (see ingest._add): a stager
    stages for as long as the add lasts."""
    import gc
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.freeze()
    gc.enable()


def stage_batch(batch: list[Candidate], objects: Path, tz: Any, options: AddOptions,
                progress: Progress | None = None) -> Staging:
    """stage_one for each file, in order, up to the first that fails (a full disk): the files
    before it are recorded, as they would have been had each been staged on its own."""
    done: list[StagedFile] = []
    try:
        for candidate in batch:
            done.append(stage_one(candidate, objects, tz, options, progress))
    except Exception as err:
        return done, err
    except BaseException:
        discard_items(done)
        raise
    return done, None


def staged_batch(future: Future[Staging]) -> Staging:
    """The batch's staged files. A stager process that died (killed, out of memory, a crash in a
    native library) fails its files with a WorkerLost, which the add reports like a disk error."""
    try:
        return future.result()
    except BrokenExecutor as err:
        raise _lost(err) from None


def _lost(err: BrokenExecutor) -> WorkerLost:
    return WorkerLost(_("a process staging the files ended unexpectedly ({reason})").format(reason=err))
