"""Archive benchmark (issue 15): `locker archive` against boto3's own `upload_file`, both to a local
SeaweedFS (`weed mini`, started here on free ports, as the tests start it: tests/s3_server.py).

Three measurements, each printed with the reference measured in the same run:

* **1 GiB** (`--mib`): one file of random bytes added to a dispute (untimed), then, back to back in each
  repetition, `<python> -m locker archive SLUG --json` (the whole command: start-up, imports, one listing,
  the database snapshot, the file sent in 16 MiB parts each with its SHA-256 for the storage to check, the
  whole file's SHA-256 checked on the way, the custody log and manifest, the custody entry) into a fresh
  bucket, and `<python> -c 'boto3 … upload_file(…)'` of the same file with ChecksumAlgorithm=SHA256, the
  same Object Lock headers and the same part size (start-up and import of boto3 included too). Prints the
  median of the per-repetition ratios; target (issue 15 §7): <= 1.3.
* **incremental** (`--objects`, default 2,000): a dispute of that many small files, archived once
  (untimed), then `locker archive` again with nothing new, timed as a user runs it. Target: < 2 s.
  The reference printed beside it is `<python> -m locker --version` (the start-up every command pays).
* **disputes** (`--disputes N --files M`, off unless N > 0): N disputes of M small files each, archived one
  by one, then restored one by one into an empty home; prints total and per-dispute times. For docs/scale.md.

    python benchmarks/bench_archive.py                          # 1 GiB x3, 2,000 objects
    python benchmarks/bench_archive.py --mib 64 --repeat 1 --objects 200   # smoke run
    python benchmarks/bench_archive.py --mib 0 --objects 0 --disputes 100 --files 20
Exit status: 0 targets met, 1 a target missed, 2 the locker failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.s3_server import ACCESS_KEY, SECRET_KEY, SeaweedS3  # noqa: E402

MiB = 1 << 20
TARGET_RATIO = 1.3
TARGET_INCREMENTAL = 2.0

UPLOAD_FILE = """
import sys, boto3, datetime as dt
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
endpoint, bucket, key, path = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, max_pool_connections=16))
until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
s3.upload_file(path, bucket, key, ExtraArgs={"ChecksumAlgorithm": "SHA256", "ObjectLockMode": "COMPLIANCE",
               "ObjectLockRetainUntilDate": until},
               Config=TransferConfig(multipart_threshold=16 << 20, multipart_chunksize=16 << 20))
"""


def locker(home: Path, *args: object, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "locker", "--home", str(home), *map(str, args)],
                          capture_output=True, text=True, cwd=REPO)
    if check and proc.returncode:
        print(f"locker {' '.join(map(str, args))} failed: {proc.stderr}", file=sys.stderr)
        sys.exit(2)
    return proc


def timed(fn):  # noqa: ANN001, ANN201
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def new_home(work: Path, name: str, server: SeaweedS3, bucket: str) -> Path:
    home = work / name
    locker(home, "new", f"bench {name}", "--slug", "bench")
    locker(home, "remote", "add", "bench", f"s3://{bucket}/bench", "--endpoint", server.endpoint, "--retain", "1d")
    return home


def bench_big(server: SeaweedS3, work: Path, mib: int, repeat: int) -> bool:
    data = work / "big.bin"
    with open(data, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(MiB))
    ratios, ours, theirs = [], [], []
    for n in range(repeat):
        bucket = server.make_bucket()
        home = new_home(work, f"big-{n}", server, bucket)
        locker(home, "add", "bench", data)
        subprocess.run(["sync"], check=True)
        t_ref, proc = timed(lambda b=bucket: subprocess.run(
            [sys.executable, "-c", UPLOAD_FILE, server.endpoint, b, "reference/big.bin", str(data)],
            capture_output=True, text=True))
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            sys.exit(2)
        t_ours, proc = timed(lambda h=home: locker(h, "archive", "bench", "--json"))
        doc = json.loads(proc.stdout)
        ours.append(t_ours)
        theirs.append(t_ref)
        ratios.append(t_ours / t_ref)
        print(f"  {mib} MiB  run {n + 1}: locker archive {t_ours:.2f} s ({doc['bytes_uploaded'] / MiB:.0f} MiB sent), "
              f"boto3 upload_file {t_ref:.2f} s, ratio {t_ours / t_ref:.2f}")
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    ratio = statistics.median(ratios)
    ok = ratio <= TARGET_RATIO
    print(f"{mib} MiB: locker archive median {statistics.median(ours):.2f} s, boto3 upload_file median "
          f"{statistics.median(theirs):.2f} s; median ratio {ratio:.2f} (target <= {TARGET_RATIO}) "
          f"{'PASS' if ok else 'FAIL'}")
    data.unlink()
    return ok


def small_files(folder: Path, count: int, tag: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"shot-{i:05d}.txt").write_bytes(f"{tag} {i} ".encode() + os.urandom(2000))
    return folder


def bench_incremental(server: SeaweedS3, work: Path, objects: int, repeat: int) -> bool:
    bucket = server.make_bucket()
    home = new_home(work, "incremental", server, bucket)
    locker(home, "add", "bench", small_files(work / "small", objects, "inc"))
    t_first, _ = timed(lambda: locker(home, "archive", "bench", "--json"))
    times, starts = [], []
    for _ in range(max(repeat, 3)):
        t, proc = timed(lambda: locker(home, "archive", "bench", "--json"))
        assert json.loads(proc.stdout)["up_to_date"], proc.stdout
        times.append(t)
        t0, _ = timed(lambda: locker(home, "--version"))
        starts.append(t0)
    t = statistics.median(times)
    ok = t < TARGET_INCREMENTAL
    print(f"incremental, {objects} objects, nothing new: locker archive median {t:.2f} s "
          f"(runs {', '.join(f'{x:.2f}' for x in times)}; first archive {t_first:.2f} s); "
          f"locker --version {statistics.median(starts):.2f} s; target < {TARGET_INCREMENTAL} s {'PASS' if ok else 'FAIL'}")
    return ok


def bench_disputes(server: SeaweedS3, work: Path, disputes: int, files: int) -> None:
    sys.path.insert(0, str(REPO))
    from locker.paths import Home
    from locker.remote import archive as archiving
    from locker.remote import config
    from locker.remote import restore as restoring
    from locker.services import disputes as opening
    from locker.services import ingest

    bucket = server.make_bucket()
    home = Home(work / "many").ensure()
    config.add(home, "bench", f"s3://{bucket}/org", endpoint=server.endpoint, retain="1d")
    slugs = []
    t_make = time.perf_counter()
    for n in range(disputes):
        d = opening.new(home, f"dispute {n}", slug=f"d-{n:05d}")
        ingest.add(home, d.slug, [str(small_files(work / "many-src" / d.slug, files, d.slug))], ingest.AddOptions())
        slugs.append(d.slug)
    t_make = time.perf_counter() - t_make
    t_archive, sent = timed(lambda: [archiving.archive(home, s, "bench") for s in slugs])
    fresh = Home(work / "restored").ensure()
    config.add(fresh, "bench", f"s3://{bucket}/org", endpoint=server.endpoint, retain="1d")
    t_restore, got = timed(lambda: [restoring.restore(fresh, "bench", s) for s in slugs])
    assert all(g.verified for g in got)
    total = sum(r.bytes_uploaded for r in sent)
    print(f"{disputes} disputes x {files} files ({total / MiB:.1f} MiB; made in {t_make:.1f} s, untimed): "
          f"archive {t_archive:.1f} s ({t_archive / disputes * 1000:.0f} ms each), "
          f"restore into an empty home {t_restore:.1f} s ({t_restore / disputes * 1000:.0f} ms each, each verified)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mib", type=int, default=1024, help="size of the big file (0: skip)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--objects", type=int, default=2000, help="objects of the incremental check (0: skip)")
    ap.add_argument("--disputes", type=int, default=0, help="disputes to archive and restore (0: skip)")
    ap.add_argument("--files", type=int, default=20, help="files per dispute with --disputes")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_EC2_METADATA_DISABLED="true",
                      LOCKER_OCR="off", TZ="UTC")
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="bench-archive-") as tmp:
        work = Path(tmp)
        server = SeaweedS3(work / "seaweedfs").start()
        ok = True
        try:
            print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
                  f"SeaweedFS at {server.endpoint}")
            if args.mib:
                ok &= bench_big(server, work, args.mib, args.repeat)
            if args.objects:
                ok &= bench_incremental(server, work, args.objects, args.repeat)
            if args.disputes:
                bench_disputes(server, work, args.disputes, args.files)
        finally:
            server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
