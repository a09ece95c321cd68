"""No run of the command line writes outside the locker home (issue 6's rule, for every command).

Each command runs in a child process whose ``HOME`` and ``TMPDIR`` are empty folders of their own,
whose working folder is another, with no ``XDG_*`` variable (so a library that caches under
``~/.cache`` or ``$TMPDIR`` would do it there) and with OCR on (``LOCKER_OCR=on``: the engine,
its runtime and its models are loaded and a screenshot is read). Two checks:

* after every command, ``HOME``, ``TMPDIR`` and the working folder are still empty, and nothing
  else under the test's folder changed (the inputs included), except inside the home;
* while it runs, every system call of the process and of anything it starts (``strace -f``) that
  creates, opens for writing, renames, links or removes a file, and succeeds, names a path inside
  the home; the exceptions are ``/dev/null`` and multiprocessing's semaphores in ``/dev/shm``. A
  temporary file made and removed in ``TMPDIR`` is caught here even though it leaves nothing behind.

Left out on purpose: ``export -o FILE`` (the user names a place outside the home: that is the
point of ``-o``) and ``--install-completion`` (writes the user's shell start-up file, as asked).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import ocr_samples, samples

LOCKER = Path(sys.executable).with_name("locker")  # the console script of this environment
STRACE = shutil.which("strace")
WRITING_CALLS = ("open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,rmdir,"
                 "link,linkat,symlink,symlinkat,truncate,mknod,mknodat")
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_TMPFILE")
CALL = re.compile(r"^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)")
PATH_ARG = re.compile(r'(?:(AT_FDCWD|\d+<([^>]*)>),\s*)?"((?:[^"\\]|\\.)*)"')
ALLOWED = {"/dev/null"}
# POSIX named semaphores of multiprocessing (the OCR worker pool): kernel objects in shared memory,
# unlinked as soon as they are made; never a file of the user's.
ALLOWED_PREFIXES = ("/dev/shm/sem.",)


def _tree(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` but not under ``skip``: (size, mtime_ns)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder, d) != skip]
        for name in files + dirs:
            full = Path(folder, name)
            info = full.lstat()
            found[str(full)] = (0 if full.is_dir() else info.st_size, info.st_mtime_ns)
    return found


def _written(log: Path, cwd: Path) -> set[str]:
    """The paths the traced processes created, wrote, renamed, linked or removed (resolved). A call
    that failed wrote nothing (rapidocr's ``mkdir(models, exist_ok=True)`` in site-packages: EEXIST)."""
    paths = set()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        m = CALL.match(line)
        if m is None:
            continue
        call, args, rc = m.groups()
        if int(rc) < 0:
            continue
        if call in ("open", "openat", "openat2") and not WRITE_FLAGS.search(args):
            continue  # read-only opens
        for match in PATH_ARG.finditer(args):
            base, path = match.group(2), match.group(3)
            full = path if path.startswith("/") else os.path.join(base or str(cwd), path)
            paths.add(os.path.normpath(full))
    return paths


class Sandbox:
    """A locker home and, beside it, the child's HOME, TMPDIR, working folder and inputs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "locker-home"
        self.user_home, self.tmp, self.work, self.inputs = (root / n for n in ("user-home", "tmp", "work", "inputs"))
        for folder in (self.user_home, self.tmp, self.work, self.inputs):
            folder.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
        self.env.update(HOME=str(self.user_home), TMPDIR=str(self.tmp), LOCKER_HOME=str(self.home), TZ="UTC",
                        LANG="C.UTF-8", LOCKER_OCR="on", PYTHONDONTWRITEBYTECODE="1")
        self.env.pop("LC_ALL", None)
        self.env.pop("LC_MESSAGES", None)
        self.runs = 0

    def run(self, *args: object, expect: int = 0) -> subprocess.CompletedProcess[str]:
        """One traced run; fails on a write outside the home, during or after it."""
        self.runs += 1
        log = self.root / f"strace-{self.runs}.log"
        before = _tree(self.root, self.home)
        argv = ["strace", "-f", "--seccomp-bpf", "-qq", "-y", "-s", "4096", "-o", str(log), "-e", f"trace={WRITING_CALLS}",
                str(LOCKER), *map(str, args)]
        ran = subprocess.run(argv, env=self.env, cwd=self.work, capture_output=True, text=True, timeout=900)
        assert ran.returncode == expect, (args, ran.returncode, ran.stderr)
        assert "Traceback" not in ran.stderr, (args, ran.stderr)
        outside = {p for p in _written(log, self.work) - ALLOWED
                   if not (p == str(self.home) or p.startswith((str(self.home) + os.sep, *ALLOWED_PREFIXES)))}
        assert not outside, f"locker {' '.join(map(str, args))} wrote outside the home: {sorted(outside)}"
        log.unlink()
        for folder in (self.user_home, self.tmp, self.work):
            assert not any(folder.iterdir()), (args, folder.name, sorted(p.name for p in folder.iterdir()))
        assert _tree(self.root, self.home) == before, args
        return ran


def test_strace_sees_a_write_outside_the_home(tmp_path: Path) -> None:
    """The check itself: a run that does write outside the home (export -o to the working folder) is caught."""
    assert STRACE is not None, "strace is needed (scripts/setup.sh installs it: APT_PACKAGES)"
    box = Sandbox(tmp_path)
    box.env["LOCKER_OCR"] = "off"
    box.run("new", "x", "--slug", "x")
    with pytest.raises(AssertionError, match="wrote outside the home"):
        box.run("export", "x", "-o", box.work / "pack.pdf")


def test_no_command_writes_outside_the_home_with_ocr_on(tmp_path: Path) -> None:
    assert STRACE is not None, "strace is needed (scripts/setup.sh installs it: APT_PACKAGES)"
    box = Sandbox(tmp_path)
    shot = ocr_samples.chat_screenshot(box.inputs / "Screenshot_20250503-142210.png", seed=3, size=(720, 1000))
    samples.make_jpeg_with_exif(box.inputs / "photo.jpg", 320, 240)
    samples.make_plain_chat(box.inputs / "chat.txt")
    samples.make_pdf(box.inputs / "order.pdf", pages=1)
    samples.make_mp4(box.inputs / "clip.mp4")
    (box.inputs / "mail.eml").write_text("From: shop@example.com\nTo: me@example.com\nSubject: refund\n"
                                         "Date: Sat, 03 May 2025 14:22:10 +0800\n\nNo refund.\n", encoding="utf-8")

    box.run()  # the overview
    box.run("--version")
    box.run("profile", "--name", "张三", "--tz", "Asia/Shanghai")
    box.run("new", "小红书无线耳机退款", "--platform", "xiaohongshu", "--amount", "199.00", "--slug", "e")
    box.run("add", "e", box.inputs, "--me", "我")
    ocr = json.loads(box.run("ocr", "e", "--json").stdout)
    assert any(r["read_now"] and r["lines"] > 0 for r in ocr["read"]), ocr  # the engine ran and read the screenshot
    assert "优品数码旗舰店" in shot.text
    hits = json.loads(box.run("search", "旗舰店", "--json").stdout)["hits"]
    assert hits, "the text OCR read is found"
    for args in (("list",), ("show", "e"), ("show", "e", "1"), ("show", "e", "1", "--lang", "zh"), ("log", "e"),
                 ("edit", "e", "1", "--title", "客服聊天截图"), ("edit", "e", "--merchant", "优品数码旗舰店"),
                 ("event", "e", "商家拒绝退款", "--at", "2025-05-04 10:00"), ("status", "e", "negotiating"),
                 ("due", "e", "平台介入申请截止", "--at", "2025-05-20 23:59"), ("due",), ("next", "e"),
                 ("withdraw", "e", "3", "--reason", "重复"), ("restore", "e", "3", "--reason", "不重复"),
                 ("reread", "e", "2", "--me", "我")):
        box.run(*args)
    box.run("export", "e", "--lang", "zh")  # OCR on: what is not read yet is read first
    box.run("export", "e", "--lang", "en", "--json")
    box.run("rebuild", "e")
    box.run("reindex")
    box.run("rename", "e", "earbuds")
    box.run("verify")
    box.run("gc", "earbuds")
    box.run("show", "nothing-like-this", expect=1)
    box.run("add", "earbuds", box.inputs / "missing.jpg", expect=1)
