"""Start-up benchmark: whole ``locker --help`` and ``locker search`` processes beside ``python -c "import typer"``.

Targets (issue 10): ``locker search`` as a whole process ≤ 2× ``python -c "import typer"``,
and ``locker --help`` ≤ 0.2 s. Every command runs ``--repeat`` times, interleaved (so that a
busy moment of the machine hits all of them alike); medians are printed side by side. The
search runs in a small home (``--disputes`` disputes, catalog warm and settled), so that what is
measured is start-up and imports, not the search itself (see bench_search.py for that).

    python benchmarks/bench_startup.py               # 3 disputes, 11 runs each
    python benchmarks/bench_startup.py --importtime  # also: where a search's import time goes

The commands that read one dispute (``list``, ``show``, ``log``, ``verify``) are timed too, for
context (no target): they read on plain sqlite3, without importing SQLAlchemy or SQLModel.

Exit status 0 when both targets are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SEARCH_RATIO, TARGET_HELP_S = 2.0, 0.2


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _make_home(home: Path, disputes: int, env: dict[str, str]) -> None:
    locker = [sys.executable, "-m", "locker"]
    for i in range(disputes):
        subprocess.run([*locker, "new", f"退款纠纷 {i}", "--slug", f"d{i}", "--merchant", "优品数码旗舰店",
                        "--claim", "退货退款 refund"], env=env, check=True, capture_output=True)
        subprocess.run([*locker, "event", f"d{i}", "商家拒绝退款 refused", "--at", "2025-05-03 15:20"],
                       env=env, check=True, capture_output=True)
    subprocess.run([*locker, "search", "退款"], env=env, check=True, capture_output=True)
    time.sleep(3.1)  # let the catalog's stamps age past its racy window (catalog_sync.RACY_NS)
    subprocess.run([*locker, "search", "退款"], env=env, check=True, capture_output=True)


def _importtime(env: dict[str, str], args: list[str], top: int = 15) -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "locker", *args], env=env, cwd=REPO,
                          capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if found and len(found.group(3)) == 1:  # imported by locker itself or the interpreter, not nested
            rows.append((int(found.group(2)), found.group(4)))
    print(f"\nimport time of `locker {' '.join(args)}` (top-level imports, cumulative, one run):")
    for micros, name in sorted(rows, reverse=True)[:top]:
        print(f"  {micros / 1000:7.1f} ms  {name}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=11)
    ap.add_argument("--disputes", type=int, default=3)
    ap.add_argument("--importtime", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        env = {**os.environ, "LOCKER_HOME": str(work / "home"), "PYTHONDONTWRITEBYTECODE": ""}
        _make_home(work / "home", args.disputes, env)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import typer"': [sys.executable, "-c", "import typer"],
            "locker --help": [sys.executable, "-m", "locker", "--help"],
            "locker search 退款": [sys.executable, "-m", "locker", "search", "退款"],
            "locker search 退款 --json": [sys.executable, "-m", "locker", "search", "退款", "--json"],
            "locker list": [sys.executable, "-m", "locker", "list"],
            "locker show d0": [sys.executable, "-m", "locker", "show", "d0"],
            "locker log d0": [sys.executable, "-m", "locker", "log", "d0"],
            "locker verify d0": [sys.executable, "-m", "locker", "verify", "d0"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for cmd in commands.values():  # warm the page cache and the .pyc files
            _wall(cmd, env)
        for _ in range(args.repeat):
            for name, cmd in commands.items():
                times[name].append(_wall(cmd, env))
        medians = {name: statistics.median(t) for name, t in times.items()}
        typer_s = medians['python -c "import typer"']
        print(f"median of {args.repeat} runs each, interleaved; load average {os.getloadavg()[0]:.2f} "
              f"on {os.cpu_count()} CPUs")
        print(f"{'command':28} {'median ms':>9} {'min ms':>7} {'÷ import typer':>14}")
        for name, median in medians.items():
            print(f"{name:28} {median * 1000:>9.0f} {min(times[name]) * 1000:>7.0f} {median / typer_s:>14.2f}")
        ratio = medians["locker search 退款"] / typer_s
        help_s = medians["locker --help"]
        ok_search, ok_help = ratio <= TARGET_SEARCH_RATIO, help_s <= TARGET_HELP_S
        print(f"locker search ÷ import typer: {ratio:.2f}   target ≤ {TARGET_SEARCH_RATIO:.1f}: "
              f"{'PASS' if ok_search else 'FAIL'}")
        print(f"locker --help: {help_s * 1000:.0f} ms   target ≤ {TARGET_HELP_S * 1000:.0f} ms: "
              f"{'PASS' if ok_help else 'FAIL'}")
        if args.importtime:
            _importtime(env, ["search", "退款"])
            _importtime(env, ["--help"])
        return 0 if ok_search and ok_help else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
