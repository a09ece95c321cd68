"""A file sent by a browser (``locker serve``), taken in as ``locker add`` takes a file.

The bytes arrive in pieces. Each piece is hashed and written, as it comes, to a temp file in
the dispute's own ``objects/`` folder (the place ``add`` stages its copies), so an upload is
never held whole in memory and never copied anywhere outside the dispute. :meth:`Receiver.finish`
then hands the copy to :func:`services.ingest.add_received`, which reads and records it
exactly as ``add`` does (same probe, same duplicate rule, same custody entry), with the
channel it came through. Several files in one request make a :class:`Batch`: each is read
as soon as it has arrived, and all are recorded together, as ``add`` records a folder. The name the browser gave is a label only: no path is ever made
from it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from .. import domain, store
from ..durable import SFR_WRITE, Writeback, remove_quietly, sync_range
from ..errors import UsageError
from ..i18n import _
from ..paths import Home
from ..values import clean_text
from .collect import Refused
from .ingest import Added, AddOptions, AddResult, add_read, add_received, read_received, reading
from .stage import StagedFile

DEFAULT_LIMIT = 4 * 1024 ** 3  # bytes per file, unless `locker serve --max-upload` says otherwise
NAME_MAX = 255


class TooLarge(UsageError):
    """An upload went past the size limit; nothing of it is kept."""


def upload_name(raw: str) -> str:
    """The name to record for what a browser sent as ``raw``: its last part (a dropped folder
    sends ``folder/file.jpg``), control characters dropped, at most NAME_MAX characters."""
    text = clean_text(raw).replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if ch >= " " and ch != "\x7f").strip()
    if text in ("", ".", ".."):
        text = "upload"
    return text[:NAME_MAX]


class Receiver:
    """One upload on its way into a dispute's store."""

    def __init__(self, home: Home, slug: str, name: str, *, limit: int = DEFAULT_LIMIT) -> None:
        self.home, self.slug, self.limit = home, slug, limit
        self.name = upload_name(name)
        ddir = home.dispute(slug)
        if not ddir.db.exists():
            raise UsageError(_("no dispute named {name}").format(name=repr(slug)))
        ddir.objects.mkdir(mode=0o700, exist_ok=True)
        self.tmp = store.temp_path(ddir.objects)
        try:
            self.fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as err:
            raise store.os_error(err, ddir.objects) from None
        self.digest = hashlib.sha256()
        self.size = 0
        self.closed = False
        self.prompt = False  # holding store.PROMPT_SWITCH (a large upload)
        self.writeback = Writeback(self.fd)  # as add does: the disk works while the upload arrives

    def write(self, chunk: bytes | memoryview) -> None:
        """One piece: hashed and written. Past the limit, the copy is removed and TooLarge raised."""
        if not chunk:
            return
        if self.size + len(chunk) > self.limit:
            self.abort()
            raise TooLarge(_("{name} is larger than the upload limit ({limit} bytes)").format(
                name=self.name, limit=self.limit))
        self.digest.update(chunk)
        view = memoryview(chunk)
        try:
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as err:
            self.abort()
            raise store.os_error(err, self.tmp.parent) from None
        self.size += len(chunk)
        if not self.prompt and self.size >= store.PIPELINE_MIN:
            self._prompt(True)
        try:
            self.writeback.wrote(len(chunk))
        except OSError as err:
            self.abort()
            raise store.os_error(err, self.tmp.parent) from None

    def _prompt(self, on: bool) -> None:
        """A large upload, like a large file's copy in add, has the interpreter hand the GIL on
        every 0.5 ms instead of 5 (store.PromptSwitch), held from PIPELINE_MIN bytes received until
        the upload is closed or dropped: the thread that hashes and writes, back from each call,
        would otherwise wait out the event loop's turns, which it takes back to back while the
        socket has bytes. Measured, 1 GiB over loopback, 6 runs each: 1.06-1.20x add with it;
        without, 1.11-1.76x (median 1.40), the writes alone taking 0.84-0.94 s in two of the runs
        instead of 0.26-0.32 s."""
        if on == self.prompt:
            return
        self.prompt = on
        if on:
            store.PROMPT_SWITCH.__enter__()
        else:
            store.PROMPT_SWITCH.__exit__()

    def abort(self) -> None:
        """Drop what was received (a broken connection, a refused upload)."""
        self._prompt(False)
        if not self.closed:
            self.closed = True
            os.close(self.fd)
        remove_quietly(self.tmp)

    def close(self) -> store.Staged | None:
        """The received copy, complete (None for an empty upload, which is dropped)."""
        self._prompt(False)
        if self.size == 0:
            self.abort()
            return None
        try:
            sync_range(self.fd, 0, 0, SFR_WRITE)  # start the writeback; add makes it durable before publishing
        finally:
            self.closed = True
            os.close(self.fd)
        return store.Staged(self.tmp, self.digest.hexdigest(), self.size)

    def finish(self, options: AddOptions = AddOptions(), channel: domain.Channel | None = None) -> AddResult:
        """Record the upload as an exhibit (or name the exhibit that holds the same bytes)."""
        return finish_all(self.home, self.slug, [self], options, channel).result


@dataclass(frozen=True)
class Finished:
    """What became of each upload of a batch, in the order they came."""

    result: AddResult  # as add reports it (its ``path`` of each file is its position in the batch, from 0)
    files: tuple[tuple[str, Added | None, str | None], ...]  # (name, what was recorded, or why not)


def finish_all(home: Home, slug: str, receivers: Sequence[Receiver], options: AddOptions = AddOptions(),
               channel: domain.Channel | None = None) -> Finished:
    """Record uploads that have all arrived: read, then recorded together as ``add`` records a folder
    (one flush to disk and one transaction for the group, instead of one per file)."""
    if channel is not None:
        options = dataclasses.replace(options, channel=channel)
    received: list[tuple[str, store.Staged]] = []
    refused: dict[int, str] = {}
    try:
        for i, receiver in enumerate(receivers):
            staged = receiver.close()
            if staged is None:
                refused[i] = _("empty file")
            else:
                received.append((f"{i}/{receiver.name}", staged))
    except BaseException:
        for receiver in receivers:
            receiver.abort()
        raise
    result = add_received(home, slug, received, options) if received else AddResult(slug, (), ())
    return _finished(slug, receivers, result, refused)


class Batch:
    """The uploads of one request (a multipart form), in the order they come. Each is read (probed
    for its type, time and metadata, as ``add`` reads a file) on a thread of its own as soon as its
    last byte has arrived, while the next ones are still arriving; :meth:`finish` then only has to
    record them, all together. The reading thread is what a folder's ``add`` does on its workers."""

    def __init__(self, home: Home, slug: str, *, limit: int = DEFAULT_LIMIT, options: AddOptions = AddOptions(),
                 channel: domain.Channel | None = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        if channel is not None:
            options = dataclasses.replace(options, channel=channel)
        self.home, self.slug, self.limit = home, slug, limit
        self.how = reading(home, options)
        self.receivers: list[Receiver] = []
        self.reads: dict[int, Future[StagedFile]] = {}
        self.refused: dict[int, str] = {}
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="locker-read")

    def receive(self, name: str) -> Receiver:
        """The next upload's receiver (its pieces go to its ``write``; then call :meth:`arrived`)."""
        receiver = Receiver(self.home, self.slug, name, limit=self.limit)
        self.receivers.append(receiver)
        return receiver

    def arrived(self) -> None:
        """The last upload is complete: its copy is closed and read on the reading thread."""
        i = len(self.receivers) - 1
        receiver = self.receivers[i]
        if receiver.closed or i in self.reads or i in self.refused:
            return
        staged = receiver.close()
        if staged is None:
            self.refused[i] = _("empty file")
        else:
            self.reads[i] = self.pool.submit(read_received, f"{i}/{receiver.name}", staged, self.how)

    def finish(self) -> Finished:
        """Record what arrived; each copy is published or removed."""
        try:
            if self.receivers:
                self.arrived()
            items = [self.reads[i].result() for i in sorted(self.reads)]
        except BaseException:
            self.abort()
            raise
        self.pool.shutdown()
        result = add_read(self.home, self.slug, items, self.how) if items else AddResult(self.slug, (), ())
        return _finished(self.slug, self.receivers, result, self.refused)

    def abort(self) -> None:
        """Nothing of the batch is kept (a broken connection, a refused upload)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        for receiver in self.receivers:
            receiver.abort()  # its copy is the one its reading had


def _finished(slug: str, receivers: Sequence[Receiver], result: AddResult, refused: dict[int, str]) -> Finished:
    """Each upload's outcome by its position (the ``path`` add reports is ``position/name``)."""
    added = {a.path.split("/", 1)[0]: a for a in result.added}
    errors = {e.path.split("/", 1)[0]: e.error for e in result.errors}
    files = tuple((r.name, added.get(str(i)), errors.get(str(i)) or refused.get(i))
                  for i, r in enumerate(receivers))
    shown = AddResult(slug, result.added, tuple(Refused(name, error) for name, _a, error in files if error),
                      result.notices, result.interrupted)
    return Finished(shown, files)
