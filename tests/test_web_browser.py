"""``locker serve`` in a real browser (issue 14 §5): the distribution's Chromium
(``/usr/bin/chromium``, installed by scripts/setup.sh) driven by Playwright's Python package,
which downloads nothing. The server is the real one (uvicorn on a free loopback port).

One flow, as a person would go: sign in through the printed address, open a dispute, drop 20
files (a HEIC and a video among them), see each with the SHA-256 ``locker show --json``
prints, export and download the pack, search, then pair a "phone" (a second browser context
with a phone's viewport and user agent) through the QR code's address, pick the dispute on it, send from it (and be refused for another dispute), end the
session from the desktop and see the phone refused. Screenshots of the main pages at desktop
and phone widths are saved to build/screenshots/.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_locker
from tests.samples import make_heic, make_jpeg, make_mp4, make_pdf, make_png
from tests.web_helpers import real_server

CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO / "build" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")

pytestmark = pytest.mark.slow


@pytest.fixture
def served(home: Path) -> Iterator[Any]:
    """The web app with --lan settings, served by uvicorn on a free port of 127.0.0.1."""
    with real_server(home, lan=True, lan_address="127.0.0.1") as (settings, _running):  # the "phone" reaches it over loopback
        yield settings


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=CHROMIUM)
        try:
            yield found
        finally:
            found.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _evidence(folder: Path) -> list[Path]:
    """20 files of the kinds a refund dispute holds: photos, screenshots, a HEIC, a video, a PDF, a chat."""
    folder.mkdir()
    files = [make_jpeg(folder / f"photo-{i:02d}.jpg", seed=i) for i in range(1, 13)]
    files += [make_png(folder / f"screenshot-{i}.png", width=390, height=844, seed=i) for i in range(1, 5)]
    files.append(make_heic(folder / "IMG_4001.HEIC"))
    files.append(make_mp4(folder / "unboxing.mp4"))
    files.append(make_pdf(folder / "invoice.pdf"))
    chat = folder / "客服聊天.txt"
    chat.write_text("2025-05-03 15:21 商家: 不给退款\n2025-05-03 15:22 我: 为什么不退款\n", encoding="utf-8")
    files.append(chat)
    assert len(files) == 20
    return files


def _drop(page: Any, files: list[Path]) -> None:
    """Drag-and-drop, as the page receives it: a drop event whose DataTransfer holds the files."""
    payload = [{"name": f.name, "data": base64.b64encode(f.read_bytes()).decode()} for f in files]
    transfer = page.evaluate_handle("""(files) => {
        const dt = new DataTransfer();
        for (const f of files) {
            const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
            dt.items.add(new File([bytes], f.name));
        }
        return dt;
    }""", payload)
    page.dispatch_event("#drop", "dragover", {"dataTransfer": transfer})
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})


def test_a_dispute_from_the_browser_and_a_phone(served: Any, browser: Any, home: Path, tmp_path: Path) -> None:
    base = served.base
    desk = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="en-US")
    page = desk.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/login/{served.guard.login_key}")

    # open a dispute
    page.fill("#new-dispute input[name=title]", "无线耳机退款 Wireless earphones refund")
    page.fill("#new-dispute input[name=platform]", "taobao")
    page.fill("#new-dispute input[name=merchant]", "声籁旗舰店")
    page.fill("#new-dispute input[name=amount]", "199.00")
    page.click("#new-dispute button[type=submit]")
    page.wait_for_url(re.compile(r"/d/[a-z0-9-]+$"))
    slug = page.url.rsplit("/", 1)[-1]

    # drop 20 files on the add page
    files = _evidence(tmp_path / "evidence")
    page.click("text=Add files")
    page.wait_for_selector("#drop")
    _drop(page, files)
    page.wait_for_selector("#summary[data-done='20']", state="attached", timeout=180_000)
    _shot(page, "desktop-add")
    rows = page.eval_on_selector_all("#queue li", "els => els.map(e => [e.querySelector('.name').textContent, e.dataset.sha256 || ''])")
    shown = json.loads(run_locker("show", slug, "--json", home=home, check=True).stdout)
    by_name = {e["original_name"]: e["sha256"] for e in shown["exhibits"]}
    assert len(shown["exhibits"]) == 20
    for name, sha in rows:
        assert sha == by_name[name] == hashlib.sha256((tmp_path / "evidence" / name).read_bytes()).hexdigest(), name
    kinds = {e["original_name"]: e["kind"] for e in shown["exhibits"]}
    assert kinds["IMG_4001.HEIC"] == "photo" and kinds["unboxing.mp4"] == "video"

    # the dispute page: a grid of thumbnails (lazy), each with its short hash
    page.goto(f"{base}/d/{slug}")
    page.wait_for_load_state("networkidle")
    assert page.locator("#exhibits li").count() == 20
    assert page.locator("#exhibits img[loading=lazy]").count() == 18  # every picture and the video; not the PDF or chat
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    heic = next(e for e in shown["exhibits"] if e["original_name"] == "IMG_4001.HEIC")
    loaded = page.eval_on_selector(f"img[src$='/e/{heic['exhibit']}/thumb']", "img => img.complete && img.naturalWidth")
    assert loaded and loaded > 0  # the HEIC's rendition shows in the browser
    _shot(page, "desktop-dispute")

    # the exhibit page: the full SHA-256 and the custody entry
    video = next(e for e in shown["exhibits"] if e["original_name"] == "unboxing.mp4")
    page.goto(f"{base}/d/{slug}/e/{video['exhibit']}")
    assert page.inner_text("#sha256") == video["sha256"]
    assert page.locator(".frames img").count() >= 1
    assert "exhibit.added" in page.inner_text("table.custody")
    _shot(page, "desktop-exhibit")

    # export and download the pack
    page.goto(f"{base}/d/{slug}/export")
    page.select_option("#export select[name=lang]", "en")
    page.click("#export button[type=submit]")
    page.wait_for_selector("#download", timeout=300_000)
    _shot(page, "desktop-export")
    with page.expect_download() as download_info:
        page.click("#download")
    pack = tmp_path / "pack.pdf"
    download_info.value.save_as(pack)
    assert pack.read_bytes().startswith(b"%PDF")
    log = json.loads(run_locker("log", slug, "--json", home=home, check=True).stdout)
    exported = [e for e in log if e["action"] == "export.created"][-1]
    assert hashlib.sha256(pack.read_bytes()).hexdigest() == exported["payload"]["sha256"]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pack), "-"], capture_output=True, text=True, check=True).stdout
        assert video["sha256"] in text.replace("\n", "").replace(" ", "") or video["sha256"][:16] in text

    # search, as you type
    page.goto(f"{base}/search")
    page.fill("input[name=q]", "退款")
    page.wait_for_selector("#hits ol.hits li a")
    _shot(page, "desktop-search")
    page.click("#hits a[href*='/e/']")
    page.wait_for_url(re.compile(r"/e/\d+$"))

    # a second dispute, which the phone will not pick
    page.goto(f"{base}/")
    page.fill("#new-dispute input[name=title]", "另一个争议 another dispute")
    page.click("#new-dispute button[type=submit]")
    page.wait_for_url(re.compile(r"/d/[a-z0-9-]+$"))
    other = page.url.rsplit("/", 1)[-1]

    # pair a phone with the QR code's address
    page.goto(f"{base}/d/{slug}")
    page.click("text=Send from a phone")
    page.wait_for_url(re.compile(r"/phones$"))
    page.click("#new-code")
    url = page.inner_text("#pair-url")
    import segno

    assert page.get_attribute("#qr", "src") == segno.make(url, error="m").svg_data_uri(scale=6, border=2)  # the QR holds it
    _shot(page, "desktop-pair")
    phone_context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                        has_touch=True, user_agent=PHONE_UA, locale="zh-CN")
    phone = phone_context.new_page()
    phone.goto(url)
    phone.wait_for_url(re.compile(r"/phone$"))
    # the phone picks the dispute (it sees titles and slugs only), and may send to that one only
    assert phone.locator("ul.disputes button").count() == 2
    assert "分钟" in phone.inner_text("#session-left")  # the session's length, in the phone's language
    _shot(phone, "phone-pick")
    page.goto(f"{base}/phones")
    assert "picking a dispute" in page.inner_text("ul.phones") and "min left" in page.inner_text("ul.phones")
    phone.click(f"ul.disputes button[value='{slug}']")
    phone.wait_for_url(re.compile(r"/phone$"))
    assert "无线耳机退款" in phone.inner_text(".to")
    sent = [make_jpeg(tmp_path / "IMG_5001.JPG", seed=77), make_jpeg(tmp_path / "IMG_5002.JPG", seed=78)]
    phone.set_input_files("#pick", [str(p) for p in sent])
    phone.wait_for_selector("#summary[data-done='2']", state="attached", timeout=60_000)
    _shot(phone, "phone-sent")
    log = json.loads(run_locker("log", slug, "--json", home=home, check=True).stdout)
    from_phone = [e["payload"] for e in log if e["action"] == "exhibit.added" and e["payload"].get("channel", {}).get("name") == "web-lan"]
    assert [p["sha256"] for p in from_phone] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in sent]
    assert from_phone[0]["channel"]["user_agent"] == PHONE_UA
    assert phone.goto(f"{base}/d/{slug}").status == 403  # the phone sees nothing else
    assert phone.goto(url).status == 403  # the code works once

    phone.goto(f"{base}/phone")
    phone_csrf = phone.get_attribute("body", "data-csrf")
    refused = phone.evaluate("""async ([other, token]) => {
        const r = await fetch('/phone/d/' + other + '/upload?name=x.jpg', {method: 'PUT', body: 'x', headers: {'X-CSRF-Token': token}});
        return r.status;
    }""", [other, phone_csrf])
    assert refused == 403  # another dispute than the one it picked
    # the desktop sees the session and ends it; the phone is refused from then on
    page.goto(f"{base}/phones")
    assert "iPhone" in page.inner_text("ul.phones") and "无线耳机退款" in page.inner_text("ul.phones")
    page.click("ul.phones button.end")
    page.wait_for_load_state("load")
    assert page.locator("ul.phones").count() == 0
    phone.goto(f"{base}/phone")
    late = make_jpeg(tmp_path / "IMG_5003.JPG", seed=79)
    status = phone.evaluate("""async ([data, token, slug]) => {
        const r = await fetch('/phone/d/' + slug + '/upload?name=late.jpg', {method: 'PUT', body: data, headers: {'X-CSRF-Token': token}});
        return r.status;
    }""", [base64.b64encode(late.read_bytes()).decode(), phone_csrf, slug])
    assert status == 403
    _shot(phone, "phone-ended")

    # phone-width screenshots of the main desktop pages
    narrow = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    small = narrow.new_page()
    small.goto(f"{base}/login/{served.guard.login_key}")
    _shot(small, "phone-disputes")
    small.goto(f"{base}/d/{slug}")
    small.wait_for_load_state("networkidle")
    _shot(small, "phone-dispute")
    assert run_locker("verify", slug, home=home).returncode == 0
    assert not [e for e in errors if "Content Security Policy" in e], errors
