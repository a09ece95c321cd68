"""Video key frames: ``count`` frames evenly spaced over a video, its rotation applied, as JPEG."""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

from locker.errors import LockerError
from locker.media.outputs import DerivationError, Frame, _fit, _Outputs, _short, timecode
from locker.media.seeker import _Seeker

__all__ = ["video_frames"]

_ROTATION_OPS = {90: "ROTATE_90", 180: "ROTATE_180", 270: "ROTATE_270"}  # counter-clockwise


def _iso_rotation(src: Path) -> tuple[int | None, str | None]:
    """(rotation from the MP4/MOV ``tkhd`` matrix, truncated box) without decoding; (None, None) otherwise."""
    from locker.media.isobmff import _scan_isobmff

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


def _video_duration(container: Any, stream: Any, tb: Fraction) -> Fraction | None:
    if stream.duration and stream.duration > 0:
        return Fraction(stream.duration * tb)
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
