"""Conversation state: earlier turns, and the retrieval query a follow-up question stands for.

Deterministic, no language model: a question that depends on earlier turns (pronouns, few content
words) borrows the key terms of the previous question and of the answer the user was shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.tokenize import STOPWORDS, tokenize
from qa.types import Answer

_WORD = re.compile(r"[\w'’]+")
_REFERRING = frozenset(
    """it its it's they them their theirs he him his she her hers this that these those there then
    such one ones same former latter""".split()
)
_STANDALONE_MIN_TERMS = 4  # a question with this many content terms and no referring word stands alone


@dataclass
class Conversation:
    """The turns so far; `retrieval_query` decides what the next question searches for."""

    turns: list[Answer] = field(default_factory=list)

    def clear(self) -> None:
        self.turns.clear()

    def add(self, answer: Answer) -> None:
        self.turns.append(answer)

    def is_follow_up(self, question: str) -> bool:
        if not self.turns:
            return False
        words = [w.lower().strip("'’") for w in _WORD.findall(question)]
        refers = any(w in _REFERRING for w in words)
        content = [w for w in words if w not in STOPWORDS and w not in _REFERRING]
        return refers or len(content) < _STANDALONE_MIN_TERMS - 1

    def retrieval_query(self, question: str) -> str:
        """The question itself, or, for a follow-up, the question plus the context it leaves out."""
        if not self.is_follow_up(question):
            return question
        previous = self.turns[-1]
        own = set(tokenize(question))
        context = [previous.question]
        if previous.answer is not None:
            context.append(previous.answer.text)
        extra = " ".join(context)
        carried = [w for w in _WORD.findall(extra) if tokenize(w) and not set(tokenize(w)) <= own]
        seen: dict[str, None] = {}
        for word in carried:
            seen.setdefault(word, None)
        return question if not seen else f"{question} {' '.join(list(seen)[:24])}"
