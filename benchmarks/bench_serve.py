"""Web app benchmark (issue 14 §6): uploads through `locker serve` against `locker add` of the same data.

In one run it times

* one big file (default 1 GiB): `locker add` (a child process, as a user runs it) against a PUT
  of the same bytes to a running `locker serve` over loopback (one connection, 1 MiB writes);
* many phone-size files (default 200, 1-4 MB PNGs with incompressible pixels): `locker add DIR`
  against uploading them as the add page's script does: in batches (one multipart request of up
  to BATCH_FILES files or BATCH_MIB MiB each, recorded as one group), PARALLEL requests at a time;
* the dispute page of a dispute with 300 exhibits: the server's time to answer GET /d/SLUG (the
  thumbnails are lazy-loaded, not part of it), median of 9 after one warm-up;

and the server's peak RSS (VmHWM of its process) over all of it. Targets of the issue: each
upload <= 1.5x `locker add`, peak RSS < 200 MB, the page < 300 ms.

Before each timed side the page cache is dropped (where the bench may: root) and the sources
are read back into it: on this project's VM, writing into memory the guest has not used lately
costs the host a fault per page, and the web server's writes were seen taking 5.2 CPU-s
instead of 1.8 for the same 626 MB when it ran into such memory and `locker add` did not
(bench_ingest.py's docstring has the measurements). Each upload goes into a fresh dispute, so nothing is a duplicate. Both sides are durable when
they answer (add syncs before it records; the upload is recorded by the same code).

    python benchmarks/bench_serve.py                                  # full
    python benchmarks/bench_serve.py --big-mib 64 --small-count 20 --page-exhibits 50   # smoke run
Exit status: 0 all targets met, 1 a target missed, 2 the locker failed.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MiB = 1 << 20
BATCH_FILES, BATCH_MIB, PARALLEL = 64, 128, 2  # as locker/web/static/app.js sends small files


def locker(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCKER_HOME": str(home), "LOCKER_OCR": "off"}
    proc = subprocess.run([sys.executable, "-m", "locker", *args], capture_output=True, text=True, env=env, cwd=REPO)
    if check and proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(2)
    return proc


def new_dispute(home: Path, title: str) -> str:
    return str(json.loads(locker(home, "new", title, "--json").stdout)["slug"])


def big_file(path: Path, mib: int) -> None:
    with open(path, "wb") as f:
        for _i in range(mib):
            f.write(os.urandom(MiB))


def png(path: Path, width: int, height: int, rng: random.Random) -> None:
    """A valid PNG of random pixels, stored (zlib level 0): what a screenshot costs to store."""
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 0))
                     + chunk(b"IEND", b""))


def small_files(folder: Path, count: int, seed: int = 7) -> list[Path]:
    folder.mkdir()
    rng = random.Random(seed)
    out = []
    for i in range(count):
        height = rng.randint(400, 1400)  # 1170 px wide: 1.4-4.9 MB, phone screenshot size
        path = folder / f"IMG_{i:04d}.png"
        png(path, 1170, height, rng)
        out.append(path)
    return out


class Server:
    """`locker serve` in a child process, signed in like a browser."""

    def __init__(self, home: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "LOCKER_HOME": str(home), "LOCKER_OCR": "off", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "locker", "serve", "--port", str(self.port), "--max-upload", "8GiB"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+/login/\S+)", line)
        if not found:
            sys.stderr.write(line + (self.proc.stderr.read() if self.proc.stderr else ""))
            raise SystemExit(2)
        self.login = found.group(1).split(str(self.port), 1)[1]
        for _i in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        conn = self.connection()
        conn.request("GET", self.login)
        response = conn.getresponse()
        response.read()
        self.cookie = response.getheader("set-cookie", "").split(";", 1)[0]
        conn.request("GET", "/", headers={"Cookie": self.cookie})
        page = conn.getresponse().read().decode()
        self.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=600, blocksize=MiB)

    def upload(self, conn: http.client.HTTPConnection, slug: str, path: Path) -> dict:
        size = path.stat().st_size
        with open(path, "rb") as f:
            conn.request("PUT", f"/d/{slug}/upload?name={path.name}", body=f, headers={
                "Cookie": self.cookie, "X-CSRF-Token": self.csrf, "Content-Length": str(size),
                "Content-Type": "application/octet-stream"})
            response = conn.getresponse()
            doc = json.loads(response.read())
        if response.status != 200:
            sys.stderr.write(f"upload of {path.name}: {response.status} {doc}\n")
            raise SystemExit(2)
        return doc

    def upload_batch(self, conn: http.client.HTTPConnection, slug: str, paths: list[Path]) -> dict:
        """Several files in one multipart request, streamed from disk (what the add page sends for small files)."""
        boundary = "----locker-bench-" + os.urandom(8).hex()
        heads = [(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{p.name}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n").encode() for p in paths]
        tail = f"--{boundary}--\r\n".encode()
        length = sum(len(h) + p.stat().st_size + 2 for h, p in zip(heads, paths)) + len(tail)

        def body():  # noqa: ANN202  one buffer, read into and sent again and again, as a browser sends a file
            buffer = bytearray(MiB)
            view = memoryview(buffer)
            for head, path in zip(heads, paths):
                yield head
                with open(path, "rb", buffering=0) as f:
                    while n := f.readinto(buffer):
                        yield view[:n]  # http.client has sent it when the next is asked for
                yield b"\r\n"
            yield tail

        conn.request("POST", f"/d/{slug}/upload-batch", body=body(), headers={
            "Cookie": self.cookie, "X-CSRF-Token": self.csrf, "Content-Length": str(length),
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        response = conn.getresponse()
        doc = json.loads(response.read())
        if response.status != 200:
            sys.stderr.write(f"batch upload: {response.status} {str(doc)[:500]}\n")
            raise SystemExit(2)
        return doc

    def get(self, path: str) -> float:
        conn = self.connection()
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": self.cookie})
        response = conn.getresponse()
        response.read()
        took = time.perf_counter() - started
        conn.close()
        assert response.status == 200, response.status
        return took

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def settle(paths: list[Path], drop: bool) -> None:
    """The same start for each side: nothing dirty, the page cache dropped where allowed (root; see
    bench_ingest.py's docstring for why it matters on this VM), the sources read back into it."""
    subprocess.run(["sync"], check=False)
    if drop:
        DROP_CACHES.write_text("1\n")
    for path in paths:
        with open(path, "rb", buffering=0) as f:
            while f.read(MiB):
                pass


def send_all(server: Server, slug: str, files: list[Path]) -> None:
    """Every file, in batches as the add page's script makes them, PARALLEL requests at a time."""
    todo = list(files)
    lock = threading.Lock()

    def worker() -> None:
        conn = server.connection()
        while True:
            with lock:
                if not todo:
                    break
                batch, size = [], 0
                while todo and len(batch) < BATCH_FILES and (not batch or size + todo[0].stat().st_size <= BATCH_MIB * MiB):
                    size += todo[0].stat().st_size
                    batch.append(todo.pop(0))
            server.upload_batch(conn, slug, batch)
        conn.close()

    threads = [threading.Thread(target=worker) for _i in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def timed(fn, paths: list[Path] = (), drop: bool = False) -> float:  # noqa: ANN001
    settle(list(paths), drop)
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--small-count", type=int, default=200)
    parser.add_argument("--page-exhibits", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; medians are reported (3)")
    parser.add_argument("--drop-caches", choices=("auto", "on", "off"), default="auto",
                        help="drop the page cache before each timed upload or add (needs root; auto: where allowed)")
    args = parser.parse_args()
    drop = args.drop_caches != "off" and DROP_CACHES.exists() and os.access(DROP_CACHES, os.W_OK)
    if args.drop_caches == "on" and not drop:
        raise SystemExit(f"--drop-caches on: cannot write {DROP_CACHES} (root only)")
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    home = work / "home"
    results: dict[str, Any] = {}
    try:
        big = work / "big.bin"
        big_file(big, args.big_mib)
        smalls = small_files(work / "small", args.small_count)
        small_bytes = sum(p.stat().st_size for p in smalls)
        pages = work / "pages"
        pages.mkdir()
        rng = random.Random(3)
        for i in range(args.page_exhibits):
            png(pages / f"p{i:04d}.png", 64, 64, rng)

        page_slug = new_dispute(home, "bench page")
        locker(home, "add", page_slug, str(pages), "--json")
        runs: dict[str, list[float]] = {"add_big": [], "web_big": [], "add_small": [], "web_small": []}
        server = Server(home)
        try:
            for rep in range(args.repeat):  # each side into a fresh dispute: nothing is a duplicate
                print(f"repetition {rep + 1}/{args.repeat} …", flush=True)
                a, b = new_dispute(home, f"add big {rep}"), new_dispute(home, f"add small {rep}")
                c, d = new_dispute(home, f"web big {rep}"), new_dispute(home, f"web small {rep}")
                runs["add_big"].append(timed(lambda a=a: locker(home, "add", a, str(big), "--json"), [big], drop))
                conn = server.connection()
                runs["web_big"].append(timed(lambda conn=conn, c=c: server.upload(conn, c, big), [big], drop))
                conn.close()
                runs["add_small"].append(timed(lambda b=b: locker(home, "add", b, str(work / "small"), "--json"),
                                               smalls, drop))
                runs["web_small"].append(timed(lambda d=d: send_all(server, d, smalls), smalls, drop))
                shown = json.loads(locker(home, "show", c, "--json").stdout)
                assert len(shown["exhibits"]) == 1 and shown["exhibits"][0]["size"] == big.stat().st_size
                shown = json.loads(locker(home, "show", d, "--json").stdout)
                assert sorted(e["sha256"] for e in shown["exhibits"]) == sorted(
                    json.loads(locker(home, "show", b, "--json").stdout)["exhibits"][i]["sha256"]
                    for i in range(len(smalls)))
            server.get(f"/d/{page_slug}")  # warm-up: imports, templates
            results["page"] = statistics.median(server.get(f"/d/{page_slug}") for _i in range(9))
            results["rss_mb"] = server.peak_rss_mb()
        finally:
            server.stop()
        for key, values in runs.items():
            results[key] = statistics.median(values)
        # ratios paired within each repetition (the load drifts between repetitions more than within one)
        results["big_ratio"] = statistics.median(w / a for w, a in zip(runs["web_big"], runs["add_big"]))
        results["small_ratio"] = statistics.median(w / a for w, a in zip(runs["web_small"], runs["add_small"]))
        results["small_ratios"] = [round(w / a, 2) for w, a in zip(runs["web_small"], runs["add_small"])]
        results["big_ratios"] = [round(w / a, 2) for w, a in zip(runs["web_big"], runs["add_big"])]
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)

    big_ratio, small_ratio = results["big_ratio"], results["small_ratio"]
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}; "
          + ("page cache dropped before each timed side" if drop else
             "page cache NOT dropped (not root, or --drop-caches off): the ratios can swing by 2x on a VM")
          + f"; medians of {args.repeat}, ratios paired within each repetition")
    print(f"big file {args.big_mib} MiB:   locker add {results['add_big']:.2f} s   web upload {results['web_big']:.2f} s"
          f"   ratio {big_ratio:.2f}x (target <= 1.5x; each: {results['big_ratios']})")
    print(f"{args.small_count} files ({small_bytes / MiB:.0f} MiB):   locker add {results['add_small']:.2f} s"
          f"   web upload {results['web_small']:.2f} s   ratio {small_ratio:.2f}x (target <= 1.5x; each: {results['small_ratios']})")
    print(f"dispute page with {args.page_exhibits} exhibits: {results['page'] * 1000:.0f} ms (target < 300 ms)")
    print(f"server peak RSS: {results['rss_mb']:.0f} MB (target < 200 MB)")
    met = big_ratio <= 1.5 and small_ratio <= 1.5 and results["page"] < 0.3 and results["rss_mb"] < 200
    print("targets:", "met" if met else "MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
