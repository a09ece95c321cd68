"""Hostile input (issue 6, point 4): a corpus of malformed and malicious files, generated here,
added in ONE ``locker add`` call together with good files, then exported.

For every input: no traceback, bounded time and memory, nothing written outside the locker
home, and the good files of the same call stored byte for byte and verified.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import samples

REPO = Path(__file__).resolve().parent.parent

TIME_LIMIT = 60.0  # seconds for the whole add call (it takes a few seconds)
MEMORY_LIMIT_KB = 500 * 1024  # peak resident set of the child (and its workers)

# Runs locker's entry point, then reports the peak memory of this process and of any
# worker process it waited for, on stderr's last line.
_WRAPPER = """
import resource, runpy, sys
try:
    sys.argv = ["locker", *sys.argv[1:]]
    runpy.run_module("locker", run_name="__main__", alter_sys=True)
finally:
    hwm = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stderr.write(f"\\nMEMORY_KB {max(hwm, kids)}\\n")
"""


@dataclass
class Child:
    code: int
    out: str
    err: str
    seconds: float
    memory_kb: int

    @property
    def json(self):  # noqa: ANN201
        return json.loads(self.out)


def run_child(*args: object, home: Path, tmp: Path, timeout: float = TIME_LIMIT * 3) -> Child:
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC", "TMPDIR": str(tmp),
           "PYTHONIOENCODING": "utf-8"}
    argv = [os.fsencode(a) if isinstance(a, bytes | Path) else str(a) for a in args]
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, *argv], capture_output=True, env=env,
                          cwd=REPO, timeout=timeout)
    seconds = time.monotonic() - started
    err = proc.stderr.decode("utf-8", "replace")
    memory = 0
    if "MEMORY_KB " in err:
        err, _, tail = err.rpartition("MEMORY_KB ")
        memory = int(tail.split()[0])
    return Child(proc.returncode, proc.stdout.decode("utf-8", "replace"), err, seconds, memory)


def tree(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` except under ``skip``: (size, mtime_ns)."""
    found: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(os.fsencode(root)):
        if os.fsencode(skip) == folder:
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if os.path.join(folder, d) != os.fsencode(skip)]
        for name in files + dirs:
            full = os.path.join(folder, name)
            info = os.lstat(full)
            found[os.fsdecode(full)] = (info.st_size if not os.path.isdir(full) else 0, info.st_mtime_ns)
    return found


# --------------------------------------------------------------------------- the corpus

# Expected outcomes:
#   "good"     stored, byte-identical, no warning about the file
#   "stored"   kept as evidence byte for byte (the locker keeps what it is given), with a warning
#   "kept"     kept byte for byte (a warning is allowed but not required)
GOOD, STORED, KEPT = "good", "stored", "kept"

MARKUP_CHAT = [
    ("Anna", "<font color=red size=40>BIG</font> & <br/> not a break"),
    ("Shop", "Tom &amp; Jerry <b>bold?</b> <para>x</para> &#x41; &lt;"),
    ("Anna", "<img src=\"/etc/passwd\"/> <a href=\"http://example.com\">link</a> 5 < 6 > 4"),
]


def build_corpus(src: Path) -> tuple[list[tuple[bytes, str]], list[Path]]:
    """(path, expected outcome) for every input, and the good files among them."""
    src.mkdir(parents=True, exist_ok=True)
    good_dir = src / "good"
    good = [
        samples.make_jpeg_with_exif(good_dir / "IMG_20250503_150102.jpg", seed=1),
        samples.make_png(good_dir / "Screenshot_20250503-150102.png", 360, 780, seed=2),
        samples.make_whatsapp_android_chat(good_dir / "WhatsApp Chat with Shop.txt"),
        samples.make_pdf(good_dir / "invoice.pdf", pages=1),
    ]
    bad = src / "bad"
    base = src / "base"
    originals = {
        "jpg": samples.make_jpeg_with_exif(base / "o.jpg", seed=11),
        "png": samples.make_png(base / "o.png", 300, 400, seed=12),
        "heic": samples.make_heic(base / "o.heic", seed=13),
        "webp": samples.make_webp(base / "o.webp", seed=14),
        "gif": samples.make_gif(base / "o.gif", seed=15),
    }
    corpus: list[tuple[Path | bytes, str]] = [(p, GOOD) for p in good]
    for ext, original in originals.items():
        corpus += [
            (samples.make_truncated(original, bad / f"truncated_half.{ext}", 0.5), KEPT),
            (samples.make_truncated(original, bad / f"truncated_header.{ext}", 0.02), KEPT),
            (samples.make_corrupt(original, bad / f"corrupt.{ext}", start=0.3, length=4096), KEPT),
        ]
    corpus += [
        (samples.make_random(bad / "random.jpg", 8192, seed=3), STORED),
        (samples.make_random(bad / "empty-ish.heic", 1, seed=4), KEPT),
        (samples.make_png_bomb(bad / "bomb_400mp.png", 20000, 20000), STORED),
        (samples.make_png_bomb(bad / "bomb_900mp.png", 30000, 30000), STORED),
        (samples.make_jpeg_bomb(bad / "bomb.jpg"), STORED),
        (samples.make_jpeg_bomb(bad / "bomb_400mp.jpg", 20000, 20000), STORED),
        (samples.make_heic_bomb(bad / "bomb.heic"), STORED),
        (samples.make_pdf_broken_xref(bad / "broken_xref.pdf"), KEPT),
        (samples.make_truncated(good[3], bad / "truncated.pdf", 0.5), KEPT),
        (samples.make_huge_line_chat(bad / "WhatsApp Chat with Huge.txt"), KEPT),
        (samples.make_whatsapp_android_chat(bad / "WhatsApp Chat with Markup.txt", MARKUP_CHAT), GOOD),
        (samples.make_zip_bomb_chat(bad / "WhatsApp Chat - bomb.zip", 1 << 28, 3), KEPT),
        (samples.make_truncated(samples.make_mp4(base / "o.mp4", 1.0), bad / "truncated.mp4", 0.5), KEPT),
        (samples.make_random(bad / "random.mp4", 4096, seed=5), KEPT),
    ]
    names = src / "names"
    odd_names = [
        "line\nbreak.jpg", "carriage\rreturn.jpg", "tab\tand\x07bell\x08.jpg",
        "\x1b[2J\x1b[31mclear-and-red.jpg", "\x1b]0;pwned-title\x07osc.jpg", "\x1b]8;;file:evil\x1b\\link\x1b]8;;\x1b\\.jpg",
        "\u202eevil-rtl-gpj.exe.jpg", "x" * 251 + ".jpg",
    ]
    for n, name in enumerate(odd_names):
        corpus.append((samples.make_jpeg(names / name, 32, 32, seed=100 + n), KEPT))
    raw = os.fsencode(names) + b"/\xff\xfe-latin1-caf\xe9.jpg"
    samples.make_jpeg(names / "tmp-raw.jpg", 32, 32, seed=200)
    os.rename(os.fsencode(names / "tmp-raw.jpg"), raw)
    corpus.append((raw, KEPT))
    long_raw = os.fsencode(names) + b"/" + "证".encode() * 83 + b"\xff.jpg"  # 255 bytes, not UTF-8
    samples.make_jpeg(names / "tmp-long.jpg", 32, 32, seed=201)
    os.rename(os.fsencode(names / "tmp-long.jpg"), long_raw)
    corpus.append((long_raw, KEPT))
    return [(os.fsencode(p), outcome) for p, outcome in corpus], good


def _sha(path: bytes | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


SAFE_CHARS = set("\n\t")


def _assert_no_control(text: str, where: str) -> None:
    bad = sorted({hex(ord(c)) for c in text if (ord(c) < 32 and c not in SAFE_CHARS) or 0x7f <= ord(c) < 0xa0})
    assert not bad, f"{where} prints raw control characters {bad}"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    root = tmp_path_factory.mktemp("hostile")
    home, tmp = root / "home", root / "tmp"
    tmp.mkdir()
    inputs, good = build_corpus(root / "in")
    new = run_child("new", "Hostile corpus", "--slug", "hostile", "--json", home=home, tmp=tmp)
    assert new.code == 0, new.err
    before = tree(root, home)
    added = run_child("add", "hostile", *[p for p, _ in inputs], "--date-order", "dmy", "--json", home=home, tmp=tmp)
    after_add = tree(root, home)
    plain = run_child("show", "hostile", home=home, tmp=tmp)
    exported = run_child("export", "hostile", "--lang", "en", "--json", home=home, tmp=tmp)
    verified = run_child("verify", home=home, tmp=tmp)
    after_all = tree(root, home)
    return {"root": root, "home": home, "tmp": tmp, "inputs": inputs, "good": good, "before": before,
            "after_add": after_add, "after_all": after_all, "add": added, "show": plain,
            "export": exported, "verify": verified}


def test_corpus_is_large_enough(hostile_run) -> None:  # noqa: ANN001
    bad = [p for p, outcome in hostile_run["inputs"] if outcome != GOOD]
    assert len(bad) >= 30


def test_add_survives_within_bounds(hostile_run) -> None:  # noqa: ANN001
    added: Child = hostile_run["add"]
    assert "Traceback" not in added.err, added.err
    assert added.code in (0, 1), added.err
    assert added.seconds < TIME_LIMIT, f"add took {added.seconds:.1f}s"
    assert 0 < added.memory_kb < MEMORY_LIMIT_KB, f"add peaked at {added.memory_kb} kB"


def test_every_input_has_its_outcome(hostile_run) -> None:  # noqa: ANN001
    doc = hostile_run["add"].json
    assert doc["errors"] == []
    added = doc["added"]
    inputs = hostile_run["inputs"]
    assert len(added) == len(inputs)  # every input kept, in order, none lost
    for (path, outcome), got in zip(inputs, added):
        name = os.fsdecode(os.path.basename(path))
        assert got["sha256"] == _sha(path), name  # kept byte for byte
        assert got["size"] == os.path.getsize(path), name
        assert not got["duplicate"], name
        warnings = " ".join(got["warnings"])
        assert "/tmp" not in warnings and ".tmp-" not in warnings, (name, warnings)  # no internal paths
        if outcome == GOOD:
            assert got["warnings"] == [], (name, got["warnings"])
        elif outcome == STORED:
            assert got["warnings"], name
    numbers = [got["exhibit"] for got in added]
    assert numbers == list(range(1, len(inputs) + 1))
    by_name = {got["original_name"]: got for got in added}
    for bomb in ("bomb_400mp.png", "bomb_900mp.png", "bomb.jpg", "bomb_400mp.jpg", "bomb.heic"):
        assert "too large" in " ".join(by_name[bomb]["warnings"]), bomb
    assert by_name["WhatsApp Chat with Huge.txt"]["kind"] == "chat"
    assert by_name["WhatsApp Chat with Markup.txt"]["kind"] == "chat"


def test_good_files_unaffected_and_verified(hostile_run, tmp_path: Path) -> None:  # noqa: ANN001
    home: Path = hostile_run["home"]
    objects = home / "disputes" / "hostile" / "objects"
    for good in hostile_run["good"]:
        sha = _sha(good)
        stored = objects / sha[:2] / sha[2:]
        assert stored.read_bytes() == good.read_bytes()
    verified: Child = hostile_run["verify"]
    assert verified.code == 0, verified.out + verified.err
    assert "Traceback" not in verified.err


def test_nothing_written_outside_the_home(hostile_run) -> None:  # noqa: ANN001
    before, after_add, after_all = hostile_run["before"], hostile_run["after_add"], hostile_run["after_all"]
    assert after_add == before
    assert after_all == before
    assert not any(hostile_run["tmp"].iterdir())


def test_names_are_printed_safely(hostile_run) -> None:  # noqa: ANN001
    shown: Child = hostile_run["show"]
    assert shown.code == 0, shown.err
    assert "Traceback" not in shown.err
    _assert_no_control(shown.out, "show")
    _assert_no_control(shown.err, "show")
    assert "\\x1b[2J" in shown.out or "\\x1b" in shown.out
    exported: Child = hostile_run["export"]
    _assert_no_control(exported.err, "export")


def test_export_prints_markup_literally(hostile_run) -> None:  # noqa: ANN001
    exported: Child = hostile_run["export"]
    assert exported.code == 0, exported.err
    assert "Traceback" not in exported.err
    assert exported.seconds < TIME_LIMIT * 2, f"export took {exported.seconds:.1f}s"
    assert exported.memory_kb < MEMORY_LIMIT_KB * 2, f"export peaked at {exported.memory_kb} kB"
    assert shutil.which("pdftotext"), "scripts/setup.sh installs poppler-utils (pdftotext)"
    text = subprocess.run(["pdftotext", "-raw", exported.json["path"], "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = " ".join(text.split())
    for literal in ("<font color=red size=40>BIG</font>", "& <br/> not a break", "Tom &amp; Jerry",
                    "<b>bold?</b>", "&#x41; &lt;", "5 < 6 > 4"):
        assert literal in flat, literal
    assert "more characters of this message are not printed" in flat  # the 50 MB line, cut


def test_dispute_name_cannot_escape_the_home(home: Path, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    before = tree(tmp_path, home)
    for args in (("new", "x", "--slug", "../../etc"), ("add", "../../etc", str(tmp_path)),
                 ("show", "../../etc"), ("export", "../../etc"), ("new", "../../etc", "--json")):
        ran = run_child(*args, home=home, tmp=tmp)
        assert "Traceback" not in ran.err, (args, ran.err)
        if args[0] == "new" and "--json" in args:
            assert ran.code == 0, ran.err
            slug = ran.json["slug"]
            assert "/" not in slug and ".." not in slug
            assert (home / "disputes" / slug).is_dir()
        else:
            assert ran.code != 0, args
    assert tree(tmp_path, home) == before
    assert not (home.parent / "etc").exists() and not (home / "etc").exists()
