"""Seeking a video stream to the frame at or after a target time (see :func:`locker.media.frames.video_frames`)."""

from __future__ import annotations

import bisect
from typing import Any, Iterator

from locker.media.outputs import DerivationError, _short


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
