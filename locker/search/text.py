"""Text for search: folding, the tokens fed to FTS5, queries, matching and snippets.

Pure functions over ``str`` (standard library only), shared by the per-dispute
index, the cross-dispute catalog and the query side, so that all three cut
text the same way.

**Folding.** Every character is folded on its own (``str.translate`` over a
cached table, C speed): NFKC (full-width ``２５０５`` → ``2505``, half-width
katakana → full width), case folding, and outside CJK the diacritics are
dropped (``é`` → ``e``). Control and zero-width characters vanish, every kind
of space becomes one space.

**Tokens.** SQLite's ``unicode61`` tokenizer sees a run of Chinese as one long
token, and ``trigram`` cannot match a two-character query. The text handed to
FTS5 therefore has every CJK character (Han, kana, Hangul, bopomofo) standing
alone, one token each, and FTS5 keeps positions (``detail=full``):

* a one-character query (赔) is one token;
* two or more characters (退款, 七天无理由) are an FTS5 *phrase* of single
  characters, which must stand at consecutive positions;
* words in other scripts stay whole (``iphone15``); words of two or more
  characters match as prefixes (``refund`` finds ``refunds``, ``tv`` finds ``TVs`` and ``5g``
  finds ``5GHz``), from their start only (``pods`` does not find ``AirPods``). A single
  letter matches whole words only (``a`` finds ``A股`` and ``plan A``): as a prefix it would
  match most of any text. Numbers shorter than four digits match whole numbers only;
* an emoji or other pictograph (Unicode category So: 🎧 😡 ★ ☎) is a token of its own, written
  as ``emj`` and its code point in hex (🎧 → ``emj1f3a7``), so that the index holds only
  letters and digits whatever SQLite's Unicode tables know; variation selectors and
  zero-width joiners are dropped by folding, so 👨‍👩‍👧 is three tokens and ❤️ finds ❤;
* every run of 4–32 digits (order, phone and tracking numbers, also inside a
  token like ``sf1234567890``) is also indexed by its suffixes of 4 or more
  digits, so that any part of 4+ digits is a prefix query (``01123456*``) away.

Measured against the two-column rewrite of the field notes (bigrams in one
column, single characters in another) on the same 1,000,000 mixed messages:
tokenizing costs 1.5 µs a message instead of 5.5, the FTS5 insert 2.2 µs
instead of 2.9, the index is smaller (128 MB against 146 MB; ``columnsize=0``
then takes about a quarter off either), and queries stay below a millisecond for a page of
results (a common two-character word 0.14 ms against 0.05 ms; the worst case,
two common characters that are never adjacent, 3.4 ms). Only characters that
are letters or digits in Unicode 3.2 (``unicodedata.ucd_3_2_0``) become
tokens: SQLite's own Unicode tables are older than Python's, and a character
one side counts as a letter and the other as a separator would make index and
query disagree.

**Matching.** The FTS5 query is only a filter: a row it returns is kept when
every query term occurs in the row's folded text (``confirm``). That drops a
phrase whose characters are adjacent only across punctuation or a line break
(``同意，退款`` for the query 同意退款) and gives the exact spans for the
snippet. Terms are the whitespace-separated words of the query, combined with
AND; punctuation inside a term must match literally, at its ends it is
dropped (``"退款"`` finds 退款). Nothing in a query is FTS5 syntax.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# Bump when the tokens for the same text change: every index built with
# another version is rebuilt (per dispute by `locker reindex`, the catalog on its own).
TOKENIZER_VERSION = f"3/{unicodedata.unidata_version}"

CJK_RANGES = (
    "\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31bf\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
# The same ranges as (first, last) code points: testing one character needs no regex (compiling
# the class costs ~7 ms, a twentieth of a search's own start-up).
_CJK_SPANS = tuple((ord(first), ord(last)) for first, last in re.findall(r"(.)-(.)", CJK_RANGES, re.S))


def _is_cjk(ch: str) -> bool:
    """Whether the first character of ``ch`` (non-empty) is in CJK_RANGES."""
    code = ord(ch[0])
    return any(first <= code <= last for first, last in _CJK_SPANS)
_OLD = unicodedata.ucd_3_2_0
_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"(?<!emj)\d{4,}")  # runs of digits that get their suffixes indexed (not an emoji's code)

SUFFIX_MIN, SUFFIX_MAX_TOKEN = 4, 32  # index the suffixes of 4+ digits of runs of 4..32 digits
PREFIX_MIN = 2  # words of this length or more (not numbers) match as prefixes
EMOJI_TOKEN = "emj"  # an emoji's token: this and its code point in hex
MAX_PIECES = 12  # FTS5 filter: at most this many pieces (the longest) ...
MAX_PHRASE = 12  # ... each a phrase of at most this many characters; `confirm` checks all of it
SNIPPET_BEFORE, SNIPPET_CHARS = 24, 96


def _fold_char(c: str) -> str:
    if c.isspace():
        return " "
    category = unicodedata.category(c)
    if category[0] == "C":  # control, format (zero-width), surrogate, private use, unassigned
        return ""
    folded = unicodedata.normalize("NFKC", c).casefold()
    if _is_cjk(c):
        return folded
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", folded) if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", bare)


def _is_token_char(ch: str) -> bool:
    return ch != "_" and _OLD.category(ch)[0] in "LN"


def _is_emoji(ch: str) -> bool:
    """An emoji or other pictograph: indexed as a token of its own (see EMOJI_TOKEN)."""
    return unicodedata.category(ch) == "So"


class _FoldTable(dict[int, str]):
    """``str.translate`` table: code point → folded text, computed once per character."""

    def __missing__(self, code: int) -> str:
        value = self[code] = _fold_char(chr(code))
        return value


class _TokenTable(dict[int, str]):
    """``str.translate`` table: code point → its folded form with CJK characters set apart by
    spaces and everything that is not a token character turned into a space."""

    def __missing__(self, code: int) -> str:
        out = []
        for ch in FOLD[code]:
            if _is_emoji(ch):
                out.append(f" {EMOJI_TOKEN}{ord(ch):x} ")
            elif not _is_token_char(ch):
                out.append(" ")
            elif _is_cjk(ch):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        value = self[code] = "".join(out)
        return value


FOLD = _FoldTable()
TOKEN = _TokenTable()
for _code in range(128):  # warm the ASCII part
    TOKEN[_code]  # noqa: B018
del _code


def fold(text: str) -> str:
    return text.translate(FOLD)


def index_text(text: str) -> str:
    """What FTS5 indexes for ``text``: its tokens, separated by spaces, then the suffixes of its
    number-like tokens."""
    tokens = text.translate(TOKEN)
    if _DIGIT.search(tokens):
        extra = [run[i:] for run in _DIGITS.findall(tokens) if len(run) <= SUFFIX_MAX_TOKEN
                 for i in range(len(run) - SUFFIX_MIN + 1)]
        if extra:
            tokens = f"{tokens} {' '.join(extra)}"
    return tokens


# --- queries ---------------------------------------------------------------

_WORD = f"[^\\W_{CJK_RANGES}]"  # a letter or digit outside CJK (as Python's regex sees it)
_EMOJI_TOKEN = re.compile(f"{EMOJI_TOKEN}[0-9a-f]+")


@dataclass(frozen=True)
class Term:
    folded: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[Term, ...]
    fts: str  # the FTS5 MATCH expression that filters candidates ("" when nothing can be indexed)

    def confirm(self, folded_text: str) -> bool:
        return all(term.pattern.search(folded_text) for term in self.terms)


def _strip_edges(term: str) -> str:
    """Drop punctuation and symbols other than emoji at both ends of a term (they are not tokens)."""
    start, end = 0, len(term)
    while start < end and not (_is_token_char(term[start]) or _is_emoji(term[start])):
        start += 1
    while end > start and not (_is_token_char(term[end - 1]) or _is_emoji(term[end - 1])):
        end -= 1
    return term[start:end]


def _pieces(term: str) -> list[tuple[str, str]]:
    """The term's FTS5 pieces in order: ("cjk", "退款") runs, ("word", "iphone") words and
    ("emoji", "emj1f3a7") emoji."""
    pieces: list[tuple[str, str]] = []
    run: list[str] = []
    for token in term.translate(TOKEN).split():
        if _is_cjk(token):
            run.append(token)
            continue
        if run:
            pieces.append(("cjk", "".join(run)))
            run = []
        pieces.append(("emoji" if _EMOJI_TOKEN.fullmatch(token) else "word", token))
    if run:
        pieces.append(("cjk", "".join(run)))
    return pieces


def _substring_word(word: str) -> bool:
    """A number of 4+ digits matches anywhere in a run of digits (part of an order number)."""
    return len(word) >= SUFFIX_MIN and word.isdigit()


def _fts_piece(kind: str, value: str) -> str:
    # Tokens hold letters and digits only: quoting them is always safe.
    if kind == "cjk":
        return '"' + " ".join(value[:MAX_PHRASE]) + '"'
    if kind == "word" and (_substring_word(value) or (len(value) >= PREFIX_MIN and not value.isdigit())):
        return f'"{value}" *'
    return f'"{value}"'


def _pattern(term: str, pieces: list[tuple[str, str]]) -> re.Pattern[str]:
    body = re.escape(term)
    first_kind, first = pieces[0] if pieces else ("cjk", "")
    last_kind, last = pieces[-1] if pieces else ("cjk", "")
    # A word must start where a token starts (unless it is a number-like part), and a short
    # word that is matched exactly must end where its token ends, as FTS5 matched it.
    if first_kind == "word" and term.startswith(first) and not _substring_word(first):
        body = f"(?<!{_WORD})" + body
    if last_kind == "word" and term.endswith(last) and not _substring_word(last) and len(last) < PREFIX_MIN:
        body += f"(?!{_WORD})"
    return re.compile(body)


def parse(text: str) -> Query:
    """The query as typed → terms to confirm and the FTS5 filter. Never raises."""
    terms: dict[str, Term] = {}
    pieces: dict[tuple[str, str], None] = {}
    for raw in fold(text).split():
        term = _strip_edges(raw)
        if not term or term in terms:
            continue
        term_pieces = _pieces(term)
        terms[term] = Term(term, _pattern(term, term_pieces))
        pieces.update(dict.fromkeys(term_pieces))
    # The longest pieces filter best; the FTS5 expression stays small whatever the query's length.
    chosen = sorted(pieces, key=lambda p: -len(p[1]))[:MAX_PIECES]
    fts = " AND ".join(_fts_piece(kind, value) for kind, value in chosen)
    return Query(text, tuple(terms.values()), fts)


# --- snippets --------------------------------------------------------------

def _folded_with_map(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the original character."""
    parts: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        f = FOLD[ord(ch)]
        if f:
            parts.append(f)
            where.extend([i] * len(f))
    return "".join(parts), where


def match_spans(text: str, query: Query) -> list[tuple[int, int]]:
    """Spans of ``text`` (original offsets) where the query's terms occur, merged and in order."""
    folded, where = _folded_with_map(text)
    spans = []
    for term in query.terms:
        for m in term.pattern.finditer(folded):
            if m.end() > m.start():
                spans.append((where[m.start()], where[m.end() - 1] + 1))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, query: Query) -> tuple[tuple[str, bool], ...]:
    """A short excerpt of ``text`` around the first match, as (segment, is_match) pairs, with
    runs of white space shown as one space and "…" where the text was cut."""
    spans = match_spans(text, query)
    first = spans[0][0] if spans else 0
    start = max(0, first - SNIPPET_BEFORE)
    end = min(len(text), start + SNIPPET_CHARS)
    start = max(0, min(start, end - SNIPPET_CHARS))
    marked = [False] * (end - start)
    for s, e in spans:
        for i in range(max(s, start), min(e, end)):
            marked[i - start] = True
    segments: list[list[Any]] = []
    if start > 0:
        segments.append(["…", False])
    previous_space = True
    for i in range(start, end):
        ch = text[i]
        if ch.isspace():
            if previous_space:
                continue
            ch, previous_space = " ", True
        else:
            previous_space = False
        hit = marked[i - start]
        if segments and segments[-1][1] == hit:
            segments[-1][0] += ch
        else:
            segments.append([ch, hit])
    if segments and not segments[-1][1]:
        segments[-1][0] = segments[-1][0].rstrip()
    if end < len(text):
        segments.append(["…", False])
    return tuple((s, h) for s, h in segments if s)
