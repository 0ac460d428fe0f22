"""Where a question's terms fall in its candidate passages' sentences: the counts the second stage
(qa/rerank.py) turns into features. Two ways to get them, with the same results to the last bit:
`term_hits` walks one passage's sentences in Python (terms as text or as ids), `stored_term_hits` does
every candidate at once with numpy, for the term ids the index stored (the default; 1.7-1.8x less time
for a question's 30 candidates, `benchmarks/bench_term_hits.py`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import chain
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from index.sentence_terms import StoredSentences
from qa.answer import covered_share

TermT = TypeVar("TermT", bound=Hashable)


@dataclass(frozen=True)
class TermHits:
    coverages: tuple[float, ...]  # per sentence: its share of the question's idf mass
    best: int  # the sentence covering most (the first of equals)
    phrases: float  # the largest share of the question's adjacent term pairs one sentence holds in order
    proximity: float  # distinct question terms held / the shortest run of passage terms holding them all
    passage_coverage: float  # the whole passage's share of the question's idf mass


def term_hits(
    sentences: Sequence[Sequence[TermT]],
    weights: Mapping[TermT, float],
    pairs: Sequence[tuple[TermT, TermT]],
    context: AbstractSet[TermT] = frozenset(),
) -> TermHits:
    """The hits in one passage, given its sentences' terms in order. `context`: the terms of the heading
    of the passage's section, which every sentence of it is about: they count as held by each sentence
    (coverage) and by the passage."""
    coverages: list[float] = []
    best_phrases = 0.0
    positions: list[tuple[int, TermT]] = []
    held = context & weights.keys()
    found: set[TermT] = set(held)
    question_terms = weights.keys() | {term for pair in pairs for term in pair}
    only_context = covered_share(weights, held) if held else 0.0
    offset = 0
    for terms in sentences:
        present = set(terms)
        offset += len(terms)
        if present.isdisjoint(question_terms):  # most sentences: no question term, no coverage, no pair
            coverages.append(only_context)
            continue
        start = offset - len(terms)
        positions += [(start + i, t) for i, t in enumerate(terms) if t in weights]
        found |= present.intersection(weights)
        coverages.append(covered_share(weights, present | held))
        if pairs:
            adjacent = set(zip(terms, terms[1:], strict=False))
            best_phrases = max(best_phrases, sum(1 for pair in pairs if pair in adjacent) / len(pairs))
    passage_coverage = covered_share(weights, found)
    best = min(range(len(coverages)), key=lambda i: (-coverages[i], i)) if coverages else 0
    proximity = _proximity(positions, len({t for _, t in positions}))
    return TermHits(tuple(coverages), best, best_phrases, proximity, passage_coverage)


def _proximity(positions: Sequence[tuple[int, TermT]], needed: int) -> float:
    """Distinct question terms present (`needed`) / length of the shortest run of the passage's terms
    that holds all of them (`positions`: where each question term occurs, in order)."""
    if needed == 0:
        return 0.0
    shortest = positions[-1][0] - positions[0][0] + 1
    counts: Counter[TermT] = Counter()
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


def stored_term_hits(
    passages: Sequence[StoredSentences],
    weights: Mapping[int, float],
    pairs: Sequence[tuple[int, int]],
    contexts: Sequence[AbstractSet[int]] | None = None,
) -> list[TermHits]:
    """`term_hits` of each passage, all at once (`contexts`: each passage's `context`, if any). Sums run
    over the question's terms in the order of `weights`, as `term_hits`' do, so every figure is the same
    float."""
    if not passages:
        return []
    universe = list(dict.fromkeys([*weights, *chain.from_iterable(pairs)]))  # weights' terms first
    width, known = len(universe), len(weights)
    total = sum(weights.values())
    n_passages = len(passages)
    flat = np.concatenate([p.ids for p in passages])
    lengths = np.concatenate([p.lengths for p in passages])
    sentence_counts = [len(p.lengths) for p in passages]
    n_sentences = len(lengths)
    sentence_of = np.repeat(np.arange(n_sentences), lengths)
    passage_of_sentence = np.repeat(np.arange(n_passages), sentence_counts)
    passage_of = passage_of_sentence[sentence_of]
    local, hit = _local_indices(flat, universe)  # each term's place in `universe`, and whether it is there
    weighted = np.flatnonzero(hit & (local < known))

    first_sentences = np.cumsum([0, *sentence_counts])
    coverages, covered = np.zeros(n_sentences), np.zeros(n_passages)
    held_passages, held_terms = _context_hits(contexts, weights)  # (passage, weight index) of each
    if total > 0 and (len(weighted) or len(held_passages)):
        weight_of = np.array(list(weights.values()), dtype=np.float64)
        counts = np.array(sentence_counts)[held_passages]  # every sentence of the passage holds its context
        held_sentences = np.repeat(first_sentences[:-1][held_passages] - np.cumsum([0, *counts[:-1]]), counts)
        held_sentences = held_sentences + np.arange(len(held_sentences))
        coverages = (
            _idf_sums(
                np.concatenate([sentence_of[weighted], held_sentences]),
                np.concatenate([local[weighted], np.repeat(held_terms, counts)]),
                n_sentences,
                weight_of,
            )
            / total
        )
        covered = (
            _idf_sums(
                np.concatenate([passage_of[weighted], held_passages]),
                np.concatenate([local[weighted], held_terms]),
                n_passages,
                weight_of,
            )
            / total
        )

    phrases = np.zeros(n_passages)
    if pairs and len(flat) > 1:
        index = {term: i for i, term in enumerate(universe)}
        codes, counts = np.unique([index[a] * width + index[b] for a, b in pairs], return_counts=True)
        at = np.flatnonzero(hit[:-1] & hit[1:] & (sentence_of[:-1] == sentence_of[1:]))
        found = local[at] * width + local[at + 1]
        slot = np.minimum(np.searchsorted(codes, found), len(codes) - 1)
        matched = codes[slot] == found
        if matched.any():
            held = np.zeros((n_sentences, len(codes)), bool)  # sentence holds question pair j in order
            held[sentence_of[at[matched]], slot[matched]] = True
            np.maximum.at(phrases, passage_of_sentence, (held * counts).sum(axis=1) / len(pairs))

    starts = np.searchsorted(passage_of, np.arange(n_passages))  # each passage's first term in `flat`
    places = weighted - starts[passage_of[weighted]]
    proximity = _proximities(places, local[weighted], passage_of[weighted], n_passages, known)
    order = np.lexsort((np.arange(n_sentences), -coverages, passage_of_sentence))  # by passage, best first
    firsts = np.minimum(first_sentences[:-1], max(n_sentences - 1, 0))  # (a passage has a sentence)
    best = (order[firsts] - firsts).tolist() if n_sentences else [0] * n_passages
    bounds = first_sentences.tolist()
    coverage_list, phrase_list, covered_list = coverages.tolist(), phrases.tolist(), covered.tolist()
    proximity_list = proximity.tolist()
    return [
        TermHits(
            tuple(coverage_list[bounds[p] : bounds[p + 1]]),
            best[p],
            phrase_list[p],
            proximity_list[p],
            covered_list[p],
        )
        for p in range(n_passages)
    ]


def _proximities(
    places: npt.NDArray[np.int64],
    terms: npt.NDArray[np.int64],
    passage_of: npt.NDArray[np.int64],
    n_passages: int,
    n_terms: int,
) -> npt.NDArray[np.float64]:
    """`_proximity` of each passage from its question-term hits (`places` among the passage's terms, in
    order, passage after passage; `terms` as indices below `n_terms`): the shortest run holding every
    distinct term ends at a hit and starts at the latest earlier occurrence of the term seen least lately."""
    out = np.zeros(n_passages)
    if not len(places):
        return out
    present = np.zeros((n_passages, n_terms), bool)
    present[passage_of, terms] = True
    needed = present.sum(axis=1)
    span = int(places.max()) + 2
    seen = np.full((len(places), n_terms), -1, dtype=np.int64)  # passage * span + place of the hit
    seen[np.arange(len(places)), terms] = passage_of * span + places
    np.maximum.accumulate(seen, axis=0, out=seen)
    seen -= (passage_of * span)[:, None]  # below 0: not yet seen in this hit's passage
    wanted = present[passage_of]
    complete = np.all((seen >= 0) | ~wanted, axis=1)
    start = np.where(wanted, seen, np.iinfo(np.int64).max).min(axis=1)
    lengths = np.where(complete, places - start + 1, np.iinfo(np.int64).max)
    shortest = np.full(n_passages, np.iinfo(np.int64).max)
    np.minimum.at(shortest, passage_of, lengths)
    held = needed > 0
    out[held] = needed[held] / shortest[held]
    return out


def _context_hits(
    contexts: Sequence[AbstractSet[int]] | None, weights: Mapping[int, float]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(passage, index of the term in `weights`) for every question term a passage's context holds."""
    if not contexts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    place = {term: i for i, term in enumerate(weights)}
    pairs = [(p, place[t]) for p, context in enumerate(contexts) for t in sorted(context) if t in place]
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    held = np.array(pairs, dtype=np.int64)
    return held[:, 0], held[:, 1]


def _idf_sums(
    groups: npt.NDArray[np.int64], terms: npt.NDArray[np.int64], n_groups: int, weight_of: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per group, the summed weight of the distinct terms it holds, added in the order of `weight_of`
    (as Python's `sum` over the question's terms would)."""
    present = np.zeros((n_groups, len(weight_of)), bool)
    present[groups, terms] = True
    held = np.flatnonzero(present)  # by group, then in the terms' order
    sums = np.bincount(held // len(weight_of), weight_of[held % len(weight_of)], n_groups)
    return sums.astype(np.float64, copy=False)


def _local_indices(
    flat: npt.NDArray[np.int64], universe: list[int]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """For each term of `flat`: its index in `universe` (0 when absent), and whether it is there."""
    if not universe or not len(flat):
        return np.zeros(len(flat), np.int64), np.zeros(len(flat), bool)
    keys = np.array(universe, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    slot = np.minimum(np.searchsorted(ordered, flat), len(keys) - 1)
    hit = ordered[slot] == flat
    return np.where(hit, order[slot], 0), hit
