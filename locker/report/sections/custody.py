"""The custody log as the appendix prints it: one row per entry, each action described in words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..labels import Labels
from ..markup import show_time
from ..page import FRAME_W, MM

if TYPE_CHECKING:
    from ..builder import Layout


def log(lay: Layout) -> list[Any]:
    """Part C of the appendix: every custody entry, and the last entry's hash."""
    from reportlab.platypus import Spacer

    L = lay.L
    out: list[Any] = []
    out.append(lay.P(lay.text(f"C. {L['custody']}"), "h2"))
    out.append(lay.P(lay.text(L["custody_intro"]), "small"))
    out.append(Spacer(1, 2 * MM))
    rows = [[lay.P(lay.text(L[k]), "cellhead") for k in ("col_seq", "col_time", "col_action", "col_detail",
                                                           "col_entry_hash")]]
    for row in lay.snap.custody:
        rows.append([str(row.seq), lay.fast(lay.text(lay.t(row.at)), 30 * MM),
                     lay.fast(lay.text(L.action(row.action)), 22 * MM),
                     lay.fast(lay.text(_custody_detail(row.action, row.payload, L)), FRAME_W - 94 * MM),
                     lay.fast(lay.mono(row.hash[:16], 7), 32 * MM)])
    out.append(lay.table(rows, [10 * MM, 30 * MM, 22 * MM, FRAME_W - 62 * MM - 32 * MM, 32 * MM], zebra=True))
    if lay.snap.custody:
        out += [Spacer(1, 2 * MM), lay.P(lay.text(L["custody_last"]), "small"),
                lay.P(lay.mono(lay.snap.custody[-1].hash, 8), "mono")]
    return out


def _custody_detail(action: str, payload: Any, L: Labels) -> str:
    p = payload if isinstance(payload, dict) else {}
    zh = L.lang == "zh"
    if action == "exhibit.added":
        return (f"{L.f('exhibit_n', n=p.get('exhibit'))}：{p.get('original_name')} · {str(p.get('sha256', ''))[:16]}"
                if zh else f"{L.f('exhibit_n', n=p.get('exhibit'))}: {p.get('original_name')} · "
                f"{str(p.get('sha256', ''))[:16]}")
    if action == "exhibit.withdrawn":
        return f"{L.f('exhibit_n', n=p.get('exhibit'))}{'：' if zh else ': '}{p.get('reason')}"
    if action == "exhibit.reread":
        count = (p.get("messages") or {}).get("count")
        return f"{L.f('exhibit_n', n=p.get('exhibit'))}{'：' if zh else ': '}{p.get('chat_format')} · {count}"
    if action == "dispute.status":
        text = f"{L.status(p.get('from'))} → {L.status(p.get('to'))}"
        return text + (f"（{p['note']}）" if zh and p.get("note") else f" ({p['note']})" if p.get("note") else "")
    if action == "event.added":
        return f"{show_time(p.get('at'))} {p.get('description')}"
    if action == "dispute.created":
        return str(p.get("title") or "")
    if action == "export.created":
        return f"{p.get('pages')} {'页' if zh else 'pages'} · {str(p.get('sha256', ''))[:16]}"
    import json

    text = json.dumps(p, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "…"
