"""Copies of a passage folded into one slot (qa/duplicates.py), over catalog records as the index returns them."""

from __future__ import annotations

from collections.abc import Sequence

from index.catalog import PassageRecord
from qa.duplicates import collapse_copies, distinct_head, text_key
from qa.retrieve import Candidate


def _record(row: int, text: str) -> PassageRecord:
    return PassageRecord(row, f"doc{row}.txt#p1", row, 1, 0, "text", 1, 1, 0, len(text), text, row, None)


TEXTS = {
    0: "Default values are evaluated once.",
    1: "Default values are\n   evaluated once.",  # the same words, wrapped and indented elsewhere
    2: "The same \u201cpre-\ncomputed\u201d value is used.",
    3: "The same \u201cpre-computed\u201d value is used.",
    4: "A function definition does not execute the body.",
    5: "Default values are evaluated once.",
    6: "Lambdas cannot contain statements.",
}
RECORDS = {row: _record(row, text) for row, text in TEXTS.items()}


def test_copies_share_a_key_whatever_their_wrapping() -> None:
    assert text_key(TEXTS[0]) == text_key(TEXTS[1]) == text_key(TEXTS[5])
    assert text_key(TEXTS[2]) == text_key(TEXTS[3]) != text_key(TEXTS[0])


def test_the_head_reads_on_until_it_has_k_distinct_passages() -> None:
    read: list[list[int]] = []

    def passages(rows: Sequence[int]) -> dict[int, PassageRecord]:
        read.append(list(rows))
        return {row: RECORDS[row] for row in rows}

    ranking = [0, 1, 5, 2, 3, 4, 6]
    # four rows read (twice k) hold two distinct passages: no more are read, so 2's copy at rank 5 is not seen
    assert distinct_head(ranking, 2, passages) == [(0, (1, 5)), (2, ())]
    assert read == [[0, 1, 5, 2]]
    read.clear()
    assert distinct_head(ranking, 4, passages) == [(0, (1, 5)), (2, (3,)), (4, ()), (6, ())]
    assert read[-1] == ranking  # seven rows to find four distinct passages
    assert distinct_head([0, 1], 3, passages) == [(0, (1,))]  # the ranking ends first


def test_collapsing_keeps_the_order_and_every_copy_s_own_copies() -> None:
    ranked = [Candidate(row, 1.0 - row / 10, None, None, None, None) for row in (4, 0, 2, 1, 3)]
    ranked[3] = Candidate(1, 0.7, None, None, None, None, duplicates=(5,))
    collapsed = collapse_copies(ranked, RECORDS)
    assert [(c.row, c.duplicates) for c in collapsed] == [(4, ()), (0, (1, 5)), (2, (3,))]
