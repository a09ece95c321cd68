"""The timeline: events, capture times of exhibits, status changes and deadlines, in time order.
A deadline past at the time the pack is made, and not marked done, is marked as past (in red)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import flowables as F
from ..markup import number_ranges, parse_time
from ..page import FRAME_W, MM, WARN, State

if TYPE_CHECKING:
    from ..builder import Layout


def timeline(lay: Layout, state: State) -> list[Any]:
    L = lay.L
    out: list[Any] = [F.section_mark(lay, state, "timeline", L["timeline"]), lay.head(L["timeline"]),
                      lay.P(lay.text(L.f("times_in", tz=lay.tz_name())), "tiny")]
    items: list[tuple[Any, int, str, str, str]] = []
    for ev in lay.snap.events:
        linked = ""
        if ev.exhibits:
            linked = L.f("tl_linked", numbers=number_ranges(ev.exhibits, L.lang))
        items.append((instant(ev), 0, ev.at, f"{L['tl_event']} · {L.event_type(ev.type)}",
                      lay.text(ev.description + linked)))
    for plan in lay.plans:
        e = plan.exhibit
        if e.captured_at:
            text = L.f("tl_capture_text", n=e.number, name=e.name, source=lay.time_source(e))
            items.append((instant_of(e.captured_at), 1, e.captured_at, L["tl_capture"], lay.text(text)))
    for plan in lay.plans:  # what was machine-read from chat screenshots, marked so
        for m in plan.exhibit.messages:
            if m.source == "ocr" and m.at and m.kind != "service":
                who = (m.sender or "—") + (L["chat_me"] if m.me else "")
                text = m.text if len(m.text) <= 80 else m.text[:79] + "…"
                items.append((instant_of(m.at), 1, m.at, L["tl_ocr_message"],
                              lay.text(L.f("tl_ocr_message_text", n=plan.exhibit.number, who=who, text=text))))
    for change in lay.snap.status_changes:
        text = L.f("tl_status_text", before=L.status(change.before) or "—", after=L.status(change.after))
        if change.note:
            text += f"（{change.note}）" if L.lang == "zh" else f" ({change.note})"
        items.append((instant_of(change.at), 2, change.at, L["tl_status"], lay.text(text)))
    items += deadlines(lay)
    items.sort(key=lambda i: (i[0], i[1]))
    if not items:
        out.append(lay.P(lay.text(L["timeline_empty"]), "body"))
        return out
    rows = [[lay.P(lay.text(L[k]), "cellhead") for k in ("col_time", "col_what", "col_detail")]]
    for _when, _order, at, what, text in items:
        rows.append([lay.fast(lay.text(lay.t(at)), 34 * MM), lay.fast(lay.text(what), 30 * MM),
                     lay.fast(text, FRAME_W - 64 * MM)])
    out.append(lay.table(rows, [34 * MM, 30 * MM, FRAME_W - 64 * MM], zebra=True))
    return out


def deadlines(lay: Layout) -> list[tuple[Any, int, str, str, str]]:
    """The dispute's deadlines as timeline rows: (instant, order, time, what, detail markup). Past ones
    not marked done are marked in red; done ones say when."""
    L = lay.L
    made = instant_of(lay.snap.generated_at)
    rows: list[tuple[Any, int, str, str, str]] = []
    for d in lay.snap.deadlines:
        when = instant_of(d.due)
        text = lay.text(d.text)
        if d.exhibits:
            text += lay.text(L.f("tl_linked", numbers=number_ranges(d.exhibits, L.lang)))
        if d.date_only:
            text += lay.text(L["tl_deadline_day"])
        if d.done_at:
            text += lay.text(L.f("tl_deadline_done", at=lay.t(d.done_at, seconds=False)))
        elif when < made:
            text = f'<font color="{WARN}">{lay.text(L["tl_deadline_past"])}{text}</font>'
        rows.append((when, 3, d.due, L["tl_deadline"], text))
    return rows


def instant(ev: Any) -> Any:
    return instant_of(ev.at)


def instant_of(value: str | None) -> Any:
    from datetime import UTC, datetime

    when = parse_time(value)
    return when.astimezone(UTC) if when else datetime.max.replace(tzinfo=UTC)
