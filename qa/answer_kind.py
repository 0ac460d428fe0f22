"""What kind of answer a question asks for, and whether a sentence holds one (English question words).

A question that asks "when", "how many" or "who" is answered by a sentence holding a date (a year, a
month, a day of the week), a number or a name that the question itself does not already hold. A passage
whose best sentence matches the question's words but holds no such thing is less likely to be the
answer. Cheap, deterministic, and only a hint: the
second stage (qa/rerank.py) gives it a small weight.
"""

from __future__ import annotations

import re
from typing import Literal

AnswerKind = Literal["time", "number", "name"]
FollowUpKind = Literal["time", "number", "name", "place"]  # "Where?" asked alone asks for a place

_WORD = re.compile(r"\w+")
_YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})\b")
_MONTH_OR_WEEKDAY = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+")
# a place: a capitalised word after a preposition of place ("in the Idlib de-escalation zone", "at Hmeimim")
_PLACE = re.compile(r"\b(?:in|at|near|from|into|inside|outside|across|around|to)\s+(?:the\s+)?([A-Z][\w-]*)")
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred "
    "thousand million billion half dozen".split()
)
_TIME_PHRASES = ("what year", "which year", "what date", "what day", "what century", "what decade", "how long ago")
_NUMBER_PHRASES = ("how many", "how much", "how long", "how old", "how far", "how large", "what percent")


# the question word that opens a question, after a conjunction or a preposition ("And when?", "So who did it?",
# "Since when?", "By whom?", "From where?")
_OPENING = re.compile(
    r"\W*(?:(?:and|but|so|then)\W+)?(?:(?:since|until|till|from|by|with|for|to)\W+)?(when|who|whom|whose|where)\b"
)


def _opening_word(text: str) -> str:
    """The question word that opens `text` (lowercased, spaces collapsed), or ""."""
    opening = _OPENING.match(text)
    return opening.group(1) if opening else ""


def answer_kind(question: str) -> AnswerKind | None:
    """The kind of answer `question` asks for, when its question words say so ("When?" asks for a time)."""
    text = " ".join(question.lower().split())
    word = _opening_word(text)
    if word == "when" or any(phrase in text for phrase in _TIME_PHRASES):
        return "time"
    if any(phrase in text for phrase in _NUMBER_PHRASES):
        return "number"
    if word or " who " in text:
        return "name"
    return None


def follow_up_kind(question: str) -> FollowUpKind | None:
    """What a follow-up with no words of its own asks for: `answer_kind`, but a place for "Where?" ("Where
    exactly?"), which with no words to match needs more than any capitalised word."""
    kind = answer_kind(question)
    if kind == "name" and _opening_word(" ".join(question.lower().split())) == "where":
        return "place"
    return kind


def holds_follow_up_kind(kind: FollowUpKind | None, question: str, sentence: str) -> bool:
    """Whether `sentence` holds a `kind` of thing that `question` does not (a place: a capitalised word after
    "in", "at", "near", "from", ...)."""
    if kind != "place":
        return holds_answer_kind(kind, question, sentence)
    asked = {word.lower() for word in _WORD.findall(question)}
    return any(match.group(1).lower() not in asked for match in _PLACE.finditer(sentence))


def holds_answer_kind(kind: AnswerKind | None, question: str, sentence: str) -> bool:
    """Whether `sentence` holds a `kind` of thing (a year, a number, a name) that `question` does not."""
    if kind is None:
        return False
    asked = {word.lower() for word in _WORD.findall(question)}
    if kind == "time":  # a year, a month or a day of the week ("in September", "on Wednesday")
        dates = [*_YEAR.finditer(sentence), *_MONTH_OR_WEEKDAY.finditer(sentence)]
        return any(match.group().lower() not in asked for match in dates)
    if kind == "number":
        found = [match.group() for match in _NUMBER.finditer(sentence)]
        found += [word for word in _WORD.findall(sentence.lower()) if word in _NUMBER_WORDS]
        return any(value.lower() not in asked for value in found)
    names = [m.group().lower() for i, m in enumerate(_CAPITALISED.finditer(sentence)) if i > 0 or m.start() > 0]
    return any(name not in asked for name in names)
