"""Where one screenshot's OCR time goes (issue 12, point 6: one 1170×2532 screenshot in ≤ 3 s).

Times, in a fresh child process, the stages of reading one drawn 1170×2532 chat screenshot in a row: the
imports (numpy, OpenCV, onnxruntime), making the engine (rapidocr's import and both onnxruntime
sessions), then ``--reads`` warm reads (detection + recognition). Each stage is given as wall and
CPU seconds (user + system of this process), with the load average: on a shared machine CPU
seconds are the figure to compare. Then it times the whole command as a user runs it,
``locker ocr`` of that one picture in a fresh home, with ``/usr/bin/time``-style wall and CPU seconds
of the child. Prints one JSON document.

    .venv/bin/python benchmarks/bench_ocr_stages.py [--reads 2] [--threads 0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def stages(picture: Path, reads: int, threads: int) -> list[dict]:
    out: list[dict] = []
    last = (time.perf_counter(), _cpu())

    def mark(name: str) -> None:
        nonlocal last
        now = (time.perf_counter(), _cpu())
        out.append({"stage": name, "wall_s": round(now[0] - last[0], 3), "cpu_s": round(now[1] - last[1], 3),
                    "load": round(os.getloadavg()[0], 2)})
        last = now

    import cv2  # noqa: F401
    import numpy  # noqa: F401
    import onnxruntime  # noqa: F401
    mark("import numpy, cv2, onnxruntime")
    from PIL import Image

    from locker.ocr import engine

    if threads:
        engine.set_threads(threads)
    engine._get_engine()
    mark("make the engine (import rapidocr, two sessions)")
    img = Image.open(picture)
    img.load()
    mark("decode the picture")
    for n in range(reads):
        reading = engine.read(img)
        mark(f"read {n + 1} ({len(reading.lines)} lines)")
    return out


def whole_command(picture: Path) -> dict:
    home = Path(tempfile.mkdtemp(prefix="bench-ocr-stages-"))
    env = {**os.environ, "LOCKER_HOME": str(home)}
    try:
        locker = [sys.executable, "-m", "locker"]
        subprocess.run([*locker, "new", "stages", "--slug", "q"], env=env, check=True, capture_output=True, cwd=REPO)
        subprocess.run([*locker, "add", "q", str(picture)], env=env, check=True, capture_output=True, cwd=REPO)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        subprocess.run([*locker, "ocr", "q"], env=env, check=True, capture_output=True, cwd=REPO)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"locker_ocr_wall_s": round(wall, 3),
                "locker_ocr_cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3),
                "peak_rss_mb": round(after.ru_maxrss / 1024, 1), "load_before": round(load, 2),
                "load_after": round(os.getloadavg()[0], 2), "target_s": 3.0}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=2, help="warm reads after the first (default 2)")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: locker's default)")
    parser.add_argument("--stages-of", type=Path, help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args()
    if args.stages_of:
        print(json.dumps(stages(args.stages_of, args.reads, args.threads)))
        return
    from tests import ocr_samples

    with tempfile.TemporaryDirectory() as tmp:
        picture = Path(tmp) / "Screenshot_20250503-142210.png"
        ocr_samples.chat_screenshot(picture, seed=1000)
        child = subprocess.run([sys.executable, __file__, "--stages-of", str(picture), "--reads", str(args.reads),
                                "--threads", str(args.threads)], capture_output=True, text=True, check=True)
        print(json.dumps({"cores": os.cpu_count(), "stages": json.loads(child.stdout),
                          "whole": whole_command(picture)}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
