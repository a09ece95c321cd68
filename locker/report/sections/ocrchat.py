"""What OCR read from a picture, printed after the picture and never instead of it: the order facts
of an order page and the transcript of a chat screenshot, headed as machine-read (机器识别) text
that the picture above is the evidence for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..markup import show_time
from ..page import CHAT_CHUNK, CHAT_MESSAGE_MAX, FRAME_W, GREY, ME_SHADE, MM, Plan

if TYPE_CHECKING:
    from ..builder import Layout

FACT_KEYS = ("order_id", "amount", "merchant", "item", "order_time", "refund_status")


def machine_read(lay: Layout, plan: Plan) -> list[Any]:
    """The machine-read part of a picture's section; nothing when OCR read nothing from it."""
    from reportlab.platypus import Spacer

    e, L = plan.exhibit, lay.L
    messages = [m for m in e.messages if m.source == "ocr"]
    facts = [f for f in (e.ocr_facts or {}).get("facts") or () if isinstance(f, dict)]
    if not messages and not facts:
        return []
    out: list[Any] = [Spacer(1, 4 * MM), lay.P(lay.text(L["ocr_head"]), "h2"),
                      lay.P(lay.text(L["ocr_note"]), "small"), Spacer(1, 2 * MM)]
    if facts:
        widths = [34 * MM, FRAME_W - 34 * MM]
        rows = [[lay.P(lay.text(L["ocr_fact"]), "cellhead"), lay.P(lay.text(L["ocr_value"]), "cellhead")]]
        for f in sorted(facts, key=lambda f: FACT_KEYS.index(f["name"]) if f.get("name") in FACT_KEYS else 99):
            rows.append([lay.fast(lay.text(L[f"ocr_fact_{f['name']}"] if f.get("name") in FACT_KEYS else str(f.get("name"))),
                                  widths[0]),
                         lay.fast(lay.text(str(f.get("value") or "")), widths[1])])
        out += [lay.table(rows, widths), Spacer(1, 3 * MM)]
    if messages:
        out.append(lay.P(lay.text(L.f("ocr_chat_facts", count=len(messages))), "body"))
        widths = [31 * MM, 30 * MM, FRAME_W - 61 * MM]
        head = [lay.P(lay.text(L[k]), "cellhead") for k in ("col_time", "col_sender", "col_message")]
        for start in range(0, len(messages), CHAT_CHUNK):
            data = [head]
            extra = []
            for r, m in enumerate(messages[start:start + CHAT_CHUNK], 1):
                who = L["chat_service"] if m.kind == "service" else (m.sender or "—") + (L["chat_me"] if m.me else "")
                data.append([lay.fast(lay.text(show_time(m.at) if m.at else "—"), widths[0]),
                             lay.fast(lay.text(who), widths[1]),
                             lay.fast(lay.text((m.text or "")[:CHAT_MESSAGE_MAX]), widths[2])])
                if m.me:
                    extra.append(("BACKGROUND", (0, r), (-1, r), ME_SHADE))
                elif m.kind == "service":
                    extra.append(("TEXTCOLOR", (0, r), (-1, r), GREY))
            out.append(lay.table(data, widths, extra=extra))
    return out
