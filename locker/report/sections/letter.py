"""The letter of complaint (投诉书, ``--letter``): who complains about whom, the order, the demand,
the negotiation so far and the evidence list; what is missing is marked and reported."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import flowables as F
from ..markup import amount, number_ranges
from ..page import MM, PageMap, State
from .timeline import instant

if TYPE_CHECKING:
    from ..builder import Layout


def letter(lay: Layout, state: State, prev: PageMap | None) -> list[Any]:
    from reportlab.platypus import KeepTogether, Spacer

    d, c, L = lay.snap.dispute, lay.snap.claimant, lay.L
    lay.letter_missing = []

    def val(value: str | None, key: str) -> str:
        return lay.text(value) if value else lay.missing(key)

    out: list[Any] = [F.section_mark(lay, state, "letter", L["letter"]), lay.P(lay.text(L["letter_title"]), "title"),
                      Spacer(1, 4 * MM), lay.P(lay.text(L["letter_to"]), "body"), Spacer(1, 3 * MM)]
    out.append(lay.P(lay.text(L["complainant"]), "h2"))
    out.append(lay.kv([(L["l_name"], val(c.name, "name")), (L["phone"], val(c.phone, "phone")),
                         (L["address"], val(c.address, "address"))]
                        + ([(L["email"], lay.text(c.email))] if c.email else [])))
    out.append(lay.P(lay.text(L["respondent"]), "h2"))
    out.append(lay.kv([(L["l_shop"], val(d.merchant, "merchant")),
                         (L["merchant_address"], val(d.merchant_address, "merchant_address"))]))
    out.append(lay.P(lay.text(L["l_order"]), "h2"))
    out.append(lay.kv([(L["platform"], lay.text(L.platform(d.platform))),
                         (L["l_quantity_price"], val(d.item, "item")),
                         (L["l_price"], val(amount(d.amount, d.currency), "amount")),
                         (L["order_id"], val(d.order_id, "order_id")),
                         (L["purchased_on"], val(d.purchased_on, "purchased_on"))]))
    out.append(lay.P(lay.text(L["demand"]), "h2"))
    out.append(lay.P(val(d.claim, "claim"), "body", raw=d.claim, cjk=True))
    out.append(lay.P(lay.text(L["summary"]), "h2"))
    if d.summary:
        out += [lay.U(part) for part in d.summary.split("\n") if part.strip()]
    else:
        out.append(lay.P(lay.missing("summary"), "body"))
    out.append(lay.P(lay.text(L["negotiation"]), "h2"))
    if lay.snap.events:
        for i, ev in enumerate(sorted(lay.snap.events, key=instant), 1):
            linked = L.f("tl_linked", numbers=number_ranges(ev.exhibits, L.lang)) if ev.exhibits else ""
            line = f"{i}. {lay.t(ev.at, seconds=False)}{lay.gap()}{ev.description}{linked}"
            out.append(lay.P(lay.text(line), "body", raw=line, cjk=True))
    else:
        out.append(lay.P(lay.text(L["no_negotiation"]), "body"))
    listing: list[Any] = [lay.P(lay.text(L["evidence_list"]), "h2")]
    for plan in lay.plans:
        e = plan.exhibit
        first, last = prev.exhibits.get(e.number, (0, 0)) if prev else (888, 889)
        line = L.f("letter_evidence_line", n=e.number, name=e.name, pages=lay.pages(first, last))
        listing.append(lay.P(lay.text(line), "body", raw=line, cjk=True))
    if not lay.plans:
        listing.append(lay.P(lay.text(L["no_exhibits"]), "body"))
    closing = [Spacer(1, 6 * MM), lay.P(lay.text(L["closing"]), "body"),
               lay.P(lay.text(L["closing_to"]), "body"), Spacer(1, 10 * MM),
               lay.P(lay.text(f"{L['letter_sign']}{L['sign_blank']}{lay.gap(2)}"
                                + L.f("letter_date", date=L["letter_date_blank"])), "right")]
    # The signature never stands alone on a page: it keeps the evidence list (or its end) with it.
    if len(listing) <= 16:
        out.append(KeepTogether(listing + closing))
    else:
        out += listing[:-3] + [KeepTogether(listing[-3:] + closing)]
    return out
