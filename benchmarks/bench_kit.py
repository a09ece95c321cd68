"""Kit benchmark (issue 16): a 30-exhibit `locker kit` against `locker export` of the same 30 exhibits.

Both read the same snapshot, re-hash the same originals and make their pictures with the same
rendition code (report/images.py); the kit then composes a card per picture (caption band, JPEG within
the byte limit), the export lays out and writes a PDF. Target: the kit takes at most 1.2× the time of
the export of the same exhibits' renditions.

The dispute: 20 phone screenshots (1170×2532 PNG), 8 camera photos (4000×3000 JPEG with EXIF) and 2
long screenshots (1080×6000, cut by the slice plan), with a form profile in the home's locker.toml
that takes all of them (`[forms.bench-40]`, 40 images, 3 MB each). Each run is a fresh child process
(`python -m locker`); kit and export runs are interleaved, and the median of --repeat is reported,
cold (the dispute's derived/ cache emptied first: every rendition made) and warm (renditions cached).

    .venv/bin/python benchmarks/bench_kit.py               # median of 3
    .venv/bin/python benchmarks/bench_kit.py --repeat 1    # quick run
Exit status: 0 target met, 1 missed, 2 a command failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TARGET = 1.2
FORM = """[forms.bench-40]
name = "benchmark form (40 images)"
max_images = { value = 40, defined = true }
max_bytes = { value = 3000000, defined = true }
max_width = { value = 1080, defined = true }
max_height = { value = 2400, defined = true }
types = { value = ["image/jpeg"], defined = true }
text_limit = { value = 500, defined = true }
"""


def _locker(home: Path, *args: object) -> float:
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC", "LOCKER_OCR": "off"}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "locker", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=REPO)
    took = time.perf_counter() - started
    if proc.returncode:
        print(f"locker {' '.join(map(str, args))} failed:\n{proc.stderr}", file=sys.stderr)
        raise SystemExit(2)
    return took


def _make(root: Path) -> Path:
    from tests import ocr_samples, samples

    src = root / "in"
    src.mkdir()
    files = []
    for i in range(20):
        ocr_samples.chat_screenshot(src / f"Screenshot_20250503-1422{i:02d}.png", seed=i)
        files.append(src / f"Screenshot_20250503-1422{i:02d}.png")
    for i in range(8):
        files.append(samples.make_jpeg_with_exif(src / f"IMG_{i:04d}.jpg", 4000, 3000, seed=i + 1))
    for i in range(2):
        files.append(samples.make_long_screenshot(src / f"Screenshot_20250504-1500{i:02d}.png", seed=i))
    home = root / "home"
    _locker(home, "new", "小红书无线耳机退款", "--slug", "bench", "--platform", "xiaohongshu",
            "--order-id", "250501123456789", "--amount", "199.00", "--claim", "退货退款")
    _locker(home, "add", "bench", *files)
    (home / "locker.toml").write_text(FORM, encoding="utf-8")
    return home


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-kit-"))
    try:
        home = _make(root)
        derived = home / "disputes" / "bench" / "derived"
        out = root / "out"
        out.mkdir()
        times: dict[str, list[float]] = {"kit cold": [], "export cold": [], "kit warm": [], "export warm": []}
        for r in range(args.repeat):
            for what in ("kit", "export"):
                shutil.rmtree(derived, ignore_errors=True)
                for state in ("cold", "warm"):
                    if what == "kit":
                        took = _locker(home, "kit", "bench", "--for", "bench-40", "-o", out / f"kit-{r}-{state}")
                    else:
                        took = _locker(home, "export", "bench", "--include", "1-30", "-o",
                                       out / f"pack-{r}-{state}.pdf")
                    times[f"{what} {state}"].append(took)
        med = {k: statistics.median(v) for k, v in times.items()}
        for k, v in med.items():
            print(f"{k:<12} {v:6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in times[k])})")
        ok = True
        for state in ("cold", "warm"):
            ratio = med[f"kit {state}"] / med[f"export {state}"]
            verdict = "PASS" if ratio <= TARGET else "FAIL"
            ok &= ratio <= TARGET
            print(f"kit / export ({state}): {ratio:.2f}×  target ≤ {TARGET}×  {verdict}")
        return 0 if ok else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
