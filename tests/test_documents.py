"""Documents in the pack (issue 17, point 8): a page count is printed only where the pages
were read; a PDF whose pages cannot be read says so and gives no count."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

DATA = Path(__file__).parent / "data"


def test_pack_prints_a_page_count_only_for_pages_it_read(cli, dispute, tmp_path) -> None:  # noqa: ANN001
    whole = DATA / "pypdf-pdflatex-outline.pdf"  # pdfTeX: page tree in an object stream
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole.read_bytes()[:20_000])
    ran = cli("add", dispute, cut, whole, "--json")
    assert ran.code == 0, ran.err
    added = {a["original_name"]: a for a in ran.json["added"]}
    shown = {e["original_name"]: e for e in cli("show", dispute, "--json").json["exhibits"]}
    assert shown["pypdf-pdflatex-outline.pdf"]["metadata"]["page_count"] == 4
    assert "page_count" not in shown["cut.pdf"]["metadata"]
    assert any("page count unknown" in w for w in added["cut.pdf"]["warnings"])

    pack = tmp_path / "pack.pdf"
    ran = cli("export", dispute, "-o", pack, "--json")
    assert ran.code == 0, ran.err
    text = subprocess.run(["pdftotext", pack, "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    assert re.findall(r"以下(\d+)页为该文件自身的页面", flat) == ["4"]  # the readable one only
    assert "无法读取该PDF的页面" in flat
