"""The appendix: the manifest of the exhibits' hashes, the pack's fingerprint, the custody log
(:mod:`.custody`), how to check a hash, and what the pack claims."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import flowables as F
from ..page import FRAME_W, MM, WARN, State
from . import custody, kits, timestamps

if TYPE_CHECKING:
    from ..builder import Layout


def appendix(lay: Layout, state: State) -> list[Any]:
    from reportlab.platypus import NextPageTemplate, PageBreak, Spacer

    L = lay.L
    out: list[Any] = [NextPageTemplate("main"), PageBreak(), F.section_mark(lay, state, "appendix", L["appendix"]),
                      lay.head(L["appendix"]), lay.P(lay.text(f"A. {L['manifest']}"), "h2")]
    if lay.plans:
        name_w = FRAME_W - 10 * MM - 22 * MM - 99 * MM
        rows = [[lay.P(lay.text(L[k]), "cellhead") for k in ("col_no", "col_file", "col_size", "meta_sha")]]
        for plan in lay.plans:
            e = plan.exhibit
            file_name = lay.text(e.original_name)
            if e.failed:
                file_name += f'<br/><font color="{WARN}">{lay.text(L["failed_stamp"])}</font>'
            rows.append([str(e.number), lay.fast(file_name, name_w), f"{e.size:,}",
                         lay.fast(lay.mono(e.sha256, 7), 99 * MM)])
        out.append(lay.table(rows, [10 * MM, name_w, 22 * MM, 99 * MM], zebra=True))
    else:
        out.append(lay.P(lay.text(L["no_exhibits"]), "body"))
    out.append(lay.P(lay.text(f"B. {L['fingerprint']}"), "h2"))
    if lay.fingerprint:
        out += [lay.P(lay.mono(lay.fingerprint, 9), "body"), Spacer(1, 2 * MM),
                lay.P(lay.text(L["fingerprint_how"]), "small")]
        lines = lay.manifest_text.splitlines()
        # A paragraph a line ("N sha256": never wrapped), without CJK breaking. As one paragraph
        # joined by <br/>, the CJK rules broke it per character again on every page it ran over
        # (0.56 s for 200 exhibits); ordinary breaking of it began each continued page with an
        # empty line.
        out += [lay.P(lay.mono(line, 7.5), "mono", cjk=False) for line in lines]
        out += [Spacer(1, 2 * MM), lay.P(lay.text(L["fingerprint_check"]), "small"),
                lay.P(lay.mono(lay.fingerprint, 8), "mono")]
    else:
        out += [lay.P(lay.text(L["fingerprint_none"]), "body"),
                lay.P(lay.text(L["fingerprint_none_how"]), "small")]
    out += custody.log(lay)
    out += timestamps.section(lay)  # C.1: the RFC 3161 tokens, when the dispute holds any
    out += kits.kits(lay)  # upload kits made from the dispute, with their cards' hashes
    example = lay.plans[0].exhibit.original_name if lay.plans else "file.jpg"
    out += [lay.P(lay.text(f"D. {L['howto']}"), "h2"), lay.P(lay.text(L["howto_intro"]), "body"),
            Spacer(1, 1.5 * MM)]
    for key, command in (("howto_linux", f"sha256sum {_quote(example)}"),
                         ("howto_mac", f"shasum -a 256 {_quote(example)}"),
                         ("howto_windows", f"certutil -hashfile {_quote(example, windows=True)} SHA256")):
        out.append(lay.P(lay.text(L[key]) + " " + lay.mono(command, 8.5), "body", raw=command, cjk=True))
    out += [Spacer(1, 1.5 * MM), lay.P(lay.text(L["howto_attachments"]), "small"),
            lay.P(lay.text(f"E. {L['claim_scope']}"), "h2"), lay.P(lay.text(L["honest_claim"]), "body"),
            Spacer(1, 4 * MM), lay.P(lay.text(L.f("generated_by", version=lay.version)), "tiny")]
    return out


def _quote(name: str, *, windows: bool = False) -> str:
    if windows:
        return f'"{name}"' if (" " in name or not name.isascii()) else name
    safe = all(c.isalnum() or c in "._-+/" for c in name)
    return name if safe and name.isascii() else "'" + name.replace("'", "'\\''") + "'"
