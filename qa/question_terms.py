"""The search terms of a question as typed: `index.tokenize.tokenize`, less the words of its question phrase.

"How many IS sites were hit?" asks for a number; "many" names nothing the answer says ("nine Islamic State
(IS) sites"), and as a term it found "many of the targets ... have hit" first. The quantity word of "how
many" / "how much" is dropped; other words after "how" stay ("How long is the Nile?" is answered by "6,650 km
long").
"""

from __future__ import annotations

import re

from index.tokenize import tokenize

_HOW_MUCH = re.compile(r"\b(how)\s+(?:many|much)\b", re.IGNORECASE)


def question_terms(question: str) -> list[str]:
    """The BM25 terms of `question`: its terms (in order, repeats kept) without "how many" / "how much"."""
    return tokenize(_HOW_MUCH.sub(r"\1", question))
