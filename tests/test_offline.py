"""Privacy (issue 6, point 6): the main flow never touches the network.

Every command runs in a child process whose ``socket`` is blocked by a
``sitecustomize`` shim: connecting, resolving a name or sending a datagram raises and
records the attempt in a file, which must stay empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests import samples

REPO = Path(__file__).resolve().parent.parent

SHIM = '''
import os, socket, traceback

_LOG = os.environ["LOCKER_NET_LOG"]


def _blocked(what):
    def refuse(*args, **kwargs):
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{what} {args[1:] if what.startswith('socket.') else args}\\n")
            log.write("".join(traceback.format_stack(limit=8)) + "\\n")
        raise OSError(f"network blocked by the test: {what}")
    return refuse


socket.socket.connect = _blocked("socket.connect")
socket.socket.connect_ex = _blocked("socket.connect_ex")
socket.socket.sendto = _blocked("socket.sendto")
socket.getaddrinfo = _blocked("getaddrinfo")
socket.gethostbyname = _blocked("gethostbyname")
socket.gethostbyname_ex = _blocked("gethostbyname_ex")
socket.create_connection = _blocked("create_connection")
'''


def test_main_flow_makes_no_network_attempt(tmp_path: Path, home: Path) -> None:
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(SHIM, encoding="utf-8")
    log = tmp_path / "net.log"
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC", "LOCKER_NET_LOG": str(log),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")]))}

    def locker(*args: object) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "locker", *map(str, args)], capture_output=True,
                              text=True, env=env, cwd=REPO, timeout=300)
        assert proc.returncode == 0, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        return proc

    # The shim is really in force in the children.
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.getaddrinfo('example.com', 80)"],
                           capture_output=True, text=True, env=env)
    assert probe.returncode != 0 and "network blocked" in probe.stderr
    log.unlink()

    src = tmp_path / "in"
    samples.make_jpeg_with_exif(src / "IMG_20250503_150102.jpg", seed=1)
    samples.make_png(src / "Screenshot_20250503-150102.png", 360, 780, seed=2)
    samples.make_heic(src / "IMG_0003.HEIC", seed=3)
    samples.make_mp4(src / "VID_20250503_142210.mp4", 1.0)
    samples.make_pdf(src / "invoice.pdf", pages=1)
    samples.make_plain_chat(src / "chat.txt")
    slug = json.loads(locker("new", "耳机退款", "--merchant", "优品数码", "--slug", "offline", "--json").stdout)["slug"]
    added = json.loads(locker("add", slug, src, "--json").stdout)
    assert len(added["added"]) == 6 and not added["errors"]
    locker("show", slug)
    locker("show", slug, "1")
    locker("verify")
    locker("log", slug)
    exported = json.loads(locker("export", slug, "--json").stdout)
    assert Path(exported["path"]).is_file()
    locker("export", slug, "--lang", "en", "--attach-originals")
    found = locker("search", "退款", "--json")
    assert "offline" in found.stdout
    locker("reindex")

    attempts = log.read_text(encoding="utf-8") if log.exists() else ""
    assert attempts == "", f"network attempts:\n{attempts}"
