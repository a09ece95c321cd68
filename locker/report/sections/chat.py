"""A chat exhibit: its facts (participants, span, zone, date order) and the transcript, in tables
of a few dozen messages (a table splits across pages fastest when it is small)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..markup import parse_time, show_time
from ..page import CHAT_CHUNK, CHAT_MESSAGE_MAX, CHAT_PIECE, FRAME_W, GREY, ME_SHADE, MM, Plan
from ..snapshot import Message

if TYPE_CHECKING:
    from ..builder import Layout


def transcript(lay: Layout, plan: Plan) -> list[Any]:
    from reportlab.platypus import Spacer

    e, L = plan.exhibit, lay.L
    md = e.metadata or {}
    messages = e.messages
    people = "、".join(map(str, md.get("participants") or [])) if L.lang == "zh" else \
        ", ".join(map(str, md.get("participants") or []))
    first = next((m.at for m in messages if m.at), None)
    last = next((m.at for m in reversed(messages) if m.at), None)
    facts = L.f("chat_facts", count=len(messages), first=show_time(first) or "—", last=show_time(last) or "—",
                people=people or "—")
    when = parse_time(first)
    tz_text = md.get("tz") or ""
    if when is not None:
        from ..markup import utc_offset

        tz_text = f"{tz_text} {utc_offset(when)}".strip()
    if tz_text and md.get("captured_at_offset_assumed") is True:
        tz_text += ("，" if L.lang == "zh" else ", ") + L["zone_assumed"]
    out: list[Any] = [lay.U(facts, "body")]
    if tz_text:
        out.append(lay.P(lay.text(L.f("chat_tz", tz=tz_text)), "small"))
    order = md.get("date_order")
    if md.get("date_order_source") == "assumed" and order in ("dmy", "mdy"):
        out.append(lay.P(lay.text(L.f("chat_order_assumed", order=L[f"order_{order}"])), "small"))
    out += [lay.P(lay.text(L["chat_me_note"]), "small"), Spacer(1, 2 * MM)]
    if not messages:
        out.append(lay.P(lay.text(L["chat_none"]), "body"))
        return out
    rows: list[tuple[Message, str, bool]] = []
    for m in messages:
        text = m.text or ""
        shown = text[:CHAT_MESSAGE_MAX]
        pieces = [shown[i:i + CHAT_PIECE] for i in range(0, len(shown), CHAT_PIECE)] or [""]
        if len(text) > len(shown):
            pieces.append(L.f("chat_cut", more=f"{len(text) - len(shown):,}"))
        if m.corrected is not None:  # never passed off as what the export said: the old text is in the log
            pieces[-1] += L.f("chat_corrected", seq=m.corrected)
        for k, piece in enumerate(pieces):
            rows.append((m, piece, k > 0))
    widths = [31 * MM, 30 * MM, FRAME_W - 61 * MM]
    head = [lay.P(lay.text(L[k]), "cellhead") for k in ("col_time", "col_sender", "col_message")]
    for start in range(0, len(rows), CHAT_CHUNK):
        chunk = rows[start:start + CHAT_CHUNK]
        data = [head]
        extra = []
        for r, (m, piece, continued) in enumerate(chunk, 1):
            if m.kind == "service":
                who = L["chat_service"]
            elif m.kind == "unparsed":
                who = L["chat_unparsed"]
            else:
                who = (m.sender or "—") + (L["chat_me"] if m.me else "")
            if continued:
                who = L["chat_continued"]
            at = "" if continued else show_time(m.at) if m.at else "—"
            data.append([lay.fast(lay.text(at), widths[0]), lay.fast(lay.text(who), widths[1]),
                         lay.fast(lay.text(piece), widths[2])])
            if m.me:
                extra.append(("BACKGROUND", (0, r), (-1, r), ME_SHADE))
            elif m.kind in ("service", "unparsed"):
                extra.append(("TEXTCOLOR", (0, r), (-1, r), GREY))
        out.append(lay.table(data, widths, extra=extra))
    return out
