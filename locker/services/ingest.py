"""``locker add``: files and folders in, exhibits out.

The pipeline, per call:

1. collect — walk the paths (folders in sorted order) and refuse, with a
   reason, what is not a readable non-empty regular file;
2. stage — two workers (threads; for many small files, forked processes: see
   stage.Stagers) copy each file into a temp file under ``objects/`` while
   hashing it (one pass over the bytes), then probe the copy for its type,
   time and metadata;
3. commit, in groups — one file-system sync makes the whole group durable,
   each object is renamed to its content address, and one short transaction
   writes the exhibit rows with their custody entries (services.exhibit_rows).

Only then is a file reported as added. Grouping the syncs and the
transactions is what keeps 2,000 screenshots close to the speed of ``cp -r``
plus ``sync``; an fsync and a commit per file runs at about three times that.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import store
from ..errors import READ_ONLY, LockerError, StoreError, UsageError, WorkerLost
from ..gcpause import collector_paused
from ..i18n import _
from ..paths import DisputeDir, Home
from ..values import clean_text, now_utc, parse_capture_time, resolve_tz
from ..words import DATE_ORDERS
from ..words import KINDS as KINDS  # also read as ingest.KINDS by services.search
from . import exhibit_rows, profile
from .collect import Candidate, Refused, collect
from .exhibit_rows import Added as Added
from .stage import AddOptions, Progress, StagedFile, Stagers, Staging, discard_items, read_staged, staged_batch

# What an add needs only once its first files are copied (the database, the custody log, the
# probe) is imported on the opening thread while they are: see _open. Measured (loaded machine):
# the copy of a 1 GiB file began 0.20-0.27 s after the command started instead of 0.35-0.38 s,
# and its probe took 1-2 ms instead of 30-60 ms of first imports and libmagic's database.
_LATER = ("locker.db", "locker.custody", "locker.domain", "locker.search.index",
          "locker.services.chat", "locker.services.edit", "locker.media.email")

__all__ = ["AddOptions", "AddResult", "Added", "Progress", "Reading", "Refused", "add", "add_read", "add_received",
           "collect", "read_received", "reading"]

GROUP_FILES = 256
GROUP_BYTES = 256 * 1024 * 1024
GROUP_SECONDS = 2.0
TAIL_FILES = 32  # once every file is handed out, a group this big is committed while the rest are staged


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


def add(
    home: Home,
    ref: str,
    paths: Sequence[str | os.PathLike[str]],
    options: AddOptions = AddOptions(),
    progress: Progress | None = None,
) -> AddResult:
    """Add the files (and the files in the folders) to the dispute; see the module's docstring."""
    if not paths:
        raise UsageError(_("name at least one file or folder to add"))
    if options.kind is not None and options.kind not in KINDS:
        raise UsageError(_("kind must be one of {choices}, not {kind!r}").format(choices=', '.join(KINDS), kind=options.kind))
    ddir = home.locate(ref)
    options, tz, user_time = _settings(home, options)

    # The database is opened (and migrated, if it must be) on a thread of its own while the
    # first files are hashed. Plain sqlite3: an add never imports SQLAlchemy or SQLModel.
    opened = _LazyOpened(ddir)
    try:
        return _add(home, ddir, opened, paths, options, tz, user_time, progress)
    finally:
        opened.close()


def _open(path: Path) -> sqlite3.Connection:
    """The dispute's database, opened for writing; then what the commits and the probe will need,
    imported while the first files are copied (the copy releases the interpreter lock)."""
    import importlib

    from .. import db

    con = db.connect_writer(path)
    for name in _LATER:
        importlib.import_module(name)
    from .. import media

    media.warm()
    return con


def _settings(home: Home, options: AddOptions) -> tuple[AddOptions, Any, str | None]:
    """The options completed from the profile, the time zone, and the capture time the user gave."""
    profile.check_date_order(options.date_order)
    user = profile.load(home)
    tz = resolve_tz(options.tz or user.tz)
    if options.date_order is None and user.date_order in DATE_ORDERS:
        options = dataclasses.replace(options, profile_date_order=user.date_order)
    user_time = parse_capture_time(options.captured_at, tz) if options.captured_at else None
    return options, tz, user_time


@dataclass(frozen=True)
class Reading:
    """How an add reads its files: the options completed from the profile, the time zone, and the
    capture time the user gave (parsed)."""

    options: AddOptions
    tz: Any
    user_time: str | None


def reading(home: Home, options: AddOptions = AddOptions()) -> Reading:
    return Reading(*_settings(home, options))


def read_received(name: str, staged: store.Staged, how: Reading) -> StagedFile:
    """What a file that arrived already copied and hashed is (``add``'s probe, duplicate rules and
    warnings are the same); a file that cannot be read comes back with ``error`` and no copy."""
    return read_staged(Candidate(Path(name), staged.size), staged, how.tz, how.options)


def add_received(home: Home, slug: str, received: Sequence[tuple[str, store.Staged]],
                 options: AddOptions = AddOptions()) -> AddResult:
    """Files that arrived already copied and hashed into the dispute's ``objects/`` folder (a
    browser's upload, see services.upload), each with the name it came under: read and
    recorded exactly as :func:`add` reads and records a file. Each copy is published or removed."""
    try:
        how = reading(home, options)
        items = [read_received(name, staged, how) for name, staged in received]
    except BaseException:
        for _name, staged in received:
            store.discard(staged)
        raise
    return add_read(home, slug, items, how)


def add_read(home: Home, slug: str, items: Sequence[StagedFile], how: Reading) -> AddResult:
    """Files copied into the dispute's ``objects/`` and read already (:func:`read_received`): recorded
    in groups as :func:`add` records them, in their order. Each copy is published or removed."""
    ddir = home.dispute(slug)
    left = list(items)
    try:
        from .. import db

        opened = _LazyOpened(ddir)
        opened.future.set_result(db.connect_writer(ddir.db))
    except BaseException:
        discard_items(left)
        raise
    run = _Run(opened, how.options, how.user_time)
    try:
        with store.ObjectsLock(ddir.objects, exclusive=False):
            while left:
                item = left.pop(0)
                if item.error is not None:
                    run.errors.append(Refused(str(item.candidate.path), item.error))
                else:
                    run.take(item)
            run.flush()
    except BaseException:
        discard_items(run.group)
        discard_items(left)
        raise
    finally:
        opened.close()
    return AddResult(ddir.slug, tuple(run.added), tuple(run.errors))


def _add(home: Home, ddir: DisputeDir, opened: _LazyOpened, paths: Sequence[str | os.PathLike[str]],
         options: AddOptions, tz: Any, user_time: str | None, progress: Progress | None) -> AddResult:
    collected = collect(paths, home.root)
    if not os.access(ddir.root, os.W_OK):  # before any file is read: one line, not one error per file
        raise StoreError(_(READ_ONLY), path=str(ddir.root))
    ddir.objects.mkdir(mode=0o700, exist_ok=True)
    store.clean_stale_temps(ddir.objects)
    run = _Run(opened, options, user_time, errors=list(collected.errors),
               bulk=sum(c.size for c in collected.files) >= store.BULK_BYTES)
    stopped: LockerError | None = None
    try:
        with Stagers(collected.files) as stagers:  # forks its processes, if any, before a thread starts
            opened.start()
            if progress:
                progress.start(len(collected.files), sum(c.size for c in collected.files))
            # With processes staging, this process only records what they send back: objects that
            # live until the add returns. Left on, the collector ran 125 times in a 2,000-file add
            # (34-39 ms), the last time over every object of the process while the result was
            # printed (10-13 ms); held back here, 73 times (11 ms), at start-up and while printing.
            with collector_paused() if stagers.processes is not None else nullcontext():
                _stream(run, stagers, collected.files, tz, progress)
    except KeyboardInterrupt:  # report what was recorded before the Ctrl-C; the rest was not added
        return AddResult(ddir.slug, tuple(run.added), tuple(run.errors), tuple(collected.notices), interrupted=True)
    except (StoreError, WorkerLost) as err:
        if not run.added:
            raise
        stopped = err  # the disk failed after earlier groups were recorded: report those, and what was not
    opened.future.result()  # a database that cannot be opened fails the call even with nothing to add
    errors = run.errors
    if stopped is not None:
        errors.append(_not_added(collected.files, run.added, errors, stopped))
    order = {str(c.path): i for i, c in enumerate(collected.files)}
    errors.sort(key=lambda e: order.get(e.path, -1))
    return AddResult(ddir.slug, tuple(run.added), tuple(errors), tuple(collected.notices))


@dataclass
class _LazyOpened:
    """A dispute whose database is opened on a thread of its own from :meth:`start` on (which
    an add calls once its stager processes, if any, are forked: see Stagers)."""

    dir: DisputeDir
    future: Future[sqlite3.Connection] = field(default_factory=Future)

    def _idle(self) -> bool:
        """Neither opening nor given a connection already (as add_read gives it)."""
        return not (self.future.running() or self.future.done())

    def start(self) -> None:
        if self._idle() and self.future.set_running_or_notify_cancel():
            threading.Thread(target=self._opening, name="locker-open", daemon=True).start()

    def _opening(self) -> None:
        try:
            self.future.set_result(_open(self.dir.db))
        except BaseException as err:
            self.future.set_exception(err)

    @property
    def con(self) -> sqlite3.Connection:
        self.start()
        return self.future.result()

    def close(self) -> None:
        """Close the connection once it is open (waiting for it); an opening that failed is
        reported where the connection is used, not here."""
        if self._idle():
            return  # never started
        try:
            con = self.future.result()
        except BaseException:
            return
        con.close()


@dataclass
class _Run:
    """One add call's files on their way from staging into committed groups."""

    opened: _LazyOpened
    options: AddOptions
    user_time: str | None
    added: list[Added] = field(default_factory=list)
    errors: list[Refused] = field(default_factory=list)
    group: list[StagedFile] = field(default_factory=list)
    group_bytes: int = 0
    group_started: float = field(default_factory=time.monotonic)
    bulk: bool = False  # drop each group's objects from the page cache once committed (see _commit)

    def take(self, item: StagedFile) -> None:
        """One staged file into the group; the group is committed once it is big or old enough."""
        self.group.append(item)
        self.group_bytes += item.candidate.size
        if (len(self.group) >= GROUP_FILES or self.group_bytes >= GROUP_BYTES
                or time.monotonic() - self.group_started >= GROUP_SECONDS):
            self.flush()

    def flush(self) -> None:
        if self.group:
            _commit(self.opened, self.group, self.options, self.user_time, self.added, self.bulk)
        self.group, self.group_bytes, self.group_started = [], 0, time.monotonic()


def _stream(run: _Run, stagers: Stagers, files: list[Candidate], tz: Any, progress: Progress | None) -> None:
    """Stage the files (see Stagers) up to a group's worth ahead of the one being taken, and commit
    them in groups, in order. On any exception, the staged files not recorded are discarded first.

    A group ahead, so that while this thread commits a group (its sync, renames and transaction:
    70-110 ms for 256 small files) the stagers still have files to copy. With 16 ahead they stood
    idle through every commit: a 2,000-file add took 2.92, 2.91, 3.06, 3.06 s against 2.46, 2.64,
    2.98, 2.84 s, run in pairs on a loaded machine (benchmarks/README.md, session 10).

    Once every file is handed out, groups of TAIL_FILES are committed while the last files are
    staged: the commit after the last file is the only one nothing overlaps. For 2,000 files it
    took 47-77 ms (208 files) and now 7-9 ms (24 files), in four alternating pairs (session 16)."""
    objects = run.opened.dir.objects
    pending: deque[Future[Staging]] = deque()
    todo = stagers.batches(iter(files))
    ahead = 0  # files submitted and not yet taken
    handed_out = False  # every file is submitted: what is left is staging

    def submit() -> None:
        nonlocal ahead, handed_out
        while ahead < GROUP_FILES:  # at least one batch is submitted, whatever its size
            batch = next(todo, None)
            if batch is None:
                handed_out = True
                return
            pending.append(stagers.submit(batch, objects, tz, run.options, progress))
            ahead += len(batch)

    loose: list[StagedFile] = []  # staged, taken from `pending`, not yet in the group
    with store.ObjectsLock(objects, exclusive=False):
        try:
            submit()
            while pending:
                staged, failure = staged_batch(pending[0])
                loose = list(staged)
                pending.popleft()
                ahead -= len(loose)  # the whole batch, unless one failed, which stops the add
                if failure is None:
                    submit()
                while loose:  # an item interrupted in between is discarded twice, which is harmless
                    item = loose[0]
                    if progress:
                        progress.advance(item.candidate.size - item.reported, item.candidate.path.name)
                    if item.error is not None:
                        run.errors.append(Refused(str(item.candidate.path), item.error))
                    else:
                        run.take(item)
                    loose.pop(0)
                if failure is not None:
                    raise failure
                if handed_out and pending and len(run.group) >= TAIL_FILES:
                    run.flush()  # while the last files are staged, so that the last commit is small
            run.flush()
        except BaseException:
            discard_items(loose)
            _discard(pending, run.group)
            raise


def _discard(pending: deque[Future[Staging]], group: list[StagedFile]) -> None:
    """Remove the temp files of what was staged but not recorded (cancelling what has not started)."""
    for future in pending:
        future.cancel()
    for future in pending:
        if not future.cancelled():
            try:
                leftover, _failure = future.result()
            except BaseException:
                continue
            discard_items(leftover)
    discard_items(group)


def _not_added(files: list[Candidate], added: list[Added], errors: list[Refused], err: LockerError) -> Refused:
    """One error for a storage failure part-way: names the first file not recorded and counts the rest."""
    done = {a.path for a in added} | {e.path for e in errors}
    left = [c for c in files if clean_text(str(c.path)) not in done and str(c.path) not in done]
    where = f" ({err.path})" if err.path else ""
    if not left:
        return Refused(err.path or "", f"{err.message}{where}")
    more = f", nor the {len(left) - 1} file(s) after it" if len(left) > 1 else ""
    return Refused(str(left[0].path), f"not added{more}: {err.message}{where}")


# --------------------------------------------------------------------------- commit


def _commit(opened: Any, group: list[StagedFile], options: AddOptions, user_time: str | None,
            added: list[Added], bulk: bool = False) -> None:
    """Make a group durable, publish its objects, then record them in one transaction; once it
    has committed, the group goes onto ``added`` (so that a Ctrl-C right after still reports it).

    ``bulk`` (an add of store.BULK_BYTES or more: a camera roll, a long video): the group's objects are
    then dropped from the page cache, as ``cp`` with ``nocache`` would. The add does not fill the
    memory with gigabytes nobody reads next, and the stagers write into pages just freed rather
    than into memory the system has not touched lately, which on a VM whose host takes unused
    memory back costs the host a fault per page: 2,000 files (1.4 GB) took 3.03-3.25 s without
    and 2.10-2.38 s with, in three alternating pairs (session 16). A smaller add keeps its objects
    cached for the export that usually follows."""
    from .. import custody, db
    published = _publish(opened.dir, group)
    now = now_utc()
    con = opened.con
    with db.writing_dbapi(con, opened.dir.db):
        results = exhibit_rows.record(con, opened.dir.slug, group, options, user_time, now)
    custody.publish_head(opened.dir.root, con)  # as disputes.recording does after its commit
    added.extend(results)
    if bulk:
        for final in published:
            store.drop_cached(final)


def _publish(ddir: DisputeDir, group: list[StagedFile]) -> list[Path]:
    """One file-system sync for the whole group, then each object renamed to its content address;
    the group's objects' paths (each file's, whether it was new or held already)."""
    store.make_durable([item.staged for item in group if item.staged], ddir.objects)
    shards = set()
    finals: list[Path] = []
    # One listing, not a mkdir per file (they lock objects/ as the stagers do); a shard made for one
    # file of the group is not made again for the next (145 of a 2,000-file add's 401 mkdirs were).
    made = set(store.shards(ddir.objects))
    try:
        for item in group:
            assert item.staged is not None
            final = ddir.object_path(item.staged.sha256)
            store.publish(item.staged, final, parent_made=final.parent.name in made)
            finals.append(final)
            made.add(final.parent.name)
            shards.add(final.parent)
    except BaseException:
        for item in group:
            if item.staged:
                store.discard(item.staged)
        raise
    store.fsync_dirs([*sorted(shards), ddir.objects])
    return finals
