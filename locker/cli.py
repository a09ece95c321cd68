"""The ``locker`` command line: parse → one core call → render.

Only typer is imported at module level so that ``locker --help`` starts fast;
the core (SQLModel, Pillow, PyAV, reportlab) is imported inside the commands.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, Optional

import typer

from .i18n import N_, _
from .interrupts import watched


class LazyCommands(dict[str, Any]):
    """A click group's commands, name → command, each built from its typer registration the first time it
    is asked for, and kept. typer builds every command of an app (signature, type hints, options) before
    it parses anything: 29 commands, 13 ms of each start, for the one a run uses. Reading one name builds
    that command; listing them all (the group's help, an unknown command's suggestions, completion of
    command names) builds them all, in the order they were registered."""

    def __init__(self, makers: dict[str, Callable[[], Any]], made: Callable[[Any], None]) -> None:
        super().__init__()
        self._makers = makers
        self._made = made  # called with each command as it is built

    def __missing__(self, name: str) -> Any:
        if name not in self._makers:
            raise KeyError(name)
        command = self[name] = self._makers[name]()
        self._made(command)
        return command

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default

    def __contains__(self, name: object) -> bool:
        return name in self._makers or super().__contains__(name)

    def __iter__(self) -> Iterator[str]:
        return iter([*self._makers, *(n for n in super().__iter__() if n not in self._makers)])

    def __len__(self) -> int:
        return len(list(iter(self)))

    def keys(self) -> list[str]:  # type: ignore[override]
        return list(iter(self))

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[name] for name in self]

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return [(name, self[name]) for name in self]

    def built(self) -> list[Any]:
        """The commands built so far (none is built by asking)."""
        return list(super().values())


def lazy_group(app: typer.Typer) -> Any:
    """The click group of ``app`` as typer makes it (its callback, its options, completion), whose commands
    are a :class:`LazyCommands`: each is made by typer's own functions when first asked for, and set up by
    :func:`shell.prepare` in the language of the run."""
    import copy

    import typer.main

    from . import shell

    shell_only = copy.copy(app)  # the group itself: typer makes a group of an app with a callback
    shell_only.registered_commands, shell_only.registered_groups = [], []
    group = typer.main.get_command(shell_only)
    makers: dict[str, Callable[[], Any]] = {}
    for info in app.registered_commands:
        assert info.callback is not None
        name = info.name or typer.main.get_command_name(info.callback.__name__)
        makers[name] = functools.partial(typer.main.get_command_from_info, info,
                                         pretty_exceptions_short=app.pretty_exceptions_short,
                                         rich_markup_mode=app.rich_markup_mode)
    for sub in app.registered_groups:
        group_name = sub.name or (sub.typer_instance.info.name if sub.typer_instance else None)
        assert isinstance(group_name, str), "a sub-app of locker is added with its name"
        makers[group_name] = functools.partial(typer.main.get_group_from_info, sub,
                                         pretty_exceptions_short=app.pretty_exceptions_short,
                                         suggest_commands=app.suggest_commands, rich_markup_mode=app.rich_markup_mode)
    group.commands = LazyCommands(  # type: ignore[attr-defined]  # a click Group: get_command(app with a callback)
        makers, lambda command: shell.prepare_commands([command], shell.help_values()))
    return group


app = typer.Typer(
    name="locker",
    help=N_("Evidence Locker: keep every piece of a refund dispute hashed, dated and provably unaltered."),
    no_args_is_help=False,  # bare `locker` prints an overview and exits 0 (see _global)
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: typer's rich ones import rich, markdown-it and pydantic
    # (~0.3 s), and `locker --help` must start in under 0.2 s.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state: dict[str, Any] = {"home": None, "debug": False, "command": None, "answered": False, "group": None}

JsonOpt = typer.Option(False, "--json", help=N_("Print one JSON document on stdout and nothing else there (always in English)."))
DisputeArg = typer.Argument(..., metavar="DISPUTE", help=N_("The dispute: its slug, a unique prefix of it, or a unique part of its title."))


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"locker {__version__}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _global(
    ctx: typer.Context,
    home: Optional[str] = typer.Option(None, "--home", metavar="FOLDER", help=N_("Locker home folder (default: $LOCKER_HOME, else the user data folder). Also accepted after the command.")),
    lang: Optional[str] = typer.Option(None, "--lang", metavar="zh|en", help=N_("Language of messages and help (default: the profile's, else LC_ALL/LC_MESSAGES/LANG, else English). After the command too, except for export and profile, whose --lang is their own.")),
    debug: bool = typer.Option(False, "--debug", help=N_("Show a traceback when something goes wrong.")),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_version, help=N_("Show the version and exit.")),
) -> None:
    _state["home"] = home
    _state["debug"] = debug
    if lang is not None:
        from .i18n import normalize

        if normalize(lang) is None:
            from .errors import UsageError

            raise UsageError(_("--lang must be zh or en, not {value!r}").format(value=lang))
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        from . import __version__
        from .shell import overview

        typer.echo(overview(_state["group"] or ctx.command, home, __version__), nl=False)
        raise typer.Exit(0)


def _home(*, may_create: bool = False) -> Any:
    from .paths import open_home

    return open_home(_state["home"], may_create=may_create)


def _progress(label: str, json_out: bool) -> Any:
    if json_out or not sys.stderr.isatty():
        return None
    from .render import RichProgress

    return RichProgress(label)


def _progressing(label: str, json_out: bool, call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs, progress=bar)``, with a progress bar on a terminal (none for --json
    or a pipe); the bar is stopped however the call ends (an error, Ctrl-C)."""
    bar = _progress(label, json_out)
    try:
        return call(*args, **kwargs, progress=bar)
    finally:
        if bar:
            bar.stop()


INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C (128 + SIGINT)


# The commands live in locker/commands/ (one module per area); importing them registers them on
# `app`. The first ones first, so that the help lists them in the order they were always listed.
from .commands import core as _core  # noqa: E402,F401
from .commands import register as _register_commands  # noqa: E402

_register_commands()


_DISK_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.EIO}


def _fail(json_out: bool, code: str, message: str, path: str | None = None) -> None:
    """A failure's one JSON document on stdout (with --json, when the command has not answered)."""
    if not json_out or _state["answered"]:
        return
    from .render import emit_json, error_doc

    doc = error_doc(code, message, path)
    emit_json({"added": [], "errors": [], **doc} if _state["command"] == "add" else doc)


def main(argv: list[str] | None = None) -> int:
    """Entry point and the one error boundary: no traceback reaches a user without --debug.

    Every failure is one line on stderr and an exit code: 2 for a usage error, 1 for anything
    the user can act on, 130 after Ctrl-C, 70 for a bug. With --json, stdout holds exactly one
    document even then: the command's own, or ``{"error": {"code", "message", "path"}}``.
    """
    from . import shell
    from .i18n import set_language

    group = _group()
    args = shell.hoist_globals(sys.argv[1:] if argv is None else list(argv), group)
    debug = "--debug" in args
    json_out = "--json" in args
    _state.update(command=None, answered=False, group=group)
    # The language of this run: --lang, the profile, the locale; --json is always English.
    language = set_language(shell.language_of(args))
    try:
        shell.prepare(group)  # help, metavars and completion in that language
        # The program's own run: a Ctrl-C that a library swallows still stops it (locker.interrupts).
        with watched() if argv is None else contextlib.nullcontext():
            return _run(group, args, debug=debug, json_out=json_out)
    finally:
        language.var.reset(language)
        if argv is None:  # the program's own run (not a caller's): the process ends next
            _ending()


_GROUP: Any = None


def _group() -> Any:
    """The click group of the typer app, made at the first run in this process and kept (:func:`shell.prepare`
    sets it up for each run's language); each command in it is built when first asked for
    (:func:`lazy_group`). A process that runs many commands (the test suite's in-process runs) spent
    12 ms of each building the group again."""
    global _GROUP
    if _GROUP is None:
        _GROUP = lazy_group(app)
    return _GROUP


def _ending() -> None:
    """The process ends after the command: its objects go to the collector's permanent generation,
    which the collections at interpreter exit skip (nothing of locker's waits on them: every file and
    database it writes is closed, and made durable, before the command returns). Exiting after
    ``locker ocr`` walked the engine's objects (onnxruntime, OpenCV, rapidocr's configuration trees)
    for 0.08 s; with this, 0.02 s."""
    import gc

    gc.freeze()
    # The exit code is main's, even after a Ctrl-C: CPython (3.11, measured) marks a
    # KeyboardInterrupt "unhandled" when it leaves code that exec() ran from a string (a dataclass or
    # namedtuple being made while a module is imported, as the export's lazy imports do), and never
    # clears the mark when a caller catches it; a `python -m locker` whose Ctrl-C landed there then
    # ended by killing itself with SIGINT (return code -2 instead of 130: 1 run in 5 to 30 of the
    # Ctrl-C test, the kill seen with perf's signal_generate). Running any string clears the mark.
    exec("pass")  # noqa: S102 - a constant, for the side effect above


def _from_ctrl_c(exc: BaseException) -> bool:
    """Was ``exc`` raised while a KeyboardInterrupt was being handled? reportlab catches everything in
    places (its colour parser answers any exception with ValueError("Invalid color value")), so a Ctrl-C
    that lands there comes out as an internal error: 1 export in about 100 of the Ctrl-C test."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, KeyboardInterrupt):
            return True
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return False


def _failure(exc: Exception, *, debug: bool, json_out: bool) -> int:
    """The one line (and with --json, the document) for a command that failed with ``exc``; its exit code."""
    from .errors import LockerError

    if debug:
        import traceback

        traceback.print_exc()
    if isinstance(exc, LockerError):
        from .render import print_error

        if exc.code.startswith("chat"):  # a chat reader's reason: English in the code, a warning code's sentence
            from . import warncodes

            said = warncodes.show(exc.message)
            print_error(f"{exc.path}: {said}" if exc.path else said)
        else:
            print_error(str(exc))
        _fail(json_out, exc.code, exc.message, exc.path)
        return exc.exit_code
    if hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int):
        message = exc.format_message()  # typer's usage error (only with --json: see above)
        sys.stderr.write(f"locker: {message}\n")
        _fail(json_out, "usage", message)
        return int(exc.exit_code)  # type: ignore[attr-defined]  # an int: checked above
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:  # the disk said no: not a bug
        from .errors import READ_ONLY
        from .render import print_error

        message = _(READ_ONLY) if exc.errno == errno.EROFS else (exc.strerror or str(exc))
        path = None if exc.filename is None else os.fsdecode(exc.filename)
        print_error(f"{path}: {message}" if path else message)
        _fail(json_out, "store", message, path)
        return 1
    if type(exc).__name__ == "Abort":  # typer's answer to end-of-input at a prompt
        sys.stderr.write(_("locker: aborted") + "\n")
        _fail(json_out, "aborted", "aborted")
        return 1
    first = str(exc).splitlines()[0] if str(exc) else ""
    sys.stderr.write(_("locker: internal error: {error}: {message}").format(error=type(exc).__name__, message=first)
                     + ("" if debug else _(" (run with --debug for details)")) + "\n")
    _fail(json_out, "internal", f"{type(exc).__name__}: {first}")
    return 70


def _run(group: Any, args: list[str], *, debug: bool, json_out: bool) -> int:
    # Evidence is personal: whatever the locker creates (databases and their -wal/-shm
    # files, temp files, exports, derived files) is the user's alone.
    previous_umask = os.umask(0o077)
    try:
        # Without --json typer shows its usage errors itself; with it, they come here as
        # exceptions to be answered in JSON. Ctrl-C comes back from typer as exit code 130.
        code = group.main(args=args, prog_name="locker", standalone_mode=not json_out)
        code = code if isinstance(code, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        code = INTERRUPTED
    except BrokenPipeError:
        return 141
    except Exception as exc:
        if not _from_ctrl_c(exc):
            return _failure(exc, debug=debug, json_out=json_out)
        code = INTERRUPTED  # a library turned the KeyboardInterrupt into an error of its own
    finally:
        os.umask(previous_umask)
    if code == INTERRUPTED:
        sys.stderr.write(_("locker: interrupted") + "\n")
        _fail(json_out, "interrupted", "interrupted")
    return code


if __name__ == "__main__":
    sys.exit(main())
