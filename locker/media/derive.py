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

Where things are: :mod:`~locker.media.outputs` (results, errors, staged writing),
:mod:`~locker.media.frames` and :mod:`~locker.media.seeker` (video),
:mod:`~locker.media.rendition` (images), :mod:`~locker.media.slices` (long
screenshots). This module re-exports them.
"""

from __future__ import annotations

from locker.domain import LONG_RATIO
from locker.media.frames import _ROTATION_OPS, video_frames  # noqa: F401  (internals the tests reach for)
from locker.media.outputs import (  # noqa: F401
    _TMP_PREFIX,
    DerivationError,
    Frame,
    Rendition,
    Slice,
    _fit,
    _Outputs,
    _short,
    timecode,
)
from locker.media.rendition import (  # noqa: F401
    _LOSSLESS_FORMATS,
    _ORIENTATION_OPS,
    _STRIP_ROWS,
    JPEG_MAX_SIDE,
    _flatten,
    _icc_for,
    _open_image,
    _orientation,
    image_rendition,
)
from locker.media.seeker import _Seeker  # noqa: F401
from locker.media.slices import BLANK_ROW_VARIANCE, slice_plan

__all__ = ["DerivationError", "Frame", "Rendition", "Slice", "video_frames", "image_rendition",
           "slice_plan", "timecode", "LONG_RATIO", "BLANK_ROW_VARIANCE", "JPEG_MAX_SIDE"]
