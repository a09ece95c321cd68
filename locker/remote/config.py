"""The remotes a locker home knows: ``[remotes.NAME]`` tables in the home's ``locker.toml``.

A remote is a place (``s3://BUCKET/PREFIX``, an endpoint, a region) and how long what is archived
there is kept (``retain``, ``mode``). No credentials are ever stored here: boto3 finds them where it
always does (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``~/.aws/credentials`` and
``~/.aws/config``, ``AWS_PROFILE``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..durable import write_atomic
from ..errors import LockerError, NotFound, UsageError
from ..i18n import _
from ..paths import Home, read_profile

MODES = ("compliance", "governance")
DEFAULT_RETAIN = "3y"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
RETAIN_RE = re.compile(r"^([1-9][0-9]{0,4})([dwmy])$")
TABLE = "remotes"


@dataclass(frozen=True)
class Remote:
    name: str
    bucket: str
    prefix: str  # "" or a path without leading or trailing "/"
    endpoint: str | None = None
    region: str | None = None
    retain: str = DEFAULT_RETAIN
    mode: str = "compliance"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def as_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "url": self.url, "endpoint": self.endpoint, "region": self.region,
                "retain": self.retain, "mode": self.mode}


def parse_url(url: str) -> tuple[str, str]:
    """``s3://BUCKET/PREFIX`` → (bucket, prefix)."""
    if not url.startswith("s3://"):
        raise UsageError(_("a remote is s3://BUCKET/PREFIX, not {url!r}").format(url=url))
    bucket, _sep, prefix = url[len("s3://"):].partition("/")
    prefix = prefix.strip("/")
    if not BUCKET_RE.match(bucket):
        raise UsageError(_("{bucket!r} is not a bucket name (3-63 characters: a-z, 0-9, '.', '-')").format(bucket=bucket))
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise UsageError(_("{prefix!r} is not a key prefix").format(prefix=prefix))
    return bucket, prefix


def check_retain(text: str) -> str:
    """A retention period: a number and d (days), w (weeks), m (months) or y (years): 90d, 6m, 3y."""
    text = text.strip().lower()
    if not RETAIN_RE.match(text):
        raise UsageError(_("a retention period is a number and d, w, m or y (90d, 6m, 3y), not {value!r}").format(value=text))
    return text


def retain_until(retain: str, now: datetime | None = None) -> datetime:
    """When a copy archived ``now`` may first be deleted: ``now`` plus the period, in UTC, whole seconds."""
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    found = RETAIN_RE.match(check_retain(retain))
    assert found is not None  # checked above
    n, unit = int(found.group(1)), found.group(2)
    if unit in "dw":
        return now + timedelta(days=n * (7 if unit == "w" else 1))
    months = n * (12 if unit == "y" else 1)
    year, month = divmod(now.month - 1 + months, 12)
    day = now.day
    while True:  # 29 February plus a year is 28 February (never earlier than asked: the next day is kept)
        try:
            return now.replace(year=now.year + year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def check_endpoint(url: str | None) -> str | None:
    if url is None or not url.strip():
        return None
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", url):
        raise UsageError(_("an endpoint is an http:// or https:// address, not {url!r}").format(url=url))
    return url


def load_all(home: Home) -> dict[str, Remote]:
    """name → remote, as ``locker.toml`` records them."""
    data = read_profile(home.profile_path)
    found: dict[str, Remote] = {}
    table = data.get(TABLE)
    for name, item in (table.items() if isinstance(table, dict) else ()):
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        try:
            bucket, prefix = parse_url(item["url"])
            found[name] = Remote(name, bucket, prefix, endpoint=check_endpoint(_text(item.get("endpoint"))),
                                 region=_text(item.get("region")), retain=check_retain(str(item.get("retain") or DEFAULT_RETAIN)),
                                 mode=str(item.get("mode") or "compliance"))
        except UsageError as err:
            raise LockerError(_("remote {name} in the profile: {problem}").format(name=name, problem=err.message),
                              path=str(home.profile_path)) from None
    return found


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def get(home: Home, name: str) -> Remote:
    remotes = load_all(home)
    if name not in remotes:
        known = ", ".join(sorted(remotes)) or _("none yet: `locker remote add NAME s3://BUCKET/PREFIX`")
        raise NotFound(_("no remote named {name!r} (known: {known})").format(name=name, known=known))
    return remotes[name]


def add(home: Home, name: str, url: str, *, endpoint: str | None = None, region: str | None = None,
        retain: str = DEFAULT_RETAIN, mode: str = "compliance", replace: bool = False) -> Remote:
    """Record a remote (only where it is, never credentials) in ``locker.toml``."""
    if not NAME_RE.match(name):
        raise UsageError(_("a remote's name uses letters, digits, '-' and '_' (at most 40): {name!r}").format(name=name))
    mode = mode.strip().lower()
    if mode not in MODES:
        raise UsageError(_("the retention mode is compliance or governance, not {mode!r}").format(mode=mode))
    bucket, prefix = parse_url(url)
    remote = Remote(name, bucket, prefix, endpoint=check_endpoint(endpoint), region=(region or "").strip() or None,
                    retain=check_retain(retain), mode=mode)
    remotes = load_all(home)
    if name in remotes and not replace:
        raise UsageError(_("a remote named {name} exists already (--replace changes it)").format(name=name))
    remotes[name] = remote
    home.require_writable().ensure()
    write_atomic(home.profile_path, _without_remotes(home.profile_path) + _to_toml(remotes))
    return remote


def _to_toml(remotes: dict[str, Remote]) -> bytes:
    lines = ["", "# Where `locker archive` keeps write-once copies (locker remote add). Never credentials:",
             "# boto3 reads those from the environment, ~/.aws/credentials and AWS_PROFILE."]
    for name in sorted(remotes):
        r = remotes[name]
        lines.append(f"[{TABLE}.{json.dumps(name)}]")
        for key, value in (("url", r.url), ("endpoint", r.endpoint), ("region", r.region), ("retain", r.retain),
                           ("mode", r.mode)):
            if value is not None:
                lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _without_remotes(path: Path) -> bytes:
    """``locker.toml`` as it is, less its ``[remotes.*]`` tables and the comment written above them."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return b""
    except (OSError, UnicodeDecodeError) as err:
        raise LockerError(_("cannot read the profile: {reason}").format(reason=str(err)), path=str(path)) from None
    kept: list[str] = []
    keep = True
    for line in text.splitlines(keepends=True):
        header = re.match(r"\s*\[\[?\s*([^\]]+?)\s*\]", line)
        if header:
            keep = header.group(1).split(".")[0].strip().strip('"') != TABLE
        if keep and not line.startswith(("# Where `locker archive`", "# boto3 reads those")):
            kept.append(line)
    return "".join(kept).rstrip("\n").encode("utf-8") + (b"\n" if kept else b"")
