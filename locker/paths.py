"""Where things live: the locker home, a dispute's folder, the profile."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import LockerError, UsageError

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
DB_NAME = "dispute.sqlite"


def default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("locker", appauthor=False))


def resolve_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--home``, else ``$LOCKER_HOME``, else the platform's user data directory."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("LOCKER_HOME")
    if env:
        return Path(env).expanduser()
    return default_home()


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def disputes(self) -> Path:
        return self.root / "disputes"

    @property
    def profile_path(self) -> Path:
        return self.root / "locker.toml"

    def dispute(self, slug: str) -> DisputeDir:
        if not SLUG_RE.match(slug):
            raise UsageError(f"not a dispute name: {slug!r}")
        return DisputeDir(self.disputes / slug)

    def ensure(self) -> Home:
        """Create the home (0700: it holds personal evidence) and its disputes folder."""
        try:
            for folder in (self.root, self.disputes):
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as err:
            raise LockerError(f"cannot create the locker home: {err.strerror}", path=str(self.root)) from None
        return self


@dataclass(frozen=True)
class DisputeDir:
    root: Path

    @property
    def slug(self) -> str:
        return self.root.name

    @property
    def db(self) -> Path:
        return self.root / DB_NAME

    @property
    def objects(self) -> Path:
        return self.root / "objects"

    @property
    def derived(self) -> Path:
        return self.root / "derived"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    def object_path(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256[2:]
