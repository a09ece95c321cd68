"""Where things live: the locker home, a dispute's folder, the profile."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import READ_ONLY, Ambiguous, HomeError, LockerError, NotFound, UsageError
from .i18n import _

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


def open_home(explicit: str | os.PathLike[str] | None = None, *, may_create: bool = False) -> Home:
    """The home a command works in, checked: a home that is a file is an error for every command;
    a ``--home`` folder that does not exist is one for every command that cannot create it (only
    ``new`` and ``profile`` can). A default home not made yet is simply empty."""
    root = resolve_home(explicit)
    if root.exists() and not root.is_dir():
        raise HomeError(_("the locker home is not a folder"), path=str(root))
    if explicit and not may_create and not root.exists():
        raise HomeError(_("no locker home here (a new one is made by `locker new`)"), path=str(root))
    return Home(root)


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
            raise UsageError(_("not a dispute name: {slug!r}").format(slug=slug))
        return DisputeDir(self.disputes / slug)

    def slugs(self) -> list[str]:
        """The names of the dispute folders that hold a database, sorted."""
        try:
            entries = os.scandir(self.disputes)
        except FileNotFoundError:
            return []
        with entries:
            return sorted(e.name for e in entries
                          if SLUG_RE.match(e.name) and os.path.exists(os.path.join(e.path, DB_NAME)))

    def locate(self, ref: str) -> DisputeDir:
        """The folder of the dispute named by its slug or a unique prefix of it."""
        ref = ref.strip()
        if not ref or not SLUG_RE.match(ref):
            raise NotFound(_("no dispute named {ref!r} (see `locker list`)").format(ref=ref))
        slugs = self.slugs()
        if ref in slugs:
            return self.dispute(ref)
        found = [s for s in slugs if s.startswith(ref)]
        if not found:
            raise NotFound(_("no dispute named {ref!r} (see `locker list`)").format(ref=ref))
        if len(found) > 1:
            raise Ambiguous(_("{ref!r} could be {choices}").format(ref=ref, choices=", ".join(found[:5]) + (" …" if len(found) > 5 else "")))
        return self.dispute(found[0])

    def require_writable(self) -> Home:
        """Refuse, in one line, to start a change in a home this process cannot write to."""
        if self.root.is_dir() and not os.access(self.root, os.W_OK):
            raise HomeError(_(READ_ONLY), path=str(self.root))
        return self

    def ensure(self) -> Home:
        """Create the home (0700: it holds personal evidence) and its disputes folder."""
        try:
            for folder in (self.root, self.disputes):
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as err:
            raise LockerError(_("cannot create the locker home: {reason}").format(reason=err.strerror), path=str(self.root)) from None
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
