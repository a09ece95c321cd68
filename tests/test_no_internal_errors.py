"""No internal errors, one JSON document always (issue 17, point 10).

Each way of getting it wrong below ends in one line on stderr, no traceback, exit 1 or 2 (130
after Ctrl-C); with --json, stdout holds exactly one document, {"error": {code, message, path}}
(schemas/error.schema.json), or add's added/errors form with that error beside them.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests import samples
from tests.conftest import REPO
from tests.test_contract import check

# A command that goes wrong on purpose: one error line, the --json document, the exit code.


def one_line_failure(ran, code: int) -> None:  # noqa: ANN001
    assert ran.code == code, (ran.code, ran.out, ran.err)
    assert "Traceback" not in ran.err and "internal error" not in ran.err, ran.err
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("locker: "), ran.err


def error_document(ran, code: int, error_code: str) -> dict:  # noqa: ANN001
    one_line_failure(ran, code)
    doc = json.loads(ran.out)  # exactly one document: json.loads refuses anything after it
    check(doc, "error")
    assert doc["error"]["code"] == error_code, doc
    assert doc["error"]["message"] in ran.err
    return doc["error"]


@pytest.mark.parametrize("args", [
    ("add", "earbuds", "{file}", "--tz", "+25:00"),
    ("event", "earbuds", "商家拒绝", "--at", "2025-05-03 15:20", "--tz", "+25:00"),
    ("event", "earbuds", "商家拒绝", "--at", "2025-05-03 15:20", "--tz", "-14:30"),
    ("profile", "--tz", "+25:00"),
    ("profile", "--tz", "+08:75"),
])
def test_an_out_of_range_zone_offset_is_a_usage_error(cli, dispute, tmp_path, args) -> None:  # noqa: ANN001
    png = samples.make_png(tmp_path / "a.png", 100, 200)
    args = [str(a).format(file=png) for a in args]
    ran = cli(*args)
    one_line_failure(ran, 2)
    assert "offset out of range" in ran.err
    ran = cli(*args, "--json")
    doc = json.loads(ran.out)
    if args[0] == "add":
        check(doc, "add")
        assert doc["added"] == [] and doc["error"]["code"] == "usage"
    else:
        error_document(ran, 2, "usage")
    assert cli("event", "earbuds", "ok", "--at", "2025-05-03 15:20", "--tz", "+14:00").code == 0


def test_a_home_that_is_a_file(cli, tmp_path) -> None:  # noqa: ANN001
    home = tmp_path / "not-a-folder"
    home.write_text("I am a file\n")
    png = samples.make_png(tmp_path / "a.png", 100, 200)
    for args in (("list",), ("show", "x"), ("verify",), ("search", "退款"), ("new", "退款"), ("profile",),
                 ("profile", "--name", "张三"), ("add", "x", png), ("log", "x"), ("reindex",)):
        one_line_failure(cli("--home", home, *args), 1)
        ran = cli("--home", home, *args, "--json")
        if args[0] == "add":
            assert json.loads(ran.out)["error"]["code"] == "home"
        else:
            assert error_document(ran, 1, "home")["path"] == str(home)
    assert home.read_text() == "I am a file\n"


COMMANDS_NEEDING_A_HOME = [
    ("add", "earbuds", "{file}"), ("list",), ("show", "earbuds"), ("show", "earbuds", "1"), ("export", "earbuds"),
    ("event", "earbuds", "x", "--at", "2025-05-03"), ("status", "earbuds", "closed"),
    ("withdraw", "earbuds", "1", "--reason", "x"), ("verify",), ("gc", "earbuds"), ("rebuild", "earbuds"),
    ("log", "earbuds"), ("search", "退款"), ("reindex",),
]


@pytest.mark.parametrize("args", COMMANDS_NEEDING_A_HOME, ids=lambda a: "-".join(a[:2]))
def test_a_home_folder_that_does_not_exist_is_an_error(cli, tmp_path, args) -> None:  # noqa: ANN001
    missing = tmp_path / "typo-home"
    png = samples.make_png(tmp_path / "a.png", 100, 200)
    args = [str(a).format(file=png) for a in args]
    one_line_failure(cli("--home", missing, *args), 1)
    ran = cli("--home", missing, *args, "--json")
    doc = json.loads(ran.out)
    error = doc["error"]
    assert error["code"] == "home" and error["path"] == str(missing)
    assert not missing.exists()


def test_new_and_profile_may_make_a_home_that_does_not_exist(cli, tmp_path) -> None:  # noqa: ANN001
    fresh = tmp_path / "fresh"
    assert cli("--home", fresh, "profile", "--json").code == 0
    assert cli("--home", fresh, "new", "耳机退款", "--slug", "earbuds", "--json").code == 0
    assert cli("--home", fresh, "list", "--json").json[0]["slug"] == "earbuds"


@pytest.mark.parametrize("args", [
    ("show", "earbuds", "99999999999999999999"),
    ("withdraw", "earbuds", "99999999999999999999", "--reason", "x"),
    ("event", "earbuds", "x", "--at", "2025-05-03", "--exhibit", "99999999999999999999"),
])
def test_a_twenty_digit_exhibit_number_names_no_exhibit(cli, dispute, args) -> None:  # noqa: ANN001
    ran = cli(*args)
    one_line_failure(ran, 1)
    assert "has no exhibit" in ran.err
    error_document(cli(*args, "--json"), 1, "not_found")


def test_usage_errors_with_json_are_a_document_too(cli, dispute) -> None:  # noqa: ANN001
    error = error_document(cli("show", dispute, "--no-such-option", "--json"), 2, "usage")
    assert "--no-such-option" in error["message"]
    error_document(cli("show", dispute, "not-a-number", "--json"), 2, "usage")
    error_document(cli("nonsense-command", "--json"), 2, "usage")
    ran = cli("show", dispute, "--no-such-option")  # without --json, typer's own usage message as before
    assert ran.code == 2 and ran.out == "" and "No such option" in ran.err


def test_locker_errors_and_not_found_with_json(cli, dispute) -> None:  # noqa: ANN001
    for args in (("show", "nope"), ("log", "nope"), ("export", "nope"), ("verify", "nope"), ("gc", "nope")):
        error_document(cli(*args, "--json"), 1, "not_found")
    ran = cli("add", "nope", REPO / "README.md", "--json")
    assert ran.code == 1
    doc = ran.json
    check(doc, "add")
    assert doc["added"] == [] and doc["errors"] == [] and doc["error"]["code"] == "not_found"


def test_one_unreadable_dispute_never_hides_the_others(cli, home) -> None:  # noqa: ANN001
    for slug in ("first", "broken", "third"):
        assert cli("new", f"dispute {slug}", "--slug", slug).code == 0
    db = home / "disputes" / "broken" / "dispute.sqlite"
    db.chmod(0o600)
    db.write_bytes(b"this is not a database, it was overwritten " * 100)
    ran = cli("list")
    assert ran.code == 0, ran.err
    assert "first" in ran.out and "third" in ran.out
    assert "broken" in ran.err and "not listed" in ran.err and "Traceback" not in ran.err
    ran = cli("list", "--json")
    assert ran.code == 0
    check(ran.json, "list")
    assert sorted(d["slug"] for d in ran.json) == ["first", "third"]
    assert "broken" in ran.err


# --- a read-only home ---------------------------------------------------------------------

# Runs inside a user and mount namespace: the home is bind-mounted read-only at argv[2] (root
# ignores file modes, a read-only mount it cannot ignore), then each command runs there.
RO_DRIVER = textwrap.dedent("""
    import json, os, subprocess, sys
    home, steps = sys.argv[1], json.loads(sys.argv[2])
    env = {**os.environ, "LOCKER_HOME": home, "TZ": "UTC"}
    out = []
    for args in steps:
        p = subprocess.run([sys.executable, "-m", "locker", *args], capture_output=True, text=True, env=env)
        out.append({"args": args, "code": p.returncode, "out": p.stdout, "err": p.stderr})
    print(json.dumps(out))
""")


def _read_only(source: Path, mount: Path, steps: list[list[str]]) -> list[dict]:
    unshare = shutil.which("unshare")
    assert unshare, "this test needs `unshare` (util-linux) for a read-only bind mount without root"
    mount.mkdir()
    script = ('mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" || exit 97; '
              'touch "$2/probe" 2>/dev/null && exit 98; shift 2; exec "$@"')
    cmd = [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", str(source), str(mount),
           sys.executable, "-c", RO_DRIVER, str(mount), json.dumps(steps)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode not in (97, 98), f"could not make a read-only bind mount: {proc.stderr}"
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


def test_a_read_only_home_is_read_and_never_written(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    samples.make_png(tmp_path / "in" / "a.png", 200, 400)
    samples.make_jpeg_with_exif(tmp_path / "in" / "IMG_20250503_150102.jpg")
    assert cli("add", dispute, tmp_path / "in").code == 0
    assert cli("event", dispute, "商家拒绝退款", "--at", "2025-05-03 15:20").code == 0
    assert cli("search", "退款").code == 0  # a search catalog exists in the home, as it would
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    assert not list(copy.rglob("*-shm")), "the copy is of a closed home: no -shm files"
    before = _tree(copy)
    reading = [["list"], ["show", dispute], ["show", dispute, "1"], ["verify"], ["verify", dispute],
               ["log", dispute], ["search", "退款"], ["list", "--json"], ["verify", "--json"]]
    writing = [["add", dispute, str(samples.make_png(tmp_path / "b.png", 100, 200, seed=3))],
               ["event", dispute, "x", "--at", "2025-05-04"], ["status", dispute, "closed"],
               ["withdraw", dispute, "1", "--reason", "x"], ["new", "another dispute"], ["profile", "--name", "张三"],
               ["export", dispute], ["rebuild", dispute], ["reindex"], ["status", dispute, "closed", "--json"]]
    results = _read_only(copy, tmp_path / "mnt", reading + writing)
    for r in results[:len(reading)]:
        assert r["code"] == 0 and r["err"] == "", r
    assert "1 objects re-hashed" in results[3]["out"] or "2 objects re-hashed" in results[3]["out"], results[3]
    assert "商家拒绝退款" in results[6]["out"]
    assert [d["slug"] for d in json.loads(results[7]["out"])] == [dispute]
    assert json.loads(results[8]["out"])["ok"] is True
    for r in results[len(reading):]:
        assert r["code"] == 1, r
        assert "Traceback" not in r["err"] and "internal error" not in r["err"], r
        assert len(r["err"].strip().splitlines()) == 1 and "read-only" in r["err"], r
    assert json.loads(results[-1]["out"])["error"]["message"].startswith("the locker home is read-only")
    assert _tree(copy) == before


# --- Ctrl-C --------------------------------------------------------------------------------

def _session_processes(sid: int) -> list[int]:
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(stat.split("/")[2]))
    return found


def _as_at_a_terminal() -> None:
    """Give the child SIGINT's default action, as a shell does for a foreground command. A command
    started in the background by a non-interactive shell (as a CI runner may start the suite)
    inherits SIGINT ignored, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_export_leaves_nothing_behind(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    """Ctrl-C reaches the whole foreground process group: the command and its worker processes."""
    for i in range(24):
        samples.make_jpeg(tmp_path / "in" / f"p{i:02}.jpg", 2000, 1500, seed=i)
    samples.make_long_screenshot(tmp_path / "in" / "long.png")
    assert cli("add", dispute, tmp_path / "in").code == 0
    exports = home / "disputes" / dispute / "exports"
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    proc = subprocess.Popen([sys.executable, "-m", "locker", "export", dispute, "--json"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_as_at_a_terminal)
    deadline = time.monotonic() + 120
    # Wait until the pack is being made: worker processes started, or its temp file written.
    while time.monotonic() < deadline and proc.poll() is None:
        if len(_session_processes(proc.pid)) > 1 or any(p.name.startswith(".tmp") for p in exports.iterdir()):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the export ended before it could be interrupted: give it more to do"
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.strip().splitlines()[-1] == "locker: interrupted", err
    assert "Traceback" not in err
    assert json.loads(out)["error"]["code"] == "interrupted"
    time.sleep(0.5)
    assert _session_processes(proc.pid) == [], "worker processes outlived the export"
    assert list(exports.iterdir()) == []
    assert cli("verify", dispute).code == 0
    assert [e["action"] for e in cli("log", dispute, "--json").json].count("export.created") == 0


# A Ctrl-C that lands inside library code which catches everything, made to land there for sure: the
# launcher raises SIGINT in the process (Python's handler runs at once, inside the library's try).
SWALLOWED_LAUNCHER = textwrap.dedent("""
    import signal, sys
    from importlib.abc import MetaPathFinder
    class CtrlCAtPyphen(MetaPathFinder):  # reportlab's paragraph module: try: import pyphen / except: None
        def find_spec(self, name, path=None, target=None):
            if name == "pyphen":
                signal.raise_signal(signal.SIGINT)
            return None
    sys.meta_path.insert(0, CtrlCAtPyphen())
    from locker.cli import main
    sys.exit(main())
""")
CONVERTED_LAUNCHER = textwrap.dedent("""
    import signal, sys
    from reportlab.lib import colors
    real = colors.HexColor
    def HexColor(*args, **kw):
        caller = sys._getframe(1)
        if caller.f_code.co_name == "__call__" and caller.f_globals is vars(colors):  # toColor, which
            colors.HexColor = real  # answers any exception with ValueError("Invalid color value")
            signal.raise_signal(signal.SIGINT)
        return real(*args, **kw)
    colors.HexColor = HexColor
    from locker.cli import main
    sys.exit(main())
""")


@pytest.mark.parametrize("launcher", [SWALLOWED_LAUNCHER, CONVERTED_LAUNCHER], ids=["swallowed", "converted"])
def test_ctrl_c_inside_a_library_that_catches_everything_still_stops_the_export(cli, dispute, home, tmp_path,
                                                                                 launcher) -> None:  # noqa: ANN001
    """reportlab swallows an exception while it imports (its optional hyphenation) and turns any exception in
    its colour parser into ValueError: a Ctrl-C there must still stop the export, said as a Ctrl-C."""
    for i in range(3):
        samples.make_jpeg(tmp_path / "in" / f"p{i}.jpg", 800, 600, seed=i)
    assert cli("add", dispute, tmp_path / "in").code == 0
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    proc = subprocess.run([sys.executable, "-c", launcher, "export", dispute, "--json"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, preexec_fn=_as_at_a_terminal)
    assert proc.returncode == 130, (proc.returncode, proc.stderr)
    assert proc.stderr.strip().splitlines() == ["locker: interrupted"], proc.stderr
    assert json.loads(proc.stdout)["error"]["code"] == "interrupted"
    assert list((home / "disputes" / dispute / "exports").iterdir()) == []
    assert [e["action"] for e in cli("log", dispute, "--json").json].count("export.created") == 0


def test_ctrl_c_through_code_run_by_exec_still_ends_with_130(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    """CPython marks a KeyboardInterrupt that leaves code exec() ran from a string (dataclasses and
    namedtuples are made so, while modules import) as never handled, whoever catches it later; run as
    `python -m`, the process then killed itself with SIGINT after deciding on 130 (return code -2)."""
    (tmp_path / "ctrl_c_in_exec.py").write_text(textwrap.dedent("""
        import sys
        from locker.services import export
        def interrupted(*args, **kw):
            exec("import signal; signal.raise_signal(signal.SIGINT)")
        export.export = interrupted
        from locker.cli import main
        sys.exit(main())
    """))
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC", "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    for json_out in ([], ["--json"]):
        proc = subprocess.run([sys.executable, "-m", "ctrl_c_in_exec", "export", dispute, *json_out], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120, preexec_fn=_as_at_a_terminal)
        assert proc.returncode == 130, (proc.returncode, proc.stderr)
        assert proc.stderr.strip().splitlines()[-1] == "locker: interrupted", proc.stderr


ADD_LAUNCHER = textwrap.dedent("""
    import os, signal, sys
    from locker.services import ingest
    ingest.GROUP_FILES = 2
    real_commit = ingest._commit
    def _commit(*args, **kw):
        real_commit(*args, **kw)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, right after the first group is recorded
    ingest._commit = _commit
    from locker.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("json_out", [True, False])
def test_ctrl_c_during_add_reports_what_was_recorded(cli, dispute, home, tmp_path, json_out) -> None:  # noqa: ANN001
    folder = tmp_path / "in"
    for i in range(7):
        samples.make_png(folder / f"s{i}.png", 120, 240, seed=i)
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    args = [sys.executable, "-c", ADD_LAUNCHER, "add", dispute, str(folder)] + (["--json"] if json_out else [])
    proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                          preexec_fn=_as_at_a_terminal)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "locker: interrupted" and "Traceback" not in proc.stderr
    recorded = [e["original_name"] for e in cli("show", dispute, "--json").json["exhibits"]]
    assert recorded == ["s0.png", "s1.png"]
    if json_out:
        doc = json.loads(proc.stdout)
        check(doc, "add")
        assert [a["original_name"] for a in doc["added"]] == recorded
        assert doc["error"]["code"] == "interrupted"
    else:
        assert "2 added" in proc.stdout and "s1.png" in proc.stdout
    assert not list((home / "disputes" / dispute / "objects").rglob(".tmp-*"))
    assert cli("verify", dispute).code == 0
