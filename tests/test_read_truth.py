"""What is read is what is stored (issue 17, point 9).

A file written to while `add` copies it is stored exactly as it was read, with a warning; a
symbolic link named on the command line is followed and its target recorded; the locker's
own files (objects, databases, exports: anything inside the home) are never taken as evidence.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from locker import store
from tests import samples

MIB = 1024 * 1024


def stored(home: Path, slug: str, sha: str) -> Path:
    return home / "disputes" / slug / "objects" / sha[:2] / sha[2:]


def test_stage_notices_a_file_that_grows_while_it_is_copied(tmp_path: Path) -> None:
    """Deterministic: the copy's own progress callback (called on the reading thread between
    chunks) appends to the source, so the file grows part-way through every time."""
    source = samples.make_random(tmp_path / "growing.bin", size=40 * MIB, seed=3)
    objects = tmp_path / "objects"
    objects.mkdir()
    calls = [0]

    def append(_nbytes: int) -> None:
        calls[0] += 1
        if calls[0] == 1:
            with open(source, "ab") as f:
                f.write(b"appended while the copy ran\n" * 1000)

    staged = store.stage(source, objects, sync=True, on_progress=append)
    assert calls[0] >= 1
    assert staged.changed is True
    data = staged.tmp.read_bytes()
    assert hashlib.sha256(data).hexdigest() == staged.sha256 and len(data) == staged.size
    assert source.read_bytes().startswith(data)  # what was read is a prefix of the file as it is now
    store.discard(staged)

    quiet = store.stage(samples.make_random(tmp_path / "quiet.bin", size=40 * MIB, seed=4), objects, sync=True)
    assert quiet.changed is False
    store.discard(quiet)


def test_the_start_the_copy_keeps_for_the_probe_is_the_start_of_what_was_stored(tmp_path: Path) -> None:
    """The probe looks at the first bytes the copy kept rather than reading the stored copy again:
    they must be the stored copy's first bytes, for a file shorter than them, a small file copied
    in one buffer and a large one copied on two threads, and the probe must say the same of them."""
    import random
    from datetime import UTC

    from PIL import Image

    from locker import media
    from locker.media.sniff import HEAD_SIZE, read_head
    from locker.services import stage
    from locker.services.collect import Candidate

    objects = tmp_path / "objects"
    objects.mkdir()
    noisy = tmp_path / "Screenshot_20250301-101500.png"  # pixels that do not compress: 720 KB
    Image.frombytes("RGB", (400, 600), random.Random(7).randbytes(400 * 600 * 3)).save(noisy)
    sources = [samples.make_png(tmp_path / "short.png", 8, 8), noisy,
               samples.make_random(tmp_path / "tiny.bin", size=HEAD_SIZE - 1, seed=5),
               samples.make_random(tmp_path / "big.bin", size=store.PIPELINE_MIN + 3, seed=6)]
    assert os.path.getsize(sources[1]) > store.CHUNK  # more than one read
    for source in sources:
        staged = store.stage(source, objects, sync=False, head=HEAD_SIZE)
        assert staged.head == read_head(staged.tmp) == staged.tmp.read_bytes()[:HEAD_SIZE], source.name
        assert media.probe(staged.tmp, source.name, UTC, staged.head) == media.probe(staged.tmp, source.name, UTC)
        item = stage.read_staged(Candidate(source, staged.size), staged, UTC, stage.AddOptions())
        assert item.staged is not None and item.staged.head == b""  # not sent back with the rest
        store.discard(item.staged)
    assert store.stage(sources[0], objects, sync=False).head == b""  # kept only when asked for


def test_add_of_a_file_being_appended_to_stores_what_was_read(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    """A writer appends to the file in a loop for the whole of `locker add`."""
    source = samples.make_random(tmp_path / "recording.bin", size=64 * MIB, seed=7)
    stop = threading.Event()
    started = threading.Event()

    def writer() -> None:
        with open(source, "ab", buffering=0) as f:
            while not stop.is_set():
                f.write(os.urandom(4096))
                started.set()
                stop.wait(0.001)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        assert started.wait(10)
        ran = cli("add", dispute, source, "--json")
    finally:
        stop.set()
        thread.join()
    assert ran.code == 0, ran.err
    entry = ran.json["added"][0]
    assert any(w.startswith("changed while being read") for w in entry["warnings"]), entry["warnings"]
    obj = stored(home, dispute, entry["sha256"])
    data = obj.read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert len(data) == entry["size"]
    assert source.read_bytes().startswith(data)
    assert cli("verify", dispute).code == 0


def test_a_quiet_file_has_no_change_warning(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    ran = cli("add", dispute, samples.make_random(tmp_path / "still.bin", size=12 * MIB), "--json")
    assert ran.code == 0, ran.err
    assert not [w for w in ran.json["added"][0]["warnings"] if "changed while being read" in w]


def test_a_symlink_on_the_command_line_is_followed_and_recorded(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    target = samples.make_png(tmp_path / "real" / "shot.png", 300, 600)
    link = tmp_path / "link.png"
    os.symlink(target, link)
    ran = cli("add", dispute, link, "--json")
    assert ran.code == 0, ran.err
    entry = ran.json["added"][0]
    assert entry["original_name"] == "link.png"
    assert entry["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert any("symbolic link" in w and "symlink_target" in w for w in entry["warnings"]), entry["warnings"]
    shown = cli("show", dispute, "1", "--json")
    assert shown.code == 0, shown.err
    assert shown.json["exhibit"]["metadata"]["symlink_target"] == os.path.realpath(target)
    plain = samples.make_png(tmp_path / "plain.png", 300, 600, seed=9)
    ran = cli("add", dispute, plain, "--json")
    assert "symlink_target" not in cli("show", dispute, "2", "--json").json["exhibit"]["metadata"]


def test_the_lockers_own_files_are_refused_and_others_go_in(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    first = samples.make_png(tmp_path / "first.png", 300, 600)
    ran = cli("add", dispute, first, "--json")
    assert ran.code == 0, ran.err
    folder = home / "disputes" / dispute
    obj = stored(home, dispute, ran.json["added"][0]["sha256"])
    link_to_object = tmp_path / "innocent.png"
    os.symlink(obj, link_to_object)
    good = samples.make_png(tmp_path / "good.png", 300, 600, seed=2)
    own = [obj, folder / "dispute.sqlite", folder / "objects", home, link_to_object]
    ran = cli("add", dispute, *own, good, "--json")
    assert ran.code == 1
    errors = {e["path"]: e["error"] for e in ran.json["errors"]}
    assert set(errors) == {str(p) for p in own}
    for message in errors.values():
        assert "locker itself" in message
    assert [a["original_name"] for a in ran.json["added"]] == ["good.png"]
    assert [a["exhibit"] for a in ran.json["added"]] == [2]
    assert "Traceback" not in ran.err


def test_a_folder_holding_the_home_is_walked_without_the_home(cli, tmp_path) -> None:  # noqa: ANN001
    outer = tmp_path / "phone-backup"
    samples.make_png(outer / "a.png", 300, 600)
    samples.make_png(outer / "z.png", 300, 600, seed=4)
    inner_home = outer / "locker-home"
    ran = cli("--home", inner_home, "new", "earbuds", "--slug", "earbuds", "--json")
    assert ran.code == 0, ran.err
    ran = cli("--home", inner_home, "add", "earbuds", outer, "--json")
    assert ran.code == 1
    assert [a["original_name"] for a in ran.json["added"]] == ["a.png", "z.png"]
    assert [(e["path"], "locker itself" in e["error"]) for e in ran.json["errors"]] == [(str(inner_home), True)]
