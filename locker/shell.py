"""What the command line does around its commands: global options wherever they are typed,
the language of the run, help in that language, completion of disputes and exhibit numbers.

``locker.cli.main`` makes the click group once per process (each command is built when first
asked for: ``locker.cli.LazyCommands``), hands it to :func:`prepare` at every run
(which translates every ``help=N_(...)``, gives options readable metavars and hooks the
completion callbacks), moves ``--home``/``--lang``/``--debug`` typed after the command in
front of it with :func:`hoist_globals`, and picks the language with :func:`language_of`.

Only typer (already loaded by ``locker.cli``) and the standard library are imported here, so
``locker --help`` stays fast; completion reads the home with ``os.scandir`` and ``sqlite3``.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import typer.core
from typer import _click as click  # typer vendors click: its classes are the ones in use

from . import i18n
from .i18n import N_, _
from .words import DATE_ORDERS, KINDS, LANGS, STATUSES

GLOBAL_VALUES = ("--home", "--lang")  # global options that take a value
GLOBAL_FLAGS = ("--debug",)

def help_values() -> dict[str, str]:
    """The placeholders a help text may use (``N_("{kinds}.")``), filled after translation."""
    return {"kinds": one_of(KINDS), "date_orders": one_of(DATE_ORDERS), "statuses": one_of(STATUSES),
            "langs": one_of(LANGS), "default_lang": LANGS[0]}


def one_of(words: Sequence[str]) -> str:
    """``a, b or c`` in the language of the run."""
    if len(words) == 1:
        return words[0]
    return _("{items} or {last}").format(items=_(", ").join(words[:-1]), last=words[-1])


# --- arguments ---------------------------------------------------------------------------

def _options_of(command: Any) -> set[str]:
    names: set[str] = set()
    for param in getattr(command, "params", ()):
        names.update(getattr(param, "opts", ()))
        names.update(getattr(param, "secondary_opts", ()))
    return names


def hoist_globals(args: Sequence[str], group: Any) -> list[str]:
    """``locker show x --home H`` → ``locker --home H show x``: a global option typed after the
    command moves in front of it, unless the command has an option of that name itself
    (``export --lang`` is the pack's language, ``profile --lang`` the profile's)."""
    args = list(args)
    front: list[str] = []
    i = 0
    while i < len(args):  # the global options before the command
        token = args[i]
        if token == "--":
            return args
        if token in GLOBAL_VALUES and i + 1 < len(args):
            front += args[i:i + 2]
            i += 2
            continue
        if token.startswith("-"):
            front.append(token)
            i += 1
            continue
        break
    if i >= len(args):
        return args
    name = args[i]
    command = group.commands.get(name) if hasattr(group, "commands") else None
    own = _options_of(command) if command is not None else set()
    rest: list[str] = []
    moved: list[str] = []
    j = i + 1
    while j < len(args):
        token = args[j]
        if token == "--":
            rest += args[j:]
            break
        option = token.split("=", 1)[0]
        if option in GLOBAL_VALUES and option not in own:
            if "=" in token:
                moved.append(token)
                j += 1
                continue
            if j + 1 < len(args):
                moved += args[j:j + 2]
                j += 2
                continue
        if token in GLOBAL_FLAGS and token not in own:
            moved.append(token)
            j += 1
            continue
        rest.append(token)
        j += 1
    return front + moved + [name] + rest


def _global_value(args: Sequence[str], option: str) -> str | None:
    """The value of a global option among the tokens before the command (after hoisting)."""
    found = None
    for i, token in enumerate(args):
        if token == "--":
            break
        if token == option and i + 1 < len(args):
            found = args[i + 1]
        elif token.startswith(option + "="):
            found = token.split("=", 1)[1]
        elif not token.startswith("-") and (i == 0 or args[i - 1] not in GLOBAL_VALUES):
            break  # the command: what follows is its own
    return found


def home_of(args: Sequence[str]) -> str | None:
    return _global_value(args, "--home")


def profile_language(home: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The profile's ``lang``, read without the services (a small TOML file, if there is one)."""
    env = os.environ if environ is None else environ
    if home:
        root = os.path.expanduser(home)
    elif env.get("LOCKER_HOME"):
        root = os.path.expanduser(env["LOCKER_HOME"])
    else:
        root = _default_home()
    try:
        with open(os.path.join(root, "locker.toml"), "rb") as f:
            raw = f.read(65536)
        import tomllib

        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None  # no profile, or a damaged one: the command that reads it will say so
    section = data.get("profile", data)
    value = section.get("lang") if isinstance(section, dict) else None
    return value if isinstance(value, str) else None


def _default_home() -> str:
    """paths.default_home() without importing platformdirs on Linux (``locker --help`` reads the
    profile's language and must start fast): the XDG rule platformdirs applies there."""
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_DATA_HOME", "").strip() or os.path.expanduser("~/.local/share")
        return os.path.join(base, "locker")
    from .paths import default_home

    return str(default_home())


def language_of(args: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """``--json`` → English; else ``--lang``, the profile's ``lang``, the locale, English."""
    if "--json" in args:
        return i18n.DEFAULT
    explicit = _global_value(args, "--lang")
    if i18n.normalize(explicit):
        return i18n.normalize(explicit) or i18n.DEFAULT
    env = os.environ if environ is None else environ
    return i18n.choose(None, profile_language(home_of(args), env), env)


# --- help in the language of the run -----------------------------------------------------

def width(text: str) -> int:
    """Terminal columns: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wide(text: str) -> bool:
    return any(unicodedata.east_asian_width(c) in "WF" for c in text)


_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"


@functools.cache
def _tokens() -> re.Pattern[str]:  # compiled when first needed: ~5 ms that --help in English never pays
    return re.compile(rf"\s+|[{_CJK}]|[^\s{_CJK}]+")
_NO_LINE_START = set("，。；：、）》」』！？…,.;:)")


def wrap(text: str, columns: int) -> list[str]:
    """Lines of at most ``columns`` terminal columns, broken at spaces or between CJK characters
    (click's wrapping counts characters and breaks only at spaces: a Chinese sentence has none)."""
    lines: list[str] = []
    line = ""
    for token in _tokens().findall(" ".join(text.split())):
        if token.isspace():
            line += " " if line and not line.endswith(" ") else ""
        elif not line.strip() or token in _NO_LINE_START or width(line + token) <= columns:
            line += token
        else:
            lines.append(line.rstrip())
            line = token
    if line.strip():
        lines.append(line.rstrip())
    return lines


class _Formatter(click.HelpFormatter):
    """click's help layout, in the language of the run and wrapped by terminal columns."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _("Usage: ") if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        shown = _("{heading}:").format(heading=heading)
        self.write(" " * self.current_indent + shown + "\n")

    def write_text(self, text: str) -> None:
        if not _wide(text):
            return super().write_text(text)
        indent = " " * self.current_indent
        for line in wrap(text, max(self.width - self.current_indent, 20)):
            self.write(f"{indent}{line}\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if not any(_wide(second) for _first, second in rows):
            return super().write_dl(rows, col_max, col_spacing)
        first_col = min(max((width(first) for first, _second in rows), default=0), col_max) + col_spacing
        text_width = max(self.width - first_col - 2, 10)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(second, text_width) or [""]
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


# click's own usage errors (its vendored copy has no gettext): pattern → their msgid.
_USAGE_ERRORS = (
    (r"Missing argument '(?P<name>.+)'\.$", N_("Missing argument '{name}'.")),
    (r"Missing option '(?P<name>.+)'\.$", N_("Missing option '{name}'.")),
    (r"No such option: (?P<name>\S+)$", N_("No such option: {name}")),
    (r"No such option: (?P<name>\S+) \(Possible options: (?P<options>.+)\)$",
     N_("No such option: {name} (Possible options: {options})")),
    (r"Got unexpected extra argument\(s\) \((?P<args>.*)\)$", N_("Got unexpected extra argument(s) ({args})")),
    (r"Option '(?P<name>.+)' requires an argument\.$", N_("Option '{name}' requires an argument.")),
    (r"Invalid value for '(?P<name>.+)': '(?P<value>.*)' is not a valid integer\.$",
     N_("Invalid value for '{name}': '{value}' is not a valid integer.")),
)


def usage_message(message: str) -> str:
    """One of click's usage errors in the language of the run (others as they are)."""
    for pattern, msgid in _USAGE_ERRORS:
        found = re.match(pattern, message)
        if found:
            return _(msgid).format(**found.groupdict())
    return message


def _show_usage_error(self: Any, file: Any = None) -> None:
    """click's UsageError.show, with its words translated."""
    file = sys.stderr if file is None else file
    if self.ctx is not None:
        hint = ""
        if self.ctx.command.get_help_option(self.ctx) is not None:
            hint = _("Try '{command} {option}' for help.").format(
                command=self.ctx.command_path, option=self.ctx.help_option_names[0]) + "\n"
        click.echo(f"{self.ctx.get_usage()}\n{hint}", file=file)
    click.echo(_("Error: {message}").format(message=usage_message(self.format_message())), file=file)


class LockerContext(click.Context):
    formatter_class = _Formatter


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def translate(text: str | None, values: Mapping[str, str] | None = None) -> str | None:
    """A help text marked with ``N_()``, in the language of the run, its placeholders filled."""
    if not text:
        return text
    shown = _(text)
    if "{" in shown and values:
        shown = shown.format_map(_Missing(values))
    return shown


# Arguments whose name says what they hold: their completion.
DISPUTE_PARAMS = ("dispute",)
EXHIBIT_PARAMS = ("number", "numbers", "exhibit", "exhibits")


def prepare(group: Any) -> Any:
    """Translate the help of every command and parameter, give options a metavar people
    understand (never a Python type), and complete disputes and exhibit numbers. The same group may
    be prepared again for another run's language (a process running several commands builds it once):
    the texts are translated from the ones the code wrote, kept at the first call. Commands not built
    yet (``locker.cli.LazyCommands``) are prepared as they are built."""
    click.exceptions.UsageError.show = _show_usage_error  # type: ignore[method-assign]
    typer.core._ = _  # type: ignore[attr-defined]  # typer's "[default: …]", "[required]", "Options", "Commands"
    prepare_commands([group], help_values())
    return group


def _subcommands(command: Any) -> list[Any]:
    """The commands of a group built so far (a lazy group's, see locker.cli.LazyCommands, or any other)."""
    found = getattr(command, "commands", None) or {}
    built = getattr(found, "built", None)
    return built() if built is not None else list(found.values())


def prepare_commands(commands: list[Any], values: Mapping[str, str]) -> None:
    """What :func:`prepare` does, for ``commands`` and the commands built in them."""
    for command in commands:  # groups within the group (locker remote …) too, as the list grows
        commands += [c for c in _subcommands(command) if c not in commands]
        command.context_class = LockerContext
        command.help = translate(_written(command, "help"), values)
        command.short_help = translate(_written(command, "short_help"), values) or _short(command.help)
        command.epilog = translate(_written(command, "epilog"), values)
        for param in command.params:
            written = _written(param, "help")
            if written:
                param.help = translate(written, values)
            if isinstance(param, typer.core.TyperOption) and not param.is_flag and param.metavar is None:
                param.metavar = (param.name or "value").upper()
            elif isinstance(param, typer.core.TyperArgument) and param.metavar is None:
                # never NAME:INTEGER or NAME... : an exhibit number is N, several are N…
                name = "N" if param.name in EXHIBIT_PARAMS else (param.name or "value").upper()
                param.metavar = name + ("…" if param.nargs != 1 else "")
            if param.name in DISPUTE_PARAMS and param._custom_shell_complete is None:
                param._custom_shell_complete = complete_dispute
            elif param.name in EXHIBIT_PARAMS and param._custom_shell_complete is None:
                param._custom_shell_complete = complete_exhibit
        names = (command.context_settings or {}).get("help_option_names") or ["-h", "--help"]
        help_option = command.get_help_option(click.Context(command, help_option_names=names))
        if help_option is not None:
            help_option.help = _(_written(help_option, "help") or "")


def _written(obj: Any, field: str) -> Any:
    """A command's or parameter's text ``field`` as the code wrote it (untranslated): read at the first
    :func:`prepare`, kept on the object."""
    kept = obj.__dict__.setdefault("_locker_written", {})
    if field not in kept:
        kept[field] = getattr(obj, field, None)
    return kept[field]


def _short(text: str | None) -> str | None:
    """The one-line help of a command in the list, for text without spaces between words
    (click shortens at spaces, which a Chinese sentence does not have)."""
    if not text or not _wide(text):  # English (or not translated yet): click shortens it well
        return None
    first = text.split("\n\n")[0].split("。")[0].split("：")[0].split(":")[0].strip()
    return first if len(first) <= 30 else first[:29] + "…"


N_("Show this message and exit.")  # click's own help option, translated by prepare()
N_("Install completion for the current shell.")  # typer's completion options
N_("Show completion for the current shell, to copy it or customize the installation.")
N_("Install completion for the specified shell.")
N_("Show completion for the specified shell, to copy it or customize the installation.")
N_("Arguments")  # typer's help sections and notes
N_("Options")
N_("Commands")
N_("default: {default}")
N_("required")
N_("Missing command.")
N_("No such command {name!r}.")
N_("Aborted!")


# --- completion ----------------------------------------------------------------------------

def _completion_home(ctx: Any) -> str | None:
    root = ctx.find_root()
    return root.params.get("home") if root is not None else None


def _home_root(explicit: str | None) -> str:
    from .paths import resolve_home

    return str(resolve_home(explicit))


def dispute_slugs(home: str | None) -> list[str]:
    """The disputes of the home, by folder: no database is opened."""
    from .paths import Home

    return Home(Path(_home_root(home))).slugs()


def exhibit_numbers(home: str | None, dispute: str) -> list[tuple[str, str]]:
    """(number, name) of a dispute's exhibits, read straight from its database, read-only."""
    from .paths import DB_NAME, SLUG_RE

    root = _home_root(home)
    slugs = dispute_slugs(home)
    slug = dispute if dispute in slugs else next((s for s in slugs if s.startswith(dispute)), None)
    if slug is None or not SLUG_RE.match(slug):
        return []
    import sqlite3

    path = os.path.join(root, "disputes", slug, DB_NAME)
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5)
        try:
            rows = con.execute("SELECT number, coalesce(title, original_name, '') FROM exhibit "
                               "ORDER BY number").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []
    return [(str(n), str(name)) for n, name in rows]


def complete_dispute(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    from typer._click.shell_completion import CompletionItem

    return [CompletionItem(s) for s in dispute_slugs(_completion_home(ctx)) if s.startswith(incomplete)]


def complete_exhibit(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    from typer._click.shell_completion import CompletionItem

    dispute = ctx.params.get("dispute")
    if not dispute:
        return []
    found = exhibit_numbers(_completion_home(ctx), dispute)
    return [CompletionItem(n, help=name or None) for n, name in found if n.startswith(incomplete)]


# --- bare `locker` ---------------------------------------------------------------------------

def overview(group: Any, home: str | None, version: str) -> str:
    """What bare ``locker`` prints: the commands, one line each, and where the home is."""
    lines = [_("Evidence Locker {version}: keep every piece of a refund dispute hashed, dated and "
               "provably unaltered.").format(version=version), "", _("Commands:")]
    commands = [(name, cmd) for name, cmd in group.commands.items() if not getattr(cmd, "hidden", False)]
    width = max((len(name) for name, _cmd in commands), default=0)
    for name, cmd in commands:
        lines.append(f"  {name:<{width}}  {cmd.get_short_help_str(limit=70)}".rstrip())
    root = _home_root(home)
    count = len(dispute_slugs(home))
    if os.path.isdir(root):
        where = i18n.ngettext("Home: {path} ({count} dispute)", "Home: {path} ({count} disputes)",
                              count).format(path=root, count=count)
    else:
        where = _("Home: {path} (not made yet: `locker new` makes it)").format(path=root)
    lines += ["", where, _("Help on a command: locker COMMAND --help")]
    return "\n".join(lines) + "\n"

