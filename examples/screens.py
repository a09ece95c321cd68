"""Draw phone screenshots the way shopping and chat apps lay them out: chats (bubbles left and
right, centred grey time separators) and order / after-sales pages of Taobao/Tmall, JD,
Pinduoduo, Xiaohongshu and Douyin. Everything is drawn here with Pillow and a CJK TrueType font
(WenQuanYi Micro Hei); no third-party picture is used.

The sample dispute (examples/make_evidence.py), the OCR tests and benchmarks/bench_ocr_accuracy.py
draw their pictures with these functions, so that what is tested is what the demo shows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

FONT_PATH = os.environ.get("LOCKER_TEST_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

WHITE, PAGE, GREY, DARK, LINE = (255, 255, 255), (245, 245, 245), (150, 150, 150), (30, 30, 30), (230, 230, 230)

# Bubble colours of the user's own messages, by app.
ME_COLOURS = {"wechat": (149, 236, 105), "taobao": (255, 226, 207), "jd": (255, 236, 236), "pinduoduo": (255, 230, 228),
              "xiaohongshu": (255, 240, 242), "douyin": (225, 238, 255)}
ACCENT = {"taobao": (255, 80, 0), "jd": (228, 57, 60), "pinduoduo": (224, 46, 36), "xiaohongshu": (255, 36, 66),
          "douyin": (22, 24, 35), "wechat": (7, 193, 96)}


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_PATH, size, index=0)


def _wrap(text: str, fnt: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines, current = [], ""
    for ch in text:
        if fnt.getlength(current + ch) > width and current:
            lines.append(current)
            current = ch.lstrip() if ch == " " else ch
        else:
            current += ch
    if current:
        lines.append(current)
    return lines


# --------------------------------------------------------------------------- chats


@dataclass(frozen=True)
class Said:
    """One item of a drawn chat: ``side`` is ``me``, ``them``, ``time`` (a separator) or ``system``."""

    side: str
    text: str


def chat_items(rows: Sequence[tuple[str, str]]) -> list[Said]:
    return [Said(side, text) for side, text in rows]


def chat_screenshot(items: Sequence[Said], *, title: str, app: str = "wechat", width: int = 1080,
                    height: int | None = None, clock: str = "15:40") -> Image.Image:
    """A chat screen: status bar, title bar with the other party's name, the items, an input bar.
    ``height`` None makes it as tall as the items need (a long screenshot)."""
    s = width / 1080
    size, small = round(42 * s), round(32 * s)
    body_font, small_font = font(size), font(small)
    avatar = round(100 * s)
    margin = round(30 * s)
    pad_x, pad_y = round(30 * s), round(22 * s)
    max_text = width * 0.60
    line_h = round(size * 1.35)
    header_h, footer_h = round(250 * s), round(170 * s)

    # Lay out first, to know the height.
    blocks: list[tuple[Said, list[str], int]] = []
    y = header_h + round(30 * s)
    for item in items:
        if item.side in ("time", "system"):
            h = round(small * 1.6)
            blocks.append((item, [item.text], y))
            y += h + round(30 * s)
        else:
            lines = _wrap(item.text, body_font, max_text)
            h = len(lines) * line_h + 2 * pad_y
            blocks.append((item, lines, y))
            y += max(h, avatar) + round(40 * s)
    full = y + footer_h
    h_total = height or full
    img = Image.new("RGB", (width, h_total), (237, 237, 237))
    d = ImageDraw.Draw(img)
    # Status bar and title bar.
    d.rectangle([0, 0, width, header_h], fill=(247, 247, 247))
    d.text((margin * 2, round(40 * s)), clock, font=small_font, fill=DARK)
    d.text((width - margin * 2 - small_font.getlength("100%"), round(40 * s)), "100%", font=small_font, fill=DARK)
    d.text((margin * 2, round(150 * s)), "<", font=font(round(50 * s)), fill=DARK)
    tw = font(round(44 * s)).getlength(title)
    d.text(((width - tw) / 2, round(150 * s)), title, font=font(round(44 * s)), fill=DARK)
    d.line([0, header_h, width, header_h], fill=(215, 215, 215), width=2)
    me_colour = ME_COLOURS.get(app, ME_COLOURS["wechat"])
    for item, lines, top in blocks:
        if top > h_total - footer_h:
            break
        if item.side in ("time", "system"):
            tw = small_font.getlength(item.text)
            if item.side == "system":
                d.rounded_rectangle([(width - tw) / 2 - 20 * s, top - 8 * s, (width + tw) / 2 + 20 * s, top + small * 1.3],
                                    radius=round(10 * s), fill=(218, 218, 218))
            d.text(((width - tw) / 2, top), item.text, font=small_font, fill=GREY if item.side == "time" else (110, 110, 110))
            continue
        text_w = max(body_font.getlength(ln) for ln in lines)
        bw, bh = text_w + 2 * pad_x, len(lines) * line_h + 2 * pad_y
        if item.side == "them":
            ax = margin
            bx = ax + avatar + round(20 * s)
            colour = WHITE
            d.rounded_rectangle([ax, top, ax + avatar, top + avatar], radius=round(12 * s), fill=(120, 160, 220))
        else:
            ax = width - margin - avatar
            bx = ax - round(20 * s) - bw
            colour = me_colour
            d.rounded_rectangle([ax, top, ax + avatar, top + avatar], radius=round(12 * s), fill=(240, 180, 80))
        d.rounded_rectangle([bx, top, bx + bw, top + bh], radius=round(14 * s), fill=colour)
        for k, ln in enumerate(lines):
            d.text((bx + pad_x, top + pad_y + k * line_h), ln, font=body_font, fill=DARK)
    # Input bar.
    d.rectangle([0, h_total - footer_h, width, h_total], fill=(247, 247, 247))
    d.rounded_rectangle([margin * 3, h_total - footer_h + 30 * s, width - 200 * s, h_total - 40 * s],
                        radius=round(12 * s), fill=WHITE)
    d.rounded_rectangle([width - 170 * s, h_total - footer_h + 30 * s, width - margin, h_total - 40 * s],
                        radius=round(12 * s), fill=ACCENT.get(app, ACCENT["wechat"]))
    d.text((width - 145 * s, h_total - footer_h + 45 * s), "发送", font=font(round(38 * s)), fill=WHITE)
    return img


# --------------------------------------------------------------------------- order pages


class _Recording:
    """An ImageDraw that notes every text it draws."""

    def __init__(self, draw: ImageDraw.ImageDraw, texts: list[str]) -> None:
        self._draw, self._texts = draw, texts

    def text(self, xy: tuple[float, float], text: str, **kw: object) -> None:
        self._texts.append(text)
        self._draw.text(xy, text, **kw)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self._draw, name)


@dataclass(frozen=True)
class Order:
    """What an order or after-sales page shows."""

    order_id: str
    amount: str           # "199.00"
    shop: str
    item: str
    ordered_at: str       # "2025-05-01 20:15:32"
    refund_status: str | None = None   # e.g. "退款成功", "商家拒绝退款"
    kind: str = "order"   # order | refund


# The labels each app prints (what the data file locker/data/order_labels.toml must know).
LAYOUTS = {
    "taobao": {"title": "订单详情", "id": "订单编号", "paid": "实付款", "time": "创建时间", "inline": False,
               "status": "交易成功", "refund_title": "退款详情", "refund_amount": "退款金额"},
    "jd": {"title": "订单详情", "id": "订单编号", "paid": "实付款", "time": "下单时间", "inline": True,
           "status": "已完成", "refund_title": "售后详情", "refund_amount": "退款金额"},
    "pinduoduo": {"title": "订单详情", "id": "订单编号", "paid": "实付", "time": "下单时间", "inline": False,
                  "status": "已签收", "refund_title": "退款详情", "refund_amount": "退款金额"},
    "xiaohongshu": {"title": "订单详情", "id": "订单号", "paid": "实付金额", "time": "下单时间", "inline": False,
                    "status": "已完成", "refund_title": "售后详情", "refund_amount": "退款金额"},
    "douyin": {"title": "订单详情", "id": "订单编号", "paid": "实付款", "time": "下单时间", "inline": True,
               "status": "已签收", "refund_title": "退款详情", "refund_amount": "退款金额"},
}


def order_screenshot(platform: str, order: Order, *, width: int = 1080, height: int = 2340,
                     clock: str = "14:22", drawn: list[str] | None = None) -> Image.Image:
    """An order page (``order.kind == "order"``) or an after-sales page (``"refund"``) in the
    layout of ``platform``: status header, shop and item card, price rows, order facts. Every text
    drawn is appended to ``drawn`` (what an OCR should read), line by line."""
    lay = LAYOUTS[platform]
    texts = drawn if drawn is not None else []
    s = width / 1080
    f_big, f_body, f_small = font(round(48 * s)), font(round(40 * s)), font(round(34 * s))
    accent = ACCENT[platform]
    img = Image.new("RGB", (width, height), PAGE)
    d = _Recording(ImageDraw.Draw(img), texts)
    m = round(48 * s)
    d.text((m, round(40 * s)), clock, font=f_small, fill=DARK)
    title = lay["refund_title"] if order.kind == "refund" else lay["title"]
    tw = f_big.getlength(title)
    d.text(((width - tw) / 2, round(140 * s)), title, font=f_big, fill=DARK)
    y = round(260 * s)
    # Status header.
    status = order.refund_status if order.refund_status else lay["status"]
    d.rectangle([0, y, width, y + round(170 * s)], fill=accent)
    d.text((m, y + round(55 * s)), status, font=font(round(52 * s)), fill=WHITE)
    y += round(210 * s)

    def card(top: int, height_px: int) -> None:
        d.rounded_rectangle([round(24 * s), top, width - round(24 * s), top + height_px], radius=round(20 * s), fill=WHITE)

    # Shop and item.
    card(y, round(360 * s))
    d.text((m, y + round(30 * s)), f"{order.shop} >", font=f_body, fill=DARK)
    d.rectangle([m, y + round(110 * s), m + round(200 * s), y + round(310 * s)], fill=(220, 220, 220))
    item_lines = _wrap(order.item, f_body, width - m * 2 - round(240 * s))[:2]
    for k, ln in enumerate(item_lines):
        d.text((m + round(230 * s), y + round(115 * s) + k * round(56 * s)), ln, font=f_body, fill=DARK)
    price = f"¥{order.amount}"
    d.text((width - m - f_body.getlength(price), y + round(250 * s)), price, font=f_body, fill=DARK)
    y += round(400 * s)

    def row(label: str, value: str, top: int, *, strong: bool = False, inline: bool = False) -> None:
        if inline:
            d.text((m, top), f"{label}：{value}", font=f_body, fill=DARK)
            return
        d.text((m, top), label, font=f_body, fill=GREY)
        fnt = f_big if strong else f_body
        d.text((width - m - fnt.getlength(value), top - (6 if strong else 0)), value, font=fnt,
               fill=accent if strong else DARK)

    gap = round(80 * s)
    if order.kind == "refund":
        card(y, round(420 * s))
        row("退款状态", order.refund_status or "退款中", y + round(30 * s))
        row(lay["refund_amount"], f"¥{order.amount}", y + round(30 * s) + gap, strong=True)
        row("退款原因", "质量问题", y + round(30 * s) + 2 * gap)
        row("申请时间", "2025-05-04 10:02:11", y + round(30 * s) + 3 * gap)
        y += round(460 * s)
        card(y, round(260 * s))
        row(lay["id"], order.order_id, y + round(30 * s), inline=lay["inline"])
        row(lay["time"], order.ordered_at, y + round(30 * s) + gap, inline=lay["inline"])
        return img
    card(y, round(260 * s))
    row("商品总价", f"¥{order.amount}", y + round(30 * s))
    row(lay["paid"], f"¥{order.amount}", y + round(30 * s) + gap + round(10 * s), strong=True)
    y += round(300 * s)
    card(y, round(360 * s))
    row(lay["id"], order.order_id, y + round(30 * s), inline=lay["inline"])
    row(lay["time"], order.ordered_at, y + round(30 * s) + gap, inline=lay["inline"])
    row("支付方式", "支付宝" if platform == "taobao" else "微信支付", y + round(30 * s) + 2 * gap, inline=lay["inline"])
    return img
