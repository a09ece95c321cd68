"""A Ctrl-C that a library swallowed still stops the command.

Python turns SIGINT into a KeyboardInterrupt wherever the main thread happens to be, and some of
the code the locker runs catches everything there: reportlab falls back quietly when an optional
accelerator fails to import (a bare ``except:``), and answers any exception in its colour parser
with ValueError("Invalid color value"). A Ctrl-C that lands in such a place was lost (the export
went on to the end: 1 run in about 170 of the Ctrl-C test) or became an internal error.

:func:`watched` (the program's own run, around the command) remembers every SIGINT as it raises the
KeyboardInterrupt; :func:`check`, called where long work reports progress, raises it again if it
has not been seen since. Nothing here prints or exits.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_pending = False  # a SIGINT came during the watched run


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _pending
    _pending = True
    raise KeyboardInterrupt


@contextmanager
def watched() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt as Python's own handler does, and is remembered for
    :func:`check`. Only where Python's handler is in place on the main thread: a process started
    with SIGINT ignored (a background job) keeps ignoring it."""
    global _pending
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    _pending = False
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _pending = False


def check() -> None:
    """On the main thread, raise KeyboardInterrupt if a Ctrl-C came during the watched run (one that
    was swallowed on its way up); a no-op otherwise."""
    if _pending and threading.current_thread() is threading.main_thread():
        raise KeyboardInterrupt
