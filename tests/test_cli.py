"""The commands around ingest, through the real entry point: output, exit codes, errors."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO, run_locker


def test_new_list_show(cli) -> None:  # noqa: ANN001
    ran = cli("new", "小红书无线耳机退款", "--platform", "xiaohongshu", "--amount", "12345678901234567.89", "--json")
    assert ran.code == 0, ran.err
    slug = ran.json["slug"]
    assert slug == "xiaohongshu-wuxian-erji-tuikuan" and ran.json["amount"] == "12345678901234567.89"
    assert ran.json["status"] == "open" and ran.json["currency"] == "CNY"
    second = cli("new", "Earbuds refund", "--platform", "taobao", "--json").json["slug"]
    assert second == "earbuds-refund"
    listed = cli("list", "--json").json
    assert {d["slug"] for d in listed} == {slug, second}
    assert [d["slug"] for d in cli("list", "--platform", "taobao", "--json").json] == [second]
    shown = cli("show", "xiao", "--json").json
    assert shown["title"] == "小红书无线耳机退款" and shown["exhibits"] == [] and shown["events"] == []
    human = cli("show", slug)
    assert human.code == 0 and "小红书无线耳机退款" in human.out


def test_bad_values_get_one_clear_line(cli) -> None:  # noqa: ANN001
    ran = cli("new", "x", "--amount", "abc")
    assert (ran.code, ran.err) == (2, "locker: not an amount: 'abc' (write it like 199.00)\n")
    ran = cli("new", "x", "--purchased-on", "2025-13-45")
    assert (ran.code, ran.err) == (2, "locker: not a date: '2025-13-45' (write it like 2025-05-01)\n")
    ran = cli("show", "nothing-here")
    assert ran.code == 1 and ran.err == "locker: no dispute named 'nothing-here' (see `locker list`)\n"
    ran = cli("status", "nothing-here", "flying")
    assert ran.code == 2 and "status must be one of" in ran.err


def test_ambiguous_prefix(cli) -> None:  # noqa: ANN001
    cli("new", "refund one", "--slug", "refund-one")
    cli("new", "refund two", "--slug", "refund-two")
    ran = cli("show", "refund")
    assert ran.code == 1 and "could be refund-one, refund-two" in ran.err


def test_events_status_withdraw_and_log(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    from tests import samples

    cli("add", dispute, samples.make_png(tmp_path / "a.png", 100, 200))
    ran = cli("event", dispute, "商家拒绝退款", "--at", "2025-05-03 15:21", "--tz", "Asia/Shanghai", "--exhibit", "1")
    assert ran.code == 0, ran.err
    ran = cli("event", dispute, "x", "--at", "2025-05-03", "--exhibit", "7")
    assert ran.code == 1 and "has no exhibit 7" in ran.err
    assert cli("status", dispute, "negotiating", "--note", "merchant answered").code == 0
    assert cli("status", dispute, "negotiating").code == 2
    ran = cli("withdraw", dispute, "1", "--reason", "wrong file")
    assert ran.code == 0, ran.err
    assert cli("withdraw", dispute, "1", "--reason", "again").code == 2
    shown = cli("show", dispute, "--json").json
    assert shown["status"] == "negotiating" and shown["exhibits"][0]["withdrawn"] is True
    assert shown["events"] == [{"at": "2025-05-03T15:21:00+08:00", "type": "note",
                                "description": "商家拒绝退款", "exhibits": [1]}]
    actions = [e["action"] for e in cli("log", dispute, "--json").json]
    assert actions == ["dispute.created", "exhibit.added", "event.added", "dispute.status", "exhibit.withdrawn"]
    assert cli("verify", dispute).code == 0


def test_profile_round_trip(cli, home) -> None:  # noqa: ANN001
    ran = cli("profile", "--name", "张三", "--phone", "13800000000", "--tz", "Asia/Shanghai", "--lang", "zh", "--json")
    assert ran.code == 0, ran.err
    assert cli("profile", "--json").json == {"name": "张三", "phone": "13800000000", "email": None,
                                             "address": None, "lang": "zh", "tz": "Asia/Shanghai", "font": None,
                                             "date_order": None, "tsa": None}
    assert (home / "locker.toml").read_text(encoding="utf-8").count("张三") == 1
    assert cli("profile", "--lang", "fr").code == 2
    assert cli("profile", "--tz", "Nowhere/Land").code == 2
    assert cli("profile", "--font", "/no/such/font.ttc#0").code == 2
    font = home.parent / "font.ttf"
    font.write_bytes(b"not really a font, but a file")
    assert cli("profile", "--font", str(font), "--json").json["font"] == str(font)
    assert cli("profile", "--json").json["name"] == "张三"  # other fields are kept


def test_help_is_fast_to_import(home) -> None:  # noqa: ANN001
    code = ("import sys; from locker.cli import main; rc = main(['--help']);"
            "heavy = [m for m in ('sqlmodel', 'sqlalchemy', 'av', 'PIL', 'reportlab', 'magic') if m in sys.modules];"
            "print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_reading_commands_new_and_export_never_import_the_orm(home, tmp_path) -> None:  # noqa: ANN001
    """``list``, ``show`` (a dispute, an exhibit), ``log``, ``verify``, ``due`` and ``next`` read on plain
    sqlite3 (db.snapshot), and ``new``, ``add`` and ``export`` write there: SQLAlchemy and SQLModel were
    0.3 s of each (0.5-0.7 s in all; 1.2 s for a small export). What they print is other tests' business."""
    from tests import samples

    chat = samples.make_plain_chat(tmp_path / "chat.txt")

    def orm_free(*args: str) -> None:
        code = ("import sys; from locker.cli import main; rc = main(sys.argv[1:]);"
                "print([m for m in ('sqlmodel', 'sqlalchemy') if m in sys.modules], rc)")
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO,
                              env={**os.environ, "LOCKER_HOME": str(home)})
        assert proc.stdout.strip().splitlines()[-1] == "[] 0", (args, proc.stdout[-300:], proc.stderr)

    orm_free("new", "耳机退款", "--slug", "e", "--amount", "199")
    orm_free("add", "e", str(chat))
    assert run_locker("due", "e", "平台介入申请截止", "--at", "2025-05-20 23:59", home=home).returncode == 0
    for args in (["list"], ["show", "e"], ["show", "e", "1", "--json"], ["log", "e"], ["verify"], ["verify", "e"],
                 ["due"], ["due", "e"], ["next", "e"], ["export", "e", "--json"]):
        orm_free(*args)


def test_rows_read_without_the_orm_give_bool_columns_as_bool() -> None:
    """db.BOOLEAN_COLUMNS is every bool column of the models, and no other column shares a name with one."""
    from locker import db, models

    tables = [models.Dispute, models.Exhibit, models.ChatMessage, models.OcrFacts, models.Event,
              models.CustodyEntry, models.Export, models.Deadline]
    assert {t.__table__.name for t in tables} == set(models.SQLModel.metadata.tables)  # type: ignore[attr-defined]
    booleans = {c.name for t in tables for c in t.__table__.columns if c.type.python_type is bool}  # type: ignore[attr-defined]
    others = {c.name for t in tables for c in t.__table__.columns if c.type.python_type is not bool}  # type: ignore[attr-defined]
    assert booleans == db.BOOLEAN_COLUMNS and not booleans & others


def test_add_starts_copying_before_the_rest_is_imported(home) -> None:  # noqa: ANN001
    """What ``add`` needs only after its first bytes are copied (the custody log, the database, the
    search index, the probe) is imported on a thread while they are (ingest._open), so that a
    large file starts to move early: importing the add service itself must not pull them in."""
    code = ("import sys; from locker.services import ingest;"
            "late = [m for m in ('locker.custody', 'locker.domain', 'locker.db', 'locker.search.index', "
            "'locker.services.edit', 'locker.media', 'locker.chats', 'sqlalchemy', 'magic', 'PIL') if m in sys.modules];"
            "print(late); print(sorted(set(ingest._LATER) - set(sys.modules)) == sorted(ingest._LATER))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.stdout.strip().splitlines() == ["[]", "True"], proc.stdout + proc.stderr


def test_adding_pictures_never_loads_the_chat_readers(home, tmp_path) -> None:  # noqa: ANN001
    """The chat readers (30 ms of imports) are for text files: an add of pictures, whose set-up runs
    serially before its stager processes fork, does without them; a text file still gets them."""
    from tests import samples

    pictures = [samples.make_png(tmp_path / "a.png", 60, 120), samples.make_jpeg(tmp_path / "b.jpg", 80, 60)]
    code = ("import sys; from locker.cli import main; rc = main(sys.argv[1:]);"
            "print('locker.chats' in sys.modules, rc)")

    def chats_loaded(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO,
                              env={**os.environ, "LOCKER_HOME": str(home)})
        return proc.stdout.strip().splitlines()[-1]

    assert chats_loaded("new", "耳机退款", "--slug", "e") == "False 0"
    assert chats_loaded("add", "e", *map(str, pictures)) == "False 0"
    assert chats_loaded("add", "e", str(samples.make_plain_chat(tmp_path / "chat.txt"))) == "True 0"


def test_console_script_and_module_entry(home) -> None:  # noqa: ANN001
    proc = run_locker("--help", home=home)
    assert proc.returncode == 0 and "verify" in proc.stdout
    proc = run_locker("show", "missing", home=home)
    assert proc.returncode == 1 and proc.stderr == "locker: no dispute named 'missing' (see `locker list`)\n"
    proc = run_locker("--debug", "show", "missing", home=home)
    assert "Traceback" in proc.stderr


def test_control_characters_in_names_are_printed_safely(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    from tests import samples

    evil = samples.make_png(tmp_path / "evil\x1b[31mred\nline.png", 100, 200)
    ran = cli("add", dispute, evil)
    assert ran.code == 0, ran.err
    assert "\x1b" not in ran.out and "\\x1b" in ran.out
    shown = cli("show", dispute, "1")
    assert "\x1b" not in shown.out and "evil\\x1b[31mred\\nline.png" in shown.out


def test_what_the_locker_writes_is_private(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    import os
    import stat

    from tests import samples

    assert cli("add", dispute, samples.make_plain_chat(tmp_path / "chat.txt")).code == 0
    assert cli("export", dispute).code == 0
    assert cli("search", "退款").code == 0
    assert cli("profile", "--name", "张三").code == 0
    folder = home / "disputes" / dispute
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "dispute.sqlite").stat().st_mode) == 0o600
    assert any((home / "search").iterdir()) and any((folder / "exports").iterdir())
    for path in home.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, path
        elif path.parent.parent.name == "objects":
            assert mode == 0o444, path
        else:
            assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
    assert os.umask(0o022) == 0o022  # the caller's umask is given back
