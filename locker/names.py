"""Names people can read: a dispute's slug made from its title, and "did you mean" for a miss.

**Slugs.** A slug is lower-case a-z, 0-9 and '-'. Latin letters keep their words (accents
dropped, full-width folded: ``Café ｉＰｈｏｎｅ１５`` → ``cafe-iphone15``); Chinese becomes
pinyin without tones, one word per Chinese word, the syllables of a word joined and the
words split by '-': 小红书无线耳机退款 → ``xiaohongshu-wuxian-erji-tuikuan``.

**Readings** come from pypinyin's phrase-aware conversion of each whole run of Chinese
characters (so 银行 reads yin-hang and 重庆 chong-qing), one syllable per character.

**Word boundaries.** pypinyin knows readings, not words: its phrase table lists only the
phrases whose reading differs from their characters' usual one (it has 相机 but not 耳机 or
小红书), and its small segmenter cuts 二手相机 into 二 / 手相 / 机. A real segmenter (jieba)
brings a 5 MB dictionary and about a second of start-up to every `new`. So the words are found
by a rule, in order, at each position of a run of Chinese characters:

1. the longest word of :data:`LEXICON` that starts here (the shopping platforms, whose names
   are three characters or more, and the words of disputes that are not two characters long);
2. a character of :data:`STANDALONE` (的, 了, 被, …) is a word of its own, and so is one just
   before such a character;
3. otherwise two characters make a word — most Chinese words have two, and an odd one out is
   left alone at the end.

A wrong cut only changes where a '-' falls; the slug still reads aloud as the title does.
Slugs are cut to :data:`SLUG_MAX` characters after a whole word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

SLUG_MAX = 40  # a readable slug; the folder name rule (paths.SLUG_RE) allows 80

LEXICON = frozenset((
    # platforms and services (a four-character name is two words, as the rule cuts it anyway)
    "小红书", "淘宝", "天猫", "京东", "拼多多", "抖音", "快手", "闲鱼", "美团", "饿了么", "唯品会", "得物",
    "苏宁", "当当", "亚马逊", "携程", "飞猪", "去哪儿", "滴滴", "微信", "支付宝", "微店", "转转", "盒马",
    "哔哩哔哩", "聚划算", "淘特", "京喜", "视频号", "微博", "知乎", "百度", "顺丰", "中通", "圆通",
    "申通", "韵达", "菜鸟", "邮政",
    # what disputes are about: words of three characters, and two-character words that often
    # follow an odd character
    "无理由", "仅退款", "运费险", "未发货", "已签收", "预付卡", "健身卡", "健身房", "美容院", "培训班",
    "直播间", "消费者", "洗衣机", "笔记本", "充电宝", "充电器", "热水器", "净化器", "扫地机", "吸尘器",
    "化妆品", "护肤品", "保健品", "电动车", "自行车", "摩托车", "手机壳",
    "耳机", "手机", "平板", "电脑", "电视", "空调", "冰箱", "相机", "手表", "衣服", "裤子", "鞋子", "包裹",
    "快递", "物流", "订单", "退款", "退货", "换货", "维修", "售后", "客服", "商家", "平台", "投诉", "赔偿",
    "假货", "质量", "问题", "发票", "押金", "定金", "订金", "尾款", "会员", "外卖", "机票", "酒店", "门票",
    "课程", "二手", "家具", "家电", "食品", "奶粉", "口红", "面膜", "消协",
))
_LONGEST = max(len(w) for w in LEXICON)

STANDALONE = frozenset("的了在是和与及或被把给对从向跟我你他她它不没又也都就还很太吗呢吧啊之于等个")

_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+"  # compiled when used: ~20 ms
_LATIN_WORD = r"[a-z0-9]+"


def _latin(text: str) -> str:
    """Width and case folded, accents dropped: ``Ｃａｆé`` → ``cafe``."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _readings(run: str) -> list[str]:
    """One pinyin syllable (tone-less, a-z) per character of a run of Chinese characters; "" for
    a character pypinyin has no reading of."""
    from pypinyin import lazy_pinyin  # ~0.1 s of dictionaries: only when a name is made

    # pypinyin takes a list from `errors` (one item per character), though its stubs say str.
    unread: Any = lambda chars: [""] * len(chars)  # noqa: E731
    found = lazy_pinyin(run, errors=unread)
    if len(found) != len(run):  # never seen; one character at a time is always aligned
        found = [(lazy_pinyin(c, errors=unread) or [""])[0] for c in run]
    return [re.sub(r"[^a-z]", "", _latin(s)) for s in found]


def han_words(run: str) -> list[str]:
    """The words of a run of Chinese characters, by the rule in this module's docstring."""
    words: list[str] = []
    i = 0
    while i < len(run):
        for size in range(min(_LONGEST, len(run) - i), 1, -1):
            if run[i:i + size] in LEXICON:
                words.append(run[i:i + size])
                i += size
                break
        else:
            alone = (run[i] in STANDALONE or i + 1 >= len(run) or run[i + 1] in STANDALONE
                     or _lexicon_starts(run, i + 1))
            size = 1 if alone else 2
            words.append(run[i:i + size])
            i += size
    return words


def _lexicon_starts(run: str, i: int) -> bool:
    return any(run[i:i + size] in LEXICON for size in range(2, min(_LONGEST, len(run) - i) + 1))


def words(text: str) -> list[str]:
    """The slug's words of ``text``, in order, untrimmed: Latin words as they are, Chinese words
    in pinyin. Other scripts and symbols only separate words."""
    out: list[str] = []
    position = 0
    for match in re.finditer(_HAN, text):
        out += re.findall(_LATIN_WORD, _latin(text[position:match.start()]))
        run = match.group()
        readings = _readings(run)
        start = 0
        for word in han_words(run):
            spelled = "".join(readings[start:start + len(word)])
            start += len(word)
            if spelled:
                out.append(spelled)
        position = match.end()
    out += re.findall(_LATIN_WORD, _latin(text[position:]))
    return out


def trim(slug: str, limit: int = SLUG_MAX) -> str:
    """At most ``limit`` characters, cut after a whole word when there is one to cut after."""
    slug = slug.strip("-")
    if len(slug) <= limit:
        return slug
    cut = slug[:limit + 1].rfind("-")
    return (slug[:cut] if cut > 0 else slug[:limit]).strip("-")


def slugify(title: str, platform: str | None = None) -> str:
    """A readable slug for a dispute's title (else its platform, else ``dispute``)."""
    for text in (title, platform or ""):
        slug = trim("-".join(words(text)))
        if slug:
            return slug
    return "dispute"


def fold(text: str) -> str:
    """For matching what a person typed against a title: width, case and accents folded."""
    return _latin(text).strip()


def suggest(ref: str, candidates: Iterable[tuple[str, str | None]], n: int = 3) -> list[str]:
    """The names (of ``(name, title)`` pairs) that ``ref`` most likely meant, best first.

    A name is scored by difflib's ratio against the typed text, its pinyin (耳鸡 → erji), and
    the words of the name taken as many at a time as the typed text has (erji against
    ``xiaohongshu-wuxian-erji-tuikuan``'s erji); a title against the typed text as it is."""
    typed = fold(ref)
    if not typed:
        return []
    spelled = "-".join(words(ref))
    keys = {k for k in (typed, spelled) if k}
    scored: list[tuple[float, str]] = []
    for name, title in candidates:
        best = max(_ratio(k, name) for k in keys)
        parts = name.split("-")
        for key in keys:
            width = key.count("-") + 1
            for i in range(max(1, len(parts) - width + 1)):
                best = max(best, _ratio(key, "-".join(parts[i:i + width])))
        if title:
            folded = fold(title)
            best = max(best, _ratio(typed, folded))
            if len(typed) < len(folded):  # part of a title: against its pieces of the same length
                best = max(best, max(_ratio(typed, folded[i:i + len(typed)])
                                     for i in range(len(folded) - len(typed) + 1)))
        if best >= CUTOFF:
            scored.append((best, name))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [name for _, name in scored[:n]]


CUTOFF = 0.6


def _ratio(a: str, b: str) -> float:
    import difflib  # only on a miss: `locker search` starts without it

    return difflib.SequenceMatcher(None, a, b).ratio()


def listed(names: Sequence[str], most: int = 5) -> str:
    """``a, b, c`` — and `` …`` when there are more than ``most``."""
    return ", ".join(names[:most]) + (" …" if len(names) > most else "")
