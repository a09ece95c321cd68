"""Capture times are right or marked as assumed (issue 17, point 7): typed times in
1970 … tomorrow, zones named by IANA key, "zone assumed" in `show` and in the pack,
and no stored time (year 1, 9999) that can break `show` or `export`."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from locker.errors import UsageError
from locker.values import in_capture_window, parse_capture_time, zone_name
from tests import samples
from tests.conftest import REPO

SHANGHAI_OFFSET = timezone(timedelta(hours=8))


# --------------------------------------------------------------------------- typed times


@pytest.mark.parametrize("text", ["1969-12-31 23:59", "0001-01-01", "9999-12-31T23:59:59+08:00", "2999-01-01"])
def test_unbelievable_typed_times_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="between 1970-01-01 and tomorrow"):
        parse_capture_time(text, SHANGHAI_OFFSET)


def test_believable_typed_times_pass() -> None:
    assert parse_capture_time("1970-01-01T00:00:00Z", UTC) == "1970-01-01T00:00:00+00:00"
    assert parse_capture_time("2025-05-03 14:22", SHANGHAI_OFFSET) == "2025-05-03T14:22:00+08:00"
    soon = (datetime.now(UTC) + timedelta(hours=20)).isoformat(timespec="seconds")
    assert parse_capture_time(soon, UTC) == soon  # a clock a little ahead is not refused


def test_window_never_raises() -> None:
    assert not in_capture_window(datetime(1, 1, 1, tzinfo=SHANGHAI_OFFSET))  # no UTC instant exists
    assert not in_capture_window(datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=5))))
    assert not in_capture_window(datetime(1969, 12, 31, 9, 0))
    assert in_capture_window(datetime(1969, 12, 31, 23, 0))  # a wall-clock time: +01:00 makes it 1970 UTC


@pytest.mark.parametrize(("args", "what"), [
    (("add", "earbuds", "{file}", "--captured-at", "1969-07-20 20:17"), "'1969-07-20 20:17'"),
    (("add", "earbuds", "{file}", "--captured-at", "0001-01-01"), "'0001-01-01'"),
    (("event", "earbuds", "merchant replied", "--at", "2999-01-01"), "'2999-01-01'"),
    (("event", "earbuds", "merchant replied", "--at", "0001-01-01T00:00+08:00"), "'0001-01-01T00:00+08:00'"),
])
def test_cli_refuses_unbelievable_times_in_one_line(cli, dispute, tmp_path, args, what) -> None:  # noqa: ANN001
    file = samples.make_png(tmp_path / "a.png", 100, 200)
    ran = cli(*(str(file) if a == "{file}" else a for a in args))
    assert ran.code == 2
    assert ran.err == (f"locker: {what} is not a believable time: it must lie between 1970-01-01 "
                       "and tomorrow\n")
    assert cli("show", dispute, "--json").json["exhibits"] == []


# --------------------------------------------------------------------------- zone names


def test_fixed_offset_zones_are_named_by_offset_not_abbreviation() -> None:
    assert zone_name(timezone(timedelta(hours=8), "CST")) == "+08:00"
    assert zone_name(timezone(timedelta(hours=-5, minutes=-30), "XYZ")) == "-05:30"
    assert zone_name(UTC) == "UTC"


@pytest.mark.parametrize(("tz", "expected"), [
    ("Asia/Shanghai", "Asia/Shanghai"),
    (":America/Chicago", "America/Chicago"),
    ("CST-8", "+08:00"),  # a POSIX TZ string: Python calls this zone "CST"
])
def test_machine_zone_is_named_by_iana_key(tmp_path: Path, tz: str, expected: str) -> None:
    code = "from locker.values import resolve_tz, zone_name; print(zone_name(resolve_tz(None)))"
    env = {"TZ": tz, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                         check=True).stdout.strip()
    assert out == expected


def test_probe_records_the_machine_zone_by_name(tmp_path: Path) -> None:
    path = samples.make_jpeg_with_exif(tmp_path / "p.jpg", offset=None)
    code = ("import sys; from pathlib import Path; from locker.media import probe; from locker.values import resolve_tz;"
            "r = probe(Path(sys.argv[1]), 'p.jpg', resolve_tz(None));"
            "print(r.captured_at, r.metadata['captured_at_tz'])")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=REPO,
                         env={"TZ": "Asia/Shanghai", "PATH": "/usr/bin:/bin"}, check=True).stdout.split()
    assert out == ["2025-05-03T15:01:02+08:00", "Asia/Shanghai"]


# --------------------------------------------------------------------------- show and the pack


@pytest.fixture
def assumed(cli, dispute, tmp_path):  # noqa: ANN001, ANN201
    """Exhibit 1: EXIF without offset, put in Asia/Shanghai (assumed); exhibit 2: EXIF with +08:00."""
    a = samples.make_jpeg_with_exif(tmp_path / "in" / "IMG_0001.jpg", offset=None, seed=1)
    b = samples.make_jpeg_with_exif(tmp_path / "in" / "IMG_0002.jpg", seed=2)
    ran = cli("add", dispute, a, b, "--tz", "Asia/Shanghai", "--json")
    assert ran.code == 0, ran.err
    return dispute


def test_show_says_zone_assumed(cli, assumed) -> None:  # noqa: ANN001
    table = cli("show", assumed).out
    lines = {line.split()[1]: line for line in table.splitlines() if "IMG_000" in line and len(line.split()) > 1}
    assert "zone assumed" in lines["IMG_0001.jpg"]
    assert "zone assumed" not in lines["IMG_0002.jpg"]
    one = cli("show", assumed, "1").out
    assert "2025-05-03T15:01:02+08:00 (zone assumed: Asia/Shanghai)" in one
    assert "zone assumed" not in cli("show", assumed, "2").out


@pytest.mark.parametrize(("lang", "mark"), [("zh", "时区推定"), ("en", "zone assumed")])
def test_pack_says_zone_assumed(cli, assumed, tmp_path, lang, mark) -> None:  # noqa: ANN001
    pack = tmp_path / f"pack-{lang}.pdf"
    ran = cli("export", assumed, "--lang", lang, "-o", pack, "--json")
    assert ran.code == 0, ran.err
    text = subprocess.run(["pdftotext", pack, "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    # in the index, the timeline and exhibit 1's facts box; never beside exhibit 2's time
    assert flat.count("".join(mark.split())) >= 3
    other = "时区推定" if lang == "en" else "zone assumed"
    assert "".join(other.split()) not in flat


def test_a_stored_year_1_time_breaks_neither_show_nor_export(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    # A database written before times were checked: --captured-at accepted year 1 in +08:00,
    # which has no UTC instant (astimezone raised OverflowError in the pack).
    for n, name in enumerate(("a.png", "b.png"), 1):
        assert cli("add", dispute, samples.make_png(tmp_path / name, 100, 200 + n)).code == 0
    with sqlite3.connect(home / "disputes" / dispute / "dispute.sqlite") as con:
        con.execute("UPDATE exhibit SET captured_at = '0001-01-01T00:00:00+08:00', captured_at_source = 'user' "
                    "WHERE number = 1")
        con.execute("UPDATE exhibit SET captured_at = '9999-12-31T23:59:59-05:00', captured_at_source = 'user' "
                    "WHERE number = 2")
    assert cli("show", dispute).code == 0
    assert cli("show", dispute, "1").code == 0
    for lang in ("zh", "en"):
        ran = cli("export", dispute, "--lang", lang, "-o", tmp_path / f"p-{lang}.pdf", "--json")
        assert ran.code == 0, ran.err
        text = subprocess.run(["pdftotext", tmp_path / f"p-{lang}.pdf", "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "0001-01-01" in text  # shown as stored


def test_add_says_zone_assumed(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    """The table `add` prints marks an assumed zone as show does, for new and already-held files."""
    a = samples.make_jpeg_with_exif(tmp_path / "in" / "IMG_0001.jpg", offset=None, seed=1)
    b = samples.make_jpeg_with_exif(tmp_path / "in" / "IMG_0002.jpg", seed=2)
    for _ in range(2):  # added, then held
        out = cli("add", dispute, a, b, "--tz", "Asia/Shanghai").out
        lines = {name: line for line in out.splitlines() for name in ("IMG_0001", "IMG_0002") if name in line}
        assert "zone assumed" in lines["IMG_0001"] and "zone assumed" not in lines["IMG_0002"]
