"""Sample evidence files, generated on the fly for tests (no binary fixtures in the repo).

Every ``make_*`` function writes one file at ``path`` (parents created), returns
it as a :class:`~pathlib.Path`, and depends only on the project's own
dependencies (Pillow, pillow-heif, PyAV, reportlab) and the standard library.
Defaults give a realistic, small file; keyword arguments shape the content.

Times: EXIF times are local wall-clock strings (default "2025:05:03 15:01:02"
with offset "+08:00", matching a phone's ``IMG_20250503_150102.jpg``);
container ``creation_time`` is UTC ("…Z"), as phones write it.

``seed``: image makers draw a block of seeded noise when given a seed, so files
of the same size with different seeds have different bytes (and hashes); without
a seed the content is a fixed gradient.
"""

from __future__ import annotations

import json
import os
import random
import struct
import zipfile
import zlib
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Sequence

__all__ = [
    "camera_exif", "make_jpeg", "make_jpeg_with_exif", "make_png", "make_heic", "make_mp4",
    "make_m4a", "make_wav", "make_pdf", "make_pdf_with_object_streams", "make_png_bomb",
    "make_random", "make_truncated", "make_silk", "make_whatsapp_android_chat",
    "make_whatsapp_ios_chat", "make_whatsapp_ios_zip", "make_plain_chat", "make_telegram_json",
    "make_memotrace_csv", "make_csv_chat", "video_codec", "make_whatsapp_android_zip",
    "make_memotrace_txt", "make_numbered_video", "frame_code_cells",
    "FRAME_CODE_BITS", "make_oriented_image", "upright_marker_picture", "make_long_screenshot",
    "make_webp", "make_gif", "make_corrupt", "make_jpeg_bomb", "make_heic_bomb", "make_pdf_broken_xref",
    "make_zip_bomb_chat", "make_huge_line_chat", "add_gpmf_track", "make_avi", "gpmf_gpsu",
]

DEFAULT_DATETIME = "2025:05:03 15:01:02"
DEFAULT_GPS = (31.2304, 121.4737, 12.5)  # Shanghai, People's Square
DEFAULT_CREATION_TIME = "2025-05-03T06:22:10.000000Z"  # = 14:22:10 in Asia/Shanghai


def _prepare(path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- images


def _dms(value: float) -> tuple[Any, Any, Any]:
    from PIL.TiffImagePlugin import IFDRational

    value = abs(value)
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    seconds = Fraction((minutes_full - minutes) * 60).limit_denominator(10000)
    return (IFDRational(degrees, 1), IFDRational(minutes, 1),
            IFDRational(seconds.numerator, seconds.denominator))


def camera_exif(
    *,
    make: str | None = "Apple",
    model: str | None = "iPhone 15 Pro",
    datetime_original: str | None = DEFAULT_DATETIME,
    offset: str | None = "+08:00",
    gps: tuple[float, float, float | None] | None = DEFAULT_GPS,
    software: str | None = None,
    orientation: int | None = None,
    exposure_time: Fraction | None = Fraction(1, 120),
    f_number: float | None = 1.8,
    user_comment: str | None = None,
    gps_time: datetime | None = None,
) -> bytes:
    """EXIF bytes (for ``Image.save(exif=…)``) as a phone camera writes them.

    Pass None to leave a tag out: ``camera_exif(make=None, model=None,
    datetime_original=None, offset=None, gps=None, exposure_time=None,
    f_number=None, user_comment="Screenshot")`` is an iOS screenshot's EXIF.
    """
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    if make is not None:
        exif[0x010F] = make
    if model is not None:
        exif[0x0110] = model
    if software is not None:
        exif[0x0131] = software
    if orientation is not None:
        exif[0x0112] = orientation
    sub: dict[int, Any] = {}
    if datetime_original is not None:
        sub[0x9003] = datetime_original
    if offset is not None:
        sub[0x9011] = offset
    if exposure_time is not None:
        sub[0x829A] = IFDRational(exposure_time.numerator, exposure_time.denominator)
    if f_number is not None:
        f = Fraction(f_number).limit_denominator(100)
        sub[0x829D] = IFDRational(f.numerator, f.denominator)
    if user_comment is not None:
        sub[0x9286] = b"ASCII\0\0\0" + user_comment.encode("ascii")
    if sub:
        exif[0x8769] = sub
    if gps is not None:
        lat, lon, alt = gps
        gps_ifd: dict[int, Any] = {
            0: b"\x02\x02\x00\x00",
            1: "N" if lat >= 0 else "S",
            2: _dms(lat),
            3: "E" if lon >= 0 else "W",
            4: _dms(lon),
        }
        if alt is not None:
            a = Fraction(abs(alt)).limit_denominator(100)
            gps_ifd[5] = b"\x00" if alt >= 0 else b"\x01"
            gps_ifd[6] = IFDRational(a.numerator, a.denominator)
        exif[0x8825] = gps_ifd
    if gps_time is not None:  # GPSDateStamp + GPSTimeStamp: UTC, as a GPS receiver reports it
        gps_ifd = dict(exif.get(0x8825) or {0: b"\x02\x02\x00\x00"})
        gps_ifd[29] = gps_time.strftime("%Y:%m:%d")
        gps_ifd[7] = (IFDRational(gps_time.hour, 1), IFDRational(gps_time.minute, 1),
                      IFDRational(gps_time.second * 100 + gps_time.microsecond // 10000, 100))
        exif[0x8825] = gps_ifd
    return exif.tobytes()


def _picture(width: int, height: int, seed: int | None = None) -> Any:
    """An RGB gradient; with a seed, a block of seeded noise in its top-left corner."""
    from PIL import Image

    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    if seed is not None:
        side = max(1, min(32, width, height))
        noise = random.Random(seed).randbytes(side * side * 3)
        img.paste(Image.frombytes("RGB", (side, side), noise), (0, 0))
    return img


def make_jpeg(path: Path | str, width: int = 640, height: int = 480, *,
              exif: bytes | None = None, quality: int = 85, seed: int | None = None) -> Path:
    """A JPEG, with ``exif`` bytes if given (else no EXIF at all)."""
    path = _prepare(path)
    img = _picture(width, height, seed)
    kwargs: dict[str, Any] = {"quality": quality}
    if exif:
        kwargs["exif"] = exif
    img.save(path, "JPEG", **kwargs)
    return path


def make_jpeg_with_exif(path: Path | str, width: int = 640, height: int = 480, *,
                        seed: int | None = None, **exif_fields: Any) -> Path:
    """A JPEG with camera EXIF; other keyword arguments go to :func:`camera_exif`."""
    return make_jpeg(path, width, height, exif=camera_exif(**exif_fields), seed=seed)


def make_png(path: Path | str, width: int = 1080, height: int = 2340, *,
             exif: bytes | None = None, seed: int | None = None) -> Path:
    """A PNG (default: an Android phone screenshot's size, no EXIF)."""
    path = _prepare(path)
    img = _picture(width, height, seed)
    if exif:
        img.save(path, "PNG", exif=exif)
    else:
        img.save(path, "PNG")
    return path


def make_heic(path: Path | str, width: int = 640, height: int = 480, *,
              exif: bytes | None | bool = True, seed: int | None = None,
              **exif_fields: Any) -> Path:
    """A HEIC written by pillow-heif; ``exif=True`` adds :func:`camera_exif` (``exif_fields``)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    path = _prepare(path)
    img = _picture(width, height, seed)
    data = camera_exif(**exif_fields) if exif is True else (exif or None)
    if data:
        img.save(path, "HEIF", exif=data, quality=60)
    else:
        img.save(path, "HEIF", quality=60)
    return path


def make_png_bomb(path: Path | str, width: int = 20000, height: int = 20000) -> Path:
    """A valid 1-bit greyscale PNG of ``width``×``height`` that is tiny on disk.

    20000×20000 (400 MP) is over the locker's 300 MP decode limit; 30000×30000
    is over twice it (Pillow refuses to open it). Written row by row: the
    generator itself stays small in memory.
    """
    path = _prepare(path)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    parts = []
    for _ in range(height):
        chunk = compressor.compress(row)
        if chunk:
            parts.append(chunk)
    parts.append(compressor.flush())
    idat = b"".join(parts)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))
    return path


# Orientation: the Pillow transpose that turns the stored pixels upright (as
# ImageOps.exif_transpose applies it), and the one that stores an upright picture.
_ORIENTATION_OPS = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
                    6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}
_INVERSE_OPS = {**_ORIENTATION_OPS, 6: "ROTATE_90", 8: "ROTATE_270"}


def upright_marker_picture(width: int = 400, height: int = 300) -> Any:
    """An upright RGB test picture: grey, a red square top-left, a blue square top-right.

    Wherever a derivative shows red top-left and blue top-right, it is upright and
    not mirrored.
    """
    from PIL import Image

    img = Image.new("RGB", (width, height), (128, 128, 128))
    side = max(4, min(width, height) // 5)
    img.paste((255, 0, 0), (0, 0, side, side))
    img.paste((0, 0, 255), (width - side, 0, width, side))
    return img


def make_oriented_image(path: Path | str, orientation: int = 6, width: int = 400, height: int = 300,
                        *, picture: Any = None, quality: int = 90) -> Path:
    """An image whose *upright* view is ``picture`` (default :func:`upright_marker_picture`
    of ``width``×``height``), stored as a camera stores it: pixels turned by the inverse
    of EXIF ``orientation`` (1–8), with the Orientation tag set.

    The format follows the suffix: .jpg/.jpeg (JPEG), .heic/.heif (pillow-heif,
    which turns the tag into the HEIF ``irot``/``imir`` transform), .png, .webp.
    """
    from PIL import Image

    path = _prepare(path)
    upright = picture if picture is not None else upright_marker_picture(width, height)
    op = _INVERSE_OPS.get(orientation)
    stored = upright.transpose(getattr(Image.Transpose, op)) if op else upright.copy()
    exif = Image.Exif()
    exif[0x0112] = orientation
    suffix = path.suffix.lower()
    if suffix in (".heic", ".heif"):
        from pillow_heif import register_heif_opener

        register_heif_opener()
        stored.save(path, "HEIF", exif=exif.tobytes(), quality=quality)
    elif suffix == ".png":
        stored.save(path, "PNG", exif=exif.tobytes())
    elif suffix == ".webp":
        stored.save(path, "WEBP", exif=exif.tobytes(), quality=quality)
    else:
        stored.save(path, "JPEG", exif=exif.tobytes(), quality=quality)
    return path


def make_long_screenshot(path: Path | str, width: int = 1080, height: int = 6000, *,
                         blank_rows: bool = True, seed: int = 0) -> Path:
    """A long (scrolling) chat screenshot: message bubbles of 34 px text lines.

    ``blank_rows=True``: a white page where bubbles (a coloured box with text) are
    separated by blank rows of 24–90 px; the rows between text lines inside a
    bubble are *not* blank (bubble colour and page white side by side).
    ``blank_rows=False``: the same over a left-to-right gradient, so no row of the
    image has a uniform colour.
    """
    from PIL import Image, ImageDraw, ImageFont

    path = _prepare(path)
    rng = random.Random(seed)
    if blank_rows:
        img = Image.new("RGB", (width, height), (255, 255, 255))
    else:
        img = Image.linear_gradient("L").rotate(90).resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=34)
    words = ["refund", "order", "parcel", "damaged", "photo", "seller", "12345", "approved",
             "please", "send", "the", "box", "was", "broken", "when", "it", "arrived"]
    max_text = width * 3 // 4 - 36
    y = rng.randint(20, 60)
    while True:
        count = rng.randint(1, 4)
        bubble_h = 16 + count * 44 + 8
        if y + bubble_h > height - 10:
            break
        lines = []
        for _ in range(count):
            text = rng.choice(words)
            for _ in range(rng.randint(2, 8)):
                longer = f"{text} {rng.choice(words)}"
                if draw.textlength(longer, font=font) > max_text:
                    break
                text = longer
            lines.append(text)
        bubble_w = int(max(draw.textlength(t, font=font) for t in lines)) + 36
        mine = rng.random() < 0.5
        x0 = width - 30 - bubble_w if mine else 30
        colour = (149, 236, 105) if mine else (237, 237, 237)
        draw.rounded_rectangle((x0, y, x0 + bubble_w, y + bubble_h), radius=12, fill=colour)
        for n, text in enumerate(lines):
            draw.text((x0 + 18, y + 16 + n * 44), text, fill=(20, 20, 20), font=font)
        y += bubble_h + rng.randint(24, 90)
    img.save(path, "PNG")
    return path


# --------------------------------------------------------------------------- video and audio


def video_codec() -> str:
    """The H.264 encoder if this PyAV wheel has it, else MPEG-4 Part 2."""
    import av

    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def _write_audio(container: Any, stream: Any, seconds: float, rate: int) -> None:
    import av

    frame_size = stream.codec_context.frame_size or 1024
    total = int(seconds * rate)
    pts = 0
    while pts < total:
        n = min(frame_size, total - pts) if stream.codec_context.name != "aac" else frame_size
        frame = av.AudioFrame(format="fltp", layout="mono", samples=n)
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        frame.sample_rate = rate
        frame.pts = pts
        for packet in stream.encode(frame):
            container.mux(packet)
        pts += n
    for packet in stream.encode(None):
        container.mux(packet)


def make_mp4(
    path: Path | str,
    seconds: float = 2.0,
    *,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    rotation: int = 0,
    creation_time: str | None = DEFAULT_CREATION_TIME,
    codec: str | None = None,
    audio: bool = False,
    faststart: bool = False,
) -> Path:
    """An MP4 video of grey frames made with PyAV.

    ``rotation`` is PyAV's display rotation (degrees counter-clockwise, as
    ``VideoFrame.rotation`` reads it back); ``creation_time`` is the container
    tag (UTC); ``faststart`` puts the ``moov`` index before the media data.
    """
    import av

    path = _prepare(path)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        if creation_time:
            container.metadata["creation_time"] = creation_time
        stream = container.add_stream(codec or video_codec(), rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        audio_stream = container.add_stream("aac", rate=44100, layout="mono") if audio else None
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(i * 5) % 256]) * plane.buffer_size)
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if audio_stream is not None:
            _write_audio(container, audio_stream, seconds, 44100)
    return path


FRAME_CODE_BITS = 12
"""Bits of the frame number drawn by :func:`make_numbered_video` (frames 0–4095)."""


def frame_code_cells(width: int, height: int, bits: int = FRAME_CODE_BITS) -> list[tuple[int, int, int, int]]:
    """The boxes (left, top, right, bottom) of the frame-number blocks in an upright frame of
    ``width``×``height``, most significant bit first: white block = 1, black = 0."""
    margin = width * 0.04
    cell = (width - 2 * margin) / bits
    top, bottom = round(height * 0.40), round(height * 0.62)
    return [(round(margin + i * cell), top, round(margin + (i + 1) * cell), bottom) for i in range(bits)]


def _numbered_picture(n: int, width: int, height: int) -> Any:
    from PIL import ImageDraw, ImageFont

    img = upright_marker_picture(width, height)
    draw = ImageDraw.Draw(img)
    for bit, (left, top, right, bottom) in enumerate(frame_code_cells(width, height)):
        on = (n >> (FRAME_CODE_BITS - 1 - bit)) & 1
        draw.rectangle((left + 2, top, right - 3, bottom), fill=(255, 255, 255) if on else (0, 0, 0))
    font = ImageFont.load_default(size=max(10, height // 6))
    draw.text((width * 0.04, height * 0.68), f"frame {n}", fill=(0, 0, 0), font=font)
    return img


def make_numbered_video(
    path: Path | str,
    seconds: float = 10.0,
    fps: int = 10,
    gop: int = 50,
    rotation: int = 0,
    *,
    width: int = 320,
    height: int = 240,
    codec: str | None = None,
    container_format: str = "mp4",
) -> Path:
    """An MP4 (or ``container_format``: "matroska", "mpegts"…) whose frame number ``n``
    (time ``n / fps``) is in the picture.

    The *upright* picture (``width``×``height``) is :func:`upright_marker_picture`
    (red top-left, blue top-right) with ``n`` as a row of 12 big black/white blocks
    (:func:`frame_code_cells`, survives H.264 and MPEG-4 compression) and as text.
    A key frame every ``gop`` frames exactly (no scene-cut key frames), B-frames as
    the encoder's defaults make them. ``rotation`` (PyAV's convention, degrees
    counter-clockwise) is written as the display matrix and the frames are stored
    turned the other way, so a player that applies the matrix shows them upright.
    """
    import av
    from PIL import Image

    path = _prepare(path)
    codec = codec or video_codec()
    rotation %= 360
    store_op = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
                270: Image.Transpose.ROTATE_90}.get(rotation)
    stored_w, stored_h = (height, width) if rotation in (90, 270) else (width, height)
    options = {"x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"} if codec == "libx264" else {}
    with av.open(str(path), "w", format=container_format) as container:
        container.metadata["creation_time"] = DEFAULT_CREATION_TIME
        stream = container.add_stream(codec, rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = stored_w, stored_h, "yuv420p"
        stream.codec_context.gop_size = gop
        if rotation:
            stream.set_display_rotation(rotation)
        for n in range(round(seconds * fps)):
            picture = _numbered_picture(n, width, height)
            if store_op is not None:
                picture = picture.transpose(store_op)
            frame = av.VideoFrame.from_image(picture).reformat(format="yuv420p")
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def make_m4a(path: Path | str, seconds: float = 1.0, *,
             creation_time: str | None = None) -> Path:
    """An AAC voice-memo style M4A (silence), optionally with a creation_time tag."""
    import av

    path = _prepare(path)
    with av.open(str(path), "w", format="ipod") as container:
        if creation_time:
            container.metadata["creation_time"] = creation_time
        stream = container.add_stream("aac", rate=44100, layout="mono")
        _write_audio(container, stream, seconds, 44100)
    return path


def make_wav(path: Path | str, seconds: float = 1.0, rate: int = 8000) -> Path:
    """A 16-bit mono PCM WAV of silence (standard library only)."""
    import wave

    path = _prepare(path)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(seconds * rate))
    return path


def make_silk(path: Path | str, *, qq: bool = False, size: int = 2048, seed: int = 1) -> Path:
    """A SILK v3 voice note as WeChat (``#!SILK_V3``) or QQ (0x02 first) writes it."""
    path = _prepare(path)
    body = random.Random(seed).randbytes(size)
    path.write_bytes((b"\x02" if qq else b"") + b"#!SILK_V3" + body)
    return path


# --------------------------------------------------------------------------- documents


def make_pdf(path: Path | str, pages: int = 3, *, title: str = "Order 12345") -> Path:
    """A reportlab PDF with ``pages`` pages of text."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = _prepare(path)
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle(title)
    for n in range(1, pages + 1):
        c.drawString(72, 770, f"{title}: page {n} of {pages}")
        c.showPage()
    c.save()
    return path


def make_pdf_with_object_streams(path: Path | str, pages: int = 2) -> Path:
    """A PDF 1.5 whose catalog and page tree sit in a compressed object stream (/ObjStm),
    indexed by a cross-reference stream, as many office suites and pypdf write it."""
    path = _prepare(path)
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>"]
    objs += ["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>" for _ in range(pages)]
    numbers = list(range(1, len(objs) + 1))
    offsets, body = [], b""
    for obj in objs:
        offsets.append(len(body))
        body += obj.encode() + b"\n"
    header = " ".join(f"{n} {o}" for n, o in zip(numbers, offsets)).encode() + b"\n"
    stream = zlib.compress(header + body)
    objstm_no = len(objs) + 1
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    objstm_at = len(out)
    out += (f"{objstm_no} 0 obj\n<< /Type /ObjStm /N {len(objs)} /First {len(header)} "
            f"/Filter /FlateDecode /Length {len(stream)} >>\nstream\n").encode()
    out += stream + b"\nendstream\nendobj\n"
    xref_no = objstm_no + 1
    rows = [b"\x00\x00\x00\x00\xff"]  # object 0: free
    # /W [1 3 1]: type 2, the object stream's number in 3 bytes, the index in 1
    rows += [b"\x02" + struct.pack(">I", objstm_no)[1:] + bytes([i]) for i in range(len(objs))]
    rows += [b"\x01" + struct.pack(">I", objstm_at)[1:] + b"\x00"]
    rows += [b"\x01" + struct.pack(">I", len(out))[1:] + b"\x00"]
    xref_data = zlib.compress(b"".join(rows))
    xref_at = len(out)
    out += (f"{xref_no} 0 obj\n<< /Type /XRef /Size {xref_no + 1} /W [1 3 1] /Root 1 0 R "
            f"/Filter /FlateDecode /Length {len(xref_data)} >>\nstream\n").encode()
    out += xref_data + b"\nendstream\nendobj\n"
    out += f"startxref\n{xref_at}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


# --------------------------------------------------------------------------- damaged and odd


def make_random(path: Path | str, size: int = 4096, seed: int = 0) -> Path:
    """``size`` reproducible random bytes (name it x.jpg to fake an image)."""
    path = _prepare(path)
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


def make_truncated(src: Path | str, dst: Path | str, keep: float = 0.5) -> Path:
    """A copy of ``src`` cut to ``keep`` of its size (0.5: the first half)."""
    data = Path(src).read_bytes()
    dst = _prepare(dst)
    dst.write_bytes(data[: max(1, int(len(data) * keep))])
    return dst


# --------------------------------------------------------------------------- chats

_CHAT = [
    ("Anna", "Hi, the parcel arrived damaged"),
    ("Shop", "Sorry! Please send a photo"),
    ("Anna", "Sent. I would like a refund"),
    ("Shop", "Refund approved"),
]
_CHAT_ZH = [
    ("我", "你好，收到的商品是坏的"),
    ("商家", "抱歉，请发一下照片"),
    ("我", "已发，我要求退款"),
    ("商家", "好的，已同意退款"),
]


def _times(start: str, count: int) -> list[datetime]:
    """``count`` message times one minute apart from ``start`` ("2025-05-05 09:12:30")."""
    first = datetime.fromisoformat(start)
    return [first + timedelta(minutes=i) for i in range(count)]


def _write_lines(path: Path | str, lines: Iterable[str], encoding: str = "utf-8") -> Path:
    path = _prepare(path)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _whatsapp_android_lines(messages: Sequence[tuple[str, str]]) -> list[str]:
    lines = ["03/05/2025, 14:20 - Messages and calls are end-to-end encrypted."]
    times = _times("2025-05-03 14:22:10", len(messages))
    lines += [f"{t:%d/%m/%Y, %H:%M} - {who}: {text}" for t, (who, text) in zip(times, messages)]
    return lines


def make_whatsapp_android_chat(path: Path | str,
                               messages: Sequence[tuple[str, str]] = _CHAT, *,
                               encoding: str = "utf-8") -> Path:
    """WhatsApp Android export: ``03/05/2025, 14:22 - Anna: text`` lines."""
    return _write_lines(path, _whatsapp_android_lines(messages), encoding)


def _whatsapp_ios_lines(messages: Sequence[tuple[str, str]]) -> list[str]:
    times = _times("2025-05-03 14:22:10", len(messages))
    return [f"[{t:%d/%m/%y, %H:%M:%S}] {who}: {text}" for t, (who, text) in zip(times, messages)]


def make_whatsapp_ios_chat(path: Path | str, messages: Sequence[tuple[str, str]] = _CHAT, *,
                           encoding: str = "utf-8") -> Path:
    """WhatsApp iOS ``_chat.txt``: ``[03/05/25, 14:22:10] Anna: text`` lines."""
    return _write_lines(path, _whatsapp_ios_lines(messages), encoding)


def make_whatsapp_ios_zip(path: Path | str, messages: Sequence[tuple[str, str]] = _CHAT,
                          *, attachments: int = 1) -> Path:
    """A WhatsApp iOS export ZIP: ``_chat.txt`` plus small attachment files."""
    path = _prepare(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("_chat.txt", "\n".join(_whatsapp_ios_lines(messages)) + "\n")
        for i in range(attachments):
            zf.writestr(f"0000{i}-PHOTO-2025-05-03-14-22-10.jpg", os.urandom(256))
    return path


def make_plain_chat(path: Path | str, messages: Sequence[tuple[str, str]] = _CHAT_ZH, *,
                    encoding: str = "utf-8", colon: str = "：") -> Path:
    """Plain lines ``2025-05-05 09:12:30 商家：内容`` (``colon`` "：" or ":"; any ``encoding``)."""
    times = _times("2025-05-05 09:12:30", len(messages))
    lines = [f"{t:%Y-%m-%d %H:%M:%S} {who}{colon}{text}" for t, (who, text) in zip(times, messages)]
    return _write_lines(path, lines, encoding)


def make_telegram_json(path: Path | str, messages: Sequence[tuple[str, str]] = _CHAT) -> Path:
    """Telegram Desktop ``result.json`` of one personal chat."""
    path = _prepare(path)
    doc = {
        "name": "Shop",
        "type": "personal_chat",
        "id": 123456789,
        "messages": [
            {"id": i + 1, "type": "message", "date": f"{t:%Y-%m-%dT%H:%M:%S}",
             "date_unixtime": str(1746253330 + 60 * i), "from": who, "from_id": f"user{i % 2}",
             "text": text, "text_entities": [{"type": "plain", "text": text}]}
            for i, (t, (who, text)) in enumerate(
                zip(_times("2025-05-03 14:22:10", len(messages)), messages))
        ],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _csv_field(value: str) -> str:
    """A CSV field quoted the way csv.writer quotes it (only when it must be)."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def make_memotrace_csv(path: Path | str, messages: Sequence[tuple[str, str]] = _CHAT_ZH, *,
                       encoding: str = "utf-8-sig") -> Path:
    """A WeChat export by MemoTrace (留痕): CSV with StrTime, IsSender, StrContent… columns."""
    header = ("localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,"
              "Remark,NickName,Sender")
    lines = [header]
    times = _times("2025-05-05 09:12:30", len(messages))
    for i, (t, (who, text)) in enumerate(zip(times, messages)):
        is_sender = 1 if who == "我" else 0
        lines.append(f"{i + 1},1,1,0,{is_sender},{1746411150 + 60 * i},2,{_csv_field(text)},"
                     f"{t:%Y-%m-%d %H:%M:%S},,{_csv_field(who)},{_csv_field(who)}")
    return _write_lines(path, lines, encoding)


def make_csv_chat(path: Path | str, messages: Sequence[tuple[str, str]] = _CHAT_ZH, *,
                  chinese: bool = True, encoding: str = "utf-8") -> Path:
    """A generic chat CSV: header 时间,发送人,内容 (or time,sender,message)."""
    header = "时间,发送人,内容" if chinese else "time,sender,message"
    times = _times("2025-05-05 09:12:30", len(messages))
    lines = [header] + [f"{t:%Y-%m-%d %H:%M:%S},{_csv_field(who)},{_csv_field(text)}"
                        for t, (who, text) in zip(times, messages)]
    return _write_lines(path, lines, encoding)


def make_whatsapp_android_zip(path: Path | str, messages: Sequence[tuple[str, str]] = _CHAT,
                              *, attachments: int = 1) -> Path:
    """A WhatsApp Android export ZIP: ``WhatsApp Chat with Shop.txt`` plus attachment files."""
    path = _prepare(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("WhatsApp Chat with Shop.txt", "\n".join(_whatsapp_android_lines(messages)) + "\n")
        for i in range(attachments):
            zf.writestr(f"IMG-20250503-WA000{i}.jpg", os.urandom(256))
    return path


def make_memotrace_txt(path: Path | str, messages: Sequence[tuple[str, str]] = _CHAT_ZH, *,
                       encoding: str = "utf-8", system: str | None = None) -> Path:
    """A WeChat export by MemoTrace (留痕) as TXT: ``2025-05-05 09:12:30 商家`` then the text and a
    blank line; ``system`` adds a system message (one line) after the first message."""
    times = _times("2025-05-05 09:12:30", len(messages))
    blocks = [f"{t:%Y-%m-%d %H:%M:%S} {who}\n{text}\n\n" for t, (who, text) in zip(times, messages)]
    if system is not None:
        blocks.insert(1, f"{times[0]:%Y-%m-%d %H:%M:%S} {system}\n\n")
    path = _prepare(path)
    path.write_bytes("".join(blocks).encode(encoding))
    return path


# --------------------------------------------------------------------------- hostile input


def make_webp(path: Path | str, width: int = 320, height: int = 240, *, seed: int | None = None) -> Path:
    """A lossy WebP."""
    path = _prepare(path)
    _picture(width, height, seed).save(path, "WEBP", quality=70)
    return path


def make_gif(path: Path | str, width: int = 320, height: int = 240, *, frames: int = 3,
             seed: int | None = None) -> Path:
    """An animated GIF of ``frames`` frames."""
    path = _prepare(path)
    first = _picture(width, height, seed).convert("P")
    more = [_picture(width, height, (seed or 0) + i + 1).convert("P") for i in range(frames - 1)]
    first.save(path, "GIF", save_all=True, append_images=more, duration=100, loop=0)
    return path


def make_corrupt(src: Path | str, dst: Path | str, *, start: float = 0.3, length: int = 512,
                 seed: int = 0) -> Path:
    """A copy of ``src`` with ``length`` bytes from ``start`` (fraction of the size) replaced by
    seeded noise: header intact, body garbage."""
    data = bytearray(Path(src).read_bytes())
    at = int(len(data) * start)
    noise = random.Random(seed).randbytes(min(length, max(0, len(data) - at)))
    data[at:at + len(noise)] = noise
    dst = _prepare(dst)
    dst.write_bytes(bytes(data))
    return dst


def make_jpeg_bomb(path: Path | str, width: int = 60000, height: int = 60000) -> Path:
    """A small JPEG whose frame header (SOF0) claims ``width``×``height`` pixels (≤ 65535)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (16, 16), 128).save(buf, "JPEG", quality=50)
    data = bytearray(buf.getvalue())
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    path = _prepare(path)
    path.write_bytes(bytes(data))
    return path


def make_heic_bomb(path: Path | str, width: int = 60000, height: int = 60000) -> Path:
    """A small HEIC whose image spatial extents (``ispe``) claim ``width``×``height``."""
    path = make_heic(path, 64, 64, exif=False)
    data = bytearray(path.read_bytes())
    at = 0
    while (at := data.find(b"ispe", at)) != -1:
        data[at + 8:at + 16] = struct.pack(">II", width, height)  # after version/flags
        at += 4
    path.write_bytes(bytes(data))
    return path


def make_pdf_broken_xref(path: Path | str) -> Path:
    """A reportlab PDF whose ``startxref`` points into the middle of nowhere and whose xref
    table's offsets are garbage."""
    path = make_pdf(path, pages=2)
    data = path.read_bytes()
    head, _, _ = data.rpartition(b"startxref")
    xref_at = head.rfind(b"\nxref")
    body = head[:xref_at] + b"\nxref\n0 9\n" + b"9999999999 00000 n \n" * 9 + b"trailer\n<< /Root 99 0 R >>\n"
    path.write_bytes(body + b"startxref\n123456789\n%%EOF\n")
    return path


def make_zip_bomb_chat(path: Path | str, member_size: int = 1 << 30, members: int = 4) -> Path:
    """A WhatsApp-style export ZIP whose ``_chat.txt`` and other members each inflate to
    ``member_size`` bytes (of zeros, whole MiB) from a few hundred kB.

    Deflating that many zeros takes seconds, so one MiB is deflated once and its output repeated: a
    full flush ends it on a byte boundary with nothing carried over, and an empty final block ends the
    stream. The ZIP around it is written here (zipfile compresses what it is given itself)."""
    path = _prepare(path)
    block = 1 << 20
    assert member_size % block == 0, "whole MiB"
    squeeze = zlib.compressobj(6, zlib.DEFLATED, -15)
    piece = squeeze.compress(bytes(block)) + squeeze.flush(zlib.Z_FULL_FLUSH)
    data = piece * (member_size // block) + zlib.compressobj(6, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(member_size // block):
        crc = zlib.crc32(bytes(block), crc)
    dos_time, dos_date = (14 << 11) | (22 << 5) | (10 // 2), ((2025 - 1980) << 9) | (5 << 5) | 3
    central = []
    with path.open("wb") as out:
        for n in range(members):
            name = ("_chat.txt" if n == 0 else f"0000{n}-PHOTO-2025-05-03-14-22-10.jpg").encode()
            fields = struct.pack("<HHHHHIIIHH", 20, 0, zipfile.ZIP_DEFLATED, dos_time, dos_date, crc, len(data),
                                 member_size, len(name), 0)
            central.append(struct.pack("<IH", 0x02014B50, 20) + fields + struct.pack("<HHHII", 0, 0, 0, 0, out.tell())
                           + name)
            out.write(struct.pack("<I", 0x04034B50) + fields + name + data)
        start = out.tell()
        out.write(b"".join(central))
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, members, members, out.tell() - start, start, 0))
    return path


def make_huge_line_chat(path: Path | str, line_bytes: int = 50 * 1024 * 1024) -> Path:
    """A WhatsApp Android chat whose second message is one line of ``line_bytes`` bytes."""
    path = _prepare(path)
    lines = _whatsapp_android_lines(_CHAT[:2])
    with path.open("wb") as out:
        out.write(("\n".join(lines) + "\n").encode())
        out.write(b"03/05/2025, 14:30 - Anna: ")
        chunk = b"x" * (1 << 20)
        left = line_bytes
        while left > 0:
            out.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
        out.write(b"\n03/05/2025, 14:31 - Shop: ok\n")
    return path


# --------------------------------------------------------------------------- camera clocks


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags) + payload)


def gpmf_gpsu(when: datetime, *, fix: int = 3) -> bytes:
    """A GPMF payload (DEVC → STRM → GPSF, GPSU) as a GoPro writes one second of GPS:
    ``GPSU`` is the UTC time "yymmddhhmmss.sss"; ``GPSF`` 0 means no fix."""
    gpsu = when.strftime("%y%m%d%H%M%S.") + f"{when.microsecond // 1000:03d}"
    inner = b"GPSF" + b"L\x04\x00\x01" + struct.pack(">I", fix)
    inner += b"GPSU" + b"U\x10\x00\x01" + gpsu.encode("ascii")
    strm = b"STRM" + b"\x00\x01" + struct.pack(">H", len(inner)) + inner
    return b"DEVC" + b"\x00\x01" + struct.pack(">H", len(strm)) + strm


def add_gpmf_track(path: Path | str, gpmf: bytes, *, handler: str = "GoPro MET") -> Path:
    """Add a GoPro metadata track (handler 'meta', sample entry 'gpmd') holding one sample,
    ``gpmf``, to an MP4 whose ``moov`` is its last box (as PyAV writes it without faststart).
    The sample goes into a new ``mdat`` after ``moov``; nothing before it moves."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    pos = 0
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"moov":
            break
        pos += size
    assert kind == b"moov" and pos + size == len(data), "moov must be the last box"
    moov_at, moov_size = pos, size
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    tkhd = _full_box(b"tkhd", struct.pack(">IIIII", 0, 0, 99, 0, 1000) + b"\x00" * 8
                     + struct.pack(">hhhH", 0, 0, 0, 0) + matrix + struct.pack(">II", 0, 0), flags=3)
    mdhd = _full_box(b"mdhd", struct.pack(">IIIIHH", 0, 0, 1000, 1000, 0x55C4, 0))
    hdlr = _full_box(b"hdlr", b"\x00" * 4 + b"meta" + b"\x00" * 12 + handler.encode() + b"\x00")
    dinf = _box(b"dinf", _full_box(b"dref", struct.pack(">I", 1) + _full_box(b"url ", b"", flags=1)))
    entry = _box(b"gpmd", b"\x00" * 6 + struct.pack(">H", 1) + b"\x00" * 4)
    sample_at = len(data) + 0  # fixed below, once the trak's size is known
    def stbl(offset: int) -> bytes:
        return _box(b"stbl", _full_box(b"stsd", struct.pack(">I", 1) + entry)
                    + _full_box(b"stts", struct.pack(">III", 1, 1, 1000))
                    + _full_box(b"stsc", struct.pack(">IIII", 1, 1, 1, 1))
                    + _full_box(b"stsz", struct.pack(">III", 0, 1, len(gpmf)))
                    + _full_box(b"stco", struct.pack(">II", 1, offset)))
    def trak(offset: int) -> bytes:
        minf = _box(b"minf", _full_box(b"nmhd", b"") + dinf + stbl(offset))
        return _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + minf))
    trak_len = len(trak(0))
    sample_at = len(data) + trak_len + 8  # after the grown moov and the new mdat's header
    data[moov_at:moov_at + 4] = struct.pack(">I", moov_size + trak_len)
    data += trak(sample_at) + _box(b"mdat", gpmf)
    path.write_bytes(bytes(data))
    return path


def make_avi(path: Path | str, seconds: float = 1.0, *, idit: bytes | None = None) -> Path:
    """An AVI (MPEG-4 video) made with PyAV; ``idit`` adds the IDIT chunk (the camera's local
    date, e.g. ``b"THU OCT 22 12:34:56 2009\\n\\0"``) to the ``hdrl`` list, where cameras put it."""
    import av

    path = _prepare(path)
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(int(seconds * 10)):
            frame = av.VideoFrame(160, 120, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(i * 9) % 256]) * plane.buffer_size)
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    if idit is not None:
        data = bytearray(path.read_bytes())
        assert data[12:16] == b"LIST" and data[20:24] == b"hdrl"
        hdrl_size = struct.unpack("<I", data[16:20])[0]
        chunk = b"IDIT" + struct.pack("<I", len(idit)) + idit + (b"\x00" if len(idit) % 2 else b"")
        end = 20 + hdrl_size
        data[end:end] = chunk
        data[16:20] = struct.pack("<I", hdrl_size + len(chunk))
        data[4:8] = struct.pack("<I", struct.unpack("<I", data[4:8])[0] + len(chunk))
        path.write_bytes(bytes(data))
    return path
