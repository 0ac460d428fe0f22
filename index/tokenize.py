"""The one tokenizer used by BM25 at build time and at query time.

Lowercase, accents folded, `\\w+` words, English stopwords dropped, Snowball (Porter2) stemming. A word
typeset across a line break ("maxi‐\\n       mum": groff's U+2010 hyphen, or a soft hyphen) or holding a
soft hyphen is one word. A stopword the text names rather than uses is a term (`named_stopwords`): quoted
(the "with" statement, `is not`) or used as a name after "the" (the with statement, the is operator) or after
"a" / "an" before a piece of syntax (a while loop), and
one written as an acronym (`acronym_stopwords`: "Islamic State (IS) sites", "the WHO").
Bump `TOKENIZER_VERSION` whenever the output for any input may change: indexes record it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from functools import lru_cache

import Stemmer

# 2: words typeset across lines joined; 3: named stopwords; 4: stopwords written as acronyms ("IS", "the US");
# 5: past forms of irregular verbs read as the verb ("wrote", "written" -> "write"); 6: a keyword after "a" / "an"
# before a piece of syntax ("a while loop")
TOKENIZER_VERSION = "words-fold-stop-snowball-en/6"

_WORD = re.compile(r"\w+")
# a typesetter's break inside a word (a pattern): a soft hyphen (at a line end or not), or U+2010 HYPHEN at a
# line end; the text before and after it is one word
TYPESET_BREAK = r"(?:\u00ad(?:[ \t]*(?:\r\n|\r|\n)[ \t]*)?|\u2010[ \t]*(?:\r\n|\r|\n)[ \t]*)"
_HYPHEN_BREAK = re.compile(  # `TYPESET_BREAK` between word characters, the look-behind after its first mark (fast)
    r"(?:\u00ad(?<=\w\u00ad)(?:[ \t]*(?:\r\n|\r|\n)[ \t]*)?|\u2010(?<=\w\u2010)[ \t]*(?:\r\n|\r|\n)[ \t]*)(?=\w)"
)
_WORD_ACROSS = re.compile(rf"\w+(?:{TYPESET_BREAK}\w+)*")  # `_WORD`, across such breaks
# a line break right after the hyphen of a compound ("pre-\ncomputed"): text shown on one line keeps the
# hyphen and drops the break ("pre-computed", not "pre- computed"); the terms are the same either way
# (the hyphen first: a pattern that starts with a look-behind is tried at every offset, ~30x slower)
_COMPOUND_BREAK = re.compile(r"-(?<=[^\W\d_]-)([ \t]*(?:\r\n|\r|\n)[ \t]*)(?=[^\W\d_])")
SHOWN_WORD_BREAK = rf"(?:{TYPESET_BREAK}|-[ \t]*(?:\r\n|\r|\n)[ \t]*)"  # a word shown whole across it (a pattern)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren as at be because been before being
    below between both but by can cannot could couldn did didn do does doesn doing don down during each
    few for from further had hadn has hasn have haven having he her here hers herself him himself his how
    i if in into is isn it its itself just let ll me more most mustn my myself no nor not of off on once
    only or other ought our ours ourselves out over own re s same shan she should shouldn so some such t
    than that the their theirs them themselves then there these they this those through to too under until
    up very ve was wasn we were weren what when where which while who whom why will with won would
    wouldn you your yours yourself yourselves d m o y also""".split()
)

# Stopwords that "the" can put before a noun only as names: keywords and operators of programming and query
# languages ("the with statement", "the is operator", "the where clause"); not the ones that are adjectives
# or adverbs there ("the most", "the same", "the other", "the above")
NAMEABLE_AFTER_THE = frozenset(
    "and as by do for from having if in into is not on or this when where while with".split()
)
QUOTED_NAME_MAX_WORDS = 3  # "is not", "yield from": a longer quotation is a title or speech, not a name
_QUOTED = re.compile(  # a quotation, not an apostrophe: no word character right outside its marks
    r"[\"'`\u201c\u2018](?<!\w.)([^\"'`\u201c\u201d\u2018\u2019\n]{1,40}?)[\"'`\u201d\u2019](?!\w)"
)
_NAMEABLE = "|".join(sorted(NAMEABLE_AFTER_THE))
_AFTER_THE = re.compile(rf"the(?<!\wthe)\s+({_NAMEABLE})\s+(?=(\w+))")  # over lowercase text (a literal start: fast)
# after "a" / "an" only before a word naming a piece of syntax: "a while loop", "an if statement", but "a while ago"
SYNTAX_NOUNS = frozenset(
    "loop loops statement statements clause clauses block blocks operator operators keyword".split()
)
_AFTER_A = re.compile(rf"a(?<!\wa)n?\s+({_NAMEABLE})\s+(?=(\w+))")  # a literal start, as above (2% of tokenizing)

# A stopword written in capitals among words that are not is an acronym, a name: "nine Islamic State (IS)
# sites", "the WHO", "IT staff", "NO" (nitric oxide), "ALL" (a leukaemia). Written among capitals ("WHAT IS
# NEW", "TERMS AND CONDITIONS") it is the word, shouted.
_CAPITALS = re.compile(r"[A-Z]{2,10}\b")  # the word's start checked by hand (a leading \b costs 60% more)
_CAPITAL_STOPWORDS = frozenset(w.upper() for w in STOPWORDS if len(w) > 1)
_NEIGHBOUR_CHARS = 40  # how far before and after an acronym its neighbouring words are looked for

_stemmer = Stemmer.Stemmer("english")


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _without_marks(run: re.Match[str]) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lowercase and strip diacritics (é -> e, ğ -> g); keeps non-Latin scripts as they are."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    # combining marks are never ASCII: only the non-ASCII runs of the text are looked at, char by char
    return _NON_ASCII.sub(_without_marks, unicodedata.normalize("NFKD", lowered))


def join_broken_words(text: str) -> str:
    """`text` with the typesetter's breaks inside words taken out: "maxi‐\\n       mum" -> "maximum"."""
    return text if text.isascii() else _HYPHEN_BREAK.sub("", text)


def word_breaks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each typesetter's break inside a word of `text`: what `join_broken_words` takes out."""
    return [] if text.isascii() else [match.span() for match in _HYPHEN_BREAK.finditer(text)]


def word_terms(word: str) -> list[str]:
    """The terms of one word taken out of its text (a matched word, a content word): `tokenize(word)`, or for
    a stopword, which only counts where its text named it ("the with statement"), that stopword read as
    named."""
    return tokenize(word) or tokenize(f'"{word}"')


def shown_words(text: str) -> str:
    """`text` as it is shown on one line: `join_broken_words`, and a compound hyphenated at a line end kept
    whole ("pre-\\n   computed" -> "pre-computed")."""
    return _COMPOUND_BREAK.sub("-", join_broken_words(text))


def shown_line(text: str) -> str:
    """`text` shown on one line: `shown_words`, and each run of whitespace, line breaks included, one space."""
    return " ".join(shown_words(text).split())


def shown_breaks(text: str) -> list[tuple[int, int]]:
    """(start, end) of what `shown_words` takes out of `text`, in order."""
    return sorted([*word_breaks(text), *(match.span(1) for match in _COMPOUND_BREAK.finditer(text))])


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _neighbour_in_capitals(text: str, start: int, end: int) -> bool:
    """Whether the word right before `text[start:end]` or right after it (within `_NEIGHBOUR_CHARS`) is in
    capitals."""
    i, lo = start - 1, max(0, start - _NEIGHBOUR_CHARS)
    while i >= lo and not _is_word_char(text[i]):
        i -= 1
    first = i
    while first >= lo and _is_word_char(text[first]):
        first -= 1
    j, hi = end, min(len(text), end + _NEIGHBOUR_CHARS)
    while j < hi and not _is_word_char(text[j]):
        j += 1
    last = j
    while last < hi and _is_word_char(text[last]):
        last += 1
    return any(
        any(c.isalpha() for c in word) and not any(c.islower() for c in word)
        for word in (text[first + 1 : i + 1], text[j:last])
    )


def acronym_stopwords(text: str) -> frozenset[int]:
    """Start offsets of the stopwords `text` writes as acronyms: in capitals, with no word in capitals right
    before or after it."""
    found = set()
    for match in _CAPITALS.finditer(text):
        start = match.start()
        if match.group() not in _CAPITAL_STOPWORDS or (start and _is_word_char(text[start - 1])):
            continue
        if not _neighbour_in_capitals(text, start, match.end()):
            found.add(start)
    return frozenset(found)


def _named_in(text: str) -> frozenset[int]:
    """Start offsets of the stopwords that `text` (ASCII, or already folded: lowercasing keeps every offset)
    names rather than uses: inside a quotation of at most `QUOTED_NAME_MAX_WORDS` words (the "with"
    statement, `is not`), or after "the" and before a word that is no stopword when they are keywords or
    operators (`NAMEABLE_AFTER_THE`: the with statement), or after "a" / "an" and before a word naming a piece
    of syntax (`SYNTAX_NOUNS`: a while loop, an if statement). Acronyms need the text's capitals:
    `acronym_stopwords`."""
    named: set[int] = set()
    for quote in _QUOTED.finditer(text):
        words = list(_WORD.finditer(quote.group(1)))
        if len(words) <= QUOTED_NAME_MAX_WORDS:
            named.update(quote.start(1) + w.start() for w in words if w.group().lower() in STOPWORDS)
    lowered = text.lower()
    for match in _AFTER_THE.finditer(lowered):
        if match.group(2) not in STOPWORDS:
            named.add(match.start(1))
    named.update(match.start(1) for match in _AFTER_A.finditer(lowered) if match.group(2) in SYNTAX_NOUNS)
    return frozenset(named)


# Past forms of irregular verbs, read as the verb ("Who wrote it?" and "it was written by"): Snowball stems
# suffixes only. Forms that are also other words are left out ("found", "left", "saw", "felt", "fell", ...).
_IRREGULAR_PAST = {
    form: verb
    for verb, forms in {
        "write": "wrote written",
        "begin": "began begun",
        "take": "took taken",
        "give": "gave given",
        "go": "went gone",
        "come": "came",
        "know": "knew known",
        "grow": "grew grown",
        "throw": "threw thrown",
        "draw": "drew drawn",
        "fly": "flew flown",
        "speak": "spoke spoken",
        "break": "broke broken",
        "choose": "chose chosen",
        "freeze": "froze frozen",
        "steal": "stole stolen",
        "drive": "drove driven",
        "ride": "rode ridden",
        "rise": "risen",
        "eat": "ate eaten",
        "fight": "fought",
        "buy": "bought",
        "bring": "brought",
        "think": "thought",
        "teach": "taught",
        "catch": "caught",
        "seek": "sought",
        "sell": "sold",
        "tell": "told",
        "win": "won",
        "sing": "sang sung",
        "swim": "swam swum",
        "drink": "drank drunk",
        "run": "ran",
        "sit": "sat",
        "build": "built",
        "send": "sent",
        "spend": "spent",
        "lose": "lost",
        "hold": "held",
        "keep": "kept",
        "sleep": "slept",
        "meet": "met",
        "lead": "led",
        "pay": "paid",
        "say": "said",
        "make": "made",
        "hear": "heard",
        "forget": "forgot forgotten",
        "hide": "hid hidden",
        "shake": "shook shaken",
        "strike": "struck stricken",
        "wear": "wore worn",
        "tear": "tore torn",
        "swear": "swore sworn",
        "weave": "wove woven",
        "stand": "stood",
        "understand": "understood",
        "become": "became",
        "forbid": "forbade forbidden",
        "undertake": "undertook undertaken",
        "withdraw": "withdrew withdrawn",
        "overthrow": "overthrew overthrown",
        "arise": "arose arisen",
        "awake": "awoke awoken",
        "bite": "bitten",
        "blow": "blew blown",
        "shoot": "shot",
        "slay": "slew slain",
        "sink": "sank sunk",
        "shrink": "shrank shrunk",
        "spring": "sprang sprung",
        "stink": "stank stunk",
        "feed": "fed",
        "flee": "fled",
        "bleed": "bled",
        "breed": "bred",
        "dig": "dug",
        "hang": "hung",
        "cling": "clung",
        "sting": "stung",
        "swing": "swung",
    }.items()
    for form in forms.split()
}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(_IRREGULAR_PAST.get(word, word)))


def tokenize(text: str) -> list[str]:
    """Index and query terms of `text`, in order, duplicates kept."""
    joined = join_broken_words(text)
    folded = fold(joined)
    named = _named_in(folded)
    if (acronyms := acronym_stopwords(joined)) and len(folded) != len(joined):
        return span_terms(text)  # a ligature folded into two letters: offsets differ (`named_stopwords` maps them)
    named |= acronyms  # folding keeps the offsets of every word
    if not named:
        return [stem(w) for w in _WORD.findall(folded) if w not in STOPWORDS]
    return [stem(w) for m in _WORD.finditer(folded) if (w := m.group()) not in STOPWORDS or m.start() in named]


def named_stopwords(text: str) -> frozenset[int]:
    """Start offsets (into `text`) of the stopwords that `text` names rather than uses (`_named_in`), judged
    as `tokenize` judges them: on the text with typesetter's breaks joined and folded ("‘Hé’" names "he")."""
    if text.isascii():
        return _named_in(text) | acronym_stopwords(text)
    breaks = word_breaks(text)
    joined = text
    kept: Sequence[int] = range(len(text))  # offset in `joined` (then in `folded`) -> offset in `text`
    if breaks:
        dropped = {i for start, end in breaks for i in range(start, end)}
        kept = [i for i in range(len(text)) if i not in dropped]
        joined = "".join(text[i] for i in kept)
    acronyms = frozenset(kept[offset] for offset in acronym_stopwords(joined))  # judged before folding: cased
    folded = fold(joined)
    if len(folded) != len(joined):  # a ligature folds into two letters: fold character by character
        pieces = [fold(c) for c in joined]
        folded = "".join(pieces)
        kept = [kept[i] for i, piece in enumerate(pieces) for _ in piece]
    return acronyms | frozenset(kept[offset] for offset in _named_in(folded))


def span_terms(text: str) -> list[str]:
    """The terms of `term_spans(text)` without their offsets (a faster path: no match objects)."""
    if named_stopwords(text):
        return [term for term, _, _ in term_spans(text)]
    if text.isascii():
        return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
    words = (_HYPHEN_BREAK.sub("", word) for word in _WORD_ACROSS.findall(text))
    return [stem(term) for term in map(_folded_word, words) if term is not None]


def term_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """(term, char_start, char_end) for each non-stopword word of `text`, offsets into `text` itself."""
    return _ascii_term_spans(text) if text.isascii() else _folded_term_spans(text)


def word_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """`term_spans(text)` before stemming: (folded word, char_start, char_end) of each non-stopword word."""
    return _ascii_word_spans(text) if text.isascii() else _folded_word_spans(text)


def _ascii_term_spans(text: str) -> Iterator[tuple[str, int, int]]:
    return ((stem(word), start, end) for word, start, end in _ascii_word_spans(text))


def _folded_term_spans(text: str) -> Iterator[tuple[str, int, int]]:
    return ((stem(word), start, end) for word, start, end in _folded_word_spans(text))


def _ascii_word_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """`_folded_word_spans` for ASCII text, faster: lowercasing keeps every offset and word boundary."""
    named = named_stopwords(text)
    for match in _WORD.finditer(text.lower()):
        if (word := match.group()) not in STOPWORDS or match.start() in named:
            yield word, match.start(), match.end()


def _folded_word_spans(text: str) -> Iterator[tuple[str, int, int]]:
    named = named_stopwords(text)
    for match in _WORD_ACROSS.finditer(text):
        word = _folded_word(_HYPHEN_BREAK.sub("", match.group()), named=match.start() in named)
        if word is not None:
            yield word, match.start(), match.end()


def _folded_word(word: str, named: bool = False) -> str | None:
    """The folded, unstemmed term a `\\w+` word of the text stands for; None for a stopword (unless `named`),
    or when folding splits it into several words."""
    folded = [word.lower()] if word.isascii() else _WORD.findall(fold(word))
    return folded[0] if len(folded) == 1 and (named or folded[0] not in STOPWORDS) else None
