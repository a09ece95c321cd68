"""Bundle benchmark: `locker bundle` of 1 GiB of originals against `zip -0` of the same files.

In one run, on the same files, each repetition times back to back

* `zip -0 -q OUT.zip FILES…` followed by `sync` (the floor: a stored ZIP, made durable), and
* `<python> -m locker --home H bundle SLUG -o OUT.zip --force --json` followed by `sync`: the whole
  command as a user runs it (interpreter start-up, imports, the SHA-256 of every original checked while
  it is copied, the evidence pack made and copied in, the custody log, the bag's manifests, the ZIP's own
  SHA-256, fsync, the custody entry),

and prints each time, the CPU seconds (user + system) of each, the ratio bundle / zip of wall times (the median of the per-repetition ratios: on a shared
machine the load drifts between repetitions more than within one), and PASS/FAIL against the target of
issue 13: ratio <= 1.3. The bundle is then checked with `locker verify --bundle` (untimed).

Warm cache, as bench_ingest.py: before each timed command an untimed `sync` and a full read of the files.
Data: incompressible random bytes (`--files` files of equal size, `--mib` MiB in all), added to a dispute
in a fresh home under `--workdir` (untimed).

    python benchmarks/bench_bundle.py                       # 1 GiB in 4 files, 3 repetitions
    python benchmarks/bench_bundle.py --mib 64 --repeat 1   # smoke run
Exit status: 0 target met, 1 target missed, 2 the locker failed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MiB = 1 << 20
TARGET = 1.3


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _timed(cmd: list[str], **kw: object) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall seconds, CPU seconds of the command, the finished process); the sync after it is timed too."""
    cpu = _cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    spent = _cpu() - cpu
    subprocess.run(["sync"], check=True)
    return time.perf_counter() - start, spent, proc


def _warm(files: list[Path]) -> None:
    subprocess.run(["sync"], check=True)
    for f in files:
        with open(f, "rb") as src:
            while src.read(8 * MiB):
                pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=1024, help="MiB of originals in all (default 1024)")
    ap.add_argument("--files", type=int, default=4, help="how many originals (default 4)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=REPO / "benchmarks" / "out")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    if not shutil.which("zip"):
        print("bench_bundle: needs the zip command (apt-get install zip)", file=sys.stderr)
        return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-bundle-", dir=args.workdir))
    try:
        return _run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> int:
    src = work / "originals"
    src.mkdir()
    each = args.mib * MiB // args.files
    files = []
    for n in range(args.files):
        path = src / f"VID_2025050{n % 10}_1501{n:02d}.bin"
        with open(path, "wb") as out:
            left = each
            while left:
                piece = os.urandom(min(4 * MiB, left))
                out.write(piece)
                left -= len(piece)
        files.append(path)
    home = work / "home"
    locker = [sys.executable, "-m", "locker", "--home", str(home)]
    env = {**os.environ, "LOCKER_OCR": "off", "TZ": "UTC", "LANG": "C.UTF-8"}
    for cmd in (["new", "bench bundle", "--slug", "bench"], ["add", "bench", str(src), "--json"]):
        proc = subprocess.run([*locker, *cmd], capture_output=True, text=True, env=env)
        if proc.returncode:
            print(f"bench_bundle: locker {cmd[0]} failed: {proc.stderr}", file=sys.stderr)
            return 2
    total = sum(f.stat().st_size for f in files)
    print(f"{len(files)} originals, {total / MiB:.0f} MiB; load {os.getloadavg()[0]:.2f}; "
          f"{os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    zips, bundles, ratios = [], [], []
    out_zip, out_bundle = work / "plain.zip", work / "bundle.zip"
    for rep in range(args.repeat):
        out_zip.unlink(missing_ok=True)
        _warm(files)
        t_zip, c_zip, proc = _timed(["zip", "-0", "-q", "-j", str(out_zip), *map(str, files)])
        if proc.returncode:
            print(f"bench_bundle: zip failed: {proc.stderr}", file=sys.stderr)
            return 2
        _warm(files)
        t_bundle, c_bundle, proc = _timed([*locker, "bundle", "bench", "-o", str(out_bundle), "--force", "--json"], env=env)
        if proc.returncode:
            print(f"bench_bundle: locker bundle failed: {proc.stderr}", file=sys.stderr)
            return 2
        doc = json.loads(proc.stdout)
        zips.append(t_zip)
        bundles.append(t_bundle)
        ratios.append(t_bundle / t_zip)
        print(f"  run {rep + 1}: zip -0 + sync {t_zip:6.2f} s (cpu {c_zip:5.2f} s)   "
              f"locker bundle + sync {t_bundle:6.2f} s (cpu {c_bundle:5.2f} s)   "
              f"ratio {t_bundle / t_zip:.2f}   ({out_zip.stat().st_size / MiB:.0f} / {doc['size'] / MiB:.0f} MiB)")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    proc = subprocess.run([*locker, "verify", "--bundle", str(out_bundle)], capture_output=True, text=True, env=env)
    ratio = statistics.median(ratios)
    print(f"median: zip -0 {statistics.median(zips):.2f} s, locker bundle {statistics.median(bundles):.2f} s, "
          f"ratio {ratio:.2f} (target <= {TARGET}) {'PASS' if ratio <= TARGET else 'FAIL'}")
    print(f"peak RSS of any child: {peak:.0f} MB; verify --bundle: {proc.stdout.strip() or proc.stderr.strip()}")
    if proc.returncode:
        return 2
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
