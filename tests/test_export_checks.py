"""``locker export`` checks what it packs and never destroys anything (issue 17, points 2 and 3).

Objects are flipped or deleted on disk as a failing disk or a careless hand would; the pack is then read
back with poppler's pdftotext, as a clerk would read it.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from tests import samples


def pdftotext(pdf: Path, first: int | None = None) -> str:
    pages = ["-f", str(first), "-l", str(first)] if first is not None else []
    proc = subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def pages_of(pdf: Path) -> list[str]:
    return pdftotext(pdf).split("\f")


def object_of(home: Path, slug: str, sha256: str) -> Path:
    return home / "disputes" / slug / "objects" / sha256[:2] / sha256[2:]


def flip_byte(path: Path, at: float = 0.6) -> None:
    """Change one byte of a stored (read-only) object."""
    mode = path.stat().st_mode
    path.chmod(mode | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    i = int(len(data) * at)
    data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    path.chmod(stat.S_IMODE(mode))


@pytest.fixture
def pictures(cli, dispute, tmp_path: Path, home: Path) -> dict:  # noqa: ANN001
    """A photo, a long screenshot, a video and a chat, with their renditions cached by a first export.
    Pictures at half a phone's size: the same renditions and slices, made (by each test's exports too) in
    less time."""
    ev = tmp_path / "ev"
    files = {
        "photo": samples.make_jpeg_with_exif(ev / "IMG_20250503_150102.jpg", 800, 600, seed=4),
        "long": samples.make_long_screenshot(ev / "Screenshot_20250503-142500.png", 540, 3000),
        "video": samples.make_numbered_video(ev / "VID_20250503_150530.mp4", seconds=2),
        "chat": samples.make_plain_chat(ev / "chat.txt", [("我", "左耳没有声音"), ("商家", "亲，不支持退款哦")]),
    }
    for path in files.values():
        assert cli("add", dispute, path).code == 0
    shown = cli("show", dispute, "--json").json
    by_name = {e["original_name"]: e for e in shown["exhibits"]}
    first = cli("export", dispute, "-o", tmp_path / "first.pdf", "--json")
    assert first.code == 0, first.err
    return {"slug": dispute, "files": files, "exhibits": {k: by_name[p.name] for k, p in files.items()},
            "home": home, "tmp": tmp_path}


def replace_bytes(path: Path, source: Path) -> None:
    """Put other bytes under a stored object's name (a swapped file; its hash no longer matches)."""
    mode = path.stat().st_mode
    path.chmod(mode | stat.S_IWUSR)
    path.write_bytes(source.read_bytes())
    path.chmod(stat.S_IMODE(mode))


def cached_renditions(home: Path, slug: str, sha256: str) -> list[Path]:
    folder = home / "disputes" / slug / "derived" / sha256[:2] / sha256
    return [p for p in folder.rglob("*.jpg") if p.is_file()]


def test_a_flipped_byte_refuses_the_export_and_names_the_exhibit(cli, pictures) -> None:  # noqa: ANN001
    slug, home, tmp = pictures["slug"], pictures["home"], pictures["tmp"]
    photo = pictures["exhibits"]["photo"]
    flip_byte(object_of(home, slug, photo["sha256"]))
    target = tmp / "pack.pdf"
    ran = cli("export", slug, "-o", target)
    assert ran.code == 1
    assert f"exhibit {photo['exhibit']} (IMG_20250503_150102.jpg)" in ran.err
    assert "differ from the recorded SHA-256" in ran.err and "--allow-damaged" in ran.err
    assert ran.err.count("\n") == 1 and "Traceback" not in ran.err
    assert not target.exists() and not [p for p in tmp.iterdir() if p.name.startswith(".tmp-")]
    # --json: no export document claims a pack (the error is one document or none, never two)
    ran = cli("export", slug, "-o", target, "--json")
    assert ran.code == 1 and '"sha256"' not in ran.out and not target.exists()
    log = cli("log", slug, "--json").json
    assert len([e for e in log if e["action"] == "export.created"]) == 1  # the fixture's own export only


@pytest.mark.parametrize("lang, stamp", [("zh", "原件校验失败"), ("en", "FAILED VERIFICATION")])
def test_allow_damaged_stamps_the_exhibit_and_never_shows_the_old_rendition(cli, pictures, lang, stamp) -> None:  # noqa: ANN001
    slug, home, tmp = pictures["slug"], pictures["home"], pictures["tmp"]
    damaged = [pictures["exhibits"][k] for k in ("photo", "long", "video")]
    cached = {e["exhibit"]: cached_renditions(home, slug, e["sha256"]) for e in damaged}
    assert all(cached.values()), cached  # the first export made them
    # one byte flipped in the photo; the long screenshot and the video swapped for others of their kind, so
    # that every picture made from their present bytes differs from the one cached for the recorded bytes
    flip_byte(object_of(home, slug, damaged[0]["sha256"]))
    other = tmp / "other"
    replace_bytes(object_of(home, slug, damaged[1]["sha256"]),
                  samples.make_long_screenshot(other / "long.png", 540, 3000, seed=7))
    replace_bytes(object_of(home, slug, damaged[2]["sha256"]),
                  samples.make_numbered_video(other / "v.mp4", seconds=4, width=240, height=320))
    ran = cli("export", slug, "--allow-damaged", "--lang", lang, "-o", tmp / "damaged.pdf", "--json")
    assert ran.code == 0, ran.err
    assert "FAILED VERIFICATION" in ran.err  # a warning per damaged exhibit
    pdf = tmp / "damaged.pdf"
    pages = pages_of(pdf)
    index = next(p for p in pages if ("本证据包共" if lang == "zh" else "This pack has") in p)
    assert index.count(stamp) == 3
    chat = pictures["exhibits"]["chat"]["exhibit"]
    word = "证据" if lang == "zh" else "Exhibit"
    for e in damaged:
        own = [p for p in pages if re.search(rf"{word} {e['exhibit']}\b", p) and e["sha256"] in p
               and e["original_name"] in p]
        assert own and stamp in own[0], e["original_name"]
        now = hashlib.sha256(object_of(home, slug, e["sha256"]).read_bytes()).hexdigest()
        assert now in " ".join(own[0].split())  # the hash of the bytes there now is printed beside the recorded one
    chat_page = next(p for p in pages if re.search(rf"{word} {chat}\b", p) and "亲，不支持退款哦" in p)
    assert stamp not in chat_page
    body = pdf.read_bytes()
    for number, files in cached.items():  # renditions of the good bytes are not in the pack
        for f in files:
            assert f.read_bytes() not in body, (number, f)
    # nor is anything cached for the damaged bytes under the recorded hash
    for e in damaged:
        assert sorted(cached_renditions(home, slug, e["sha256"])) == sorted(cached[e["exhibit"]])
    payload = cli("log", slug, "--json").json[-1]["payload"]
    assert payload["failed_verification"] == sorted(e["exhibit"] for e in damaged)
    assert not [p for p in tmp.iterdir() if p.name.startswith(".tmp-")]


def test_a_deleted_object_refuses_the_export_or_is_stamped(cli, pictures) -> None:  # noqa: ANN001
    slug, home, tmp = pictures["slug"], pictures["home"], pictures["tmp"]
    photo = pictures["exhibits"]["photo"]
    object_of(home, slug, photo["sha256"]).unlink()
    ran = cli("export", slug, "-o", tmp / "pack.pdf")
    assert ran.code == 1
    assert f"exhibit {photo['exhibit']} (IMG_20250503_150102.jpg): its original is missing" in ran.err
    assert not (tmp / "pack.pdf").exists()
    ran = cli("export", slug, "--allow-damaged", "--attach-originals", "-o", tmp / "pack.pdf")
    assert ran.code == 0, ran.err
    pages = pages_of(tmp / "pack.pdf")
    own = [p for p in pages if f"证据 {photo['exhibit']}" in p and photo["sha256"] in p and "IMG_20250503" in p]
    assert own and "原件校验失败" in own[0] and "已不在证据库中" in own[0]
    assert "获取原件：本页只列出" not in own[0]  # it does not say the original is unchanged in the locker
    index = next(p for p in pages if "本证据包共" in p)
    assert "原件校验失败" in index
    cover = pages[0]
    assert "1 份证据原件校验失败" in cover


def test_the_check_reads_every_packed_object(cli, pictures, monkeypatch) -> None:  # noqa: ANN001
    """Warm export (every rendition cached): each object is still hashed, once."""
    from locker import store

    seen: list[str] = []
    real = store.hash_file

    def counting(path: Path) -> tuple[str, int]:
        seen.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(store, "hash_file", counting)
    ran = cli("export", pictures["slug"], "-o", pictures["tmp"] / "warm.pdf")
    assert ran.code == 0, ran.err
    objects = [e["sha256"][2:] for e in pictures["exhibits"].values()]
    assert sorted(n for n in seen if n in objects) == sorted(objects)


# ----------------------------------------------- the check in a process, renditions started in the first pass


@pytest.fixture
def photos(cli, dispute, tmp_path: Path, home: Path, monkeypatch) -> dict:  # noqa: ANN001
    """Six photos (enough for the rendition workers), none exported yet; every export checks its originals
    in a process of its own (the size from which it does is lowered to nothing)."""
    from locker.services import export_check

    monkeypatch.setattr(export_check, "FORK_MIN_BYTES", 0)
    forked: list[object] = []
    real = export_check.Forked

    def counted(*args: object) -> object:
        forked.append(real(*args))
        return forked[-1]

    monkeypatch.setattr(export_check, "Forked", counted)
    paths = [samples.make_jpeg_with_exif(tmp_path / "ev" / f"IMG_2025050{n}_150102.jpg", 640, 480, seed=n)
             for n in range(1, 7)]
    assert cli("add", dispute, *paths).code == 0
    exhibits = cli("show", dispute, "--json").json["exhibits"]
    return {"slug": dispute, "home": home, "tmp": tmp_path, "exhibits": exhibits, "forked": forked}


def _renditions(home: Path, slug: str) -> dict[str, bytes]:
    derived = home / "disputes" / slug / "derived"
    return {str(p.relative_to(derived)): p.read_bytes() for p in sorted(derived.rglob("*.jpg"))}


def test_renditions_start_in_the_first_pass_and_are_those_made_after_it(cli, photos, monkeypatch) -> None:  # noqa: ANN001
    from locker.report import images, pack

    slug, home, tmp = photos["slug"], photos["home"], photos["tmp"]
    handed: list[int] = []  # how many renditions the first pass had started when the whole list was made
    real = images.start_all

    def start_all(*args: object, started: dict | None = None, **kwargs: object) -> object:
        handed.append(len(started or {}))
        return real(*args, started=started, **kwargs)

    monkeypatch.setattr(images, "start_all", start_all)
    ran = cli("export", slug, "-o", tmp / "early.pdf", "--json")
    assert ran.code == 0, ran.err
    assert handed[0] == 6 and len(photos["forked"]) == 1  # all six, once the check (in its process) passed
    early = _renditions(home, slug)
    assert len(early) == 6  # one each: none made twice, none at a size the pack did not use
    flat = "".join(pdftotext(tmp / "early.pdf").split())
    assert all(e["sha256"] in flat for e in photos["exhibits"])

    # The same export with nothing started in the first pass makes the same renditions, byte for byte.
    (home / "disputes" / slug / "derived").rename(tmp / "derived-early")
    monkeypatch.setattr(pack, "_early", lambda *args: None)
    handed.clear()
    assert cli("export", slug, "-o", tmp / "late.pdf").code == 0
    assert handed[0] == 0
    assert _renditions(home, slug) == early
    assert len(pages_of(tmp / "late.pdf")) == len(pages_of(tmp / "early.pdf"))


def test_the_check_in_its_own_process_refuses_a_flipped_byte(cli, photos) -> None:  # noqa: ANN001
    slug, home, tmp = photos["slug"], photos["home"], photos["tmp"]
    third = photos["exhibits"][2]
    flip_byte(object_of(home, slug, third["sha256"]))
    ran = cli("export", slug, "-o", tmp / "pack.pdf")
    assert ran.code == 1 and len(photos["forked"]) == 1
    assert f"exhibit {third['exhibit']} ({third['original_name']})" in ran.err and "Traceback" not in ran.err
    assert not (tmp / "pack.pdf").exists()
    assert _renditions(home, slug) == {}  # nothing was made from the originals before the check had passed
    stamped = cli("export", slug, "-o", tmp / "stamped.pdf", "--allow-damaged")
    assert stamped.code == 0, stamped.err
    assert "原件校验失败" in pdftotext(tmp / "stamped.pdf")


def test_a_check_process_that_ends_without_an_answer_is_made_here(cli, photos, monkeypatch) -> None:  # noqa: ANN001
    from locker.services import export_check

    def dies(*args: object) -> None:
        os._exit(3)

    monkeypatch.setattr(export_check, "_forked_check", dies)
    slug, home, tmp = photos["slug"], photos["home"], photos["tmp"]
    assert cli("export", slug, "-o", tmp / "pack.pdf").code == 0
    first = photos["exhibits"][0]
    flip_byte(object_of(home, slug, first["sha256"]))
    ran = cli("export", slug, "-o", tmp / "again.pdf")
    assert ran.code == 1 and f"exhibit {first['exhibit']} ({first['original_name']})" in ran.err
    assert len(photos["forked"]) == 2


# --------------------------------------------------------------------------- point 3: -o never destroys


def test_output_inside_the_home_is_refused(cli, pictures) -> None:  # noqa: ANN001
    slug, home, tmp = pictures["slug"], pictures["home"], pictures["tmp"]
    db = home / "disputes" / slug / "dispute.sqlite"
    before = db.read_bytes()
    photo = object_of(home, slug, pictures["exhibits"]["photo"]["sha256"])
    link = tmp / "innocent.pdf"
    link.symlink_to(db)
    for target, extra in ((db, ["--force"]), (photo, ["--force"]), (home / "new.pdf", []),
                          (home / "disputes" / slug / "exports", []), (home, []), (link, ["--force"])):
        ran = cli("export", slug, "-o", target, *extra)
        assert ran.code == 2, (target, ran.err)
        assert "inside the locker home" in ran.err, ran.err
    assert db.read_bytes() == before and not (home / "new.pdf").exists()
    assert hashlib.sha256(photo.read_bytes()).hexdigest() == pictures["exhibits"]["photo"]["sha256"]
    assert cli("verify", slug).code == 0


def test_an_existing_file_is_replaced_only_with_force(cli, pictures) -> None:  # noqa: ANN001
    slug, tmp = pictures["slug"], pictures["tmp"]
    mine = tmp / "thesis.pdf"
    mine.write_bytes(b"%PDF-1.4 my own work")
    ran = cli("export", slug, "-o", mine)
    assert ran.code == 2 and "exists" in ran.err and "--force" in ran.err
    assert mine.read_bytes() == b"%PDF-1.4 my own work"
    ran = cli("export", slug, "-o", mine, "--force", "--json")
    assert ran.code == 0, ran.err
    assert mine.read_bytes().startswith(b"%PDF") and hashlib.sha256(mine.read_bytes()).hexdigest() == ran.json["sha256"]
    assert not [p for p in tmp.iterdir() if p.name.startswith(".tmp-")]


def test_a_file_appearing_while_the_pack_is_made_is_not_replaced(cli, pictures, monkeypatch) -> None:  # noqa: ANN001
    """Writing stays atomic and, without --force, never over a file that appeared meanwhile."""
    from locker import store

    slug, tmp = pictures["slug"], pictures["tmp"]
    target = tmp / "race.pdf"
    real = store.fsync_file

    def meanwhile(path: Path) -> None:
        real(path)
        if Path(path).name.startswith(".tmp-") and not target.exists():
            target.write_bytes(b"someone else's")

    monkeypatch.setattr(store, "fsync_file", meanwhile)
    ran = cli("export", slug, "-o", target)
    assert ran.code == 2 and "exists" in ran.err
    assert target.read_bytes() == b"someone else's"
    assert not [p for p in tmp.iterdir() if p.name.startswith(".tmp-")]


def test_the_default_name_never_replaces_a_pack(cli, pictures, home) -> None:  # noqa: ANN001
    a = cli("export", pictures["slug"], "--json").json["path"]
    b = cli("export", pictures["slug"], "--json").json["path"]
    assert a != b and os.path.exists(a) and os.path.exists(b)
