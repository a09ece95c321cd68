"""Generate the sample dispute's evidence files, deterministically.

Scenario: on 2025-05-01 a shopper bought wireless earbuds (无线蓝牙耳机) for
¥199.00 on Xiaohongshu from the shop "优品数码旗舰店" (order 250501123456789).
On 2025-05-03 one earbud was dead on arrival and the merchant refused a refund
in chat. Everything here is drawn by this script (no third-party images):

    Screenshot_20250503-142210.png  order page, 1080x2340, no EXIF
    IMG_20250503_150102.jpg         product photo with Xiaomi EXIF and GPS
    VID_20250503_150530.mp4         4 s "unboxing" clip with creation_time
    chat_merchant.txt               chat export, UTF-8
    invoice.pdf                     one-page e-invoice (sample), CJK font embedded
    Screenshot_20250504-101500.png  the next morning's chat with the shop, 1080x2340: a chat
                                    held only as a screenshot (`locker ocr` reads it
                                    into machine-read messages; drawn by examples/screens.py)

Usage:  python examples/make_evidence.py [OUT_DIR]   (default examples/evidence/)

Same bytes on every run: fixed seeds, fixed timestamps, single-threaded
encoders. Needs a TrueType CJK font (Debian: apt-get install fonts-wqy-microhei).
Standard library + Pillow + PyAV + reportlab only.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from fractions import Fraction
from functools import cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

ORDER_ID = "250501123456789"
SHOP = "优品数码旗舰店"
RED = (255, 36, 66)  # Xiaohongshu red
GREY, DARK, LINE = (153, 153, 153), (34, 34, 34), (235, 235, 235)
FONT: tuple[str, int] = ("", 0)  # (path, index in a .ttc), set by main()

CHAT = """\
2025-05-03 15:20:01 我：你好，我5月1日买的无线蓝牙耳机今天到了，左耳完全没有声音，放回充电仓也不亮灯。
2025-05-03 15:20:47 我：订单编号250501123456789，开箱视频我全程录了，可以发给你看。
2025-05-03 15:21:40 优品数码旗舰店：亲，不支持退款哦
2025-05-03 15:22:15 我：商品到手就是坏的，属于质量问题，为什么不能退？
2025-05-03 15:23:02 优品数码旗舰店：亲，耳机属于贴身用品，拆封后不支持七天无理由退换哦~
2025-05-03 15:23:50 我：[视频] VID_20250503_150530.mp4
2025-05-03 15:24:10 我：这是开箱视频，从拆快递开始拍的，左耳一直不亮。我要求的是质量问题退货退款，不是七天无理由。
2025-05-03 15:26:33 优品数码旗舰店：亲，可能是您没有配对成功哦，可以先重置一下试试呢
2025-05-03 15:28:05 我：已经按说明书长按10秒重置过了，右耳正常，左耳没有任何反应。
2025-05-03 15:30:19 优品数码旗舰店：亲，我们这边最多给您补偿5元红包，退款是不支持的哦
2025-05-03 15:31:02 我：不接受。请按《消费者权益保护法》第二十四条给我退货退款¥199.00。
2025-05-03 15:32:45 优品数码旗舰店：亲，不支持退款哦，您可以自行联系厂家售后
2025-05-03 15:33:30 我：那我只能申请平台介入，并向12315投诉了。
"""


def find_cjk_font() -> tuple[str, int]:
    """A TrueType-outline CJK font (reportlab cannot embed CFF ones), as (path, index)."""
    found: list[tuple[str, int]] = []
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh-cn:fontformat=TrueType", "-f", "%{file}|%{index}\n"],
                             capture_output=True, text=True).stdout
        for line in sorted(set(out.splitlines())):
            path, _, index = line.rpartition("|")
            if path and "droid" not in path.lower():  # Droid Sans Fallback has no Latin/digits/¥
                found.append((path, int(index or 0)))
    for path in ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                 "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                 "/System/Library/Fonts/STHeiti Light.ttc", "C:/Windows/Fonts/msyh.ttc"):
        if Path(path).is_file():
            found.append((path, 0))
    if not found:
        sys.exit("make_evidence: no TrueType CJK font found; run `apt-get install fonts-wqy-microhei` (Debian/Ubuntu)")
    found.sort(key=lambda f: ("microhei" not in f[0].lower(), "wqy" not in f[0].lower(), f))
    return found[0]


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT[0], size, index=FONT[1])


def text(d: ImageDraw.ImageDraw, xy, s: str, size: int, fill=DARK, anchor="la", bold=False):
    d.text(xy, s, font=font(size), fill=fill, anchor=anchor, stroke_width=1 if bold else 0, stroke_fill=fill)


def card(d: ImageDraw.ImageDraw, top: int, bottom: int) -> None:
    d.rounded_rectangle((24, top, 1056, bottom), radius=24, fill="white")


def earbuds(d: ImageDraw.ImageDraw, x: int, y: int, s: float) -> None:
    """A tiny open charging case with two earbuds, at (x, y), scale s (1.0 = 200 px)."""
    def box(a, b, c, e):
        return (x + a * s, y + b * s, x + c * s, y + e * s)
    d.rounded_rectangle(box(20, 90, 180, 180), radius=int(40 * s), fill=(250, 250, 250), outline=(200, 200, 200), width=2)
    d.line(box(24, 120, 176, 120), fill=(210, 210, 210), width=2)
    for cx in (60, 120):
        d.ellipse(box(cx, 40, cx + 40, 80), fill="white", outline=(190, 190, 190), width=2)
        d.rounded_rectangle(box(cx + 12, 70, cx + 28, 120), radius=int(8 * s), fill="white", outline=(190, 190, 190), width=2)
    d.ellipse(box(96, 150, 104, 158), fill=(80, 200, 120))


def make_screenshot(path: Path) -> None:
    img = Image.new("RGB", (1080, 2340), (245, 245, 245))
    d = ImageDraw.Draw(img)
    # status bar and header
    d.rectangle((0, 0, 1080, 250), fill="white")
    text(d, (60, 50), "14:22", 36, anchor="lm", bold=True)
    for i in range(4):  # signal bars, battery
        d.rectangle((840 + i * 16, 62 - i * 8, 850 + i * 16, 66), fill=DARK)
    d.rounded_rectangle((920, 36, 990, 66), radius=6, outline=DARK, width=3)
    d.rectangle((926, 42, 970, 60), fill=DARK)
    d.rectangle((992, 44, 998, 58), fill=DARK)
    d.line((70, 150, 45, 175, 70, 200), fill=DARK, width=6, joint="curve")
    text(d, (540, 175), "订单详情", 50, anchor="mm", bold=True)
    for i in range(3):
        d.ellipse((960 + i * 24, 169, 972 + i * 24, 181), fill=DARK)
    d.line((0, 249, 1080, 249), fill=LINE, width=2)
    # status banner
    top, bottom = (255, 60, 85), RED
    for yy in range(250, 470):
        t = (yy - 250) / 220
        d.line((0, yy, 1080, yy), fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    text(d, (60, 330), "交易成功", 60, fill="white", anchor="lm", bold=True)
    text(d, (60, 410), "包裹已签收，期待您的评价", 36, fill=(255, 230, 233), anchor="lm")
    # address
    card(d, 500, 690)
    d.ellipse((60, 560, 110, 610), fill=RED)
    d.ellipse((76, 576, 94, 594), fill="white")
    text(d, (140, 555), "李**   138****5678", 40, bold=True)
    text(d, (140, 620), "上海市徐汇区漕溪北路 *** 号 ** 室", 34, fill=GREY)
    # product
    card(d, 720, 1200)
    d.rounded_rectangle((60, 760, 108, 808), radius=10, fill=RED)
    text(d, (84, 784), "优", 32, fill="white", anchor="mm")
    text(d, (128, 784), SHOP + "  >", 40, anchor="lm", bold=True)
    d.rounded_rectangle((60, 850, 300, 1090), radius=16, fill=(238, 240, 244))
    earbuds(d, 80, 860, 1.0)
    text(d, (330, 850), "无线蓝牙耳机 降噪入耳式", 38)
    text(d, (330, 900), "长续航 蓝牙5.3 适用安卓苹果", 38)
    text(d, (330, 960), "颜色：珍珠白 | 规格：标准版", 32, fill=GREY)
    text(d, (1020, 850), "¥199.00", 38, anchor="ra", bold=True)
    text(d, (1020, 900), "x1", 32, fill=GREY, anchor="ra")
    for x0, label in ((560, "加入购物车"), (800, "申请售后")):
        d.rounded_rectangle((x0, 1110, x0 + 220, 1170), radius=30, outline=(200, 200, 200), width=2)
        text(d, (x0 + 110, 1140), label, 32, anchor="mm")
    # price breakdown
    card(d, 1230, 1550)
    for i, (k, v) in enumerate((("商品总价", "¥199.00"), ("运费", "¥0.00"), ("店铺优惠", "-¥0.00"))):
        text(d, (60, 1275 + i * 60), k, 34, fill=GREY)
        text(d, (1020, 1275 + i * 60), v, 34, anchor="ra")
    d.line((60, 1445, 1020, 1445), fill=LINE, width=2)
    text(d, (1020, 1495), "¥199.00", 48, fill=RED, anchor="rm", bold=True)
    text(d, (830, 1495), "实付款", 36, anchor="rm")
    # order info
    card(d, 1580, 2120)
    text(d, (60, 1630), "订单信息", 40, bold=True)
    rows = (("订单编号", ORDER_ID), ("下单时间", "2025-05-01 20:15:33"), ("支付方式", "微信支付"),
            ("支付时间", "2025-05-01 20:15:41"), ("发货时间", "2025-05-02 10:03:12"),
            ("成交时间", "2025-05-03 13:48:20"), ("店铺名", SHOP))
    for i, (k, v) in enumerate(rows):
        y = 1720 + i * 56
        text(d, (60, y), k, 34, fill=GREY)
        text(d, (240, y), v, 34)
    d.rounded_rectangle((720, 1714, 820, 1764), radius=25, outline=(200, 200, 200), width=2)
    text(d, (770, 1739), "复制", 28, anchor="mm")
    # bottom bar
    d.rectangle((0, 2180, 1080, 2340), fill="white")
    d.line((0, 2180, 1080, 2180), fill=LINE, width=2)
    for x0, label, colour in ((330, "联系商家", DARK), (570, "查看物流", DARK), (810, "申请售后", RED)):
        d.rounded_rectangle((x0, 2205, x0 + 220, 2275), radius=35, outline=colour, width=2)
        text(d, (x0 + 110, 2240), label, 32, fill=colour, anchor="mm")
    d.rounded_rectangle((390, 2310, 690, 2320), radius=5, fill=DARK)
    img.save(path, "PNG", optimize=False)


def make_photo(path: Path) -> None:
    w, h = 2016, 1512
    rnd = random.Random(20250503)
    desk = ImageOps.colorize(Image.linear_gradient("L").resize((w, h)), (200, 160, 120), (120, 85, 55))
    shadow = Image.new("L", (w, h), 0)
    ImageDraw.Draw(shadow).ellipse((520, 1060, 1560, 1260), fill=150)
    desk.paste((40, 28, 20), mask=shadow.filter(ImageFilter.GaussianBlur(40)))
    d = ImageDraw.Draw(desk)
    for _ in range(40):  # wood grain
        y = rnd.randrange(h)
        d.line((0, y, w, y + rnd.randrange(-60, 60)), fill=(150 + rnd.randrange(30), 110, 75), width=rnd.randrange(2, 6))
    case = ImageOps.colorize(Image.linear_gradient("L").resize((900, 560)), (252, 252, 250), (200, 200, 205))
    mask = Image.new("L", case.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, 899, 559), radius=220, fill=255)
    desk.paste(case, (560, 560), mask)
    d.line((600, 760, 1420, 760), fill=(170, 170, 175), width=4)
    d.ellipse((995, 980, 1025, 1010), fill=(60, 210, 110))
    for x, ok in ((760, False), (1120, True)):  # the left earbud is the dead one
        d.ellipse((x, 380, x + 200, 580), fill=(245, 245, 245), outline=(180, 180, 185), width=4)
        d.rounded_rectangle((x + 70, 540, x + 130, 800), radius=30, fill=(240, 240, 242), outline=(180, 180, 185), width=4)
        d.ellipse((x + 90, 420, x + 110, 440), fill=(60, 210, 110) if ok else (90, 90, 90))
    noise = Image.frombytes("L", (w, h), rnd.randbytes(w * h)).point(lambda v: 120 + v // 16)
    desk = ImageChops.add(desk, Image.merge("RGB", (noise,) * 3), offset=-128)

    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Xiaomi", "Redmi K60", 1  # Make, Model, Orientation
    exif[0x0132] = "2025:05:03 15:01:02"  # DateTime
    exif[0x0131] = "K60-V816.0.5.0"  # Software
    ifd = exif.get_ifd(0x8769)  # Exif IFD
    ifd[0x9003] = ifd[0x9004] = "2025:05:03 15:01:02"  # DateTimeOriginal, DateTimeDigitized
    ifd[0x9011] = ifd[0x9012] = "+08:00"  # OffsetTimeOriginal, OffsetTimeDigitized
    ifd[0xA002], ifd[0xA003] = w, h  # PixelXDimension, PixelYDimension
    gps = exif.get_ifd(0x8825)  # GPS IFD: People's Square, Shanghai
    gps.update({0: b"\x02\x02\x00\x00", 1: "N", 2: (31.0, 13.0, 49.44), 3: "E", 4: (121.0, 28.0, 25.32),
                7: (7.0, 1.0, 2.0), 29: "2025:05:03"})
    desk.save(path, "JPEG", quality=88, exif=exif.tobytes())

    back = Image.open(path).getexif()  # read back: a wrong IFD layout would lose these
    assert back[0x010F] == "Xiaomi" and back[0x0110] == "Redmi K60", back
    assert back.get_ifd(0x8769)[0x9003] == "2025:05:03 15:01:02", back.get_ifd(0x8769)
    assert back.get_ifd(0x8769)[0x9011] == "+08:00"
    lat = back.get_ifd(0x8825)[2]
    assert abs(float(lat[0]) + float(lat[1]) / 60 + float(lat[2]) / 3600 - 31.2304) < 1e-3, lat


def make_video(path: Path) -> None:
    import av  # lazily: ~0.2 s

    w, h, fps, seconds = 640, 360, 15, 4
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(path), "w", format="mp4", options={"fflags": "+bitexact"}) as out:
        out.metadata["creation_time"] = "2025-05-03T07:05:30.000000Z"
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        # One thread and bit-exact flags: libx264 output is then identical on every run
        # (checked with this PyAV/FFmpeg build); mpeg4 is deterministic as well.
        stream.codec_context.thread_count = 1
        stream.codec_context.options = {"threads": "1", "flags": "+bitexact"}
        if codec == "libx264":
            stream.codec_context.options |= {"preset": "medium", "crf": "26"}
        for i in range(fps * seconds):
            t = i / fps
            img = ImageOps.colorize(Image.linear_gradient("L").resize((w, h)), (90, 70, 55), (40, 30, 25))
            d = ImageDraw.Draw(img)
            d.rectangle((170, 170, 470, 330), fill=(196, 150, 100), outline=(120, 85, 50), width=3)  # box
            lid = min(1.0, t / 2.0)  # lid slides up and away over the first 2 s
            d.rectangle((170 - 40 * lid, 140 - 110 * lid, 470 + 40 * lid, 180 - 110 * lid), fill=(210, 165, 115))
            if t >= 1.5:
                earbuds(d, 240, 120 + max(0, int(60 * (2.5 - t))), 0.8)
            d.ellipse((20, 18, 38, 36), fill=(230, 30, 30) if i % 15 < 10 else (90, 20, 20))
            text(d, (48, 27), "REC  开箱录像", 22, fill="white", anchor="lm")
            code = f"00:00:{t:06.3f}"
            text(d, (620, 335), f"{code}  #{i:03d}", 24, fill="white", anchor="rm")
            frame = av.VideoFrame.from_image(img).reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with av.open(str(path)) as back:
        assert back.metadata.get("creation_time", "").startswith("2025-05-03T07:05:30"), back.metadata


def make_invoice(path: Path) -> None:
    from reportlab import rl_config
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A5, landscape
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    rl_config.useA85 = 0
    os.environ["SOURCE_DATE_EPOCH"] = "1746151200"  # PDF dates: 2025-05-02 02:00:00 UTC, not "now"
    pdfmetrics.registerFont(TTFont("CJK", FONT[0], subfontIndex=FONT[1]))
    W, H = landscape(A5)
    c = canvas.Canvas(str(path), pagesize=(W, H), invariant=1, initialFontName="CJK", initialFontSize=10)
    c.setTitle("电子发票（普通发票）样例")
    c.setAuthor(SHOP)
    brown = HexColor("#9c4a1a")
    c.setStrokeColor(HexColor("#d0312d"))  # a "seal" saying this is a made-up sample
    c.setFillColor(HexColor("#d0312d"))
    c.setLineWidth(1.5)
    c.ellipse(W - 62 * mm, 8 * mm, W - 22 * mm, 26 * mm)
    c.setFont("CJK", 12)
    c.drawCentredString(W - 42 * mm, 15.5 * mm, "演示样例")
    c.setLineWidth(1)
    c.setFillColor(brown)
    c.setFont("CJK", 20)
    c.drawCentredString(W / 2, H - 22 * mm, "电子发票（普通发票）")
    c.setStrokeColor(brown)
    c.line(W / 2 - 45 * mm, H - 25 * mm, W / 2 + 45 * mm, H - 25 * mm)
    c.line(W / 2 - 45 * mm, H - 26 * mm, W / 2 + 45 * mm, H - 26 * mm)
    c.setFont("CJK", 9)
    c.drawString(W - 70 * mm, H - 14 * mm, "发票号码：25312000000012345678")
    c.drawString(W - 70 * mm, H - 19 * mm, "开票日期：2025年05月02日")
    x0, x1, top = 12 * mm, W - 12 * mm, H - 32 * mm
    c.rect(x0, 28 * mm, x1 - x0, top - 28 * mm)
    c.line(x0, top - 22 * mm, x1, top - 22 * mm)
    c.line(W / 2, top, W / 2, top - 22 * mm)
    c.setFillColor(HexColor("#222222"))
    buyer = ("购买方信息", "名称：个人", "统一社会信用代码/纳税人识别号：")
    seller = ("销售方信息", "名称：深圳市优品数码科技有限公司（示例）", "统一社会信用代码/纳税人识别号：91440300MA5G000000")
    for x, lines in ((x0 + 3 * mm, buyer), (W / 2 + 3 * mm, seller)):
        for i, s in enumerate(lines):
            c.drawString(x, top - (6 + 6 * i) * mm, s)
    cols = (("项目名称", 0), ("规格型号", 52), ("单位", 82), ("数量", 94), ("单价", 106),
            ("金额", 124), ("税率/征收率", 142), ("税额", 166))
    row = ("*音响设备*无线蓝牙耳机", "标准版 珍珠白", "副", "1", "176.11", "176.11", "13%", "22.89")
    for (head, off), value in zip(cols, row):
        c.drawString(x0 + (3 + off) * mm, top - 28 * mm, head)
        c.drawString(x0 + (3 + off) * mm, top - 35 * mm, value)
    c.drawString(x0 + 3 * mm, top - 52 * mm, "合    计")
    c.drawString(x0 + 127 * mm, top - 52 * mm, "¥176.11")
    c.drawString(x0 + 169 * mm, top - 52 * mm, "¥22.89")
    c.line(x0, top - 56 * mm, x1, top - 56 * mm)
    c.drawString(x0 + 3 * mm, top - 62 * mm, "价税合计（大写）   壹佰玖拾玖圆整")
    c.drawString(x0 + 127 * mm, top - 62 * mm, "（小写）¥199.00")
    c.line(x0, top - 66 * mm, x1, top - 66 * mm)
    c.drawString(x0 + 3 * mm, top - 73 * mm, f"备注：订单编号 {ORDER_ID}；平台：小红书；店铺：{SHOP}")
    c.drawString(x0, 20 * mm, "开票人：系统自动开具")
    c.drawString(x0, 14 * mm, "本文件为演示用样例，不是真实发票")
    c.showPage()
    c.save()


def main(argv: list[str]) -> None:
    global FONT
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "evidence"
    FONT = find_cjk_font()
    out.mkdir(parents=True, exist_ok=True)
    make_screenshot(out / "Screenshot_20250503-142210.png")
    make_photo(out / "IMG_20250503_150102.jpg")
    make_video(out / "VID_20250503_150530.mp4")
    (out / "chat_merchant.txt").write_bytes(CHAT.encode("utf-8"))
    make_invoice(out / "invoice.pdf")
    make_chat_screenshot(out / "Screenshot_20250504-101500.png")
    print(f"wrote 6 files to {out} (font: {FONT[0]}#{FONT[1]})")


# The morning after: the shop answers in the app's own chat, which cannot be exported, so the
# shopper keeps a screenshot. Left: the shop; right: the shopper; centred grey: time and notices.
CHAT_SCREEN = [
    ("time", "昨天 15:34"),
    ("me", "那我只能申请平台介入，并向12315投诉了。"),
    ("time", "09:58"),
    ("me", "你好，耳机的问题今天还是没有解决方案吗？"),
    ("them", "亲，不支持退款哦，您可以自行联系厂家售后"),
    ("me", "我已向平台申请介入，售后单号SH250504001。"),
    ("system", "对方撤回了一条消息"),
    ("them", "亲，那我们给您补偿10元红包可以吗"),
    ("me", "不接受，请按质量问题退货退款¥199.00。"),
]


def make_chat_screenshot(path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from examples import screens

    if FONT[0]:
        screens.FONT_PATH = FONT[0]
    img = screens.chat_screenshot(screens.chat_items(CHAT_SCREEN), title=SHOP, app="xiaohongshu", height=2340,
                                  clock="10:15")
    img.save(path, "PNG", optimize=False)


if __name__ == "__main__":
    main(sys.argv)
