"""The cover: the dispute's facts at a glance, the fingerprint and the contents with page ranges."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import flowables as F
from ..markup import amount, number_ranges, show_time
from ..page import CONTENTS_EXHIBITS, FRAME_W, GREY, MM, PageMap, State

if TYPE_CHECKING:
    from ..builder import Layout


def cover(lay: Layout, state: State, prev: PageMap | None) -> list[Any]:
    from reportlab.platypus import Spacer

    d, L, c = lay.snap.dispute, lay.L, lay.snap.claimant
    total = prev.total if prev else 0
    out: list[Any] = [F.section_mark(lay, state, "cover", L["cover"]), Spacer(1, 22 * MM),
                      lay.P(lay.text(L["cover_title"]), "title"), Spacer(1, 5 * MM),
                      lay.P(lay.text(d.title), "subtitle", raw=d.title, cjk=True), Spacer(1, 10 * MM)]
    who = c.name or ""
    if c.phone:
        who = f"{who}（{c.phone}）" if L.lang == "zh" else f"{who} ({c.phone})"
    pairs = [
        (L["claimant"], lay.text(who)),
        (L["merchant"], lay.text(d.merchant)),
        (L["platform"], lay.text(L.platform(d.platform))),
        (L["order_id"], lay.text(d.order_id)),
        (L["item"], lay.text(d.item)),
        (L["amount"], lay.text(amount(d.amount, d.currency))),
        (L["purchased_on"], lay.text(d.purchased_on)),
        (L["status"], lay.text(L.status(d.status))),
        (L["exhibit_count"], lay.text(L.f("exhibit_count_value", n=len(lay.plans), pages=total or "—"))),
        (L["generated_at"], lay.text(show_time(lay.snap.generated_at, lay.tz, offset=True))),
    ]
    out.append(lay.kv(pairs))
    if lay.failed:
        line = L.f("failed_cover", count=len(lay.failed), numbers=number_ranges(lay.failed, L.lang))
        out += [Spacer(1, 3 * MM), lay.P(lay.text(line), "warn")]
    out.append(Spacer(1, 5 * MM))
    if lay.fingerprint:
        out.append(lay.kv([(L["fingerprint"], lay.mono(lay.fingerprint, 8.5) + "<br/>"
                              + f'<font size="7.5" color="{GREY}">{lay.text(L["fingerprint_cover_note"])}</font>')]))
    else:
        out.append(lay.kv([(L["fingerprint"], lay.text(L["fingerprint_none"]))]))
    out.append(Spacer(1, 6 * MM))
    out.append(lay.P(lay.text(L["contents"]), "h2"))
    out.append(contents(lay, prev))
    out.append(Spacer(1, 4 * MM))
    out.append(lay.P(lay.text(L.f("times_in", tz=lay.tz_name())), "tiny"))
    return out


def section_keys(lay: Layout) -> list[str]:
    keys = ["cover"] + (["letter"] if lay.letter else []) + ["facts", "index", "timeline"]
    if lay.plans:
        keys.append("exhibits")
    return keys + ["appendix"]


def contents(lay: Layout, prev: PageMap | None) -> Any:
    keys = section_keys(lay)
    rows = []
    for i, key in enumerate(keys):
        if prev is None:
            pages = "888–888"
        else:
            first, last = prev.section_range(key, keys[i + 1:])
            pages = f"{first}" if first == last else f"{first}–{last}"
        rows.append([lay.fast(lay.text(lay.L[key]), FRAME_W - 30 * MM), lay.fast(lay.text(pages), 30 * MM)])
        if key == "exhibits" and len(lay.plans) > CONTENTS_EXHIBITS:  # the index lists them one by one
            numbers = number_ranges((p.exhibit.number for p in lay.plans), lay.L.lang)
            line = lay.text(lay.L.f("contents_numbers", numbers=numbers))
            rows.append([lay.P(f'<font color="{GREY}">{line}</font>', "cell", raw=line, cjk=True), ""])
        elif key == "exhibits":
            for plan in lay.plans:
                e = plan.exhibit
                name = lay.text(f"{lay.L.f('exhibit_n', n=e.number)}{lay.gap()}{e.name}")
                rows.append([lay.P(f'<font color="{GREY}">{name}</font>', "cell", raw=e.name, cjk=True),
                             lay.fast(lay.text(prev.pages_of(e.number) if prev else "888–888"), 30 * MM)])
    return lay.Table(rows, colWidths=[FRAME_W - 30 * MM, 30 * MM], hAlign="LEFT", splitInRow=1,
                     style=lay.table_style([("FONTNAME", (0, 0), (-1, -1), lay.fonts.regular),
                                       ("LINEBELOW", (0, 0), (-1, -1), 0.3, "#dddddd"),
                                       ("LEFTPADDING", (0, 0), (-1, -1), 2), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                                       ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
