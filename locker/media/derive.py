"""Media derivatives: video key frames, image renditions and slice plans for long screenshots.

Everything here is rebuildable from the original at any time and kept apart from
it (the caller passes a folder under the dispute's ``derived/``). Pure functions:
no database, no printing; they write only into ``out_dir``, every file under a
temporary name in that folder first and then ``os.replace``-d into place, so a
reader never sees a half-written file. A call that fails leaves no file of its
own behind (finished files are renamed only once every output is ready).
Derivatives are not fsync-ed: they can be made again from the originals.

Errors: undecodable input raises :class:`DerivationError` (code ``derive``)
naming the file and the reason; a failure to write ``out_dir`` raises
:class:`~locker.errors.StoreError`. PyAV and Pillow are imported on first use.

* :func:`video_frames`: ``count`` frames evenly spaced over the video, the
  container's rotation applied, as JPEG. For each target it seeks backward to
  the key frame before it and decodes forward to the first frame whose
  presentation time is at or after the target (a key frame alone would return
  the same picture for every target in a long GOP). When the key-frame index
  says no key frame lies between the frame last decoded and the next target, it
  keeps decoding instead of seeking. Frames no other frame refers to (most
  B-frames) are not decoded while they lie before the target (``skip_frame``
  NONREF): they could never be chosen. A seek that lands after the target (as
  in MPEG-TS, which seeks to any packet) is retried further back.
* :func:`image_rendition`: a JPEG display rendition (EXIF orientation applied,
  alpha flattened on white) and a thumbnail, from any image Pillow or
  pillow-heif opens.
* :func:`slice_plan`: where to cut a long screenshot into page-sized slices.

Rotation convention (as :mod:`locker.media.av_probe`): degrees counter-clockwise
that the stored picture must be turned to be shown upright.
"""

from __future__ import annotations

import bisect
import math
import os
import secrets
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

from locker.domain import LONG_RATIO
from locker.errors import LockerError, StoreError

__all__ = ["DerivationError", "Frame", "Rendition", "Slice", "video_frames", "image_rendition",
           "slice_plan", "timecode", "LONG_RATIO", "BLANK_ROW_VARIANCE"]

# An image with height >= LONG_RATIO × width is a long screenshot: kept at full width, sliced for pages.

BLANK_ROW_VARIANCE = 6.0
"""A row whose greyscale variance is at most this is 'blank': JPEG noise on a plain background stays
well below it, one black pixel in a white 1080-px row gives ~60."""

JPEG_MAX_SIDE = 65_500
"""JPEG cannot store a side longer than 65,535 px."""

_ORIENTATION_OPS = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
                    6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}
_ROTATION_OPS = {90: "ROTATE_90", 180: "ROTATE_180", 270: "ROTATE_270"}  # counter-clockwise
_LOSSLESS_FORMATS = frozenset({"PNG", "GIF", "BMP", "TIFF", "PPM", "ICO"})
_STRIP_ROWS = 2048
_TMP_PREFIX = ".tmp-"  # as locker.store: a left-over temporary file is recognisable


class DerivationError(LockerError):
    """The original cannot be turned into a derivative: undecodable, truncated, too large."""

    code = "derive"


@dataclass(frozen=True)
class Frame:
    index: int  # 0..n-1
    time: float  # seconds from the start of the video stream, presentation time of the frame decoded
    timecode: str  # "00:01:23.500"
    file: str  # file name inside out_dir, e.g. "frame-00.jpg"
    width: int
    height: int  # after rotation


@dataclass(frozen=True)
class Rendition:
    display: str  # file name inside out_dir: JPEG, orientation applied, longest side <= max_side
    thumbnail: str  # file name inside out_dir: JPEG that fits thumb_side × thumb_side
    width: int  # of the display rendition
    height: int
    source_width: int  # of the original, after orientation
    source_height: int


@dataclass(frozen=True)
class Slice:
    top: int  # pixel rows of the image, [top, bottom)
    bottom: int


# --------------------------------------------------------------------------- helpers


def timecode(seconds: float) -> str:
    """12.5 → "00:00:12.500" (hours keep counting past 99)."""
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def _short(exc: object) -> str:
    text = " ".join(str(getattr(exc, "strerror", None) or exc).split())
    return (text[:160] + "…") if len(text) > 160 else (text or type(exc).__name__)


class _Outputs:
    """Files staged under temporary names in ``out_dir``; renamed into place by :meth:`commit`."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.staged: list[tuple[Path, Path]] = []
        self.created: list[Path] = []  # folders made here, removed again by abort() when left empty

    def _temp(self, name: str) -> Path:
        """A new empty file in out_dir, private (0600) like the rest of the locker, named as
        locker.store names its temporary files (``.tmp-<pid>-<random>-<name>``)."""
        temp = self.out_dir / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}-{name}"
        try:
            if not self.out_dir.is_dir():
                missing = [self.out_dir, *(p for p in self.out_dir.parents if not p.exists())]
                self.out_dir.mkdir(parents=True, exist_ok=True)
                self.created = [p for p in missing if p.is_dir()]
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot write: {_short(exc)}", path=str(self.out_dir / name)) from exc
        self.staged.append((temp, self.out_dir / name))
        return temp

    def save_jpeg(self, img: Any, name: str, *, quality: int, icc: bytes | None = None,
                  subsampling: int = -1) -> None:
        temp = self._temp(name)
        kwargs: dict[str, Any] = {"quality": quality}
        if icc:
            kwargs["icc_profile"] = icc
        if subsampling >= 0:
            kwargs["subsampling"] = subsampling
        try:
            img.save(temp, "JPEG", **kwargs)
        except OSError as exc:
            raise StoreError(f"cannot write: {_short(exc)}", path=str(self.out_dir / name)) from exc

    def copy(self, src: Path, name: str) -> None:
        temp = self._temp(name)
        try:
            shutil.copyfile(src, temp)
        except OSError as exc:
            raise StoreError(f"cannot copy: {_short(exc)}", path=str(self.out_dir / name)) from exc

    def commit(self) -> None:
        try:
            for temp, final in self.staged:
                os.replace(temp, final)
        except OSError as exc:
            self.abort()
            raise StoreError(f"cannot write: {_short(exc)}", path=str(self.out_dir)) from exc
        self.staged.clear()
        self.created = []

    def abort(self) -> None:
        for temp, _final in self.staged:
            try:
                temp.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                pass  # best effort: a stray ".tmp-…" file is harmless and recognisable
        self.staged.clear()
        for folder in self.created:  # deepest first
            try:
                folder.rmdir()
            except OSError:
                break  # not empty, or not ours to remove
        self.created = []


def _fit(width: int, height: int, limit: int) -> tuple[int, int, float]:
    """(w, h, scale) fitting the longest side into ``limit``, never upscaled."""
    scale = min(1.0, limit / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale)), scale


# --------------------------------------------------------------------------- video


def _iso_rotation(src: Path) -> tuple[int | None, str | None]:
    """(rotation from the MP4/MOV ``tkhd`` matrix, truncated box) without decoding; (None, None) otherwise."""
    from locker.media.av_probe import _scan_isobmff

    try:
        with open(src, "rb") as f:
            head = f.read(12)
            if head[4:8] != b"ftyp":
                return None, None
            scan = _scan_isobmff(f, os.fstat(f.fileno()).st_size)
    except OSError as exc:
        raise DerivationError(f"cannot read the video: {_short(exc)}", path=str(src)) from exc
    return scan.rotation, scan.truncated_box


def _normalise_rotation(value: Any) -> int:
    try:
        degrees = float(value)
    except (TypeError, ValueError):
        return 0
    if not math.isfinite(degrees):
        return 0
    return int(round(degrees / 90.0)) * 90 % 360


class _Seeker:
    """Decode the video stream to the first frame at or after a timestamp, seeking only when it pays."""

    def __init__(self, container: Any, stream: Any, start: int, one_second: int, margin: int) -> None:
        self.container = container
        self.stream = stream
        self.start = start
        self.one_second = max(1, one_second)
        self.margin = margin  # frames this close before the target are all decoded
        self.skip_before: int | None = None  # packets before this pts: non-reference frames skipped
        self._keys: list[int] = []
        self._indexed = -1  # len(index_entries) when _keys was built
        self.frames: Iterator[Any] | None = None
        self.last: Any = None  # the frame decoded last
        self.last_pts: int | None = None
        self.exhausted = False

    def _pts(self, frame: Any) -> int:
        pts = frame.pts if frame.pts is not None else frame.dts
        if pts is None:  # no timestamps at all: one frame after the last
            step = frame.duration or 1
            pts = (self.last_pts if self.last_pts is not None else self.start - step) + step
        return int(pts)

    def keys(self) -> list[int]:
        """Key-frame timestamps of the demuxer's index (decode times in MP4). Some demuxers (Matroska)
        fill the index as they read, so it is read again whenever it has grown."""
        try:
            entries = self.stream.index_entries
            if len(entries) != self._indexed:
                self._keys = sorted(e.timestamp for e in entries if e.is_keyframe)
                self._indexed = len(entries)
        except Exception:  # no index: seek every time
            self._keys = []
        return self._keys

    def _should_continue(self, target: int) -> bool:
        if self.frames is None or self.last_pts is None:
            return False
        if self.exhausted or self.last_pts >= target:
            return True
        keys = self.keys()
        if len(keys) >= 2:
            i = bisect.bisect_right(keys, target) - 1
            key = keys[i] if i >= 0 else self.start
            return key <= self.last_pts  # no key frame between here and the target: seeking cannot help
        return target - self.last_pts <= self.one_second  # no usable index

    def close(self) -> None:
        """Drop the decoder generator and the last frame now (the generator refers back to self)."""
        if self.frames is not None:
            close = getattr(self.frames, "close", None)
            if close:
                close()
        self.frames = None
        self.last = None

    def _seek(self, offset: int) -> None:
        self.close()
        try:
            self.container.seek(offset, stream=self.stream, backward=True, any_frame=False)
        except Exception as exc:
            raise DerivationError(f"cannot seek in the video: {_short(exc)}") from exc
        self.frames = self._decode()
        self.last = None
        self.last_pts = None
        self.exhausted = False

    def _decode(self) -> Iterator[Any]:
        """container.decode(stream), but frames that nothing refers to (most B-frames) are not
        decoded while they lie before the target: they could never be the frame chosen."""
        ctx = self.stream.codec_context
        skipping = False
        for packet in self.container.demux(self.stream):
            skip = packet.pts is not None and self.skip_before is not None and packet.pts < self.skip_before
            if skip != skipping:
                ctx.skip_frame = "NONREF" if skip else "DEFAULT"
                skipping = skip
            yield from packet.decode()
        if skipping:
            ctx.skip_frame = "DEFAULT"

    def _next(self) -> Any:
        assert self.frames is not None
        try:
            frame = next(self.frames)
        except StopIteration:
            self.exhausted = True
            return None
        self.last, self.last_pts = frame, self._pts(frame)
        return frame

    def frame_at(self, target: int) -> tuple[Any, int]:
        """The first frame with pts >= target (or the last frame of the stream) and its pts."""
        self.skip_before = target - self.margin
        if not self._should_continue(target):
            earliest = min(self.start, 0)  # seeking to the start time itself can land after it (MPEG-TS)
            back = 0
            for _attempt in range(16):
                offset = target - back if target - back > self.start else earliest
                self._seek(offset)
                self._next()
                if self.last_pts is not None and self.last_pts <= target:
                    break  # on a key frame at or before the target
                if offset == earliest:
                    break  # the stream starts after the target, or nothing decodes
                # landed after the target, or on nothing decodable (a format that seeks to any
                # packet drops the frames before the next key frame): further back
                back = max(self.one_second, back * 2)
            if self.last is None:
                raise DerivationError("no decodable video frame")
        while self.last_pts is not None and self.last_pts < target and not self.exhausted:
            previous = self.last, self.last_pts
            if self._next() is None:
                self.last, self.last_pts = previous
        assert self.last is not None and self.last_pts is not None
        return self.last, self.last_pts


def _video_duration(container: Any, stream: Any, tb: Fraction) -> Fraction | None:
    if stream.duration and stream.duration > 0:
        return stream.duration * tb
    if container.duration and container.duration > 0:
        return Fraction(container.duration, 1_000_000)
    return None


def _scan_duration(container: Any, stream: Any, tb: Fraction, start: int) -> Fraction | None:
    """Duration from the packets' timestamps (demux only, no decoding), for files whose header lacks it."""
    end = None
    for packet in container.demux(stream):
        if packet.pts is not None:
            stop = packet.pts + (packet.duration or 0)
            end = stop if end is None else max(end, stop)
    container.seek(0)
    return (end - start) * tb if end is not None and end > start else None


def video_frames(src: Path, out_dir: Path, count: int = 9, *, max_side: int = 1280,
                 quality: int = 85) -> list[Frame]:
    """``count`` frames evenly spaced over the duration, at ``(i + 0.5) * duration / count`` (neither
    the often black first frame nor the very end), rotation applied, scaled to fit ``max_side``, JPEG.

    Each frame is the first whose presentation time is at or after its target: seek backward to the
    key frame before the target, then decode forward. Files: ``frame-00.jpg`` … in ``out_dir``.
    Raises DerivationError for undecodable or truncated input.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    src, out_dir = Path(src), Path(out_dir)
    rotation, truncated = _iso_rotation(src)
    if truncated:
        raise DerivationError(f"truncated video: the '{truncated}' box runs past the end of the file",
                              path=str(src))
    import av

    from locker.media.av_probe import DECODER_OPTIONS

    try:
        container = av.open(str(src), mode="r", metadata_errors="replace", options=dict(DECODER_OPTIONS))
    except Exception as exc:  # InvalidDataError, "moov atom not found", OSError…
        raise DerivationError(f"cannot read the video: {_short(exc)}", path=str(src)) from exc
    outputs = _Outputs(out_dir)
    try:
        frames = _extract(container, outputs, count, rotation, max_side, quality)
        outputs.commit()
        return frames
    except DerivationError as exc:
        if exc.path is None:
            raise DerivationError(exc.message, path=str(src)) from exc
        raise
    except (LockerError, MemoryError):
        raise
    except Exception as exc:  # any decoder/demuxer failure on hostile input
        raise DerivationError(f"cannot decode the video: {_short(exc)}", path=str(src)) from exc
    finally:
        outputs.abort()  # after a failure or an interruption; nothing left to do after commit()
        container.close()


def _extract(container: Any, outputs: _Outputs, count: int, rotation: int | None, max_side: int,
             quality: int) -> list[Frame]:
    from locker.media.av_probe import DECODER_OPTIONS

    stream = next((s for s in container.streams.video
                   if not (int(s.disposition) & 0x400)), None)  # AV_DISPOSITION_ATTACHED_PIC
    if stream is None:
        raise DerivationError("no video stream")
    ctx = stream.codec_context
    ctx.thread_type = "AUTO"  # frame + slice threads
    ctx.options = {**(ctx.options or {}), **DECODER_OPTIONS}  # no frame buffer above the pixel limit
    tb = Fraction(stream.time_base) if stream.time_base else Fraction(1, 90_000)
    start = int(stream.start_time) if stream.start_time is not None else 0
    duration = _video_duration(container, stream, tb)
    if duration is None:
        duration = _scan_duration(container, stream, tb, start)
    if duration is None or duration <= 0:
        raise DerivationError("the video has no duration and no timestamps")
    sar = stream.sample_aspect_ratio or ctx.sample_aspect_ratio
    frame_step = Fraction(1, 25)
    rate = stream.average_rate or stream.guessed_rate
    if rate:
        frame_step = 1 / Fraction(rate)

    seeker = _Seeker(container, stream, start, math.ceil(Fraction(1) / tb), math.ceil(4 * frame_step / tb))
    try:
        return _write_frames(seeker, outputs, count, duration, start, tb, frame_step, sar, rotation,
                             max_side, quality)
    finally:
        seeker.close()


def _write_frames(seeker: _Seeker, outputs: _Outputs, count: int, duration: Fraction, start: int,
                  tb: Fraction, frame_step: Fraction, sar: Any, rotation: int | None, max_side: int,
                  quality: int) -> list[Frame]:
    from PIL import Image

    digits = max(2, len(str(count - 1)))
    result: list[Frame] = []
    for i in range(count):
        target_time = (i + Fraction(1, 2)) * duration / count
        target = start + math.ceil(target_time / tb)
        frame, pts = seeker.frame_at(target)
        shown_until = (pts - start) * tb + (Fraction(frame.duration) * tb if frame.duration else frame_step)
        if seeker.exhausted and pts < target and shown_until + 2 * frame_step < target_time:
            raise DerivationError(
                f"truncated video: no frame after {float((pts - start) * tb):.3f} s "
                f"although it lasts {float(duration):.3f} s")
        if rotation is None:  # not MP4/MOV: the display matrix FFmpeg attached to the frame
            rotation = _normalise_rotation(getattr(frame, "rotation", 0))
        width, height = int(frame.width), int(frame.height)
        if sar and Fraction(sar) > 0 and Fraction(sar) != 1:
            width = max(1, round(width * Fraction(sar)))
        turned = rotation in (90, 270)
        shown_w, shown_h = (height, width) if turned else (width, height)
        out_w, out_h, _scale = _fit(shown_w, shown_h, max_side)
        store_w, store_h = (out_h, out_w) if turned else (out_w, out_h)
        if (store_w, store_h) == (frame.width, frame.height):
            img = frame.to_image()
        else:
            img = frame.to_image(width=store_w, height=store_h, interpolation="AREA")
        if rotation in _ROTATION_OPS:
            img = img.transpose(getattr(Image.Transpose, _ROTATION_OPS[rotation]))
        name = f"frame-{i:0{digits}d}.jpg"
        outputs.save_jpeg(img, name, quality=quality)
        seconds = float(max(Fraction(0), (pts - start) * tb))
        result.append(Frame(index=i, time=seconds, timecode=timecode(seconds), file=name,
                            width=img.width, height=img.height))
    return result


# --------------------------------------------------------------------------- images


def _open_image(src: Path) -> Any:
    """Image.open with the locker's pixel limit (over it: DerivationError); HEIF registered."""
    import warnings

    from locker.media.images import HEIF_MAX_BYTES, SAFE_DECODE_PIXELS, _pil, _warnings_lock, register_heif

    Image = _pil()
    try:
        with open(src, "rb") as f:
            head = f.read(16)
            size = os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise DerivationError(f"cannot read the image: {_short(exc)}", path=str(src)) from exc
    if head[4:8] == b"ftyp":
        if size > HEIF_MAX_BYTES:
            raise DerivationError(f"HEIF image larger than {HEIF_MAX_BYTES >> 20} MiB not decoded", path=str(src))
        try:
            register_heif()
        except ImportError:
            pass  # then Pillow cannot identify it: reported below
    with _warnings_lock, warnings.catch_warnings():
        # Pillow's warnings about damaged headers ("Corrupt EXIF data"…) would be printed on the
        # user's terminal with a source line; the damage shows as a DerivationError or not at all.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(src)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DerivationError("image too large to decode safely", path=str(src)) from exc
        except Exception as exc:  # UnidentifiedImageError, OSError, SyntaxError… on hostile input
            raise DerivationError(f"cannot read the image: {_short(exc)}", path=str(src)) from exc
    width, height = img.size
    if width < 1 or height < 1 or width * height > SAFE_DECODE_PIXELS:
        img.close()
        raise DerivationError(f"image too large to decode safely ({width}×{height})", path=str(src))
    return img


def _orientation(img: Any) -> int:
    import warnings

    from locker.media.images import _warnings_lock

    try:
        with _warnings_lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data…": not for the user's terminal
            value = img.getexif().get(0x0112)
    except Exception:  # damaged EXIF: show the pixels as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _flatten(img: Any) -> Any:
    """An RGB or L image: alpha composited on white, 16-bit and float scaled to 8 bits."""
    from PIL import Image

    mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or ("transparency" in img.info and mode in ("P", "L", "RGB", "1")):
        rgba = img.convert("RGBA")
        page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        page.alpha_composite(rgba)
        return page.convert("RGB")
    if mode in ("RGB", "L"):
        return img
    if mode.startswith("I;16"):
        return img.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    if mode in ("I", "F"):
        low, high = img.getextrema()
        if high > 255 or low < 0:
            span = (high - low) or 1
            img = img.point(lambda v: (v - low) * (255 / span))
        return img.convert("L")
    return img.convert("RGB")  # P, 1, CMYK, YCbCr, LAB, HSV


def _icc_for(img: Any, out_mode: str) -> bytes | None:
    """The source's ICC profile when it describes the output's colour space (RGB or grey)."""
    icc = img.info.get("icc_profile")
    if not isinstance(icc, bytes) or len(icc) < 20:
        return None
    space = icc[16:20]
    return icc if (space == b"RGB " and out_mode == "RGB") or (space == b"GRAY" and out_mode == "L") else None


def image_rendition(src: Path, out_dir: Path, *, max_side: int = 2400, thumb_side: int = 320,
                    quality: int = 88) -> Rendition:
    """A JPEG display rendition (``display.jpg``) and thumbnail (``thumb.jpg``) of any image Pillow or
    pillow-heif opens: EXIF orientation applied, alpha flattened on white, longest side <= max_side
    (never upscaled); a long screenshot (h >= 2.5 w) keeps its width up to max_side, whatever its
    height. A JPEG that needs neither turning nor scaling is copied byte for byte.
    Raises DerivationError for undecodable input or images over the pixel limit.
    """
    from PIL import Image

    src, out_dir = Path(src), Path(out_dir)
    img = _open_image(src)
    outputs: _Outputs | None = None
    try:
        fmt = str(img.format or "")
        orientation = _orientation(img)
        turned = orientation in (5, 6, 7, 8)
        stored_w, stored_h = img.size
        source_w, source_h = (stored_h, stored_w) if turned else (stored_w, stored_h)
        if source_h >= LONG_RATIO * source_w:
            scale = min(1.0, max_side / source_w, JPEG_MAX_SIDE / source_h)
            display_w, display_h = max(1, round(source_w * scale)), max(1, round(source_h * scale))
        else:
            display_w, display_h, scale = _fit(source_w, source_h, min(max_side, JPEG_MAX_SIDE))
        thumb_w, thumb_h, _ = _fit(display_w, display_h, thumb_side)
        store_size = (display_h, display_w) if turned else (display_w, display_h)
        copy = fmt == "JPEG" and orientation == 1 and scale >= 1.0 and img.mode in ("RGB", "L")

        outputs = _Outputs(out_dir)
        resample = Image.Resampling.LANCZOS
        if copy:
            img.draft(img.mode, (thumb_w, thumb_h))  # only the thumbnail is decoded, at 1/2–1/8 scale
            img.load()
            thumb = _flatten(img)
            outputs.copy(src, "display.jpg")
        else:
            if fmt in ("JPEG", "MPO") and scale < 1.0:
                img.draft("RGB" if img.mode in ("RGB", "YCbCr") else img.mode, store_size)
            img.load()
            display = _flatten(img)
            if display.size != store_size:
                display = display.resize(store_size, resample, reducing_gap=3.0)
            op = _ORIENTATION_OPS.get(orientation)
            if op:
                display = display.transpose(getattr(Image.Transpose, op))
            subsampling = 0 if fmt in _LOSSLESS_FORMATS else -1  # 4:4:4 keeps coloured text sharp
            outputs.save_jpeg(display, "display.jpg", quality=quality, icc=_icc_for(img, display.mode),
                              subsampling=subsampling)
            thumb = display
        if thumb.size != (thumb_w, thumb_h):
            thumb = thumb.resize((thumb_w, thumb_h), resample, reducing_gap=3.0)
        outputs.save_jpeg(thumb, "thumb.jpg", quality=quality, icc=_icc_for(img, thumb.mode))
        outputs.commit()
    except (LockerError, MemoryError):
        raise
    except Exception as exc:  # truncated or damaged pixel data, decoder errors
        raise DerivationError(f"cannot decode the image: {_short(exc)}", path=str(src)) from exc
    finally:
        if outputs is not None:
            outputs.abort()  # after a failure or an interruption; nothing left to do after commit()
        img.close()
    return Rendition(display="display.jpg", thumbnail="thumb.jpg", width=display_w, height=display_h,
                     source_width=source_w, source_height=source_h)


# --------------------------------------------------------------------------- long screenshots


def _row_variances(img: Any) -> list[float]:
    """Greyscale variance of every pixel row, computed by Pillow in C (strips bound the memory)."""
    import array

    from PIL import Image, ImageMath

    width, height = img.size
    box = Image.Resampling.BOX
    result: list[float] = []
    for top in range(0, height, _STRIP_ROWS):
        strip = img.crop((0, top, width, min(height, top + _STRIP_ROWS)))
        if strip.mode not in ("L", "RGB"):
            strip = _flatten(strip)
        grey = strip.convert("L").convert("F")
        rows = grey.height
        mean = array.array("f", grey.resize((1, rows), box).tobytes())
        square = ImageMath.lambda_eval(lambda a: a["x"] * a["x"], x=grey)
        mean_sq = array.array("f", square.resize((1, rows), box).tobytes())
        result.extend(max(0.0, s - m * m) for m, s in zip(mean, mean_sq))
    return result


def _best_cut(variances: list[float], low: int, high: int) -> int | None:
    """The middle of the best run of blank rows in [low, high]: the longest (runs of 32 rows or more
    count as equal), then the lowest on the page. None when no row there is blank."""
    best: tuple[int, int, int] | None = None  # (capped length, start, end)
    row = low
    while row <= high:
        if variances[row] > BLANK_ROW_VARIANCE:
            row += 1
            continue
        first = row
        while row + 1 <= high and variances[row + 1] <= BLANK_ROW_VARIANCE:
            row += 1
        candidate = (min(row - first + 1, 32), first, row)
        if best is None or candidate[0] >= best[0]:
            best = candidate
        row += 1
    if best is None:
        return None
    return (best[1] + best[2] + 1) // 2


def slice_plan(image_path: Path, *, page_ratio: float = 1.35, overlap: int = 48,
               min_fill: float = 0.75) -> list[Slice]:
    """Where to cut a long image (height >= 2.5 × width) into slices that each fit a page at full
    width (height <= width × page_ratio).

    Each cut is placed in a blank row (greyscale variance <= BLANK_ROW_VARIANCE) within the last
    ``1 - min_fill`` of the slice's window: the middle of the longest run of blank rows there, the
    lowest one among equals. Where no row is blank, the slice ends at the window's end and the next
    one starts ``overlap`` px higher, so a line cut in two is whole on one of the pages. Slices start
    at 0, end at the height, and leave no gap. An image that is not long gives ``[Slice(0, h)]``.
    """
    if page_ratio <= 0 or not 0 < min_fill <= 1 or overlap < 0:
        raise ValueError("page_ratio > 0, 0 < min_fill <= 1 and overlap >= 0 are required")
    path = Path(image_path)
    img = _open_image(path)
    try:
        width, height = img.size
        if height < LONG_RATIO * width:
            return [Slice(0, height)]
        page = max(1, math.floor(width * page_ratio))
        try:
            variances = _row_variances(img)
        except MemoryError:
            raise
        except Exception as exc:
            raise DerivationError(f"cannot decode the image: {_short(exc)}", path=str(path)) from exc
    finally:
        img.close()
    step_back = min(overlap, page // 4)
    slices: list[Slice] = []
    top = 0
    while height - top > page:
        end = top + page
        cut = _best_cut(variances, top + max(1, math.ceil(page * min_fill)), end)
        if cut is None:
            slices.append(Slice(top, end))
            top = end - step_back
        else:
            slices.append(Slice(top, cut))
            top = cut
    slices.append(Slice(top, height))
    return slices
