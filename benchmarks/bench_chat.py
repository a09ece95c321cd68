"""Chat import benchmark: `locker add` of a 100,000-message chat export, end to end.

For a WhatsApp Android export and a generic CSV export (mixed Chinese and
English, generated with a fixed seed), it times `locker add DISPUTE FILE` in a
fresh locker home — detection, decoding, parsing, hashing, storing the file and
inserting every message in one transaction — and prints messages per second
and the peak memory of the locker process (VmHWM of the child itself).
Interpreter start-up is reported separately so it can be told apart.

    python benchmarks/bench_chat.py                 # 100,000 messages per format
    python benchmarks/bench_chat.py --messages 20000
Targets (issue #3): >= 50,000 messages/s end to end, peak memory < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_RATE, TARGET_MB = 50_000, 300

WORDS_ZH = ["亲", "不支持退款哦", "质量问题", "请发一下照片", "已发货", "七天无理由", "退货退款", "耳机", "左耳没有声音",
            "补偿5元", "平台介入", "12315", "订单编号250501123456789"]
WORDS_EN = ["hello", "refund", "parcel", "damaged", "photo", "sent", "sorry", "please", "order", "tracking"]
SENDERS = ["我", "优品数码旗舰店", "Anna", "Shop Support"]

CHILD = (
    "import re, sys, time; t0 = time.perf_counter(); from locker.cli import main; "
    "rc = main(sys.argv[1:]); "
    "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
    "sys.stderr.write(f'BENCH {hwm} {time.perf_counter() - t0:.4f}\\n'); sys.exit(rc)"
)


def text(rnd: random.Random) -> str:
    parts = [rnd.choice(WORDS_ZH) if rnd.random() < 0.6 else rnd.choice(WORDS_EN) for _ in range(rnd.randint(1, 8))]
    return " ".join(parts)


def make_whatsapp(path: Path, n: int, seed: int) -> None:
    rnd = random.Random(seed)
    t = datetime(2025, 4, 1, 8, 0)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n):
            t += timedelta(seconds=rnd.randint(5, 120))
            f.write(f"{t:%d/%m/%Y, %H:%M} - {rnd.choice(SENDERS)}: {text(rnd)}\n")
            if rnd.random() < 0.03:
                f.write(f"{text(rnd)}\n")  # a continuation line


def make_csv(path: Path, n: int, seed: int) -> None:
    rnd = random.Random(seed)
    t = datetime(2025, 4, 1, 8, 0)
    with open(path, "w", encoding="utf-8") as f:
        f.write("时间,发送人,内容\n")
        for _ in range(n):
            t += timedelta(seconds=rnd.randint(5, 120))
            f.write(f"{t:%Y-%m-%d %H:%M:%S},{rnd.choice(SENDERS)},{text(rnd).replace(',', '，')}\n")


def locker(home: Path, *args: str) -> tuple[float, float, float, str]:
    """(wall seconds, seconds inside the process after start-up, peak MB, stdout) of one locker call."""
    env = {**os.environ, "LOCKER_HOME": str(home)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env, cwd=REPO)
    wall = time.perf_counter() - start
    line = next((x for x in proc.stderr.splitlines() if x.startswith("BENCH ")), None)
    if proc.returncode or line is None:
        sys.exit(f"locker {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    _, hwm_kib, inner = line.split()
    return wall, float(inner), int(hwm_kib) / 1024, proc.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="locker-bench-chat-"))
    ok = True
    try:
        files = {"whatsapp": work / "WhatsApp Chat with Shop.txt", "csv": work / "chat.csv"}
        make_whatsapp(files["whatsapp"], args.messages, args.seed)
        make_csv(files["csv"], args.messages, args.seed)
        startup = statistics.median(locker(work / "h0", "--help")[0] for _ in range(3))
        print(f"python -m locker --help (start-up): {startup:.3f} s")
        print(f"{'format':10} {'messages':>9} {'MB':>6} {'wall s':>7} {'msgs/s':>9} {'peak MB':>8}  target")
        for name, path in files.items():
            runs = []
            for i in range(args.repeat):
                home = work / f"h-{name}-{i}"
                locker(home, "new", "bench", "--slug", "bench")
                wall, inner, peak, out = locker(home, "add", "bench", str(path), "--tz", "Asia/Shanghai", "--json")
                doc = json.loads(out)
                shown = json.loads(locker(home, "show", "bench", "1", "--json")[3])
                count = shown["exhibit"]["metadata"].get("message_count")
                if doc["errors"] or count is None or count < args.messages:
                    sys.exit(f"{name}: expected {args.messages} messages, got {count}: {doc}")
                runs.append((wall, peak, count))
                shutil.rmtree(home)
            wall = statistics.median(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            count = runs[0][2]
            rate = count / wall
            good = rate >= TARGET_RATE and peak < TARGET_MB
            ok &= good
            size = path.stat().st_size / 1e6
            print(f"{name:10} {count:>9,} {size:>6.1f} {wall:>7.2f} {rate:>9,.0f} {peak:>8.0f}  "
                  f">= {TARGET_RATE:,}/s, < {TARGET_MB} MB: {'PASS' if good else 'FAIL'}")
        print("(wall time includes interpreter start-up and imports; median of", args.repeat, "runs)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
