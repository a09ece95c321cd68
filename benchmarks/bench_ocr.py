"""OCR benchmark (issue 12, point 6), speed part: the targets are

* one 1170×2532 screenshot read in ≤ 3 s wall on 2 cores;
* 100 screenshots through ``locker ocr`` in ≤ 1.2× the time of calling rapidocr directly on the same
  images in one process (same settings, onnxruntime's default threads): locker's own overhead;
* peak RSS < 1 GB (of any one process: locker's, each worker's, the direct run's).

It also measures what the worker layout was chosen by: ``locker ocr`` with one process using
onnxruntime's threads (``LOCKER_OCR_WORKERS=1``) against two worker processes of one thread each
(the default on two cores).

The screenshots are drawn here with the CJK font the pack uses (tests/ocr_samples.py: a shop's chat
with time separators, bubbles left and right, an order card) and cached in benchmarks/out/ocr-images.
Every run is a fresh child process (start-up, imports and model loading included, as a user would
see them); each figure is the median of ``--repeat`` runs. Prints one JSON document.

    .venv/bin/python benchmarks/bench_ocr.py                      # everything, 100 screenshots
    .venv/bin/python benchmarks/bench_ocr.py --count 20 --repeat 1
    .venv/bin/python benchmarks/bench_ocr.py --only single
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "benchmarks" / "out" / "ocr-images"
DATA_VERSION = 1
PYTHON = sys.executable

# Runs a command, then prints its wall time, CPU time, the peak RSS of any one of its processes
# (ru_maxrss of the children) and the peak of all of them together (sampled every 0.1 s from /proc).
_TIMED = r"""
import json, os, resource, subprocess, sys, time

def tree_rss(sid):
    # The resident memory of every process of the session together (the command and its workers).
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:
                with open(f"/proc/{pid}/statm") as f:
                    total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
    return total

t = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                        start_new_session=True)
peak_sum = 0
while proc.poll() is None:
    peak_sum = max(peak_sum, tree_rss(proc.pid))
    time.sleep(0.1)
out, err = proc.communicate()
wall = time.perf_counter() - t
if proc.returncode:
    sys.stderr.write(err)
    sys.exit(proc.returncode)
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": use.ru_utime + use.ru_stime, "rss_mb": use.ru_maxrss / 1024,
                  "rss_sum_mb": peak_sum / 2**20, "out": out}))
"""

# rapidocr called directly, the way a script would: one engine, the same settings as locker's, each
# image read from its file.
_DIRECT = r"""
import sys
sys.path.insert(0, sys.argv[1])
from locker.ocr.engine import _PARAMS
from rapidocr import RapidOCR
engine = RapidOCR(params=dict(_PARAMS))
lines = 0
for path in sys.argv[2:]:
    out = engine(path)
    lines += len(out.txts or ())
print(lines)
"""


def screenshots(count: int) -> list[Path]:
    """``count`` drawn 1170×2532 chat screenshots (made once, cached)."""
    sys.path.insert(0, str(REPO))
    from tests import ocr_samples

    DATA.mkdir(parents=True, exist_ok=True)
    stamp = DATA / "version"
    if not stamp.exists() or stamp.read_text() != str(DATA_VERSION):
        for p in DATA.iterdir():
            p.unlink() if p.is_file() else shutil.rmtree(p)
        stamp.write_text(str(DATA_VERSION))
    paths = [DATA / f"Screenshot_20250503-{i:06d}.png" for i in range(count)]
    for i, path in enumerate(paths):
        if not path.exists():
            ocr_samples.chat_screenshot(path, seed=1000 + i)
    return paths


def _timed(args: list[str], env: dict[str, str] | None = None) -> dict:
    proc = subprocess.run([PYTHON, "-c", _TIMED, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if proc.returncode:
        raise SystemExit(f"failed: {args}\n{proc.stderr}")
    return json.loads(proc.stdout)


def _locker_home(paths: list[Path]) -> tuple[Path, str]:
    home = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    env = {**os.environ, "LOCKER_HOME": str(home)}
    locker = [PYTHON, "-m", "locker"]
    subprocess.run([*locker, "new", "OCR benchmark", "--slug", "bench"], env=env, check=True, capture_output=True)
    subprocess.run([*locker, "add", "bench", *map(str, paths)], env=env, check=True, capture_output=True)
    return home, "bench"


def _forget_readings(home: Path) -> None:
    for folder in (home / "disputes" / "bench" / "derived").glob("*/*/ocr-*"):
        shutil.rmtree(folder)


def run_locker_ocr(home: Path, workers: int | None) -> dict:
    _forget_readings(home)
    env = {"LOCKER_HOME": str(home)}
    if workers is not None:
        env["LOCKER_OCR_WORKERS"] = str(workers)
    result = _timed([PYTHON, "-m", "locker", "ocr", "bench", "--json"], env)
    doc = json.loads(result["out"])
    assert all(r["read_now"] for r in doc["read"]), "a reading was not made again"
    return {"wall": result["wall"], "cpu": result["cpu"], "rss_mb": result["rss_mb"],
            "rss_sum_mb": result["rss_sum_mb"], "workers": doc["workers"],
            "lines": sum(r["lines"] for r in doc["read"])}


def run_direct(paths: list[Path]) -> dict:
    result = _timed([PYTHON, "-c", _DIRECT, str(REPO), *map(str, paths)])
    return {"wall": result["wall"], "cpu": result["cpu"], "rss_mb": result["rss_mb"], "lines": int(result["out"])}


def read_alone(path: Path, repeat: int) -> list[float]:
    """The engine's read of one screenshot in a warm process (model loaded), onnxruntime's default
    threads: what a single picture costs once locker has started."""
    code = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from PIL import Image
from locker.ocr import engine
img = Image.open(sys.argv[2]); img.load()
engine.read(img)  # loads the models
times = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter(); engine.read(img); times.append(time.perf_counter() - t)
print(json.dumps(times))
"""
    proc = subprocess.run([PYTHON, "-c", code, str(REPO), str(path), str(repeat)], capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout)


def _median(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100, help="screenshots for the overhead part (default 100)")
    parser.add_argument("--layout-count", type=int, default=10, help="screenshots for the worker-layout part")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (median)")
    parser.add_argument("--only", choices=("single", "layout", "overhead"), action="append")
    args = parser.parse_args()
    parts = set(args.only or ("single", "layout", "overhead"))
    paths = screenshots(max(args.count, args.layout_count, 1))
    report: dict = {"cores": os.cpu_count(), "load_before": os.getloadavg(), "python": sys.version.split()[0]}

    if "single" in parts:
        home, _ = _locker_home(paths[:1])
        runs = [run_locker_ocr(home, None) for _ in range(args.repeat)]
        reads = read_alone(paths[0], args.repeat)
        report["single_1170x2532"] = {
            "locker_ocr_wall_s": _median(runs, "wall"), "runs_s": [round(r["wall"], 3) for r in runs],
            "locker_ocr_cpu_s": _median(runs, "cpu"),
            "read_alone_s": round(statistics.median(reads), 3), "peak_rss_mb": _median(runs, "rss_mb"),
            "peak_rss_all_mb": _median(runs, "rss_sum_mb"),
            "target_s": 3.0}
        shutil.rmtree(home)

    if "layout" in parts:
        chosen = paths[: args.layout_count]
        home, _ = _locker_home(chosen)
        layout = {}
        layouts = (("1 process, onnxruntime threads", 1), ("2 processes x 1 thread", 2))
        measured: dict[str, list[dict]] = {label: [] for label, _ in layouts}
        for _ in range(args.repeat):  # interleaved: a change of the machine's load hits both alike
            for label, workers in layouts:
                measured[label].append(run_locker_ocr(home, workers))
        for label, _ in layouts:
            runs = measured[label]
            layout[label] = {"wall_s": _median(runs, "wall"), "cpu_s": _median(runs, "cpu"),
                             "per_image_s": round(_median(runs, "wall") / len(chosen), 3),
                             "peak_rss_mb": _median(runs, "rss_mb"), "peak_rss_all_mb": _median(runs, "rss_sum_mb")}
        report["layout"] = {"images": len(chosen), **layout}
        shutil.rmtree(home)

    if "overhead" in parts:
        chosen = paths[: args.count]
        home, _ = _locker_home(chosen)
        mine, direct = [], []
        for _ in range(args.repeat):  # interleaved: a change of the machine's load hits both alike
            mine.append(run_locker_ocr(home, None))
            direct.append(run_direct(chosen))
        ratio = _median(mine, "wall") / _median(direct, "wall")
        report["overhead"] = {
            "images": len(chosen),
            "locker_ocr_wall_s": _median(mine, "wall"), "locker_ocr_runs_s": [round(r["wall"], 3) for r in mine],
            "locker_ocr_cpu_s": _median(mine, "cpu"),
            "locker_ocr_peak_rss_mb": _median(mine, "rss_mb"),
            "locker_ocr_peak_rss_all_processes_mb": _median(mine, "rss_sum_mb"), "locker_lines": mine[0]["lines"],
            "rapidocr_direct_wall_s": _median(direct, "wall"), "direct_runs_s": [round(r["wall"], 3) for r in direct],
            "rapidocr_direct_cpu_s": _median(direct, "cpu"),
            "rapidocr_direct_peak_rss_mb": _median(direct, "rss_mb"), "direct_lines": direct[0]["lines"],
            "ratio": round(ratio, 3), "target_ratio": 1.2}
        shutil.rmtree(home)

    report["load_after"] = os.getloadavg()
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
