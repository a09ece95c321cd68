"""Picture renditions sized for the page: about 200 dpi at the size they are placed.

The layout pass decides where and how large each picture is placed; then every
picture gets a JPEG made for exactly that size (never larger than its source:
nothing is upscaled) and is drawn from its file, so reportlab embeds it
byte for byte (DCTDecode) instead of decoding and re-compressing it.

* a whole picture: :func:`_whole`, with the helpers of
  :mod:`locker.media.derive` (EXIF orientation applied, alpha flattened; a JPEG
  already upright and small enough is copied as it is), from the display
  rendition when one was made already, else from the original;
* a slice of a long screenshot: the rows of the display rendition in the slice
  plan, scaled to the page width;
* a video key frame: the frame JPEG, scaled to its grid cell.

Renditions are cached in the dispute's ``derived/`` folder (its layout is
:mod:`locker.derived`'s: ``derived/ab/<sha256>/pack-v2/<size and quality>.jpg``),
so a second export is quick; a cached file that cannot be read is made again. Work is spread over a few processes (Pillow's decoders hold the GIL for
part of their time).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .. import derived
from ..errors import LockerError

CACHE_VERSION = "pack-v2"


@dataclass(frozen=True)
class Step:
    """One image-quality setting; --max-size walks down the list."""

    dpi: int
    quality: int

    def describe(self) -> str:
        return f"{self.dpi} dpi, JPEG quality {self.quality}"


# Below this many renditions to make, they are made in this process: starting the workers costs more.
POOL_MIN_JOBS = 4
STEPS = (Step(200, 80), Step(170, 70), Step(144, 60), Step(120, 50), Step(96, 42), Step(72, 35), Step(60, 28))


@dataclass(frozen=True)
class Job:
    key: str  # unique in the pack, e.g. "3:img", "3:slice2", "4:frame7"
    kind: str  # "image" | "slice" | "frame"
    source: Path
    sha256: str  # of the exhibit (cache folder)
    width: int  # target pixel size (never above the source's)
    height: int
    quality: int
    top: int = 0  # slices: rows of the source
    bottom: int = 0
    text: bool = False  # text-heavy (screenshots): keep full colour resolution
    cache: bool = True  # False for an object that failed the export's check: the cache is keyed by its recorded hash

    def cache_name(self) -> str:
        if self.kind == "image":
            return f"img-{self.width}x{self.height}-q{self.quality}.jpg"
        if self.kind == "slice":
            return f"slice-{self.top}-{self.bottom}-{self.width}-q{self.quality}.jpg"
        return f"{self.source.stem}-{self.width}-q{self.quality}.jpg"


@dataclass(frozen=True)
class Made:
    key: str
    path: Path | None
    width: int
    height: int
    error: str | None = None


def oriented_size(path: Path) -> tuple[int, int]:
    """Width and height of a picture as shown (EXIF orientation applied), from its header."""
    from ..media import rendition

    img = rendition._open_image(path)
    try:
        width, height = img.size
        if img.format == "PNG":
            # getexif() on a PNG decodes the whole picture when no eXIf chunk came before the pixels;
            # only the header's is looked at here (render_size() checks the result afterwards).
            orientation = 1
            raw = img.info.get("exif")
            if raw:
                from PIL import Image

                exif = Image.Exif()
                try:
                    exif.load(raw if isinstance(raw, bytes) else bytes(raw))
                    orientation = exif.get(0x0112, 1)
                except Exception:
                    orientation = 1
        else:
            orientation = rendition._orientation(img)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
    finally:
        img.close()
    return width, height


def render_size(path: Path) -> tuple[int, int]:
    """Width and height of a rendition JPEG (its header only)."""
    from PIL import Image

    with Image.open(path) as img:
        return img.size


def _cache_path(cache_dir: Path | None, job: Job) -> Path | None:
    if cache_dir is None or not job.cache:
        return None
    return derived.folder(cache_dir, job.sha256, CACHE_VERSION) / job.cache_name()


def _cached(job: Job, final: Path | None) -> Made | None:
    """The rendition found in the cache, or None (not there, or not a readable JPEG: it is made again)."""
    if final is None or not final.is_file():
        return None
    try:
        return Made(job.key, final, *render_size(final))
    except Exception:  # a truncated or foreign file: rebuildable, so made again
        return None


def make_one(job: Job, cache_dir: Path | None, scratch: Path) -> Made:
    """Make (or find in the cache) one rendition. Never raises for a bad picture: the error is returned."""
    final = _cache_path(cache_dir, job)
    found = _cached(job, final)
    if found is not None:
        return found
    out = final if final is not None else scratch / f"{job.key.replace(':', '-')}-{job.cache_name()}"
    work = Path(tempfile.mkdtemp(prefix=".tmp-pack-", dir=scratch))
    try:
        if job.kind == "slice":
            temp = _slice(job, work)
        else:
            temp = _whole(job, work)
        try:
            derived.publish_file(temp, out)
        except OSError:
            if final is None:
                raise
            out = scratch / f"{job.key.replace(':', '-')}-{job.cache_name()}"  # cache not writable: keep it here
            derived.publish_file(temp, out)
        return Made(job.key, out, *render_size(out))
    except (LockerError, OSError, ValueError, MemoryError) as exc:
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        return Made(job.key, None, job.width, job.height, reason.splitlines()[0][:200])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _whole(job: Job, work: Path) -> Path:
    """A JPEG of the whole picture at the job's size, as shown (EXIF orientation applied).

    Like :func:`locker.media.derive.image_rendition` (same helpers: pixel limit, HEIF, orientation,
    alpha flattened on white), but made for speed at one size: a JPEG is decoded at a reduced scale
    and kept in YCbCr (no colour conversion either way), photos are resampled bilinearly and
    screenshots bicubically (sharper text), and no thumbnail is made. An upright JPEG that needs no
    scaling is copied byte for byte."""
    from PIL import Image

    from ..media import outputs, rendition

    img = rendition._open_image(job.source)
    try:
        fmt = str(img.format or "")
        orientation = rendition._orientation(img)
        turned = orientation in (5, 6, 7, 8)
        store = (job.height, job.width) if turned else (job.width, job.height)
        if fmt == "JPEG" and orientation == 1 and img.mode in ("RGB", "L") and img.size == store \
                and _reportlab_reads(job.source):
            temp = work / "copy.jpg"
            shutil.copyfile(job.source, temp)
            return temp
        if fmt in ("JPEG", "MPO") and img.size != store:
            img.draft("YCbCr" if img.mode == "RGB" else img.mode, store)
        img.load()
        out = img if img.mode in ("RGB", "L", "YCbCr") else rendition._flatten(img)
        if out.size != store:
            resample = Image.Resampling.BICUBIC if job.text else Image.Resampling.BILINEAR
            out = out.resize(store, resample, reducing_gap=3.0)
        op = rendition._ORIENTATION_OPS.get(orientation)
        if op:
            out = out.transpose(getattr(Image.Transpose, op))
        options: dict[str, Any] = {"quality": job.quality}
        icc = rendition._icc_for(img, "L" if out.mode == "L" else "RGB")
        if icc:
            options["icc_profile"] = icc
        if fmt in rendition._LOSSLESS_FORMATS or job.text:
            options["subsampling"] = 0  # 4:4:4 keeps coloured text sharp
        temp = work / "picture.jpg"
        out.save(temp, "JPEG", **options)
    except (LockerError, MemoryError):
        raise
    except Exception as exc:  # truncated or damaged pixel data, decoder errors
        from ..media.derive import DerivationError

        raise DerivationError(f"cannot decode the image: {outputs._short(exc)}", path=str(job.source)) from exc
    finally:
        img.close()
    return temp


def _reportlab_reads(path: Path) -> bool:
    """reportlab embeds baseline, extended and progressive JPEGs as they are; not lossless/arithmetic ones."""
    try:
        from reportlab.pdfbase.pdfutils import readJPEGInfo

        with open(path, "rb") as f:
            readJPEGInfo(f)
        return True
    except Exception:
        return False


def _slice(job: Job, work: Path) -> Path:
    from PIL import Image

    from ..media import rendition

    img = rendition._open_image(job.source)
    try:
        img.load()
        piece = img.crop((0, job.top, img.width, job.bottom))
        piece = rendition._flatten(piece)
        if piece.width > job.width:
            height = max(1, round(piece.height * job.width / piece.width))
            piece = piece.resize((job.width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        temp = work / f"slice-{secrets.token_hex(4)}.jpg"
        piece.save(temp, "JPEG", quality=job.quality, subsampling=0 if job.text else -1)
    finally:
        img.close()
    return temp


class Pending:
    """Renditions being made in worker processes; each is waited for when it is asked for (``get``), so
    that the pass drawing the pack overlaps their making."""

    def __init__(self, results: dict[str, Made], futures: dict[str, Any],
                 on_done: Callable[[Made], None] | None) -> None:
        self.results = results
        self.futures = futures
        self.on_done = on_done

    def get(self, key: str, default: Made | None = None) -> Made | None:
        found = self.results.get(key)
        if found is not None:
            return found
        future = self.futures.pop(key, None)
        if future is None:
            return default
        made: Made = future.result()
        self.results[key] = made
        if self.on_done:
            self.on_done(made)
        return made

    def wait(self) -> dict[str, Made]:
        """Every rendition, once made."""
        for key in list(self.futures):
            self.get(key)
        return self.results


class Early:
    """Renditions started while the first pass lays the pack out, each exhibit's as soon as that pass has
    placed its pictures (see pack._early): the workers make them while the pass goes on, instead of
    standing idle until it ends (1.5 s of a first export of 200 pictures, measured in session 12).
    Nothing is made from an original before ``ready()`` says the export's check of the originals has
    passed; the jobs placed until then wait for the next call. :func:`start_all` takes over the jobs
    started here that the whole pass asks for again, unchanged (``started``)."""

    def __init__(self, pool: Callable[[], Any], cache_dir: Path | None, scratch: Path,
                 ready: Callable[[], bool]) -> None:
        self.pool = pool
        self.cache_dir = cache_dir
        self.scratch = scratch
        self.ready = ready
        self.started: dict[Job, Any] = {}
        self.waiting: list[Job] = []

    def start(self, jobs: Iterable[Job]) -> None:
        for job in jobs:
            cached = _cache_path(self.cache_dir, job)
            if cached is None or not cached.is_file():  # found in the cache: start_all reads it
                self.waiting.append(job)
        if not self.waiting or not self.ready():
            return
        executor = self.pool()
        for job in self.waiting:
            self.started[job] = executor.submit(make_one, job, self.cache_dir, self.scratch)
        self.waiting = []


def start_all(jobs: Iterable[Job], cache_dir: Path | None, scratch: Path, *, pool: Callable[[], Any] | None,
              on_done: Callable[[Made], None] | None = None, before_making: Callable[[], None] | None = None,
              known: dict[str, Made] | None = None, started: dict[Job, Any] | None = None) -> Pending:
    """Every rendition: found in the cache, else submitted to ``pool()`` (a process pool opened on first use)
    when there is enough work to pay for it, else made here. ``before_making`` is called once before the
    first one not found in the cache is made. ``known``: renditions of an earlier pass, kept unless a job
    replaces them. ``started``: jobs already submitted (:class:`Early`); the same job is not made twice, and
    those no job asks for any more are cancelled (their results, if made, are not used)."""
    results: dict[str, Made] = dict(known or {})
    pending = []
    futures: dict[str, Any] = {}
    started = started if started is not None else {}
    for job in jobs:
        results.pop(job.key, None)
        made = _cached(job, _cache_path(cache_dir, job))
        if made is not None:
            results[job.key] = made
            if on_done:
                on_done(made)
        elif job in started:
            futures[job.key] = started.pop(job)
        else:
            pending.append(job)
    for future in started.values():
        future.cancel()
    started.clear()
    if pending and before_making is not None:
        before_making()
    if pool is not None and (len(pending) >= POOL_MIN_JOBS or futures):
        executor = pool()
        for job in pending:
            futures[job.key] = executor.submit(make_one, job, cache_dir, scratch)
    else:
        for job in pending:
            made = make_one(job, cache_dir, scratch)
            results[made.key] = made
            if on_done:
                on_done(made)
    return Pending(results, futures, on_done)


def make_all(jobs: Iterable[Job], cache_dir: Path | None, scratch: Path, *, workers: int = 2,
             on_done: Callable[[Made], None] | None = None,
             before_making: Callable[[], None] | None = None) -> dict[str, Made]:
    """Every rendition, in ``workers`` processes when there is enough work to pay for them (see start_all)."""
    with ExitStack() as stack:
        pool = Pool(stack, workers) if workers > 1 else None
        return start_all(jobs, cache_dir, scratch, pool=pool, on_done=on_done, before_making=before_making).wait()


class Pool:
    """Worker processes for renditions, started on first use (``pool()``) and ended with ``stack``."""

    def __init__(self, stack: ExitStack, workers: int) -> None:
        self.stack = stack
        self.workers = workers
        self.executor: Any = None

    def __call__(self) -> Any:
        if self.executor is None:
            self.executor = self.stack.enter_context(worker_pool(self.workers))
        return self.executor


@contextmanager
def worker_pool(workers: int) -> Iterator[Any]:
    """A process pool whose workers leave Ctrl-C to the command that started them.

    A Ctrl-C goes to the whole process group; a worker that took it would die part-way (and
    the pool break with an internal error), so workers ignore SIGINT, and the command, on its
    KeyboardInterrupt, cancels the work not started and waits for the workers to end: nothing
    is left running. With fork (Linux) every worker starts at the first submit, which is made
    here with SIGINT held back, so that none can receive it before it ignores it.
    """
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=exit_with_parent)
    try:
        with sigint_held():
            pool.submit(int)  # starts the workers
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@contextmanager
def sigint_held() -> Iterator[None]:
    """SIGINT held back on this thread: a process forked meanwhile starts with it blocked (and
    :func:`exit_with_parent` ignores it, then unblocks it); a Ctrl-C meanwhile waits until the
    mask is restored."""
    import signal

    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def exit_with_parent() -> None:
    """Initializer of worker processes: Ctrl-C is the parent's to handle (see worker_pool); end as
    soon as the process that started them is gone (a killed export), instead of waiting for work
    forever with its files open."""
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.1)
        os._exit(1)

    threading.Thread(target=watch, name="locker-parent-watch", daemon=True).start()


def _context() -> Any:
    import multiprocessing
    import sys

    # fork starts workers in milliseconds; elsewhere (macOS, Windows) spawn is the safe default.
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def default_workers() -> int:
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    return max(1, min(4, count))
