"""`locker search` and `locker reindex`: Chinese that works, order numbers, filters, every kind of
text, a catalog that never goes stale (other processes, copied folders, kills), hostile queries."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locker.paths import Home
from locker.search import catalog, catalog_sync
from locker.search.text import fold, parse
from locker.services import search as searching
from tests import samples
from tests.conftest import REPO


def texts(cli, query: str, *args: object) -> list[str]:  # noqa: ANN001
    """The snippets of every hit (short texts come back whole)."""
    return [h["snippet"] for h in hits(cli, query, *args)]


def hits(cli, query: str, *args: object) -> list[dict]:  # noqa: ANN001
    ran = cli("search", query, "--limit", 100_000, *args, "--json")
    assert ran.code == 0, ran.err
    return ran.json["hits"]


def events(cli, slug: str, lines: list[str], at: str = "2025-05-03 15:21") -> None:  # noqa: ANN001
    for line in lines:
        ran = cli("event", slug, line, "--at", at)
        assert ran.code == 0, ran.err


EVENTS = [
    "商家同意退款",
    "同意，退款可以走平台",  # 同意 and 退款 across a comma
    "退一步说，款项已付",  # 退 … 款 far apart
    "我要求赔偿损失",
    "七天无理由退货",
    "七天，无理由",  # the phrase broken by punctuation
    "退\n款",  # broken by a line break
    "发票已开",
    "快递：顺丰 SF1234567890",
]


def test_two_char_one_char_and_long_chinese_find_exactly_their_rows(cli, dispute) -> None:  # noqa: ANN001
    events(cli, dispute, EVENTS)
    for query in ("退款", "赔", "七天无理由", "同意退款", "无理由", "款", "发票已开", "款项已付", "顺丰"):
        expected = sorted(t.replace("\n", " ") for t in EVENTS if query in t)
        found = sorted(h["snippet"] for h in hits(cli, query) if h["field"] == "event")
        assert found == expected, query
    assert texts(cli, "意退") == ["商家同意退款"]  # and not 同意，退款, adjacent only across the comma
    assert [h["field"] for h in hits(cli, "退款")].count("title") == 1  # the dispute's title has it too


def test_mixed_chinese_english_and_width_and_case(cli, dispute) -> None:  # noqa: ANN001
    events(cli, dispute, ["收到的iPhone15退款申请被拒", "Refund for the AirPods 耳机", "ｉＰｈｏｎｅ１５ 全角", "café 咖啡"])
    assert texts(cli, "iphone15退款") == ["收到的iPhone15退款申请被拒"]
    assert sorted(texts(cli, "IPHONE15")) == sorted(["收到的iPhone15退款申请被拒", "ｉＰｈｏｎｅ１５ 全角"])
    assert texts(cli, "airpods 耳机") == ["Refund for the AirPods 耳机"]
    assert texts(cli, "refunds") == []  # a prefix of a word matches, not the reverse
    assert texts(cli, "refun") == ["Refund for the AirPods 耳机"]
    assert texts(cli, "cafe") == ["café 咖啡"] and texts(cli, "CAFÉ") == ["café 咖啡"]
    assert texts(cli, "the 耳机 refund") == ["Refund for the AirPods 耳机"]  # terms AND, in any order
    assert texts(cli, "pods") == []  # English words match from their start


def test_order_numbers_full_and_partial(cli, dispute) -> None:  # noqa: ANN001
    other = cli("new", "另一单", "--order-id", "250502987654321", "--slug", "other", "--json").json["slug"]
    events(cli, other, ["订单编号250501123456789的问题"])  # the first order's number, in the other dispute
    assert {(h["dispute"], h["field"]) for h in hits(cli, "250501123456789")} == {(dispute, "order_id"),
                                                                                  (other, "event")}
    assert {(h["dispute"], h["field"]) for h in hits(cli, "01123456")} == {(dispute, "order_id"), (other, "event")}
    assert {h["dispute"] for h in hits(cli, "98765432")} == {other}
    assert {h["dispute"] for h in hits(cli, "2505")} == {dispute, other}
    assert hits(cli, "250501123456780") == []
    events(cli, other, ["顺丰单号 SF1234567890 已签收"])  # digits inside a token with letters
    assert [h["field"] for h in hits(cli, "34567890")] == ["event"]
    assert [h["field"] for h in hits(cli, "sf12345")] == ["event"] and hits(cli, "f12345") == []
    assert hits(cli, "123") == []  # a short number is a whole token, not a part of one
    assert {h["dispute"] for h in hits(cli, "0501", "--dispute", other)} == {other}


def test_filters_combine_with_the_query(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    taobao = cli("new", "淘宝退款", "--platform", "taobao", "--slug", "taobao", "--json").json["slug"]
    events(cli, taobao, ["商家拒绝退款"], at="2025-06-10 10:00")
    events(cli, dispute, ["商家拒绝退款"], at="2025-05-03 15:21")
    chat = samples.make_plain_chat(tmp_path / "chat.txt")  # 2025-05-05, 已发，我要求退款 …
    assert cli("add", taobao, chat).code == 0
    assert cli("status", taobao, "negotiating").code == 0

    def where(*args: object) -> set[tuple[str, str]]:
        return {(h["dispute"], h["field"]) for h in hits(cli, "退款", *args)}

    assert where("--platform", "taobao") == {(taobao, "title"), (taobao, "event"), (taobao, "message")}
    assert where("--platform", "TaoBao", "--status", "open") == set()
    assert where("--status", "negotiating", "--kind", "chat") == {(taobao, "message")}
    # A hit is dated by what it is in: an event, a message, a capture; the dispute's own fields by
    # its purchase date, else the day it was opened (today, for taobao).
    assert where("--since", "2025-06-01", "--until", "2025-12-31") == {(taobao, "event")}
    assert where("--since", "2025-06-01") == {(taobao, "event"), (taobao, "title")}
    assert where("--until", "2025-05-04", "--platform", "xiaohongshu") == {(dispute, "event"), (dispute, "title")}
    assert where("--since", "2025-05-05", "--until", "2025-05-05") == {(taobao, "message")}
    assert where("--dispute", "earb") == {(dispute, "title"), (dispute, "event")}
    assert where("--dispute", "taob", "--kind", "chat") == {(taobao, "message")}
    ran = cli("search", "退款", "--limit", "2", "--json")
    assert len(ran.json["hits"]) == 2
    for bad in (("--status", "flying"), ("--kind", "poem"), ("--since", "2025-13-01"), ("--limit", "0"),
                ("--since", "2025-06-02", "--until", "2025-06-01"), ("--dispute", "nothing")):
        ran = cli("search", "退款", *bad)
        assert ran.code in (1, 2) and ran.err.startswith("locker: ") and "Traceback" not in ran.err, bad


def test_hits_in_chats_events_notes_pdf_text_and_fields(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    chat = samples.make_plain_chat(tmp_path / "chat.txt")
    pdf = samples.make_pdf(tmp_path / "invoice.pdf", pages=2, title="Invoice 2025-0042 for wireless earbuds")
    ran = cli("add", dispute, chat, pdf, "--note", "客服承诺七天无理由", "--source", "淘宝聊天记录",
              "--purpose", "证明商家承诺", "--title", "聊天截图")
    assert ran.code == 0, ran.err
    events(cli, dispute, ["快递员说包裹已签收"])
    assert cli("status", dispute, "appealed", "--note", "已向平台申诉").code == 0
    assert cli("withdraw", dispute, "2", "--reason", "发票信息有误").code == 0
    found = {(h["exhibit"], h["field"]) for h in hits(cli, "七天无理由")}
    assert found == {(1, "note"), (2, "note")}
    assert {(h["exhibit"], h["field"]) for h in hits(cli, "照片")} == {(1, "message")}
    assert {(h["exhibit"], h["field"]) for h in hits(cli, "签收")} == {(None, "event")}
    assert {(h["exhibit"], h["field"]) for h in hits(cli, "wireless earbuds")} == {(2, "pdf_text")}
    assert {(h["exhibit"], h["field"]) for h in hits(cli, "申诉")} == {(None, "status_note")}
    assert {(h["exhibit"], h["field"]) for h in hits(cli, "信息有误")} == {(2, "withdrawn_reason")}
    assert {h["field"] for h in hits(cli, "淘宝聊天记录")} == {"source"}
    assert {h["field"] for h in hits(cli, "商家承诺")} == {"purpose"}
    assert {h["field"] for h in hits(cli, "优品数码")} == {"merchant"}
    assert {(h["exhibit"], h["field"]) for h in hits(cli, "invoice.pdf")} == {(2, "original_name")}
    human = cli("search", "wireless")
    assert "[withdrawn]" in human.out and "document text" in human.out


def test_chinese_pdf_text_is_found(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    font = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    assert font.exists(), "scripts/setup.sh installs fonts-wqy-microhei, needed to draw Chinese"
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("wqy-test", str(font), subfontIndex=0))
    path = tmp_path / "发票.pdf"
    c = canvas.Canvas(str(path))
    c.setFont("wqy-test", 14)
    c.drawString(72, 770, "增值税电子普通发票 价税合计 ¥199.00")
    c.showPage()
    c.save()
    assert cli("add", dispute, path).code == 0
    assert [(h["exhibit"], h["field"]) for h in hits(cli, "价税合计")] == [(1, "pdf_text")]
    assert [(h["exhibit"], h["field"]) for h in hits(cli, "税")] == [(1, "pdf_text")]


def test_snippets_are_short_highlighted_and_printed_literally(cli, dispute) -> None:  # noqa: ANN001
    long = "前面的话" * 40 + "商家最终同意退款" + "后面的话" * 40
    events(cli, dispute, [long, "[bold red]假货[/] \x1b[31m退货\x1b[0m"])
    (snip,) = texts(cli, "最终同意")
    assert "最终同意" in snip and snip.startswith("…") and snip.endswith("…") and len(snip) < 110
    human = cli("search", "假货")
    assert "[bold red]假货[/]" in human.out and "\x1b" not in human.out and "\\x1b[31m" in human.out
    assert fold("ＡＢＣ") == "abc"


def test_per_dispute_index_and_catalog_agree(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    chat = samples.make_plain_chat(tmp_path / "chat.txt")
    assert cli("add", dispute, chat, "--note", "退款备注").code == 0
    events(cli, dispute, EVENTS)
    for query in ("退款", "款", "同意退款", "1234", "顺丰", "照片"):
        everywhere = hits(cli, query)
        one = hits(cli, query, "--dispute", dispute)
        assert everywhere == one, query


def test_fallback_without_a_catalog_gives_the_same_answers(cli, dispute, home, monkeypatch) -> None:  # noqa: ANN001
    events(cli, dispute, EVENTS)
    other = cli("new", "另一个退款", "--json").json["slug"]
    events(cli, other, ["退款到账了"])
    before = hits(cli, "退款")

    def broken(_home: Home) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(catalog, "open_catalog", broken)
    ran = cli("search", "退款", "--limit", 1000, "--json")
    assert ran.code == 0 and "searching each dispute" in ran.err
    assert sorted(map(json.dumps, ran.json["hits"])) == sorted(map(json.dumps, before))


# --- freshness ---------------------------------------------------------------------

def test_every_kind_of_change_is_seen_by_the_next_search(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    assert hits(cli, "耳机")  # the catalog now holds the dispute
    assert cli("add", dispute, samples.make_plain_chat(tmp_path / "c.txt", [("我", "你好"), ("商家", "耳机坏了先寄回"), ("我", "好的")])).code == 0
    assert {h["field"] for h in hits(cli, "寄回")} == {"message"}
    events(cli, dispute, ["第一次联系客服"])
    assert {h["field"] for h in hits(cli, "联系客服")} == {"event"}
    assert hits(cli, "耳机", "--status", "complained") == []
    assert cli("status", dispute, "complained", "--note", "打了12315").code == 0
    assert {h["field"] for h in hits(cli, "耳机", "--status", "complained")} >= {"title"}
    assert {h["field"] for h in hits(cli, "12315")} == {"status_note"}
    assert "[withdrawn]" not in cli("search", "寄回").out
    assert cli("withdraw", dispute, "1", "--reason", "重复提交").code == 0
    assert {h["field"] for h in hits(cli, "重复提交")} == {"withdrawn_reason"}
    assert "[withdrawn]" in cli("search", "寄回").out
    new = cli("new", "新的耳机纠纷", "--json").json["slug"]
    assert new in {h["dispute"] for h in hits(cli, "耳机纠纷")}
    shutil.rmtree(Path(os.environ["LOCKER_HOME"]) / "disputes" / new)
    assert hits(cli, "耳机纠纷") == []


def test_a_change_inside_the_same_clock_tick_is_not_missed(cli, dispute, monkeypatch) -> None:  # noqa: ANN001
    """A stamp taken within RACY_NS of its newest file time is not trusted: even if the files'
    stat did not change at all (a coarse clock), the next search looks inside the database."""
    assert hits(cli, "耳机")
    frozen = {}
    real = catalog_sync.stamp

    def same_stamp(db: Path):  # noqa: ANN202
        return frozen.setdefault(str(db), real(db))

    monkeypatch.setattr(catalog_sync, "stamp", same_stamp)
    assert hits(cli, "耳机")
    events(cli, dispute, ["同一个时钟周期里的事件"])
    assert {h["field"] for h in hits(cli, "时钟周期")} == {"event"}


def test_settled_disputes_are_not_opened(cli, dispute, home, monkeypatch) -> None:  # noqa: ANN001
    assert hits(cli, "耳机")
    later = time.time_ns() + 10 * catalog.RACY_NS
    monkeypatch.setattr(catalog_sync.time, "time_ns", lambda: later)
    assert hits(cli, "耳机")  # settles the stamp
    opened = []
    real = catalog_sync.connect
    monkeypatch.setattr(catalog_sync, "connect", lambda db: opened.append(db) or real(db))
    assert hits(cli, "耳机") and opened == []
    events(cli, dispute, ["改变以后"])
    assert hits(cli, "改变以后") and len(opened) == 1


WRITER = """
import sys
from pathlib import Path
from locker.cli import main
slug, name, count, progress = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
for k in range(count):
    rc = main(['event', slug, f'进度标记 {name}x{k}', '--at', '2025-05-03 10:00'])
    if rc:
        sys.exit(rc)
    with open(progress, 'a') as f:
        f.write(f'{k}\\n')
"""

SEARCHER = """
import json, sys, io, contextlib
from pathlib import Path
from locker.cli import main
folder, names = Path(sys.argv[1]), sys.argv[2:]
rounds = 0
while True:
    done = (folder / 'done').exists()
    promised = set()
    for name in names:
        p = folder / f'{name}.progress'
        if p.exists():
            promised |= {f'{name}x{line.strip()}' for line in p.read_text().splitlines() if line.strip()}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(['search', '进度标记', '--limit', '10000', '--json'])
    if rc:
        sys.exit(f'search failed: {rc}')
    seen = {h['snippet'].split()[-1] for h in json.loads(out.getvalue())['hits']}
    missing = promised - seen
    if missing:
        sys.exit(f'search missed events that were added before it started: {sorted(missing)[:5]}')
    rounds += 1
    if done:
        break
print(rounds)
"""


def test_two_processes_writing_while_a_third_searches(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    other = cli("new", "第二个纠纷", "--slug", "second", "--json").json["slug"]
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    count = 15
    searcher = subprocess.Popen([sys.executable, "-c", SEARCHER, str(tmp_path), "a", "b", "c"], env=env, cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, slug, name, str(count), str(tmp_path / f"{name}.progress")],
                                env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for slug, name in ((dispute, "a"), (dispute, "b"), (other, "c"))]
    for w in writers:
        out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
    (tmp_path / "done").touch()
    out, err = searcher.communicate(timeout=300)
    assert searcher.returncode == 0, err
    assert int(out.strip()) >= 2
    found = {h["snippet"].split()[-1] for h in hits(cli, "进度标记")}
    assert found == {f"{n}x{k}" for n in "abc" for k in range(count)}


def test_a_dispute_folder_copied_in_is_picked_up(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    assert hits(cli, "耳机")
    elsewhere = tmp_path / "elsewhere"
    ran = cli("--home", elsewhere, "new", "朋友的假货投诉", "--slug", "friend", "--json")
    assert ran.code == 0, ran.err
    assert cli("--home", elsewhere, "event", "friend", "鉴定为假货", "--at", "2025-05-01").code == 0
    shutil.copytree(elsewhere / "disputes" / "friend", home / "disputes" / "friend")
    assert {(h["dispute"], h["field"]) for h in hits(cli, "假货")} == {("friend", "title"), ("friend", "event")}
    # Another folder put in place of one the catalog knows: its rows replace the old ones.
    ran = cli("--home", elsewhere, "new", "换过的纠纷", "--slug", "earbuds", "--json")
    assert ran.code == 0, ran.err
    shutil.rmtree(home / "disputes" / "earbuds")
    shutil.copytree(elsewhere / "disputes" / "earbuds", home / "disputes" / "earbuds")
    assert hits(cli, "耳机") == []
    assert {h["dispute"] for h in hits(cli, "换过")} == {"earbuds"}


def test_an_older_backup_put_back_is_copied_afresh(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    backup = tmp_path / "backup"
    shutil.copytree(home / "disputes" / dispute, backup)
    events(cli, dispute, ["备份之后的事件"])
    assert hits(cli, "备份之后")
    shutil.rmtree(home / "disputes" / dispute)
    shutil.copytree(backup, home / "disputes" / dispute)
    events(cli, dispute, ["恢复之后的事件"])  # the same event number again, other text
    assert hits(cli, "备份之后") == [] and len(hits(cli, "恢复之后")) == 1


# --- crashes -------------------------------------------------------------------------

def _db_messages(home: Path, slug: str, word: str) -> int:
    con = sqlite3.connect(home / "disputes" / slug / "dispute.sqlite")
    try:
        return con.execute("SELECT COUNT(*) FROM chat_message WHERE instr(text, ?) > 0", (word,)).fetchone()[0]
    finally:
        con.close()


def test_a_search_interrupted_while_copying_leaves_the_catalog_right(cli, dispute, home, tmp_path,
                                                                      monkeypatch) -> None:  # noqa: ANN001
    assert hits(cli, "耳机")
    chat = samples.make_plain_chat(tmp_path / "big.txt", [("商家", f"第{i}条消息 标记") for i in range(3000)])
    assert cli("add", dispute, chat).code == 0
    real = catalog_sync._insert_rows
    calls = []

    def dies(con, no, rows, batch=2000):  # noqa: ANN001, ANN202
        calls.append(1)
        real(con, no, rows, batch=100)
        raise KeyboardInterrupt  # after rows went in, before the stamp is recorded

    monkeypatch.setattr(catalog_sync, "_insert_rows", dies)
    assert cli("search", "标记").code == 130 and calls
    monkeypatch.setattr(catalog_sync, "_insert_rows", real)
    assert len(hits(cli, "标记")) == 3000


KILLED_SEARCH = """
import sys
from locker.cli import main
sys.stdout.write('ready\\n'); sys.stdout.flush()
sys.stdin.readline()
main(['search', '标记', '--json'])
"""


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.2])
def test_killed_processes_never_leave_search_wrong(cli, dispute, home, tmp_path, delay) -> None:  # noqa: ANN001
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    chat = samples.make_plain_chat(tmp_path / "big.txt", [("商家", f"第{i}条 标记") for i in range(20000)])
    # A writer killed during its add: its rows and their index are one transaction.
    writer = subprocess.Popen([sys.executable, "-m", "locker", "add", dispute, str(chat)], env=env, cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.4 + 4 * delay)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert len(hits(cli, "标记")) == _db_messages(home, dispute, "标记")
    # A search killed while it copies a big dispute into a catalog it is building.
    if _db_messages(home, dispute, "标记") == 0:
        assert cli("add", dispute, chat).code == 0
    shutil.rmtree(home / "search", ignore_errors=True)
    searcher = subprocess.Popen([sys.executable, "-c", KILLED_SEARCH], env=env, cwd=REPO, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert searcher.stdout.readline().strip() == "ready"
    searcher.stdin.write("go\n")
    searcher.stdin.flush()
    time.sleep(delay)
    searcher.send_signal(signal.SIGKILL)
    searcher.wait()
    found = hits(cli, "标记")
    assert len(found) == 20000 == _db_messages(home, dispute, "标记")


# --- hostile queries ------------------------------------------------------------------

HOSTILE = ['"', "AND", "(", "*", "-", "NEAR", "", " ", "OR", "NOT", '"退款', "退款*", "NEAR(退款 耳机, 2)",
           "title:退款", "{t}: 退款", "^退款", "'; DROP TABLE doc; --", "退款 OR 耳机", "a" * 10_000,
           "退款" * 5_000, " ".join(["耳机"] * 3_000), "🙂", "\u200b", "ǅ" * 10, "１２３４５", "x" + "-" * 9_999]


@pytest.mark.parametrize("query", HOSTILE, ids=lambda q: repr(q[:12]))
def test_hostile_queries_never_crash(cli, dispute, query) -> None:  # noqa: ANN001
    ran = cli("search", "--json", "--", query)
    assert "Traceback" not in ran.err and "internal error" not in ran.err
    if ran.code == 0:
        assert json.loads(ran.out)["query"] == query
    else:
        assert ran.code == 2 and ran.err.startswith("locker: nothing to search for")
        assert json.loads(ran.out)["error"]["code"] == "usage"  # --json: the failure is one document too
    assert cli("search", "--", query).code == ran.code


def test_hostile_queries_are_text_not_syntax(cli, dispute) -> None:  # noqa: ANN001
    events(cli, dispute, ["他说 AND 和 NEAR 是什么", "价格(含税)是199"])
    assert texts(cli, "AND") == ["他说 AND 和 NEAR 是什么"]
    assert texts(cli, "near") == ["他说 AND 和 NEAR 是什么"]
    assert texts(cli, "(含税)") == ["价格(含税)是199"]
    assert texts(cli, "含税)是") == ["价格(含税)是199"]


def test_random_unicode_queries_never_raise(dispute, home) -> None:  # noqa: ANN001
    h = Home(home)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(max_size=60))
    def check(query: str) -> None:
        try:
            result = searching.search(h, query, limit=5)
        except searching.UsageError as err:
            assert err.message.startswith("nothing to search for")
        else:
            assert len(result.hits) <= 5

    check()


ALPHABET = "退款赔偿发票假货同意，。 a1"


def test_chinese_substrings_are_found_exactly(cli, dispute, home) -> None:  # noqa: ANN001
    """Against a plain substring check: every row holding the query, and no other."""
    import random

    rnd = random.Random(5)
    lines = sorted({"".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(3, 14))).strip() or "退" for _ in range(60)})
    events(cli, dispute, lines)
    h = Home(home)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(alphabet="退款赔偿发票假货同意", min_size=1, max_size=4))
    def check(query: str) -> None:
        found = searching.search(h, query, limit=1000)
        got = sorted(hit.snippet_text for hit in found.hits if hit.field == "event")
        assert got == sorted(" ".join(line.split()) for line in lines if query in line)

    check()


def test_query_parsing_is_safe_for_fts5() -> None:
    for query in HOSTILE + ["退款", "iPhone15退款", "0112345678", "ab"]:
        q = parse(query)
        con = sqlite3.connect(":memory:")
        con.execute("CREATE VIRTUAL TABLE f USING fts5(t, content='', detail=full)")
        if q.fts:
            con.execute("SELECT rowid FROM f WHERE f MATCH ?", (q.fts,)).fetchall()


# --- migration, reindex, the catalog file ---------------------------------------------

def test_a_database_from_before_search_is_migrated_and_indexed(cli, home, tmp_path) -> None:  # noqa: ANN001
    from locker.migrations import MIGRATIONS, migrate

    folder = home / "disputes" / "legacy"
    (folder / "objects").mkdir(parents=True)
    con = sqlite3.connect(folder / "dispute.sqlite", isolation_level=None)
    migrate(con, "2025-01-01T00:00:00+00:00", MIGRATIONS[:2])
    pdf = samples.make_pdf(tmp_path / "old.pdf", title="Legacy receipt 7788")
    import hashlib

    sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
    (folder / "objects" / sha[:2]).mkdir()
    shutil.copy(pdf, folder / "objects" / sha[:2] / sha[2:])
    con.execute("INSERT INTO dispute (id, slug, title, merchant, status, created_at, updated_at) VALUES "
                "('u1', 'legacy', '旧的退款纠纷', '老店', 'open', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00')")
    con.execute("INSERT INTO exhibit (number, sha256, size, mime, kind, original_name, ingested_at, note) VALUES "
                "(1, 'aa', 10, 'text/plain', 'chat', 'chat.txt', '2025-01-02T00:00:00+00:00', '旧备注')")
    con.execute(f"INSERT INTO exhibit (number, sha256, size, mime, kind, original_name, ingested_at) VALUES "
                f"(2, '{sha}', {pdf.stat().st_size}, 'application/pdf', 'document', 'old.pdf', '2025-01-02T00:00:00+00:00')")
    con.execute("INSERT INTO chat_message (exhibit, position, at, sender, text) VALUES "
                "(1, 0, '2025-01-01T10:00:00+08:00', '商家', '旧消息说可以退款')")
    con.execute("INSERT INTO event (at, type, description, created_at) VALUES "
                "('2025-01-03T00:00:00+00:00', 'note', '旧事件', '2025-01-03T00:00:00+00:00')")
    con.execute("INSERT INTO custody (seq, v, at, actor, action, payload, prev_hash, hash) VALUES "
                "(1, 1, '2025-01-01T00:00:00+00:00', 'x', 'dispute.status', '{\"note\": \"旧状态说明\"}', '0', 'h1')")
    con.close()
    assert {(h["exhibit"], h["field"]) for h in hits(cli, "旧")} == {
        (None, "title"), (1, "note"), (1, "message"), (None, "event"), (None, "status_note")}
    con = sqlite3.connect(folder / "dispute.sqlite")
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert con.execute("SELECT exhibit FROM search_todo").fetchall() == [(2,)]
    con.close()
    assert hits(cli, "7788") == []  # the PDF's text is read by reindex
    ran = cli("reindex", "--json")
    assert ran.code == 0, ran.err
    assert ran.json["pdfs_read"] == 1 and ran.json["disputes"] == 1
    assert {(h["exhibit"], h["field"]) for h in hits(cli, "7788")} == {(2, "pdf_text")}


def test_reindex_and_a_lost_or_damaged_catalog(cli, dispute, home) -> None:  # noqa: ANN001
    events(cli, dispute, EVENTS)
    before = hits(cli, "退款")
    ran = cli("reindex", "--json")
    assert ran.code == 0 and ran.json["disputes"] == 1 and ran.json["documents"] >= len(EVENTS)
    assert Path(ran.json["catalog"]) == catalog.current_path(Home(home))
    assert hits(cli, "退款") == before
    Path(ran.json["catalog"]).write_bytes(b"this is not a database" * 100)
    assert hits(cli, "退款") == before
    shutil.rmtree(home / "search")
    assert hits(cli, "退款") == before
    (home / "search" / "CURRENT").write_text("../../etc/passwd\n")
    assert hits(cli, "退款") == before
    human = cli("reindex")
    assert human.code == 0 and "1 dispute(s)" in human.out


def test_a_dispute_that_cannot_be_read_is_named_and_the_rest_searched(cli, dispute, home) -> None:  # noqa: ANN001
    cli("new", "坏掉的退款", "--slug", "broken")
    assert {h["dispute"] for h in hits(cli, "退款")} == {dispute, "broken"}
    (home / "disputes" / "broken" / "dispute.sqlite").write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        (home / "disputes" / "broken" / f"dispute.sqlite{suffix}").unlink(missing_ok=True)
    ran = cli("search", "退款", "--json")
    assert ran.code == 0 and {h["dispute"] for h in ran.json["hits"]} == {dispute}
    assert "broken: not searched" in ran.err
    ran = cli("reindex", "--json")
    assert ran.code == 1 and [p["dispute"] for p in ran.json["problems"]] == ["broken"]


def test_an_index_from_another_tokenizer_version_is_rebuilt_by_reindex(cli, dispute, home) -> None:  # noqa: ANN001
    from locker.search.text import TOKENIZER_VERSION

    events(cli, dispute, EVENTS)
    before = hits(cli, "退款", "--dispute", dispute)
    db = home / "disputes" / dispute / "dispute.sqlite"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("UPDATE search_meta SET value = 'old' WHERE key = 'tokenizer'")
    con.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")  # as if cut another way
    con.close()
    assert hits(cli, "退款", "--dispute", dispute) == before  # answered from the catalog meanwhile
    assert cli("reindex").code == 0
    con = sqlite3.connect(db)
    assert con.execute("SELECT value FROM search_meta WHERE key = 'tokenizer'").fetchone()[0] == TOKENIZER_VERSION
    con.close()
    assert hits(cli, "退款", "--dispute", dispute) == before
