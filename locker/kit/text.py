"""The description a form's text box takes: built from the dispute's facts, claim and timeline, and
cut to the form's character limit at a sentence boundary (the full text is kept beside it).

The order is what a reviewer needs first: the order, what is asked for, what happened, then where the
evidence is. A cut therefore loses the later timeline before it loses the claim. Characters are
counted as Unicode code points (one Chinese character is one), which is how the forms we know of count.
Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from .labels import Labels

SENTENCE_END = "。！？；!?;"
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Description:
    full: str
    cut: str
    limit: int

    @property
    def was_cut(self) -> bool:
        return self.cut != self.full


def sentences(text: str) -> list[str]:
    """``text`` split after each sentence end (。！？； and . ! ? ; followed by a space or the end)."""
    out: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        end = False
        if ch in "。！？；":
            end = True
        elif ch in ".!?;" and (i + 1 == len(text) or text[i + 1].isspace()):
            end = True
        if end:
            # closing quotes and brackets stay with their sentence
            j = i + 1
            while j < len(text) and text[j] in "”」』）)\"'":
                j += 1
            out.append(text[start:j])
            start = j
    if start < len(text):
        out.append(text[start:])
    return [s for s in out if s.strip()]


def cut(text: str, limit: int) -> str:
    """The longest run of whole sentences from the start that fits ``limit`` characters. When even
    the first sentence is longer, it is cut at its last comma that fits, else at the limit, and ends
    with "…" (still within the limit)."""
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in sentences(text):
        if len(kept) + len(sentence) > limit:
            break
        kept += sentence
    if kept.strip():
        return kept.rstrip()
    room = max(0, limit - 1)
    head = text[:room]
    comma = max(head.rfind(c) for c in "，,、：:")
    if comma >= room // 2:
        head = head[:comma]
    return head.rstrip() + "…"


def _clean(value: str | None) -> str:
    return _SPACE.sub(" ", value or "").strip()


def _sentence(text: str, L: Labels) -> str:
    text = _clean(text)
    if not text:
        return ""
    if text[-1] in SENTENCE_END + ".":
        return text if L.lang == "zh" else text + " "
    return text + ("。" if L.lang == "zh" else ". ")


def build(dispute: Any, events: Sequence[Any], exhibit_numbers: Sequence[int], L: Labels,
          show_time: Any, limit: int) -> Description:
    """The description of ``dispute`` (a snapshot's DisputeInfo) with its timeline ``events``."""
    parts: list[str] = []
    facts = facts_sentence(dispute, L)
    if facts:
        parts.append(facts)
    if dispute.claim:
        parts.append(_sentence(L.f("d_claim", claim=_clean(dispute.claim).rstrip("。.")), L))
    if dispute.summary:
        parts.append(_sentence(dispute.summary, L))
    for ev in events:
        when = show_time(ev.at)[:10]
        parts.append(_sentence(L.f("d_event", at=when, text=_clean(ev.description).rstrip("。.")), L))
    if exhibit_numbers:
        parts.append(_sentence(L.f("d_evidence", numbers=_ranges(exhibit_numbers)), L))
    full = "".join(parts).strip()
    return Description(full=full, cut=cut(full, limit), limit=limit)


def facts_sentence(dispute: Any, L: Labels) -> str:
    """The order in one sentence: platform, order number, item, amount, date, merchant."""
    facts = []
    if dispute.platform:
        facts.append(L.platform(dispute.platform))
    if dispute.order_id:
        facts.append(L.f("d_order", order=dispute.order_id))
    if dispute.item:
        facts.append(L.f("d_item", item=_clean(dispute.item)))
    if dispute.amount:
        facts.append(L.f("d_amount", amount=dispute.amount, currency=dispute.currency or "CNY"))
    if dispute.purchased_on:
        facts.append(L.f("d_bought", date=dispute.purchased_on))
    if dispute.merchant:
        facts.append(L.f("d_merchant", merchant=_clean(dispute.merchant)))
    return _sentence(L["d_sep"].join(facts), L) if facts else ""


def _ranges(numbers: Sequence[int]) -> str:
    """[1, 2, 3, 5] → "1–3, 5"."""
    out: list[str] = []
    nums = sorted(set(numbers))
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}–{nums[j]}")
        i = j + 1
    return ", ".join(out)
