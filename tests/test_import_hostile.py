"""``locker import`` of hostile archives: each is refused with one clear line, and nothing is
written anywhere (no dispute, no leftover folder in the home, nothing beside the archive)."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from locker.bundle import safezip


def _zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]], *,
         method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def _link(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def _everything_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def _refused(cli, home: Path, archive: Path, *words: str, reason: str | None = None) -> None:  # noqa: ANN001
    before = _everything_under(home)
    beside = sorted(p.name for p in archive.parent.iterdir())
    ran = cli("import", archive)
    assert ran.code == 1, ran.err
    assert ran.err.startswith(f"locker: {archive}: ") and ran.err.count("\n") == 1, ran.err
    for word in words:
        assert word in ran.err, ran.err
    assert "Traceback" not in ran.err
    after = _everything_under(home)
    assert [p for p in after if p not in before and p not in ("disputes",)] == []
    assert not (home / "disputes").exists() or list((home / "disputes").iterdir()) == []
    assert sorted(p.name for p in archive.parent.iterdir()) == beside
    if reason:
        with pytest.raises(safezip.UnsafeArchive) as caught:
            dest = archive.parent / "direct"
            dest.mkdir()
            try:
                safezip.extract(archive, dest)
            finally:
                import shutil
                shutil.rmtree(dest)
        assert caught.value.reason == reason
    json_ran = cli("import", archive, "--json")
    assert json_ran.code == 1 and json_ran.json["error"]["code"] == "refused"


@pytest.mark.parametrize(("name", "words"), [
    ("../evil.txt", "leaves its folder"),
    ("bag/../../evil.txt", "leaves its folder"),
    ("/etc/evil.txt", "absolute path"),
    ("C:/evil.txt", "absolute path"),
    ("bag\\..\\evil.txt", "backslash"),
    ("bag//evil.txt", "empty part"),
    ("bag/\x1b[31mred.txt", "control character"),
])
def test_zip_slip_names_are_refused(cli, home: Path, tmp_path: Path, name: str, words: str) -> None:  # noqa: ANN001
    (tmp_path / "in").mkdir()
    archive = _zip(tmp_path / "in" / "b.zip", [("bag/data/ok.txt", b"fine"), (name, b"escaped")])
    _refused(cli, home, archive, words, reason="unsafe_name")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_symlinks_are_refused(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "in").mkdir()
    archive = _zip(tmp_path / "in" / "b.zip", [("bag/data/ok.txt", b"fine"), _link("bag/data/passwd", "/etc/passwd")])
    _refused(cli, home, archive, "symbolic link", reason="link")
    # a link followed by a file written "through" it
    archive = _zip(tmp_path / "in" / "c.zip", [_link("bag/out", "/tmp"), ("bag/out/evil.txt", b"x")])
    _refused(cli, home, archive, "symbolic link", reason="link")


def test_special_files_are_refused(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "in").mkdir()
    info = zipfile.ZipInfo("bag/fifo")
    info.create_system = 3
    info.external_attr = (stat.S_IFIFO | 0o600) << 16
    archive = _zip(tmp_path / "in" / "b.zip", [(info, b"")])
    _refused(cli, home, archive, "not a plain file", reason="special_file")


@pytest.mark.parametrize(("first", "second", "words"), [
    ("bag/data/a.txt", "bag/data/a.txt", "two members land on one path"),
    ("bag/data/A.txt", "bag/data/a.txt", "two members land on one path"),
    ("bag/data/\u00e9.txt", "bag/data/e\u0301.txt", "two members land on one path"),  # NFC and NFD of é
    ("bag/data", "bag/data/a.txt", "which is a file"),
    ("bag/data/a.txt/", "bag/data/a.txt", "two members land on one path"),
])
def test_duplicate_names_are_refused(cli, home: Path, tmp_path: Path, first: str, second: str, words: str) -> None:  # noqa: ANN001
    (tmp_path / "in").mkdir()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is asked to write
        archive = _zip(tmp_path / "in" / "b.zip", [(first, b"" if first.endswith("/") else b"one"), (second, b"two")])
    _refused(cli, home, archive, words, reason="duplicate")


def test_a_zip_bomb_is_refused_by_its_ratio(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "in").mkdir()
    archive = _zip(tmp_path / "in" / "b.zip", [("bag/data/zeros.bin", bytes(64 << 20))])
    assert archive.stat().st_size < 200_000
    _refused(cli, home, archive, "times its compressed size", reason="ratio")


def test_the_total_expanded_size_is_bounded(tmp_path: Path) -> None:
    """Stored members (ratio 1) that together exceed the limit: refused before a byte is written."""
    archive = _zip(tmp_path / "b.zip", [(f"bag/data/{i}.bin", bytes(1 << 20)) for i in range(6)],
                   method=zipfile.ZIP_STORED)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(safezip.UnsafeArchive) as caught:
        safezip.extract(archive, dest, safezip.Limits(max_total=5 << 20))
    assert caught.value.reason == "too_large" and "expands to more than 5242880 bytes" in caught.value.message
    assert _everything_under(dest) == []


def test_a_header_that_understates_the_size_is_refused(tmp_path: Path) -> None:
    """A member whose central directory claims 10 bytes but whose data holds more: never more than
    the declared size is written, and the member is refused (its CRC does not match)."""
    archive = _zip(tmp_path / "b.zip", [("bag/data/big.bin", b"A" * 4096)])
    raw = bytearray(archive.read_bytes())
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24: cd + 28] = (10).to_bytes(4, "little")  # uncompressed size in the central directory
    archive.write_bytes(bytes(raw))
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(safezip.UnsafeArchive) as caught:
        safezip.extract(archive, dest)
    assert caught.value.reason in ("corrupt", "size_lie")
    written = [p.stat().st_size for p in dest.rglob("*") if p.is_file()]
    assert all(size <= 10 for size in written)


def test_huge_member_counts_are_refused(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    """The count is read from the end record before the central directory is: an archive that
    declares 60,001 members is refused without reading them; a real count over the limit too."""
    (tmp_path / "in").mkdir()
    archive = _zip(tmp_path / "in" / "b.zip", [(f"bag/data/{i}", b"") for i in range(3)], method=zipfile.ZIP_STORED)
    raw = bytearray(archive.read_bytes())
    end = raw.rfind(b"PK\x05\x06")
    raw[end + 8: end + 12] = (60_001 & 0xFFFF).to_bytes(2, "little") * 2  # entries on this disk, and in all
    archive.write_bytes(bytes(raw))
    _refused(cli, home, archive, "60001 members, more than the 50000", reason="too_many_members")
    real = _zip(tmp_path / "in" / "c.zip", [(f"bag/data/{i}", b"") for i in range(101)], method=zipfile.ZIP_STORED)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(safezip.UnsafeArchive) as caught:
        safezip.extract(real, dest, safezip.Limits(max_members=100))
    assert caught.value.reason == "too_many_members" and "101 members, more than the 100" in caught.value.message
    assert _everything_under(dest) == []


def test_encrypted_and_broken_archives_are_refused(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "in").mkdir()
    not_zip = tmp_path / "in" / "b.zip"
    not_zip.write_bytes(b"this is not a zip at all" * 100)
    _refused(cli, home, not_zip, "not a ZIP archive", reason="not_zip")
    archive = _zip(tmp_path / "in" / "c.zip", [("bag/data/a.txt", b"secret")])
    raw = bytearray(archive.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(signature)
        raw[at + flag_at] |= 1  # the "encrypted" flag
    archive.write_bytes(bytes(raw))
    _refused(cli, home, archive, "encrypted", reason="encrypted")
    truncated = tmp_path / "in" / "d.zip"
    good = _zip(tmp_path / "in" / "e.zip", [("bag/data/a.txt", b"x" * 5000)])
    data = good.read_bytes()
    good.unlink()
    truncated.write_bytes(data[: len(data) // 2])
    _refused(cli, home, truncated, "not a ZIP archive", reason="not_zip")


def test_names_not_in_utf8_are_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("bag/data/\u00e9.txt")
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(info, b"x")
    raw = bytearray(archive.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(signature)
        raw[at + flag_at + 1] &= ~0x08  # drop the UTF-8 flag (bit 11): the name now reads as cp437
    archive.write_bytes(bytes(raw))
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(safezip.UnsafeArchive) as caught:
        safezip.extract(archive, dest)
    assert caught.value.reason == "unsafe_name" and "not named in UTF-8" in caught.value.message


def test_an_ordinary_archive_is_unpacked_whole(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "b.zip", [("bag/", b""), ("bag/data/", b""), ("bag/data/\u00e9.txt", b"caf\xc3\xa9"),
                                        ("bag/bagit.txt", b"BagIt-Version: 1.0\n"),
                                        ("bag/data/zeros.bin", bytes(100_000))])
    dest = tmp_path / "dest"
    dest.mkdir()
    done = safezip.extract(archive, dest)
    assert sorted(done.files) == ["bag/bagit.txt", "bag/data/zeros.bin", "bag/data/\u00e9.txt"]
    assert done.total_bytes == 100_000 + 5 + 19
    assert (dest / "bag" / "data" / "zeros.bin").read_bytes() == bytes(100_000)
    assert stat.S_IMODE((dest / "bag" / "bagit.txt").stat().st_mode) == 0o600


def test_an_archive_that_is_not_a_bundle_is_refused(cli, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "in").mkdir()
    two_tops = _zip(tmp_path / "in" / "b.zip", [("one/a.txt", b"a"), ("two/b.txt", b"b")])
    _refused(cli, home, two_tops, "exactly one top folder")
    no_log = _zip(tmp_path / "in" / "c.zip", [("bag/bagit.txt", b"BagIt-Version: 1.0\n")])
    ran = cli("import", no_log)
    assert ran.code == 1 and "not a locker bundle" in ran.err, ran.err
    assert not (home / "disputes").exists() or list((home / "disputes").iterdir()) == []


def test_records_too_big_to_check_are_refused(cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """The checks read the custody log, manifests and chats into memory: those members are bounded in
    all (the originals and the pack, only streamed, are not)."""
    from locker.services import importing

    monkeypatch.setattr(importing, "TEXT_MEMBERS_MAX", 1 << 20)
    (tmp_path / "in").mkdir()
    archive = _zip(tmp_path / "in" / "b.zip", [("bag/data/originals/001-big.bin", bytes(2 << 20)),
                                               ("bag/data/messages/001.json", b"[" + b"0," * (600 << 10) + b"0]")],
                   method=zipfile.ZIP_STORED)
    ran = cli("import", archive)
    assert ran.code == 1 and "its records (everything but the originals and the pack) expand to" in ran.err, ran.err
    assert not (home / "disputes").exists() or list((home / "disputes").iterdir()) == []
    assert [p.name for p in home.iterdir() if p.name.startswith(".")] == []
