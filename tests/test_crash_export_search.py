"""Crash safety of ``locker export`` and of the search catalog: SIGKILL at random moments.

Export: a dispute of 17 exhibits (photos, screenshots, long screenshots, a video, PDFs, a chat);
``locker export`` is killed at a time drawn uniformly over its work, from its first phase (the
derivations) to its end (measured first, with the derived files missing in half of the trials, so
that kills land in derivations too); before that it only imports and reads. After each kill
every PDF under a final pack name in exports/ is complete (qpdf --check, pypdf) and recorded by an
``export.created`` custody entry with its SHA-256; no process of the export is left running; the
next export removes every temp file it left in exports/ and derived/, never trusts a half-made
derived file (each one left is byte for byte the one an uninterrupted export makes) and makes a
correct pack; ``verify`` passes.

Search: several disputes with chat messages; each trial changes something (a chat added, an event,
a new dispute), then kills ``locker search`` or ``locker reindex`` while it brings the catalog up to
date. The next search returns exactly what a catalog built afresh (``reindex`` in a copy of the
home) returns, and exactly the rows each trial added.

CI runs a short version; ``LOCKER_STRESS=1`` (``make stress``) runs >= 50 trials of each.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests import samples
from tests.conftest import REPO

STRESS = os.environ.get("LOCKER_STRESS") == "1"
EXPORT_TRIALS = 50 if STRESS else 6
SEARCH_TRIALS = 60 if STRESS else 9
SEED = int(os.environ.get("LOCKER_CRASH_SEED", "20250502"))
ORDER_ID = "250501123456789"


# --------------------------------------------------------------------------- processes


def _spawn(home: Path, *args: object, script: str | None = None, **env: str) -> subprocess.Popen[str]:
    """``locker ARGS`` in a child of its own process group (its worker processes are counted after a kill).
    Its output goes to files, not pipes: a pipe stays open while any leftover worker holds it."""
    cmd = [sys.executable, "-c", script, *map(str, args)] if script else \
        [sys.executable, "-m", "locker", *map(str, args)]
    out = (home.parent / f"out-{secrets.token_hex(4)}.txt").open("w+", encoding="utf-8")
    err = (home.parent / f"err-{secrets.token_hex(4)}.txt").open("w+", encoding="utf-8")
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=err, text=True, cwd=REPO,
                            env={**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC", **env}, start_new_session=True)
    proc.files = (out, err)  # type: ignore[attr-defined]
    return proc


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def _left_running(proc: subprocess.Popen[str], wait: float = 5.0) -> int:
    """How many processes of a killed command are still running ``wait`` seconds on (then killed)."""
    deadline = time.monotonic() + wait
    while (alive := _group(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(alive)


def _kill_after(proc: subprocess.Popen[str], delay: float, *, from_first_phase: bool = False) -> tuple[bool, str, str]:
    """SIGKILL the command (its main process only, as the OOM killer or ``kill -9`` does) after ``delay``
    seconds unless it ended first; with ``from_first_phase``, seconds counted from the first phase it
    enters (a traced command's first event). → (killed, stdout, stderr)."""
    if from_first_phase:
        while not _events(proc) and proc.poll() is None:
            time.sleep(0.005)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    if proc.stdin:
        proc.stdin.close()
    texts = []
    for f in proc.files:  # type: ignore[attr-defined]
        f.seek(0)
        texts.append(f.read())
        f.close()
        os.unlink(f.name)
    out, err = texts
    if proc.returncode == -signal.SIGKILL:
        return True, out, err
    assert proc.returncode == 0, err
    return False, out, err


# Where a killed command was: with LOCKER_TEST_TRACE set, the command appends "<phase>+" and "<phase>-" to
# that file around each phase (one write each, so a kill never leaves half a line).
TRACE = r"""
import os, sys, time

def _traced(module, name, phase):
    real = getattr(module, name)
    def wrapper(*args, **kwargs):
        _mark(phase + "+")
        out = real(*args, **kwargs)
        _mark(phase + "-")
        return out
    setattr(module, name, wrapper)

def _mark(event):
    fd = os.open(os.environ["LOCKER_TEST_TRACE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, f"{event} {time.monotonic()}\n".encode())
    os.close(fd)

from locker.report import pack
from locker.search import catalog, catalog_files, catalog_sync
from locker.services import export_snapshot
_traced(export_snapshot, "_derive", "derive")
_traced(pack, "build", "build")
_traced(catalog_sync, "_write", "write")
_traced(catalog_files, "publish", "publish")
_traced(catalog, "rebuild", "rebuild")
"""
RUN = TRACE + r"""
from locker.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _traced(home: Path, *args: object, script: str = RUN) -> subprocess.Popen[str]:
    trace = home.parent / f"trace-{secrets.token_hex(4)}.txt"
    proc = _spawn(home, *args, script=script, LOCKER_TEST_TRACE=str(trace))
    proc.trace = trace  # type: ignore[attr-defined]
    return proc


def _events(proc: subprocess.Popen[str]) -> list[tuple[str, float]]:
    try:
        lines = proc.trace.read_text().splitlines()  # type: ignore[attr-defined]
    except FileNotFoundError:
        return []
    return [(line.split()[0], float(line.split()[1])) for line in lines]


def _phase(proc: subprocess.Popen[str]) -> str:
    """The phase a killed command was in: "start" before the first, "<phase>+" in one, "<phase>-" after one."""
    events = [e for e, _t in _events(proc)]
    open_ = [e for e in events if e.endswith("+") and events.count(e) > events.count(e[:-1] + "-")]
    return open_[-1] if open_ else (events[-1] if events else "start")


# --------------------------------------------------------------------------- export


def _export_corpus(folder: Path, *, scale: int = 1) -> None:
    # Pictures at half a phone's size: the same derived files (renditions, 11 slices, frames) and pack
    # pictures as full size, made in about half the time, so each trial is shorter and the checks of
    # each pack (qpdf, decoding every derived picture) quicker.
    for i in range(6 * scale):
        samples.make_jpeg(folder / f"photo_{i:02d}.jpg", 700 + 4 * i, 525, seed=i)
    for i in range(4 * scale):
        samples.make_png(folder / f"shot_{i:02d}.png", 540, 1170, seed=100 + i)
    for i in range(3 * scale):
        samples.make_long_screenshot(folder / f"long_{i}.png", 540, 2000 + 200 * i, seed=i)
    for i in range(2 * scale):
        samples.make_pdf(folder / f"invoice_{i}.pdf", pages=2, title=f"Invoice {i}")
    samples.make_plain_chat(folder / "chat.txt", [("商家", f"第{i}条 退款 订单 {ORDER_ID}") for i in range(100)])
    samples.make_mp4(folder / "clip.mp4", 1.5)


def _packs(exports: Path) -> list[Path]:
    return sorted(p for p in exports.glob("*.pdf") if not p.name.startswith("."))


def _temps(ddir: Path) -> list[Path]:
    found = [p for p in (ddir / "exports").iterdir() if p.name.startswith(".")] if (ddir / "exports").exists() else []
    if (ddir / "derived").exists():
        found += [p for p in (ddir / "derived").rglob(".*")]
    return found


def _check_pdf(path: Path, pages: int | None = None) -> None:
    from pypdf import PdfReader

    proc = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, (path, proc.stdout[-1000:], proc.stderr[-1000:])
    reader = PdfReader(path)
    if pages is not None:
        assert len(reader.pages) == pages


def _check_packs(cli, slug: str, ddir: Path, seen: dict[str, str]) -> int:  # noqa: ANN001
    """Every file under a final pack name is complete and recorded with its hash (those in ``seen`` were
    checked before and must not have changed). → how many there are."""
    log = {e["payload"]["path"]: e["payload"] for e in cli("log", slug, "--json").json
           if e["action"] == "export.created"}
    packs = _packs(ddir / "exports")
    for pack in packs:
        sha = hashlib.sha256(pack.read_bytes()).hexdigest()
        assert str(pack) in log and log[str(pack)]["sha256"] == sha, (pack, "a pack no export.created entry records")
        if str(pack) not in seen:
            _check_pdf(pack, log[str(pack)]["pages"])
            seen[str(pack)] = sha
        assert seen[str(pack)] == sha
    return len(packs)


def _derived_files(ddir: Path) -> dict[str, bytes]:
    """Relative path → bytes of every derived file outside temp folders."""
    root = ddir / "derived"
    out = {}
    if root.exists():
        for path in root.rglob("*"):
            rel = path.relative_to(root)
            if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                out[str(rel)] = path.read_bytes()
    return out


# SHA-256 of the derived pictures seen to decode: the same bytes are not decoded again (a trial sees each
# file ~12 times, ~80 files each time).
_DECODED: set[bytes] = set()


def _check_derived(ddir: Path, reference: dict[str, bytes]) -> int:
    """Derived files are whole: every manifest's files exist, every picture decodes, and each is byte for
    byte the one an uninterrupted export made. → how many compared."""
    from PIL import Image

    files = _derived_files(ddir)
    for rel, data in files.items():
        if rel.endswith("manifest.json"):
            manifest = json.loads(data)
            folder = str(Path(rel).parent)
            named = [manifest.get("display"), manifest.get("thumb"), *(f["file"] for f in manifest.get("frames") or ())]
            for name in filter(None, named):
                assert f"{folder}/{name}" in files, (rel, name)
        elif rel.endswith(".jpg") and (digest := hashlib.sha256(data).digest()) not in _DECODED:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
            _DECODED.add(digest)
    compared = 0
    for rel, data in files.items():
        if rel in reference:
            assert data == reference[rel], (rel, "differs from an uninterrupted export's")
            compared += 1
    return compared


def test_killed_export_leaves_no_half_pack_and_no_stale_temps(cli, home, tmp_path) -> None:  # noqa: ANN001
    folder = tmp_path / "evidence"
    folder.mkdir()
    _export_corpus(folder)
    assert cli("new", "耳机退款", "--order-id", ORDER_ID, "--slug", "pack", "--json").code == 0
    assert cli("add", "pack", folder, "--json").code == 0
    ddir = home / "disputes" / "pack"
    rng = random.Random(SEED)

    # Calibrate: an uninterrupted export with no derived files, then one that reuses them; each from its
    # first phase to its end (the trials' kills fall in that span; before it the command imports and reads).
    durations = {}
    for mode in ("cold", "warm"):
        proc = _traced(home, "export", "pack", "--json")
        killed, out, err = _kill_after(proc, 600)
        durations[mode] = time.monotonic() - _events(proc)[0][1]
        assert not killed and Path(json.loads(out)["path"]).exists(), err
    reference = _derived_files(ddir)
    seen: dict[str, str] = {}
    assert any("frames-v1" in rel for rel in reference) and any("image-v1" in rel for rel in reference)
    assert any("pack-v" in rel for rel in reference)
    assert _check_packs(cli, "pack", ddir, seen) == 2

    stats = {"trials": 0, "killed": 0, "finished": 0, "killed_starting": 0, "killed_deriving": 0,
             "killed_writing_pack": 0, "killed_after_pack": 0, "packs_left_by_killed": 0, "temps_left": 0,
             "workers_left_running": 0, "derived_compared": 0}
    for trial in range(EXPORT_TRIALS):
        cold = trial % 2 == 0
        if cold:
            shutil.rmtree(ddir / "derived")
        delay = rng.uniform(0.0, 1.1 * durations["cold" if cold else "warm"])
        before = len(_packs(ddir / "exports"))
        proc = _traced(home, "export", "pack", "--json")
        killed, out, err = _kill_after(proc, delay, from_first_phase=True)
        stats["trials"] += 1
        stats["killed" if killed else "finished"] += 1
        if killed:  # derive+: frames, renditions, slice plans; derive-: the snapshot; build+: layout,
            # renditions, the temp PDF; build-: hash, record, rename, exit
            phase = _phase(proc)
            key = {"start": "killed_starting", "derive+": "killed_deriving", "derive-": "killed_starting",
                   "build+": "killed_writing_pack", "build-": "killed_after_pack"}[phase]
            stats[key] += 1
        running = _left_running(proc)
        stats["workers_left_running"] += running
        stats["temps_left"] += len(_temps(ddir))

        # Straight after the kill: whatever is under a final name is whole and recorded.
        packs = _check_packs(cli, "pack", ddir, seen)
        if killed:
            stats["packs_left_by_killed"] += packs - before
        else:
            assert packs == before + 1, (trial, delay)
        stats["derived_compared"] += _check_derived(ddir, reference)
        assert cli("verify", "pack", "--json").json["ok"], (trial, delay)
        assert running == 0, (trial, delay, "processes of the killed export still running")

        # The next export cleans up after the killed one and makes a correct pack from trusted files.
        again = cli("export", "pack", "--json")
        assert again.code == 0, (trial, delay, again.err)
        assert _temps(ddir) == [], (trial, delay, _temps(ddir))
        assert _check_packs(cli, "pack", ddir, seen) == packs + 1
        stats["derived_compared"] += _check_derived(ddir, reference)
        ran = cli("verify", "pack", "--json")
        assert ran.code == 0 and ran.json["disputes"][0]["problems"] == [], (trial, ran.out)

    line = ", ".join(f"{k}={v}" for k, v in stats.items())
    sys.stderr.write(f"export crash harness (seed {SEED}, export {durations['cold']:.2f}s cold, "
                     f"{durations['warm']:.2f}s warm): {line}\n")
    assert stats["killed"] >= EXPORT_TRIALS // 2  # the delays must actually cut exports short


# --------------------------------------------------------------------------- export, deterministic kills

# Runs ``locker ARGS`` with a hook that SIGKILLs the process at one chosen point.
HOOKED = r"""
import os, signal, sys
point = os.environ["LOCKER_TEST_KILL_AT"]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def final_pack(path):
    path = os.fspath(path)
    return path.endswith(".pdf") and os.sep + "exports" + os.sep in path \
        and not os.path.basename(path).startswith(".")

if point in ("after_rename", "before_rename"):
    real_replace = os.replace
    def replace(src, dst, *args, **kwargs):
        if point == "before_rename" and final_pack(dst):
            die()
        real_replace(src, dst, *args, **kwargs)
        if point == "after_rename" and final_pack(dst):
            die()
    os.replace = replace
elif point == "mid_derivation":  # in this process: a display rendition half written, no manifest yet
    from locker.media import derive
    from locker.report import images
    images.default_workers = lambda: 1
    real_rendition = derive.image_rendition
    def image_rendition(source, work, **kwargs):
        made = real_rendition(source, work, **kwargs)
        display = os.path.join(work, made.display)
        with open(display, "r+b") as f:
            f.truncate(os.path.getsize(display) // 2)
        die()
    derive.image_rendition = image_rendition
elif point == "workers_busy":  # the main process dies while its worker processes are running
    import concurrent.futures as cf
    from locker.report import images
    images.default_workers = lambda: 2
    real_map = cf.ProcessPoolExecutor.map
    def pool_map(self, *args, **kwargs):
        results = real_map(self, *args, **kwargs)
        next(iter(results))
        die()
    cf.ProcessPoolExecutor.map = pool_map

from locker.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _killed_at(home: Path, point: str, *args: object) -> subprocess.Popen[str]:
    proc = _spawn(home, *args, script=HOOKED, LOCKER_TEST_KILL_AT=point)
    killed, _out, err = _kill_after(proc, 300)
    assert killed, err  # the hook was reached
    return proc


def _small_dispute(cli, home: Path, tmp_path: Path, *, scale: float = 1.0) -> Path:  # noqa: ANN001
    """Three long screenshots, a photo and a chat. ``scale`` < 1 where the pictures' size does not matter
    (a kill at a hooked point): less to derive and draw; the same renditions, slices and pack."""
    folder = tmp_path / "few"
    for n, (height, seed) in enumerate(((4000, 3), (4400, 4), (4800, 5))):
        samples.make_long_screenshot(folder / f"long{n + 1 if n else ''}.png", round(1080 * scale),
                                     round(height * scale), seed=seed)
    samples.make_jpeg(folder / "photo.jpg", round(1200 * scale), round(900 * scale), seed=1)
    samples.make_plain_chat(folder / "chat.txt")
    assert cli("new", "耳机退款", "--slug", "few", "--json").code == 0
    assert cli("add", "few", folder, "--json").code == 0
    return home / "disputes" / "few"


def _after_kill_next_export_is_clean(cli, ddir: Path, seen: dict[str, str]) -> None:  # noqa: ANN001
    ran = cli("export", "few", "--json")
    assert ran.code == 0, ran.err
    assert _temps(ddir) == []
    _check_packs(cli, "few", ddir, seen)
    _check_derived(ddir, {})
    ran = cli("verify", "few", "--json")
    assert ran.code == 0 and ran.json["disputes"][0]["problems"] == [], ran.out


def test_export_killed_as_the_pack_reaches_its_name_leaves_it_recorded(cli, home, tmp_path) -> None:  # noqa: ANN001
    """The window between placing the pack and recording it: the pack is recorded before it is renamed
    into place, so a kill right after the rename leaves a recorded pack, and one right before leaves none."""
    ddir = _small_dispute(cli, home, tmp_path, scale=0.5)
    seen: dict[str, str] = {}
    _killed_at(home, "after_rename", "export", "few", "--json")
    assert _check_packs(cli, "few", ddir, seen) == 1

    _killed_at(home, "before_rename", "export", "few", "--json")
    assert _check_packs(cli, "few", ddir, seen) == 1  # recorded, but never placed: no file under its name
    left = [p for p in _temps(ddir) if p.suffix == ".pdf"]
    assert len(left) == 1
    _after_kill_next_export_is_clean(cli, ddir, seen)
    assert len(_packs(ddir / "exports")) == 2


def test_a_derivation_killed_half_way_is_never_trusted_and_is_cleaned(cli, home, tmp_path) -> None:  # noqa: ANN001
    ddir = _small_dispute(cli, home, tmp_path, scale=0.5)
    _killed_at(home, "mid_derivation", "export", "few", "--json")
    half = [p for p in (ddir / "derived").rglob("*.jpg") if any(part.startswith(".tmp-") for part in p.parts)]
    assert half, "the hook left no half-written rendition"
    assert not list((ddir / "derived").rglob("manifest.json"))
    _after_kill_next_export_is_clean(cli, ddir, {})
    assert len(list((ddir / "derived").rglob("manifest.json"))) == 3


def test_killed_export_leaves_no_worker_running(cli, home, tmp_path) -> None:  # noqa: ANN001
    ddir = _small_dispute(cli, home, tmp_path)  # full size: the workers are still busy when the main process dies
    proc = _killed_at(home, "workers_busy", "export", "few", "--json")
    assert _left_running(proc, wait=3.0) == 0
    _after_kill_next_export_is_clean(cli, ddir, {})


# --------------------------------------------------------------------------- search

# ``locker ARGS`` started and its imports done, waiting for a line on stdin: the kill delay then
# measures from the start of the command's own work.
READY = TRACE + r"""
from locker.cli import main
import locker.render, locker.services.search  # noqa: F401  (what the command imports first; typer 0.26 imports nothing more as it parses)
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
sys.exit(main(sys.argv[1:]))
"""


def _ready(home: Path, *args: object) -> subprocess.Popen[str]:
    proc = _traced(home, *args, script=READY)
    out = proc.files[0]  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while True:
        out.seek(0)
        if out.read().startswith("ready\n"):
            return proc
        assert proc.poll() is None and time.monotonic() < deadline, "the command did not start"
        time.sleep(0.005)


def _go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()


def _hits(cli, query: str, home: Path | None = None) -> list[tuple]:  # noqa: ANN001
    where = ("--home", home) if home else ()
    ran = cli(*where, "search", query, "--limit", 100_000, "--json")
    assert ran.code == 0 and "Traceback" not in ran.err, ran.err
    return sorted((h["dispute"], h["exhibit"] or 0, h["field"], h["snippet"]) for h in ran.json["hits"])


def _caught_up(home: Path) -> bool:
    """Does the current catalog hold every dispute at the stamp its files have now?"""
    import sqlite3

    from locker.paths import Home
    from locker.search import catalog

    path = catalog.current_path(Home(home))
    if path is None:
        return False
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        have = dict(con.execute("SELECT slug, stamp FROM dispute").fetchall())
    except sqlite3.DatabaseError:
        return False
    finally:
        con.close()
    return have == {slug: sig for slug, (sig, _newest) in catalog.on_disk(Home(home)).items()}


REFUND_EVERY = 25  # one message in 25 is about the refund: many rows to copy, few hits to compare


def _chat(path: Path, marker: str, count: int) -> Path:
    return samples.make_plain_chat(path, [("商家" if i % 2 else "我", f"第{i}条 {marker} 退款 {ORDER_ID}"
                                            if i % REFUND_EVERY == 0 else f"第{i}条 {marker} 已发货")
                                          for i in range(count)])


def test_killed_search_or_reindex_never_leaves_search_wrong(cli, home, tmp_path) -> None:  # noqa: ANN001
    rng = random.Random(SEED + 1)
    expected: dict[str, int] = {}  # marker → rows holding it
    refunds: dict[str, int] = {}  # marker → rows holding it and 退款
    slugs = []

    def change(trial: int, marker: str) -> str:
        what = ("chat", "event", "dispute")[trial % 3]
        count = rng.randint(1000, 4000)
        if what == "dispute" or not slugs:
            slug = f"d{len(slugs)}"
            ran = cli("new", f"纠纷 {trial}", "--order-id", ORDER_ID, "--slug", slug, "--json")
            assert ran.code == 0, ran.err
            slugs.append(slug)
        else:
            slug = rng.choice(slugs)
        if what == "event":
            count = rng.randint(1, 4)
            for i in range(count):
                ran = cli("event", slug, f"商家答应{marker}退款 {i}", "--at", "2025-05-06 10:00")
                assert ran.code == 0, ran.err
            refunds[marker] = count
        else:
            ran = cli("add", slug, _chat(tmp_path / "chats" / f"chat{len(expected)}.txt", marker, count), "--json")
            assert ran.code == 0, ran.err
            refunds[marker] = len(range(0, count, REFUND_EVERY))
        expected[marker] = count
        return what

    for n in range(3):
        change(3 * n + 2, f"zq{n:03d}s")  # three disputes with a chat each
    assert len(_hits(cli, "退款")) > 0

    queries = ["退款", ORDER_ID]
    commands = {"search": ("search", "退款", "--json"), "reindex": ("reindex", "--json")}
    stats = {"trials": 0, "killed": 0, "finished": 0, "search_kills": 0, "reindex_kills": 0, "no_catalog_before": 0,
             "killed_before_catalog_write": 0, "killed_in_catalog_write": 0, "killed_in_rebuild": 0,
             "killed_after_update": 0, "wrong_results": 0}
    spans: list[float] = []
    copy = tmp_path / "copy"
    for trial in range(SEARCH_TRIALS):
        marker = f"zq{trial:03d}t"
        what = change(trial, marker)
        op = rng.choice(("search", "reindex"))
        if trial % 4 == 3:  # no catalog yet (a new home, or its search/ folder deleted): built by this command
            shutil.rmtree(home / "search")
            what += "+no catalog"

        # The same command, uninterrupted, in a copy of the home: when its catalog work ends, and (with
        # a catalog then built afresh there) what the next search must find.
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(home, copy)
        measured, proc = _ready(copy, *commands[op]), _ready(home, *commands[op])
        started = time.monotonic()
        _go(measured)
        assert _kill_after(measured, 300)[0] is False
        span = max(t for _e, t in _events(measured)) - started
        spans.append(span)
        if op == "search":
            assert cli("--home", copy, "reindex", "--json").code == 0
        truth = {q: _hits(cli, q, copy) for q in queries}

        delay = rng.uniform(0.0, 1.1 * span)
        _go(proc)
        killed, _out, err = _kill_after(proc, delay)
        stats["trials"] += 1
        stats["no_catalog_before"] += what.endswith("+no catalog")
        if killed:
            stats["killed"] += 1
            stats[f"{op}_kills"] += 1
            phase = _phase(proc)
            if phase in ("write+", "publish+"):
                stats["killed_in_catalog_write"] += 1  # inside a catalog transaction, or switching CURRENT
            elif phase == "rebuild+":
                stats["killed_in_rebuild"] += 1  # building the new catalog file, between its transactions
            elif _caught_up(home):
                stats["killed_after_update"] += 1
            else:
                stats["killed_before_catalog_write"] += 1
        else:
            stats["finished"] += 1

        # The next search: exactly what a catalog built afresh finds, and exactly the rows added.
        found = {q: _hits(cli, q) for q in queries}
        context = (trial, what, op, delay, killed)
        for q in queries:
            if found[q] != truth[q]:
                stats["wrong_results"] += 1
            assert found[q] == truth[q], (*context, q, len(found[q]), len(truth[q]))
        for mark, count in refunds.items():
            assert sum(mark in hit[3] for hit in found["退款"]) == count, (*context, mark)
        assert len(_hits(cli, marker)) == expected[marker], context

    line = ", ".join(f"{k}={v}" for k, v in stats.items())
    sys.stderr.write(f"search crash harness (seed {SEED}, catalog work {min(spans):.2f}-{max(spans):.2f}s): {line}\n")
    assert stats["killed"] >= SEARCH_TRIALS // 3  # the delays must actually cut commands short


def test_an_exited_unreaped_process_counts_as_dead(tmp_path) -> None:  # noqa: ANN001
    """A killed export's workers are zombies until init reaps them (seconds, on some systems): the temp
    files they left are stale, and the next command removes them."""
    from locker import store

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child.pid}/stat").read_text().split(") ")[1][0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        assert not store._alive(child.pid)
        (tmp_path / f"{store.TMP_PREFIX}{child.pid}-abc").write_bytes(b"half")
        (tmp_path / f"{store.TMP_PREFIX}{os.getpid()}-abc").write_bytes(b"mine, being written")
        assert store.clean_stale_temps(tmp_path) == 1
        assert [p.name for p in tmp_path.iterdir()] == [f"{store.TMP_PREFIX}{os.getpid()}-abc"]
    finally:
        child.wait()
    assert store._alive(os.getpid()) and store._alive(os.getppid())
