"""The numpy paths of the second stage and the answer stage give the Python paths' results to the bit."""

from __future__ import annotations

import random

import numpy as np

from index.sentence_terms import MISSING, StoredSentences
from index.sentences import sentences_of
from index.tokenize import span_terms, tokenize
from qa.answer import matched_terms, stored_matched_terms
from qa.term_hits import TermHits, stored_term_hits, term_hits


def _stored(sentences: list[list[int]], spans: list[tuple[int, int]] | None = None) -> StoredSentences:
    ids = np.array([t for s in sentences for t in s], dtype=np.int32)
    lengths = np.array([len(s) for s in sentences], dtype=np.int64)
    return StoredSentences(tuple(spans or [(0, 0)] * len(sentences)), lengths, ids)


def test_all_candidates_at_once_equal_one_passage_at_a_time() -> None:
    rng = random.Random(7)
    for _ in range(400):
        vocabulary = rng.randint(3, 40)
        passages = [
            [[rng.randrange(-1, vocabulary) for _ in range(rng.randint(0, 25))] for _ in range(rng.randint(1, 7))]
            for _ in range(rng.randint(1, 30))
        ]
        question = rng.sample(range(vocabulary), rng.randint(0, min(8, vocabulary)))
        weights = {term: rng.choice([0.0, rng.uniform(0.01, 9.0)]) for term in question}
        terms = question + [rng.randrange(vocabulary) for _ in range(rng.randint(0, 3))]
        pairs = list(dict.fromkeys(zip(terms, terms[1:], strict=False)))
        expected = [term_hits(p, weights, pairs) for p in passages]
        assert stored_term_hits([_stored(p) for p in passages], weights, pairs) == expected
        # a section heading's terms, held by every sentence of its passages
        contexts = [set(rng.sample(range(vocabulary), rng.randint(0, 3))) for _ in passages]
        expected = [term_hits(p, weights, pairs, c) for p, c in zip(passages, contexts, strict=True)]
        assert stored_term_hits([_stored(p) for p in passages], weights, pairs, contexts) == expected


def test_a_heading_term_counts_for_every_sentence_and_the_passage() -> None:
    weights = {5: 1.0, 2: 3.0}
    (plain,) = stored_term_hits([_stored([[2, 9], [7]])], weights, [])
    (headed,) = stored_term_hits([_stored([[2, 9], [7]])], weights, [], [{5, 8}])
    assert plain.coverages == (0.75, 0.0) and plain.passage_coverage == 0.75
    assert headed.coverages == (1.0, 0.25) and headed.passage_coverage == 1.0
    assert headed == term_hits([[2, 9], [7]], weights, [], {5, 8})


def test_hits_count_distinct_terms_in_the_question_order() -> None:
    weights = {5: 1.0, 2: 3.0}
    (hits,) = stored_term_hits([_stored([[2, 2, 9], [5, 2], [7]])], weights, [(5, 2)])
    assert hits == TermHits((0.75, 1.0, 0.0), best=1, phrases=1.0, proximity=2 / 2, passage_coverage=1.0)
    assert stored_term_hits([], weights, []) == []
    (nothing,) = stored_term_hits([_stored([[1, 3]])], {}, [])
    assert nothing == TermHits((0.0,), 0, 0.0, 0.0, 0.0)


def test_matched_words_from_stored_ids_equal_the_tokenized_text() -> None:
    texts = [
        "Russian jets struck a weapons depot in Idlib. The depot belonged to HTS; jets returned later.",
        "Erdoğan's café in İstanbul served crème brûlée. Cafés closed at 10 p.m. Naïve guests stayed.",
        "Nothing here. Only stopwords and the: of, to.",
    ]
    questions = ["Who struck the depot with jets?", "Which cafe served creme brulee?", "naive erdogan"]
    vocabulary: dict[str, int] = {}
    for text in texts:
        for term in span_terms(text):
            vocabulary.setdefault(term, len(vocabulary))
    known = dict(list(vocabulary.items())[::2])  # every other term is missing from the vocabulary
    for text in texts:
        spans = sentences_of(text)
        ids = [[known.get(term, MISSING) for term in span_terms(text[a:b])] for a, b in spans]
        stored = _stored(ids, spans)
        for question in questions:
            weights = dict.fromkeys(tokenize(question), 1.0)
            question_ids = {known[t] for t in weights if t in known}
            assert stored_matched_terms(text, stored, question_ids, weights) == matched_terms(text, weights)
