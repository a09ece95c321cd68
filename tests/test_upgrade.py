"""Upgrades (issue 6, point 7): a dispute left by each earlier schema version opens,
migrates and verifies with today's locker.

The fixtures are generated here (nothing binary in the repository): a database is
brought to an older schema with only the first migrations, then filled by hand-rolled
SQL the way the older locker wrote it, custody entries chained with ``locker.custody``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
from pathlib import Path

import pytest

from locker import custody
from locker.migrations import MIGRATIONS, migrate
from tests import samples

AT = "2025-05-06T08:00:00Z"
ACTOR = "older via locker"

CHAT = [  # (position, at, sender, text, me, kind)
    (0, "2025-05-05T01:12:30Z", "商家", "抱歉，请发一下照片", False, "message"),
    (1, "2025-05-05T01:13:30Z", "我", "已发，我要求退款", True, "message"),
]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _chat_digest(rows: list[tuple]) -> str:
    h = hashlib.sha256()
    for position, at, sender, text, me, kind in rows:
        h.update((json.dumps([position, at, sender, text, me, kind], ensure_ascii=False,
                             separators=(",", ":")) + "\n").encode("utf-8"))
    return h.hexdigest()


def make_old_dispute(home: Path, slug: str, steps: int, files: list[Path]) -> Path:
    """A dispute folder as a locker with the first ``steps`` migrations left it."""
    folder = home / "disputes" / slug
    (folder / "objects").mkdir(parents=True, mode=0o700)
    os.chmod(home, 0o700)
    con = sqlite3.connect(folder / "dispute.sqlite", isolation_level=None)
    migrate(con, AT, MIGRATIONS[:steps])
    chain: list[tuple[str, dict]] = []
    dispute = {"id": str(uuid.UUID(int=steps)), "slug": slug, "title": f"Schema {steps} dispute",
               "platform": "taobao", "merchant": "优品数码旗舰店", "merchant_address": None,
               "order_id": "250501123456789", "item": "无线耳机", "amount": "199.00", "currency": "CNY",
               "purchased_on": "2025-05-01", "claim": None, "summary": None, "status": "open",
               "created_at": AT}
    con.execute(f"INSERT INTO dispute ({', '.join(dispute)}, updated_at) VALUES "
                f"({', '.join('?' * len(dispute))}, ?)", (*dispute.values(), AT))
    chain.append(("dispute.created", dispute))
    for number, path in enumerate(files, 1):
        data = path.read_bytes()
        sha = _sha(data)
        obj = folder / "objects" / sha[:2] / sha[2:]
        obj.parent.mkdir(exist_ok=True)
        obj.write_bytes(data)
        obj.chmod(0o444)
        chat = path.suffix == ".txt" and steps >= 2
        mime = {".jpg": "image/jpeg", ".pdf": "application/pdf", ".txt": "text/plain"}[path.suffix]
        kind = {".jpg": "photo", ".pdf": "document", ".txt": "chat" if chat else "other"}[path.suffix]
        row = {"number": number, "sha256": sha, "size": len(data), "mime": mime, "kind": kind,
               "original_name": path.name, "title": None, "source": None, "purpose": None,
               "note": "老版本的备注 old note", "captured_at": None, "captured_at_source": None,
               "ingested_at": AT}
        con.execute(f"INSERT INTO exhibit ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()))
        payload = {**row, "exhibit": number}
        del payload["number"]
        if chat:
            con.executemany("INSERT INTO chat_message (exhibit, position, at, sender, text, me, kind) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)", [(number, *m) for m in CHAT])
            payload["messages"] = {"count": len(CHAT), "sha256": _chat_digest(CHAT)}
        chain.append(("exhibit.added", payload))
    prev = custody.GENESIS
    for seq, (action, payload) in enumerate(chain, 1):
        doc = custody.entry_document(seq, AT, ACTOR, action, payload, prev)
        digest = custody.entry_hash(doc)
        con.execute("INSERT INTO custody (seq, v, at, actor, action, payload, prev_hash, hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, 1, AT, ACTOR, action, custody.canonical(payload).decode("utf-8"), prev, digest))
        prev = digest
    con.close()
    return folder


@pytest.mark.parametrize("steps", range(1, len(MIGRATIONS)))
def test_older_dispute_opens_migrates_and_verifies(steps: int, cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    src = tmp_path / "old"
    files = [samples.make_jpeg_with_exif(src / "IMG_20250503_150102.jpg", seed=steps),
             samples.make_pdf(src / "receipt.pdf", pages=1, title=f"Receipt {steps}"),
             samples.make_plain_chat(src / "chat.txt")]
    folder = make_old_dispute(home, "older", steps, files)

    ran = cli("verify")
    assert ran.code == 0, ran.out + ran.err

    con = sqlite3.connect(folder / "dispute.sqlite")
    names = [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY rowid")]
    assert names == [name for name, _ in MIGRATIONS]
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    con.close()

    shown = cli("show", "older")
    assert shown.code == 0, shown.err
    assert "receipt.pdf" in shown.out and "chat.txt" in shown.out
    found = cli("search", "旗舰店", "--json")
    assert found.code == 0, found.err
    assert "older" in found.out
    found = cli("search", "old note", "--json")
    assert found.code == 0 and "older" in found.out, found.out + found.err
    if steps >= 2:
        found = cli("search", "要求退款", "--json")
        assert found.code == 0 and "older" in found.out, found.out + found.err

    new = samples.make_png(tmp_path / "new" / "Screenshot_20250507-090000.png", 200, 300, seed=99)
    added = cli("add", "older", new, "--json")
    assert added.code == 0, added.err
    assert [a["exhibit"] for a in added.json["added"]] == [len(files) + 1]
    logged = cli("log", "older", "--json")
    assert logged.code == 0, logged.err
    assert cli("verify").code == 0
    con = sqlite3.connect(folder / "dispute.sqlite")
    rows = con.execute("SELECT seq, prev_hash, hash, action FROM custody ORDER BY seq").fetchall()
    con.close()
    assert [r[0] for r in rows] == list(range(1, len(files) + 3))
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, len(rows)))
    assert rows[-1][3] == "exhibit.added"
