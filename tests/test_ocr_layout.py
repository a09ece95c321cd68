"""The layout logic of chat screenshots and order pages, on readings made by hand (no OCR here:
tests/test_ocr_chat.py reads drawn screenshots with the real engine)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from locker.ocr import chat, facts
from locker.ocr.engine import Line, Reading

CST = timezone(timedelta(hours=8))
W, H = 1080, 2340
CAPTURED = datetime(2025, 5, 4, 9, 30, tzinfo=CST)  # a Sunday


def line(text: str, left: float, top: float, right: float | None = None, height: float = 50,
         score: float = 0.99) -> Line:
    right = left + 40 * len(text) if right is None else right
    return Line(text, ((left, top), (right, top), (right, top + height), (left, top + height)), score)


def centred(text: str, top: float, width: int = W) -> Line:
    w = 30 * len(text)
    return line(text, (width - w) / 2, top, (width + w) / 2, 45)


def them(text: str, top: float) -> Line:
    return line(text, 178, top)


def mine(text: str, top: float) -> Line:
    return line(text, 905 - 40 * len(text), top, 905)


def reading(*lines: Line, width: int = W, height: int = H) -> Reading:
    return Reading("hand", width, height, tuple(sorted(lines, key=lambda ln: (ln.top, ln.left))))


def chrome() -> list[Line]:
    """Status bar, title bar, input bar."""
    return [line("15:40", 50, 35, 150), line("100%", 930, 35, 1030), centred("优品数码旗舰店", 150),
            line("发送", 925, 2205, 1020)]


def test_sides_bubbles_and_separators() -> None:
    r = reading(*chrome(), centred("昨天 15:20", 280),
                mine("你好，我5月1日买的无线蓝牙耳", 380), line("机今天到了，左耳没有声音。", 305, 438, 825),
                them("亲，不支持退款哦", 570), centred("15:21", 690), them("可以先重置一下试试呢", 780),
                centred("对方撤回了一条消息", 900), mine("好", 1000))
    t = chat.transcript_of(r, CAPTURED)
    assert t.is_chat and t.title == "优品数码旗舰店"
    got = [(m.side, m.text, m.at) for m in t.messages]
    assert got == [
        ("me", "你好，我5月1日买的无线蓝牙耳机今天到了，左耳没有声音。", "2025-05-03T15:20:00+08:00"),
        ("them", "亲，不支持退款哦", "2025-05-03T15:20:00+08:00"),
        ("them", "可以先重置一下试试呢", "2025-05-04T15:21:00+08:00"),
        ("system", "对方撤回了一条消息", "2025-05-04T15:21:00+08:00"),
        ("me", "好", "2025-05-04T15:21:00+08:00"),
    ]
    assert t.messages[0].lines == 2 and t.messages[0].me and t.messages[3].kind == "service"


def test_two_bubbles_of_one_side_stay_apart() -> None:
    r = reading(*chrome(), them("第一条", 400), them("第二条", 520), mine("收到", 640))
    assert [m.text for m in chat.transcript_of(r).messages] == ["第一条", "第二条", "收到"]


@pytest.mark.parametrize(("text", "expected"), [
    ("15:21", "2025-05-04T15:21:00+08:00"),
    ("今天 08:05", "2025-05-04T08:05:00+08:00"),
    ("昨天 15:21", "2025-05-03T15:21:00+08:00"),
    ("昨天15:21", "2025-05-03T15:21:00+08:00"),
    ("前天 23:59", "2025-05-02T23:59:00+08:00"),
    ("5月3日 15:21", "2025-05-03T15:21:00+08:00"),
    ("12月30日 10:00", "2024-12-30T10:00:00+08:00"),  # later than the capture in its year: the year before
    ("2025年5月3日 15:21", "2025-05-03T15:21:00+08:00"),
    ("2023年1月2日 下午3:05", "2023-01-02T15:05:00+08:00"),
    ("2025-05-03 15:21", "2025-05-03T15:21:00+08:00"),
    ("星期三 15:21", "2025-04-30T15:21:00+08:00"),
    ("周日 09:00", "2025-04-27T09:00:00+08:00"),  # the capture is a Sunday: the one before
    ("下午3:21", "2025-05-04T15:21:00+08:00"),
    ("晚上11:02", "2025-05-04T23:02:00+08:00"),
    ("凌晨12:30", "2025-05-04T00:30:00+08:00"),
    ("１５：２１", "2025-05-04T15:21:00+08:00"),  # full-width, as OCR may read it
])
def test_separators_resolve_against_the_capture_time(text: str, expected: str) -> None:
    assert chat.is_time_line(text)
    found = chat.parse_separator(text, CAPTURED)
    assert found is not None and found.isoformat() == expected


@pytest.mark.parametrize("text", ["对方撤回了一条消息", "25:10", "13月3日 10:00", "价格 15:21", "订单编号250501"])
def test_what_is_no_separator(text: str) -> None:
    assert chat.parse_separator(text, CAPTURED) is None


def test_without_a_capture_time_only_full_dates_resolve() -> None:
    assert chat.parse_separator("昨天 15:21", None) is None
    found = chat.parse_separator("2025年5月3日 15:21", None)
    assert found is not None and found.isoformat() == "2025-05-03T15:21:00"


def test_an_order_page_is_no_chat() -> None:
    rows = [("订单编号", "250501123456789"), ("实付款", "¥199.00"), ("下单时间", "2025-05-01 20:15:32"),
            ("支付方式", "支付宝"), ("商品总价", "¥199.00")]
    lines = [centred("订单详情", 150), line("优品数码旗舰店 >", 48, 480)]
    for k, (label, value) in enumerate(rows):
        lines += [line(label, 48, 900 + 90 * k), line(value, 1032 - 32 * len(value), 900 + 90 * k, 1032)]
    assert not chat.transcript_of(reading(*lines)).is_chat


def test_a_page_of_text_is_no_chat() -> None:
    r = reading(*[line("这是一段很长的说明文字，从左边一直写到右边为止。", 40, 300 + 60 * k, 1040) for k in range(10)])
    assert not chat.transcript_of(r).is_chat


def test_a_long_screenshot_in_overlapping_slices_is_one_transcript() -> None:
    """Slices 0–2400 and 2300–4800 overlap by 100 px: a bubble in the overlap is read twice, kept once."""
    whole = [centred("优品数码旗舰店", 150)]
    texts = [f"第{k}条消息" for k in range(18)]
    for k, text in enumerate(texts):
        whole.append(them(text, 300 + 250 * k) if k % 2 else mine(text, 300 + 250 * k))
    whole.append(line("发送", 925, 4700, 1020))

    def cut(top: float, bottom: float) -> chat.Page:
        inside = [ln for ln in whole if ln.top >= top and ln.bottom <= bottom]
        moved = [Line(ln.text, tuple((x, y - top) for x, y in ln.box), ln.score) for ln in inside]  # type: ignore[misc]
        return chat.Page(Reading("hand", W, int(bottom - top), tuple(moved)), top, 4800)

    pages = [cut(0, 2400), cut(2300, 4800)]
    overlap = [ln.text for ln in whole if ln.top >= 2300 and ln.bottom <= 2400]
    assert overlap, "the test needs a bubble inside the overlap"
    msgs = chat.messages_from_readings([pages])
    assert [m.text for m in msgs] == texts
    assert [m.side for m in msgs] == ["me" if k % 2 == 0 else "them" for k in range(18)]
    assert msgs[-1].box[1] == 300 + 250 * 17  # boxes in the whole picture's coordinates


def _shot(items: list[tuple[str, str]]) -> Reading:
    lines = [centred("优品数码旗舰店", 150)]
    top = 300
    for side, text in items:
        lines.append(centred(text, top) if side == "time" else them(text, top) if side == "them" else mine(text, top))
        top += 150
    return reading(*lines)


def test_screenshots_of_one_conversation_merge_in_time_order_without_duplicates() -> None:
    first = _shot([("time", "昨天 15:20"), ("me", "耳机左耳没声音"), ("them", "亲，不支持退款哦"), ("me", "为什么"),
                   ("them", "贴身用品不退")])
    second = _shot([("them", "亲，不支持退款哦"), ("me", "为什么"), ("them", "贴身用品不退"), ("time", "昨天 15:30"),
                    ("them", "补偿5元红包"), ("me", "不接受")])
    third = _shot([("time", "16:02"), ("me", "我要投诉"), ("them", "好的")])
    # Given out of order: the merge puts them in time order.
    msgs = chat.messages_from_readings([third, second, first], [CAPTURED] * 3, ids=[7, 6, 5])
    assert [m.text for m in msgs] == ["耳机左耳没声音", "亲，不支持退款哦", "为什么", "贴身用品不退", "补偿5元红包", "不接受",
                                      "我要投诉", "好的"]
    assert [m.shot for m in msgs] == [5, 5, 5, 5, 6, 6, 7, 7]
    assert msgs[4].at == "2025-05-03T15:30:00+08:00" and msgs[6].at == "2025-05-04T16:02:00+08:00"


def test_a_message_said_twice_in_one_screenshot_is_kept_twice() -> None:
    msgs = chat.messages_from_readings([_shot([("me", "在吗"), ("them", "在"), ("me", "在吗")])])
    assert [m.text for m in msgs] == ["在吗", "在", "在吗"]


# --------------------------------------------------------------------------- order facts


def _order(rows: list[tuple[str, str | None]], title: str = "订单详情", shop: str | None = "优品数码旗舰店 >",
           item: str | None = "无线蓝牙耳机 珍珠白") -> Reading:
    lines = [centred(title, 140), line("14:22", 40, 35, 140)]
    if shop:
        lines.append(line(shop, 48, 500))
    if item:
        lines.append(line(item, 270, 585))
        lines.append(line("¥199.00", 880, 715, 1040))
    for k, (label, value) in enumerate(rows):
        top = 900 + 90 * k
        if value is None:
            lines.append(line(label, 48, top))
        else:
            lines += [line(label, 48, top), line(value, 1032 - 32 * len(value), top, 1032)]
    return reading(*lines)


@pytest.mark.parametrize(("platform", "id_label", "paid_label", "time_label"), [
    ("taobao", "订单编号", "实付款", "创建时间"),
    ("jd", "订单号", "实付金额", "下单时间"),
    ("pinduoduo", "订单编号", "实付", "下单时间"),
    ("xiaohongshu", "订单号", "实付金额", "下单时间"),
    ("douyin", "订单编号", "实付款", "成交时间"),
])
def test_order_facts_by_label_on_the_same_row(platform: str, id_label: str, paid_label: str, time_label: str) -> None:
    r = _order([("商品总价", "¥219.00"), (paid_label, "¥199.00"), (id_label, "250501123456789"),
                (time_label, "2025-05-01 20:15:32"), ("复制", None)])
    found = facts.facts_from_reading(r)
    assert found.page == "order"
    got = {f.name: f.value for f in found.facts}
    assert got == {"order_id": "250501123456789", "amount": "199.00", "merchant": "优品数码旗舰店",
                   "item": "无线蓝牙耳机 珍珠白", "order_time": "2025-05-01 20:15:32"}
    amount = found.get("amount")
    assert amount is not None and amount.box[0][1] == 900 + 90  # the box of the line it came from


def test_order_facts_inline_and_below() -> None:
    r = reading(centred("订单详情", 140), line("订单编号：2505 0112 3456 789 复制", 48, 900),
                line("下单时间：2025/05/01 20:15", 48, 990), line("实付款", 48, 1080), line("￥1,299.5", 48, 1135),
                line("店铺：京东自营", 48, 1250))
    got = {f.name: f.value for f in facts.facts_from_reading(r).facts}
    assert got == {"order_id": "250501123456789", "order_time": "2025-05-01 20:15:00", "amount": "1299.50",
                   "merchant": "京东自营"}


def test_refund_page_status_and_amount() -> None:
    r = _order([("退款金额", "¥199.00"), ("订单编号", "250501123456789")], title="退款详情", item=None)
    r = reading(*r.lines, line("商家拒绝退款", 48, 300))
    found = facts.facts_from_reading(r)
    assert found.page == "refund"
    got = {f.name: f.value for f in found.facts}
    assert got["refund_status"] == "商家拒绝退款" and got["amount"] == "199.00" and got["order_id"] == "250501123456789"


def test_a_chat_is_no_order_page() -> None:
    r = reading(centred("优品数码旗舰店", 150), them("订单号多少", 400), mine("250501123456789", 520))
    assert facts.facts_from_reading(r).facts == ()


def test_the_labels_are_data() -> None:
    data = facts.labels()
    assert set(data["platforms"]) == {"taobao", "jd", "pinduoduo", "xiaohongshu", "douyin"}
    assert {"订单编号", "订单号"} <= set(data["facts"]["order_id"]["labels"])
    assert {"实付款", "实付", "合计", "实付金额"} <= set(data["facts"]["amount"]["labels"])


def test_dispute_fields_from_facts() -> None:
    from locker.services.ocrchat import fields_from_facts

    r = _order([("实付款", "¥199.00"), ("订单编号", "250501123456789"), ("下单时间", "2025-05-01 20:15:32")])
    found = facts.facts_from_reading(r)
    stored = {"platform": None, "facts": [f.as_dict() for f in found.facts]}
    fill, skipped = fields_from_facts(stored, {"merchant": "我自己写的店名", "amount": None, "order_id": ""})
    assert {k: v["value"] for k, v in fill.items()} == {"order_id": "250501123456789", "amount": "199.00",
                                                        "item": "无线蓝牙耳机 珍珠白", "purchased_on": "2025-05-01"}
    assert skipped == {"merchant": ("我自己写的店名", "优品数码旗舰店")}
    assert fill["amount"]["text"] == "¥199.00" and len(fill["amount"]["box"]) == 4


def test_a_bubble_whose_lines_sit_near_the_middle_is_still_a_bubble() -> None:
    """As rapidocr read a drawn right-hand bubble: the first line's box ends short of the margin
    (its last character is a comma) and the second line is nearly centred."""
    r = reading(*chrome(), them("亲，可能是您没有配对成功哦", 1113), line("已经按说明书长按10秒重置过了，", 263, 1395, 875),
                line("右耳正常，左耳没有任何反应。", 261, 1452, 830), line("那我只能申请平台介入，并向1231", 254, 1788, 904),
                line("5投诉了。", 253, 1845, 433))
    got = [(m.side, m.text) for m in chat.transcript_of(r).messages]
    assert got == [("them", "亲，可能是您没有配对成功哦"), ("me", "已经按说明书长按10秒重置过了，右耳正常，左耳没有任何反应。"),
                   ("me", "那我只能申请平台介入，并向12315投诉了。")]  # a wrapped number stays whole


def test_a_line_cut_by_a_slice_edge_gives_way_to_the_whole_one() -> None:
    whole = mine("第二行完整的文字", 2380)  # crosses the first slice's bottom edge (2400)
    first = chat.Page(Reading("hand", W, 2400, (centred("优品数码旗舰店", 150), them("上面一条", 2200),
                                                 line("第二行完整", 585, 2380, 905, 18.5, 1.0))), 0, 4000)
    moved = Line(whole.text, tuple((x, y - 2300) for x, y in whole.box), 0.9)  # type: ignore[arg-type]
    second = chat.Page(Reading("hand", W, 1700, (moved,)), 2300, 4000)
    lines, _, _ = chat.placed_lines([first, second])
    assert [ln.text for ln in lines] == ["优品数码旗舰店", "上面一条", "第二行完整的文字"]


def test_a_screenshot_of_one_sides_messages_is_still_a_chat() -> None:
    only_mine = reading(*chrome(), centred("16:02", 280), mine("在吗", 380), mine("请尽快处理退款", 500),
                        line("订单编号591063771977982，", 257, 620, 905), line("请尽快处理。", 257, 678, 520))
    t = chat.transcript_of(only_mine, CAPTURED)
    assert t.is_chat and [m.side for m in t.messages] == ["me", "me", "me"]
    only_theirs = reading(*chrome(), centred("昨天 16:02", 280), them("亲，不支持退款哦", 380), them("亲亲在的", 500))
    assert [m.side for m in chat.transcript_of(only_theirs, CAPTURED).messages] == ["them", "them"]
