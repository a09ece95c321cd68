"""The dispute's facts: the order, the summary and the claim."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import flowables as F
from ..markup import amount
from ..page import State

if TYPE_CHECKING:
    from ..builder import Layout


def facts(lay: Layout, state: State) -> list[Any]:
    d, L = lay.snap.dispute, lay.L
    out: list[Any] = [F.section_mark(lay, state, "facts", L["facts"]), lay.head(L["facts"]),
                      lay.P(lay.text(L["order"]), "h2")]
    out.append(lay.kv([
        (L["platform"], lay.text(L.platform(d.platform))), (L["merchant"], lay.text(d.merchant)),
        (L["merchant_address"], lay.text(d.merchant_address)), (L["order_id"], lay.text(d.order_id)),
        (L["item"], lay.text(d.item)), (L["amount"], lay.text(amount(d.amount, d.currency))),
        (L["purchased_on"], lay.text(d.purchased_on)), (L["status"], lay.text(L.status(d.status))),
    ]))
    out.append(lay.P(lay.text(L["summary"]), "h2"))
    if d.summary:
        out += [lay.U(part) for part in d.summary.split("\n") if part.strip()]
    else:
        out.append(lay.P(lay.text(L.f("no_summary", slug=d.slug)), "body"))
    out.append(lay.P(lay.text(L["claim"]), "h2"))
    out.append(lay.U(d.claim) if d.claim else lay.P(lay.text(L["no_claim"]), "body"))
    return out
