"""Where things live: the locker home, a dispute's folder, the profile."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import names
from .errors import READ_ONLY, Ambiguous, HomeError, LockerError, NotFound, UsageError
from .i18n import _

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
DB_NAME = "dispute.sqlite"
FOLDER_NAME_MAX = 255  # bytes: most file systems' limit for one name


def is_folder_name(name: str) -> bool:
    """Whether a dispute folder may have this name: a slug, or a name a person gave the folder by
    hand (a copy, a move) that is one plain path component: not hidden ('.' starts locker's own
    staging folders), no separator, no control character."""
    if SLUG_RE.match(name):
        return True
    return (bool(name) and not name.startswith(".") and name.isprintable() and "/" not in name
            and "\\" not in name and name == name.strip() and len(os.fsencode(name)) <= FOLDER_NAME_MAX)


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
        """The folder of the dispute of this name (a slug, or the name of a folder copied by hand)."""
        if not is_folder_name(slug):
            raise UsageError(_("not a dispute name: {name}").format(name=repr(slug)))
        return DisputeDir(self.disputes / slug)

    def slugs(self) -> list[str]:
        """The names of the dispute folders that hold a database, sorted. A folder's name is how
        a dispute is found, even when it differs from the slug its database recorded."""
        try:
            entries = os.scandir(self.disputes)
        except FileNotFoundError:
            return []
        with entries:
            return sorted(e.name for e in entries
                          if is_folder_name(e.name) and os.path.exists(os.path.join(e.path, DB_NAME)))

    def locate(self, ref: str) -> DisputeDir:
        """The folder of the dispute named by ``ref``: its slug (folder name), else a unique prefix
        of one, else a unique part of a title (``耳机``). A miss suggests the closest names."""
        ref = ref.strip()
        slugs = self.slugs()
        if ref in slugs:
            return self.dispute(ref)
        found = [s for s in slugs if s.startswith(ref)] if ref else []
        if len(found) > 1:
            raise Ambiguous(_("{name} could be {choices}").format(name=repr(ref), choices=names.listed(found)))
        if found:
            return self.dispute(found[0])
        titles = self.titles(slugs) if ref else {}
        wanted = names.fold(ref)
        found = [s for s in slugs if wanted and wanted in names.fold(titles.get(s) or "")]
        if len(found) > 1:
            choices = [f"{s} ({titles[s]})" for s in found]
            raise Ambiguous(_("{name} could be {choices}").format(name=repr(ref), choices=names.listed(choices)))
        if found:
            return self.dispute(found[0])
        close = names.suggest(ref, titles.items()) if ref else []
        if close:
            raise NotFound(_("no dispute named {name}; did you mean {choices}? (see `locker list`)").format(
                name=repr(ref), choices=", ".join(close)))
        raise NotFound(_("no dispute named {name} (see `locker list`)").format(name=repr(ref)))

    def titles(self, slugs: list[str]) -> dict[str, str | None]:
        """folder name → the title its database records (None when it cannot be read)."""
        return {slug: read_title(self.disputes / slug / DB_NAME) for slug in slugs}

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


def read_title(db: Path) -> str | None:
    """The title a dispute database records, read without changing anything; None when it cannot be
    read (the commands that open it say why)."""
    import sqlite3
    from urllib.parse import quote

    uri = "file:" + quote(str(db.resolve()))
    for mode in ("mode=ro", "immutable=1"):  # immutable: a read-only copy without its -shm file
        con = None
        try:
            con = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=1)
            row = con.execute("SELECT title FROM dispute LIMIT 1").fetchone()
            return row[0] if row and isinstance(row[0], str) else None
        except sqlite3.Error:
            continue
        finally:
            if con is not None:
                con.close()
    return None


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


def read_profile(path: Path) -> dict[str, Any]:
    """The home's ``locker.toml`` (its profile, remotes and forms) as a table; ``{}`` when there is
    none. A file that cannot be read, or is not TOML, is one error in the user's language."""
    import tomllib

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise LockerError(_("cannot read the profile: {reason}").format(reason=err.strerror), path=str(path)) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise LockerError(_("the profile is not valid TOML: {error}").format(error=err), path=str(path)) from None
