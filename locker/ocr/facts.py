"""Order facts read from an order or after-sales screenshot (订单详情, 售后详情, 退款详情).

Pure: a :class:`~locker.ocr.engine.Reading` in, :class:`Fact` objects out, each with the box of
the line it was read from. What the apps print (titles, labels per app, shop-name suffixes,
refund statuses) lives in ``locker/data/order_labels.toml``, not here.

Entry point: :func:`facts_from_reading`.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from .engine import Line, Reading

DATA = Path(__file__).resolve().parent.parent / "data" / "order_labels.toml"

#: The facts read, in the order ``show`` prints them.
FACTS = ("order_id", "amount", "merchant", "item", "order_time", "refund_status")
#: Which dispute field each fact fills (``new --from-screenshot``, ``edit --from-exhibit``).
DISPUTE_FIELD = {"order_id": "order_id", "amount": "amount", "merchant": "merchant", "item": "item",
                 "order_time": "purchased_on", "platform": "platform"}


@dataclass(frozen=True)
class Fact:
    """One fact: its name (one of FACTS, or ``platform``), its value as the dispute would hold it
    (digits of an order number, an exact amount "199.00", "2025-05-01 20:15:32", text), the text
    of the line it was read from, and that line's box (four corners, image pixels)."""

    name: str
    value: str
    text: str
    box: tuple[tuple[float, float], ...]
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "text": self.text,
                "box": [[round(x, 1), round(y, 1)] for x, y in self.box], "score": self.score}


@dataclass(frozen=True)
class OrderFacts:
    """What an order page says: which page (``order`` or ``refund``), the app if it could tell,
    and the facts found (at most one per name)."""

    page: str | None
    platform: str | None
    facts: tuple[Fact, ...]

    def get(self, name: str) -> Fact | None:
        return next((f for f in self.facts if f.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {"page": self.page, "platform": self.platform, "facts": [f.as_dict() for f in self.facts]}


@cache
def labels() -> Mapping[str, Any]:
    """The data file, parsed once."""
    with open(DATA, "rb") as f:
        return tomllib.load(f)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


_MONEY = re.compile(r"[¥￥]\s*(\d{1,9}(?:,\d{3})*(?:\.\d{1,2})?)|(\d{1,9}(?:,\d{3})*\.\d{2})\s*元?")
_DIGITS = re.compile(r"\d[\d\s-]{6,}\d")
_DATETIME = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?")


def _value(kind: str, text: str) -> str | None:
    """The value of one kind found in ``text``, normalised; None if there is none."""
    t = _norm(text)
    if kind == "money":
        m = _MONEY.search(t)
        if not m:
            return None
        raw = (m.group(1) or m.group(2)).replace(",", "")
        try:
            return str(Decimal(raw).quantize(Decimal("0.01")))
        except InvalidOperation:
            return None
    if kind == "digits":
        for m in _DIGITS.finditer(t):
            digits = re.sub(r"\D", "", m.group())
            if len(digits) >= 8:
                return digits
        return None
    if kind == "datetime":
        m = _DATETIME.search(t)
        if not m:
            return None
        y, mo, d, h, mi, sec = m.groups()
        if not (1 <= int(mo) <= 12 and 1 <= int(d) <= 31 and int(h) < 24 and int(mi) < 60):
            return None
        return f"{y}-{int(mo):02d}-{int(d):02d} {int(h):02d}:{mi}:{sec or '00'}"
    t = _strip_buttons(t)
    return t or None


def _strip_buttons(text: str) -> str:
    t = text.strip(" :：|")
    for word in sorted(labels()["ignore"]["words"], key=len, reverse=True):
        if t.endswith(word) and len(t) > len(word):
            t = t[: -len(word)].rstrip(" :：|")
    return t.strip()


def _is_button(text: str) -> bool:
    return _norm(text) in labels()["ignore"]["words"]


def _platform(lines: Sequence[Line]) -> str | None:
    text = " ".join(_norm(ln.text) for ln in lines)
    for name, spec in labels()["platforms"].items():
        if any(marker in text for marker in spec["markers"]):
            return str(name)
    return None


def _same_row(a: Line, b: Line) -> bool:
    shared = min(a.bottom, b.bottom) - max(a.top, b.top)
    return shared > 0.5 * min(a.bottom - a.top, b.bottom - b.top)


def _labels_for(name: str, platform: str | None) -> list[str]:
    spec = labels()["facts"][name]
    own = list(spec.get("platform", {}).get(platform, [])) if platform else []
    rest = [lb for lb in spec["labels"] if lb not in own]
    # Longer labels first among the rest, so 实付款 is tried before 实付.
    return own + sorted(rest, key=len, reverse=True)


def _by_label(name: str, lines: Sequence[Line], platform: str | None) -> Fact | None:
    kind = labels()["facts"][name]["value"]
    for label in _labels_for(name, platform):
        for i, ln in enumerate(lines):
            t = _norm(ln.text)
            if not t.startswith(label):
                continue
            rest = t[len(label):].lstrip(" :：")
            if kind == "text" and rest[:1] and t[len(label):][:1] not in (":", "：", " ") and rest:
                continue  # 商品 is a label only when something separates it from its value
            found = _value(kind, rest) if rest else None
            if found:
                return Fact(name, found, ln.text, ln.box, ln.score)
            # The same row, to the right; else the next line below that is no label.
            row = sorted((o for o in lines if o is not ln and _same_row(o, ln) and o.left > ln.right - 2),
                         key=lambda o: o.left)
            for other in row:
                if _is_button(other.text):
                    continue
                found = _value(kind, other.text)
                if found:
                    return Fact(name, found, other.text, other.box, other.score)
            below = lines[i + 1] if i + 1 < len(lines) else None
            if below is not None and not _same_row(below, ln) and kind != "text":
                found = _value(kind, below.text)
                if found and below.top - ln.bottom < 2 * (ln.bottom - ln.top):
                    return Fact(name, found, below.text, below.box, below.score)
    return None


def _merchant_by_suffix(lines: Sequence[Line]) -> Fact | None:
    suffixes = labels()["facts"]["merchant"]["suffixes"]
    for ln in lines:
        t = _norm(ln.text).rstrip(" >›〉")
        if 2 <= len(t) <= 30 and any(t.endswith(sfx) for sfx in suffixes) and not _MONEY.search(t):
            if any(t.startswith(lb) for lb in labels()["facts"]["merchant"]["labels"]):
                continue
            return Fact("merchant", t, ln.text, ln.box, ln.score)
    return None


def _item_after(shop: Fact | None, lines: Sequence[Line], taken: set[str], width: float) -> Fact | None:
    """The item: the text beside the picture under the shop's name, up to its price (one or two
    lines; the price and quantity in the right-hand column are passed over)."""
    if shop is None:
        return None
    start = next((i for i, ln in enumerate(lines) if ln.box == shop.box), None)
    if start is None:
        return None
    parts: list[Line] = []
    for ln in lines[start + 1:]:
        t = _norm(ln.text)
        if ln.left > 0.6 * width and (_MONEY.search(t) or re.fullmatch(r"[x×X*]\s*\d+", t)):
            continue  # the price column beside the item's name
        if _MONEY.search(t) or t in taken or _is_label(t):
            break
        if _is_button(t):
            continue
        parts.append(ln)
        if len(parts) == 2:
            break
    if not parts:
        return None
    text = "".join(_norm(p.text) for p in parts)
    corners = (parts[0].box[0], parts[0].box[1], parts[-1].box[2], parts[-1].box[3])
    return Fact("item", text, "\n".join(p.text for p in parts), corners, min(p.score for p in parts))


def _is_label(text: str) -> bool:
    for spec in labels()["facts"].values():
        if any(text.startswith(lb) for lb in spec["labels"]):
            return True
    return text in ("商品总价", "支付方式", "退款原因", "申请时间", "运费", "优惠")


def _status_line(lines: Sequence[Line]) -> Fact | None:
    statuses = labels()["facts"]["refund_status"]["statuses"]
    for ln in lines:
        t = _norm(ln.text)
        for status in sorted(statuses, key=len, reverse=True):
            if t == status or (t.startswith(status) and len(t) <= len(status) + 8):
                return Fact("refund_status", status, ln.text, ln.box, ln.score)
    return None


def page_kind(reading: Reading) -> str | None:
    """``order`` or ``refund`` when the reading is an order or after-sales page, else None."""
    spec = labels()["page"]
    texts = [_norm(ln.text) for ln in reading.lines]
    if any(t in spec["refund_titles"] or any(t.startswith(x) for x in spec["refund_titles"]) for t in texts):
        return "refund"
    if any(t in spec["titles"] for t in texts):
        return "order"
    return None


def facts_from_reading(reading: Reading, *, require_title: bool = True) -> OrderFacts:
    """The order facts of one reading: order number, amount paid, shop, item, order time, refund
    status, each with its box. A reading that shows none of the order-page titles gives none
    (``require_title=False`` reads it anyway)."""
    page = page_kind(reading)
    if page is None and require_title:
        return OrderFacts(None, None, ())
    lines = sorted(reading.lines, key=lambda ln: (round(ln.top), ln.left))
    platform = _platform(lines)
    found: dict[str, Fact] = {}
    for name in ("order_id", "amount", "order_time", "merchant", "item", "refund_status"):
        fact = _by_label(name, lines, platform)
        if fact is not None:
            found[name] = fact
    card = _merchant_by_suffix(lines)  # the shop's name on the item card, above the item
    if "merchant" not in found and card is not None:
        found["merchant"] = card
    if "item" not in found:
        item = _item_after(card, lines, {f.text for f in found.values()}, reading.width)
        if item is not None:
            found["item"] = item
    if "refund_status" not in found and page == "refund":
        status = _status_line(lines)
        if status is not None:
            found["refund_status"] = status
    facts = tuple(found[n] for n in FACTS if n in found)
    return OrderFacts(page, platform, facts)


def dispute_fields(facts: OrderFacts) -> dict[str, Fact]:
    """The dispute fields these facts can fill (``purchased_on`` from the order time's date; the
    platform when the page named its app), each with the fact it comes from."""
    out: dict[str, Fact] = {}
    for fact in facts.facts:
        field = DISPUTE_FIELD.get(fact.name)
        if field == "purchased_on":
            out[field] = Fact(fact.name, fact.value[:10], fact.text, fact.box, fact.score)
        elif field:
            out[field] = fact
    if facts.platform and facts.facts:
        out["platform"] = Fact("platform", facts.platform, facts.platform, (), 1.0)
    return out
