"""Deadlines and the next step (issue 11, point 5), through the real command line.

``locker due`` records, marks done, removes and lists deadlines (custody-logged; ``verify`` finds
an edited, deleted or planted deadline row); ``--ics`` writes an iCalendar file that is parsed
back here; ``locker next`` reads the ladder and the time limits from locker/data/escalation.toml;
the pack's timeline shows the deadlines and marks the past ones.
"""

from __future__ import annotations

import sqlite3
import subprocess
import tomllib
from datetime import date
from pathlib import Path

import pytest

from locker import db
from locker.services import deadlines

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def shanghai(cli) -> None:  # noqa: ANN001
    assert cli("profile", "--tz", "Asia/Shanghai").code == 0


def _db(home: Path, slug: str) -> Path:
    return home / "disputes" / slug / "dispute.sqlite"


def _sql(home: Path, slug: str, statement: str, *args: object) -> None:
    db.dispose(_db(home, slug))
    con = sqlite3.connect(_db(home, slug))
    with con:
        con.execute(statement, args)
    con.close()


# --------------------------------------------------------------------------- locker due


def test_a_date_alone_is_due_at_the_end_of_that_day_in_the_profiles_zone(cli, dispute, shanghai) -> None:  # noqa: ANN001
    ran = cli("due", dispute, "平台介入申请截止", "--at", "2025-05-10")
    assert ran.code == 0, ran.err
    assert "2025-05-10 (end of day)" in ran.out
    assert "end of that day (23:59:59) in Asia/Shanghai" in ran.out
    assert "deadline 1 is already past" in ran.err  # a year typed wrong shows at once
    assert "already past" not in cli("due", dispute, "将来的期限", "--at", "2199-01-01").err
    ran = cli("due", dispute, "商家答复期限", "--at", "2025-05-08 18:00", "--tz", "+09:00", "--json")
    assert ran.code == 0, ran.err
    assert ran.json["action"] == "added" and ran.json["zone"] == "+09:00"
    assert ran.json["deadline"]["due"] == "2025-05-08T18:00:00+09:00" and not ran.json["deadline"]["date_only"]
    listed = cli("due", dispute, "--json").json["deadlines"]
    assert [(d["id"], d["due"], d["date_only"]) for d in listed] == [
        (3, "2025-05-08T18:00:00+09:00", False), (1, "2025-05-10T23:59:59+08:00", True),
        (2, "2199-01-01T23:59:59+08:00", True)]


def test_listing_across_disputes_soonest_first_overdue_marked_done_hidden(cli, dispute, shanghai) -> None:  # noqa: ANN001
    assert cli("new", "京东 充电器", "--slug", "charger").code == 0
    assert cli("due", dispute, "平台介入申请截止", "--at", "2025-05-10").code == 0
    assert cli("due", "charger", "七日无理由退货截止", "--at", "2199-01-07").code == 0
    assert cli("due", dispute, "商家承诺回复", "--at", "2199-01-02 12:00").code == 0
    assert cli("due", "charger", "已处理的期限", "--at", "2025-01-01").code == 0
    assert cli("due", "charger", "--done", "2").code == 0

    doc = cli("due", "--json").json
    assert [(d["dispute"], d["text"], d["overdue"]) for d in doc["deadlines"]] == [
        ("earbuds", "平台介入申请截止", True), ("earbuds", "商家承诺回复", False), ("charger", "七日无理由退货截止", False)]
    everything = cli("due", "--all", "--json").json["deadlines"]
    assert everything[0]["text"] == "已处理的期限" and everything[0]["done_at"] and not everything[0]["overdue"]

    ran = cli("due")
    assert ran.code == 0, ran.err
    lines = [line for line in ran.out.splitlines() if "期限" in line or "截止" in line or "回复" in line]
    assert ["平台介入申请截止" in lines[0], "商家承诺回复" in lines[1], "七日无理由退货截止" in lines[2]] == [True] * 3
    assert "OVERDUE" in lines[0] and "OVERDUE" not in lines[1] + lines[2]
    assert "已处理的期限" not in ran.out
    assert "1 deadline is past and not marked done" in ran.out
    assert "done" in cli("due", "charger", "--all").out


def test_done_and_remove_are_logged_and_refused_twice(cli, dispute) -> None:  # noqa: ANN001
    assert cli("due", dispute, "平台介入申请截止", "--at", "2025-05-10").code == 0
    assert cli("due", dispute, "打错的期限", "--at", "2025-05-11").code == 0
    ran = cli("due", dispute, "--done", "1", "--json")
    assert ran.code == 0 and ran.json["action"] == "done" and ran.json["deadline"]["done_at"]
    ran = cli("due", dispute, "--done", "1")
    assert ran.code == 2 and "already done" in ran.err
    ran = cli("due", dispute, "--remove", "2", "--reason", "typed by mistake")
    assert ran.code == 0 and "removed" in ran.out
    assert cli("due", dispute, "--remove", "2").code == 1
    # The number of a removed deadline is never given to another one.
    assert cli("due", dispute, "新的期限", "--at", "2025-05-12", "--json").json["deadline"]["id"] == 3
    log = cli("log", dispute, "--json").json
    assert [e["action"] for e in log][1:] == ["deadline.added", "deadline.added", "deadline.done",
                                              "deadline.removed", "deadline.added"]
    assert log[4]["payload"] == {"deadline": 2, "reason": "typed by mistake"}
    assert cli("verify", dispute).code == 0


@pytest.mark.parametrize("args, code, message", [
    (("小红书", "截止"), 2, "--at WHEN"),
    (("earbuds", "--at", "2025-05-10"), 2, "say what is due"),
    (("earbuds", "截止", "--at", "2025-13-45"), 2, "not a date"),
    (("earbuds", "截止", "--at", "next friday"), 2, "not a date and time"),
    (("earbuds", "截止", "--at", "3000-01-01"), 2, "not a believable deadline"),
    (("earbuds", "截止", "--at", "2025-05-10", "--exhibit", "7"), 1, "has no exhibit 7"),
    (("earbuds", "   ", "--at", "2025-05-10"), 2, "needs a description"),
    (("earbuds", "--done", "9"), 1, "has no deadline 9"),
    (("earbuds", "--done", "1", "--remove", "1"), 2, "one at a time"),
    (("--done", "1"), 2, "name the dispute first"),
    (("earbuds", "--reason", "x"), 2, "--reason goes with --remove"),
    (("nosuch",), 1, "nosuch"),
])
def test_mistakes_are_one_clear_line(cli, dispute, args, code, message) -> None:  # noqa: ANN001
    ran = cli("due", *args)
    assert ran.code == code, (ran.out, ran.err)
    assert message in ran.err and ran.err.count("\n") == 1 and "Traceback" not in ran.err
    ran = cli("due", *args, "--json")
    assert ran.code == code and "error" in ran.json


def test_a_deadline_names_its_exhibits(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    from tests import samples

    assert cli("add", dispute, samples.make_png(tmp_path / "refusal.png", 60, 120)).code == 0
    ran = cli("due", dispute, "平台介入申请截止", "--at", "2025-05-10", "--exhibit", "1", "--json")
    assert ran.json["deadline"]["exhibits"] == [1]
    assert "(exhibit 1)" in cli("due", dispute).out


# --------------------------------------------------------------------------- verify


TAMPER = {
    "text": ("UPDATE deadline SET text = '随便改的' WHERE id = 1", "row_altered"),
    "due": ("UPDATE deadline SET due = '2030-01-01T23:59:59+08:00' WHERE id = 1", "row_altered"),
    "date_only": ("UPDATE deadline SET date_only = 0 WHERE id = 1", "row_altered"),
    "exhibits": ("UPDATE deadline SET exhibits = '[1]' WHERE id = 1", "row_altered"),
    "undone": ("UPDATE deadline SET done_at = NULL WHERE id = 2", "row_altered"),
    "done": ("UPDATE deadline SET done_at = '2025-05-01T00:00:00+00:00' WHERE id = 1", "row_altered"),
    "deleted": ("DELETE FROM deadline WHERE id = 1", "row_missing"),
    "planted": ("INSERT INTO deadline (id, due, date_only, text, exhibits, created_at) VALUES "
                "(9, '2025-06-01T23:59:59+08:00', 1, '伪造', '[]', '2025-05-01T00:00:00+00:00')", "row_unrecorded"),
    "revived": ("INSERT INTO deadline (id, due, date_only, text, exhibits, created_at) VALUES "
                "(3, '2025-05-12T23:59:59+08:00', 1, '打错的期限', '[]', '2025-05-01T00:00:00+00:00')", "row_unrecorded"),
    "entry": ("UPDATE custody SET payload = replace(payload, '平台介入', '平台不介入') WHERE action = 'deadline.added'",
              "custody_entry_altered"),
}


@pytest.mark.parametrize("edit", sorted(TAMPER))
def test_verify_finds_every_edit_of_a_deadline(cli, dispute, home: Path, edit: str) -> None:  # noqa: ANN001
    assert cli("due", dispute, "平台介入申请截止", "--at", "2025-05-10").code == 0
    assert cli("due", dispute, "商家答复", "--at", "2025-05-09 12:00").code == 0
    assert cli("due", dispute, "打错的期限", "--at", "2025-05-12").code == 0
    assert cli("due", dispute, "--done", "2").code == 0
    assert cli("due", dispute, "--remove", "3").code == 0
    assert cli("verify", dispute).code == 0
    statement, problem = TAMPER[edit]
    _sql(home, dispute, statement)
    ran = cli("verify", dispute, "--json")
    assert ran.code == 1, ran.out
    found = [p["problem"] for d in ran.json["disputes"] for p in d["problems"]]
    assert problem in found, found


# --------------------------------------------------------------------------- iCalendar


def _unfold(data: bytes) -> list[str]:
    """The content lines of an iCalendar file, checked as RFC 5545 §3.1 says: CRLF line ends, no
    physical line over 75 octets, folds only between characters (each line is valid UTF-8)."""
    assert data.endswith(b"\r\n")
    physical = data[:-2].split(b"\r\n")
    assert b"\n" not in b"".join(physical) and b"\r" not in b"".join(physical)
    logical: list[str] = []
    for raw in physical:
        assert len(raw) <= 75, raw
        text = raw.decode("utf-8")  # a fold inside a character would not decode
        if text.startswith((" ", "\t")):
            logical[-1] += text[1:]
        else:
            logical.append(text)
    return logical


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append("\n" if value[i + 1] in "nN" else value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def parse_ics(data: bytes) -> list[dict[str, tuple[dict[str, str], str]]]:
    """The VEVENTs of a calendar: {NAME: ({PARAM: VALUE}, value)}; components nest properly."""
    events: list[dict[str, tuple[dict[str, str], str]]] = []
    stack: list[str] = []
    for line in _unfold(data):
        head, _, value = line.partition(":")
        name, *params = head.split(";")
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                events.append({})
            continue
        if name == "END":
            assert stack.pop() == value
            continue
        assert stack, line
        if stack[-1] == "VEVENT":
            events[-1][name] = (dict(p.split("=", 1) for p in params), value)
    assert stack == []
    return events


def test_ics_file_is_an_rfc_5545_calendar_a_phone_imports(cli, shanghai, tmp_path: Path) -> None:  # noqa: ANN001
    title = "小红书无线耳机退款, 还有一个很长很长的标题; 用来检验折行是否会把一个汉字从中间切开 🎧 " * 2
    assert cli("new", title, "--slug", "earbuds").code == 0
    assert cli("due", "earbuds", "平台介入申请截止", "--at", "2199-05-10").code == 0
    assert cli("due", "earbuds", "商家答复, 第二次", "--at", "2199-05-08 18:00").code == 0
    target = tmp_path / "calendar" / "due.ics"
    target.parent.mkdir()
    ran = cli("due", "--ics", target, "--json")
    assert ran.code == 0, ran.err
    assert ran.json["ics"] == str(target)
    data = target.read_bytes()
    assert (target.stat().st_mode & 0o777) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["due.ics"]  # written atomically: no temp left
    lines = _unfold(data)
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"] and any(x.startswith("PRODID:") for x in lines)
    assert any(len(raw) > 70 for raw in data.split(b"\r\n"))  # long lines were there to fold
    events = parse_ics(data)
    assert len(events) == 2
    timed, day = events  # soonest first
    for event in events:
        assert {"UID", "DTSTAMP", "DTSTART", "SUMMARY"} <= set(event)
        assert event["DTSTAMP"][1].endswith("Z") and len(event["DTSTAMP"][1]) == 16
        assert _unescape(event["SUMMARY"][1]).endswith(" · " + title.strip())
    assert _unescape(timed["SUMMARY"][1]).startswith("商家答复, 第二次 · ")
    assert timed["DTSTART"] == ({}, "21990508T100000Z")  # 18:00 in Shanghai
    assert day["DTSTART"] == ({"VALUE": "DATE"}, "21990510") and day["DTEND"] == ({"VALUE": "DATE"}, "21990511")
    assert len({e["UID"][1] for e in events}) == 2
    assert data.count(b"BEGIN:VALARM") == 2 and b"TRIGGER:-P1D" in data and b"TRIGGER:-PT15H" in data
    # The UIDs stay the same from one export to the next: a newer file updates the phone's events.
    assert cli("due", "--ics", target).code == 0
    assert [e["UID"] for e in parse_ics(target.read_bytes())] == [e["UID"] for e in events]


def test_ics_needs_a_file_in_a_folder_that_exists_and_a_deadline(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    ran = cli("due", "--ics", tmp_path / "none.ics", "--json")
    assert ran.code == 0 and ran.json["ics"] is None and "was not written" in ran.err
    assert not (tmp_path / "none.ics").exists()  # a calendar holds at least one event
    assert cli("due", dispute, "平台介入申请截止", "--at", "2025-05-10").code == 0
    assert cli("due", "--ics", tmp_path).code == 2
    assert cli("due", "--ics", tmp_path / "nope" / "due.ics").code == 2
    # A done deadline is written only with --all, said to be done, and without a reminder.
    assert cli("due", dispute, "--done", "1").code == 0
    assert cli("due", "--all", "--ics", tmp_path / "all.ics").code == 0
    (event,) = parse_ics((tmp_path / "all.ics").read_bytes())
    assert _unescape(event["SUMMARY"][1]).startswith("(done) 平台介入申请截止")
    assert "ACTION" not in event and b"VALARM" not in (tmp_path / "all.ics").read_bytes()


def test_folding_counts_octets_and_never_splits_a_character() -> None:
    line = "SUMMARY:" + "退款" * 60
    folded = deadlines.fold(line)
    assert _unfold(folded) == [line]
    assert all(len(raw) <= 75 for raw in folded.split(b"\r\n"))
    assert deadlines.fold("A" * 75) == b"A" * 75 + b"\r\n"
    assert deadlines.fold("A" * 76) == b"A" * 75 + b"\r\n A\r\n"
    assert deadlines.ics_escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


# --------------------------------------------------------------------------- locker next


def test_next_follows_the_ladder_from_status_and_events(cli, dispute) -> None:  # noqa: ANN001
    doc = cli("next", dispute, "--json").json
    assert doc["reached"] is None and doc["next"]["id"] == "merchant"
    assert cli("event", dispute, "收到耳机", "--at", "2025-05-03 10:00", "--type", "delivery").code == 0
    assert cli("event", dispute, "商家拒绝退款", "--at", "2025-05-06 15:21", "--type", "refusal").code == 0
    doc = cli("next", dispute, "--json").json
    assert doc["reached"] == "merchant" and doc["next"]["id"] == "platform"
    assert doc["basis"] == [{"event": "refusal", "at": "2025-05-06T15:21:00+00:00"}]
    assert [s["reached"] for s in doc["ladder"]] == [True, False, False, False]
    assert cli("status", dispute, "appealed").code == 0
    doc = cli("next", dispute, "--json").json
    assert doc["next"]["id"] == "complaint"
    assert [d["command"] for d in doc["next"]["documents"]] == [f"locker export {dispute} --letter"]
    assert cli("status", dispute, "complained").code == 0
    doc = cli("next", dispute, "--json").json
    assert doc["next"]["id"] == "court"
    assert [d["command"] for d in doc["next"]["documents"]] == [f"locker export {dispute} --attach-originals"]
    assert cli("status", dispute, "resolved").code == 0
    doc = cli("next", dispute, "--json").json
    assert doc["finished"] and doc["next"] is None


def test_next_counts_the_general_time_limits_with_their_sources(cli, dispute) -> None:  # noqa: ANN001
    # The fixture's purchase date is 2025-05-01; with no delivery event the 7 days count from it, marked approximate.
    rules = {r["id"]: r for r in cli("next", dispute, "--json").json["rules"]}
    assert rules["no_reason_return"]["anchor"] == {"kind": "field", "name": "purchased_on", "date": "2025-05-01",
                                                   "approximate": True}
    assert cli("event", dispute, "收到耳机", "--at", "2025-05-03 10:00", "--type", "delivery").code == 0
    assert cli("event", dispute, "商家拒绝退款", "--at", "2025-05-06 15:21", "--type", "refusal").code == 0
    assert cli("event", dispute, "向 12315 投诉", "--at", "2025-05-09 09:00", "--type", "complaint").code == 0
    rules = {r["id"]: r for r in cli("next", dispute, "--json").json["rules"]}
    assert rules["no_reason_return"]["last_day"] == "2025-05-10" and rules["no_reason_return"]["passed"]
    assert rules["no_reason_return"]["source"] == "《中华人民共和国消费者权益保护法》第二十五条"
    # 2025-05-09 is a Friday: 7 working days later (weekends skipped) is Tuesday 2025-05-20.
    assert rules["complaint_acceptance"]["last_day"] == "2025-05-20"
    assert rules["complaint_acceptance"]["source"].startswith("《市场监督管理投诉举报处理暂行办法》")
    assert rules["limitation"]["last_day"] == "2028-05-06"
    assert rules["limitation"]["source"] == "《中华人民共和国民法典》第一百八十八条"

    ran = cli("next", dispute)
    assert ran.code == 0, ran.err
    assert "Where it stands: Complain to the market regulator (12315) (event complaint on 2025-05-09)" in ran.out
    assert "Usual next step: Sue in court" in ran.out
    assert f"locker export {dispute} --attach-originals" in ran.out
    assert rules["complaint_acceptance"]["relevant"] and rules["limitation"]["relevant"]
    assert not rules["no_reason_return"]["relevant"]
    assert "《中华人民共和国民法典》第一百八十八条" in ran.out and "last day 2028-05-06" in ran.out
    assert "Platform-specific windows" in ran.out and "must be checked on the platform" in ran.out


def test_next_lists_the_disputes_open_deadlines(cli, dispute) -> None:  # noqa: ANN001
    assert cli("due", dispute, "平台介入申请截止", "--at", "2025-05-10").code == 0
    doc = cli("next", dispute, "--json").json
    assert [(d["text"], d["overdue"]) for d in doc["deadlines"]] == [("平台介入申请截止", True)]
    assert "平台介入申请截止" in cli("next", dispute).out


def test_period_arithmetic() -> None:
    assert deadlines.add_period(date(2025, 5, 3), 7, "days") == date(2025, 5, 10)
    assert deadlines.add_period(date(2025, 5, 9), 7, "working_days") == date(2025, 5, 20)
    assert deadlines.add_period(date(2025, 5, 10), 1, "working_days") == date(2025, 5, 12)  # Saturday → Monday
    assert deadlines.add_period(date(2024, 2, 29), 3, "years") == date(2027, 2, 28)


# --------------------------------------------------------------------------- the rules file


def test_the_rules_live_in_a_data_file_with_their_sources() -> None:
    data = tomllib.loads((REPO / "locker" / "data" / "escalation.toml").read_text(encoding="utf-8"))
    rules = {r["id"]: r for r in data["rule"]}
    assert "第二十五条" in rules["no_reason_return"]["source"] and rules["no_reason_return"]["period"] == 7
    assert "市场监督管理投诉举报处理暂行办法" in rules["complaint_acceptance"]["source"]
    assert (rules["complaint_acceptance"]["period"], rules["complaint_acceptance"]["unit"]) == (7, "working_days")
    assert "第一百八十八条" in rules["limitation"]["source"] and rules["limitation"]["unit"] == "years"
    assert [s["id"] for s in data["step"]] == ["merchant", "platform", "complaint", "court"]
    assert "platform" in data["platform_note"]["en"] and "平台" in data["platform_note"]["zh"]
    assert deadlines.escalation().rules  # the installed package reads the same file
    with pytest.raises(Exception, match="source"):
        deadlines.parse_rules({**data, "rule": [{**data["rule"][0], "source": ""}]})


def test_the_rules_file_is_package_data() -> None:
    """setuptools packs only what package-data names; a plain `pip install .` must carry the rules."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["locker"]
    assert any(Path("data/escalation.toml").match(p) for p in patterns)
    assert (REPO / "locker" / "data" / "escalation.toml").is_file()


# --------------------------------------------------------------------------- the pack


def test_the_packs_timeline_shows_deadlines_and_marks_the_past_ones(cli, dispute, shanghai, tmp_path: Path) -> None:  # noqa: ANN001
    assert cli("due", dispute, "平台介入申请截止", "--at", "2025-05-10").code == 0
    assert cli("due", dispute, "已办完的期限", "--at", "2025-05-09 12:00").code == 0
    assert cli("due", dispute, "--done", "2").code == 0
    assert cli("due", dispute, "起诉前的最后一天", "--at", "2199-05-06").code == 0
    for lang, past, done in (("zh", "【已过期】", "标记完成"), ("en", "[PAST]", "marked done")):
        pdf = tmp_path / f"pack-{lang}.pdf"
        ran = cli("export", dispute, "-o", pdf, "--lang", lang)
        assert ran.code == 0, ran.err
        text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True).stdout
        rows = [line for line in text.splitlines() if "期限" in line or "截止" in line or "最后一天" in line
                or "Deadline" in line]
        past_rows = [line for line in rows if past in line]
        assert len(past_rows) == 1 and "平台介入申请截止" in past_rows[0], rows
        assert any("已办完的期限" in line and done in line for line in rows), rows
        assert any("起诉前的最后一天" in line and past not in line for line in rows), rows
    assert "2025-05-10 23:59:59" in text
    # The custody appendix says what each deadline entry did, in words.
    assert "Deadline 2: done" in text and "Deadline 1: 平台介入申请截止" in text


def test_next_speaks_the_users_language_from_the_data_file(cli, dispute, monkeypatch) -> None:  # noqa: ANN001
    """The rules' texts come from the data file in both languages; the command picks the user's."""
    from locker import i18n

    assert cli("event", dispute, "商家拒绝退款", "--at", "2025-05-06 15:21", "--type", "refusal").code == 0
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # how the command line chooses Chinese once it reads the locale
    token = i18n.set_language("zh")  # and how it is chosen before it does
    try:
        ran = cli("next", dispute)
    finally:
        i18n._lang.reset(token)
    assert ran.code == 0, ran.err
    assert "申请平台介入（申诉）" in ran.out and "三年诉讼时效" in ran.out
    assert "各平台自己的时限" in ran.out and "必须在平台上核实" in ran.out
    doc = cli("next", dispute, "--json").json  # the document is the same in every language
    assert doc["next"]["title"] == {"en": "Ask the platform to step in (platform appeal)", "zh": "申请平台介入（申诉）"}
