"""A command line that fits people's habits (issue 11 §4): --version, completion of disputes
and exhibit numbers, bare ``locker``, metavars people understand, --home anywhere, and piped
output that is neither folded nor padded."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from locker import __version__, shell
from tests.conftest import REPO

LOCKER = Path(sys.executable).with_name("locker")


def _locker(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    return subprocess.run([str(LOCKER), *args], capture_output=True, text=True, cwd=REPO,
                          env={**base, "LOCKER_HOME": str(home), "TZ": "UTC", "LANG": "C.UTF-8", **env})


@pytest.fixture
def lockerhome(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: ANN001
    """A home with two disputes; earbuds holds two exhibits."""
    lockerhome = tmp_path / "home"
    monkeypatch.setenv("LOCKER_HOME", str(lockerhome))
    assert cli("new", "小红书无线耳机退款", "--slug", "earbuds").code == 0
    assert cli("new", "淘宝充电宝", "--slug", "powerbank").code == 0
    for name in ("聊天截图.txt", "receipt.txt"):
        (tmp_path / name).write_text(f"evidence {name}\n", encoding="utf-8")
    assert cli("add", "earbuds", str(tmp_path / "聊天截图.txt"), str(tmp_path / "receipt.txt"),
               "--title", "付款凭证").code == 0
    return lockerhome


def test_version(cli) -> None:  # noqa: ANN001
    ran = cli("--version")
    assert ran.code == 0 and ran.out.strip() == f"locker {__version__}"


def test_bare_locker_gives_an_overview_and_exits_0(lockerhome: Path) -> None:
    ran = _locker(home=lockerhome)
    assert ran.returncode == 0, ran.stderr
    assert "Commands:" in ran.stdout and "  add " in ran.stdout and "  export " in ran.stdout
    assert f"Home: {lockerhome} (2 disputes)" in ran.stdout
    assert "locker COMMAND --help" in ran.stdout
    ran = _locker(home=lockerhome / "not-yet")
    assert ran.returncode == 0 and "not made yet" in ran.stdout


def test_bare_locker_in_chinese(lockerhome: Path, cli) -> None:  # noqa: ANN001
    ran = cli("--lang", "zh")
    assert ran.code == 0
    assert "命令：" in ran.out and f"主目录：{lockerhome}（2 个纠纷）" in ran.out
    assert "  add       把文件或文件夹作为证据加入纠纷" in ran.out  # a one-line help cut at a sentence


def test_home_before_or_after_the_command(lockerhome: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"  # LOCKER_HOME points here: only --home finds the disputes
    for args in (("--home", str(lockerhome), "list"), ("list", "--home", str(lockerhome)), ("list", f"--home={lockerhome}"),
                 ("show", "earbuds", "2", "--home", str(lockerhome))):
        ran = _locker(*args, home=elsewhere)
        assert ran.returncode == 0, (args, ran.stderr)
        assert ("earbuds" in ran.stdout) or ("付款凭证" in ran.stdout), args
    # a value that only looks like an option is left alone after "--"
    assert shell.hoist_globals(["add", "x", "--", "--home"], _group()) == ["add", "x", "--", "--home"]
    # a command with a --lang of its own keeps it
    assert shell.hoist_globals(["export", "x", "--lang", "en"], _group()) == ["export", "x", "--lang", "en"]
    assert shell.hoist_globals(["show", "x", "--lang", "en"], _group()) == ["--lang", "en", "show", "x"]


def _group():  # noqa: ANN202
    import typer

    from locker.cli import app

    return typer.main.get_command(app)


# click's type names and Python types; TEXT only where click put it (an explicit metavar TEXT,
# as in the issue's `--reason TEXT`, is a word, checked on the parameters below).
LEAKS = re.compile(r"\b(INTEGER|FLOAT|BOOLEAN|UUID|FILENAME|DIRECTORY)\b|<\w+(\[[\w, ]+\])?>|\w\.\.\.|"
                   r"\[[A-Z_]+:")


def test_help_shows_metavars_people_understand(cli) -> None:  # noqa: ANN001
    """Every command's help, in both languages: no Python type, no click type name."""
    names = sorted(_group().commands)
    assert {"add", "show", "export", "event"} <= set(names)
    for lang in ("en", "zh"):
        for name in names:
            ran = cli("--lang", lang, name, "--help")
            assert ran.code == 0, (name, ran.err)
            leak = LEAKS.search(ran.out)
            assert leak is None, f"locker {name} --help ({lang}) shows {leak.group()!r}:\n{ran.out}"
    group = shell.prepare(_group())
    for name, command in group.commands.items():
        for param in command.params:  # every value has a metavar of ours, never click's type name
            if not getattr(param, "is_flag", False):
                assert param.metavar, (name, param.name)
    add = cli("add", "--help").out
    assert "DISPUTE FILE…" in add and "--captured-at WHEN" in add and "2025-05-03T15:21" in add
    event = cli("event", "--help").out
    assert "--at WHEN" in event and "2025-05-03T15:21" in event and "--exhibit N" in event
    assert "DISPUTE [N]" in cli("show", "--help").out


def test_completion_callbacks_read_the_home(lockerhome: Path) -> None:
    assert shell.dispute_slugs(str(lockerhome)) == ["earbuds", "powerbank"]
    assert shell.exhibit_numbers(str(lockerhome), "earbuds") == [("1", "付款凭证"), ("2", "付款凭证")]
    assert shell.exhibit_numbers(str(lockerhome), "ear") == [("1", "付款凭证"), ("2", "付款凭证")]  # a prefix
    assert shell.exhibit_numbers(str(lockerhome), "nothing") == []
    assert shell.dispute_slugs(str(lockerhome / "none")) == []


def _complete(home: Path, words: str, **env: str) -> list[str]:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    ran = _locker(home=home, _LOCKER_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword), **env)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.split()


def test_shell_completion_of_disputes_and_exhibit_numbers(lockerhome: Path, tmp_path: Path) -> None:
    assert _complete(lockerhome, "locker show ") == ["earbuds", "powerbank"]
    assert _complete(lockerhome, "locker export p") == ["powerbank"]
    assert _complete(lockerhome, "locker withdraw earbuds ") == ["1", "2"]
    assert _complete(lockerhome, "locker show powerbank ") == []
    assert _complete(tmp_path / "other", f"locker --home {lockerhome} add e") == ["earbuds"]  # --home counts


def test_completion_script_and_install(lockerhome: Path, tmp_path: Path) -> None:
    ran = _locker("--show-completion", "bash", home=lockerhome, _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    assert ran.returncode == 0 and "_LOCKER_COMPLETE=complete_bash" in ran.stdout
    assert "complete -o default -F _locker_completion locker" in ran.stdout
    ran = _locker("--install-completion", "bash", home=lockerhome, HOME=str(tmp_path),
                  _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    assert ran.returncode == 0, ran.stderr
    assert "_LOCKER_COMPLETE" in (tmp_path / ".bash_completions" / "locker.sh").read_text()
    assert "--install-completion" in _locker("--help", home=lockerhome).stdout


def test_piped_output_is_not_folded_and_has_no_trailing_spaces(lockerhome: Path, cli) -> None:  # noqa: ANN001
    """Through a pipe (a child process) for list and show; the other commands in this process,
    whose stdout is not a terminal either."""
    title = "退款 " + " ".join(f"word{i}" for i in range(29))  # about 200 columns: TITLE_MAX allows no more
    assert _locker("new", title, "--slug", "long", home=lockerhome).returncode == 0
    runs = []
    for lang in ("en", "zh"):
        for args in (("list",), ("show", "long")):
            ran = _locker("--lang", lang, *args, home=lockerhome)
            assert ran.returncode == 0, (args, ran.stderr)
            assert any(title in ln for ln in ran.stdout.splitlines()), (args, lang, "the title was folded")
            runs.append((args, lang, ran.stdout))
        for args in (("show", "earbuds"), ("show", "earbuds", "1"), ("log", "earbuds"), ("search", "退款"),
                     ("verify",), ("profile",), ("list",)):
            ran = cli("--lang", lang, *args)
            assert ran.code == 0, (args, ran.err)
            runs.append((args, lang, ran.out))
    for args, lang, out in runs:
        assert out.strip(), (args, lang)
        assert not [ln for ln in out.splitlines() if ln != ln.rstrip()], (args, lang, "trailing spaces")


def test_the_fast_default_home_is_the_default_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The language is read from the profile before any command runs, without platformdirs."""
    from locker.paths import default_home

    for xdg in (None, str(tmp_path / "xdg"), "  "):
        if xdg is None:
            monkeypatch.delenv("XDG_DATA_HOME", raising=False)
        else:
            monkeypatch.setenv("XDG_DATA_HOME", xdg)
        assert shell._default_home() == str(default_home()), xdg
