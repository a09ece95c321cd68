"""The error tree. Every error a user can cause is a LockerError with a stable code."""

from __future__ import annotations

from .i18n import N_


class LockerError(Exception):
    """A failure the user can act on. ``str(err)`` is one line, without a traceback."""

    code = "error"
    exit_code = 1

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class UsageError(LockerError):
    """Bad input on the command line: an amount like ``abc``, a date like ``2025-13-45``."""

    code = "usage"
    exit_code = 2


class NotFound(LockerError):
    code = "not_found"


class Ambiguous(LockerError):
    code = "ambiguous"


READ_ONLY = N_("the locker home is read-only: nothing can be written there")  # shown with _()


class HomeError(LockerError):
    """The locker home is missing (where one was named), not a folder, or cannot be written."""

    code = "home"


class InputRefused(LockerError):
    """A path that is not a readable, non-empty regular file."""

    code = "refused"


class StoreError(LockerError):
    """The disk failed us: no space, an I/O error, a permission problem."""

    code = "store"


class WorkerLost(LockerError):
    """A process the locker started for part of a command's work ended without finishing it."""

    code = "worker"


class MissingDependency(LockerError):
    code = "dependency"


class DamagedOriginal(LockerError):
    """An original the pack would show differs from its recorded SHA-256, or is gone."""

    code = "damaged_original"
