"""Issue 12, points 1–3: `locker ocr` reads screenshots, long screenshots slice by slice and scanned PDF
pages with the real engine (rapidocr), files the readings as derived data, and puts their text in
search; `show` gives it, marked as machine-read; without the extra everything else works; with the
network blocked it still reads.

OCR costs seconds per picture: the pictures are read once for the module (one `locker ocr` run in a
child process, both workers) and every test looks at that home.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import ocr_samples, samples
from tests.conftest import REPO, Ran, shared_home
from tests.test_contract import check

pytestmark = pytest.mark.slow

SLUG = "ocr"


def _locker(home: Path, *args: object, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC", "LOCKER_OCR": "on", **(env or {})}
    return subprocess.run([sys.executable, "-m", "locker", *map(str, args)], capture_output=True, text=True,
                          env=full, cwd=REPO, timeout=timeout)


class Shared:
    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        src = root / "in"
        src.mkdir()
        self.shot = ocr_samples.chat_screenshot(src / "Screenshot_20250503-142210.png", seed=1)
        self.long = ocr_samples.long_screenshot(src / "Screenshot_20250503-150000.png", seed=2, screens=2)
        self.scan = ocr_samples.scanned_pdf(src / "scan.pdf", seed=3)[0]
        chat = samples.make_plain_chat(src / "chat.txt")
        with shared_home(self.home) as cli:  # in this process: only the OCR runs need children of their own
            ran = cli("new", "耳机退款", "--slug", SLUG)
            assert ran.code == 0, ran.err
            ran = cli("add", SLUG, src / "Screenshot_20250503-142210.png", src / "Screenshot_20250503-150000.png",
                      src / "scan.pdf", chat, "--json")
            assert ran.code == 0, ran.err
        self.derived_after_add = sorted(p.name for p in (self.home / "disputes" / SLUG / "derived").rglob("ocr-*"))
        started = time.perf_counter()
        self.first = _locker(self.home, "ocr", SLUG, "--json")
        self.first_seconds = time.perf_counter() - started
        assert self.first.returncode == 0, self.first.stderr
        self.manifests = {p: p.stat().st_mtime_ns for p in self.manifest_paths()}
        self.second = _locker(self.home, "ocr", SLUG, "--json")
        assert self.second.returncode == 0, self.second.stderr

    def manifest_paths(self) -> list[Path]:
        return sorted((self.home / "disputes" / SLUG / "derived").glob("*/*/ocr-*/manifest.json"))

    def run(self, *args: object) -> Ran:
        """``locker ARGS`` on this home, in this process (what the tests read needs no child)."""
        with shared_home(self.home) as cli:
            return cli(*args)

    def reading(self, number: int) -> dict:
        ran = self.run("show", SLUG, number, "--json")
        assert ran.code == 0, ran.err
        return json.loads(ran.out)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    return Shared(tmp_path_factory.mktemp("ocr"))


def _norm(text: str) -> str:
    return "".join(text.split()).replace("：", ":").replace("，", ",")


def test_add_reads_nothing_and_ocr_reads_pictures_and_scanned_pages(shared: Shared) -> None:
    assert shared.derived_after_add == []  # add never runs OCR
    doc = json.loads(shared.first.stdout)
    check(doc, "ocr")
    assert [r["exhibit"] for r in doc["read"]] == [1, 2, 3]  # the chat export (4) is no picture
    assert all(r["read_now"] and r["lines"] > 0 for r in doc["read"])
    assert doc["workers"] == 1  # a few pictures: read in the command's own process (one engine load)
    assert doc["engine"].startswith("rapidocr ") and "onnxruntime " in doc["engine"]
    assert len(shared.manifest_paths()) == 3


def test_a_second_run_reads_nothing_again(shared: Shared) -> None:
    doc = json.loads(shared.second.stdout)
    assert [(r["exhibit"], r["read_now"]) for r in doc["read"]] == [(1, False), (2, False), (3, False)]
    assert doc["workers"] == 0
    assert {p: p.stat().st_mtime_ns for p in shared.manifest_paths()} == shared.manifests


def test_the_screenshot_is_read_as_drawn(shared: Shared) -> None:
    lines = shared.reading(1)["ocr"]["lines"]
    read = {_norm(line["text"]) for line in lines}
    drawn = [_norm(line.text) for line in shared.shot.lines]
    found = [t for t in drawn if t in read]
    assert len(found) >= 0.9 * len(drawn), (drawn, read)
    assert _norm(f"订单编号：{ocr_samples.order_number(1)}") in read


def test_a_long_screenshot_is_read_slice_by_slice_in_whole_picture_pixels(shared: Shared) -> None:
    manifest = json.loads(next(p for p in shared.manifest_paths()
                               if json.loads(p.read_text())["height"] == shared.long.height).read_text())
    assert len(manifest["parts"]) >= 3 and manifest["parts"][-1]["bottom"] == shared.long.height
    by_text: dict[str, list[dict]] = {}
    for line in manifest["lines"]:
        by_text.setdefault(_norm(line["text"]), []).append(line)
    matched = 0
    for drawn in shared.long.lines:
        left, top, right, bottom = drawn.box
        for line in by_text.get(_norm(drawn.text), []):
            xs = [p[0] for p in line["box"]]
            ys = [p[1] for p in line["box"]]
            centre = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
            if left - 20 <= centre[0] <= right + 20 and top - 20 <= centre[1] <= bottom + 20:
                matched += 1
                break
    assert matched >= 0.9 * len(shared.long.lines)
    # A line read in two overlapping slices is kept once.
    positions = [(_norm(li["text"]), round(li["box"][0][1] / 40)) for li in manifest["lines"]]
    assert len(positions) == len(set(positions))


def test_a_pdf_page_without_text_is_read(shared: Shared) -> None:
    manifest = json.loads(next(p for p in shared.manifest_paths()
                               if json.loads(p.read_text())["source"] == "pdf").read_text())
    assert [p["page"] for p in manifest["parts"]] == [1]
    read = {_norm(line["text"]) for line in manifest["lines"]}
    assert _norm(f"订单编号：{ocr_samples.order_number(30)}") in read


def test_show_gives_the_reading_marked_as_machine_read(shared: Shared) -> None:
    doc = shared.reading(1)
    check(doc, "show-exhibit")
    assert doc["ocr"]["engine"].startswith("rapidocr")
    line = doc["ocr"]["lines"][0]
    assert set(line) == {"text", "box", "score"} and len(line["box"]) == 4 and 0 < line["score"] <= 1
    ran = shared.run("show", SLUG, "1")
    assert ran.code == 0 and "机器识别" in ran.out and "machine-read" in ran.out
    assert ocr_samples.order_number(1) in ran.out
    chat = json.loads(shared.run("show", SLUG, "4", "--json").out)
    assert chat["ocr"] is None


@pytest.mark.parametrize("where", ["catalog", "dispute"])
def test_search_finds_two_chinese_characters_and_part_of_an_order_number(shared: Shared, where: str) -> None:
    extra = ("--dispute", SLUG) if where == "dispute" else ()
    number = ocr_samples.order_number(1)
    ran = shared.run("search", number[5:14], *extra, "--json")
    assert ran.code == 0, ran.err
    doc = json.loads(ran.out)
    check(doc, "search")
    # A picture read as a chat is found through its machine-read messages (its raw lines are then the
    # same text again: services.search shows them once).
    hits = [h for h in doc["hits"] if h["field"] in ("ocr", "ocr_message")]
    assert [h["exhibit"] for h in hits] == [1], doc
    assert all(h.get("slice") == 1 for h in hits if h["field"] == "ocr"), doc
    ran = shared.run("search", "实付", *extra, "--json", "--limit", "50")
    hits = [h for h in json.loads(ran.out)["hits"] if h["field"] in ("ocr", "ocr_message")]
    assert {h["exhibit"] for h in hits} == {1, 2, 3}
    assert any(h.get("page") == 1 for h in hits if h["exhibit"] == 3)
    assert all("slice" in h for h in hits if h["exhibit"] in (1, 2) and h["field"] == "ocr")
    ran = shared.run("search", "实付", *extra)
    assert "machine-read text (OCR)" in ran.out


def test_without_the_extra_everything_else_works_and_ocr_says_how_to_get_it(shared: Shared, tmp_path: Path) -> None:
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(HIDE_OCR, encoding="utf-8")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")]))}
    home = tmp_path / "home"
    probe = subprocess.run([sys.executable, "-c", "import rapidocr"], capture_output=True, text=True,
                           env={**os.environ, **env})
    assert probe.returncode != 0 and "hidden by the test" in probe.stderr
    assert _locker(home, "new", "耳机退款", "--slug", "plain", env=env).returncode == 0
    ran = _locker(home, "add", "plain", shared.shot.path, "--json", env=env)
    assert ran.returncode == 0, ran.stderr
    ran = _locker(home, "ocr", "plain", env=env)
    assert ran.returncode == 1
    assert "pip install 'locker[ocr]'" in ran.stderr and "Traceback" not in ran.stderr
    ran = _locker(home, "ocr", "plain", "--json", env=env)
    assert json.loads(ran.stdout)["error"]["code"] == "dependency"
    ran = _locker(home, "export", "plain", "--json", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "OCR was not run" in ran.stderr and "locker[ocr]" in ran.stderr
    ran = _locker(home, "show", "plain", "1", "--json", env=env)
    assert ran.returncode == 0 and json.loads(ran.stdout)["ocr"] is None
    ran = _locker(home, "rebuild", "plain", "--json", env=env)
    assert ran.returncode == 0 and "OCR was not run" in json.loads(ran.stdout)["notes"][0]
    assert _locker(home, "search", "退款", env=env).returncode == 0
    assert _locker(home, "verify", env=env).returncode == 0


HIDE_OCR = '''
import importlib.abc, importlib.metadata, sys

_HIDDEN = ("rapidocr", "onnxruntime")


class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)")
        return None


sys.meta_path.insert(0, _Hide())
_version = importlib.metadata.version


def _no_version(name):
    if name.lower() in _HIDDEN:
        raise importlib.metadata.PackageNotFoundError(name)
    return _version(name)


importlib.metadata.version = _no_version
'''

NO_SOCKETS = '''
import os, socket, traceback

_LOG = os.environ["LOCKER_NET_LOG"]


class _NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        with open(_LOG, "a", encoding="utf-8") as log:
            where = " <- ".join(f"{f.name}" for f in reversed(traceback.extract_stack(limit=4)[:-1]))
            log.write(f"socket{args} in {where}\\n")
        raise OSError("network blocked by the test")


socket.socket = _NoSocket
'''


def test_with_the_network_blocked_it_still_reads_and_rebuild_reads_again(tmp_path: Path) -> None:
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(NO_SOCKETS, encoding="utf-8")
    log = tmp_path / "net.log"
    # Two worker processes, as five pictures or more would get: they load the engine too, and must not
    # reach the network either.
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")])),
           "LOCKER_NET_LOG": str(log), "LOCKER_OCR_WORKERS": "2"}
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.socket()"], capture_output=True,
                           text=True, env={**os.environ, **env})
    assert probe.returncode != 0 and "network blocked" in probe.stderr
    log.unlink()
    home = tmp_path / "home"
    src = tmp_path / "in"
    src.mkdir()
    small = [ocr_samples.chat_screenshot(src / f"Screenshot_2025050{i}-101010.png", seed=10 + i, size=(720, 1000))
             for i in (1, 2)]
    assert _locker(home, "new", "离线", "--slug", "offline", env=env).returncode == 0
    assert _locker(home, "add", "offline", src, env=env).returncode == 0
    ran = _locker(home, "ocr", "offline", "--json", env=env)
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert doc["workers"] == 2 and all(r["lines"] > 0 for r in doc["read"])
    shown = json.loads(_locker(home, "show", "offline", "1", "--json", env=env).stdout)
    assert "优品数码旗舰店" in {line["text"] for line in shown["ocr"]["lines"]}
    del small
    # Derived data is rebuildable: without derived/, rebuild reads the pictures again.
    import shutil

    shutil.rmtree(home / "disputes" / "offline" / "derived")
    ran = _locker(home, "rebuild", "offline", "--json", env=env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["ocr_read"] == [1, 2]
    # export reads what has no reading yet before it makes the pack.
    ocr_samples.chat_screenshot(tmp_path / "Screenshot_20250509-101010.png", seed=19, size=(720, 1000))
    assert _locker(home, "add", "offline", tmp_path / "Screenshot_20250509-101010.png", env=env).returncode == 0
    ran = _locker(home, "export", "offline", "--json", env=env)
    assert ran.returncode == 0, ran.stderr
    ran = _locker(home, "ocr", "offline", "--json", env=env)
    assert [(r["exhibit"], r["read_now"]) for r in json.loads(ran.stdout)["read"]] == [(1, False), (2, False), (3, False)]
    # The one socket ever asked for: urllib3 (imported by rapidocr for its model download helper, never
    # called) probes at import whether the machine has IPv6; refused, it reads on.
    attempts = log.read_text().splitlines() if log.exists() else []
    assert all("_has_ipv6" in attempt for attempt in attempts), attempts


def test_a_few_objects_are_read_in_this_process_and_more_by_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from locker.services import ocr

    monkeypatch.delenv("LOCKER_OCR_WORKERS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert [ocr._workers(n) for n in (0, 1, ocr.ONE_PROCESS_MAX, ocr.ONE_PROCESS_MAX + 1, 40)] == [1, 1, 1, 2, 2]
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert ocr._workers(40) == 1
    monkeypatch.setenv("LOCKER_OCR_WORKERS", "2")
    assert ocr._workers(2) == 2 and ocr._workers(1) == 1  # as asked, never more than there are objects


def test_ctrl_c_leaves_every_reading_whole_or_absent(tmp_path: Path) -> None:
    home = tmp_path / "home"
    src = tmp_path / "in"
    src.mkdir()
    for i in range(6):
        ocr_samples.chat_screenshot(src / f"Screenshot_2025050{i}-101010.png", seed=20 + i, size=(720, 1000))
    assert _locker(home, "new", "中断", "--slug", "stop").returncode == 0
    assert _locker(home, "add", "stop", src).returncode == 0
    derived = home / "disputes" / "stop" / "derived"
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC", "LOCKER_OCR": "on"}
    proc = subprocess.Popen([sys.executable, "-m", "locker", "ocr", "stop", "--json"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(derived.glob("*/*/ocr-*/manifest.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert json.loads(out)["error"]["code"] == "interrupted"
    # No worker left running (multiprocessing's resource tracker takes a moment to see its pipe close).
    for _ in range(100):
        alive = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
        if not alive:
            break
        time.sleep(0.1)
    assert alive == []
    assert not [p for p in derived.rglob("*") if p.name.startswith((".tmp-", ".old-"))]
    filed = list(derived.glob("*/*/ocr-*/manifest.json"))
    assert 1 <= len(filed) < 6
    for manifest in filed:
        assert json.loads(manifest.read_text())["lines"]
    # The next run reads only the rest, and search has every picture once.
    ran = _locker(home, "ocr", "stop", "--json")
    doc = json.loads(ran.stdout)
    assert sum(not r["read_now"] for r in doc["read"]) == len(filed) and len(doc["read"]) == 6
    ran = _locker(home, "search", "优品数码旗舰店", "--json", "--limit", "50")
    hits = {h["exhibit"] for h in json.loads(ran.stdout)["hits"] if h["field"] in ("ocr", "ocr_message")}
    assert sorted(hits) == [1, 2, 3, 4, 5, 6]


def test_a_reading_by_another_engine_replaces_the_indexed_text(cli, dispute: str, tmp_path: Path,  # noqa: ANN001
                                                                home: Path) -> None:
    """The index side of 'a new engine reads everything again': the exhibit's OCR rows are replaced,
    never added to, in the dispute's index and in the catalog (no OCR run needed to show it)."""
    from locker.db import connect, immediate
    from locker.search import index

    shot = samples.make_png(tmp_path / "Screenshot_20250503-142210.png", 360, 780)
    assert cli("add", dispute, shot).code == 0
    assert cli("search", "旧引擎").code == 0  # the catalog exists and has copied the dispute once
    con = connect(home / "disputes" / dispute / "dispute.sqlite")
    try:
        sha = con.execute("SELECT sha256 FROM exhibit WHERE number = 1").fetchone()[0]
        with immediate(con):
            index.index_ocr(con, 1, sha, "engine A", [(-1, "旧引擎读出 250501998877"), (-2, "第二片")], 2, "now")
        assert cli("search", "旧引擎", "--json").json["hits"][0]["slice"] == 1
        with immediate(con):
            index.index_ocr(con, 1, sha, "engine B", [(-1, "新引擎读出 250501998877")], 1, "now")
        assert index.ocr_engines(con) == {1: (sha, "engine B")}
    finally:
        con.close()
    for extra in ((), ("--dispute", dispute)):
        assert [h["field"] for h in cli("search", "旧引擎", *extra, "--json").json["hits"]] == []
        assert [h["field"] for h in cli("search", "第二片", *extra, "--json").json["hits"]] == []
        hits = cli("search", "01998877", *extra, "--json").json["hits"]
        assert [(h["field"], h["exhibit"], h.get("slice")) for h in hits] == [("ocr", 1, 1)]


NUMPY_BEFORE_THREADS = """
import sys, threading
real_start = threading.Thread.start
seen = []
def start(self):
    if self.name == "ocr-sessions":  # the thread that makes the onnxruntime sessions, which imports numpy
        numpy = sys.modules.get("numpy")
        seen.append(numpy is not None and hasattr(numpy, "ndarray"))
    return real_start(self)
threading.Thread.start = start
from locker.ocr import engine
engine._get_engine()
print(seen)
"""


def test_numpy_is_imported_whole_before_the_engine_loads_on_two_threads() -> None:
    """Two threads importing numpy through different modules at once (onnxruntime on one, rapidocr on
    the other) can each meet the other's half-made module; one ``locker ocr`` in a dozen test runs
    failed so ("cannot import name '__cpu_features__' from partially initialized module"). The
    engine imports numpy whole, on one thread, before it starts the other."""
    ran = subprocess.run([sys.executable, "-c", NUMPY_BEFORE_THREADS], capture_output=True, text=True, cwd=REPO,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[True]", ran.stdout
