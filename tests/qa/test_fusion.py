from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qa.fusion import reciprocal_rank_fusion

rankings = st.lists(st.lists(st.integers(0, 50), unique=True, max_size=20), min_size=1, max_size=3)


@given(rankings)
def test_rrf_is_sorted_unique_and_covers_every_input(lists: list[list[int]]) -> None:
    fused = reciprocal_rank_fusion(lists)
    rows = [r for r, _ in fused]
    assert len(rows) == len(set(rows)) == len({r for ranking in lists for r in ranking})
    keys = [(-s, r) for r, s in fused]
    assert keys == sorted(keys)


@given(st.lists(st.lists(st.integers(0, 50), unique=True, max_size=20), min_size=2, max_size=2))
def test_rrf_does_not_depend_on_input_order(lists: list[list[int]]) -> None:
    # Two rankings (BM25 and dense): a + b == b + a exactly, so the fused order is the same.
    assert reciprocal_rank_fusion(lists) == reciprocal_rank_fusion(list(reversed(lists)))


def test_rrf_values_and_ties() -> None:
    fused = reciprocal_rank_fusion([[3, 1], [1, 3]], k=60)
    assert fused == [(1, 1 / 61 + 1 / 62), (3, 1 / 61 + 1 / 62)]  # tie broken by row
    assert reciprocal_rank_fusion([[5], [7]])[0][0] == 5
    top = reciprocal_rank_fusion([[1, 2], [2]])
    assert top[0][0] == 2
