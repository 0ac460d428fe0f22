"""Passages that say the same thing take one slot: the best-ranked copy is shown, the others are cited with it.

A corpus often holds the same paragraph more than once: a file and its copy, two versions of a report, a
reference split into topic pages that repeat the overview's text, an e-mail quoting another. Shown as
separate answers they fill the slots with one piece of evidence; here each copy after the first is folded
into the first one's `duplicates` (its "also in" citations), and the slots go to what else was found.
Copies are passages whose text is the same once whitespace is ignored (line wrapping and indentation differ
between copies of the same words, and a compound may be hyphenated at a line end in one copy only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Protocol, TypeVar

from index.catalog import PassageRecord
from index.tokenize import shown_line


class Copyable(Protocol):
    @property
    def row(self) -> int: ...

    @property
    def duplicates(self) -> tuple[int, ...]: ...


C = TypeVar("C", bound=Copyable)


def text_key(text: str) -> str:
    """What two copies of a passage share: its words and punctuation as shown, whitespace aside (a word
    hyphenated across a line end in one copy is whole in the other)."""
    return shown_line(text)


def copies_grouped(rows: Sequence[int], records: Mapping[int, PassageRecord]) -> list[tuple[int, list[int]]]:
    """`rows` in order without copies, each with the rows after it that hold the same text (`text_key`)."""
    first: dict[str, int] = {}  # text key -> index in `kept`
    kept: list[tuple[int, list[int]]] = []
    for row in rows:
        key = text_key(records[row].text)
        if (at := first.get(key)) is None:
            first[key] = len(kept)
            kept.append((row, []))
        else:
            kept[at][1].append(row)
    return kept


def collapse_copies(candidates: Sequence[C], records: Mapping[int, PassageRecord]) -> list[C]:
    """`candidates` in order, each copy of an earlier one's text folded into that one's `duplicates`."""
    by_row = {c.row: c for c in candidates}
    collapsed = []
    for row, copies in copies_grouped(list(by_row), records):
        folded = (*by_row[row].duplicates, *(r for copy in copies for r in (copy, *by_row[copy].duplicates)))
        collapsed.append(replace(by_row[row], duplicates=folded) if folded else by_row[row])  # type: ignore[type-var]
    return collapsed


def distinct_head(
    rows: Sequence[int], k: int, passages: Callable[[Sequence[int]], Mapping[int, PassageRecord]]
) -> list[tuple[int, tuple[int, ...]]]:
    """The first `k` distinct passages of the ranking `rows`, each with the rows of its copies found so far:
    the records of twice as many rows as still needed are read until `k` are found or the ranking ends."""
    seen = min(len(rows), 2 * k)
    while True:
        kept = copies_grouped(rows[:seen], passages(rows[:seen]))
        if len(kept) >= k or seen == len(rows):
            return [(row, tuple(copies)) for row, copies in kept[:k]]
        seen = min(len(rows), seen + 2 * (k - len(kept)))
