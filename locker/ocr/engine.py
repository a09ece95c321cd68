"""The one place that talks to the OCR engine (rapidocr on onnxruntime).

The engine is imported lazily: ``locker`` works without the ``ocr`` extra, and a command
that needs it gets a :class:`MissingDependency` that says how to install it. The models ship
inside the rapidocr wheel; nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import MissingDependency
from ..i18n import N_, _

INSTALL_HINT = N_("OCR needs the optional extra: pip install 'locker[ocr]' (rapidocr and onnxruntime)")

# The fast setting measured in FIELD-NOTES: the long side scaled to at most 1280 px for
# detection, no angle classifier (screenshots are upright).
_PARAMS: dict[str, Any] = {
    "Global.use_cls": False,
    "Global.log_level": "error",  # its warnings ("detection result is empty") would reach the user's terminal
    "Det.limit_type": "max",
    "Det.limit_side_len": 1280,
    # Recognition one text line at a time: a batch pads every line to its widest, and one line at a
    # time read the same text 15–30 % faster (1.75–2.30 s against 2.58–2.69 s for one 1170×2532
    # screenshot, load 2.3; benchmarks/bench_ocr_accuracy.py unchanged).
    "Rec.rec_batch_num": 1,
}

Point = tuple[float, float]


@dataclass(frozen=True)
class Line:
    """One line of text as the engine read it: its four corners in image pixels
    (clockwise from top-left) and the engine's confidence, 0..1."""

    text: str
    box: tuple[Point, Point, Point, Point]
    score: float

    @property
    def left(self) -> float:
        return min(p[0] for p in self.box)

    @property
    def right(self) -> float:
        return max(p[0] for p in self.box)

    @property
    def top(self) -> float:
        return min(p[1] for p in self.box)

    @property
    def bottom(self) -> float:
        return max(p[1] for p in self.box)


@dataclass(frozen=True)
class Reading:
    """What the engine read from one image, in reading order (top to bottom)."""

    engine: str
    width: int
    height: int
    lines: tuple[Line, ...]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


def available() -> bool:
    """True when the engine and its runtime are installed (imports nothing heavy)."""
    return _version("rapidocr") != "absent" and _version("onnxruntime") != "absent"


def require() -> None:
    """Raise MissingDependency (saying how to install the extra) unless the engine can be imported;
    finds the modules without importing them (onnxruntime and OpenCV take a second and 100 MB)."""
    if not available():
        raise MissingDependency(_(INSTALL_HINT))
    from importlib.util import find_spec

    for name in ("rapidocr", "onnxruntime"):
        try:
            found = find_spec(name)
        except (ImportError, ValueError) as exc:
            raise MissingDependency(_("{hint}; importing {name} failed: {error}").format(
                hint=_(INSTALL_HINT), name=name, error=exc)) from None
        if found is None:
            raise MissingDependency(_(INSTALL_HINT))


@cache
def engine_id() -> str:
    """The engine, its runtime and its models, as recorded with every result and used in
    the derived-data key: a new version reads everything again. Once per process (each look-up of
    an installed version reads the package metadata: ~20 ms, and ``locker ocr`` asks several times)."""
    return (
        f"rapidocr {_version('rapidocr')}; onnxruntime {_version('onnxruntime')}; "
        "PP-OCRv6 det/rec small; limit max 1280; no cls; rec batch 1"
    )


_engine: Any = None
_lock = threading.Lock()
_threads = 0  # onnxruntime's intra-op threads; 0: its default (one per core)


def set_threads(threads: int) -> None:
    """How many threads onnxruntime may use in this process (0: one per core). Takes effect for the
    engine made next: call it before the first :func:`read`. A worker of a pool of processes sets 1,
    so that the workers do not fight over the cores (measured in benchmarks/bench_ocr.py)."""
    global _threads, _engine
    with _lock:
        if threads != _threads:
            _threads = max(0, int(threads))
            _engine = None


_returning = False  # _return_memory() was called in this process


def _return_memory() -> None:
    """Have glibc give large freed blocks back to the system (mmap above 1 MiB, trim above 8 MiB)
    instead of its default, which raises the mmap threshold as blocks are freed: the engine's many
    differently sized buffers then fragment the heap. Measured on 9 screenshots in one process (one
    thread, load 5): peak 564–577 MB by default, 419 MB with this, for about 10 % more CPU (128 KiB
    thresholds: 414 MB, 20 % more). Elsewhere than glibc, nothing happens."""
    import ctypes
    import sys

    global _returning
    if _returning or not sys.platform.startswith("linux"):
        return
    _returning = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
        libc.mallopt(m_mmap_threshold, 1 << 20)
        libc.mallopt(m_trim_threshold, 8 << 20)
    except (OSError, AttributeError):  # not glibc (musl, say)
        pass


# rapidocr's own table of downloadable models (default_models.yaml, ~1,600 lines) is turned into an
# OmegaConf tree twice while ``rapidocr`` is imported (rapidocr/utils/model_resolver.py at module level
# and InferSession.model_info in rapidocr/inference_engine/base.py): 1.2–1.4 CPU-s, the largest part of
# "loading the engine" (measured with ``python -X importtime``). Locker names its model files itself
# (below), so neither table is consulted for them: when those files are there, the table rapidocr gets
# is empty (it reads only its language list from it at import: a name in an error message); when they
# are not, rapidocr finds its models in the table, built once, without the sections of the engines locker
# does not run and the model versions it does not use.
_MODEL_TABLE = "default_models.yaml"
_OTHER_ENGINES = ("openvino", "mnn", "paddle", "torch", "tensorrt")
_VERSION = "PP-OCRv6"
# The model files inside the rapidocr wheel that engine_id() names (PP-OCRv6 small det and rec).
_MODEL_FILES = {"Det": "PP-OCRv6_det_small.onnx", "Rec": "PP-OCRv6_rec_small.onnx"}


def _only_version(section: Any) -> Any:
    """A section of the model table keyed by model version, with only the version locker runs."""
    if not isinstance(section, dict) or _VERSION not in section:
        return section
    return {k: v for k, v in section.items() if k == _VERSION or not k.startswith("PP-OCR")}


@contextmanager
def _one_model_table(empty: bool = False) -> Iterator[None]:
    """While rapidocr is imported, ``OmegaConf.load`` of its model table gives one shared tree: empty
    (``empty``: locker gives rapidocr its model files, measured 0.07–0.14 s less to load the engine), or
    the table without the other engines' sections (loaded with PyYAML's C loader when it has one); every
    other load, and everything after the import, is OmegaConf's own."""
    try:
        import yaml
        from omegaconf import OmegaConf
    except ImportError:
        yield
        return
    original = OmegaConf.__dict__.get("load")
    if not isinstance(original, staticmethod):  # not the OmegaConf this was measured with: leave it alone
        yield
        return
    made: dict[str, Any] = {}

    def load(file_: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file_, (str, Path)) and Path(file_).name == _MODEL_TABLE and \
                Path(file_).parent.name == "rapidocr":
            where = os.path.abspath(file_)
            if where not in made and empty:
                made[where] = OmegaConf.create({"model_routes": {}, "lang_mapping": {}})
            elif where not in made:
                with open(where, encoding="utf-8") as f:
                    table = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
                if isinstance(table, dict):
                    table = {k: _only_version(v) if k in ("model_routes", "onnxruntime") else v
                             for k, v in table.items() if k not in _OTHER_ENGINES}
                made[where] = OmegaConf.create(table)
            return made[where]
        return original.__func__(file_, *args, **kwargs)

    OmegaConf.load = staticmethod(load)  # type: ignore[method-assign]
    try:
        yield
    finally:
        OmegaConf.load = original  # type: ignore[method-assign]


def _session(model: Path, threads: int) -> Any:
    """An onnxruntime session as rapidocr makes one (all graph optimisations, no memory arena), with
    ``threads`` intra-op threads (0: one per core) that sleep when they have no work: onnxruntime's
    default is to spin, which on two cores shared with anything else cost 1.8 CPU-s instead of 1.0 for
    the same detection (the spinning thread takes the core the other needs)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.enable_cpu_mem_arena = False
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])


def _one_blas_thread() -> None:
    """Unless the user chose otherwise, numpy's OpenBLAS gets one thread. Imported with its default, it
    starts one per core, and they spin while they wait; nothing the engine does multiplies matrices
    (onnxruntime has its own threads), and during the engine's load they took a core from it: reading
    one screenshot cost 0.18 CPU-s more (``locker ocr``, median of 11 runs). Only before numpy is
    imported (afterwards its threads are running), and inherited by worker processes."""
    import sys

    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _model_paths() -> dict[str, Path] | None:
    """The det and rec model files in the installed rapidocr (found without importing it), or None."""
    from importlib.util import find_spec

    try:
        spec = find_spec("rapidocr")
    except (ImportError, ValueError):
        return None
    places = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not places:
        return None
    paths = {part: Path(places[0]) / "models" / name for part, name in _MODEL_FILES.items()}
    return paths if all(p.is_file() for p in paths.values()) else None


def _make_engine() -> Any:
    """rapidocr with locker's settings. The two sessions are made here (rapidocr takes a ready session,
    its "custom session" option) and their making overlaps the import of rapidocr's Python code, which
    onnxruntime's C++ does not wait for: both cores are used while the engine loads."""
    _one_blas_thread()
    paths = _model_paths()
    sessions: dict[str, Any] = {}
    errors: list[BaseException] = []

    lanes = _lanes()

    def make() -> None:
        try:
            for part, path in (paths or {}).items():
                sessions[part] = _session(path, 1 if part == "Rec" and lanes > 1 else _threads)
        except BaseException as exc:  # noqa: BLE001 - rapidocr then makes its own (and says what fails)
            errors.append(exc)

    # numpy first, on this thread alone: onnxruntime (on the maker) and rapidocr (here) both import it,
    # and two threads importing numpy through different modules at once can each meet the other's
    # half-made module ("cannot import name '__cpu_features__' from partially initialized module").
    import numpy  # noqa: F401

    maker = threading.Thread(target=make, name="ocr-sessions", daemon=True) if paths else None
    if maker is not None:
        maker.start()
    try:
        with _one_model_table(empty=paths is not None):
            from rapidocr import RapidOCR
    except ImportError as exc:  # installed but broken (e.g. no libGL for OpenCV)
        raise MissingDependency(_("{hint}; importing it failed: {error}").format(hint=_(INSTALL_HINT), error=exc)) from None
    finally:
        if maker is not None:
            maker.join()
    params = dict(_PARAMS)
    if _threads:
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = _threads
        params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
    if paths is not None:
        for part, path in paths.items():
            params[f"{part}.model_path"] = str(path)  # no look-up in the table, no SHA-256 of 31 MB per start
    made = RapidOCR(params=params)
    if paths is not None and not errors and len(sessions) == len(paths):
        from omegaconf import flag_override

        with flag_override(made.cfg, "allow_objects", True):
            made.cfg.Det.session = sessions["Det"]
            made.cfg.Rec.session = sessions["Rec"]
        if lanes > 1:
            made.recognize_txt = _recognise_in_lanes(made, lanes)  # type: ignore[method-assign]
    return made


def _lanes() -> int:
    """How many text lines are recognised at once: one per core (at most 4) when onnxruntime may use
    every core (threads 0: ``locker ocr`` reading in its own process), else one at a time. A line is a
    small input (48 px high): split between two threads of one session, each layer's work is too small
    to share well; two lines on two threads of one onnxruntime thread each keep both cores busy."""
    if _threads:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def _recognise_in_lanes(made: Any, lanes: int) -> Any:
    """rapidocr's ``recognize_txt`` (lines one at a time, ``Rec.rec_batch_num`` 1) run on ``lanes``
    threads at once, widest lines first so that the lanes end together. Each line is recognised exactly
    as rapidocr does it alone (same call, same padding), so the text and scores are the same."""
    from rapidocr.ch_ppocr_rec import TextRecInput, TextRecOutput

    one_lane = made.recognize_txt

    def recognise(images: list[Any]) -> Any:
        if len(images) < 2:
            return one_lane(images)
        started = time.perf_counter()
        model = made._load_rec_model()
        order = iter(sorted(range(len(images)), key=lambda i: -images[i].shape[1] / max(1, images[i].shape[0])))
        results: list[Any] = [None] * len(images)
        taking = threading.Lock()
        failed: list[BaseException] = []

        def lane() -> None:
            while not failed:
                with taking:
                    i = next(order, None)
                if i is None:
                    return
                try:
                    out = model(TextRecInput(img=[images[i]], return_word_box=made.return_word_box))
                    results[i] = (out.txts[0], out.scores[0], out.word_results[0])
                except BaseException as exc:  # noqa: BLE001 - raised again below, in the reading thread
                    failed.append(exc)

        helpers = [threading.Thread(target=lane, name="ocr-rec", daemon=True) for _ in range(lanes - 1)]
        for helper in helpers:
            helper.start()
        try:
            lane()
        finally:
            for helper in helpers:
                helper.join()
        if failed:
            raise failed[0]
        txts, scores, words = zip(*results)
        return TextRecOutput(imgs=images, txts=txts, scores=list(scores), word_results=words,
                             elapse=time.perf_counter() - started)

    return recognise


def reading_many() -> None:
    """This process is going to read several pictures (a worker, or ``locker ocr`` reading a dispute in
    one process): from now on glibc returns large freed blocks (:func:`_return_memory`), which keeps
    the heap from growing picture after picture. Not for one picture: each fresh block is then mapped
    and zeroed anew, and reading one 1170×2532 screenshot took 0.4–0.5 CPU-s more in the kernel (its
    first detection 0.50 s instead of 0.38 s wall), for a heap that one reading cannot fragment."""
    _return_memory()


def _get_engine() -> Any:
    global _engine
    with _lock:
        if _engine is None:
            if not available():
                raise MissingDependency(_(INSTALL_HINT))
            _engine = _make_engine()
        return _engine


def preload() -> None:
    """Start loading the engine (imports and models, the longest wait of one picture) in a background
    thread, so that it overlaps what comes before the first read: hashing the object, decoding the
    picture. :func:`read` waits for it; a failure here is left for :func:`read` to raise."""

    def load() -> None:
        try:
            _get_engine()
        except BaseException:  # noqa: BLE001 - read() makes the engine again and raises what fails
            pass

    if _engine is None:
        threading.Thread(target=load, name="ocr-preload", daemon=True).start()


def read(image: Any) -> Reading:
    """Read one picture (a PIL image; it is converted to RGB here)."""
    made = _get_engine()  # first: it waits for a preload, which imports numpy (see _make_engine)
    import numpy as np

    rgb = image.convert("RGB") if image.mode != "RGB" else image
    array = np.asarray(rgb)[:, :, ::-1]  # the engine expects OpenCV's BGR order
    out = made(array)
    lines: list[Line] = []
    boxes = out.boxes if out.boxes is not None else []
    texts = out.txts or ()
    scores = out.scores or ()
    for box, text, score in zip(boxes, texts, scores):
        corners = tuple((float(x), float(y)) for x, y in box)
        lines.append(Line(text=str(text), box=corners, score=round(float(score), 4)))  # type: ignore[arg-type]
    lines.sort(key=lambda line: (round(line.top), line.left))
    return Reading(engine=engine_id(), width=rgb.width, height=rgb.height, lines=tuple(lines))
