"""Export benchmark: `locker export` side by side with img2pdf on the same images.

The pack: 100 phone screenshots (1170×2532 PNG, drawn like a shopping app's
chat and order pages: Chinese text, bubbles, a product picture) and 100 camera
photos (4000×3000 JPEG with EXIF). img2pdf only wraps the images into a PDF
(lossless, one page each), so it is the lower bound for time; the locker lays
out a whole evidence pack (cover, index, timeline, a metadata box per exhibit,
appendix) with every picture at about 200 dpi for its placed size.

In one run it measures (median of --repeat runs, interleaved), each in a fresh child process (`python -c` calling the
tool's Python entry point, which then reads its own VmHWM from /proc/self/status,
and the largest VmHWM of its worker processes, RUSAGE_CHILDREN):

* the floor of a first export: Pillow alone, in one process, opening each picture
  (draft mode for JPEG), fitting it to A4 at 200 dpi and saving it as a JPEG of
  quality 80: the work any shrinking pack must do, without any layout;
* img2pdf on the 200 images;
* `locker export` of the 200-exhibit dispute, cold (the dispute's derived/
  cache emptied first: every rendition made) and warm (renditions cached);
* `locker export` of a 50-exhibit dispute (the first 25 of each), cold, for
  linearity;
* the check export makes of every original it packs (re-hashing each object,
  :func:`locker.services.export.check_objects`) on its own, to show its cost
  inside the warm export.

and prints time, output size and peak RSS, the ratios, and PASS/FAIL against
the targets of issue 10: the first (cold) export ≤ 0.6× the floor's time, its
output ≤ 0.3× img2pdf's size, peak RSS < 400 MB; the warm export (renditions
cached, the originals' check included) ≤ 1.0× img2pdf's time (issue 17); time
linear in the exhibits (the 200-exhibit export costs at most 1.25× per exhibit
what the 50-exhibit one does).

A first export also reads the pictures OCR has not read yet (issue 12: ``locker ocr`` runs before
``export`` when results are missing; ~1 s a screenshot on two cores, measured by bench_ocr.py). That
is not the pack's work, so the timed exports run with ``LOCKER_OCR=off``; ``--ocr`` leaves it on
(the first cold export then includes reading all the pictures).

Images are generated once and kept in benchmarks/out/export-images/
(git-ignored); the locker homes are rebuilt unless --keep-homes.

    .venv/bin/python benchmarks/bench_export.py                       # 100 + 100 images, median of 3
    .venv/bin/python benchmarks/bench_export.py --count 20 --repeat 1 # quick run (20 + 20, and 5 + 5)
Exit status: 0 targets met, 1 a target missed, 2 a tool failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"
IMAGES = OUT / "export-images"
SHOT_SIZE = (1170, 2532)
PHOTO_SIZE = (4000, 3000)
DATA_VERSION = 2
TARGET_FLOOR_RATIO, TARGET_SIZE_RATIO, TARGET_RSS_MB, TARGET_LINEAR, TARGET_WARM_RATIO = 0.6, 0.3, 400.0, 1.25, 1.0
A4_200DPI = (1654, 2339)  # the floor fits each picture to an A4 page at 200 dpi

# Run in a fresh interpreter: do the work, then report wall time and own/children's peak memory.
CHILD = r"""
import json, resource, sys, time
args = json.loads(sys.argv[1])
t0 = time.perf_counter()
if args["tool"] == "img2pdf":
    import img2pdf
    with open(args["out"], "wb") as f:
        img2pdf.convert(args["files"], outputstream=f)
    rc = 0
elif args["tool"] == "floor":
    import os, tempfile
    from PIL import Image
    W, H = args["box"]
    with tempfile.TemporaryDirectory(dir=args["scratch"]) as tmp:
        for i, name in enumerate(args["files"]):
            with Image.open(name) as img:
                scale = min(1.0, W / img.width, H / img.height)
                size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
                if img.format == "JPEG":
                    img.draft("RGB", size)  # decoded at 1/2, 1/4 or 1/8 scale where that is still large enough
                out = img.convert("RGB")
                if out.size != size:
                    out = out.resize(size)
                out.save(os.path.join(tmp, f"{i}.jpg"), "JPEG", quality=80)
    rc = 0
elif args["tool"] == "check":
    from pathlib import Path
    from locker.paths import Home
    from locker.report.images import default_workers
    from locker.services import disputes, export
    home = Home(Path(args["home"]))
    detail = disputes.detail(home, "bench")
    t0 = time.perf_counter()  # the check alone: not the imports nor the database read
    checks = export.check_objects(home.dispute("bench"), list(detail.exhibits), workers=default_workers())
    rc = 0 if all(c.state == "ok" for c in checks.values()) and len(checks) == args["count"] else 3
else:
    from locker.cli import main
    rc = main(args["argv"])
elapsed = time.perf_counter() - t0
hwm = 0
with open("/proc/self/status") as f:
    for line in f:
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.flush()
print(json.dumps({"rc": rc, "seconds": elapsed, "vmhwm_kib": hwm, "children_maxrss_kib": children}))
"""


def _font() -> tuple[str, int]:
    sys.path.insert(0, str(REPO))
    from locker.report.fonts import find

    choice = find()
    return str(choice.path), choice.index


def make_screenshot(path: Path, seed: int, font: tuple[str, int]) -> None:
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    w, h = SHOT_SIZE
    img = Image.new("RGB", (w, h), (245, 245, 245))
    d = ImageDraw.Draw(img)
    big = ImageFont.truetype(font[0], 46, index=font[1])
    text = ImageFont.truetype(font[0], 40, index=font[1])
    small = ImageFont.truetype(font[0], 32, index=font[1])
    d.rectangle((0, 0, w, 130), fill=(255, 255, 255))
    d.text((40, 40), f"{9 + seed % 12}:{seed % 60:02d}", fill=(0, 0, 0), font=small)
    d.rectangle((0, 130, w, 280), fill=(255, 36, 66))
    d.text((60, 170), rng.choice(["交易成功", "退款详情", "与商家的聊天", "订单详情"]), fill=(255, 255, 255), font=big)
    phrases = ["你好，收到的耳机左耳没有声音", "亲，不支持退款哦", "订单编号 2505011234567", "已经按说明书重置过了",
               "我们最多补偿5元红包", "请提供开箱视频", "商品到手就是坏的", "申请平台介入", "实付款 ¥199.00",
               "物流显示已签收", "质量问题应当退货退款", "亲，可以联系厂家售后"]
    y = 320
    while y < h - 260:
        if rng.random() < 0.18:  # a product picture (photographic: it makes the PNG heavier)
            box_h = rng.randint(260, 420)
            shade = tuple(rng.randint(120, 230) for _ in range(3))
            pic = Image.linear_gradient("L").resize((w - 160, box_h)).convert("RGB")
            pic = Image.blend(pic, Image.new("RGB", pic.size, shade), 0.6)
            grain = Image.effect_noise(((w - 160) // 3, box_h // 3), 40).convert("RGB").resize(pic.size)
            pic = Image.blend(pic, grain, 0.2)
            img.paste(pic, (80, y))
            y += box_h + 40
            continue
        lines = rng.randint(1, 3)
        mine = rng.random() < 0.5
        bubble_w = rng.randint(520, 900)
        bubble_h = 36 + lines * 56
        x0 = w - 60 - bubble_w if mine else 60
        d.rounded_rectangle((x0, y, x0 + bubble_w, y + bubble_h), 24,
                            fill=(149, 236, 105) if mine else (255, 255, 255))
        for k in range(lines):
            d.text((x0 + 28, y + 20 + k * 56), rng.choice(phrases)[: bubble_w // 44], fill=(30, 30, 30), font=text)
        y += bubble_h + rng.randint(30, 70)
    d.rectangle((0, h - 180, w, h), fill=(255, 255, 255))
    img.save(path, "PNG")


def make_photo(path: Path, seed: int) -> None:
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    w, h = PHOTO_SIZE
    base = Image.new("RGB", (400, 300), tuple(rng.randint(60, 200) for _ in range(3)))
    d = ImageDraw.Draw(base)
    for _ in range(14):
        x, y = rng.randint(-50, 400), rng.randint(-50, 300)
        r = rng.randint(20, 160)
        d.ellipse((x, y, x + r, y + r * rng.uniform(0.5, 1.5)), fill=tuple(rng.randint(0, 255) for _ in range(3)))
    # Shapes, a fine texture and sensor noise: about 3 MB at quality 92, like a 12 MP phone photo.
    base = base.filter(ImageFilter.GaussianBlur(3)).resize((w, h), Image.Resampling.BICUBIC)
    texture = Image.effect_noise((w // 4, h // 4), 60).convert("RGB").resize((w, h), Image.Resampling.BICUBIC)
    noise = Image.effect_noise((w, h), 30).convert("RGB")
    photo = Image.blend(Image.blend(base, texture, 0.25), noise, 0.10)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Xiaomi", "Redmi K60"
    exif[0x8769] = {0x9003: f"2025:05:{1 + seed % 28:02d} 15:01:02", 0x9011: "+08:00"}
    photo.save(path, "JPEG", quality=92, exif=exif.tobytes())


def images(count: int) -> tuple[list[Path], list[Path]]:
    """(screenshots, photos), generated once and cached."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    stamp = IMAGES / "version"
    if not stamp.exists() or stamp.read_text() != str(DATA_VERSION):
        for p in IMAGES.iterdir():
            p.unlink() if p.is_file() else shutil.rmtree(p)
        stamp.write_text(str(DATA_VERSION))
    font = _font()
    shots = [IMAGES / f"Screenshot_20250503-{i:06d}.png" for i in range(count)]
    photos = [IMAGES / f"IMG_20250503_{i:06d}.jpg" for i in range(count)]
    missing = [p for p in shots + photos if not p.exists()]
    if missing:
        print(f"generating {len(missing)} images into {IMAGES} (once) …", flush=True)
    for i, p in enumerate(shots):
        if not p.exists():
            make_screenshot(p.with_suffix(".tmp"), i, font)
            p.with_suffix(".tmp").rename(p)
    for i, p in enumerate(photos):
        if not p.exists():
            make_photo(p.with_suffix(".tmp"), i)
            p.with_suffix(".tmp").rename(p)
    return shots, photos


OCR = False  # --ocr: let a first export read the pictures first, as it does for a user


def child(spec: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if not OCR:
        env["LOCKER_OCR"] = "off"
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], capture_output=True, text=True, env=env,
                          cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"bench: child failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"bench: {spec.get('argv') or spec['tool']} exited {result['rc']}: {proc.stderr[-2000:]}")
    result["stdout"] = proc.stdout
    return result


def locker(home: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "locker", "--home", str(home), *args], capture_output=True,
                          text=True, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"bench: locker {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return proc.stdout


def dispute(name: str, files: list[Path], keep: bool) -> Path:
    home = OUT / f"export-home-{name}"
    if keep and (home / "disputes" / "bench").exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    locker(home, "profile", "--name", "张三", "--phone", "13800000000", "--tz", "Asia/Shanghai")
    locker(home, "new", "耳机退款（基准测试）", "--slug", "bench", "--platform", "xiaohongshu", "--merchant",
           "优品数码旗舰店", "--order-id", "250501123456789", "--amount", "199.00", "--purchased-on", "2025-05-01")
    folder = OUT / f"staging-{name}"  # outside the home: the locker refuses its own files as evidence
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for p in files:
        os.link(p, folder / p.name)
    print(f"  ingesting {len(files)} files into {home.name} …", flush=True)
    locker(home, "add", "bench", str(folder), "--json")
    shutil.rmtree(folder)
    return home


def export(home: Path, cold: bool) -> dict:
    root = home / "disputes" / "bench"
    if cold:
        shutil.rmtree(root / "derived", ignore_errors=True)
        (root / "derived").mkdir(mode=0o700)
    out = OUT / f"{home.name}.pdf"
    out.unlink(missing_ok=True)
    result = child({"tool": "locker", "argv": ["--home", str(home), "export", "bench", "-o", str(out), "--json"]})
    result["size"] = out.stat().st_size
    result["pages"] = _pages(out)
    return result


def _pages(pdf: Path) -> int | None:
    try:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    except OSError:
        return None
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


def _median(results: list[dict]) -> dict:
    ordered = sorted(results, key=lambda r: r["seconds"])
    return ordered[len(ordered) // 2]


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def mb(n: float) -> str:
    return f"{n / 1e6:8.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="screenshots and photos each (default 100)")
    parser.add_argument("--keep-homes", action="store_true", help="reuse the locker homes of a previous run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is shown")
    parser.add_argument("--ocr", action="store_true", help="leave OCR on: a first export reads the pictures first "
                                                           "(off by default: LOCKER_OCR=off, the pack's own work)")
    args = parser.parse_args()
    global OCR
    OCR = args.ocr
    count = args.count
    small = max(1, count // 4)
    shots, photos = images(count)
    files = shots + photos
    src_bytes = sum(p.stat().st_size for p in files)
    print(f"images: {count} screenshots {SHOT_SIZE[0]}×{SHOT_SIZE[1]} PNG + {count} photos "
          f"{PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} JPEG, {src_bytes / 1e6:.0f} MB; {os.cpu_count()} CPU(s), "
          f"Python {sys.version.split()[0]}")
    big_home = dispute(f"{2 * count}", files, args.keep_homes)
    small_home = dispute(f"{2 * small}", shots[:small] + photos[:small], args.keep_homes)
    os.sync()  # the ingest's writes are not left to be flushed during the timed runs

    print(f"timing (each in a fresh process, median of {args.repeat}, interleaved; load average "
          f"{_load()}; OCR before a first export: {'on' if OCR else 'off, LOCKER_OCR=off'}) …", flush=True)
    wrap_out = OUT / "img2pdf.pdf"
    runs: dict[str, list[dict]] = {"floor": [], "wrap": [], "cold": [], "warm": [], "little": [], "check": []}
    for _ in range(args.repeat):  # interleaved, so that a slow spell of a shared machine hits all alike
        runs["floor"].append(child({"tool": "floor", "files": [str(p) for p in files], "box": A4_200DPI,
                                    "scratch": str(OUT)}))
        runs["floor"][-1]["size"] = 0
        runs["wrap"].append(child({"tool": "img2pdf", "files": [str(p) for p in files], "out": str(wrap_out)}))
        runs["wrap"][-1]["size"] = wrap_out.stat().st_size
        runs["cold"].append(export(big_home, cold=True))
        runs["warm"].append(export(big_home, cold=False))
        runs["little"].append(export(small_home, cold=True))
        runs["check"].append(child({"tool": "check", "home": str(big_home), "count": len(files)}))
    return report(runs, count, small, files, big_home, args.repeat)


def report(runs: dict[str, list[dict]], count: int, small: int, files: list[Path], big_home: Path, repeat: int) -> int:
    """Print the medians, the ratios and the targets; 0 when every target is met."""
    floor, wrap, cold, warm, little, check = (_median(runs[k]) for k in ("floor", "wrap", "cold", "warm", "little",
                                                                          "check"))
    if repeat > 1:
        for key, label in (("floor", "floor (Pillow)"), ("wrap", "img2pdf"), ("cold", "export cold"), ("warm", "export warm"),
                           ("little", f"export cold ({2 * small})"), ("check", "originals' check")):
            print(f"  {label:20} " + "  ".join(f"{r['seconds']:.2f}s" for r in runs[key]))

    rows = [("floor: Pillow fits each to A4", floor, 2 * count, len(files)),
            ("img2pdf (lossless wrap)", wrap, 2 * count, len(files)),
            (f"locker export, cold ({2 * count})", cold, 2 * count, cold["pages"]),
            (f"locker export, warm ({2 * count})", warm, 2 * count, warm["pages"]),
            (f"locker export, cold ({2 * small})", little, 2 * small, little["pages"])]
    print(f"\n{'':34} {'time':>9} {'per exhibit':>12} {'pages':>6} {'output':>11} {'peak RSS':>10} {'workers':>9}")
    for label, r, n, pages in rows:
        print(f"{label:34} {r['seconds']:8.2f}s {1000 * r['seconds'] / n:9.0f} ms {pages or 0:6d} {mb(r['size'])} "
              f"{r['vmhwm_kib'] / 1024:7.0f} MB {r['children_maxrss_kib'] / 1024:6.0f} MB")
    ratio = cold["seconds"] / floor["seconds"]
    size_ratio = cold["size"] / wrap["size"]
    peak = max(cold["vmhwm_kib"], warm["vmhwm_kib"], little["vmhwm_kib"]) / 1024
    workers = max(cold["children_maxrss_kib"], little["children_maxrss_kib"]) / 1024
    linear = (cold["seconds"] / (2 * count)) / (little["seconds"] / (2 * small))
    marginal = (cold["seconds"] - little["seconds"]) / (2 * count - 2 * small) if count > small else 0.0
    fixed = little["seconds"] - marginal * 2 * small
    print(f"\n{'':34} {'floor':>9} {'img2pdf':>9}")
    for label, r in (("cold export", cold), ("warm export", warm)):
        print(f"{label + ' / …':34} {r['seconds'] / floor['seconds']:8.2f}× {r['seconds'] / wrap['seconds']:8.2f}×")
    checks = [
        (f"time: first (cold) export / floor = {ratio:.2f}× ({cold['seconds']:.2f}s vs {floor['seconds']:.2f}s; "
         f"{cold['seconds'] / wrap['seconds']:.2f}× img2pdf)", ratio <= TARGET_FLOOR_RATIO, f"≤ {TARGET_FLOOR_RATIO:g}×"),
        (f"size: export / img2pdf = {size_ratio:.3f} ({mb(cold['size']).strip()} vs {mb(wrap['size']).strip()})",
         size_ratio <= TARGET_SIZE_RATIO, f"≤ {TARGET_SIZE_RATIO:g}"),
        (f"peak RSS: {peak:.0f} MB main process (workers ≤ {workers:.0f} MB each)", peak < TARGET_RSS_MB,
         f"< {TARGET_RSS_MB:g} MB"),
        (f"linearity: per-exhibit time {2 * count} vs {2 * small} exhibits = {linear:.2f} "
         f"(each exhibit adds {1000 * marginal:.0f} ms to a fixed {fixed:.1f} s)", linear <= TARGET_LINEAR,
         f"≤ {TARGET_LINEAR:g}"),
    ]
    stored = sum(p.stat().st_size for p in (big_home / "disputes" / "bench" / "objects").rglob("*") if p.is_file())
    print(f"{'check of the originals (' + str(2 * count) + ')':34} {check['seconds']:8.2f}s "
          f"{1000 * check['seconds'] / (2 * count):9.0f} ms {'':6} {mb(stored)} hashed, "
          f"{stored / 1e6 / max(check['seconds'], 1e-9):.0f} MB/s; "
          f"{100 * check['seconds'] / warm['seconds']:.0f}% of the warm export")
    checks.append((f"warm export (originals re-hashed) / img2pdf = {warm['seconds'] / wrap['seconds']:.2f}× "
                   f"(the check alone {check['seconds']:.2f}s)", warm["seconds"] <= TARGET_WARM_RATIO * wrap["seconds"],
                   f"≤ {TARGET_WARM_RATIO:g}×"))
    print(f"\nload average at the end: {_load()} (other processes share the {os.cpu_count()} CPU(s))")
    ok = True
    for text, passed, target in checks:
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}  {text}  (target {target})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
