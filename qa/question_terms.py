"""The words of a question as typed: its search terms (`index.tokenize.tokenize`, less the words of its
question phrase) and the names it writes.

"How many IS sites were hit?" asks for a number; "many" names nothing the answer says ("nine Islamic State
(IS) sites"), and as a term it found "many of the targets ... have hit" first. The quantity word of "how
many" / "how much" is dropped, and "happen" in a question with a question word ("What happened on February
20?" is answered by "On February 20, ... reported several mass attacks", "When did it happen?" by "... on
Wednesday"); other words after "how" stay ("How long is the Nile?" is answered by "6,650 km long").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from collections.abc import Set as AbstractSet

from index.tokenize import term_spans, tokenize

# the question's phrasing: the word after "how" in "how many" / "how much", "kind" in "what kind of" (type,
# sort), "long ago" in "how long ago", the preposition of "since when" / "until when", "in what order"
_PHRASING = re.compile(
    r"\b(how)\s+(?:many|much|long\s+ago)\b|\b(what|which)\s+(?:kinds?|types?|sorts?)\s+of\b"
    r"|\b(?:since|until|till)\s+(when)\b|\bin\s+(what|which)\s+order\b",
    re.IGNORECASE,
)


_WH_WORD = re.compile(r"\b(?:who|whom|whose|what|when|where|why|how|which)\b", re.IGNORECASE)
_HAPPEN = re.compile(r"\bhappen(?:s|ed|ing)?\b", re.IGNORECASE)


def question_terms(question: str) -> list[str]:
    """The BM25 terms of `question`: its terms (in order, repeats kept) without the words of its phrasing
    ("how many", "how much", "what kind of", "how long ago", "since when", "in what order", and "happen" in a
    question with a question word: "When did the series of strikes happen?" is answered by "over the winter of
    1973-74")."""
    text = _PHRASING.sub(lambda m: next(word for word in m.groups() if word), question)
    if _WH_WORD.search(text):
        text = _HAPPEN.sub(" ", text)
    return tokenize(text)


_WORD = re.compile(r"[\w'’-]+")
_SENTENCE_OPENERS = frozenset('.?!:;"“(')  # marks after which (and spaces) a sentence's first word comes


def _starts_sentence(text: str, start: int) -> bool:
    """Whether the word at `start` comes first in a sentence: nothing but spaces and marks before it back to
    the text's start or to one of `_SENTENCE_OPENERS`."""
    i = start - 1
    while i >= 0 and not (text[i].isalnum() or text[i] == "_" or text[i] in _SENTENCE_OPENERS):
        i -= 1
    return i < 0 or text[i] in _SENTENCE_OPENERS


def question_names(question: str) -> list[str]:
    """The names `question` writes, in order: capitalised words ("Putin", "IS", "WHO") that start no sentence;
    no stopword ("Of" in a title), no single letter ("big O"), no code with digits, whose spelling varies
    ("YAP1", "Romans3")."""
    term_starts = {start for _, start, _ in term_spans(question)}  # stopwords judged in context: "WHAT IS NEW"
    names = []
    for match in _WORD.finditer(question):
        word = match.group().strip("'’-")
        start = match.start() + len(match.group()) - len(match.group().lstrip("'’-"))
        if (
            len(word) > 1
            and word[0].isupper()
            and not any(c.isdigit() for c in word)
            and start in term_starts
            and not _starts_sentence(question, match.start())
        ):
            names.append(word)
    return names


# a name written as its place's people or language: "Rwandan" of "Rwanda", "Iranian", "Iraqi", "Parisian"
_DEMONYM_ENDINGS = ("ian", "an", "ese", "n", "i")


def demonym_places(term: str) -> list[str]:
    """The terms `term` may be the demonym of ("rwandan" -> ["rwand", "rwanda"]): itself less
    a demonym's ending, at least four letters left."""
    return [term[: -len(end)] for end in _DEMONYM_ENDINGS if term.endswith(end) and len(term) - len(end) >= 4]


def held_terms(terms: Collection[str], holds: Callable[[list[str]], AbstractSet[str]]) -> set[str]:
    """The `terms` that `holds` (which of a list of terms a document, or the vocabulary, holds) holds, or the
    place of which it holds when they are demonyms ("rwandan" where the text writes "Rwanda")."""
    places = {t: demonym_places(t) for t in terms}
    found = holds(sorted(set(terms) | {p for ps in places.values() for p in ps}))
    return {t for t in terms if t in found or any(p in found for p in places[t])}


def as_written(question: str, terms: Iterable[str]) -> str:
    """`terms` of `question` as the question writes them, in the order it does, joined by commas ("Peskov,
    sorties" for the terms "peskov" and "sorti"); a term it does not write is shown as it is."""
    written: dict[str, str] = {}
    for term, start, end in term_spans(question):
        written.setdefault(term, question[start:end])
    position = {term: i for i, term in enumerate(written)}
    wanted = sorted(set(terms), key=lambda t: (position.get(t, len(position)), t))
    return ", ".join(written.get(term, term) for term in wanted)
