"""The command line speaks Simplified Chinese and English (issue 11 §3).

The catalogs are checked against the code: every string marked with ``_()``, ``N_()`` or
``ngettext`` is in the zh catalog and translated (no empty, no fuzzy entry, the same
placeholders), and no user-facing literal escapes the markers. Then the installed ``locker``
is run under ``LANG=zh_CN.UTF-8``: Chinese help and errors, ``--lang en`` wins, the profile's
``lang`` counts, and ``--json`` prints the same bytes in both languages.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import sqlite3
import string
import subprocess
import sys
from pathlib import Path

import pytest

from locker import i18n
from tests.conftest import REPO

LOCKER = Path(sys.executable).with_name("locker")  # the console script of this environment
PO = REPO / "locker" / "locale" / "zh" / "LC_MESSAGES" / "locker.po"
MO = PO.with_suffix(".mo")
FIX = "run `bash scripts/i18n.sh` (extract, update, compile) and translate what it reports"


def _catalog():  # noqa: ANN202
    from babel.messages.pofile import read_po

    with PO.open("rb") as f:
        return read_po(f, locale="zh")


def _extracted() -> dict[str, list[str]]:
    """msgid → where, as scripts/i18n.sh extracts them (babel.cfg: every module of locker/, the web app's templates)."""
    from babel.messages.extract import extract_from_dir

    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(REPO / "locker"), method_map=[("**.py", "python"), ("web/templates/**.html", "jinja2")]):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"locker/{filename}:{lineno}")
    return found


def test_every_marked_string_is_in_the_zh_catalog() -> None:
    have = {m.id[0] if isinstance(m.id, tuple) else m.id for m in _catalog() if m.id}
    missing = {k: v for k, v in _extracted().items() if k not in have}
    assert not missing, f"strings not in {PO.relative_to(REPO)} ({FIX}):\n" + "\n".join(
        f"  {where[0]}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda kv: kv[1]))


def _fields(text: str) -> set[str]:
    return {f"{name}!{conv}" if conv else name
            for _lit, name, _spec, conv in string.Formatter().parse(text) if name is not None}


def test_the_zh_catalog_has_no_untranslated_or_fuzzy_entry() -> None:
    problems = []
    for m in _catalog():
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strs = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        elif not all(strs):
            problems.append(f"untranslated: {ids[0]!r}")
        elif any(_fields(s) != _fields(ids[0]) for s in strs):
            problems.append(f"placeholders differ: {ids[0]!r} → {strs[0]!r}")
    assert not problems, f"{PO.relative_to(REPO)} ({FIX}):\n  " + "\n  ".join(problems)


def test_the_compiled_catalog_is_there_and_current() -> None:
    """The .mo is made at install (setup.py) and by scripts/i18n.sh; a stale one shows old text."""
    assert MO.is_file(), f"{MO.relative_to(REPO)} is missing: run `bash scripts/i18n.sh compile`"
    assert MO.stat().st_mtime >= PO.stat().st_mtime, "the .mo is older than the .po: run `bash scripts/i18n.sh compile`"


# --- the lint: user-facing literals go through _() / N_() ------------------------------------

ERRORS = {"LockerError"}
# Errors whose message is kept or printed in a language of its own, so it stays English:
UNTRANSLATED = {
    "ChatError": "why a file could not be read as a chat is stored in the exhibit's warnings (its database), "
                 "which never depend on the language of the run that added it",
    "DerivationError": "a picture or video that cannot be decoded is reported inside the pack, whose language "
                       "is its own (--lang of export, report/labels.py)",
}
INTERFACE = ("cli.py", "render.py", "shell.py", "commands")  # modules that talk to the user
SAYS = {"echo", "print", "print_warning", "print_error", "_text", "write"}  # what prints there
WORDS = re.compile(r"[A-Za-z]{2,}")


def _modules() -> list[Path]:
    return sorted((REPO / "locker").rglob("*.py"))


@functools.cache
def _error_classes() -> frozenset[str]:
    """LockerError and every class derived from it, anywhere in locker/."""
    names, skipped = set(ERRORS), set(UNTRANSLATED)
    trees = [ast.parse(p.read_text(encoding="utf-8")) for p in _modules()]
    grew = True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names | skipped and any(
                        (isinstance(b, ast.Name) and b.id in names) or (isinstance(b, ast.Attribute) and b.attr in names)
                        for b in node.bases):
                    names.add(node.name)
                    grew = True
    return frozenset(names)


def _literal_words(node: ast.AST) -> str:
    """The words a literal argument carries itself (not its placeholders), "" for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    elif isinstance(node, ast.BinOp):
        return " ".join(w for w in (_literal_words(node.left), _literal_words(node.right)) if w)
    else:
        return ""
    return " ".join(WORDS.findall(text.replace("locker", "")))  # the program's name is no word to translate


def _name(func: ast.AST) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _unmarked(paths: list[Path] | None = None, root: Path = REPO / "locker") -> list[str]:
    errors = _error_classes()
    found = []
    for path in paths or _modules():
        rel = path.relative_to(root).as_posix()
        interface = rel.startswith(INTERFACE)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and interface:
                for deco in node.decorator_list:  # @app.command(): help=N_(...), not a docstring
                    if isinstance(deco, ast.Call) and _name(deco.func) == "command":
                        if ast.get_docstring(node) and not any(k.arg == "help" for k in deco.keywords):
                            found.append(f"{rel}:{node.lineno}: command {node.name}: its help is a docstring; "
                                         f"write @app.command(help=N_(...))")
            if isinstance(node, ast.JoinedStr):
                for inner in ast.walk(node):  # Babel does not look inside an f-string's expressions
                    if (isinstance(inner, ast.Call) and _name(inner.func) in ("_", "N_", "ngettext") and inner.args
                            and isinstance(inner.args[0], ast.Constant)):  # _(NAMES[k]) has nothing to extract
                        found.append(f"{rel}:{inner.lineno}: _() inside an f-string is not extracted: "
                                     f"translate first, then put the result in the f-string")
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name == "_" and node.args and isinstance(node.args[0], ast.JoinedStr):
                found.append(f"{rel}:{node.lineno}: an f-string inside _(): fill named placeholders after _()")
            if name in errors and node.args and _literal_words(node.args[0]):
                found.append(f"{rel}:{node.lineno}: {name}({_literal_words(node.args[0])!r}…) without _()")
            if name in ("Option", "Argument", "command", "callback", "Typer"):
                for k in node.keywords:
                    if k.arg == "help" and _literal_words(k.value):
                        found.append(f"{rel}:{node.lineno}: help={_literal_words(k.value)!r}… without N_()")
            if interface and name in SAYS:
                for arg in node.args:
                    if _literal_words(arg):
                        found.append(f"{rel}:{node.lineno}: {name}({_literal_words(arg)!r}…) without _()")
    return found


def test_no_user_facing_literal_escapes_the_catalog() -> None:
    found = _unmarked()
    assert not found, "user-facing text not marked for translation:\n  " + "\n  ".join(found)


def test_the_lint_sees_what_it_is_for(tmp_path: Path) -> None:
    """The lint's rules, on the kinds of line they are meant to catch."""
    assert _literal_words(ast.parse('f"no dispute named {ref!r}"', mode="eval").body) == "no dispute named"
    assert _literal_words(ast.parse('f"{a}: {b}"', mode="eval").body) == ""
    assert _literal_words(ast.parse('f"locker: {message}"', mode="eval").body) == ""
    assert {"NotFound", "UsageError", "StoreError", "FontNotFound"} <= _error_classes()
    bad = tmp_path / "cli.py"
    bad.write_text(
        'raise NotFound(f"no dispute named {ref!r}")\n'
        'typer.Option(None, help="Only disputes on this platform.")\n'
        'typer.echo(f"{slug} is now {status}.")\n'
        'print_warning(f"{_(\'warning\')}: x")\n'
        '_(f"no exhibit {n}")\n'
        '@app.command()\ndef new():\n    """Open a dispute."""\n', encoding="utf-8")
    found = _unmarked([bad], tmp_path)
    assert len(found) == 6, found
    good = tmp_path / "render.py"
    good.write_text('raise NotFound(_("no dispute named {ref!r}").format(ref=ref))\n'
                    'typer.Option(None, help=N_("Only disputes on this platform."))\n'
                    'print_error(f"{path}: {message}")\n', encoding="utf-8")
    assert _unmarked([good], tmp_path) == []


# --- the language of a run ---------------------------------------------------------------------

def test_the_language_rule() -> None:
    env = {"LANG": "zh_CN.UTF-8"}
    assert i18n.choose(None, None, env) == "zh"
    assert i18n.choose("en", None, env) == "en"  # --lang first
    assert i18n.choose(None, "en", env) == "en"  # then the profile
    assert i18n.choose(None, None, {"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}) == "en"  # POSIX: LC_ALL wins
    assert i18n.choose(None, None, {"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "en_US"}) == "zh"
    assert i18n.choose(None, None, {"LANG": "fr_FR.UTF-8"}) == "en"  # a language we do not speak
    assert i18n.choose(None, None, {}) == "en"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    return {**env, "LOCKER_HOME": str(home), "TZ": "UTC", **extra}


def _locker(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LOCKER), *args], capture_output=True, text=True, env=_env(home, **env), cwd=REPO)


ZH = {"LANG": "zh_CN.UTF-8"}


@pytest.fixture
def lockerhome(tmp_path: Path, cli) -> Path:  # noqa: ANN001
    """A home with one dispute, made in this process (the tests' own runs are the children)."""
    lockerhome = tmp_path / "home"
    ran = cli("--home", lockerhome, "new", "小红书无线耳机退款", "--slug", "earbuds", "--amount", "199.00")
    assert ran.code == 0, ran.err
    return lockerhome


def test_help_and_errors_in_chinese_under_a_chinese_locale(lockerhome: Path) -> None:
    ran = _locker("--help", home=lockerhome, **ZH)
    assert ran.returncode == 0 and "用法：locker" in ran.stdout and "证据柜" in ran.stdout
    assert "把文件或文件夹作为证据加入纠纷" in ran.stdout  # a command's one-line help
    ran = _locker("add", "--help", home=lockerhome, **ZH)
    assert "逐字节保存" in ran.stdout and "你自己的备注" in ran.stdout and "显示此帮助信息并退出" in ran.stdout
    ran = _locker("show", "nothing-here", home=lockerhome, **ZH)
    assert ran.returncode == 1 and "没有名为 'nothing-here' 的纠纷" in ran.stderr
    ran = _locker("new", "x", "--amount", "abc", home=lockerhome, **ZH)
    assert ran.returncode == 2 and "不是有效的金额" in ran.stderr
    ran = _locker("add", "earbuds", home=lockerhome, **ZH)  # click's own usage error
    assert ran.returncode == 2 and "用法：locker add" in ran.stderr and "错误：缺少参数 FILE…" in ran.stderr
    ran = _locker("show", "earbuds", home=lockerhome, **ZH)
    assert "状态：进行中（open）" in ran.stdout and "金额" in ran.stdout  # the code a command takes, glossed


def test_lang_en_wins_over_the_locale_before_or_after_the_command(lockerhome: Path) -> None:
    for args in (("--lang", "en", "show", "nothing-here"), ("show", "nothing-here", "--lang", "en"),
                 ("show", "nothing-here", "--lang=en")):
        ran = _locker(*args, home=lockerhome, **ZH)
        assert ran.returncode == 1 and "no dispute named 'nothing-here'" in ran.stderr, (args, ran.stderr)
    assert "Usage: locker" in _locker("--lang", "en", "--help", home=lockerhome, **ZH).stdout
    ran = _locker("--lang", "fr", "list", home=lockerhome)
    assert ran.returncode == 2 and "--lang must be zh or en" in ran.stderr


def test_the_profile_language_counts_and_lang_still_wins(lockerhome: Path) -> None:
    assert _locker("profile", "--lang", "zh", home=lockerhome, LANG="C").returncode == 0
    assert "没有名为" in _locker("show", "nothing-here", home=lockerhome, LANG="C").stderr
    assert "no dispute named" in _locker("--lang", "en", "show", "nothing-here", home=lockerhome, LANG="C").stderr


def test_json_is_the_same_in_every_language(lockerhome: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("LOCKER_HOME", str(lockerhome))
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    for args in (("show", "earbuds", "--json"), ("list", "--json"), ("show", "nothing-here", "--json"),
                 ("new", "y", "--amount", "abc", "--json"), ("--lang", "zh", "search", "退款", "--json")):
        monkeypatch.setenv("LANG", "zh_CN.UTF-8")
        zh = cli(*args)
        monkeypatch.setenv("LANG", "C")
        en = cli(*args)
        assert zh.out == en.out and zh.code == en.code, args
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert "no dispute named" in cli("show", "nothing-here", "--json").json["error"]["message"]
    assert "没有名为" in cli("show", "nothing-here").err  # the same run without --json speaks Chinese


@pytest.mark.slow
def test_a_wheel_built_from_the_repository_carries_the_compiled_catalog(tmp_path: Path) -> None:
    """`pip install .` from a clean clone: the .mo is compiled by setup.py into the wheel (the
    repository holds only the .po)."""
    import gettext
    import io
    import shutil
    import zipfile

    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    src = tmp_path / "src"
    for name in files:
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    assert not list(src.rglob("*.mo"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
                            str(src)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("locker-*.whl")
    with zipfile.ZipFile(wheel) as z:
        mo = z.read("locker/locale/zh/LC_MESSAGES/locker.mo")
    catalog = gettext.GNUTranslations(io.BytesIO(mo))
    assert catalog.gettext("no dispute named {name} (see `locker list`)") == "没有名为 {name} 的纠纷（参见 `locker list`）"


def test_verify_says_what_it_found_in_the_users_language(lockerhome: Path) -> None:
    """A problem's detail is translated like every other message (its code stays as it is)."""
    con = sqlite3.connect(lockerhome / "disputes" / "earbuds" / "dispute.sqlite")
    with con:
        con.execute("UPDATE dispute SET status = 'resolved'")
    con.close()
    zh = _locker("--lang", "zh", "verify", home=lockerhome, LANG="C", COLUMNS="200")
    assert zh.returncode == 1, zh.stderr
    assert "row_altered" in zh.stdout and "状态为 'resolved'，保管日志记录的是 'open'" in zh.stdout, zh.stdout
    assert "the custody log says" not in zh.stdout
    en = _locker("--lang", "en", "verify", home=lockerhome, COLUMNS="200", **ZH)
    assert en.returncode == 1, en.stderr
    assert "status is 'resolved', the custody log says 'open'" in en.stdout, en.stdout
