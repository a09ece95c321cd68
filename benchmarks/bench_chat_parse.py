"""Chat parse benchmark: `locker.chats.parse_chat` on 100,000-message exports.

Generates (from a fixed seed, under --workdir) a WhatsApp Android export and a
generic CSV export (header 时间,发送人,内容) of --messages messages each, mixed
Chinese and English, with multi-line messages, media placeholders and a system
line, then times `parse_chat` on each (read + decode + detect + parse; the
database store is not part of it) in a fresh child process per run, so that
peak memory is the parse's own:

* messages/s: messages parsed / wall time of `parse_chat` (median of --repeat runs);
* peak RSS: the child's VmHWM (high-water mark of resident memory), and the same
  minus its RSS just before parsing (interpreter and imports);
* peak traced: tracemalloc's peak of Python allocations during the parse (one
  extra run, since tracing slows the parse down).

Targets (the issue's): >= 50,000 messages/s end to end and < 300 MB peak; the
parse alone should reach several times the rate.

    python benchmarks/bench_chat_parse.py                       # 100,000 messages, 3 runs each
    python benchmarks/bench_chat_parse.py --messages 20000 --repeat 1
    python benchmarks/bench_chat_parse.py --json out.json --keep

Exit status: 0 targets met, 1 a target missed, 2 a parse failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_RATE = 50_000
TARGET_PEAK_MB = 300.0

SENDERS = ["Anna", "优品数码旗舰店", "客服小美", "Li Wei"]
TEXTS = [
    "你好，收到的商品是坏的", "抱歉，请发一下照片", "已发，我要求退款", "好的，已同意退款",
    "Hi, the parcel arrived damaged", "Sorry! Please send a photo of the box",
    "退款已经申请了，麻烦尽快处理一下 order #250501123456789", "快递单号是SF1234567890，请查收",
    "The left earbud has no sound at all", "亲，这边给您补偿十元可以吗？", "不可以，我要全额退款 ¥199.00",
    "OK, I will check with the warehouse 😊", "平台介入了，请提供聊天记录截图",
]


def _messages(n: int, seed: int = 1):
    rng = random.Random(seed)
    t = datetime(2024, 11, 20, 8, 0, 0)
    for i in range(n):
        t += timedelta(seconds=rng.randint(5, 120))
        who = SENDERS[i % 2] if rng.random() < 0.9 else rng.choice(SENDERS)
        r = rng.random()
        if r < 0.05:
            text = "<Media omitted>"
        elif r < 0.15:
            text = rng.choice(TEXTS) + "\n" + rng.choice(TEXTS)  # a two-line message
        else:
            text = rng.choice(TEXTS)
        yield t, who, text


def make_whatsapp(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("20/11/2024, 07:59 - Messages and calls are end-to-end encrypted. No one outside of this chat,"
                " not even WhatsApp, can read or listen to them.\n")
        for t, who, text in _messages(n):
            f.write(f"{t:%d/%m/%Y, %H:%M} - {who}: {text}\n")


def make_csv(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["时间", "发送人", "内容"])
        for t, who, text in _messages(n):
            writer.writerow([f"{t:%Y-%m-%d %H:%M:%S}", who, text])


def _vm(field: str) -> float:
    """VmRSS / VmHWM of this process in MB (Linux); ru_maxrss elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale / 1024


def child(path: str, trace: bool) -> None:
    """One parse in this process; prints a JSON line with the measurements."""
    from zoneinfo import ZoneInfo

    from locker.chats import parse_chat

    tz = ZoneInfo("Asia/Shanghai")
    before = _vm("VmRSS")
    if trace:
        import tracemalloc

        tracemalloc.start()
    start = time.perf_counter()
    parsed = parse_chat(Path(path), tz=tz, me="Anna")
    elapsed = time.perf_counter() - start
    traced = None
    if trace:
        import tracemalloc

        traced = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
        tracemalloc.stop()
    kinds: dict[str, int] = {}
    for m in parsed.messages:
        kinds[m.kind] = kinds.get(m.kind, 0) + 1
    print(json.dumps({
        "format": parsed.format, "messages": len(parsed.messages), "kinds": kinds, "seconds": elapsed,
        "rss_before_mb": before, "peak_rss_mb": _vm("VmHWM"), "traced_peak_mb": traced,
        "warnings": list(parsed.warnings), "date_order": parsed.date_order,
    }))


def run_child(path: Path, trace: bool = False) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(path)] + (["--trace"] if trace else [])
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "child failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None, help="where to write the exports (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated exports")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.trace)
        return 0

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-chat-"))
    workdir.mkdir(parents=True, exist_ok=True)
    exports = {
        "whatsapp_android": (workdir / f"whatsapp-{args.messages}.txt", make_whatsapp),
        "csv_chat": (workdir / f"chat-{args.messages}.csv", make_csv),
    }
    print(f"python {sys.version.split()[0]} on {sys.platform}, {os.cpu_count()} CPUs; "
          f"{args.messages:,} messages per export, {args.repeat} run(s) each, one child process per run")
    results = []
    ok = True
    for expected, (path, make) in exports.items():
        if not path.exists():
            make(path, args.messages)
        size_mb = path.stat().st_size / (1024 * 1024)
        try:
            runs = [run_child(path) for _ in range(max(1, args.repeat))]
            traced = run_child(path, trace=True)
        except RuntimeError as exc:
            print(f"{expected}: parse failed: {exc}")
            return 2
        seconds = statistics.median(r["seconds"] for r in runs)
        count = runs[0]["messages"]
        rate = count / seconds
        peak = max(r["peak_rss_mb"] for r in runs)
        over_base = max(r["peak_rss_mb"] - r["rss_before_mb"] for r in runs)
        passed = rate >= TARGET_RATE and peak < TARGET_PEAK_MB and runs[0]["format"] == expected
        ok &= passed
        results.append({"export": expected, "file_mb": round(size_mb, 1), **runs[0], "median_seconds": seconds,
                        "messages_per_second": rate, "peak_rss_mb": peak, "peak_over_baseline_mb": over_base,
                        "traced_peak_mb": traced["traced_peak_mb"], "passed": passed})
        each = ", ".join(f"{r['seconds'] * 1000:.0f}" for r in runs)
        print(f"{expected:17} {size_mb:6.1f} MB  {count:,} entries {runs[0]['kinds']}  "
              f"median {seconds * 1000:7.1f} ms (runs: {each})  "
              f"{rate:,.0f} msg/s  peak RSS {peak:.0f} MB (+{over_base:.0f} MB over imports), "
              f"traced peak {traced['traced_peak_mb']:.0f} MB  "
              f"{'PASS' if passed else 'FAIL'}")
    print(f"targets: >= {TARGET_RATE:,} messages/s, peak RSS < {TARGET_PEAK_MB:.0f} MB (parse only; "
          "the store adds its own time)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    if not args.keep and args.workdir is None:
        for path, _ in exports.values():
            path.unlink(missing_ok=True)
        workdir.rmdir()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
