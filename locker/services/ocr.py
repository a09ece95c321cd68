"""``locker ocr``: read the text in a dispute's screenshots, photos and scanned PDF pages (optional
extra: rapidocr on onnxruntime), file each reading as derived data and put its text in the search index.

**Derived, never evidence.** A reading is filed by :mod:`locker.derived` under the object's SHA-256 and
a key made from the engine's identity (:func:`locker.ocr.engine.engine_id`: engine, runtime and model
versions)::

    derived/ab/abcdef…/ocr-v1-<12 hex of the engine id>/manifest.json

It is made once per object and engine: a second run reads nothing again, a new engine reads everything
again. Deleting ``derived/`` loses nothing (``locker rebuild`` or ``locker ocr`` reads again). The
object is hashed before it is read, so a reading is only ever filed under the bytes it came from.

**Search.** Each reading's text goes into the dispute's own index (field ``ocr``, one row per slice or
page, :func:`locker.search.index.index_ocr`) in a short transaction of its own, right after the reading
is filed; the table ``ocr_indexed`` (migration m007_ocr) says which engine's reading is indexed, so
that a reading found in ``derived/`` but not yet indexed (a run interrupted in between) is indexed by
the next run without being read again. No custody entry: nothing the user recorded changes.

**Both cores.** Five objects or more are read by worker processes (two on a two-core machine), each
running onnxruntime with one thread; up to four are read in this process with onnxruntime's own threads
(see ONE_PROCESS_MAX).
Measured in ``benchmarks/bench_ocr.py`` (see the README's OCR section). ``LOCKER_OCR_WORKERS=N``
overrides the number of processes (1: everything in this process). ``LOCKER_OCR=off`` keeps ``rebuild``
and ``export`` from reading (``locker ocr`` still reads when asked): for a slow machine, and for the test
suite, whose packs need no machine-read text.

**Ctrl-C.** The workers ignore SIGINT; the command stops them, removes its work folders and leaves every
reading either filed and indexed whole, or absent. Nothing here writes ``objects/``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

from .. import derived, store
from ..errors import LockerError, MissingDependency, NotFound
from ..i18n import _
from ..paths import DisputeDir, Home
from ..words import PDF_MIME

KEY_VERSION = 1
IMAGE_KINDS = ("screenshot", "photo", "other", "document")


@dataclass(frozen=True)
class Target:
    """What the reader needs of an exhibit (picklable; crosses to the workers)."""

    number: int
    sha256: str
    size: int
    mime: str
    kind: str
    name: str
    withdrawn: bool = False


@dataclass(frozen=True)
class Done:
    exhibit: int
    lines: int
    parts: int
    read_now: bool  # False: the reading was found in derived/ (made by an earlier run)
    seconds: float | None = None


@dataclass(frozen=True)
class OcrResult:
    slug: str
    engine: str
    done: tuple[Done, ...]
    failed: tuple[tuple[int, str], ...] = ()
    not_readable: tuple[int, ...] = ()  # named exhibits OCR does not apply to (videos, chats, audio)
    workers: int = 1
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    transcribed: Any = None  # services.ocrchat.Transcribed: chats and order pages found in the readings

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def read_now(self) -> int:
        return sum(1 for d in self.done if d.read_now)


def readable(mime: str, kind: str) -> bool:
    """Does OCR apply to this exhibit: a picture (screenshot, photo, …) or a PDF?"""
    return mime == PDF_MIME or (mime.startswith("image/") and kind in IMAGE_KINDS)


def key(engine_id: str) -> str:
    """The derived-data key of readings by this engine."""
    return f"ocr-v{KEY_VERSION}-{hashlib.sha256(engine_id.encode('utf-8')).hexdigest()[:12]}"


def existing(ddir: DisputeDir, sha256: str, engine_id: str | None = None) -> dict[str, Any] | None:
    """The reading of this object by the engine installed (or ``engine_id``), if one was filed."""
    if engine_id is None:
        from ..ocr import engine

        if not engine.available():
            return None
        engine_id = engine.engine_id()
    manifest = derived.read_manifest(derived.folder(ddir.derived, sha256, key(engine_id)))
    if manifest is None or manifest.get("engine") != engine_id or manifest.get("exhibit_sha256") != sha256:
        return None
    return manifest


def latest(ddir: DisputeDir, sha256: str) -> dict[str, Any] | None:
    """The reading to show for this object: by the installed engine, else any filed one (the newest),
    so that ``show`` still has the text on a machine without the extra."""
    found = existing(ddir, sha256)
    if found is not None:
        return found
    root = ddir.derived / sha256[:2] / sha256
    try:
        candidates = sorted((p for p in root.iterdir() if p.name.startswith("ocr-v")),
                            key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return None
    for place in candidates:
        manifest = derived.read_manifest(place)
        if manifest is not None and manifest.get("exhibit_sha256") == sha256 and "lines" in manifest:
            return manifest
    return None


# --------------------------------------------------------------------------- reading (any process)


def _worker_start() -> None:
    """In each worker process: Ctrl-C is the parent's business; one onnxruntime thread each; a worker
    reads picture after picture (its heap is kept from growing)."""
    import signal

    from ..ocr import engine

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine.set_threads(1)
    engine.reading_many()


def read_target(source: str, sha256: str, mime: str, work: str) -> tuple[str, Any, float]:
    """Hash the object, then read it: ("ok", reading, seconds) or ("error" | "missing", message, 0).
    Runs in a worker process or in this one; never raises for a bad file (its message comes back)."""
    from ..errors import MissingDependency
    from ..ocr import reader

    started = time.perf_counter()
    try:
        if store.hash_file(Path(source))[0] != sha256:
            return "error", "its original does not match its recorded SHA-256: not read (run locker verify)", 0.0
        reading = reader.read_object(Path(source), mime, Path(work))
    except MissingDependency as err:
        return "missing", err.message, 0.0
    except FileNotFoundError:
        return "error", "its original is missing (run locker verify)", 0.0
    except LockerError as err:
        return "error", err.message, 0.0
    except MemoryError:
        return "error", "not enough memory to read it", 0.0
    except Exception as err:  # noqa: BLE001 - a hostile file's failure is reported, the others go on
        return "error", f"cannot read it: {type(err).__name__}: {err}", 0.0
    return "ok", reading, time.perf_counter() - started


# Up to this many objects are read in the command's own process. Each worker process loads the engine
# anew (about 1.5 CPU-s) while this process loads it once and recognises text lines on both cores: on
# 2 cores (benchmarks/bench_ocr.py --only layout, drawn 1170×2532 screenshots, median of 5) one process
# read 2 screenshots in 3.0 s / 4.4 CPU-s against two workers' 3.2 s / 5.6, 3 in 3.4 s / 5.1 against
# 4.2 s / 6.6, 4 in 4.2 s / 6.5 against 4.0 s / 7.2 (and 340 MB in all instead of 610); from 6 on,
# two workers are ahead (5.8 s against 6.2).
ONE_PROCESS_MAX = 4


def _workers(count: int) -> int:
    """How many worker processes read ``count`` objects (1: none, this process reads them)."""
    wanted = os.environ.get("LOCKER_OCR_WORKERS", "").strip()
    if wanted.isdigit() and int(wanted) >= 1:
        return min(int(wanted), count)
    if count <= ONE_PROCESS_MAX:
        return 1
    return max(1, min(os.cpu_count() or 1, 2, count))


def _read_all(ddir: DisputeDir, targets: list[Target], workers: int) -> Iterator[tuple[Target, tuple[str, Any, float]]]:
    """Read every target; yields each as it is done (in any order)."""
    work = str(ddir.derived)
    ddir.derived.mkdir(mode=0o700, parents=True, exist_ok=True)
    if workers <= 1:
        if len(targets) > 1:
            from ..ocr import engine

            engine.reading_many()
        for t in targets:
            yield t, read_target(str(ddir.object_path(t.sha256)), t.sha256, t.mime, work)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn: a fresh interpreter that imports only the reader (no inherited database handles, no
    # progress thread); it costs about a second per worker, once per run.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_start)
    pending: dict[Any, Target] = {}
    queue = list(reversed(targets))
    clean = False
    try:
        broken = ""
        while queue or pending:
            while queue and len(pending) < workers * 2 and not broken:  # a short queue: Ctrl-C cancels little
                t = queue[-1]
                try:
                    pending[pool.submit(read_target, str(ddir.object_path(t.sha256)), t.sha256, t.mime, work)] = t
                except RuntimeError as err:  # BrokenProcessPool: a worker died (killed, out of memory)
                    broken = f"the reading process stopped ({type(err).__name__})"
                    break
                queue.pop()
            if broken and not pending:
                for t in reversed(queue):
                    yield t, ("error", broken, 0.0)
                break
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                t = pending.pop(future)
                try:
                    yield t, future.result()
                except RuntimeError as err:  # BrokenProcessPool
                    broken = f"the reading process stopped ({type(err).__name__})"
                    yield t, ("error", broken, 0.0)
        clean = True
    finally:
        if clean:
            pool.shutdown(wait=True)
        else:  # Ctrl-C, an error, or the caller stopped: the workers go now, their readings with them
            processes = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(5)


# --------------------------------------------------------------------------- filing and indexing


def _file(ddir: DisputeDir, target: Target, reading: dict[str, Any], engine_id: str) -> dict[str, Any]:
    final = derived.folder(ddir.derived, target.sha256, key(engine_id))
    work = derived.work_folder(final)
    try:
        manifest = {"type": "ocr", **reading, "exhibit_sha256": target.sha256, "key": key(engine_id)}
        derived.write_manifest(work, manifest)
        derived.publish_folder(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def parts_text(manifest: dict[str, Any]) -> list[tuple[int, str]]:
    """(ref, text) for the index: one row per slice (ref = -slice) or page (ref = page)."""
    by_part: dict[int, list[str]] = {}
    for line in manifest.get("lines", []):
        ref = line["page"] if "page" in line else -int(line.get("slice", 1))
        by_part.setdefault(ref, []).append(str(line.get("text", "")))
    return [(ref, "\n".join(texts)) for ref, texts in sorted(by_part.items(), key=lambda kv: abs(kv[0]))]


def _index(con: Any, target: Target, manifest: dict[str, Any], engine_id: str) -> None:
    from ..db import immediate
    from ..search import index
    from ..values import now_utc

    with immediate(con):
        index.index_ocr(con, target.number, target.sha256, engine_id, parts_text(manifest),
                        len(manifest.get("lines", [])), now_utc())


# --------------------------------------------------------------------------- the command


def _targets(con: Any) -> list[Target]:
    rows = con.execute("SELECT number, sha256, size, mime, kind, original_name, withdrawn FROM exhibit "
                       "ORDER BY number").fetchall()
    return [Target(n, sha, size, mime, kind, name, bool(w)) for n, sha, size, mime, kind, name, w in rows]


def pending(ddir: DisputeDir, targets: list[Target], engine_id: str) -> list[Target]:
    """The readable, not withdrawn targets without a reading by this engine."""
    return [t for t in targets if readable(t.mime, t.kind) and not t.withdrawn
            and existing(ddir, t.sha256, engine_id) is None]


def run(home: Home, ref: str, numbers: tuple[int, ...] = (), progress: Any = None) -> OcrResult:
    """Read what is not read yet of the dispute's pictures and scanned PDFs (or of exhibits ``numbers``,
    withdrawn or not), file the readings and index their text. Raises MissingDependency without the
    extra (before anything else)."""
    from ..ocr import engine

    engine.require()
    started = time.perf_counter()
    home.require_writable()
    # Found the way search finds it (plain sqlite3 from here on): SQLModel's import would add ~0.9 s,
    # a third of what reading one screenshot may take.
    ddir = home.locate(ref)
    result = _run(ddir, numbers, progress, started)
    return replace(result, transcribed=transcribe_readings(home, ddir))


def transcribe_readings(home: Home, ddir: DisputeDir) -> Any:
    """Chat screenshots into machine-read messages and order pages into order facts
    (:func:`locker.services.ocrchat.transcribe`), from the readings filed for the dispute's pictures:
    all of them at once, so that screenshots of one conversation become one; nothing is read twice.
    None when no picture has a reading by the installed engine."""
    from ..db import connect
    from ..ocr import engine
    from . import ocrchat

    engine_id = engine.engine_id()
    con = connect(ddir.db)
    try:
        targets = _targets(con)
    finally:
        con.close()
    readings: dict[int, Any] = {}
    for t in targets:
        if t.withdrawn or not t.mime.startswith("image/") or not readable(t.mime, t.kind):
            continue
        manifest = existing(ddir, t.sha256, engine_id)
        if manifest is not None:
            readings[t.number] = ocrchat.pages_from_manifest(manifest)
    if not readings:
        return None
    return ocrchat.transcribe(home, ddir.slug, sorted(readings), readings=readings)


def _run(ddir: DisputeDir, numbers: tuple[int, ...], progress: Any, started: float) -> OcrResult:
    from ..db import connect
    from ..ocr import engine
    from ..search import index

    engine_id = engine.engine_id()
    con = connect(ddir.db)
    try:
        every = _targets(con)
        if numbers:
            by_number = {t.number: t for t in every}
            missing = [n for n in numbers if n not in by_number]
            if missing:
                raise NotFound(_("{slug} has no exhibit {n}").format(slug=ddir.slug, n=missing[0]))
            chosen = [by_number[n] for n in dict.fromkeys(numbers)]
            not_readable = tuple(t.number for t in chosen if not readable(t.mime, t.kind))
            chosen = [t for t in chosen if readable(t.mime, t.kind)]
        else:
            chosen = [t for t in every if readable(t.mime, t.kind) and not t.withdrawn]
            not_readable = ()
        todo = [t for t in chosen if existing(ddir, t.sha256, engine_id) is None]
        workers = _workers(len(todo))
        if todo and workers <= 1:  # read here: the engine loads while the first object is hashed and decoded
            engine.preload()
        indexed = index.ocr_engines(con)
        done: dict[int, Done] = {}
        failed: list[tuple[int, str]] = []
        if progress is not None:
            progress.start(len(todo), sum(max(1, t.size) for t in todo))
        for target, (status, value, seconds) in _read_all(ddir, todo, workers):
            if status == "missing":
                raise MissingDependency(value)
            if status == "ok":
                manifest = _file(ddir, target, value, engine_id)
                _index(con, target, manifest, engine_id)
                done[target.number] = Done(target.number, len(manifest["lines"]), len(manifest["parts"]), True,
                                           round(seconds, 3))
            else:
                failed.append((target.number, value))
            if progress is not None:
                progress.advance(max(1, target.size), target.name)
        for target in chosen:  # read before: indexed unless it is already
            if target.number in done or any(n == target.number for n, _ in failed):
                continue
            kept = existing(ddir, target.sha256, engine_id)
            if kept is None:
                continue
            if indexed.get(target.number) != (target.sha256, engine_id):
                _index(con, target, kept, engine_id)
            done[target.number] = Done(target.number, len(kept.get("lines", [])), len(kept.get("parts", [])), False)
    finally:
        con.close()
    return OcrResult(ddir.slug, engine_id, tuple(done[n] for n in sorted(done)), tuple(sorted(failed)),
                     not_readable, workers if todo else 0, round(time.perf_counter() - started, 3))


def missing_readings(ddir: DisputeDir) -> list[Target]:
    """Pictures and PDFs of the dispute (not withdrawn) that have no reading by the installed engine;
    all of them when the extra is not installed."""
    from ..db import connect
    from ..ocr import engine

    con = connect(ddir.db)
    try:
        targets = _targets(con)
    finally:
        con.close()
    if not engine.available():
        return [t for t in targets if readable(t.mime, t.kind) and not t.withdrawn]
    return pending(ddir, targets, engine.engine_id())


def run_if_missing(home: Home, ddir: DisputeDir, progress: Any = None) -> tuple[OcrResult | None, str | None]:
    """For ``rebuild`` and ``export``: read what has no reading yet, when the extra is installed.
    (result or None, a note for the user or None)."""
    from ..ocr import engine

    if os.environ.get("LOCKER_OCR", "").strip().lower() in ("off", "0", "no"):
        return None, None  # the user (or a test suite) said: only `locker ocr` reads
    todo = missing_readings(ddir)
    if not todo:
        return None, None
    if not engine.available():
        return None, _("OCR was not run on {n} picture(s): {reason}").format(n=len(todo), reason=_(engine.INSTALL_HINT))
    try:
        engine.require()
    except MissingDependency as err:
        return None, _("OCR was not run on {n} picture(s): {reason}").format(n=len(todo), reason=err.message)
    result = _run(ddir, (), progress, time.perf_counter())
    result = replace(result, transcribed=transcribe_readings(home, ddir))
    note = None
    if result.failed:
        note = _("OCR could not read {exhibits}").format(exhibits="; ".join(
            _("exhibit {n}: {reason}").format(n=n, reason=why) for n, why in result.failed))
    return result, note
