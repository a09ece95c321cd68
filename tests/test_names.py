"""Names people can read (issue 11 §2 and the search bits of §4), through the real CLI: pinyin
slugs, a dispute found by part of its title, "did you mean", `locker rename` (custody-logged,
verified, followed by search), a folder copied by hand, the title limit, short Latin search
terms and emoji."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locker import domain
from locker.names import SLUG_MAX, slugify


def new(cli, title: str, *args: object) -> str:  # noqa: ANN001
    ran = cli("new", title, *args, "--json")
    assert ran.code == 0, ran.err
    return ran.json["slug"]


def search(cli, query: str, *args: object) -> list[tuple[str, str]]:  # noqa: ANN001
    ran = cli("search", query, "--limit", 1000, *args, "--json")
    assert ran.code == 0, ran.err
    return [(h["dispute"], h["snippet"]) for h in ran.json["hits"]]


# --------------------------------------------------------------------------- slugs


def test_a_chinese_title_gets_a_pinyin_slug_word_by_word(cli) -> None:  # noqa: ANN001
    assert new(cli, "小红书无线耳机退款") == "xiaohongshu-wuxian-erji-tuikuan"
    assert new(cli, "小红书无线耳机退款") == "xiaohongshu-wuxian-erji-tuikuan-2"  # unique, as before
    assert new(cli, "京东iPhone15退款") == "jingdong-iphone15-tuikuan"  # Latin and digits keep their words
    assert new(cli, "ＡｉｒＰｏｄｓ Pro 2代 左耳没声音") == "airpods-pro-2-dai-zuoer-mei-shengyin"
    assert new(cli, "Café 淘宝买的手机") == "cafe-taobao-mai-de-shouji"
    assert new(cli, "重庆银行卡被扣款") == "chongqing-yinhang-ka-bei-koukuan"  # phrase-aware readings
    assert new(cli, "🎧！！", "--platform", "douyin") == "douyin"  # nothing readable: the platform
    assert new(cli, "😡") == "dispute"


def test_a_long_title_is_cut_after_a_whole_word(cli) -> None:  # noqa: ANN001
    title = "美团外卖少送了一份饭，商家拒绝退款并且态度恶劣要求平台介入处理"
    slug = new(cli, title)
    assert slug == "meituan-waimai-shaosong-le-yifen-fan"
    assert len(slug) <= SLUG_MAX and slugify(title + "再来一次") == slug
    again = new(cli, title)
    assert again == "meituan-waimai-shaosong-le-yifen-fan-2"
    long_latin = new(cli, "refund " * 20)
    assert len(long_latin) <= SLUG_MAX and long_latin.endswith("refund") and "--" not in long_latin
    second = new(cli, "refund " * 20)
    assert len(second) <= SLUG_MAX and second.endswith("-2") and "--" not in second


def test_slug_rules_still_hold(cli) -> None:  # noqa: ANN001
    assert new(cli, "whatever", "--slug", "my-name") == "my-name"
    ran = cli("new", "again", "--slug", "my-name")
    assert ran.code == 1 and "exists already" in ran.err
    ran = cli("new", "bad", "--slug", "耳机")
    assert ran.code == 2 and "a-z, 0-9" in ran.err


# --------------------------------------------------------------------------- title limit


def test_a_title_has_at_most_200_characters(cli) -> None:  # noqa: ANN001
    assert domain.TITLE_MAX == 200
    ran = cli("new", "长" * 201)
    assert (ran.code, ran.err) == (2, "locker: a title has at most 200 characters; this one has 201\n")
    ran = cli("new", "长" * 201, "--json")
    assert ran.code == 2 and ran.json["error"]["code"] == "usage"
    assert cli("list", "--json").json == []  # nothing was made
    slug = new(cli, "长" * 200)
    assert slug.startswith("changchang-changchang")
    ran = cli("edit", slug, "--title", "短" * 201)  # a correction is held to the same limit
    assert (ran.code, ran.err) == (2, "locker: a title has at most 200 characters; this one has 201\n")


# --------------------------------------------------------------------------- finding a dispute


def test_a_unique_part_of_a_title_names_the_dispute(cli) -> None:  # noqa: ANN001
    earbuds = new(cli, "小红书无线耳机退款")
    phone = new(cli, "淘宝手机屏幕坏了", "--slug", "phone")
    shown = cli("show", "耳机", "--json")
    assert shown.code == 0 and shown.json["slug"] == earbuds and "recorded_slug" not in shown.json
    assert cli("show", "屏幕", "--json").json["slug"] == phone
    assert cli("show", "ＳＣＲＥＥＮ", "--json").code == 1  # titles, not translations
    ran = cli("event", "耳机", "商家拒绝退款", "--at", "2025-05-03 15:21")
    assert ran.code == 0, ran.err
    assert search(cli, "拒绝", "--dispute", "耳机") == [(earbuds, "商家拒绝退款")]
    # A slug or a slug's prefix comes first: "phone" is phone's slug, though no title holds it.
    assert cli("show", "ph", "--json").json["slug"] == phone


def test_a_part_of_two_titles_lists_both(cli) -> None:  # noqa: ANN001
    one = new(cli, "小红书无线耳机退款")
    two = new(cli, "京东蓝牙耳机坏了")
    ran = cli("show", "耳机")
    assert ran.code == 1
    assert ran.err == f"locker: '耳机' could be {two} (京东蓝牙耳机坏了), {one} (小红书无线耳机退款)\n"
    ran = cli("show", "耳机", "--json")
    assert ran.json["error"]["code"] == "ambiguous"


def test_a_miss_suggests_the_closest_names(cli) -> None:  # noqa: ANN001
    earbuds = new(cli, "小红书无线耳机退款")
    new(cli, "Smart TV refund")
    expected = f"locker: no dispute named {{!r}}; did you mean {earbuds}? (see `locker list`)\n"
    for typed in ("xiaohongsu-wuxian", "erji", "耳鸡", "小红数"):  # a typo, a word of the slug, pinyin, the title
        ran = cli("show", typed)
        assert (ran.code, ran.err) == (1, expected.format(typed)), typed
    ran = cli("show", "smart-tb")
    assert "did you mean smart-tv-refund?" in ran.err
    ran = cli("show", "zzzz")  # nothing close: no guess
    assert ran.err == "locker: no dispute named 'zzzz' (see `locker list`)\n"


# --------------------------------------------------------------------------- rename


def _log(cli, ref: str) -> list[dict]:  # noqa: ANN001
    ran = cli("log", ref, "--json")
    assert ran.code == 0, ran.err
    return ran.json


def test_rename_moves_the_folder_logs_it_and_search_follows(cli, home: Path) -> None:  # noqa: ANN001
    old = new(cli, "小红书无线耳机退款")
    assert cli("event", old, "商家拒绝退款", "--at", "2025-05-03 15:21").code == 0
    assert search(cli, "拒绝") == [(old, "商家拒绝退款")]  # the catalog holds it under the old name
    ran = cli("rename", "耳机", "earbuds")
    assert (ran.code, ran.out) == (0, f"Renamed {old} to earbuds.\n")
    assert sorted(os.listdir(home / "disputes")) == ["earbuds"]
    entry = _log(cli, "earbuds")[-1]
    assert (entry["action"], entry["payload"]) == ("dispute.renamed", {"from": old, "to": "earbuds"})
    assert cli("show", "earbuds", "--json").json["slug"] == "earbuds"
    verified = cli("verify", "--json")
    assert verified.code == 0 and verified.json["disputes"][0]["problems"] == []
    assert search(cli, "拒绝") == [("earbuds", "商家拒绝退款")]
    assert search(cli, "耳机") == [("earbuds", "小红书无线耳机退款")]
    assert not any(old in json.dumps(hit) for hit in cli("search", "耳机", "--json").json["hits"])
    assert cli("show", old).code == 1
    assert cli("log", "earbuds").out.splitlines()[-1].endswith(f"dispute.renamed    {entry['hash'][:12]}  {old} → earbuds")
    ran = cli("rename", "earbuds", "buds", "--json")
    assert ran.json == {"from": "earbuds", "to": "buds", "recorded_from": "earbuds", "seq": 4, "moved": True}
    assert search(cli, "拒绝") == [("buds", "商家拒绝退款")]


def test_rename_refuses_a_taken_an_invalid_or_the_same_name(cli, home: Path) -> None:  # noqa: ANN001
    new(cli, "one", "--slug", "one")
    new(cli, "two", "--slug", "two")
    ran = cli("rename", "one", "two")
    assert ran.code == 1 and ran.err.endswith("a dispute named two exists already\n")
    os.mkdir(home / "disputes" / "empty")  # a name a `new` has reserved: never replaced
    ran = cli("rename", "one", "empty")
    assert ran.code == 1 and "exists already" in ran.err
    for bad in ("Two", "耳机", "_x", "a/b", "x" * 81, ""):
        ran = cli("rename", "one", bad)
        assert ran.code == 2 and "a dispute name uses a-z, 0-9 and '-'" in ran.err, bad
    ran = cli("rename", "one", "one")
    assert (ran.code, ran.err) == (2, "locker: one is already the name of this dispute\n")
    assert [e["action"] for e in _log(cli, "one")] == ["dispute.created"]
    assert sorted(os.listdir(home / "disputes")) == ["empty", "one", "two"]


def _problems(cli, ref: str) -> list[tuple[str, str]]:  # noqa: ANN001
    ran = cli("verify", ref, "--json")
    return [(p["problem"], p["detail"]) for p in ran.json["disputes"][0]["problems"]]


def test_verify_catches_a_tampered_rename(cli, home: Path) -> None:  # noqa: ANN001
    new(cli, "耳机", "--slug", "first")
    assert cli("rename", "first", "second").code == 0
    assert _problems(cli, "second") == []
    database = home / "disputes" / "second" / "dispute.sqlite"
    con = sqlite3.connect(database)
    con.execute("UPDATE dispute SET slug = 'third'")  # the row no longer says what the log recorded
    con.commit()
    con.close()
    problems = _problems(cli, "second")
    assert ("row_altered", "the dispute's slug differ from its custody entry") in problems
    assert cli("verify", "second").code == 1
    con = sqlite3.connect(database)
    con.execute("UPDATE dispute SET slug = 'second'")
    con.execute("UPDATE custody SET payload = ? WHERE action = 'dispute.renamed'",
                (json.dumps({"from": "first", "to": "third"}),))  # the entry rewritten to match a forged row
    con.commit()
    con.close()
    problems = _problems(cli, "second")
    assert ("custody_entry_altered", "entry 2 (dispute.renamed) does not match its hash") in problems
    assert cli("verify", "second").code == 1


def test_an_interrupted_rename_is_reported_and_finished_by_the_same_command(cli, home: Path) -> None:  # noqa: ANN001
    new(cli, "耳机", "--slug", "before")
    assert cli("rename", "before", "after").code == 0
    # As if the power went out after the commit and before the folder moved.
    os.rename(home / "disputes" / "after", home / "disputes" / "before")
    shown = cli("show", "before", "--json")
    assert (shown.json["slug"], shown.json["recorded_slug"]) == ("before", "after")
    human = cli("show", "before")
    assert "the folder is named 'before' but the dispute was recorded as 'after'" in human.err
    assert ("folder_renamed", ) == tuple(p for p, _ in _problems(cli, "before"))
    assert cli("verify", "before").code == 0  # a warning, not tampering
    ran = cli("rename", "before", "after")
    assert (ran.code, ran.out) == (0, "Moved the folder before to after, as the interrupted rename had recorded.\n")
    assert [e["action"] for e in _log(cli, "after")] == ["dispute.created", "dispute.renamed"]
    assert _problems(cli, "after") == [] and sorted(os.listdir(home / "disputes")) == ["after"]


def test_a_folder_copied_by_hand_is_found_by_its_name_and_says_so(cli, home: Path) -> None:  # noqa: ANN001
    new(cli, "小红书无线耳机退款", "--slug", "earbuds")
    assert cli("event", "earbuds", "商家拒绝退款", "--at", "2025-05-03 15:21").code == 0
    shutil.copytree(home / "disputes" / "earbuds", home / "disputes" / "earbuds copy")
    assert sorted(d["slug"] for d in cli("list", "--json").json) == ["earbuds", "earbuds copy"]
    shown = cli("show", "earbuds copy", "--json")
    assert shown.code == 0 and (shown.json["slug"], shown.json["recorded_slug"]) == ("earbuds copy", "earbuds")
    assert "was recorded as 'earbuds'" in cli("show", "earbuds c").err
    ran = cli("verify", "--json")
    assert ran.code == 0
    by_slug = {d["slug"]: [p["problem"] for p in d["problems"]] for d in ran.json["disputes"]}
    assert by_slug == {"earbuds": [], "earbuds copy": ["folder_renamed"]}
    assert sorted(search(cli, "拒绝")) == [("earbuds", "商家拒绝退款"), ("earbuds copy", "商家拒绝退款")]
    # Adopt the hand-given name as a slug, then rename the copy properly.
    ran = cli("rename", "earbuds copy", "earbuds-copy")
    assert ran.code == 0 and sorted(os.listdir(home / "disputes")) == ["earbuds", "earbuds-copy"]
    assert _problems(cli, "earbuds-copy") == []
    shutil.copytree(home / "disputes" / "earbuds", home / "disputes" / "backup")
    ran = cli("rename", "backup", "backup")
    assert ran.out == "backup is now the recorded name of this dispute (it was recorded as earbuds).\n"
    assert _problems(cli, "backup") == [] and _problems(cli, "earbuds") == []


@pytest.mark.parametrize("name", [".hidden", "a\nb"])
def test_hidden_or_odd_folders_are_not_disputes(cli, home: Path, name: str) -> None:  # noqa: ANN001
    new(cli, "耳机", "--slug", "earbuds")
    shutil.copytree(home / "disputes" / "earbuds", home / "disputes" / name)
    assert [d["slug"] for d in cli("list", "--json").json] == ["earbuds"]


def test_the_renamed_action_reads_back() -> None:
    action, payload = domain.dispute_renamed("old", "new")
    reading = domain.read_entry(action, json.loads(json.dumps(payload)))
    assert reading == domain.DisputeRenamed("old", "new")
    assert domain.read_entry(action, {"from": 1}) == domain.DisputeRenamed(None, None)


# --------------------------------------------------------------------------- search: short terms, emoji


def test_latin_terms_of_one_or_two_letters(cli) -> None:  # noqa: ANN001
    slug = new(cli, "电视", "--slug", "tv")
    for line in ("Two TVs broken", "5GHz wifi drops", "买了A股基金", "an apple", "4KTV 屏幕", "5G手机"):
        assert cli("event", slug, line, "--at", "2025-05-03 15:21").code == 0
    assert sorted(s for _, s in search(cli, "tv")) == ["Two TVs broken"]  # a word's start, not its middle
    assert sorted(s for _, s in search(cli, "TV")) == ["Two TVs broken"]
    assert sorted(s for _, s in search(cli, "5g")) == ["5GHz wifi drops", "5G手机"]
    assert sorted(s for _, s in search(cli, "4k")) == ["4KTV 屏幕"]
    assert sorted(s for _, s in search(cli, "a")) == ["买了A股基金"]  # one letter: whole words only
    ran = cli("search", "A")
    assert ran.code == 0 and ran.err == "locker: warning: 'a': a single letter is found only where it stands alone as a word\n"
    assert cli("search", "tv").err == ""
    assert sorted(s for _, s in search(cli, "an")) == ["an apple"]


def test_emoji_in_titles_and_text_can_be_found(cli) -> None:  # noqa: ANN001
    slug = new(cli, "🎧耳机坏了 😡")
    assert cli("event", slug, "好评❤️ 再也不买了", "--at", "2025-05-03 15:21").code == 0
    assert cli("event", slug, "家人👨‍👩‍👧一起", "--at", "2025-05-03 15:22").code == 0
    assert search(cli, "🎧") == [(slug, "🎧耳机坏了 😡")]
    assert search(cli, "😡") == [(slug, "🎧耳机坏了 😡")]
    assert search(cli, "🎧耳机") == [(slug, "🎧耳机坏了 😡")]
    assert search(cli, "❤") == [(slug, "好评❤️ 再也不买了")]
    assert search(cli, "❤️") == [(slug, "好评❤️ 再也不买了")]
    assert search(cli, "👨‍👩‍👧") == [(slug, "家人👨‍👩‍👧一起")]
    assert search(cli, "😀") == []
    assert search(cli, "🎧", "--dispute", slug) == [(slug, "🎧耳机坏了 😡")]
    ran = cli("search", "emj1f3a7", "--json")  # the token behind 🎧 is not a word anyone typed
    assert ran.code == 0 and ran.json["hits"] == []
    ran = cli("show", "😡", "--json")  # and a title's emoji names the dispute
    assert ran.code == 0 and ran.json["slug"] == slug


def test_the_rename_and_show_documents_match_their_schemas(cli, home: Path) -> None:  # noqa: ANN001
    from tests.test_contract import check, schema

    new(cli, "耳机", "--slug", "first")
    shutil.copytree(home / "disputes" / "first", home / "disputes" / "first copy")
    shown = cli("show", "first copy", "--json")
    check(shown.json, "show")
    check(cli("status", "first copy", "negotiating", "--json").json, "status")
    for args in (("first", "second"), ("first copy", "first copy-x"), ("first copy", "first-copy")):
        ran = cli("rename", *args, "--json")
        check(ran.json, "rename" if ran.code == 0 else "error")
    os.rename(home / "disputes" / "second", home / "disputes" / "first")
    ran = cli("rename", "first", "second", "--json")
    check(ran.json, "rename")
    assert ran.json["seq"] is None and ran.json["moved"] is True
    assert set(ran.json) == set(schema("rename")["properties"])
    assert schema("rename")["additionalProperties"] is False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60), st.one_of(st.none(), st.text(max_size=10)))
def test_any_title_gives_a_valid_short_slug(title: str, platform: str | None) -> None:
    slug = slugify(title, platform)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and len(slug) <= SLUG_MAX, (title, slug)


HAN_AND_LATIN = st.text(st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
                                  st.sampled_from("aZ9 -，的了é🎧")), max_size=80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HAN_AND_LATIN)
def test_any_chinese_title_gives_a_valid_short_slug(title: str) -> None:
    slug = slugify(title)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and len(slug) <= SLUG_MAX, (title, slug)
