"""OCR accuracy on 30 drawn screenshots (issue 12, point 6; the speed half is bench_ocr.py).

Draws 15 order / after-sales pages (Taobao/Tmall, JD, Pinduoduo, Xiaohongshu, Douyin layouts, see
examples/screens.py) and 15 chat screenshots (Chinese, digits, ¥ amounts, mixed English), with
varied values from a fixed seed, reads each once with the real engine (locker.ocr.engine.read)
and measures what the issue asks:

* character error rate (CER): edit distance between what was drawn and what was read, over the
  characters drawn (white space ignored). For an order page every drawn line is paired with the
  read line nearest to it (a line read but never drawn counts as inserted characters); for a chat,
  the messages read are compared with the messages drawn, in order;
* order pages: the order number and the amount paid read exactly (locker.ocr.facts);
* chats: each drawn message read on the right side (me / them / system), by
  locker.ocr.chat.

Targets: CER <= 2 %; order number and amount exact on >= 95 % of the order images; sides right on
>= 98 % of the messages. Prints one row per image and the totals; exit status 1 if a target is
missed.

    .venv/bin/python benchmarks/bench_ocr_accuracy.py [--json FILE] [--save DIR] [--seed N]
        [--width 1170] [--jpeg 75]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from examples import screens as S  # noqa: E402
from locker.ocr import chat, engine, facts  # noqa: E402

SHOPS = ["优品数码旗舰店", "小米官方旗舰店", "华为京东自营旗舰店", "Anker安克数码专营店", "良品铺子官方旗舰店",
         "李宁运动专卖店", "SKII官方旗舰店", "得力文具企业店", "NIKE耐克官方旗舰店", "三只松鼠旗舰店"]
ITEMS = ["无线蓝牙耳机 降噪入耳式 珍珠白 标准版", "Redmi K70 12GB+256GB 墨羽", "AirPods Pro 2 USB-C 充电盒",
         "65W氮化镓快充充电器 Type-C", "每日坚果750g/30袋 混合装", "跑步鞋 男款 飞电3.0 42码",
         "神仙水230ml 精华液 限定版", "A4复印纸 70g 500张/包 5包", "Air Force 1 白色 低帮 40.5",
         "手撕面包1kg 早餐代餐"]
STATUSES = ["退款成功", "商家拒绝退款", "退款中", "待商家处理", "退款关闭"]
PHRASES_ME = [
    "你好，我{d}月{e}日买的{item}今天到了，有质量问题。",
    "订单编号{oid}，请尽快处理。",
    "实付款¥{amt}，我要求全额退款。",
    "拆开发现包装破损，附上开箱视频VID_{oid6}.mp4",
    "iPhone 15 连不上，Bluetooth一直搜索不到。",
    "已经按说明书重置过{n}次了，还是不行。",
    "那我只能申请平台介入，并向12315投诉了。",
    "好的，我等你们回复，今天{h}点前给我答复。",
]
PHRASES_THEM = [
    "亲，不支持退款哦",
    "亲，可能是您没有配对成功哦，可以先重置一下试试呢",
    "我们最多给您补偿{n}元红包，退款是不支持的哦",
    "亲亲，麻烦提供一下订单号和照片呢",
    "已为您登记，售后单号SH{oid6}，请耐心等待",
    "OK的亲，这边帮您申请换货，运费险已生效",
    "贴身用品拆封后不支持七天无理由退换哦~",
]
SYSTEMS = ["对方撤回了一条消息", "以下为新消息", "你撤回了一条消息"]
CLOCK = "15:40"  # the status bar's clock on the chat screenshots
SEPARATORS = ["昨天 {h}:{m}", "{d}月{e}日 {h}:{m}", "{h}:{m}", "星期三 {h}:{m}", "2025年{d}月{e}日 {h}:{m}"]


@dataclass
class Row:
    image: str
    kind: str
    chars: int
    errors: int
    order_id_ok: bool | None = None
    amount_ok: bool | None = None
    messages: int = 0
    sides_right: int = 0
    seconds: float = 0.0

    @property
    def cer(self) -> float:
        return self.errors / self.chars if self.chars else 0.0


def distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def squash(text: str) -> str:
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", text).split())


def line_errors(drawn: list[str], read: list[str]) -> tuple[int, int]:
    """(characters drawn, errors): each drawn line against the read line nearest to it, each read
    line used once; lines read but never drawn count as inserted characters."""
    left = [squash(t) for t in read if squash(t)]
    chars = errors = 0
    for text in (squash(t) for t in drawn):
        if not text:
            continue
        chars += len(text)
        if not left:
            errors += len(text)
            continue
        best = min(range(len(left)), key=lambda k: distance(text, left[k]) / max(len(text), 1))
        errors += distance(text, left[best])
        left.pop(best)
    errors += sum(len(t) for t in left)
    return chars, errors


def make_order(rng: random.Random, k: int) -> tuple[str, S.Order]:
    platform = list(S.LAYOUTS)[k % 5]
    oid = str(rng.randint(10**14, 10**19 - 1))
    amount = f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}"
    when = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    kind = "refund" if k % 3 == 2 else "order"
    status = rng.choice(STATUSES) if kind == "refund" else None
    return platform, S.Order(oid, amount, rng.choice(SHOPS), rng.choice(ITEMS), when, status, kind)


def make_chat(rng: random.Random) -> tuple[str, list[tuple[str, str]]]:
    values = {"d": rng.randint(1, 12), "e": rng.randint(1, 28), "item": rng.choice(ITEMS)[:8],
              "oid": str(rng.randint(10**14, 10**16)), "amt": f"{rng.randint(10, 2999)}.{rng.randint(0, 99):02d}",
              "n": rng.randint(2, 50), "h": rng.randint(10, 23)}
    values["oid6"] = values["oid"][-6:]
    items: list[tuple[str, str]] = []
    for _ in range(rng.randint(6, 8)):
        r = rng.random()
        if r < 0.12 or not items:
            items.append(("time", rng.choice(SEPARATORS).format(**values, m=f"{rng.randint(0, 59):02d}")))
        elif r < 0.18:
            items.append(("system", rng.choice(SYSTEMS)))
        elif r < 0.6:
            items.append(("me", rng.choice(PHRASES_ME).format(**values)))
        else:
            items.append(("them", rng.choice(PHRASES_THEM).format(**values)))
    return rng.choice(SHOPS), items


WIDTH, JPEG = 1080, 0  # set from --width and --jpeg


def shot(img: Any) -> Any:
    """The picture as a phone would keep it: PNG as drawn, or JPEG at --jpeg quality."""
    if not JPEG:
        return img
    from PIL import Image

    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=JPEG)
    return Image.open(io.BytesIO(buf.getvalue()))


def run_order(name: str, platform: str, order: S.Order, save: Path | None) -> Row:
    drawn: list[str] = []
    img = shot(S.order_screenshot(platform, order, drawn=drawn, width=WIDTH, height=round(WIDTH * 2340 / 1080)))
    if save:
        img.save(save / f"{name}.png")
    start = time.perf_counter()
    reading = engine.read(img)
    seconds = time.perf_counter() - start
    chars, errors = line_errors(drawn, [ln.text for ln in reading.lines])
    got = {f.name: f.value for f in facts.facts_from_reading(reading).facts}
    return Row(name, f"{platform} {order.kind}", chars, errors, got.get("order_id") == order.order_id,
               got.get("amount") == order.amount, seconds=seconds)


def run_chat(name: str, title: str, items: list[tuple[str, str]], app: str, save: Path | None) -> Row:
    img = shot(S.chat_screenshot(S.chat_items(items), title=title, app=app, width=WIDTH,
                                 height=round(WIDTH * 2340 / 1080), clock=CLOCK))
    if save:
        img.save(save / f"{name}.png")
    start = time.perf_counter()
    reading = engine.read(img)
    seconds = time.perf_counter() - start
    drawn = [(side, text) for side, text in items if side != "time"]
    read = list(chat.transcript_of(reading).messages)
    # Characters: every message drawn against the one read in its place (aligned by text).
    matcher = SequenceMatcher(None, [squash(t) for _, t in drawn], [squash(m.text) for m in read], autojunk=False)
    chars = sum(len(squash(t)) for _, t in drawn)
    errors = 0
    sides_right = 0
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            sides_right += sum(1 for k in range(a1 - a0) if drawn[a0 + k][0] == read[b0 + k].side)
            continue
        for k in range(max(a1 - a0, b1 - b0)):
            want = drawn[a0 + k] if a0 + k < a1 else None
            got = read[b0 + k] if b0 + k < b1 else None
            errors += distance(squash(want[1]) if want else "", squash(got.text) if got else "")
            if want and got and want[0] == got.side:
                sides_right += 1
    # The separators are read too (and the status bar's clock, also a time): their characters count as well.
    seps = [CLOCK] + [t for side, t in items if side == "time"]
    sep_read = [ln.text for ln in reading.lines if chat.is_time_line(ln.text)]
    c2, e2 = line_errors(seps, sep_read) if seps else (0, 0)
    return Row(name, f"chat {app}", chars + c2, errors + e2, messages=len(drawn), sides_right=sides_right,
               seconds=seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the rows and totals here")
    parser.add_argument("--save", type=Path, help="save the drawn screenshots in this folder")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--width", type=int, default=1080, help="screen width in pixels (1170: iPhone 13-15)")
    parser.add_argument("--jpeg", type=int, default=0, help="keep each picture as a JPEG of this quality first")
    args = parser.parse_args()
    global WIDTH, JPEG
    WIDTH, JPEG = args.width, args.jpeg
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    rows: list[Row] = []
    engine.read(S.chat_screenshot([], title="warm-up", height=400))  # load the models outside the timing
    for k in range(15):
        platform, order = make_order(rng, k)
        rows.append(run_order(f"order-{k:02d}", platform, order, args.save))
        print_row(rows[-1])
    apps = ["wechat", "taobao", "jd", "pinduoduo", "xiaohongshu", "douyin"]
    for k in range(15):
        title, items = make_chat(rng)
        rows.append(run_chat(f"chat-{k:02d}", title, items, apps[k % len(apps)], args.save))
        print_row(rows[-1])
    orders = [r for r in rows if r.order_id_ok is not None]
    chars, errors = sum(r.chars for r in rows), sum(r.errors for r in rows)
    cer = errors / chars
    ids = sum(r.order_id_ok for r in orders) / len(orders)
    amounts = sum(r.amount_ok for r in orders) / len(orders)
    both = sum(bool(r.order_id_ok and r.amount_ok) for r in orders) / len(orders)
    messages = sum(r.messages for r in rows)
    sides = sum(r.sides_right for r in rows) / messages
    print()
    print(f"images {len(rows)}  characters {chars}  errors {errors}  CER {cer:.2%} (target <= 2 %)")
    print(f"order pages {len(orders)}: order number exact {ids:.0%}, amount exact {amounts:.0%}, "
          f"both {both:.0%} (target >= 95 %)")
    print(f"chat messages {messages}: side right {sides:.1%} (target >= 98 %)")
    print(f"OCR time {sum(r.seconds for r in rows):.1f} s in all, {max(r.seconds for r in rows):.1f} s at most")
    ok = cer <= 0.02 and both >= 0.95 and sides >= 0.98
    if args.json:
        args.json.write_text(json.dumps({"rows": [asdict(r) for r in rows], "cer": cer, "order_ids": ids,
                                         "amounts": amounts, "sides": sides, "ok": ok}, ensure_ascii=False, indent=2))
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


def print_row(r: Row) -> None:
    facts_col = "" if r.order_id_ok is None else f"id {'ok' if r.order_id_ok else 'WRONG'}  ¥ {'ok' if r.amount_ok else 'WRONG'}"
    sides = f"sides {r.sides_right}/{r.messages}" if r.messages else ""
    print(f"{r.image:<9} {r.kind:<18} chars {r.chars:>4}  errors {r.errors:>3}  CER {r.cer:6.2%}  "
          f"{facts_col:<18}{sides:<12} {r.seconds:5.1f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
