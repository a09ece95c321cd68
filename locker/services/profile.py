"""The claimant's profile (``locker.toml`` in the home) and its change log."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import UsageError
from ..i18n import _
from ..paths import Home, read_profile
from ..store import write_atomic
from ..values import now_utc, resolve_tz
from ..words import DATE_ORDERS, LANGS

FIELDS = ("name", "phone", "email", "address", "lang", "tz", "font", "date_order", "tsa")


def check_date_order(value: str | None) -> None:
    """Refuse a date order that is none of DATE_ORDERS (``--date-order`` of add, reread, profile)."""
    if value is not None and value not in DATE_ORDERS:
        raise UsageError(_("date order must be one of {choices}, not {value!r}").format(choices=', '.join(DATE_ORDERS), value=value))


@dataclass(frozen=True)
class Profile:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    lang: str | None = None
    tz: str | None = None
    font: str | None = None  # a CJK TrueType font for the PDF pack: PATH, or PATH#N for face N of a .ttc
    date_order: str | None = None  # dmy | mdy | ymd: how to read a chat's dates the data cannot tell
    tsa: str | None = None  # RFC 3161 time-stamp authorities to ask, in order: URLs separated by spaces (none by default)

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def tsa_list(profile: Profile) -> list[str]:
    """The profile's time-stamp authorities, in the order to ask them."""
    return (profile.tsa or "").split()


def load(home: Home) -> Profile:
    data = read_profile(home.profile_path)
    section = data.get("profile", data)
    return Profile(**{k: str(section[k]) for k in FIELDS if section.get(k) not in (None, "")})


def _to_toml(profile: Profile) -> bytes:
    lines = ["# The claimant's profile, written by `locker profile`.", "[profile]"]
    for key, value in profile.as_dict().items():
        if value is not None:
            # A JSON string with ensure_ascii=False is a valid TOML basic string.
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _other_tables(path: Path) -> bytes:
    """The tables of ``locker.toml`` other than ``[profile]`` (the user's own ``[forms.NAME]`` upload-form
    profiles of ``locker kit``), kept as they were written when the profile is rewritten."""
    import re

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return b""
    kept: list[str] = []
    keep = False
    for line in text.splitlines(keepends=True):
        header = re.match(r"\s*\[\[?\s*([^\]]+?)\s*\]", line)
        if header:
            keep = header.group(1).split(".")[0].strip().strip('"') != "profile"
        if keep:
            kept.append(line)
    out = "".join(kept)
    return ("\n" + out if out and not out.startswith("\n") else out).encode("utf-8")


def update(home: Home, changes: dict[str, str | None]) -> Profile:
    """Set the given fields (an empty string clears one) and log the change."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise UsageError(_("unknown profile field: {choices}").format(choices=', '.join(sorted(unknown))))
    current = load(home).as_dict()
    for key, value in changes.items():
        if value is None:
            continue
        value = value.strip()
        if key == "lang" and value and value not in LANGS:
            raise UsageError(_("language must be one of {choices}, not {value!r}").format(choices=', '.join(LANGS), value=value))
        if key == "date_order" and value:
            check_date_order(value)
        if key == "tsa" and value:
            from ..tsa import TsaError, check_url

            try:
                value = " ".join(check_url(url) for url in value.split())
            except TsaError as err:
                raise UsageError(err.message) from None
        if key == "tz" and value:
            resolve_tz(value)
        if key == "font" and value and not Path(value.rsplit("#", 1)[0]).expanduser().is_file():
            raise UsageError(_("no font file at {value!r}").format(value=value.rsplit('#', 1)[0]))
        current[key] = value or None
    profile = Profile(**current)
    toml = _to_toml(profile) + _other_tables(home.profile_path)
    home.require_writable().ensure()
    from .. import custody, db, domain  # here: an add reads the profile before it has to import these
    from ..migrations import HOME_MIGRATIONS

    engine = db.engine_for(home.root / "home.sqlite", create=True, migrations=HOME_MIGRATIONS)
    # The change is logged first, then the file written, outside the transaction: a slow or failing
    # disk never holds the home database's write lock. A crash in between leaves a logged change
    # that the file lacks (the command fails, and the next `locker profile` logs the whole profile
    # again), never a profile in effect that the log does not record.
    with db.writing(engine) as session:
        custody.append(session.connection(), now_utc(), [domain.profile_updated(profile.as_dict())])
    write_atomic(home.profile_path, toml)
    return profile
