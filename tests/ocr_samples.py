"""Screenshots drawn for the OCR tests and benchmarks/bench_ocr.py: what a phone would capture of a
shopping app's chat or order page, with the CJK font the pack uses (WenQuanYi Micro Hei).

Every drawing is deterministic for its ``seed`` and returns the text it drew (:class:`Drawn`), line by
line with the box of each line, so that a caller can compare what OCR read with what is there. Pillow
only; nothing here imports locker except the font finder.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

PHONE = (1170, 2532)  # an iPhone 12–14 screenshot
BUBBLE_ME = (149, 236, 105)
BUBBLE_OTHER = (255, 255, 255)
BACKGROUND = (237, 237, 237)

PHRASES = (
    "你好，收到的耳机左耳没有声音",
    "亲，不支持退款哦",
    "已经按说明书重置过了",
    "我们最多补偿5元红包",
    "请提供开箱视频",
    "商品到手就是坏的",
    "申请平台介入",
    "物流显示已签收",
    "质量问题应当退货退款",
    "亲，可以联系厂家售后",
    "七天无理由退货",
    "AirPods Pro 2 充电盒坏了",
)


@dataclass(frozen=True)
class DrawnLine:
    text: str
    box: tuple[int, int, int, int]  # left, top, right, bottom in the picture's pixels


@dataclass
class Drawn:
    path: Path
    width: int
    height: int
    lines: list[DrawnLine] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@cache
def font_file() -> tuple[str, int]:
    """The CJK TrueType font (file, face index) the pack would use."""
    from locker.report.fonts import find

    choice = find()
    return str(choice.path), choice.index


@cache
def _font(size: int) -> Any:
    from PIL import ImageFont

    path, index = font_file()
    return ImageFont.truetype(path, size, index=index)


def _write(draw: Any, drawn: Drawn, xy: tuple[int, int], text: str, size: int, fill: tuple[int, int, int]) -> None:
    font = _font(size)
    draw.text(xy, text, fill=fill, font=font)
    left, top, right, bottom = draw.textbbox(xy, text, font=font)
    drawn.lines.append(DrawnLine(text, (left, top, right, bottom)))


def order_number(seed: int) -> str:
    """An 18-digit order number like Taobao's, fixed by the seed."""
    rng = random.Random(f"order-{seed}")
    return "2505" + "".join(rng.choice("0123456789") for _ in range(14))


def chat_screenshot(path: Path, seed: int = 0, size: tuple[int, int] = PHONE, *,
                    order_no: str | None = None) -> Drawn:
    """A chat with a shop's customer service: status bar, title bar, time separators, bubbles on the
    left (the shop) and on the right (the user, green), an order card; saved as PNG at ``path``."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", (w, h), BACKGROUND)
    d = ImageDraw.Draw(img)
    drawn = Drawn(Path(path), w, h)
    d.rectangle((0, 0, w, 250), fill=(247, 247, 247))
    _write(d, drawn, (60, 40), f"{9 + seed % 12}:{seed % 60:02d}", 40, (0, 0, 0))
    _write(d, drawn, (w // 2 - 200, 150), "优品数码旗舰店", 50, (0, 0, 0))
    y = 300
    order_no = order_no or order_number(seed)
    card_done = False
    while y < h - 300:
        if rng.random() < 0.2:
            stamp = f"5月{1 + seed % 28}日 {10 + rng.randrange(12)}:{rng.randrange(60):02d}"
            _write(d, drawn, (w // 2 - 130, y), stamp, 34, (150, 150, 150))
            y += 90
            continue
        if not card_done and y > h // 3:
            d.rounded_rectangle((60, y, w - 60, y + 260), 20, fill=(255, 255, 255))
            _write(d, drawn, (100, y + 30), f"订单编号：{order_no}", 40, (40, 40, 40))
            _write(d, drawn, (100, y + 100), "实付款：¥199.00", 40, (40, 40, 40))
            _write(d, drawn, (100, y + 170), "无线降噪耳机 Pro 白色", 40, (40, 40, 40))
            y += 320
            card_done = True
            continue
        mine = rng.random() < 0.5
        text = rng.choice(PHRASES)
        font = _font(44)
        text_w = int(d.textlength(text, font=font))
        bubble_w = text_w + 64
        x0 = w - 180 - bubble_w if mine else 180
        d.rounded_rectangle((x0, y, x0 + bubble_w, y + 110), 18, fill=BUBBLE_ME if mine else BUBBLE_OTHER)
        avatar_x = w - 150 if mine else 40
        d.rounded_rectangle((avatar_x, y, avatar_x + 110, y + 110), 12,
                            fill=(90, 140, 220) if mine else (230, 120, 60))
        _write(d, drawn, (x0 + 32, y + 30), text, 44, (20, 20, 20))
        y += 110 + rng.randint(40, 80)
    d.rectangle((0, h - 200, w, h), fill=(247, 247, 247))
    img.save(path, "PNG")
    return drawn


def long_screenshot(path: Path, seed: int = 0, width: int = 1080, screens: int = 3) -> Drawn:
    """A long (scrolling) screenshot: ``screens`` chat screens stacked into one tall PNG, taller than
    2.5 × its width, so that the slice plan cuts it."""
    from PIL import Image

    parts = []
    drawn = Drawn(Path(path), width, 0)
    top = 0
    for i in range(screens):
        part_path = Path(path).with_name(f".part-{seed}-{i}.png")
        part = chat_screenshot(part_path, seed * 100 + i, (width, 2200))
        parts.append(Image.open(part_path).convert("RGB"))
        drawn.lines += [DrawnLine(line.text, (line.box[0], line.box[1] + top, line.box[2], line.box[3] + top))
                        for line in part.lines]
        top += 2200
        part_path.unlink()
    whole = Image.new("RGB", (width, top), BACKGROUND)
    for i, part in enumerate(parts):
        whole.paste(part, (0, i * 2200))
    whole.save(path, "PNG")
    drawn.height = top
    return drawn


def scanned_pdf(path: Path, seed: int = 0, pages: int = 1) -> list[Drawn]:
    """A PDF of pictures only (a scan, a 'print to PDF' of a screenshot): no text layer, one drawn
    page per picture."""
    from PIL import Image

    drawn: list[Drawn] = []
    images = []
    for i in range(pages):
        shot = Path(path).with_name(f".page-{seed}-{i}.png")
        drawn.append(chat_screenshot(shot, seed * 10 + i, (1000, 1400)))
        images.append(Image.open(shot).convert("RGB"))
        shot.unlink()
    images[0].save(path, "PDF", resolution=150.0, save_all=True, append_images=images[1:])
    return drawn
