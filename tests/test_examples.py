"""The README's first command: the sample dispute runs end to end and verifies."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO


def test_sample_evidence_is_deterministic(tmp_path: Path) -> None:
    digests = []
    for run in ("a", "b"):
        out = tmp_path / run
        subprocess.run([sys.executable, REPO / "examples" / "make_evidence.py", out], check=True, capture_output=True)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())})
    assert digests[0] == digests[1]
    assert set(digests[0]) == {"Screenshot_20250503-142210.png", "IMG_20250503_150102.jpg",
                               "VID_20250503_150530.mp4", "chat_merchant.txt", "invoice.pdf",
                               "Screenshot_20250504-101500.png"}


def _json(cli, home: Path, *args: object) -> Any:  # noqa: ANN001
    """What the demo left, read in this process (the demo itself ran the real command in children)."""
    ran = cli("--home", home, *args)
    assert ran.code == 0, ran.err
    return ran.json


def test_demo_runs_end_to_end(cli, tmp_path: Path) -> None:  # noqa: ANN001
    home = tmp_path / "home"
    proc = subprocess.run([sys.executable, REPO / "examples" / "run_demo.py", "--home", home,
                           "--evidence", tmp_path / "evidence"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    # The demo's profile says zh (for its pack), and the command line speaks the profile's language.
    assert "earbuds：正常 — 已重新计算 6 个对象的哈希，保管日志完整" in proc.stdout
    shown = _json(cli, home, "show", "earbuds", "--json")
    kinds = {e["original_name"]: (e["kind"], e["captured_at"], e["captured_at_source"]) for e in shown["exhibits"]}
    assert kinds == {
        "Screenshot_20250503-142210.png": ("screenshot", "2025-05-03T14:22:10+08:00", "filename"),
        "IMG_20250503_150102.jpg": ("photo", "2025-05-03T15:01:02+08:00", "exif"),
        "VID_20250503_150530.mp4": ("video", "2025-05-03T15:05:30+08:00", "container"),
        "chat_merchant.txt": ("chat", "2025-05-03T15:20:01+08:00", "chat"),
        "invoice.pdf": ("document", None, None),
        "Screenshot_20250504-101500.png": ("screenshot", "2025-05-04T10:15:00+08:00", "filename"),
    }
    assert shown["amount"] == "199.00" and shown["order_id"] == "250501123456789"
    photo = next(e for e in shown["exhibits"] if e["kind"] == "photo")
    assert photo["metadata"]["exif"]["Make"] == "Xiaomi"
    chat = _json(cli, home, "show", "earbuds", "4", "--json")
    assert len(chat["messages"]) == 13
    assert chat["messages"][2] == {"at": "2025-05-03T15:21:40+08:00", "sender": "优品数码旗舰店",
                                   "text": "亲，不支持退款哦", "me": False, "kind": "message", "system": False,
                                   "source": "export"}
    assert all(m["me"] == (m["sender"] == "我") for m in chat["messages"])
    # The Quick start ends by writing the pack and printing its path.
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("The evidence pack: "), proc.stdout[-500:]
    pack = Path(last.removeprefix("The evidence pack: "))
    said = proc.stdout.strip().splitlines()
    kit = Path(next(line for line in said if line.startswith("The upload kit: ")).removeprefix("The upload kit: "))
    assert any(line.startswith("Open it in a browser: ") and " serve --open" in line for line in said)
    assert (kit / "kit.json").is_file() and (kit / "description.txt").is_file() and kit.with_name(kit.name + ".zip").is_file()
    assert pack.is_file() and pack.parent == home / "disputes" / "earbuds" / "exports"
    text = subprocess.run(["pdftotext", pack, "-"], capture_output=True, text=True, check=True).stdout
    assert "证据目录" in text and "250501123456789" in text and "亲，不支持退款哦" in text
    # The chat held only as a screenshot is in the pack as machine-read text, after its picture.
    screen = _json(cli, home, "show", "earbuds", "6", "--json")
    assert [(m["me"], m["text"]) for m in screen["messages"]][:2] == [
        (True, "那我只能申请平台介入，并向12315投诉了。"), (True, "你好，耳机的问题今天还是没有解决方案吗？")]
    assert {m["source"] for m in screen["messages"]} == {"ocr"} and len(screen["messages"]) == 7
    assert screen["messages"][2]["sender"] == "优品数码旗舰店" and screen["messages"][2]["at"] == "2025-05-04T09:58:00+08:00"
    assert "机器识别文字（OCR）" in text and "我已向平台申请介入，售后单号SH250504001。" in text
    shown = _json(cli, home, "show", "earbuds", "--json")
    assert all(e["sha256"] in text for e in shown["exhibits"])
    log = _json(cli, home, "log", "earbuds", "--json")
    assert log[-1]["action"] == "export.created"
    assert log[-1]["payload"]["sha256"] == hashlib.sha256(pack.read_bytes()).hexdigest()
    ran = cli("--home", home, "--lang", "en", "verify", "earbuds")
    assert ran.code == 0 and "earbuds: OK" in ran.out, ran.out + ran.err
