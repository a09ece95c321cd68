"""The custody log as the appendix prints it: one row per entry, each action described in words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import domain
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
    r = domain.read_entry(action, payload)
    zh = L.lang == "zh"
    colon = "：" if zh else ": "
    if isinstance(r, domain.ExhibitAdded):
        return f"{L.f('exhibit_n', n=r.exhibit)}{colon}{r.original_name} · {(r.sha256 or '')[:16]}"
    if isinstance(r, domain.ExhibitWithdrawn):
        return f"{L.f('exhibit_n', n=r.exhibit)}{colon}{r.reason}"
    if isinstance(r, domain.ExhibitReread):
        count = r.messages.count if r.messages else None
        return f"{L.f('exhibit_n', n=r.exhibit)}{colon}{r.chat_format} · {count}"
    if isinstance(r, domain.ExhibitTranscribed):
        count = r.messages.count if r.messages else 0
        facts = len(r.facts or ())
        return f"{L.f('exhibit_n', n=r.exhibit)}{colon}{L.f('cust_transcribed', count=count, facts=facts)}"
    if isinstance(r, domain.StatusChanged):
        text = f"{L.status(r.before)} → {L.status(r.after)}"
        return text + (f"（{r.note}）" if zh and r.note else f" ({r.note})" if r.note else "")
    if isinstance(r, domain.EventAdded):
        return f"{show_time(r.at)} {r.description}"
    if isinstance(r, domain.DisputeCreated):
        return str(r.title or "")
    if isinstance(r, domain.ExportCreated):
        return f"{r.pages} {'页' if zh else 'pages'} · {(r.sha256 or '')[:16]}"
    import json

    text = json.dumps(payload if isinstance(payload, dict) else {}, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "…"
