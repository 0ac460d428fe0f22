"""Second stage of the default hybrid ranking: evidence concentrated in one sentence.

A question usually has its answer in one sentence, and that sentence tends to repeat the question's rare
words, often in the same order. The first `depth` fused candidates get a bonus from three lexical
features of their best sentence (cheap: the passage text is tokenized, nothing is embedded):

- coverage: the largest share of the question's idf mass that one sentence holds;
- phrases: the largest share of the question's adjacent term pairs that one sentence holds in order;
- proximity: distinct matched question terms / the shortest run of passage terms holding all of them.

Then the first `cosine_depth` candidates get `cosine_weight` x the best cosine between the question and
their `sentences_per_passage` best-covered sentences, embedded now (the answer stage reuses these
vectors). Weights were tuned on the dev halves of SQuAD and SciFact (docs/quality.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.tokenize import term_spans
from qa.answer import sentences_of

Vector = npt.NDArray[np.float32]
EmbedFn = Callable[[list[str]], npt.NDArray[np.float32]]


@dataclass(frozen=True)
class RerankSettings:
    coverage_weight: float = 0.3
    phrase_weight: float = 0.2
    proximity_weight: float = 0.05
    depth: int = 30  # candidates given the lexical sentence features
    cosine_weight: float = 0.3
    cosine_depth: int = 3  # candidates whose best-covered sentences are embedded
    sentences_per_passage: int = 2

    @property
    def enabled(self) -> bool:
        return self.depth > 0 and (
            self.coverage_weight > 0 or self.phrase_weight > 0 or self.proximity_weight > 0 or self.cosine_weight > 0
        )


@dataclass(frozen=True)
class SentenceFeatures:
    coverage: float  # best sentence's share of the question's idf mass
    phrases: float  # best sentence's share of the question's adjacent term pairs
    proximity: float  # matched distinct terms / shortest passage run holding them all
    sentence_coverages: tuple[float, ...]  # per sentence, in order
    spans: tuple[tuple[int, int], ...]


def query_pairs(terms: Sequence[str]) -> list[tuple[str, str]]:
    """Distinct adjacent pairs of the question's terms (stopwords already gone), in order."""
    return list(dict.fromkeys(zip(terms, terms[1:], strict=False)))


def sentence_features(text: str, weights: Mapping[str, float], pairs: Sequence[tuple[str, str]]) -> SentenceFeatures:
    total = sum(weights.values())
    spans = sentences_of(text)
    coverages: list[float] = []
    best_phrases = 0.0
    passage_terms: list[str] = []
    for start, end in spans:
        terms = [term for term, _, _ in term_spans(text[start:end])]
        passage_terms += terms
        present = set(terms)
        coverages.append(sum(w for t, w in weights.items() if t in present) / total if total > 0 else 0.0)
        if pairs:
            adjacent = set(zip(terms, terms[1:], strict=False))
            best_phrases = max(best_phrases, sum(1 for pair in pairs if pair in adjacent) / len(pairs))
    return SentenceFeatures(
        coverage=max(coverages, default=0.0),
        phrases=best_phrases,
        proximity=_proximity(passage_terms, weights),
        sentence_coverages=tuple(coverages),
        spans=tuple(spans),
    )


def _proximity(terms: Sequence[str], weights: Mapping[str, float]) -> float:
    """Distinct question terms present / length of the shortest run of `terms` that holds all of them."""
    positions = [(i, t) for i, t in enumerate(terms) if t in weights]
    needed = len({t for _, t in positions})
    if needed == 0:
        return 0.0
    shortest = len(terms) + 1
    counts: Counter[str] = Counter()
    left = 0
    for right in range(len(positions)):
        counts[positions[right][1]] += 1
        while len(counts) == needed:
            shortest = min(shortest, positions[right][0] - positions[left][0] + 1)
            term = positions[left][1]
            counts[term] -= 1
            if counts[term] == 0:
                del counts[term]
            left += 1
    return needed / shortest


def rerank(
    fused: list[tuple[int, float]],
    texts: Mapping[int, str],
    weights: Mapping[str, float],
    pairs: Sequence[tuple[str, str]],
    query_vector: Vector | None,
    embed: EmbedFn,
    sentence_vectors: dict[str, Vector],
    settings: RerankSettings,
) -> list[tuple[int, float]]:
    """`fused` (row, score) best first, re-scored in its first `settings.depth` rows; the rest keeps its
    order below them. `sentence_vectors` (sentence text -> unit vector) is read and filled."""
    head, tail = fused[: settings.depth], fused[settings.depth :]
    if not head:
        return fused
    features = {row: sentence_features(texts[row], weights, pairs) for row, _ in head}
    scored = [
        (
            row,
            score
            + settings.coverage_weight * features[row].coverage
            + settings.phrase_weight * features[row].phrases
            + settings.proximity_weight * features[row].proximity,
        )
        for row, score in head
    ]
    scored.sort(key=lambda item: (-item[1], item[0]))
    if settings.cosine_weight > 0 and settings.cosine_depth > 0 and query_vector is not None:
        top = scored[: settings.cosine_depth]
        chosen = {row: _best_covered(texts[row], features[row], settings.sentences_per_passage) for row, _ in top}
        wanted = (s for sentences in chosen.values() for s in sentences if s not in sentence_vectors)
        missing = list(dict.fromkeys(wanted))
        if missing:
            sentence_vectors.update(zip(missing, embed(missing), strict=True))

        def best_cosine(row: int) -> float:
            return max(0.0, *(float(sentence_vectors[s] @ query_vector) for s in chosen[row]))

        top = [(row, score + settings.cosine_weight * best_cosine(row)) for row, score in top]
        top.sort(key=lambda item: (-item[1], item[0]))
        scored = top + scored[settings.cosine_depth :]
    return scored + tail  # the tail's fused scores are below every head score already


def _best_covered(text: str, features: SentenceFeatures, count: int) -> list[str]:
    """The `count` sentences of `text` covering most of the question (ties: earlier first)."""
    order = sorted(range(len(features.spans)), key=lambda i: (-features.sentence_coverages[i], i))[: max(count, 1)]
    return [text[features.spans[i][0] : features.spans[i][1]] for i in order]
