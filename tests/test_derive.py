"""locker.media.derive: key frames, image renditions and slice plans, on files the tests generate."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:
    from tests import samples
except ImportError:  # tests/ is not a package: pytest puts tests/ itself on sys.path
    import samples

from locker.errors import LockerError
from locker.media.derive import (
    BLANK_ROW_VARIANCE,
    DerivationError,
    Frame,
    Rendition,
    Slice,
    image_rendition,
    slice_plan,
    timecode,
    video_frames,
)

REPO = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- helpers


def read_number(path: Path) -> int:
    """The frame number that make_numbered_video drew as a row of black/white blocks."""
    from PIL import Image, ImageStat

    with Image.open(path) as img:
        grey = img.convert("L")
    n = 0
    for left, top, right, bottom in samples.frame_code_cells(grey.width, grey.height):
        w, h = right - left, bottom - top
        inner = (left + w // 4, top + h // 4, right - w // 4, bottom - h // 4)
        n = n * 2 + (ImageStat.Stat(grey.crop(inner)).mean[0] > 128)
    return n


def colour_at(path: Path, x: float, y: float) -> str:
    """'red', 'blue', 'grey' or 'other' at the fractional position (x, y) of an image."""
    from PIL import Image

    with Image.open(path) as img:
        r, g, b = img.convert("RGB").getpixel((int(x * (img.width - 1)), int(y * (img.height - 1))))
    if r > 180 and g < 80 and b < 80:
        return "red"
    if b > 180 and r < 80 and g < 80:
        return "blue"
    if abs(r - g) < 30 and abs(g - b) < 30:
        return "grey"
    return "other"


def assert_upright(path: Path) -> None:
    """The marker picture: red in the top-left corner, blue in the top-right, grey below."""
    assert colour_at(path, 0.03, 0.03) == "red"
    assert colour_at(path, 0.97, 0.03) == "blue"
    assert colour_at(path, 0.03, 0.97) != "red"
    assert colour_at(path, 0.97, 0.97) != "blue"


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def image_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as img:
        return img.size


def uniform_rows(path: Path) -> list[bool]:
    """For each row of an image: True when every pixel of the row has the same colour."""
    from PIL import Image

    with Image.open(path) as img:
        rgb = img.convert("RGB")
        return [all(lo == hi for lo, hi in rgb.crop((0, y, rgb.width, y + 1)).getextrema())
                for y in range(rgb.height)]


def assert_covers(slices: list[Slice], height: int, page: int) -> None:
    assert slices[0].top == 0
    assert slices[-1].bottom == height
    for s in slices:
        assert 0 < s.bottom - s.top <= page, s
    for a, b in zip(slices, slices[1:]):
        assert a.top < b.top <= a.bottom, (a, b)  # forward, no gap


# --------------------------------------------------------------------------- video key frames

FPS, SECONDS, GOP = 10, 10.0, 50


@pytest.fixture(scope="module")
def numbered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return samples.make_numbered_video(tmp_path_factory.mktemp("video") / "numbered.mp4", SECONDS, FPS, GOP)


def test_numbered_sample_has_long_gops(numbered: Path) -> None:
    """The sample is what the test needs: frame n shows n, and key frames only every 5 s."""
    import av

    with av.open(str(numbered)) as container:
        stream = container.streams.video[0]
        keys = [e for e in stream.index_entries if e.is_keyframe]
        assert len(keys) == 2  # frames 0 and 50: seeking lands up to 49 frames early
        for i, frame in enumerate(container.decode(stream)):
            if i in (0, 37, 99):
                path = numbered.parent / f"raw-{i}.png"
                frame.to_image().save(path)
                assert read_number(path) == i


def check_evenly_spaced(frames: list[Frame], out: Path, count: int, seconds: float, fps: int) -> None:
    """Frame i is the first frame at or after (i + 0.5) * seconds / count (past the last frame: the last
    frame), and shows the number of the frame at its time."""
    assert [f.index for f in frames] == list(range(count))
    last = (round(seconds * fps) - 1) / fps
    for f in frames:
        target = (f.index + 0.5) * seconds / count
        if target > last:
            assert f.time == pytest.approx(last), (f, target)
        else:
            assert target - 1e-9 <= f.time < target + 1 / fps + 1e-9, (f, target)
        assert read_number(out / f.file) == round(f.time * fps), f
        assert f.timecode == timecode(f.time)
        assert (out / f.file).is_file()
        assert image_size(out / f.file) == (f.width, f.height)


def test_key_frames_come_from_their_times(numbered: Path, tmp_path: Path) -> None:
    out = tmp_path / "derived"
    frames = video_frames(numbered, out)
    assert len(frames) == 9
    check_evenly_spaced(frames, out, 9, SECONDS, FPS)
    # 0.556 s -> frame 6, …, 5.0 s (a key frame) -> 50, 6.11 s -> 62, … 9.44 s -> 95
    assert [round(f.time * FPS) for f in frames] == [6, 17, 28, 39, 50, 62, 73, 84, 95]
    assert len({read_number(out / f.file) for f in frames}) == 9  # never the key frame repeated
    assert [f.file for f in frames] == [f"frame-{i:02d}.jpg" for i in range(9)]
    assert frames[1].timecode == "00:00:01.700"
    assert (frames[0].width, frames[0].height) == (320, 240)
    assert files_in(out) == [f.file for f in frames]  # nothing else, no temp files


@pytest.mark.parametrize("count", [1, 2, 5, 30])
def test_any_count(numbered: Path, tmp_path: Path, count: int) -> None:
    frames = video_frames(numbered, tmp_path, count=count)
    check_evenly_spaced(frames, tmp_path, count, SECONDS, FPS)
    if count == 1:
        assert round(frames[0].time * FPS) == 50


def test_more_frames_asked_than_the_video_has(tmp_path: Path) -> None:
    video = samples.make_numbered_video(tmp_path / "short.mp4", seconds=1.0, fps=10, gop=10)
    frames = video_frames(video, tmp_path / "out", count=25)
    check_evenly_spaced(frames, tmp_path / "out", 25, 1.0, 10)
    assert frames[-1].time == pytest.approx(0.9)  # the last frame, not past the end


@pytest.mark.parametrize(
    ("fmt", "codec"),
    [("mp4", "mpeg4"), ("matroska", None), ("mpegts", None)],  # MPEG-TS seeks to any packet
)
def test_other_codecs_and_containers(tmp_path: Path, fmt: str, codec: str | None) -> None:
    video = samples.make_numbered_video(tmp_path / "v.bin", SECONDS, FPS, GOP, codec=codec, container_format=fmt)
    frames = video_frames(video, tmp_path / "out")
    check_evenly_spaced(frames, tmp_path / "out", 9, SECONDS, FPS)


@pytest.mark.parametrize("fmt", ["mp4", "matroska"])
def test_seeks_instead_of_decoding_the_whole_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    fmt: str) -> None:
    from locker.media import derive

    # 1,200 frames at a quarter of the usual size (the encoding is most of this test's time); the frame
    # numbers still read back from every frame taken.
    video = samples.make_numbered_video(tmp_path / "long.bin", 120.0, FPS, GOP, width=160, height=120,
                                        container_format=fmt)
    decoded = []
    next_frame = derive._Seeker._next

    def counting(self: derive._Seeker) -> object:
        frame = next_frame(self)
        if frame is not None:
            decoded.append(frame.pts)
        return frame

    monkeypatch.setattr(derive._Seeker, "_next", counting)
    frames = video_frames(video, tmp_path / "out")
    check_evenly_spaced(frames, tmp_path / "out", 9, 120.0, FPS)
    assert len(decoded) <= 9 * GOP // 2, len(decoded)  # of 1,200: from the key frame before each target


def test_frames_scaled_to_max_side(numbered: Path, tmp_path: Path) -> None:
    frames = video_frames(numbered, tmp_path, count=3, max_side=160)
    assert {(f.width, f.height) for f in frames} == {(160, 120)}
    check_evenly_spaced(frames, tmp_path, 3, SECONDS, FPS)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_video_comes_out_upright(tmp_path: Path, rotation: int) -> None:
    # a phone held upright films a portrait picture, stored landscape with a display matrix
    width, height = (240, 320) if rotation in (90, 270) else (320, 240)
    video = samples.make_numbered_video(tmp_path / "r.mp4", 4.0, FPS, 20, rotation, width=width, height=height)
    import av

    with av.open(str(video)) as c:
        stored = c.streams.video[0].codec_context
        assert (stored.width, stored.height) == ((height, width) if rotation != 180 else (width, height))
    frames = video_frames(video, tmp_path / "out", count=4)
    check_evenly_spaced(frames, tmp_path / "out", 4, 4.0, FPS)
    for f in frames:
        assert (f.width, f.height) == (width, height)
        assert_upright(tmp_path / "out" / f.file)


def test_rerun_replaces_frames(numbered: Path, tmp_path: Path) -> None:
    video_frames(numbered, tmp_path, count=3)
    (tmp_path / "notes.txt").write_text("kept")
    frames = video_frames(numbered, tmp_path, count=3)
    assert files_in(tmp_path) == sorted([f.file for f in frames] + ["notes.txt"])


# --------------------------------------------------------------------------- image renditions


@pytest.mark.parametrize("orientation", [6, 8])
@pytest.mark.parametrize("suffix", [".heic", ".jpg", ".png"])
def test_oriented_image_is_shown_upright(tmp_path: Path, suffix: str, orientation: int) -> None:
    from PIL import Image

    src = samples.make_oriented_image(tmp_path / f"IMG{suffix}", orientation, 800, 600)
    if suffix == ".heic":
        from locker.media.images import register_heif

        register_heif()
        with Image.open(src) as img:  # libheif applies the HEIF transform, pillow-heif keeps the tag
            assert img.info.get("original_orientation") == orientation
    else:
        with Image.open(src) as img:
            assert img.size == (600, 800)  # stored turned
            assert img.getexif()[0x0112] == orientation
    out = tmp_path / "derived"
    r = image_rendition(src, out)
    assert r == Rendition("display.jpg", "thumb.jpg", 800, 600, 800, 600)
    assert image_size(out / r.display) == (800, 600)
    assert_upright(out / r.display)
    assert image_size(out / r.thumbnail) == (320, 240)
    assert_upright(out / r.thumbnail)
    with Image.open(out / r.display) as display:
        assert display.format == "JPEG"
        assert display.getexif().get(0x0112) in (None, 1)  # no tag left to turn it twice
    assert files_in(out) == ["display.jpg", "thumb.jpg"]


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_every_exif_orientation(tmp_path: Path, orientation: int) -> None:
    src = samples.make_oriented_image(tmp_path / "p.jpg", orientation, 400, 300)
    r = image_rendition(src, tmp_path / "out")
    assert (r.width, r.height, r.source_width, r.source_height) == (400, 300, 400, 300)
    assert_upright(tmp_path / "out" / r.display)


def test_big_photo_is_scaled_never_upscaled(tmp_path: Path) -> None:
    big = samples.make_jpeg_with_exif(tmp_path / "big.jpg", 4032, 3024, seed=1, orientation=6)
    r = image_rendition(big, tmp_path / "big")
    assert (r.source_width, r.source_height) == (3024, 4032)
    assert (r.width, r.height) == (1800, 2400)
    assert image_size(tmp_path / "big" / r.display) == (1800, 2400)
    assert max(image_size(tmp_path / "big" / r.thumbnail)) == 320

    small = samples.make_png(tmp_path / "small.png", 200, 150)
    r = image_rendition(small, tmp_path / "small", max_side=2400, thumb_side=320)
    assert (r.width, r.height) == (200, 150)
    assert image_size(tmp_path / "small" / r.thumbnail) == (200, 150)


def test_upright_jpeg_that_fits_is_copied_byte_for_byte(tmp_path: Path) -> None:
    src = samples.make_jpeg_with_exif(tmp_path / "p.jpg", 1600, 1200, seed=3)
    r = image_rendition(src, tmp_path / "out")
    assert (tmp_path / "out" / r.display).read_bytes() == src.read_bytes()
    assert image_size(tmp_path / "out" / r.thumbnail) == (320, 240)
    r = image_rendition(src, tmp_path / "smaller", max_side=800)  # needs scaling: re-encoded
    assert (r.width, r.height) == (800, 600)
    assert (tmp_path / "smaller" / r.display).read_bytes() != src.read_bytes()


def test_alpha_is_flattened_on_white(tmp_path: Path) -> None:
    from PIL import Image

    img = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    img.paste((255, 0, 0, 255), (0, 0, 100, 100))
    img.save(tmp_path / "a.png")
    img.save(tmp_path / "a.webp", lossless=True)
    for name in ("a.png", "a.webp"):
        r = image_rendition(tmp_path / name, tmp_path / name.replace(".", "_"))
        with Image.open(tmp_path / name.replace(".", "_") / r.display) as display:
            assert display.mode == "RGB"
            assert min(display.getpixel((250, 150))) > 245  # transparent -> white
            assert colour_at(tmp_path / name.replace(".", "_") / r.display, 0.05, 0.05) == "red"


def test_long_screenshot_keeps_its_width(tmp_path: Path) -> None:
    src = samples.make_long_screenshot(tmp_path / "long.png", 1080, 6000)
    r = image_rendition(src, tmp_path / "out")
    assert (r.width, r.height) == (1080, 6000)  # the longest side is over max_side: not shrunk
    thumb = image_size(tmp_path / "out" / r.thumbnail)
    assert max(thumb) == 320 and thumb[1] == 320

    wide = samples.make_long_screenshot(tmp_path / "wide.png", 1440, 4000)
    r = image_rendition(wide, tmp_path / "wide", max_side=1080)
    assert (r.width, r.height) == (1080, 3000)


# --------------------------------------------------------------------------- slice plans


@pytest.fixture(scope="module")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return samples.make_long_screenshot(tmp_path_factory.mktemp("shot") / "long.png", 1080, 6000)


def test_slices_cut_in_blank_rows(screenshot: Path, tmp_path: Path) -> None:
    blank = uniform_rows(screenshot)
    assert 0.2 < sum(blank) / len(blank) < 0.8  # the sample has bands and gaps
    page = int(1080 * 1.35)
    rendition = image_rendition(screenshot, tmp_path)
    for image in (screenshot, tmp_path / rendition.display):  # the PNG and its JPEG rendition
        slices = slice_plan(image)
        assert_covers(slices, 6000, page)
        assert len(slices) >= 5
        for a, b in zip(slices, slices[1:]):
            assert b.top == a.bottom  # a clean cut: no overlap needed
            assert blank[a.bottom], f"cut at row {a.bottom} goes through a band"
            assert a.bottom - a.top >= 0.75 * page  # cut in the last quarter of the window


def test_slices_overlap_where_no_row_is_blank(tmp_path: Path) -> None:
    src = samples.make_long_screenshot(tmp_path / "grad.png", 1080, 6000, blank_rows=False)
    assert not any(uniform_rows(src))
    slices = slice_plan(src)
    page = int(1080 * 1.35)
    assert_covers(slices, 6000, page)
    for a, b in zip(slices, slices[1:]):
        assert a.bottom - a.top == page
        assert b.top == a.bottom - 48
    assert slice_plan(src, overlap=100)[1].top == page - 100


def test_short_image_is_one_slice(tmp_path: Path) -> None:
    assert slice_plan(samples.make_png(tmp_path / "phone.png", 1080, 2340)) == [Slice(0, 2340)]
    assert slice_plan(samples.make_jpeg(tmp_path / "photo.jpg", 640, 480)) == [Slice(0, 480)]


def test_slice_plan_finishes_on_a_very_long_screenshot(tmp_path: Path) -> None:
    # A hang guard, not a speed claim (speed belongs to benchmarks/): it catches a plan that
    # scans the picture over and over. It takes well under a second on an idle machine; the
    # bound leaves room for a loaded machine running the suite on both cores (1.1-1.8 s seen).
    src = samples.make_long_screenshot(tmp_path / "very-long.png", 1080, 12000, seed=5)
    r = image_rendition(src, tmp_path)
    began = time.perf_counter()
    slices = slice_plan(tmp_path / r.display)
    elapsed = time.perf_counter() - began
    assert_covers(slices, 12000, int(1080 * 1.35))
    assert elapsed < 20.0, f"{elapsed:.2f} s"


@st.composite
def banded_images(draw: st.DrawFn) -> tuple[int, int, list[tuple[int, int]]]:
    width = draw(st.integers(40, 120))
    height = draw(st.integers(math.ceil(2.5 * width), 20 * width))
    bands, y = [], draw(st.integers(0, 30))
    while y < height:
        size = draw(st.integers(1, width))
        bands.append((y, min(height, y + size)))
        y += size + draw(st.integers(0, width // 2))
    return width, height, bands


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(banded_images())
def test_slice_plan_invariants(tmp_path: Path, case: tuple[int, int, list[tuple[int, int]]]) -> None:
    """Any pattern of bands: full cover, no gap, every slice fits the page, every clean cut is blank."""
    from PIL import Image, ImageDraw

    width, height, bands = case
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    for top, bottom in bands:  # a band: alternating dark and light columns, like text
        for x in range(0, width, 4):
            draw.rectangle((x, top, x + 1, bottom - 1), fill=0)
    path = tmp_path / "banded.png"
    img.save(path)
    page = int(width * 1.35)
    slices = slice_plan(path)
    assert_covers(slices, height, page)
    in_band = [False] * height
    for top, bottom in bands:
        for y in range(top, bottom):
            in_band[y] = True
    for a, b in zip(slices, slices[1:]):
        if b.top == a.bottom:
            assert not in_band[a.bottom]
        else:
            assert b.top == a.bottom - min(48, page // 4)
            assert a.bottom - a.top == page


def test_blank_threshold_separates_noise_from_a_dot() -> None:
    # one black pixel in a white 1080-px row has a variance of ~60: not blank
    assert 65025 * (1 / 1080) * (1 - 1 / 1080) > BLANK_ROW_VARIANCE


# --------------------------------------------------------------------------- bad input


def assert_nothing_written(out: Path, keep: tuple[str, ...] = ()) -> None:
    assert files_in(out) == sorted(keep)


@pytest.mark.parametrize("faststart", [False, True])
@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_video(numbered: Path, tmp_path: Path, faststart: bool, keep: float) -> None:
    source = numbered if not faststart else samples.make_mp4(tmp_path / "fs.mp4", 4.0, faststart=True)
    cut = samples.make_truncated(source, tmp_path / "cut.mp4", keep)
    out = tmp_path / "out"
    with pytest.raises(DerivationError) as err:
        video_frames(cut, out)
    assert err.value.code == "derive" and "cut.mp4" in str(err.value)
    assert_nothing_written(out)


def test_truncated_matroska_found_while_decoding(tmp_path: Path) -> None:
    video = samples.make_numbered_video(tmp_path / "v.mkv", SECONDS, FPS, GOP, container_format="matroska")
    cut = samples.make_truncated(video, tmp_path / "cut.mkv", 0.5)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(DerivationError, match="truncated"):
        video_frames(cut, out)
    assert_nothing_written(out, ("keep.txt",))  # frames made before the failure are gone too


@pytest.mark.parametrize("make", [
    lambda d: samples.make_random(d / "x.mp4", 50_000),
    lambda d: samples.make_random(d / "x.mov", 10),
    lambda d: samples.make_m4a(d / "voice.m4a"),  # audio only
    lambda d: samples.make_silk(d / "voice.amr"),
    lambda d: samples.make_jpeg(d / "photo.jpg"),  # not a video
    lambda d: d / "missing.mp4",
])
def test_video_bad_input(tmp_path: Path, make) -> None:  # noqa: ANN001
    out = tmp_path / "out"
    with pytest.raises(DerivationError):
        video_frames(make(tmp_path), out)
    assert_nothing_written(out)


IMAGE_BAD_INPUT = {
    # name: (maker, does slice_plan still answer from the header alone?)
    "random": (lambda d: samples.make_random(d / "x.jpg", 50_000), False),
    "cut-jpeg": (lambda d: samples.make_truncated(samples.make_jpeg(d / "a.jpg", 2000, 1500, seed=1),
                                                  d / "cut.jpg", 0.5), True),
    "cut-png": (lambda d: samples.make_truncated(samples.make_png(d / "a.png", seed=2), d / "cut.png", 0.5), True),
    "cut-long-png": (lambda d: samples.make_truncated(samples.make_long_screenshot(d / "a.png"),
                                                      d / "cut.png", 0.5), False),
    # pillow-heif >= 1.x opens a HEIC whose meta box is whole and fails only on decoding, as
    # Pillow does for JPEG and PNG; cut inside the meta box, the file is not an image at all.
    "cut-heic": (lambda d: samples.make_truncated(samples.make_heic(d / "a.heic"), d / "cut.heic", 0.6), True),
    "cut-heic-header": (lambda d: samples.make_truncated(samples.make_heic(d / "a.heic"), d / "cut.heic", 0.1),
                        False),
    "bomb-400mp": (lambda d: samples.make_png_bomb(d / "bomb.png"), False),  # over the 300 MP limit
    "bomb-900mp": (lambda d: samples.make_png_bomb(d / "bomb.png", 30000, 30000), False),  # Pillow refuses
    "pdf": (lambda d: samples.make_pdf(d / "doc.pdf"), False),
    "missing": (lambda d: d / "missing.png", False),
}


@pytest.mark.parametrize("case", IMAGE_BAD_INPUT)
def test_image_bad_input(tmp_path: Path, case: str) -> None:
    make, header_ok = IMAGE_BAD_INPUT[case]
    src = make(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(DerivationError):
        image_rendition(src, out)
    assert_nothing_written(out)
    if header_ok:  # not a long image: slice_plan reads the size only and decodes nothing
        assert len(slice_plan(src)) == 1
    else:
        with pytest.raises(DerivationError):
            slice_plan(src)


def test_interrupted_run_leaves_no_temporary_files(numbered: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from locker.media import derive

    saved: list[str] = []
    limit = [3]  # files saved before the interruption
    save = derive._Outputs.save_jpeg

    def interrupted(self: derive._Outputs, img: object, name: str, **kwargs: object) -> None:
        if len(saved) == limit[0]:
            raise KeyboardInterrupt
        saved.append(name)
        save(self, img, name, **kwargs)

    monkeypatch.setattr(derive._Outputs, "save_jpeg", interrupted)
    with pytest.raises(KeyboardInterrupt):
        video_frames(numbered, tmp_path / "frames")
    assert saved and files_in(tmp_path / "frames") == []
    saved.clear()
    limit[0] = 1  # the display rendition is written, the thumbnail is not
    with pytest.raises(KeyboardInterrupt):
        image_rendition(samples.make_jpeg(tmp_path / "p.jpg", 3000, 2000), tmp_path / "image")
    assert saved == ["display.jpg"] and files_in(tmp_path / "image") == []


def test_unwritable_output_is_a_store_error(numbered: Path, tmp_path: Path) -> None:
    from locker.errors import StoreError

    blocker = tmp_path / "derived"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(StoreError):
        video_frames(numbered, blocker / "7")
    with pytest.raises(StoreError):
        image_rendition(samples.make_jpeg(tmp_path / "p.jpg"), blocker / "8")


def test_errors_are_locker_errors() -> None:
    assert issubclass(DerivationError, LockerError)
    assert DerivationError.code == "derive"
    assert str(DerivationError("cannot decode", path="a.mp4")) == "a.mp4: cannot decode"


# --------------------------------------------------------------------------- odds and ends


def test_timecode() -> None:
    assert timecode(0) == "00:00:00.000"
    assert timecode(83.5) == "00:01:23.500"
    assert timecode(3600 * 2 + 61.0004) == "02:01:01.000"
    assert timecode(-1) == "00:00:00.000"


def test_import_is_cheap() -> None:
    code = ("import sys, locker.media.derive; "
            "heavy = [m for m in ('av', 'PIL', 'pillow_heif') if m in sys.modules]; "
            "assert not heavy, heavy")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
