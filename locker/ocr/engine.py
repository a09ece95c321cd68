"""The one place that talks to the OCR engine (rapidocr on onnxruntime).

The engine is imported lazily: ``locker`` works without the ``ocr`` extra, and a command
that needs it gets a :class:`MissingDependency` that says how to install it. The models ship
inside the rapidocr wheel; nothing is downloaded at run time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import metadata
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


def engine_id() -> str:
    """The engine, its runtime and its models, as recorded with every result and used in
    the derived-data key: a new version reads everything again."""
    return (
        f"rapidocr {_version('rapidocr')}; onnxruntime {_version('onnxruntime')}; "
        "PP-OCRv6 det/rec small; limit max 1280; no cls"
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


def _return_memory() -> None:
    """Have glibc give large freed blocks back to the system (mmap above 1 MiB, trim above 8 MiB)
    instead of its default, which raises the mmap threshold as blocks are freed: the engine's many
    differently sized buffers then fragment the heap. Measured on 9 screenshots in one process (one
    thread, load 5): peak 564–577 MB by default, 419 MB with this, for about 10 % more CPU (128 KiB
    thresholds: 414 MB, 20 % more). Elsewhere than glibc, nothing happens."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
        libc.mallopt(m_mmap_threshold, 1 << 20)
        libc.mallopt(m_trim_threshold, 8 << 20)
    except (OSError, AttributeError):  # not glibc (musl, say)
        pass


def _get_engine() -> Any:
    global _engine
    with _lock:
        if _engine is None:
            _return_memory()
            if not available():
                raise MissingDependency(_(INSTALL_HINT))
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:  # installed but broken (e.g. no libGL for OpenCV)
                raise MissingDependency(_("{hint}; importing it failed: {error}").format(hint=_(INSTALL_HINT), error=exc)) from None
            params = dict(_PARAMS)
            if _threads:
                params["EngineConfig.onnxruntime.intra_op_num_threads"] = _threads
                params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
            _engine = RapidOCR(params=params)
        return _engine


def read(image: Any) -> Reading:
    """Read one picture (a PIL image; it is converted to RGB here)."""
    import numpy as np

    rgb = image.convert("RGB") if image.mode != "RGB" else image
    array = np.asarray(rgb)[:, :, ::-1]  # the engine expects OpenCV's BGR order
    out = _get_engine()(array)
    lines: list[Line] = []
    boxes = out.boxes if out.boxes is not None else []
    texts = out.txts or ()
    scores = out.scores or ()
    for box, text, score in zip(boxes, texts, scores):
        corners = tuple((float(x), float(y)) for x, y in box)
        lines.append(Line(text=str(text), box=corners, score=round(float(score), 4)))  # type: ignore[arg-type]
    lines.sort(key=lambda line: (round(line.top), line.left))
    return Reading(engine=engine_id(), width=rgb.width, height=rgb.height, lines=tuple(lines))
