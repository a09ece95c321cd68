"""``locker serve``: the web app's routes through the ASGI test client (issue 14 §1, §2, §4).

Each security rule is tried from the outside: a request without the session, without or with
a wrong CSRF token, from another origin or Host, a hostile name, a file past the limit, a path
instead of a slug. What a page shows is checked against what the command line says
(``locker show --json``, ``locker log --json``, ``locker verify``).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from tests.samples import make_heic, make_jpeg, make_mp4
from tests.web_helpers import client, csrf_of, desktop, make_app, real_server

HOSTILE = "<img src=x onerror=alert(1)>\u202egpj.exe"


def _new(c, token: str, title: str = "耳机退款", **fields: str) -> str:  # noqa: ANN001
    r = c.post("/disputes", data={"csrf": token, "title": title, **fields})
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("/", 1)[-1]


def _put(c, slug: str, path: Path, token: str, name: str | None = None, url: str | None = None):  # noqa: ANN001, ANN202
    return c.put(url or f"/d/{slug}/upload", params={"name": name or path.name}, content=path.read_bytes(),
                 headers={"X-CSRF-Token": token, "User-Agent": "TestBrowser/1.0"})


@pytest.fixture
def signed_in(home: Path):  # noqa: ANN201
    settings, c = desktop(home)
    token = csrf_of(c.get("/").text)
    return settings, c, token


# --------------------------------------------------------------------------- the address rule


def test_a_non_loopback_address_is_refused_without_lan(home: Path, cli) -> None:  # noqa: ANN001
    ran = cli("serve", "--host", "0.0.0.0", "--port", "1")
    assert ran.code == 2
    assert "not a loopback address" in ran.err and "--lan" in ran.err
    from locker.errors import UsageError
    from locker.paths import open_home
    from locker.web import server

    with pytest.raises(UsageError):
        server.prepare(open_home(str(home), may_create=True), host="192.168.1.20")
    assert server.prepare(open_home(str(home), may_create=True), host="192.168.1.20", lan=True).lan


def test_serve_is_listed_with_its_options(cli) -> None:  # noqa: ANN001
    ran = cli("serve", "--help")
    assert ran.code == 0
    for option in ("--port", "--lan", "--open", "--max-upload", "--host", "--phone"):
        assert option in ran.out
    ran = cli("serve", "--phone", "x", "--port", "1")
    assert ran.code == 2 and "--phone needs --lan" in ran.err


# --------------------------------------------------------------------------- who may come in


def test_nothing_is_served_without_the_printed_address(home: Path) -> None:
    settings, app = make_app(home)
    c = client(app)
    for path in ("/", "/search?q=x", "/verify", "/d/any", "/d/any/e/1", "/d/any/add"):
        assert c.get(path).status_code in (403, 404), path
    assert c.get("/").status_code == 403
    assert c.get("/login/not-the-key").status_code == 403
    outsider = client(app, host="192.168.1.30")
    assert outsider.get(f"/login/{settings.guard.login_key}").status_code == 403  # the key only works locally
    assert c.get(f"/login/{settings.guard.login_key}").status_code == 303
    assert c.get("/").status_code == 200


def test_another_host_name_is_refused(signed_in) -> None:  # noqa: ANN001
    _settings, c, _token = signed_in
    r = c.get("/", headers={"Host": "attacker.example:8765"})  # DNS rebinding
    assert r.status_code == 421


def test_every_change_needs_the_csrf_token(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token)
    picture = make_jpeg(tmp_path / "a.jpg")
    changing = [("post", "/disputes", {"title": "x"}), ("post", f"/d/{slug}/facts", {"merchant": "m"}),
                ("post", f"/d/{slug}/export", {}), ("post", "/verify", {}), ("post", "/lang", {"lang": "zh"}),
                ("post", "/phones/pair", {}), ("post", "/phones/end", {"session": "x"})]
    for method, path, data in changing:
        assert getattr(c, method)(path, data=data).status_code == 403, path
        assert getattr(c, method)(path, data={**data, "csrf": "0" * 64}).status_code == 403, path
    assert c.put(f"/d/{slug}/upload", params={"name": "a.jpg"}, content=picture.read_bytes()).status_code == 403
    r = c.post(f"/d/{slug}/upload-form", files={"files": ("a.jpg", picture.read_bytes())})
    assert r.status_code == 403
    r = c.post(f"/d/{slug}/upload-batch", files={"files": ("a.jpg", picture.read_bytes())})
    assert r.status_code == 403
    r = c.post(f"/d/{slug}/facts", data={"csrf": token, "merchant": "m"}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    assert json.loads(_show(home_of(settings), slug))["exhibits"] == []
    assert json.loads(_show(home_of(settings), slug))["merchant"] is None


def home_of(settings) -> Path:  # noqa: ANN001
    return Path(settings.home.root)


def _show(home: Path, slug: str, *more: str) -> str:
    from tests.conftest import run_locker

    return run_locker("show", slug, *more, "--json", home=home, check=True).stdout


def test_every_answer_carries_a_strict_policy_and_no_page_has_inline_script(signed_in) -> None:  # noqa: ANN001
    _settings, c, token = signed_in
    slug = _new(c, token)
    for path in ("/", f"/d/{slug}", f"/d/{slug}/add", "/search?q=a", "/verify", "/static/app.js", "/nothing-here"):
        r = c.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
        if r.headers["content-type"].startswith("text/html"):
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), path
            assert not re.search(r"\son[a-z]+=", r.text), path
    templates = Path(__file__).resolve().parent.parent / "locker" / "web" / "templates"
    for template in templates.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        assert "|safe" not in text and "autoescape false" not in text, template.name


# --------------------------------------------------------------------------- pages and uploads


def test_upload_is_the_same_exhibit_as_locker_add_would_make(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    home = home_of(settings)
    slug = _new(c, token, platform="taobao")
    files = [make_jpeg(tmp_path / "photo.jpg"), make_heic(tmp_path / "IMG_0001.HEIC"),
             make_mp4(tmp_path / "unboxing.mp4")]
    for path in files:
        r = _put(c, slug, path, token)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["errors"] == [] and doc["added"][0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    again = _put(c, slug, files[0], token, name="copy.jpg").json()
    assert again["added"][0]["duplicate"] is True and again["added"][0]["exhibit"] == 1
    shown = json.loads(_show(home, slug))
    assert [(e["original_name"], e["sha256"]) for e in shown["exhibits"]] == [
        (p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in files]
    assert [e["kind"] for e in shown["exhibits"]] == ["photo", "photo", "video"]
    page = c.get(f"/d/{slug}").text
    for e in shown["exhibits"]:
        assert e["sha256"][:12] in page
        assert f'/d/{slug}/e/{e["exhibit"]}/thumb' in page
    for n, e in enumerate(shown["exhibits"], 1):
        thumb = c.get(f"/d/{slug}/e/{n}/thumb")
        assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff", n
        exhibit_page = c.get(f"/d/{slug}/e/{n}").text
        assert e["sha256"] in exhibit_page  # the full hash
        assert "exhibit.added" in exhibit_page
    assert "frame-0" in c.get(f"/d/{slug}/e/3").text  # the video's key frames
    original = c.get(f"/d/{slug}/e/2/original")
    assert original.content == files[1].read_bytes()
    # the channel: in the custody entry (the chain covers it), shown on the exhibit page
    from tests.conftest import run_locker

    log = json.loads(run_locker("log", slug, "--json", home=home, check=True).stdout)
    added = [e for e in log if e["action"] == "exhibit.added"]
    assert [e["payload"]["channel"]["name"] for e in added] == ["web", "web", "web"]
    assert added[0]["payload"]["channel"]["user_agent"] == "TestBrowser/1.0"
    assert added[0]["payload"]["channel"]["received"] == "the copy the browser sent"
    assert "the copy the browser sent" in c.get(f"/d/{slug}/e/1").text
    assert "sent by a browser (web)" in run_locker("log", slug, home=home, check=True).stdout
    assert run_locker("verify", slug, home=home).returncode == 0
    # nothing was left in objects/ but the three objects
    objects = home / "disputes" / slug / "objects"
    assert sorted(p.name for p in objects.rglob("*") if p.is_file()) == sorted(
        hashlib.sha256(p.read_bytes()).hexdigest()[2:] for p in files)


def test_pieces_of_any_size_are_stored_byte_for_byte(home: Path, cli) -> None:  # noqa: ANN001
    """A browser's reads come in any sizes, as bytes or views, some from a buffer the sender reuses
    at once: what is stored and hashed is what was sent, in order."""
    import os

    from locker.paths import open_home
    from locker.services import upload

    assert cli("new", "pieces").code == 0
    piece = 1024 * 1024
    data = os.urandom(3 * piece + 4096 * 5 + 7)
    sizes = [1, 4095, 4097, piece - 1, piece + 3, 4096, 65536]
    reused = bytearray(piece + 3)
    receiver = upload.Receiver(open_home(str(home)), "pieces", "odd.bin")
    at = 0
    for n, size in enumerate(sizes * 4):
        part = data[at:at + size]
        if n % 3 == 2:  # the sender's own buffer, overwritten right after the call
            reused[:len(part)] = part
            receiver.write(memoryview(reused)[:len(part)])
            reused[:len(part)] = bytes(len(part))
        else:
            receiver.write(memoryview(part) if n % 2 else part)
        at += len(part)
    receiver.write(data[at:])
    result = receiver.finish()
    digest = hashlib.sha256(data).hexdigest()
    assert result.ok and result.added[0].sha256 == digest and result.added[0].size == len(data)
    stored = home / "disputes" / "pieces" / "objects" / digest[:2] / digest[2:]
    assert stored.read_bytes() == data
    assert cli("verify", "pieces").code == 0


def test_the_real_server_stores_bodies_byte_for_byte_however_they_arrive(home: Path) -> None:
    """uvicorn itself, as ``locker serve`` runs it (its protocol keeps a body as the pieces it read,
    see web.protocol): bodies sent in uneven writes, some in a burst the server reads as
    several pieces before the application takes them, others one byte at a time, are stored as
    sent, one file by PUT and three in one multipart request."""
    import http.client
    import os
    import time

    from locker.web import protocol

    with real_server(home) as (settings, running):
        assert isinstance(running.config.http, type) and issubclass(running.config.http, protocol.Reader)
        conn = http.client.HTTPConnection("127.0.0.1", running.config.port, timeout=60)
        conn.request("GET", f"/login/{settings.guard.login_key}")
        answer = conn.getresponse()
        answer.read()
        cookie = answer.getheader("set-cookie", "").split(";", 1)[0]
        conn.request("GET", "/", headers={"Cookie": cookie})
        token = csrf_of(conn.getresponse().read().decode())
        conn.request("POST", "/disputes", body=f"csrf={token}&title=pieces",
                     headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        answer = conn.getresponse()
        answer.read()
        slug = answer.getheader("location", "").rsplit("/", 1)[-1]

        def send(method: str, url: str, body: bytes, ctype: str) -> dict:
            conn.putrequest(method, url)
            for name, value in (("Cookie", cookie), ("X-CSRF-Token", token), ("Content-Type", ctype),
                                ("Content-Length", str(len(body)))):
                conn.putheader(name, value)
            conn.endheaders()
            at, n = 0, 0
            sizes = [1, 7, 65536, 300_000, 3, 1 << 20, 4095]
            while at < len(body):
                size = sizes[n % len(sizes)]
                conn.send(body[at:at + size])  # the tiny ones: each its own segment
                at, n = at + size, n + 1
                if n % 11 == 0:
                    time.sleep(0.002)
            answer = conn.getresponse()
            doc = json.loads(answer.read())
            assert answer.status == 200, doc
            return doc

        one = os.urandom(5 * 1024 * 1024 + 13)
        doc = send("PUT", f"/d/{slug}/upload?name=one.bin", one, "application/octet-stream")
        assert doc["added"][0]["sha256"] == hashlib.sha256(one).hexdigest()
        files = [os.urandom(n) for n in (300_001, 1, 2 * 1024 * 1024 + 5)]
        boundary = "locker-test-" + os.urandom(6).hex()
        body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="f{i}.bin"\r\n'
                        "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
                        for i, data in enumerate(files)) + f"--{boundary}--\r\n".encode()
        doc = send("POST", f"/d/{slug}/upload-batch", body, f"multipart/form-data; boundary={boundary}")
        assert [f["added"][0]["sha256"] for f in doc["files"]] == [hashlib.sha256(d).hexdigest() for d in files]
        conn.close()
    objects = home / "disputes" / slug / "objects"
    for data in (one, *files):
        digest = hashlib.sha256(data).hexdigest()
        assert (objects / digest[:2] / digest[2:]).read_bytes() == data


def test_the_web_server_keeps_freed_memory_for_the_next_pieces() -> None:
    """The allocator's thresholds are set where the platform has them (glibc on Linux)."""
    import platform
    import sys

    from locker.web import protocol

    expected = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert protocol.keep_freed_memory() is expected


def test_a_large_upload_hands_the_interpreter_on_promptly_while_it_arrives(home: Path, cli) -> None:  # noqa: ANN001
    """As add's copy of a large file does (store.PromptSwitch): from PIPELINE_MIN bytes on, until
    the upload is closed or dropped, and then the interval is what it was."""
    import os
    import sys

    from locker import store
    from locker.paths import open_home
    from locker.services import upload

    assert cli("new", "big").code == 0
    before = sys.getswitchinterval()
    for ending in ("finish", "abort"):
        receiver = upload.Receiver(open_home(str(home)), "big", f"{ending}.bin")
        receiver.write(os.urandom(store.PIPELINE_MIN - 1))
        assert sys.getswitchinterval() == before
        receiver.write(os.urandom(2))
        assert sys.getswitchinterval() == store.PIPE_SWITCH
        if ending == "finish":
            assert receiver.finish().ok
        else:
            receiver.abort()
        assert sys.getswitchinterval() == before


def test_pieces_hand_over_what_was_appended() -> None:
    from locker.web.protocol import Pieces

    body = Pieces()
    assert len(body) == 0 and bytes(body) == b""
    first = b"abc" * 1000
    body += first
    assert len(body) == 3000 and bytes(body) is first  # one piece: handed over as it is
    body += b"de"
    assert len(body) == 3002 and bytes(body) == first + b"de"


def test_the_form_without_javascript_streams_its_files_too(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token)
    a, b = make_jpeg(tmp_path / "a.jpg", seed=1), make_jpeg(tmp_path / "b.jpg", seed=2)
    r = c.post(f"/d/{slug}/upload-form", data={"csrf": token},
               files=[("files", ("a.jpg", a.read_bytes(), "image/jpeg")), ("files", ("b.jpg", b.read_bytes(), "image/jpeg"))])
    assert r.status_code == 200, r.text
    shown = json.loads(_show(home_of(settings), slug))
    assert [e["sha256"] for e in shown["exhibits"]] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b)]


def test_hostile_names_are_shown_as_text(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token, title=f"退款 {HOSTILE}", merchant="<b>shop</b>")
    picture = make_jpeg(tmp_path / "a.jpg")
    r = _put(c, slug, picture, token, name=f"../../{HOSTILE}.jpg")
    assert r.status_code == 200, r.text
    assert r.json()["added"][0]["original_name"] == f"{HOSTILE}.jpg"  # a label: the folders are dropped
    for path in ("/", f"/d/{slug}", f"/d/{slug}/e/1", "/search?q=shop"):
        text = c.get(path).text
        assert "<img src=x" not in text and "<b>shop" not in text, path
        shown = re.sub(r'value="[^"]*"|<textarea[^>]*>[^<]*</textarea>', "", text)  # the edit form keeps the text as typed
        assert "\u202e" not in shown, path  # elsewhere the override is shown as an escape, never applied
    assert "&lt;img src=x onerror=alert(1)&gt;\\u202egpj.exe" in c.get(f"/d/{slug}/e/1").text
    assert not (Path(settings.home.root).parent / "gpj.exe.jpg").exists()


def test_uploads_past_the_limit_are_refused_and_leave_nothing(home: Path, tmp_path: Path) -> None:
    settings, c = desktop(home, limit=4000)
    token = csrf_of(c.get("/").text)
    slug = _new(c, token)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 5000)
    r = _put(c, slug, big, token)
    assert r.status_code == 413 and "upload limit" in r.json()["error"]["message"]

    def chunks():  # no Content-Length: the limit is counted as the bytes arrive
        for _i in range(5):
            yield b"y" * 1000

    r = c.put(f"/d/{slug}/upload", params={"name": "streamed.bin"}, content=chunks(), headers={"X-CSRF-Token": token})
    assert r.status_code == 413
    assert list((home / "disputes" / slug / "objects").rglob("*")) == []
    # a batch whose third file is too large: the two before it had arrived and been read; none is kept
    parts = [("files", ("a.txt", b"first note\n", "text/plain")), ("files", ("b.txt", b"second note\n", "text/plain")),
             ("files", ("big.bin", b"z" * 5000, "application/octet-stream"))]
    r = c.post(f"/d/{slug}/upload-batch", files=parts, headers={"X-CSRF-Token": token})
    assert r.status_code == 413 and "upload limit" in r.json()["error"]["message"]
    assert list((home / "disputes" / slug / "objects").rglob("*")) == []
    assert json.loads(_show(home, slug))["exhibits"] == []
    r = c.post("/disputes", data={"csrf": token, "title": "t" * 70000})
    assert r.status_code == 413


def test_routes_name_disputes_by_slug_and_number_only(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token, title="earphones refund")
    _put(c, slug, make_jpeg(tmp_path / "a.jpg"), token)
    for path in (f"/d/{slug[:4]}", "/d/..%2F..%2Fetc", "/d/%2e%2e/e/1", f"/d/{slug}/e/..%2F..%2Flocker.toml",
                 f"/d/{slug}/e/1/..%2F..%2F..%2Fdispute.sqlite", f"/d/{slug}/e/2", f"/d/{slug}/e/1/thumb.jpg",
                 f"/d/{slug}/pack/1", "/static/..%2F..%2Fapp.py", f"/d/{slug}/e/-1"):
        r = c.get(path)
        assert r.status_code in (404, 400, 405), (path, r.status_code)
        assert b"SQLite format" not in r.content


def test_facts_are_edited_through_the_edit_service(signed_in) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token, merchant="Old shop")
    page = c.get(f"/d/{slug}").text
    assert 'value="Old shop"' in page
    r = c.post(f"/d/{slug}/facts", data={"csrf": token, "merchant": "New shop", "amount": "199.00", "title": "耳机退款"})
    assert r.status_code == 303
    from tests.conftest import run_locker

    home = home_of(settings)
    shown = json.loads(_show(home, slug))
    assert shown["merchant"] == "New shop" and shown["amount"] == "199.00"
    log = json.loads(run_locker("log", slug, "--json", home=home, check=True).stdout)
    assert log[-1]["action"] == "dispute.edited"
    r = c.post(f"/d/{slug}/facts", data={"csrf": token, "amount": "abc"})
    assert r.status_code == 400 and "amount" in r.text.lower()


def test_export_runs_with_progress_and_the_pack_downloads(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token)
    _put(c, slug, make_jpeg(tmp_path / "a.jpg"), token)
    r = c.post(f"/d/{slug}/export", data={"csrf": token, "lang": "en"})
    assert r.status_code == 303
    job = settings.jobs[int(r.headers["location"].rsplit("/", 1)[-1])]
    import time

    while not job.finished:  # the export thread ends by itself (no timing is asserted)
        time.sleep(0.2)
    assert job.error is None, job.error
    status = c.get(r.headers["location"], headers={"HX-Request": "true"}).text
    assert 'id="download"' in status and "hx-trigger" not in status
    pdf = c.get(f"/d/{slug}/pack/{job.export_id}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert hashlib.sha256(pdf.content).hexdigest() == job.result["sha256"]


def test_search_links_each_hit_to_its_exhibit(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token)
    r = c.put(f"/d/{slug}/upload", params={"name": "客服聊天.txt"},
              content="2025-05-03 15:21 商家: 不给退款\n2025-05-03 15:22 我: 为什么\n".encode(),
              headers={"X-CSRF-Token": token})
    assert r.status_code == 200
    hits = c.get("/search", params={"q": "客服聊天"}).text
    assert f'href="/d/{slug}/e/1"' in hits
    partial = c.get("/search", params={"q": "客服聊天"}, headers={"HX-Request": "true"}).text
    assert "<html" not in partial and f"/d/{slug}/e/1" in partial


def test_verify_names_each_problem_in_plain_words(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token)
    picture = make_jpeg(tmp_path / "a.jpg")
    _put(c, slug, picture, token)
    ok = c.post("/verify", data={"csrf": token, "dispute": slug}).text
    assert "Everything verifies" in ok
    sha = hashlib.sha256(picture.read_bytes()).hexdigest()
    obj = home_of(settings) / "disputes" / slug / "objects" / sha[:2] / sha[2:]
    obj.chmod(0o600)
    data = bytearray(obj.read_bytes())
    data[100] ^= 1
    obj.write_bytes(bytes(data))
    bad = c.post("/verify", data={"csrf": token}).text
    assert "Problems were found" in bad and 'class="problem"' in bad and "#1" in bad


def test_the_page_speaks_chinese_when_asked(signed_in) -> None:  # noqa: ANN001
    """The services' messages come through the same catalog as the command line's."""
    settings, c, token = signed_in
    slug = _new(c, token)
    from locker.i18n import _, _lang, set_language

    reset = set_language("zh")
    try:
        chinese = _("{slug} has no exhibit {number}").format(slug=slug, number=99)
    finally:
        _lang.reset(reset)
    assert chinese != f"{slug} has no exhibit 99"  # the catalog has it
    r = c.get(f"/d/{slug}/e/99", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert r.status_code == 404 and chinese in r.text and 'lang="zh-CN"' in r.text
    assert chinese not in c.get(f"/d/{slug}/e/99").text  # English without the header
    r = c.post("/lang", data={"csrf": token, "lang": "zh", "next": f"/d/{slug}/e/99"})
    assert r.status_code == 303 and r.headers["location"] == f"/d/{slug}/e/99"
    assert chinese in c.get(f"/d/{slug}/e/99").text  # the choice is kept in a cookie
    assert c.post("/lang", data={"csrf": token, "lang": "en", "next": "//evil.example"}).headers["location"] == "/"


# --------------------------------------------------------------------------- the phone (--lan)


def test_a_phone_pairs_once_picks_one_dispute_sends_only_there_and_stops_when_ended(home: Path, tmp_path: Path) -> None:
    settings, app = make_app(home, lan=True)
    c = client(app)
    c.get(f"/login/{settings.guard.login_key}")
    token = csrf_of(c.get("/").text)
    slug = _new(c, token, title="phone dispute")
    other = _new(c, token, title=f"other dispute {HOSTILE}")
    page = c.post("/phones/pair", data={"csrf": token}).text
    url = re.search(r'<code id="pair-url">([^<]+)</code>', page).group(1)
    assert url.startswith("http://127.0.0.2:8765/pair/") and 'src="data:image/svg+xml' in page
    pair_path = url.split("8765", 1)[1]
    phone = client(app, host="127.0.0.2", base="http://127.0.0.2:8765")
    ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"
    phone.headers["User-Agent"] = ua
    assert phone.get(pair_path).status_code == 303
    assert client(app, host="127.0.0.3", base="http://127.0.0.2:8765").get(pair_path).status_code == 403  # once only

    # paired, the phone sees the disputes (titles and slugs, escaped) and may send nowhere yet
    pick = phone.get("/phone").text
    assert "phone dispute" in pick and "&lt;img src=x" in pick and "<img src=x" not in pick and "minutes" in pick
    assert f'value="{slug}"' in pick and f'value="{other}"' in pick
    phone_token = csrf_of(pick)
    picture = make_jpeg(tmp_path / "IMG_0002.jpg")
    for target in (slug, other):
        r = phone.put(f"/phone/d/{target}/upload", params={"name": "x.jpg"}, content=picture.read_bytes(),
                      headers={"X-CSRF-Token": phone_token})
        assert r.status_code == 403, target  # nothing picked yet
    desk = c.get("/phones").text
    assert "iPhone" in desk and "picking a dispute" in desk and "min left" in desk
    assert phone.post("/phone/choose", data={"dispute": slug}).status_code == 403  # CSRF
    assert phone.post("/phone/choose", data={"csrf": phone_token, "dispute": "../x"}).status_code == 404
    assert phone.post("/phone/choose", data={"csrf": phone_token, "dispute": slug}).status_code == 303
    phone_page = phone.get("/phone").text
    assert "phone dispute" in phone_page and "other dispute" not in phone_page and "minutes" in phone_page
    assert f'data-upload="/phone/d/{slug}/upload"' in phone_page
    # the pick is final: another dispute is refused, for a pick and for every upload
    assert phone.post("/phone/choose", data={"csrf": phone_token, "dispute": other}).status_code == 403
    assert "other dispute" not in phone.get("/phone").text

    r = phone.put(f"/phone/d/{slug}/upload", params={"name": "IMG_0002.jpg"}, content=picture.read_bytes(),
                  headers={"X-CSRF-Token": phone_token})
    assert r.status_code == 200, r.text
    assert phone.put(f"/phone/d/{slug}/upload", params={"name": "x.jpg"}, content=b"abc").status_code == 403  # CSRF
    r = phone.put(f"/phone/d/{other}/upload", params={"name": "y.jpg"}, content=b"abc", headers={"X-CSRF-Token": phone_token})
    assert r.status_code == 403 and "only to the dispute it picked" in r.json()["error"]["message"]
    r = phone.post(f"/phone/d/{other}/upload-batch", files={"files": ("y.jpg", b"abc")}, headers={"X-CSRF-Token": phone_token})
    assert r.status_code == 403
    for path in ("/", f"/d/{slug}", f"/d/{other}", f"/d/{slug}/e/1", "/search?q=a", "/phones"):
        assert phone.get(path).status_code == 403, path  # a phone sees nothing of the locker
    assert phone.put(f"/d/{other}/upload", params={"name": "x.jpg"}, content=b"abc",
                     headers={"X-CSRF-Token": phone_token}).status_code == 403
    from tests.conftest import run_locker

    log = json.loads(run_locker("log", slug, "--json", home=home, check=True).stdout)
    channel = [e for e in log if e["action"] == "exhibit.added"][0]["payload"]["channel"]
    assert channel == {"name": "web-lan", "user_agent": ua, "received": "the copy the browser sent"}
    assert json.loads(_show(home, other))["exhibits"] == []
    desk = c.get("/phones").text
    assert "iPhone" in desk and "min left" in desk and f'href="/d/{slug}"' in desk
    session = re.search(r'name="session" value="([^"]+)"', desk).group(1)
    assert c.post("/phones/end", data={"csrf": token, "session": session}).status_code == 303
    r = phone.put(f"/phone/d/{slug}/upload", params={"name": "late.jpg"}, content=b"late",
                  headers={"X-CSRF-Token": phone_token})
    assert r.status_code == 403
    assert phone.get("/phone").status_code == 403
    assert "No phone is paired" in c.get("/phones").text


def test_a_pairing_made_for_one_dispute_goes_straight_to_it(home: Path) -> None:
    """``locker serve --lan --phone DISPUTE``: the terminal's user picked the dispute; the phone cannot pick another."""
    settings, app = make_app(home, lan=True)
    c = client(app)
    c.get(f"/login/{settings.guard.login_key}")
    token = csrf_of(c.get("/").text)
    slug, other = _new(c, token, title="chosen"), _new(c, token, title="not this one")
    phone = client(app, host="127.0.0.2", base="http://127.0.0.2:8765")
    assert phone.get(f"/pair/{settings.guard.pair(slug).token}").status_code == 303
    page = phone.get("/phone").text
    assert "chosen" in page and "not this one" not in page and f'data-upload="/phone/d/{slug}/upload"' in page
    assert phone.post("/phone/choose", data={"csrf": csrf_of(page), "dispute": other}).status_code == 403


def test_a_pairing_code_expires_after_ten_minutes(home: Path) -> None:
    settings, app = make_app(home, lan=True)
    now = [1_000_000.0]
    settings.guard.clock = lambda: now[0]
    pairing = settings.guard.pair("x")
    now[0] += 10 * 60 + 1
    assert client(app, host="127.0.0.2", base="http://127.0.0.2:8765").get(f"/pair/{pairing.token}").status_code == 403
    fresh = settings.guard.pair("x")
    session = settings.guard.redeem(fresh.token, "ua")
    assert session is not None
    now[0] += 30 * 60 + 1  # the phone session runs out by itself too
    assert settings.guard.phone(session.id) is None


def test_without_lan_there_is_no_pairing(signed_in) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token)
    assert c.post("/phones/pair", data={"csrf": token}).status_code == 404
    pairing = settings.guard.pair(slug)  # even a token made by hand opens nothing
    assert client(c.app).get(f"/pair/{pairing.token}").status_code == 404
    assert client(c.app).get("/phone").status_code == 403


def test_a_changed_channel_in_the_custody_log_is_found_by_verify(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token)
    _put(c, slug, make_jpeg(tmp_path / "a.jpg"), token)
    import sqlite3

    from tests.conftest import run_locker

    home = home_of(settings)
    con = sqlite3.connect(home / "disputes" / slug / "dispute.sqlite")
    payload = con.execute("SELECT payload FROM custody WHERE action = 'exhibit.added'").fetchone()[0]
    assert '"web"' in payload
    with con:
        con.execute("UPDATE custody SET payload = ? WHERE action = 'exhibit.added'",
                    (payload.replace('"name":"web"', '"name":"cli"'),))
    con.close()
    ran = run_locker("verify", slug, home=home)
    assert ran.returncode == 1


def test_the_list_shows_status_counts_and_the_next_deadline(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token, title="deadline dispute")
    _put(c, slug, make_jpeg(tmp_path / "a.jpg"), token)
    from tests.conftest import run_locker

    run_locker("due", slug, "reply to the platform", "--at", "2031-01-15", home=home_of(settings), check=True)
    page = c.get("/").text
    row = page[page.index("deadline dispute"):]
    row = row[:row.index("</tr>")]
    assert "open" in row and '<td class="num">1</td>' in row and "2031-01-15" in row and "reply to the platform" in row


def test_a_batch_of_files_is_recorded_together_and_answered_file_by_file(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    settings, c, token = signed_in
    slug = _new(c, token)
    a, b = make_jpeg(tmp_path / "a.jpg", seed=1), make_jpeg(tmp_path / "b.jpg", seed=2)
    parts = [("files", ("a.jpg", a.read_bytes(), "image/jpeg")), ("files", ("empty.txt", b"", "text/plain")),
             ("files", ("folder/b.jpg", b.read_bytes(), "image/jpeg")), ("files", ("again.jpg", a.read_bytes(), "image/jpeg"))]
    r = c.post(f"/d/{slug}/upload-batch", files=parts, headers={"X-CSRF-Token": token})
    files = r.json()["files"]
    assert [f["name"] for f in files] == ["a.jpg", "empty.txt", "b.jpg", "again.jpg"]
    assert files[0]["added"][0]["exhibit"] == 1 and files[0]["exhibit_urls"] == [f"/d/{slug}/e/1"]
    assert files[1]["added"] == [] and files[1]["errors"][0]["error"] == "empty file"
    assert files[2]["added"][0]["sha256"] == hashlib.sha256(b.read_bytes()).hexdigest()
    assert files[3]["added"][0]["duplicate"] is True and files[3]["added"][0]["exhibit"] == 1
    from tests.conftest import run_locker

    log = json.loads(run_locker("log", slug, "--json", home=home_of(settings), check=True).stdout)
    assert [e["payload"]["original_name"] for e in log if e["action"] == "exhibit.added"] == ["a.jpg", "b.jpg"]


def test_a_warning_is_shown_in_the_pages_language(signed_in, tmp_path: Path) -> None:  # noqa: ANN001
    """What add noticed about a file (here: a truncated photo) is put into words in the page's
    language, on the upload's answer and on the exhibit's page; the codes stay as add --json has them."""
    from tests import samples

    settings, c, token = signed_in
    slug = _new(c, token)
    photo = samples.make_truncated(samples.make_jpeg(tmp_path / "src.jpg"), tmp_path / "photo.jpg", keep=0.01)
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    r = c.put(f"/d/{slug}/upload", params={"name": photo.name}, content=photo.read_bytes(),
              headers={"X-CSRF-Token": token, **zh})
    assert r.status_code == 200, r.text
    added = r.json()["added"][0]
    assert any("图片被截断或已损坏" in w for w in added["warnings"]), added["warnings"]
    assert added["warning_codes"] and all(w["code"] for w in added["warning_codes"])
    page = c.get(f"/d/{slug}/e/1", headers=zh).text
    assert "图片被截断或已损坏" in page
    assert "图片被截断或已损坏" not in c.get(f"/d/{slug}/e/1").text  # English without the header
