"""Image renditions: a JPEG display rendition (EXIF orientation applied, alpha flattened on
white) and a thumbnail, from any image Pillow or pillow-heif opens."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from locker.domain import LONG_RATIO
from locker.errors import LockerError
from locker.media.outputs import DerivationError, Rendition, _fit, _Outputs, _short

__all__ = ["JPEG_MAX_SIDE", "image_rendition"]

JPEG_MAX_SIDE = 65_500
"""JPEG cannot store a side longer than 65,535 px."""

_ORIENTATION_OPS = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
                    6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}
_LOSSLESS_FORMATS = frozenset({"PNG", "GIF", "BMP", "TIFF", "PPM", "ICO"})
_STRIP_ROWS = 2048


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
