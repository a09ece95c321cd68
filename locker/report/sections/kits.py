"""The upload kits made from the dispute (``locker kit``), as the appendix lists them: when, for which
form, the SHA-256 of kit.json, and every card with its own SHA-256 — read from the custody log, so a
card found on a platform can be matched to the pack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import domain
from ..page import FRAME_W, MM

if TYPE_CHECKING:
    from ..builder import Layout

TEXT = {
    "kits": ("上传材料包（locker kit）", "Upload kits (locker kit)"),
    "kits_intro": ("以下为根据本纠纷制作的上传材料包，每张证据卡片均为原件的缩放副本；卡片的 SHA-256 可与平台上的图片核对。",
                   "Upload kits made from this dispute. Each card is a scaled copy of an original; a card's "
                   "SHA-256 can be checked against a picture found on a platform."),
    "kit_head": ("材料包 {n} · {at} · 表单 {form} · kit.json SHA-256 {sha}",
                 "Kit {n} · {at} · form {form} · kit.json SHA-256 {sha}"),
    "col_card": ("卡片", "Card"),
    "col_shows": ("内容", "Shows"),
    "overview": ("案情概览", "overview"),
    "exhibit_n": ("证据 {n}", "exhibit {n}"),
}


def kits(lay: Layout) -> list[Any]:
    """Part C2 of the appendix; nothing when no kit was made."""
    from reportlab.platypus import Spacer

    i = 0 if lay.L.lang == "zh" else 1
    found = [(row, domain.read_entry(row.action, row.payload)) for row in lay.snap.custody
             if row.action == domain.KIT_CREATED]
    if not found:
        return []
    out: list[Any] = [lay.P(lay.text(TEXT["kits"][i]), "h2"), lay.P(lay.text(TEXT["kits_intro"][i]), "small"),
                      Spacer(1, 2 * MM)]
    for row, r in found:
        if not isinstance(r, domain.KitCreated):
            continue
        out.append(lay.P(lay.text(TEXT["kit_head"][i].format(n=r.kit, at=lay.t(row.at), form=r.form,
                                                             sha=(r.manifest_sha256 or "")[:16])), "body"))
        rows = [[lay.P(lay.text(TEXT[k][i]), "cellhead") for k in ("col_card", "col_shows")]
                + [lay.P("SHA-256", "cellhead")]]
        for card in r.cards:
            exhibit = card.get("exhibit")
            shows = TEXT["overview"][i] if exhibit is None else TEXT["exhibit_n"][i].format(n=exhibit)
            rows.append([lay.fast(lay.text(str(card.get("file", ""))), 48 * MM), shows,
                         lay.fast(lay.mono(str(card.get("sha256", "")), 7), FRAME_W - 72 * MM)])
        out.append(lay.table(rows, [48 * MM, 24 * MM, FRAME_W - 72 * MM], zebra=True))
        out.append(Spacer(1, 2 * MM))
    return out
