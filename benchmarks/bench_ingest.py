"""Ingest benchmark: `locker add` against the floor the disk and the CPU allow.

In one run and on the same data it times

* one big file (default 1 GiB):       cp + sync,    openssl dgst -sha256,  locker add (+ sync)
* many small files (default 2,000, 50 KB-3 MB, log-uniform, like phone
  screenshots):                      cp -r + sync, openssl dgst -sha256 (xargs), locker add DIR (+ sync)

and prints each median time, its ratio to cp+sync, to openssl and to the
floor (the slower of the two: machines differ in which one is), the peak RSS
of the child process (ru_maxrss from os.wait4) and the targets of the issue on
a 2-core machine: big file <= 1.3x the floor, start-up included; small files
<= 1.2x cp -r+sync; peak RSS < 150 MB whatever the file size. A ratio is the
median of the ratios of each repetition, whose three commands run back to back:
on a shared machine the load drifts between repetitions more than within one.

Warm cache, on purpose: every measurement starts from the same state: an
untimed `sync` (no dirty pages left over from the previous step), the page cache
dropped where the bench may (root: `--drop-caches auto`, see below), a full
read of the source files (so they are in the page cache), and a read of the files
the command's own program consists of, so that they are cached too, as they are
for someone who has used the command before.

Why the programs are read back as well (since session 18): dropping the cache evicts
them with everything else. For `cp` and `openssl` that is a binary and a few libraries;
for `locker` some 250 files: the interpreter, its modules, Pillow's and libmagic's
libraries and libmagic's database (about 60 MB), read from the disk again while the add waits.
Measured here, importing what an add imports before it stages a file and loading the
probe's libraries took 221-244 ms with them evicted and 159-174 ms with them cached, and a
whole 2,000-file add was faster with them cached in 5 of 8 alternating pairs (medians 1.80
and 1.91 s). Until session 17 every locker run in this bench paid that and no other command
did; `--cold-program` leaves the programs evicted, as then. Which files: for `cp` and `openssl` the binary and what
`ldd` lists; for `locker`, what an untimed add of 64 of the small files opened or mapped,
found once at the start (an audit hook and /proc/self/maps). Reading them, rather than
running the command once before the timed run, writes nothing: an untimed add of 64 files
just before made the timed add no faster (its writes then went into memory the untimed one
had taken: more system time in 7 of 8 pairs).

Why drop the cache at all: on a VM whose host takes unused guest memory back
(this project's 2-core VM: DAMON pages out memory idle for 60 s, free-page
reporting and a balloon hand free memory to the host), writing into memory the
guest has not used lately costs the host a fault per page. Measured here, 600 MB
written into new files took 0.13 s of kernel time right after memory was freed
and 4.1 s when it was not; `cp -r` of 1.4 GB took 0.6 s or 5.4 s of kernel time
for the same work. Whichever command happened to run after memory was freed
won, so the ratios swung by 2x from run to run. Dropping the page cache before
each command (then reading the sources back in) frees the same memory for each
of them; without root the ratios can swing so (a note says so). Writes are made durable inside the timed part: `cp` is
followed by `sync`; the locker must be durable by itself, and the `sync` after
it is timed and shown separately (it should be nearly free).

Why nothing is deleted until the end: on ext4 without a journal (this VM's root file
system), making a file skips every inode of its group deleted in the last 60 s, or in
the last 360 s while that part of the inode table has unwritten changes, and it looks
at each of them anew for every file it makes (`recently_deleted` in fs/ext4/ialloc.c).
Deleting one command's 2,000 copies before the next command ran made that command
scan thousands of inodes per file: measured with `perf record`, 19 % of a 2,000-file
`locker add` right after such a deletion was spent there, and 5 % even 70 s after one.
A user adding photos has not just deleted thousands of files, so each command's
output is moved aside into `trash/` (a rename frees no inode) and all of it is
deleted once, at the end. Where the disk has no room for that (2x the data per
repetition), outputs are deleted as before and a note says so; and a run started
within six minutes of deleting many files on the same disk (a previous bench run's
trash) pays that cost in its first repetition.

The locker is run as the user runs it, `<python> -m locker --home H add SLUG PATH --json`,
timed as the wall clock of the subprocess, interpreter start-up and imports
included (`python -c pass` and `python -m locker --help` are timed for context).

Data: incompressible, not deduplicable, every file distinct (slices at random
offsets of a random pool, each byte-permuted by its own random table), from a
fixed seed. Small files are valid PNGs (random pixels, stored uncompressed) so
the locker sees what it would see for screenshots.

    python benchmarks/bench_ingest.py                                 # full: 1 GiB + 2,000 files
    python benchmarks/bench_ingest.py --big-mib 64 --small-count 100  # smoke run
Exit status: 0 all targets met, 1 a target missed, 2 the locker failed or is missing.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MiB = 1 << 20
BLOCK, POOL = 1 * MiB, 16 * MiB
SMALL_MIN, SMALL_MAX = 50_000, 3_000_000
TARGET_BIG_X_FLOOR, TARGET_SMALL_X_CP, TARGET_RSS_MB = 1.3, 1.2, 150.0
DATA_VERSION = 1


class LockerFailed(Exception):
    """The locker CLI is missing, failed, or answered something wrong."""


@dataclass
class Run:
    seconds: float
    status: int
    maxrss_kib: int
    cpu: float  # user + system seconds of the child and what it reaped
    stdout: bytes
    stderr: bytes
    json: object = None


# The helper, run as `python -I -S -c`: the fewer modules, the lower its peak (~11 MB, a bare
# interpreter is ~10.5 MB). Output goes to files, not pipes: wait4 must not block on a full pipe.
# What a locker run opens or maps, found by running it under this (as `python -c RECORD OUT ARGS…`):
# every file the interpreter opens (the audit hook sees modules and data files) and, at exit, every
# file mapped into the process (the interpreter, extension modules, libraries). Written to OUT.
RECORD = """
import os, runpy, sys
out, pid, seen = sys.argv[1], os.getpid(), set()
def hook(event, args):
    if event == "open" and isinstance(args[0], str):
        seen.add(args[0])
sys.addaudithook(hook)
def dump():
    if os.getpid() != pid:
        return
    with open("/proc/self/maps") as maps:
        seen.update(parts[5].strip() for parts in (line.split(None, 5) for line in maps) if len(parts) == 6)
    with open(out, "w") as f:
        f.write("\\n".join(sorted(seen)))
import atexit
atexit.register(dump)
sys.argv = ["locker", *sys.argv[2:]]
runpy.run_module("locker", run_name="__main__", alter_sys=True)
"""

SERVE = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    with open(job["stdin"], "rb") as i, open(job["stdout"], "wb") as o, open(job["stderr"], "wb") as e:
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen(job["cmd"], stdin=i, stdout=o, stderr=e, cwd=job["cwd"])
        except OSError as err:
            e.write(f"{job['cmd'][0]}: {err}".encode())
            print(json.dumps([0.0, 127, 0, 0.0]), flush=True)
            continue
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    print(json.dumps([seconds, p.returncode, usage.ru_maxrss, usage.ru_utime + usage.ru_stime]), flush=True)
"""


class Spawner:
    """Runs the measured commands from a small helper process started before any data is touched.

    Linux gives a child's ru_maxrss at least its parent's peak RSS at the time of
    fork/exec (the old memory map's high-water mark is kept across exec), so a
    child spawned by this process after it made the data would look ~50 MB
    bigger than it is. The helper's own peak is that of a bare interpreter.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", SERVE],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, cmd: list[str], *, stdin_path: Path | None = None, cwd: Path | None = None) -> Run:
        """Run cmd; wall time, exit status, peak RSS (KiB; the child and the children it reaped)."""
        with tempfile.NamedTemporaryFile() as out, tempfile.NamedTemporaryFile() as err:
            job = {"cmd": cmd, "stdin": str(stdin_path or os.devnull), "stdout": out.name,
                   "stderr": err.name, "cwd": str(cwd) if cwd else None}
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
            reply = self.proc.stdout.readline()
            if not reply:
                sys.exit("bench_ingest: the helper process that runs the commands died")
            seconds, status, maxrss, cpu = json.loads(reply)
            return Run(seconds, status, maxrss, cpu, out.read(), err.read())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


SPAWNER: Spawner


def run(cmd: list[str], **kw) -> Run:
    return SPAWNER.run(cmd, **kw)


def timed_sync() -> float:
    t0 = time.perf_counter()
    os.sync()
    return time.perf_counter() - t0


# ---------------------------------------------------------------- data


class Noise:
    """Fast seeded incompressible bytes: pool slices at random offsets, each through its own byte permutation."""

    def __init__(self, seed: int):
        self.rnd = random.Random(seed)
        self.pool = self.rnd.randbytes(POOL + BLOCK)

    def block(self, n: int) -> bytes:
        off = self.rnd.randrange(POOL)
        return self.pool[off:off + n].translate(bytes(self.rnd.sample(range(256), 256)))

    def take(self, n: int) -> bytes:
        return b"".join(self.block(min(BLOCK, n - i)) for i in range(0, n, BLOCK))


def png(noise: Noise, size: int, width: int = 1080) -> bytes:
    """A valid RGB PNG of about `size` bytes: random pixels, zlib level 0 (so incompressible)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    stride = 1 + 3 * width
    height = max(1, (size - 80) // stride)
    raw = bytearray(noise.take(height * stride))
    raw[0::stride] = bytes(height)  # filter type 0 at the start of each row
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))


def make_data(data: Path, big_mib: int, small_count: int, seed: int) -> tuple[Path, Path]:
    """Create (or reuse, if made with the same parameters) data/big.bin and data/small/*.png."""
    big, small, stamp = data / "big.bin", data / "small", data / "params.json"
    params = {"version": DATA_VERSION, "big_mib": big_mib, "small_count": small_count, "seed": seed}
    if stamp.exists() and json.loads(stamp.read_text()) == params:
        print(f"data: reusing {data}")
        return big, small
    shutil.rmtree(data, ignore_errors=True)
    small.mkdir(parents=True)
    t0 = time.perf_counter()
    noise = Noise(seed)
    with open(big, "wb") as f:
        for _ in range(big_mib * MiB // BLOCK):
            f.write(noise.block(BLOCK))
    sizes = random.Random(seed + 1)
    when = datetime(2025, 5, 3, 9, 0, 0)
    for i in range(small_count):
        size = int(math.exp(sizes.uniform(math.log(SMALL_MIN), math.log(SMALL_MAX))))
        name = f"Screenshot_{when + timedelta(seconds=97 * i):%Y%m%d-%H%M%S}.png"
        (small / name).write_bytes(png(noise, size))
    os.sync()
    stamp.write_text(json.dumps(params))
    print(f"data: wrote {big_mib} MiB + {small_count} files in {time.perf_counter() - t0:.1f} s")
    return big, small


def files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file())


def warm(paths: list[Path]) -> float:
    """Read every byte once (into the page cache); returns MB/s."""
    buf, total, t0 = bytearray(BLOCK), 0, time.perf_counter()
    for p in paths:
        with open(p, "rb", buffering=0) as f:
            while n := f.readinto(buf):
                total += n
    return total / 1e6 / max(time.perf_counter() - t0, 1e-9)


def binary_files(name: str) -> list[Path]:
    """A program on PATH and the shared libraries `ldd` says it loads."""
    found = shutil.which(name)
    if found is None:
        return []
    libs = subprocess.run(["ldd", found], capture_output=True, text=True).stdout.split()
    return regular_files([found, *(w for w in libs if w.startswith("/"))])


def regular_files(paths: Iterable[str], outside: Path | None = None) -> list[Path]:
    """The paths that name regular files (not under ``outside``), each once, in order."""
    out: dict[Path, None] = {}
    for p in paths:
        path = Path(p)
        if path.is_file() and not str(path).startswith("/proc/") and (outside is None or outside not in path.parents):
            out[path] = None
    return list(out)


DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def may_drop_caches(choice: str) -> bool:
    """``auto``: drop the page cache before each command where this process may (root, Linux)."""
    if choice == "off":
        return False
    allowed = DROP_CACHES.exists() and os.access(DROP_CACHES, os.W_OK)
    if choice == "on" and not allowed:
        sys.exit(f"--drop-caches on: cannot write {DROP_CACHES} (root only)")
    return allowed


def rmtree(path: Path) -> None:
    """Remove a tree even if the locker made its objects and folders read-only."""
    if not path.exists():
        return
    for root, dirs, _ in os.walk(path):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o700)
    shutil.rmtree(path)


# ---------------------------------------------------------------- measurements


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path):
        self.work, self.py = work, args.python
        self.dst = work / "copies"
        self.trash = work / "trash"
        self.kept = 0
        self.keep_outputs = True  # moved into trash/, deleted at the end (see the module's docstring)
        self.results: dict[str, list[dict]] = {}
        self.drop = may_drop_caches(args.drop_caches)
        self.programs: dict[str, list[Path]] = {}  # each command's own files, read back after the drop
        self.reference_hashes: dict[str, str] = {}
        cp_help = subprocess.run(["cp", "--help"], capture_output=True, text=True).stdout
        # GNU cp >= 9 reflinks by default where it can (btrfs, XFS): that writes no data
        self.cp = ["cp", "--reflink=never"] if "--reflink" in cp_help else ["cp"]

    def record(self, case: str, **figures) -> None:
        self.results.setdefault(case, []).append(figures)

    def discard(self, path: Path) -> None:
        """Out of the way without freeing its inodes before the end (see the module's docstring)."""
        if not path.exists():
            return
        if not self.keep_outputs:
            rmtree(path)
            return
        self.trash.mkdir(exist_ok=True)
        self.kept += 1
        path.rename(self.trash / f"{self.kept}-{path.name}")

    def prepare(self, sources: list[Path], program: str) -> None:
        """Same cache state before every measurement: nothing dirty, the page cache dropped
        (where the bench may: see the module's docstring), the sources read back into it, and
        the program's own files (unless --cold-program: then none were learnt)."""
        self.discard(self.dst)
        self.dst.mkdir()
        os.sync()
        if self.drop:
            DROP_CACHES.write_text("1\n")
        warm(sources)
        warm(self.programs.get(program, []))

    def learn_programs(self) -> None:
        """The files cp's and openssl's programs consist of (see the module's docstring)."""
        self.programs["cp"] = binary_files(self.cp[0])
        self.programs["openssl"] = binary_files("xargs") + binary_files("openssl")

    def learn_locker(self, sample: list[Path]) -> None:
        """The files the locker's program consists of: what an untimed add of ``sample`` opened or
        mapped (see the module's docstring)."""
        home, listing = self.work / "warm-up", self.work / "program-files.txt"
        self.discard(home)
        try:
            self.locker("--home", str(home), "new", "warm-up", "--json")
            r = run([self.py, "-c", RECORD, str(listing), "--home", str(home), "add", "warm-up",
                     *map(str, sample), "--json"], cwd=REPO)
            if r.status or not listing.exists():
                raise LockerFailed(f"the untimed add that finds the locker's files exited {r.status}: "
                                   f"{r.stderr.decode(errors='replace').strip()[-300:]}")
            self.programs["locker"] = regular_files(listing.read_text().splitlines(), outside=self.work)
        finally:
            self.discard(home)
            listing.unlink(missing_ok=True)

    def cp_sync(self, case: str, src: Path, sources: list[Path]) -> None:
        self.prepare(sources, "cp")
        r = run([*self.cp, "-r", str(src), str(self.dst / src.name)])
        if r.status:
            sys.exit(f"cp failed: {r.stderr.decode(errors='replace').strip()}")
        s = timed_sync()
        self.record(case, seconds=r.seconds + s, cp=r.seconds, sync=s, rss_kib=r.maxrss_kib, cpu=r.cpu)

    def openssl(self, case: str, sources: list[Path]) -> None:
        self.prepare(sources, "openssl")
        listing = self.work / "files.list"
        listing.write_bytes(b"".join(bytes(p) + b"\0" for p in sources))
        r = run(["xargs", "-0", "openssl", "dgst", "-sha256"], stdin_path=listing)
        if r.status:
            sys.exit(f"openssl dgst failed: {r.stderr.decode(errors='replace').strip()}")
        for line in r.stdout.decode().splitlines():  # "SHA2-256(/path/name)= hex"
            name, _, digest = line.rpartition("= ")
            self.reference_hashes[Path(name[name.index("(") + 1:-1]).name] = digest.strip()
        self.record(case, seconds=r.seconds, rss_kib=r.maxrss_kib, cpu=r.cpu)

    def locker(self, *argv: str) -> Run:
        r = run([self.py, "-m", "locker", *argv], cwd=REPO)
        if r.status:
            tail = r.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise LockerFailed(f"`locker {argv[2]} …` exited {r.status}: " + " | ".join(tail))
        try:
            r.json = json.loads(r.stdout)
        except ValueError as e:
            raise LockerFailed(f"`locker {argv[2]} --json` printed no JSON ({e}): {r.stdout[:200]!r}") from None
        return r

    def locker_add(self, case: str, target: Path, sources: list[Path]) -> None:
        home = self.work / "home"
        self.discard(home)
        slug = self.locker("--home", str(home), "new", "bench", "--json").json.get("slug")
        if not slug:
            raise LockerFailed("`locker new --json` printed no slug")
        self.prepare(sources, "locker")
        r = self.locker("--home", str(home), "add", slug, str(target), "--json")
        s = timed_sync()
        added, errors = r.json.get("added", []), r.json.get("errors", [])
        if errors or len(added) != len(sources):
            raise LockerFailed(f"{case}: {len(sources)} file(s) given, {len(added)} exhibits added, "
                               f"{len(errors)} errors: {errors[:3]}")
        for e in added:
            expected = self.reference_hashes.get(Path(str(e.get("original_name"))).name)
            if e.get("duplicate") or e.get("sha256") != expected:
                raise LockerFailed(f"{case}: exhibit {e.get('exhibit')} ({e.get('original_name')}): sha256 "
                                   f"{e.get('sha256')}, openssl says {expected}, duplicate={e.get('duplicate')}")
        self.record(case, seconds=r.seconds + s, add=r.seconds, sync=s, rss_kib=r.maxrss_kib, cpu=r.cpu)
        self.discard(home)

    def startup(self, with_locker: bool) -> None:
        cases = [("python -c pass", ["-c", "pass"])]
        if with_locker:
            cases.append(("python -m locker --help", ["-m", "locker", "--help"]))
        for case, argv in cases:
            for _ in range(5):
                r = run([self.py, *argv], cwd=REPO)
                self.record(case, seconds=r.seconds, rss_kib=r.maxrss_kib, status=r.status, cpu=r.cpu)


# ---------------------------------------------------------------- report


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def paired(res: dict[str, list[dict]], case: str, *refs: str) -> float | None:
    """Median over repetitions of case / the slowest of refs in the same repetition."""
    if case not in res or any(r not in res for r in refs):
        return None
    runs = zip(res[case], *(res[r] for r in refs))
    return statistics.median(c["seconds"] / max(r["seconds"] for r in others) for c, *others in runs)


def report(bench: Bench, big_label: str, small_label: str) -> tuple[list[dict], list[str], bool]:
    """Print the table; returns its rows, notes on the figures, and whether every target was met."""
    res, table, notes, ok = bench.results, [], [], True

    def row(case: str, cp_case: str = "", ssl_case: str = "", target: tuple[str, float] | None = None) -> None:
        nonlocal ok
        if case not in res:
            table.append({"case": case, "seconds": None, "result": "n/a"})
            ok &= target is None
            return
        runs = [r["seconds"] for r in res[case]]
        out = {"case": case, "seconds": statistics.median(runs), "cpu": median(res[case], "cpu"),
               "rss_mb": max(r["rss_kib"] for r in res[case]) * 1024 / 1e6, "runs": [round(t, 4) for t in runs]}
        for key, refs in (("x_cp_sync", (cp_case,)), ("x_openssl", (ssl_case,)), ("x_floor", (cp_case, ssl_case))):
            if (x := paired(res, case, *refs)) is not None:
                out[key] = x
        if target is not None:
            key, limit = target
            out["target"] = f"<={limit}x {'floor' if key == 'x_floor' else 'cp+sync'}, <{TARGET_RSS_MB:.0f} MB"
            good = out.get(key, math.inf) <= limit and out["rss_mb"] < TARGET_RSS_MB
            out["result"] = "PASS" if good else "FAIL"
            ok &= good
        table.append(out)
        if target is not None:
            table.append({"case": "  of which sync after add", "seconds": median(res[case], "sync")})
        if len(runs) > 1 and max(runs) > 1.3 * min(runs) and max(runs) - min(runs) > 0.05:
            notes.append(f"{case} varied {min(runs):.3f}-{max(runs):.3f} s over {len(runs)} runs: noisy, "
                         "try a larger --repeat")

    row("python -c pass")
    row("python -m locker --help")
    sections = ((big_label, "big", "cp + sync", ("x_floor", TARGET_BIG_X_FLOOR)),
                (small_label, "small", "cp -r + sync", ("x_cp_sync", TARGET_SMALL_X_CP)))
    for label, tag, cp_name, target in sections:
        cp, ssl, lk = f"{tag}: {cp_name}", f"{tag}: openssl", f"{tag}: locker add + sync"
        table.append({"case": label})
        row(cp, cp, ssl)
        row(ssl, cp, ssl)
        row(lk, cp, ssl, target=target)
        if cp in res and ssl in res:
            slower = "openssl (hashing)" if median(res[ssl], "seconds") > median(res[cp], "seconds") else cp_name
            notes.append(f"{label}: the floor here is {slower}")

    def fmt(v, spec):
        return "" if v is None else format(v, spec)
    print(f"\n{'case':34} {'seconds':>8} {'cpu s':>6} {'x cp+sync':>9} {'x openssl':>9} {'x floor':>8} {'peak RSS MB':>11}  "
          f"{'target':26} result")
    for t in table:
        if set(t) == {"case"}:
            print(t["case"])
            continue
        print(f"{t['case']:34} {fmt(t.get('seconds'), '8.3f'):>8} {fmt(t.get('cpu'), '6.2f'):>6} "
              f"{fmt(t.get('x_cp_sync'), '9.2f'):>9} "
              f"{fmt(t.get('x_openssl'), '9.2f'):>9} {fmt(t.get('x_floor'), '8.2f'):>8} "
              f"{fmt(t.get('rss_mb'), '11.1f'):>11}  {t.get('target', ''):26} {t.get('result', '')}")
    print("(seconds: wall, cpu s: user+system of the process, both medians; ratios: medians of the ratios\n"
          " within each repetition; floor: the slower of cp+sync and openssl)")
    for note in notes:
        print(f"note: {note}")
    return table, notes, ok


def fs_type(path: Path) -> str:
    best = ("", "?")
    with open("/proc/self/mounts") as f:
        for line in f:
            _, mnt, kind, *_ = line.split()
            if f"{path}/".startswith(mnt.rstrip("/") + "/") and len(mnt) > len(best[0]):
                best = (mnt, kind)
    return best[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--big-mib", type=int, default=1024, help="size of the big file in MiB (1024)")
    ap.add_argument("--small-count", type=int, default=2000, help="number of small files (2000)")
    ap.add_argument("--workdir", type=Path, default=REPO / "benchmarks" / "out",
                    help="scratch folder on the disk to measure, not tmpfs (benchmarks/out)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions; the median is reported (3)")
    ap.add_argument("--seed", type=int, default=20250503)
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs `-m locker`")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (the data is reused next time)")
    ap.add_argument("--delete-between", action="store_true",
                    help="delete each command's output before the next command runs, as this bench did up to "
                         "session 16 (to compare: see the docstring on deleted inodes)")
    ap.add_argument("--drop-caches", choices=("auto", "on", "off"), default="auto",
                    help="drop the page cache before each command (needs root; auto: where allowed)")
    ap.add_argument("--cold-program", action="store_true",
                    help="after the drop, leave each command's own program files uncached (as up to session 17)")
    args = ap.parse_args()
    global SPAWNER
    SPAWNER = Spawner()  # first, while this process is still small
    try:
        return bench_main(args)
    finally:
        SPAWNER.close()


def bench_main(args: argparse.Namespace) -> int:
    work = args.workdir.resolve()
    created = not work.exists()
    work.mkdir(parents=True, exist_ok=True)
    total = args.big_mib * MiB + args.small_count * (SMALL_MAX - SMALL_MIN) / math.log(SMALL_MAX / SMALL_MIN)
    if shutil.disk_usage(work).free < 2.3 * total:
        sys.exit(f"not enough free space in {work}: need about {2.3 * total / 1e9:.1f} GB")
    kind = fs_type(work)
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{subprocess.run(['openssl', 'version'], capture_output=True, text=True).stdout.strip()}")
    dropping = may_drop_caches(args.drop_caches)
    print(f"work dir {work} ({kind}); warm page cache, "
          f"{'page cache dropped and sources read back before each command' if dropping else 'no caches dropped'}, "
          f"{'programs left uncached (--cold-program)' if args.cold_program else 'programs read back after each drop'}; "
          f"median of {args.repeat}")
    if not dropping:
        print("note: the page cache is not dropped between commands (not root, or --drop-caches off): on a VM "
              "that hands free memory back to its host the ratios can swing by 2x (see the docstring)")
    if kind in ("tmpfs", "ramfs"):
        print("WARNING: the work dir is in memory: sync costs nothing and cp+sync is no disk floor")

    big, small = make_data(work / "data", args.big_mib, args.small_count, args.seed)
    small_files = files_of(small)
    small_bytes = sum(p.stat().st_size for p in small_files)
    speed = warm([big, *small_files])
    print(f"data: {big.stat().st_size / 1e9:.2f} GB big file, {len(small_files)} files / {small_bytes / 1e9:.2f} GB; "
          f"warm read {speed:,.0f} MB/s")
    big_label = f"1 file, {args.big_mib} MiB"
    small_label = f"{len(small_files)} files, {small_bytes / 1e6:,.0f} MB"

    bench = Bench(args, work)
    rmtree(bench.trash)  # a previous run's, interrupted
    if args.delete_between:
        bench.keep_outputs = False
        print("note: --delete-between: each command's output is deleted before the next command")
    elif shutil.disk_usage(work).free < 2.2 * total * args.repeat:
        bench.keep_outputs = False
        print("note: no room to keep every output until the end: each is deleted before the next command, "
              "which then pays for the deleted inodes on ext4 without a journal (see the docstring)")
    failure = None
    # As scripts/setup.sh does: where PYTHONDONTWRITEBYTECODE is set, a module edited since would be
    # compiled anew by every timed run (three edited modules took 11 ms of an add in a profile, session 16).
    subprocess.run([args.python, "-m", "compileall", "-q", str(REPO / "locker")], stdout=subprocess.DEVNULL)
    probe = run([args.python, "-m", "locker", "--help"], cwd=REPO)
    if probe.status:
        tail = probe.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["(no message)"]
        failure = (f"the locker CLI is not usable: `{args.python} -m locker --help` exited {probe.status}: "
                   f"{tail[0]}")
    bench.startup(with_locker=failure is None)
    if not args.cold_program:
        bench.learn_programs()
        if failure is None:
            try:
                # 64: as many small files as make an add stage in processes, as the timed add does
                bench.learn_locker(small_files[:64])
            except LockerFailed as e:
                failure = str(e)
        locker_files = bench.programs.get("locker", [])
        print(f"programs read back after each drop: locker {len(locker_files)} files "
              f"({sum(p.stat().st_size for p in locker_files) / 1e6:.0f} MB), "
              f"cp {len(bench.programs['cp'])}, openssl {len(bench.programs['openssl'])}")
    floor = run(["true"]).maxrss_kib * 1024 / 1e6
    try:
        for i in range(args.repeat):
            print(f"repetition {i + 1}/{args.repeat} …", flush=True)
            bench.cp_sync("big: cp + sync", big, [big])  # a case's three commands back to back (see paired)
            bench.openssl("big: openssl", [big])
            if failure is None:
                bench.locker_add("big: locker add + sync", big, [big])
            bench.cp_sync("small: cp -r + sync", small, small_files)
            bench.openssl("small: openssl", small_files)
            if failure is None:
                bench.locker_add("small: locker add + sync", small, small_files)
    except LockerFailed as e:
        failure = str(e)
    finally:
        rmtree(work / "copies")
        rmtree(bench.trash)
        (work / "files.list").unlink(missing_ok=True)

    table, notes, ok = report(bench, big_label, small_label)
    print(f"(peak RSS includes a floor of {floor:.1f} MB: what `true` shows when started the same way)")
    if args.json:
        args.json.write_text(json.dumps({
            "when": datetime.now().astimezone().isoformat(timespec="seconds"),
            "host": platform.node(), "cpus": os.cpu_count(), "python": args.python, "filesystem": kind,
            "cache": "warm", "programs": "cold" if args.cold_program else "cached", "repeat": args.repeat, "big_mib": args.big_mib, "small_count": len(small_files),
            "small_bytes": small_bytes, "cp": bench.cp, "table": table, "notes": notes, "raw": bench.results,
            "rss_floor_mb": floor, "locker_failure": failure, "targets_met": ok and failure is None}, indent=2, ensure_ascii=False))
        print(f"figures written to {args.json}")

    if not args.keep:
        rmtree(work / "data")
        rmtree(work / "home")
        if created and not any(work.iterdir()):
            work.rmdir()
    if failure:
        print(f"\nLOCKER FAILED: {failure}\n(the reference figures above are valid; the locker rows are n/a)",
              file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
