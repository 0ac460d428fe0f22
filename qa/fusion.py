"""Pure rank fusion. Inputs are rankings of passage rows, best first; rows double as the stable
paragraph-id order (file path, then paragraph number), which breaks every tie."""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """score(row) = sum_i weight_i / (k + rank_i(row)), ranks from 1; sorted by score, then row."""
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, row in enumerate(ranking, start=1):
            scores[row] = scores.get(row, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def min_max(scores: Sequence[float]) -> list[float]:
    """Scale to [0, 1] by the minimum and maximum; all-equal scores become 1.0."""
    if not scores:
        return []
    low, high = min(scores), max(scores)
    if high <= low:
        return [1.0] * len(scores)
    return [(s - low) / (high - low) for s in scores]


def convex_fusion(
    rows: Sequence[int], lexical: Sequence[float], dense: Sequence[float], lexical_weight: float
) -> list[tuple[int, float]]:
    """score(row) = w * minmax(lexical) + (1 - w) * minmax(dense), both normalised over `rows` (the union
    of the candidates, each with both scores); sorted by score, then row."""
    if not len(rows) == len(lexical) == len(dense):
        raise ValueError("one lexical and one dense score per row")
    if not 0.0 <= lexical_weight <= 1.0:
        raise ValueError("the lexical weight must be between 0 and 1")
    fused = {
        row: lexical_weight * lex + (1 - lexical_weight) * den
        for row, lex, den in zip(rows, min_max(lexical), min_max(dense), strict=True)
    }
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
