"""The ``locker`` command line: parse → one core call → render.

Only typer is imported at module level so that ``locker --help`` starts fast;
the core (SQLModel, Pillow, PyAV, reportlab) is imported inside the commands.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, Optional

import typer

from .i18n import N_, _


class _Locker(typer.Typer):
    """The app, building only what the arguments need.

    typer turns every registered command into a click command (signature, type hints, options)
    before it parses anything: for the ~20 commands that is ~20 ms of each start, and it grows
    with every command added. So when the arguments name a command plainly (after the global
    options), only that command is built; the group, its callback and the command's own parsing,
    help and errors are the same. The group's own help (``locker``, ``locker --help``) lists
    each command's name and first help line only, so there the commands are built without
    their parameters. Anything else (an unknown option or command, shell completion, ...)
    builds them all, as typer does. A global option added to ``_global`` must be added to
    ``_GLOBAL_FLAGS`` or ``_GLOBAL_VALUED`` too (else its commands are built in full: slower,
    not wrong).
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        every = self.registered_commands
        # Shell completion reads its words from the environment, not the arguments: build all.
        completing = any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)
        wanted = None if completing else _command_named(kwargs.get("args"))
        if wanted == "":
            self.registered_commands = [_outline(c) for c in every]
        elif wanted is not None:
            self.registered_commands = [c for c in every if _name_of(c) == wanted] or every
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.registered_commands = every


_GLOBAL_FLAGS = {"--debug", "--version"}
_GLOBAL_VALUED = {"--home", "--lang"}
_HELP = {"-h", "--help"}


def _name_of(info: Any) -> str:
    return str(info.name or info.callback.__name__.lower().replace("_", "-"))


def _outline(info: Any) -> Any:
    """A command as the group's help shows it: same name, help and settings, no parameters."""
    import copy

    def stand_in() -> None:  # never run: the group's help exits before any command
        raise AssertionError("only the group's help uses this")

    stand_in.__name__, stand_in.__doc__ = info.callback.__name__, info.callback.__doc__
    outline = copy.copy(info)
    outline.callback = stand_in
    return outline


def _command_named(args: Any) -> str | None:
    """The command named by ``args`` after the global options; "" when they ask for the group's
    help (or nothing at all); None when it is not plain."""
    if args is None:
        return None
    rest = iter(args)
    for arg in rest:
        if arg in _GLOBAL_VALUED:
            next(rest, None)  # its value
        elif arg in _HELP:
            return "" if all(a in _HELP or a in _GLOBAL_FLAGS for a in rest) else None
        elif not (arg in _GLOBAL_FLAGS or arg.split("=", 1)[0] in _GLOBAL_VALUED):
            return None if arg.startswith("-") else str(arg)
    return ""


app = _Locker(
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
        return _run(group, args, debug=debug, json_out=json_out)
    finally:
        language.var.reset(language)
        if argv is None:  # the program's own run (not a caller's): the process ends next
            _ending()


_GROUP: Any = None


def _group() -> Any:
    """The click group of the typer app, built at the first run in this process and kept (:func:`shell.prepare`
    sets it up for each run's language). A process runs one command; one that runs many (the test suite's
    in-process runs) spent 12 ms of each building the group again."""
    global _GROUP
    if _GROUP is None:
        _GROUP = typer.main.get_command(app)
    return _GROUP


def _ending() -> None:
    """The process ends after the command: its objects go to the collector's permanent generation,
    which the collections at interpreter exit skip (nothing of locker's waits on them: every file and
    database it writes is closed, and made durable, before the command returns). Exiting after
    ``locker ocr`` walked the engine's objects (onnxruntime, OpenCV, rapidocr's configuration trees)
    for 0.08 s; with this, 0.02 s."""
    import gc

    gc.freeze()


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
    finally:
        os.umask(previous_umask)
    if code == INTERRUPTED:
        sys.stderr.write(_("locker: interrupted") + "\n")
        _fail(json_out, "interrupted", "interrupted")
    return code


if __name__ == "__main__":
    sys.exit(main())
