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
        via = f" · {r.channel.name}" if r.channel is not None else ""  # web / web-lan: the copy a browser sent
        return f"{L.f('exhibit_n', n=r.exhibit)}{colon}{r.original_name} · {(r.sha256 or '')[:16]}{via}"
    if isinstance(r, domain.ExhibitWithdrawn):
        return f"{L.f('exhibit_n', n=r.exhibit)}{colon}{r.reason}"
    if isinstance(r, domain.ExhibitRestored):
        return f"{L.f('exhibit_n', n=r.exhibit)}{colon}{L.f('edit_restored', reason=r.reason)}"
    if isinstance(r, domain.DisputeEdited):
        return ("；" if zh else "; ").join(_change(c, L) for c in r.changes)
    if isinstance(r, domain.ExhibitEdited):
        changes = ("；" if zh else "; ").join(_change(c, L, exhibit=True) for c in r.changes)
        return f"{L.f('exhibit_n', n=r.exhibit)}{colon}{changes}"
    if isinstance(r, domain.MessageEdited):
        where = f"{L.f('exhibit_n', n=r.exhibit)} {L.f('edit_message', k=r.message)}"
        return f"{where}{colon}{_value(r.before, L)} → {_value(r.after, L)}"
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
    if isinstance(r, domain.KitCreated):
        return f"{r.form} · {len(r.cards)} {'张卡片' if zh else 'cards'} · {(r.manifest_sha256 or '')[:16]}"
    if isinstance(r, domain.DeadlineAdded):
        return f"{L.f('deadline_n', n=r.deadline)}{colon}{r.text} · {show_time(r.due)}"
    if isinstance(r, domain.DeadlineDone):
        return f"{L.f('deadline_n', n=r.deadline)}{colon}{L['deadline_done']}"
    if isinstance(r, domain.DeadlineRemoved):
        return L.f("deadline_n", n=r.deadline) + (f"{colon}{r.reason}" if r.reason else "")
    if isinstance(r, domain.TimestampAdded):  # see part C.1
        return f"{r.timestamp}{colon}{r.tsa} · {r.gen_time} · {r.subject}"
    if isinstance(r, domain.BundleCreated):
        return f"{len(r.exhibits or ())} {'份原件' if zh else 'originals'} · {(r.sha256 or '')[:16]}"
    import json

    text = json.dumps(payload if isinstance(payload, dict) else {}, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "…"


# What each corrected field is called in the pack: the facts' and the exhibit sections' own labels.
_FIELD_LABELS = {
    "title": "edit_title", "platform": "platform", "merchant": "merchant", "merchant_address": "merchant_address",
    "order_id": "order_id", "item": "item", "amount": "amount", "currency": "edit_currency",
    "purchased_on": "purchased_on", "claim": "claim", "summary": "summary", "source": "meta_source",
    "purpose": "meta_purpose", "note": "meta_note", "captured_at": "meta_captured",
    "captured_at_source": "edit_captured_at_source",
}


def _change(c: domain.FieldChange, L: Labels, exhibit: bool = False) -> str:
    """One corrected field: its name, the old and the new value (an exhibit's title is its 证据名称)."""
    key = _FIELD_LABELS.get(c.field)
    name = L[key] if key else c.field
    if c.field == "title" and exhibit:
        name = L["meta_title"]
    if c.field == "captured_at_source":
        before = L.time_source(c.before) if c.before else L["not_given"]
        after = L.time_source(c.after) if c.after else L["not_given"]
    elif c.field == "captured_at":
        before = show_time(c.before, offset=True) if c.before else L["not_given"]
        after = show_time(c.after, offset=True) if c.after else L["not_given"]
    else:
        before, after = _value(c.before, L), _value(c.after, L)
    return f"{name}{'：' if L.lang == 'zh' else ': '}{before} → {after}"


def _value(value: str | None, L: Labels, limit: int = 80) -> str:
    """A corrected value, quoted and cut short if long; 未填写 / not given when empty."""
    if value is None:
        return L["not_given"]
    flat = " ".join(value.split())
    if len(flat) > limit:
        flat = flat[:limit - 1] + "…"
    return f"「{flat}」" if L.lang == "zh" else f"“{flat}”"
