"""The exhibit index (证据目录): one row per exhibit with its source, purpose, capture time, hash
and pages; the page total, the exhibits left out, and the signature line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import flowables as F
from ..page import FRAME_W, GREY, MM, WARN, PageMap, State

if TYPE_CHECKING:
    from ..builder import Layout


def index(lay: Layout, state: State, prev: PageMap | None) -> list[Any]:
    from reportlab.platypus import Spacer

    L = lay.L
    out: list[Any] = [F.section_mark(lay, state, "index", L["index"]), lay.head(L["index"])]
    widths = [9 * MM, 43 * MM, 30 * MM, 39 * MM, 35 * MM, FRAME_W - 156 * MM]
    rows = [[lay.P(lay.text(L[k]), "cellhead") for k in
             ("col_no", "col_name", "col_source", "col_purpose", "col_when_hash", "col_pages")]]
    for plan in lay.plans:
        e = plan.exhibit
        name = lay.text(e.name) + (lay.text(L["withdrawn_mark"]) if e.withdrawn else "")
        name += f'<br/><font size="7.5" color="{GREY}">{lay.text(L.kind(e.kind))} · {lay.text(e.mime)}</font>'
        if e.failed:
            name += f'<br/><font color="{WARN}">{lay.text(L["failed_stamp"])}</font>'
        when = lay.text(lay.t(e.captured_at, seconds=False)) if e.captured_at else lay.text(L["unknown_time"])
        source = lay.time_source(e) if e.captured_at else ""
        when_cell = (f"{when}" + (f'<br/><font size="7.5" color="{GREY}">{lay.text(source)}</font>' if source else "")
                     + f"<br/>{lay.mono(e.sha256[:16], 7.5)}")
        pages = prev.pages_of(e.number) if prev else "888–888"
        rows.append([str(e.number), lay.P(name, "cell", raw=e.name, cjk=True),
                     lay.fast(lay.text(e.source or ""), widths[2]), lay.fast(lay.text(e.purpose or ""), widths[3]),
                     lay.P(when_cell, "cell", raw=e.captured_at), lay.text.plain(pages)])
    if lay.plans:
        out.append(lay.table(rows, widths, zebra=True))
    else:
        out.append(lay.P(lay.text(L["no_exhibits"]), "body"))
    out.append(Spacer(1, 3 * MM))
    closing_from = len(out)
    if prev is not None:
        a, b = prev.section_range("appendix", [])
        if lay.plans:
            first = min(v[0] for v in prev.exhibits.values()) if prev.exhibits else 0
            last = max(v[1] for v in prev.exhibits.values()) if prev.exhibits else 0
            line = L.f("index_total", total=prev.total, exhibits=lay.pages(first, last),
                       appendix=lay.pages(a, b))
        else:
            line = L.f("index_total_none", total=prev.total, appendix=lay.pages(a, b))
    else:
        line = L.f("index_total", total=888, exhibits=lay.pages(888, 889), appendix=lay.pages(888, 889))
    out.append(lay.P(lay.text(line), "small"))
    if lay.snap.left_out:
        out.append(Spacer(1, 2 * MM))
        out.append(lay.P(lay.text(L["left_out"]), "small"))
        for left in lay.snap.left_out:
            line = (L.f("left_out_withdrawn", n=left.number, name=left.name, reason=left.reason or "—")
                    if left.withdrawn else L.f("left_out_excluded", n=left.number, name=left.name))
            out.append(lay.P("· " + lay.text(line), "small", raw=line, cjk=True))
    signature = lay.P(lay.text(L["signature"] + L["sign_blank"] + lay.gap(3) + L["date_line"]), "body")
    # The signature line never stands alone on a page: it keeps the lines above it (the page count, the
    # exhibits left out) with it, and they move to the next page together.
    from reportlab.platypus import KeepTogether

    tail = out[closing_from:] + [Spacer(1, 12 * MM), signature]
    return out[:closing_from] + [KeepTogether(tail)]
