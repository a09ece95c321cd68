"""Content credentials (C2PA) and the GB 45438-2025 AIGC label, read at `add` (issue 13 §5).

The C2PA samples are real files published by the c2pa-python project (tests/data/SOURCES.md):
signed with the C2PA test certificate, which is not on the C2PA trust list the locker ships,
so they read ``untrusted``; ``XCA.jpg`` was published already tampered, and a byte flipped
here in the pixels of ``C.jpg`` must read ``invalid``. With the C2PA test root added as an
extra anchor (``LOCKER_C2PA_ANCHORS``), ``C.jpg`` reads ``valid``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import samples
from tests.test_contract import check

DATA = Path(__file__).resolve().parent / "data" / "c2pa"
SIGNED = DATA / "c2pa-python-C.jpg"         # c2pa.created, algorithmicMedia
EDITED = DATA / "c2pa-python-CA.jpg"        # c2pa.opened + c2pa.color_adjustments, ingredient A.jpg
TAMPERED = DATA / "c2pa-python-XCA.jpg"     # published with its pixels changed after signing
REMOTE = DATA / "c2pa-python-cloud.jpg"     # XMP dcterms:provenance names a manifest kept online
TEST_ANCHORS = DATA / "c2pa-python-test-anchors.pem"
REPO = Path(__file__).resolve().parent.parent

AIGC_XMP = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/">'
    "<TC260:AIGC>{&quot;Label&quot;:&quot;1&quot;,&quot;ContentProducer&quot;:"
    "&quot;001191101080000000000000000000&quot;,&quot;ProduceID&quot;:&quot;img-20250503-0001&quot;,"
    "&quot;ReservedCode1&quot;:&quot;&quot;,&quot;ContentPropagator&quot;:&quot;&quot;,"
    "&quot;PropagateID&quot;:&quot;&quot;,&quot;ReservedCode2&quot;:&quot;&quot;}</TC260:AIGC>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
    '<?xpacket end="w"?>'
)
# The same label written as an attribute of rdf:Description, with another prefix and Label 2.
AIGC_XMP_ATTRIBUTE = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:aigc="http://www.tc260.org.cn/ns/AIGC/1.0/" '
    'aigc:AIGC="{&quot;Label&quot;:&quot;2&quot;,&quot;ContentProducer&quot;:&quot;示例生成服务&quot;}"/>'
    "</rdf:RDF></x:xmpmeta>"
)


def _flip(src: Path, dst: Path, offset: int = -2000) -> Path:
    data = bytearray(src.read_bytes())
    data[offset] ^= 0xFF  # inside the JPEG's entropy-coded pixels, which the manifest's data hash covers
    dst.write_bytes(bytes(data))
    return dst


def _jpeg_with_xmp(path: Path, xmp: str) -> Path:
    """A JPEG whose APP1 segment right after SOI is an XMP packet (the standard XMP-in-JPEG place)."""
    plain = samples.make_jpeg(path.with_suffix(".plain.jpg"), 320, 240)
    data = plain.read_bytes()
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + xmp.encode("utf-8")
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    path.write_bytes(data[:2] + segment + data[2:])
    plain.unlink()
    return path


def _png_with_xmp(path: Path, xmp: str) -> Path:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    Image.new("RGB", (512, 512), (200, 220, 240)).save(path, pnginfo=info)
    return path


def _exhibit(cli, slug: str, n: int) -> dict:  # noqa: ANN001
    ran = cli("show", slug, str(n), "--json")
    assert ran.code == 0, ran.err
    check(ran.json, "show-exhibit")
    return ran.json["exhibit"]


def test_real_c2pa_samples_record_signer_generator_actions_and_state(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    ran = cli("add", dispute, SIGNED, EDITED, "--json")
    assert ran.code == 0, ran.err

    signed = _exhibit(cli, dispute, 1)["metadata"]["c2pa"]
    assert signed["state"] == "untrusted"  # intact, but the C2PA test certificate is on no trust list
    assert signed["signer"] == "C2PA Test Signing Cert" and signed["signer_name"] == "C2PA Signer"
    assert signed["claim_generator"] == "make_test_images/0.26.0 c2pa-rs/0.26.0"
    assert signed["actions"] == ["c2pa.created"]
    assert signed["digital_source_type"] == "algorithmicMedia"
    assert signed["signed_at"].startswith("2023-09-29T17:40:14")
    assert signed["codes"] == ["signingCredential.untrusted"]
    assert signed["trust_list"].startswith("C2PA Trust List (c2pa-org/conformance-public")
    assert signed["checked_with"].startswith("c2pa-python 0.38")

    edited = _exhibit(cli, dispute, 2)["metadata"]["c2pa"]
    assert edited["state"] == "untrusted"
    assert edited["actions"] == ["c2pa.opened", "c2pa.color_adjustments"]

    text = cli("show", dispute, "1")
    assert text.code == 0, text.err
    assert "Content Credentials" in text.out
    assert "signed by C2PA Test Signing Cert · untrusted (the signer is not on the C2PA trust list)" in text.out
    assert "make_test_images/0.26.0" in text.out and "c2pa.created (algorithmicMedia)" in text.out

    shown = cli("show", dispute, "--json")
    check(shown.json, "show")
    assert cli("verify", dispute).code == 0


def test_a_flipped_byte_reads_invalid(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    flipped = _flip(SIGNED, tmp_path / "C-flipped.jpg")
    ran = cli("add", dispute, flipped, TAMPERED, "--json")
    assert ran.code == 0, ran.err
    for n in (1, 2):
        c2pa = _exhibit(cli, dispute, n)["metadata"]["c2pa"]
        assert c2pa["state"] == "invalid", c2pa
        assert "assertion.dataHash.mismatch" in c2pa["codes"]  # beside signingCredential.untrusted
        assert c2pa["signer"] == "C2PA Test Signing Cert"  # who signed is still said
    text = cli("show", dispute, "1").out
    assert "signed by C2PA Test Signing Cert · invalid (assertion.dataHash.mismatch)" in text


def test_a_signer_under_a_trusted_root_reads_valid(cli, dispute, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    # The C2PA test root, published by c2pa-python for its own tests, as an organisation's extra anchor.
    monkeypatch.setenv("LOCKER_C2PA_ANCHORS", str(TEST_ANCHORS))
    assert cli("add", dispute, SIGNED, TAMPERED).code == 0
    valid = _exhibit(cli, dispute, 1)["metadata"]["c2pa"]
    assert valid["state"] == "valid" and valid["codes"] == []
    assert valid["trust_list"].endswith("+ c2pa-python-test-anchors.pem")
    assert _exhibit(cli, dispute, 2)["metadata"]["c2pa"]["state"] == "invalid"  # trust does not mend a hash
    assert "signed by C2PA Test Signing Cert · valid" in cli("show", dispute, "1").out


def _sign(src: Path, dst: Path, mime: str) -> Path:
    """``src`` signed with c2pa-python and the C2PA test signing key (published by c2pa-python for tests)."""
    import c2pa
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_pem_private_key((DATA / "c2pa-python-es256_private.key").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    certs = (DATA / "c2pa-python-es256_certs.pem").read_text()
    manifest = {"claim_generator_info": [{"name": "phone-camera", "version": "1.0"}], "title": src.name,
                "format": mime, "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created",
                     "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}]}
    with c2pa.Context() as context, \
            c2pa.Signer.from_callback(lambda data: key.sign(data, ec.ECDSA(hashes.SHA256())),
                                      c2pa.C2paSigningAlg.ES256, certs, None) as signer, \
            c2pa.Builder(manifest, context) as builder, open(src, "rb") as source, open(dst, "wb") as out:
        builder.sign(signer, mime, source, out)
    return dst


def test_png_webp_and_mp4_manifests_are_found_where_each_format_keeps_them(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    from PIL import Image

    png = _sign(samples.make_png(tmp_path / "shot.png", 300, 600), tmp_path / "signed.png", "image/png")
    Image.new("RGB", (64, 64), (10, 200, 30)).save(tmp_path / "plain.webp")
    webp = _sign(tmp_path / "plain.webp", tmp_path / "signed.webp", "image/webp")
    mp4 = _sign(samples.make_mp4(tmp_path / "clip.mp4"), tmp_path / "signed.mp4", "video/mp4")
    cut = tmp_path / "signed-flipped.mp4"
    data = bytearray(mp4.read_bytes())
    mdat = data.index(b"mdat")
    data[mdat + 100] ^= 0xFF  # a byte of the video frames
    cut.write_bytes(bytes(data))
    assert cli("add", dispute, png, webp, mp4, cut).code == 0
    for n in (1, 2, 3):
        c2pa = _exhibit(cli, dispute, n)["metadata"]["c2pa"]
        assert (c2pa["state"], c2pa["claim_generator"], c2pa["actions"]) == ("untrusted", "phone-camera 1.0",
                                                                            ["c2pa.created"]), n
        assert c2pa["digital_source_type"] == "digitalCapture"
    assert _exhibit(cli, dispute, 4)["metadata"]["c2pa"]["state"] == "invalid"


def test_a_remote_manifest_is_named_never_fetched(cli, dispute) -> None:  # noqa: ANN001
    assert cli("add", dispute, REMOTE).code == 0
    c2pa = _exhibit(cli, dispute, 1)["metadata"]["c2pa"]
    assert c2pa == {"state": "unchecked", "reason": "remote_manifest", "manifest_url":
                    "https://cai-manifests.adobe.com/manifests/adobe-urn-uuid-5f37e182-3687-462e-a7fb-573462780391"}
    assert "not fetched (the locker works offline)" in cli("show", dispute, "1").out


def test_without_c2pa_python_add_works_and_says_not_checked(cli, dispute, tmp_path: Path,  # noqa: ANN001
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "c2pa", None)  # `import c2pa` raises ImportError, as when the extra is absent
    plain = samples.make_jpeg_with_exif(tmp_path / "IMG_20250503_150102.jpg")
    ran = cli("add", dispute, SIGNED, plain, "--json")
    assert ran.code == 0, ran.err
    c2pa = _exhibit(cli, dispute, 1)["metadata"]["c2pa"]
    assert c2pa == {"state": "unchecked", "reason": "not_installed"}
    assert "c2pa" not in _exhibit(cli, dispute, 2)["metadata"]
    assert "present, not checked: c2pa-python is not installed (extra c2pa)" in cli("show", dispute, "1").out


def test_files_without_credentials_do_not_load_c2pa(tmp_path: Path, home: Path) -> None:
    photo = samples.make_jpeg_with_exif(tmp_path / "IMG_20250503_150102.jpg")
    shot = samples.make_png(tmp_path / "Screenshot_20250503-142210.png", 1080, 2340)
    video = samples.make_mp4(tmp_path / "VID_20250503_150102.mp4")
    code = (
        "import sys; from locker.cli import main\n"
        "assert main(['new', 'earbuds', '--slug', 'earbuds']) == 0\n"
        f"assert main(['add', 'earbuds', {str(photo)!r}, {str(shot)!r}, {str(video)!r}]) == 0\n"
        "print('c2pa loaded' if 'c2pa' in sys.modules else 'c2pa not loaded')\n"
        f"assert main(['add', 'earbuds', {str(SIGNED)!r}]) == 0\n"
        "print('c2pa loaded' if 'c2pa' in sys.modules else 'c2pa not loaded')\n"
    )
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    said = [line for line in proc.stdout.splitlines() if line.startswith("c2pa ")]
    assert said == ["c2pa not loaded", "c2pa loaded"], proc.stdout


def test_aigc_label_is_flagged(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    png = _png_with_xmp(tmp_path / "generated.png", AIGC_XMP)
    jpeg = _jpeg_with_xmp(tmp_path / "maybe.jpg", AIGC_XMP_ATTRIBUTE)
    plain = samples.make_png(tmp_path / "Screenshot_20250503-142210.png", 1080, 2340)
    assert cli("add", dispute, png, jpeg, plain).code == 0

    aigc = _exhibit(cli, dispute, 1)["metadata"]["aigc"]
    assert aigc == {"standard": "GB 45438-2025", "namespace": "http://www.tc260.org.cn/ns/AIGC/1.0/",
                    "label": "1", "meaning": "ai_generated", "producer": "001191101080000000000000000000",
                    "produce_id": "img-20250503-0001"}
    second = _exhibit(cli, dispute, 2)["metadata"]["aigc"]
    assert (second["label"], second["meaning"], second["producer"]) == ("2", "possibly_ai_generated", "示例生成服务")
    assert "aigc" not in _exhibit(cli, dispute, 3)["metadata"]

    text = cli("show", dispute, "1").out
    assert "AI label" in text
    assert "AI-generated content (GB 45438-2025 label in the XMP) · producer 001191101080000000000000000000" in text


def _pdftext(pdf: Path) -> str:
    # -raw keeps a table cell's lines together, so a label wrapped in its narrow column reads whole
    return subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_the_pack_shows_credentials_and_the_aigc_label(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    flipped = _flip(SIGNED, tmp_path / "C-flipped.jpg")
    png = _png_with_xmp(tmp_path / "generated.png", AIGC_XMP)
    assert cli("add", dispute, SIGNED, flipped, png).code == 0

    en = tmp_path / "en.pdf"
    assert cli("export", dispute, "--lang", "en", "-o", en).code == 0
    text = " ".join(_pdftext(en).split())
    assert "Content Credentials signed by C2PA Test Signing Cert · untrusted: intact, but the signer is not on the C2PA trust list" in text
    assert "signed by C2PA Test Signing Cert · invalid (assertion.dataHash.mismatch)" in text
    assert "made with: make_test_images/0.26.0 c2pa-rs/0.26.0" in text
    assert "AI-generated content label AI-generated content (GB 45438-2025 implicit label in the file's XMP)" in text

    zh = tmp_path / "zh.pdf"
    assert cli("export", dispute, "--lang", "zh", "-o", zh).code == 0
    text = "".join(_pdftext(zh).split())
    assert "内容凭证（C2PA）由C2PATestSigningCert签名·签名与哈希完好，但签名者不在C2PA信任列表中" in text
    assert "无效（assertion.dataHash.mismatch）" in text
    assert "AI生成合成内容标识" in text and "属于AI生成合成内容" in text
    if os.environ.get("LOCKER_KEEP_PACK"):  # for a person who wants to look at the page
        shutil.copy(zh, os.environ["LOCKER_KEEP_PACK"])


def test_damaged_manifests_never_stop_add(cli, dispute, tmp_path: Path) -> None:  # noqa: ANN001
    data = SIGNED.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 3])  # cut inside the pixels, after the manifest
    scrambled = bytearray(data)
    store = data.index(b"jumd")
    for k in range(store + 40, store + 440, 7):  # inside the manifest store, after its description box
        scrambled[k] ^= 0x5A
    (tmp_path / "scrambled.jpg").write_bytes(bytes(scrambled))
    ran = cli("add", dispute, cut, tmp_path / "scrambled.jpg", "--json")
    assert ran.code == 0, ran.err
    assert [a["exhibit"] for a in ran.json["added"]] == [1, 2]
    for n in (1, 2):
        assert _exhibit(cli, dispute, n)["metadata"]["c2pa"]["state"] == "invalid"
