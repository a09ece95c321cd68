"""`locker add`: bytes kept exactly, dated, deduplicated; bad input refused or flagged."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from tests import samples
from tests.conftest import REPO


def stored(home: Path, slug: str, sha: str) -> Path:
    return home / "disputes" / slug / "objects" / sha[:2] / sha[2:]


def test_bytes_stored_equal_bytes_given(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    photo = samples.make_jpeg_with_exif(tmp_path / "IMG_20250503_150102.jpg")
    ran = cli("add", dispute, photo, "--json")
    assert ran.code == 0, ran.err
    entry = ran.json["added"][0]
    data = photo.read_bytes()
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["size"] == len(data)
    obj = stored(home, dispute, entry["sha256"])
    assert obj.read_bytes() == data
    assert stat.S_IMODE(obj.stat().st_mode) == 0o444
    assert entry["mime"] == "image/jpeg" and entry["kind"] == "photo"
    assert entry["captured_at"] == "2025-05-03T15:01:02+08:00" and entry["captured_at_source"] == "exif"
    assert entry["duplicate"] is False and entry["warnings"] == []
    leftovers = [p for p in (home / "disputes" / dispute / "objects").iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def test_a_bulk_add_leaves_its_objects_out_of_the_page_cache(cli, dispute, home, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """An add of store.BULK_BYTES or more drops each object from the page cache once it is durable
    (here the bound is lowered to 2 MiB); a smaller add leaves them there. `fincore` (util-linux)
    says how much of each file is cached. The bytes stored are the bytes given either way."""
    from locker import store

    def cached(entries: list[dict]) -> int:
        paths = [str(stored(home, dispute, e["sha256"])) for e in entries]
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", *paths],
                             capture_output=True, text=True, check=True).stdout
        return sum(int(line) for line in out.split())

    fs = subprocess.run(["stat", "-f", "-c", "%T", str(home.parent)], capture_output=True, text=True).stdout
    assert "tmpfs" not in fs and "ramfs" not in fs, f"{fs}: memory is the storage here, nothing can be dropped"
    monkeypatch.setattr(store, "BULK_BYTES", 2 * 1024 * 1024)
    small = [samples.make_random(tmp_path / "small" / f"{i}.bin", size=512 * 1024, seed=i) for i in range(3)]
    bulk = [samples.make_random(tmp_path / "bulk" / f"{i}.bin", size=1024 * 1024, seed=10 + i) for i in range(3)]
    kept = cli("add", dispute, tmp_path / "small", "--json")
    dropped = cli("add", dispute, tmp_path / "bulk", "--json")
    assert kept.code == 0 and dropped.code == 0, kept.err + dropped.err
    assert cached(kept.json["added"]) == 3 * 512 * 1024  # under the bound: all of it still cached
    assert cached(dropped.json["added"]) == 0
    for entry, source in zip(kept.json["added"] + dropped.json["added"], small + bulk):
        assert stored(home, dispute, entry["sha256"]).read_bytes() == source.read_bytes()


def test_a_file_of_bulk_size_is_dropped_from_the_page_cache_behind_its_writeback(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """While a file of store.BULK_BYTES or more is copied, each range once on disk leaves the page
    cache, so the copy writes into pages just freed (bounds lowered here: 4 MiB, writeback every
    1 MiB, waited for 2 MiB behind); a smaller file stays cached. The copy is whole either way."""
    from locker import durable, store

    def cached(path: Path) -> int:
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                             capture_output=True, text=True, check=True).stdout
        return int(out.strip())

    monkeypatch.setattr(store, "BULK_BYTES", 4 * 1024 * 1024)
    monkeypatch.setattr(durable, "WRITEBACK_STEP", 1024 * 1024)
    monkeypatch.setattr(durable, "WRITEBACK_LAG", 2 * 1024 * 1024)
    objects = tmp_path / "objects"
    objects.mkdir()
    source = samples.make_random(tmp_path / "video.bin", size=store.PIPELINE_MIN + 4 * 1024 * 1024, seed=9)
    staged = store.stage(source, objects, sync=True)
    assert staged.tmp.read_bytes() == source.read_bytes() and staged.size == source.stat().st_size
    store.discard(staged)
    staged = store.stage(source, objects, sync=True)  # read back above: measure a fresh copy
    assert cached(staged.tmp) <= 4 * 1024 * 1024  # what is still within the lag and the last steps
    store.discard(staged)
    monkeypatch.setattr(store, "BULK_BYTES", 64 * 1024 * 1024)
    staged = store.stage(source, objects, sync=True)
    assert cached(staged.tmp) == staged.size
    store.discard(staged)


def test_same_content_twice_is_one_exhibit(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    a = samples.make_png(tmp_path / "a.png", 300, 600)
    b = tmp_path / "copy-of-a.png"
    b.write_bytes(a.read_bytes())
    first = cli("add", dispute, a, "--json").json["added"]
    again = cli("add", dispute, b, a, "--json").json["added"]
    assert first[0]["exhibit"] == 1 and first[0]["duplicate"] is False
    assert [(x["exhibit"], x["duplicate"]) for x in again] == [(1, True), (1, True)]
    assert len(cli("show", dispute, "--json").json["exhibits"]) == 1


def test_folders_are_walked_in_sorted_order(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    folder = tmp_path / "evidence"
    (folder / "b-sub").mkdir(parents=True)
    samples.make_png(folder / "c.png", 100, 200, seed=3)
    samples.make_png(folder / "a.png", 100, 200, seed=1)
    samples.make_png(folder / "b-sub" / "b.png", 100, 200, seed=2)
    (folder / ".DS_Store").write_bytes(b"junk")
    ran = cli("add", dispute, folder, "--json")
    assert ran.code == 0, ran.err
    assert [a["original_name"] for a in ran.json["added"]] == ["a.png", "b.png", "c.png"]
    assert [a["exhibit"] for a in ran.json["added"]] == [1, 2, 3]


def test_capture_time_from_file_name_not_mtime(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    named = samples.make_png(tmp_path / "Screenshot_20250503-142210.png", 1080, 2340)
    plain = samples.make_png(tmp_path / "plain.png", 1080, 2340, seed=9)
    os.utime(plain, (1_700_000_000, 1_700_000_000))
    ran = cli("add", dispute, named, plain, "--tz", "Asia/Shanghai", "--json")
    first, second = ran.json["added"]
    assert (first["captured_at"], first["captured_at_source"]) == ("2025-05-03T14:22:10+08:00", "filename")
    assert first["kind"] == "screenshot"
    assert (second["captured_at"], second["captured_at_source"]) == (None, None)


def test_user_given_time_and_kind_win(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    photo = samples.make_jpeg_with_exif(tmp_path / "x.jpg")
    ran = cli("add", dispute, photo, "--kind", "screenshot", "--captured-at", "2025-05-04 10:00",
              "--tz", "+08:00", "--source", "小红书App订单页", "--purpose", "证明购买事实", "--json")
    entry = ran.json["added"][0]
    assert entry["kind"] == "screenshot"
    assert (entry["captured_at"], entry["captured_at_source"]) == ("2025-05-04T10:00:00+08:00", "user")
    shown = cli("show", dispute, "1", "--json").json["exhibit"]
    assert shown["source"] == "小红书App订单页" and shown["purpose"] == "证明购买事实"


def test_bad_inputs_refused_and_good_files_still_go_in(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    good = samples.make_png(tmp_path / "good.png", 200, 400)
    empty = tmp_path / "empty.jpg"
    empty.touch()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    loops = tmp_path / "loops"
    loops.mkdir()
    os.symlink("self", loops / "self")
    samples.make_png(loops / "inside.png", 120, 240, seed=5)
    os.symlink(good, loops / "link-to-good.png")
    ran = cli("add", dispute, tmp_path / "nope.png", empty, fifo, loops, good, "--json")
    assert ran.code == 1
    errors = {Path(e["path"]).name: e["error"] for e in ran.json["errors"]}
    assert errors == {
        "nope.png": "no such file or folder",
        "empty.jpg": "empty file",
        "pipe": "not a regular file (a FIFO)",
        "self": "symbolic link loop",
    }
    assert [a["original_name"] for a in ran.json["added"]] == ["inside.png", "good.png"]
    assert "skipped symbolic link" in ran.err
    assert "Traceback" not in ran.err
    objects = home / "disputes" / dispute / "objects"
    assert not [p for p in objects.iterdir() if p.name.startswith(".tmp")]


def test_unreadable_file_is_refused(dispute, home, tmp_path) -> None:  # noqa: ANN001
    """As root (CI), the child drops the capabilities that let root read any file."""
    secret = samples.make_png(tmp_path / "secret.png", 100, 100)
    readable = samples.make_png(tmp_path / "ok.png", 100, 100, seed=4)
    os.chmod(secret, 0)
    prefix = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to test permissions as root"
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    proc = subprocess.run([*prefix, sys.executable, "-m", "locker", "add", dispute, secret, readable, "--json"],
                          capture_output=True, text=True, env=env, cwd=REPO)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["errors"] == [{"path": str(secret), "error": "unreadable: permission denied"}]
    assert [a["original_name"] for a in doc["added"]] == ["ok.png"]
    assert proc.stderr == f"locker: {secret}: unreadable: permission denied\n"


def test_damaged_files_are_kept_with_warnings(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    whole = samples.make_jpeg_with_exif(tmp_path / "whole.jpg").read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(whole[: len(whole) // 2])
    fake = tmp_path / "random.jpg"
    fake.write_bytes(os.urandom(4096))
    video = samples.make_mp4(tmp_path / "clip.mp4", seconds=2)
    cut_video = tmp_path / "cut.mp4"
    cut_video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    bomb = samples.make_png_bomb(tmp_path / "bomb.png")
    ran = cli("add", dispute, truncated, fake, cut_video, bomb, "--json")
    assert ran.code == 0, ran.err
    by_name = {a["original_name"]: a for a in ran.json["added"]}
    assert set(by_name) == {"truncated.jpg", "random.jpg", "cut.mp4", "bomb.png"}
    for name, entry in by_name.items():
        assert entry["warnings"], f"{name} has no warning"
        assert stored(home, dispute, entry["sha256"]).read_bytes() == (tmp_path / name).read_bytes()
    assert by_name["random.jpg"]["mime"] != "image/jpeg"
    assert by_name["random.jpg"]["kind"] == "other"


def test_exit_code_and_message_for_unknown_dispute(cli, tmp_path) -> None:  # noqa: ANN001
    ran = cli("add", "no-such-dispute", tmp_path)
    assert ran.code == 1
    assert ran.err.strip() == "locker: no dispute named 'no-such-dispute' (see `locker list`)"
    ran = cli("add", "../../etc", tmp_path)
    assert ran.code == 1 and "no dispute named" in ran.err


def test_large_file_memory_stays_flat(dispute, home, tmp_path) -> None:  # noqa: ANN001
    big = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with open(big, "wb") as f:
        for i in range(300):
            f.write(block[i:] + block[:i])
    # VmHWM belongs to this process's own memory map; ru_maxrss would include the parent's peak.
    code = (
        "import re, sys; from locker.cli import main; rc = main(sys.argv[1:]); "
        "status = open('/proc/self/status').read(); "
        "sys.stderr.write('MAXRSS=%s\\n' % re.search(r'VmHWM:\\s+(\\d+)', status).group(1)); sys.exit(rc)"
    )
    env = {**os.environ, "LOCKER_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-c", code, "add", dispute, big, "--json"],
                          capture_output=True, text=True, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    rss_mb = int(proc.stderr.split("MAXRSS=")[1].split()[0]) / 1024
    assert rss_mb < 150, f"peak RSS {rss_mb:.0f} MB for a 300 MB file"


def test_large_file_reports_progress_while_it_is_copied(tmp_path) -> None:  # noqa: ANN001
    from locker import store

    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(40 * 1024 * 1024))
    objects = tmp_path / "objects"
    objects.mkdir()
    steps: list[int] = []
    staged = store.stage(big, objects, sync=True, on_progress=steps.append)
    assert len(steps) >= 2 and sum(steps) <= staged.size == big.stat().st_size
    assert staged.tmp.read_bytes() == big.read_bytes()
    assert staged.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()
