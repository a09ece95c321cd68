"""Upgrades (issue 6, point 7): a dispute left by each earlier schema version opens,
migrates and verifies with today's locker, and then reads, searches, exports and
grows like one made today.

The fixtures are generated here (nothing binary in the repository). For every
earlier schema (the first 1, 2, … of ``MIGRATIONS``, all but the whole list) a
database is brought to that schema with only those migrations, then filled by
hand-rolled SQL the way the locker of that schema wrote it: the dispute; five
exhibits (a photo, a PDF, a chat export, a voice recording, a screenshot that was
later withdrawn); two timeline events; a status change; an export with its pack;
and the custody entry of each of those, chained with the documented hash. What a
schema could hold beyond ``m001_initial`` is written when the schema has it: a
chat's messages (``m002_chat_messages``), the search index (``m003_search``).

``test_fixture_is_what_locker_writes`` keeps the fixtures honest: the same files
taken through today's commands must record the same payload fields and values.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from locker import custody
from locker.migrations import MIGRATIONS, migrate
from locker.search import index as search_index
from tests import samples

SLUG = "older"
ACTOR = "older via locker"
STEPS = range(1, len(MIGRATIONS))  # every earlier schema: a new migration gets its fixture by itself

# What a dispute at each schema step holds beyond the step before, as make_old_dispute writes it.
# A new migration makes today's schema an earlier one: say here what a dispute at it holds.
WRITTEN = {
    "m001_initial": "dispute, exhibits, events, withdrawal, status change, export, custody entries",
    "m002_chat_messages": "the messages of a chat export, counted and hashed in its exhibit.added entry",
    "m003_search": "the search index, written with each change",
    "m004_custody_head": "custody-head.json beside the database, naming the newest custody entry",
    "m006_deadlines": "an empty deadline table (the fixture's locker had no deadlines yet)",
    "m007_ocr": "an empty ocr_indexed table (nothing was read by OCR yet)",
    "m008_ocr_messages": "no machine-read messages nor order facts (nothing was read by OCR yet)",
}


def _names(step: int) -> set[str]:
    return {name for name, _ in MIGRATIONS[:step]}


@dataclass(frozen=True)
class Item:
    """One exhibit of the fixture: how to make its file, and what the older locker recorded for it."""

    name: str
    make: Callable[[Path], Path]
    mime: str
    kind: str
    captured_at: str | None = None
    captured_at_source: str | None = None
    metadata: dict = field(default_factory=dict)
    title: str | None = None
    source: str | None = None
    purpose: str | None = None
    note: str | None = None
    withdrawn: str | None = None  # the reason, for the exhibit the older locker withdrew


# The chat as the parser reads samples.make_plain_chat with --me 我 in Asia/Shanghai:
# (position, at, sender, text, me, kind), the order of the documented message digest.
MESSAGES = [
    (0, "2025-05-05T09:12:30+08:00", "我", "你好，收到的商品是坏的", True, "message"),
    (1, "2025-05-05T09:13:30+08:00", "商家", "抱歉，请发一下照片", False, "message"),
    (2, "2025-05-05T09:14:30+08:00", "我", "已发，我要求退款", True, "message"),
    (3, "2025-05-05T09:15:30+08:00", "商家", "好的，已同意退款", False, "message"),
]
CHAT_METADATA = {
    "chat_format": "plain_lines", "encoding": "utf-8", "tz": "Asia/Shanghai", "participants": ["我", "商家"],
    "message_count": 4, "first_message_at": MESSAGES[0][1], "last_message_at": MESSAGES[-1][1], "me": "我",
}
PDF_WORD = "7788"  # in the PDF's text layer only

ITEMS = (
    Item("IMG_20250503_150102.jpg", lambda p: samples.make_jpeg_with_exif(p, seed=3), "image/jpeg", "photo",
         "2025-05-03T15:01:02+08:00", "exif", {"width": 640, "height": 480, "format": "JPEG"},
         title="左耳无声", source="手机拍摄", purpose="证明商品有质量问题", note="老版本的备注 old note"),
    Item("receipt.pdf", lambda p: samples.make_pdf(p, pages=1, title=f"Receipt {PDF_WORD}"), "application/pdf",
         "document", metadata={"pdf_version": "1.3", "encrypted": False, "page_count": 1}),
    Item("chat.txt", samples.make_plain_chat, "text/plain", "chat", MESSAGES[0][1], "chat", CHAT_METADATA),
    Item("call.wav", samples.make_wav, "audio/x-wav", "audio",
         metadata={"container": "wav", "duration": 1.0, "audio_codec": "pcm_s16le", "sample_rate": 8000,
                   "channels": 1}),
    Item("Screenshot_20250503-142210.png", lambda p: samples.make_png(p, 300, 600, seed=4), "image/png",
         "screenshot", "2025-05-03T14:22:10+08:00", "filename", {"width": 300, "height": 600, "format": "PNG"},
         withdrawn="拍错了，不是这个订单"),
)
NUMBER = {item.name: n for n, item in enumerate(ITEMS, 1)}
WITHDRAWN = [n for n, item in enumerate(ITEMS, 1) if item.withdrawn]
KEPT = [n for n in NUMBER.values() if n not in WITHDRAWN]

EVENTS = [  # (at, type, description, exhibits)
    ("2025-05-01T20:15:00+08:00", "purchase", "下单购买无线耳机", []),
    ("2025-05-05T09:20:00+08:00", "refusal", "商家拒绝退款，只同意换货", sorted([NUMBER["chat.txt"], NUMBER["IMG_20250503_150102.jpg"]])),
]
STATUS = ("open", "negotiating", "已联系商家，协商中")
ACTIONS = ["dispute.created", *["exhibit.added"] * len(ITEMS), *["event.added"] * len(EVENTS),
           *["exhibit.withdrawn"] * len(WITHDRAWN), "dispute.status", "export.created"]


@dataclass(frozen=True)
class OldDispute:
    step: int
    folder: Path
    files: dict[int, Path]  # exhibit number → the file it was added from
    sha256: dict[int, str]

    @property
    def db(self) -> Path:
        return self.folder / "dispute.sqlite"

    def has(self, migration: str) -> bool:
        return migration in _names(self.step)

    def sql(self, query: str, *args: object) -> list[tuple]:
        con = sqlite3.connect(self.db)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def message_digest(rows: list[tuple]) -> str:
    """The documented digest, written out again: one canonical JSON array per message, newline-terminated."""
    h = hashlib.sha256()
    for row in rows:
        h.update((json.dumps(list(row), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
    return h.hexdigest()


class _Writer:
    """What the older locker did for each change: its rows, its custody entry, and (once the
    schema had search) its index rows, in one transaction."""

    def __init__(self, con: sqlite3.Connection, names: set[str]) -> None:
        self.con, self.indexed, self.minute = con, "m003_search" in names, 0

    def now(self) -> str:
        self.minute += 1
        return f"2025-05-06T08:{self.minute:02d}:00+00:00"

    def insert(self, table: str, row: dict) -> int:
        cur = self.con.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                               tuple(row.values()))
        return cur.lastrowid

    def record(self, at: str, action: str, payload: dict) -> None:
        last = self.con.execute("SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, custody.GENESIS)
        digest = custody.entry_hash(custody.entry_document(seq, at, ACTOR, action, payload, prev))
        self.insert("custody", {"seq": seq, "v": 1, "at": at, "actor": ACTOR, "action": action,
                                "payload": custody.canonical(payload).decode("utf-8"), "prev_hash": prev,
                                "hash": digest})
        self.con.execute("UPDATE dispute SET updated_at = ?", (at,))


def make_old_dispute(home: Path, step: int, src: Path) -> OldDispute:
    """A dispute folder as a locker with the first ``step`` migrations left it."""
    names = _names(step)
    unknown = names - set(WRITTEN)
    assert not unknown, f"say in WRITTEN what a dispute at schema {sorted(unknown)} holds, and write it below"
    messages = "m002_chat_messages" in names
    folder = home / "disputes" / SLUG
    for sub in (home, home / "disputes", folder, folder / "objects", folder / "exports"):
        sub.mkdir(mode=0o700, exist_ok=True)
    db = folder / "dispute.sqlite"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    w = _Writer(con, names)
    migrate(con, w.now(), MIGRATIONS[:step])
    db.chmod(0o600)
    con.execute("BEGIN IMMEDIATE")

    at = w.now()
    dispute = {"id": str(uuid.UUID(int=step)), "slug": SLUG, "title": f"Schema {step} 无线耳机退款",
               "platform": "taobao", "merchant": "优品数码旗舰店", "merchant_address": None,
               "order_id": "250501123456789", "item": "无线耳机", "amount": "199.00", "currency": "CNY",
               "purchased_on": "2025-05-01", "claim": "退货退款 ¥199.00", "summary": None, "status": "open",
               "created_at": at}
    w.insert("dispute", {**dispute, "updated_at": at})
    w.record(at, "dispute.created", dispute)
    if w.indexed:
        search_index.index_dispute(con, dispute)

    at = w.now()  # one `locker add` of every file
    files, shas = {}, {}
    for number, item in enumerate(ITEMS, 1):
        path = item.make(src / item.name)
        data = path.read_bytes()
        files[number], shas[number] = path, _sha(data)
        obj = folder / "objects" / shas[number][:2] / shas[number][2:]
        obj.parent.mkdir(mode=0o700, exist_ok=True)
        obj.write_bytes(data)
        obj.chmod(0o444)
        chat = item.kind == "chat" and messages
        captured = (item.captured_at, item.captured_at_source) if item.kind != "chat" or chat else (None, None)
        metadata = item.metadata if item.kind != "chat" or chat else {"chat_format": "plain_lines"}
        payload = {"exhibit": number, "sha256": shas[number], "size": len(data), "mime": item.mime,
                   "kind": item.kind, "original_name": item.name, "title": item.title, "source": item.source,
                   "purpose": item.purpose, "note": item.note, "captured_at": captured[0],
                   "captured_at_source": captured[1], "ingested_at": at}
        row = {**{k: v for k, v in payload.items() if k != "exhibit"}, "number": number,
               "metadata": json.dumps(metadata, ensure_ascii=False, sort_keys=True), "warnings": "[]",
               "withdrawn": False, "withdrawn_reason": None}
        w.insert("exhibit", row)
        if chat:
            con.executemany("INSERT INTO chat_message (exhibit, position, at, sender, text, me, kind) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)", [(number, *m) for m in MESSAGES])
            payload["messages"] = {"count": len(MESSAGES), "sha256": message_digest(MESSAGES)}
        if w.indexed:
            pages = {number: search_index.pdf_pages(path)} if item.mime == search_index.PDF_MIME else {}
            search_index.index_exhibits(con, [row], pages)
        w.record(at, "exhibit.added", payload)

    for when, type_, description, linked in EVENTS:
        at = w.now()
        event = {"at": when, "type": type_, "description": description, "exhibits": json.dumps(linked),
                 "created_at": at}
        event_id = w.insert("event", event)
        w.record(at, "event.added", {"event": event_id, "at": when, "type": type_, "description": description,
                                     "exhibits": linked})
        if w.indexed:
            search_index.index_event(con, {"id": event_id, **event})

    for number in WITHDRAWN:
        at, reason = w.now(), ITEMS[number - 1].withdrawn
        con.execute("UPDATE exhibit SET withdrawn = 1, withdrawn_reason = ? WHERE number = ?", (reason, number))
        w.record(at, "exhibit.withdrawn", {"exhibit": number, "reason": reason})
        if w.indexed:
            search_index.index_withdrawal(con, number, reason, at)

    at, (before, after, note) = w.now(), STATUS
    con.execute("UPDATE dispute SET status = ?", (after,))
    w.record(at, "dispute.status", {"from": before, "to": after, "note": note})
    if w.indexed:
        search_index.index_status_note(con, note, at)

    at = w.now()
    pack = samples.make_pdf(folder / "exports" / f"{SLUG}-zh-20250506-161000.pdf", pages=2, title="证据材料")
    pack.chmod(0o600)
    data = pack.read_bytes()
    fingerprint = _sha("".join(f"{n} {shas[n]}\n" for n in KEPT).encode())
    export_id = w.insert("export", {"at": at, "path": str(pack), "sha256": _sha(data), "pages": 2, "lang": "zh",
                                    "exhibits": json.dumps(KEPT)})
    w.record(at, "export.created", {"export": export_id, "path": str(pack), "sha256": _sha(data),
                                    "size": len(data), "pages": 2, "lang": "zh", "exhibits": KEPT,
                                    "fingerprint": fingerprint, "attachments": 0})
    con.execute("COMMIT")
    if "m004_custody_head" in names:
        seq, digest, at = con.execute("SELECT seq, hash, at FROM custody ORDER BY seq DESC LIMIT 1").fetchone()
        head = {"v": custody.FORMAT_VERSION, "seq": seq, "hash": digest, "at": at}
        (folder / custody.HEAD_NAME).write_bytes(custody.canonical(head) + b"\n")
        (folder / custody.HEAD_NAME).chmod(0o600)
    con.close()
    return OldDispute(step, folder, files, shas)


@pytest.fixture(params=STEPS, ids=lambda step: "+".join(name[:4] for name, _ in MIGRATIONS[:step]))
def old(request: pytest.FixtureRequest, home: Path, tmp_path: Path) -> OldDispute:
    return make_old_dispute(home, request.param, tmp_path / "evidence")


def verify_problems(cli) -> list[dict]:  # noqa: ANN001
    """The problems `locker verify --json` reports for the fixture. A dispute made before the
    custody head was written outside the database may be warned about that, and that only."""
    ran = cli("verify", SLUG, "--json")
    (checked,) = ran.json["disputes"]
    problems = [p for p in checked["problems"] if p["problem"] != "custody_head_missing"]
    assert (ran.code == 0) == (not problems) == checked["ok"], ran.out + ran.err
    return problems


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --------------------------------------------------------------------------- the fixtures themselves


def test_every_earlier_schema_has_a_fixture() -> None:
    earlier = {name for name, _ in MIGRATIONS[:-1]}
    assert earlier <= set(WRITTEN), f"teach make_old_dispute what a dispute at {sorted(earlier - set(WRITTEN))} holds"
    assert len(STEPS) == len(MIGRATIONS) - 1 >= 1


# Payload fields that differ between two disputes given the same files and changes: when,
# which file the pack went to, and the free text the fixture gives its photo.
DIFFERENT = {"exhibit.added": {"ingested_at", "title", "source", "purpose", "note"},
             "export.created": {"path", "sha256", "size", "pages"}}


def test_fixture_is_what_locker_writes(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    """The same files and changes through today's commands record the same fields and values
    (custody format 1 has not changed), so the fixtures write what a locker wrote."""
    old = make_old_dispute(home, STEPS[-1], tmp_path / "evidence")
    assert cli("new", "Today", "--slug", "today", "--json").code == 0
    added = cli("add", "today", *old.files.values(), "--me", "我", "--tz", "Asia/Shanghai", "--json")
    assert added.code == 0 and [a["exhibit"] for a in added.json["added"]] == list(old.files), added.err
    for when, type_, description, linked in EVENTS:
        links = [f"--exhibit={n}" for n in linked]
        assert cli("event", "today", description, "--at", when, "--type", type_, *links).code == 0
    for number in WITHDRAWN:
        assert cli("withdraw", "today", number, "--reason", ITEMS[number - 1].withdrawn).code == 0
    assert cli("status", "today", STATUS[1], "--note", STATUS[2]).code == 0
    assert cli("export", "today", "-o", tmp_path / "today.pdf", "--json").code == 0

    def entries(slug: str) -> list[tuple[str, dict]]:
        return [(e["action"], e["payload"]) for e in cli("log", slug, "--json").json]

    today, older = entries("today"), entries(SLUG)
    assert [a for a, _ in older] == [a for a, _ in today] == ACTIONS
    for (action, was), (_, now) in zip(older, today):
        assert sorted(was) == sorted(now), action
        differ = set(was) if action == "dispute.created" else DIFFERENT.get(action, set())
        assert {k: v for k, v in was.items() if k not in differ} == \
            {k: v for k, v in now.items() if k not in differ}, action
    shown = {e["exhibit"]: e["metadata"] for e in cli("show", "today", "--json").json["exhibits"]}
    for number, item in enumerate(ITEMS, 1):
        assert item.metadata.items() <= shown[number].items(), item.name


# --------------------------------------------------------------------------- upgrading them


def test_older_dispute_migrates_once_and_verifies(cli, old: OldDispute) -> None:  # noqa: ANN001
    before = old.sql("SELECT name, applied_at FROM schema_migrations ORDER BY rowid")
    assert [name for name, _ in before] == [name for name, _ in MIGRATIONS[:old.step]]

    assert verify_problems(cli) == []
    after = old.sql("SELECT name, applied_at FROM schema_migrations ORDER BY rowid")
    assert after[:old.step] == before and [name for name, _ in after] == [name for name, _ in MIGRATIONS]
    assert old.sql("PRAGMA user_version") == [(len(MIGRATIONS),)]
    assert mode(old.db) == 0o600
    for extra in ("-wal", "-shm"):
        sidecar = old.db.with_name(old.db.name + extra)
        assert not sidecar.exists() or mode(sidecar) == 0o600, extra

    def state() -> list[list[tuple]]:
        tables = [name for (name,) in old.sql("SELECT name FROM sqlite_master WHERE type = 'table' "
                                              "AND name NOT LIKE 'search_fts%' ORDER BY name")]
        return [old.sql(f"SELECT * FROM {table} ORDER BY rowid") for table in tables] + [old.sql("PRAGMA user_version")]

    migrated = state()
    con = sqlite3.connect(old.db, isolation_level=None)
    assert migrate(con, "2026-01-01T00:00:00+00:00") == []
    con.close()
    assert verify_problems(cli) == []
    assert state() == migrated  # migrating (and verifying) again changes nothing


def test_older_dispute_reads_as_it_was_left(cli, old: OldDispute) -> None:  # noqa: ANN001
    shown = cli("show", SLUG, "--json")
    assert shown.code == 0, shown.err
    doc = shown.json
    assert doc["status"] == STATUS[1]
    assert [(e["exhibit"], e["original_name"], e["kind"], e["sha256"], e["withdrawn"]) for e in doc["exhibits"]] == \
        [(n, item.name, item.kind, old.sha256[n], n in WITHDRAWN) for n, item in enumerate(ITEMS, 1)]
    assert [(ev["at"], ev["type"], ev["description"], ev["exhibits"]) for ev in doc["events"]] == \
        [tuple(event) for event in EVENTS]
    text = cli("show", SLUG).out
    assert all((item.title or item.name) in text for item in ITEMS)
    assert text.count("[withdrawn]") == len(WITHDRAWN)
    assert "商家拒绝退款" in text

    chat = cli("show", SLUG, NUMBER["chat.txt"], "--json").json
    expected = [m[3] for m in MESSAGES] if old.has("m002_chat_messages") else []
    assert [m["text"] for m in chat["messages"]] == expected

    log = cli("log", SLUG, "--json").json
    assert [e["action"] for e in log] == ACTIONS
    assert [e["seq"] for e in log] == list(range(1, len(ACTIONS) + 1))
    assert log[0]["prev_hash"] == custody.GENESIS
    assert all(e["prev_hash"] == before["hash"] for before, e in zip(log, log[1:]))
    assert "export.created" in cli("log", SLUG).out


def test_older_chat_is_reread_and_verifies(cli, old: OldDispute) -> None:  # noqa: ANN001
    # The digest of a chat's messages is unchanged (system lines need no column: they are kind
    # "service" with no sender), so what an older locker stored verifies, and reads again.
    number = NUMBER["chat.txt"]
    assert verify_problems(cli) == []
    ran = cli("reread", SLUG, number, "--me", "我", "--tz", "Asia/Shanghai", "--json")
    assert ran.code == 0, ran.err
    assert ran.json["message_count"] == len(MESSAGES) and ran.json["chat_format"] == "plain_lines"
    assert ran.json["previous_count"] == (len(MESSAGES) if old.has("m002_chat_messages") else 0)
    assert verify_problems(cli) == []
    shown = cli("show", SLUG, number, "--json").json
    assert [(m["at"], m["sender"], m["text"], m["me"]) for m in shown["messages"]] == \
        [(at, sender, text, me) for _, at, sender, text, me, _ in MESSAGES]
    assert cli("log", SLUG, "--json").json[-1]["action"] == "exhibit.reread"


SEARCHES = [  # (words, a field they are found in): what every schema held
    ("退款", "event"),
    ("拍错了", "withdrawn_reason"),
    ("协商中", "status_note"),
    ("old note", "note"),
    ("旗舰店", "merchant"),
]


def test_older_dispute_is_found_by_search(cli, old: OldDispute) -> None:  # noqa: ANN001
    def fields(words: str) -> set[str]:
        ran = cli("search", words, "--json")
        assert ran.code == 0, ran.err
        assert {hit["dispute"] for hit in ran.json["hits"]} <= {SLUG}
        return {hit["field"] for hit in ran.json["hits"]}

    for words, wanted in SEARCHES:
        assert wanted in fields(words), words
    assert ("message" in fields("退款")) == old.has("m002_chat_messages")
    # A PDF's text is read when it is added, or by `locker reindex` for one added before search.
    if not old.has("m003_search"):
        assert "pdf_text" not in fields(PDF_WORD)
        assert cli("reindex", "--json").code == 0
    assert "pdf_text" in fields(PDF_WORD)
    assert old.sql("PRAGMA user_version") == [(len(MIGRATIONS),)]  # search migrated it, keeping it private
    assert mode(old.db) == 0o600


def test_older_dispute_exports(cli, old: OldDispute) -> None:  # noqa: ANN001
    (earlier,) = old.sql("SELECT path, sha256 FROM export")
    ran = cli("export", SLUG, "--json")  # into the exports/ folder the older locker left
    assert ran.code == 0, ran.err
    assert ran.json["exhibits"] == KEPT
    assert Path(ran.json["path"]).parent == old.folder / "exports"
    text = subprocess.run(["pdftotext", ran.json["path"], "-"], capture_output=True, text=True, check=True).stdout
    for n in KEPT:
        assert old.sha256[n] in text, n
    for n in WITHDRAWN:
        assert old.sha256[n] not in text and ITEMS[n - 1].withdrawn in text, n
    assert ("我要求退款" in text) == old.has("m002_chat_messages")  # a chat added before messages shows none
    assert _sha(Path(earlier[0]).read_bytes()) == earlier[1]  # the older pack is kept as it was

    log = cli("log", SLUG, "--json").json
    assert [e["action"] for e in log] == [*ACTIONS, "export.created"]
    assert log[-1]["payload"]["sha256"] == ran.json["sha256"] and log[-1]["payload"]["export"] == 2
    assert verify_problems(cli) == []


def test_older_dispute_takes_new_evidence(cli, old: OldDispute, tmp_path: Path) -> None:  # noqa: ANN001
    (head,) = old.sql("SELECT hash FROM custody ORDER BY seq DESC LIMIT 1")
    new = samples.make_png(tmp_path / "new" / "Screenshot_20250507-090000.png", 200, 300, seed=99)
    added = cli("add", SLUG, new, "--json")
    assert added.code == 0, added.err
    assert [a["exhibit"] for a in added.json["added"]] == [len(ITEMS) + 1]
    assert cli("event", SLUG, "再次联系商家", "--at", "2025-05-07 09:30", "--exhibit", len(ITEMS) + 1).code == 0

    log = cli("log", SLUG, "--json").json
    assert [e["action"] for e in log] == [*ACTIONS, "exhibit.added", "event.added"]
    assert log[len(ACTIONS)]["prev_hash"] == head[0]
    assert all(e["prev_hash"] == before["hash"] for before, e in zip(log, log[1:]))
    assert log[-1]["payload"]["event"] == len(EVENTS) + 1
    ran = cli("verify", SLUG, "--json")  # changed since the upgrade: its custody head is kept too
    assert ran.code == 0 and ran.json["disputes"][0]["problems"] == [], ran.out
    assert mode(old.db) == 0o600


def _flip_object(old: OldDispute, number: int) -> None:
    obj = old.folder / "objects" / old.sha256[number][:2] / old.sha256[number][2:]
    obj.chmod(0o600)
    data = bytearray(obj.read_bytes())
    data[len(data) // 2] ^= 0x01
    obj.write_bytes(bytes(data))


def _sql(statement: str) -> Callable[[OldDispute], None]:
    def run(old: OldDispute) -> None:
        con = sqlite3.connect(old.db)
        with con:
            assert con.execute(statement).rowcount == 1
        con.close()
    return run


TAMPERING = [  # (what, how, the problem verify reports, on which exhibit, the migration it needs)
    ("object byte", lambda old: _flip_object(old, NUMBER["receipt.pdf"]), "hash_mismatch", NUMBER["receipt.pdf"],
     "m001_initial"),
    ("chat message", _sql("UPDATE chat_message SET text = '商家同意退款' WHERE position = 3"), "messages_altered",
     NUMBER["chat.txt"], "m002_chat_messages"),
    ("withdrawal undone", _sql(f"UPDATE exhibit SET withdrawn = 0 WHERE number = {WITHDRAWN[0]}"), "row_altered",
     WITHDRAWN[0], "m001_initial"),
]


@pytest.mark.parametrize(("step", "how", "problem", "exhibit"), [
    pytest.param(step, how, problem, exhibit, id=f"{step}-{what}")
    for step in STEPS for what, how, problem, exhibit, needs in TAMPERING if needs in _names(step)
])
def test_tampering_a_migrated_dispute_is_caught(cli, home: Path, tmp_path: Path, step: int,  # noqa: ANN001
                                               how: Callable[[OldDispute], None], problem: str, exhibit: int) -> None:
    old = make_old_dispute(home, step, tmp_path / "evidence")
    assert verify_problems(cli) == []  # migrated, and intact
    how(old)
    assert {(p["problem"], p["exhibit"]) for p in verify_problems(cli)} == {(problem, exhibit)}
