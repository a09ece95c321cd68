"""Derived files: made from the originals, reused, rebuilt, never needed by verify."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests import samples


def test_rebuild_makes_frames_renditions_and_slices(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    video = samples.make_numbered_video(tmp_path / "VID_20250503_150530.mp4", seconds=4, fps=10)
    photo = samples.make_oriented_image(tmp_path / "IMG_1.jpg", 6, 400, 300)
    long_shot = samples.make_long_screenshot(tmp_path / "Screenshot_long.png", 1080, 6000)
    chat = samples.make_plain_chat(tmp_path / "chat.txt")
    assert cli("add", dispute, video, photo, long_shot, chat).code == 0

    ran = cli("rebuild", dispute, "--json")
    assert ran.code == 0, ran.err
    made = {m["exhibit"]: m for m in ran.json["made"]}
    assert set(made) == {1, 2, 3} and ran.json["failed"] == []

    def manifest(n: int) -> dict:
        folder = Path(made[n]["folder"])
        assert folder.is_relative_to(home / "disputes" / dispute / "derived")
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))

    frames = manifest(1)["frames"]
    assert len(frames) == 9 and frames[0]["timecode"].startswith("00:00:00")
    photo_manifest = manifest(2)
    # The camera stored 300x400 pixels with Orientation 6; upright, the picture is 400x300.
    assert (photo_manifest["width"], photo_manifest["height"]) == (400, 300)
    slices = manifest(3)["slices"]
    assert len(slices) >= 4 and slices[0]["top"] == 0 and slices[-1]["bottom"] == 6000

    shown = cli("show", dispute, "1")
    assert "derived files" in shown.out and "frame-00.jpg" in shown.out


def test_derived_files_are_not_evidence(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    cli("add", dispute, samples.make_oriented_image(tmp_path / "a.jpg", 1, 200, 100))
    assert cli("rebuild", dispute).code == 0
    derived = home / "disputes" / dispute / "derived"
    shutil.rmtree(derived)
    assert cli("verify", dispute).code == 0
    again = cli("rebuild", dispute, "--json")
    assert again.code == 0 and len(again.json["made"]) == 1
    assert any(derived.rglob("display.jpg"))


def test_undecodable_original_is_reported_not_fatal(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    whole = samples.make_numbered_video(tmp_path / "v.mp4", seconds=2, fps=10).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 3])
    good = samples.make_oriented_image(tmp_path / "ok.jpg", 1, 200, 100)
    cli("add", dispute, cut, good)
    ran = cli("rebuild", dispute, "--json")
    assert ran.code == 1
    assert [m["exhibit"] for m in ran.json["made"]] == [2]
    assert [f["exhibit"] for f in ran.json["failed"]] == [1]


def test_derived_files_are_durable_before_they_take_their_name(cli, dispute, home, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """After a power cut a derived folder is whole or absent: every file in the work folder is
    fsynced before the folder is renamed into place."""
    import os

    from locker.services import derivatives

    photo = samples.make_oriented_image(tmp_path / "IMG_1.jpg", 6, 400, 300)
    long_shot = samples.make_long_screenshot(tmp_path / "Screenshot_long.png", 1080, 6000)
    assert cli("add", dispute, photo, long_shot).code == 0
    synced: set[str] = set()
    renamed: list[tuple[list[str], set[str]]] = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd: int) -> None:
        synced.add(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def rename(src, dst) -> None:  # noqa: ANN001
        if Path(src).name.startswith(".tmp-"):
            renamed.append(([str(p) for p in Path(src).iterdir()], set(synced)))
        real_rename(src, dst)

    monkeypatch.setattr(derivatives.os, "fsync", fsync)
    monkeypatch.setattr(derivatives.os, "rename", rename)
    ran = cli("rebuild", dispute, "--json")
    assert ran.code == 0, ran.err
    assert len(renamed) == 2
    for files, synced_then in renamed:
        assert len(files) >= 3 and set(files) <= synced_then, (files, synced_then)


def test_rebuild_makes_nothing_from_a_damaged_original(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    """Derived files are filed under the recorded SHA-256: made from other bytes, they would later be
    shown beside that hash (say, once the original is restored from a backup). Rebuild refuses."""
    photo = samples.make_oriented_image(tmp_path / "IMG_1.jpg", 1, 400, 300)
    video = samples.make_numbered_video(tmp_path / "VID_1.mp4", seconds=2, fps=10)
    assert cli("add", dispute, photo, video).code == 0
    exhibits = {e["exhibit"]: e for e in cli("show", dispute, "--json").json["exhibits"]}
    sha = exhibits[1]["sha256"]
    obj = home / "disputes" / dispute / "objects" / sha[:2] / sha[2:]
    good = obj.read_bytes()
    obj.chmod(0o644)
    obj.write_bytes(good[:-200] + bytes(200))  # the picture still decodes, with other pixels
    ran = cli("rebuild", dispute, "--json")
    assert ran.code == 1
    assert [f["exhibit"] for f in ran.json["failed"]] == [1] and "recorded SHA-256" in ran.json["failed"][0]["error"]
    assert [m["exhibit"] for m in ran.json["made"]] == [2]
    assert not (home / "disputes" / dispute / "derived" / exhibits[1]["sha256"][:2]).exists()
    obj.write_bytes(good)  # restored: now it is made, from the recorded bytes
    assert cli("rebuild", dispute).code == 0
