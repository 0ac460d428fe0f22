"""Second stage of the default hybrid ranking: evidence concentrated in one sentence.

A question usually has its answer in one sentence, and that sentence tends to repeat the question's rare
words, often in the same order. The first `depth` fused candidates get a weighted bonus from cheap
features (the passage text is tokenized, nothing is embedded):

- coverage: the largest share of the question's idf mass that one sentence holds;
- phrases: the largest share of the question's adjacent term pairs that one sentence holds in order;
- proximity: distinct matched question terms / the shortest run of passage terms holding all of them;
- passage coverage: the whole passage's share of the question's idf mass;
- exact words: the best-covered sentence's share of the question's words as written (unstemmed; the
  words of the passage's section heading count as the sentence's, as its terms do for coverage);
- answer kind: the question asks when / how many / who, and the best-covered sentence holds a year /
  number / name that the question does not (qa/answer_kind.py);
- the passage's own cosine (its dense score, already known).

Then the first `cosine_depth` candidates of that order get `cosine_weight` x the best cosine between the
question and their `sentences_per_passage` best-covered sentences, whose vectors the index computed
(pooled from each passage's own forward pass: see `index.embed.pool_sentences`). The weights were
fitted (listwise logistic regression, rounded) on the dev halves of SQuAD and SciFact together, never on
their test halves (docs/quality.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from index.bounded_cache import BoundedCache
from index.sentence_terms import StoredSentences
from index.sentences import sentences_of
from index.tokenize import STOPWORDS, fold, span_terms
from qa.answer_kind import AnswerKind, answer_kind, holds_answer_kind
from qa.term_hits import TermHits, stored_term_hits, term_hits

Vector = npt.NDArray[np.float32]
Term = str | int  # a term as text, or its vocabulary id when the index stored the sentences' terms
EmbedFn = Callable[[list[str]], npt.NDArray[np.float32]]
StoredSentenceVectors = Callable[[list[int]], Mapping[int, npt.NDArray[np.float32]]]


@dataclass(frozen=True)
class RerankSettings:
    coverage_weight: float = 0.4
    phrase_weight: float = 0.4
    proximity_weight: float = 0.05
    passage_coverage_weight: float = 0.7
    exact_weight: float = 0.3
    answer_kind_weight: float = 0.15
    passage_cosine_weight: float = 0.75  # x the passage's own cosine (its dense score), clamped at 0
    depth: int = 30  # candidates given the lexical sentence features
    cosine_weight: float = 0.6
    cosine_depth: int = 3  # candidates whose best-covered sentences are embedded
    sentences_per_passage: int = 2

    @property
    def enabled(self) -> bool:
        weights = (*self.lexical_weights(), self.passage_cosine_weight, self.cosine_weight)
        return self.depth > 0 and any(w > 0 for w in weights)

    def lexical_weights(self) -> tuple[float, ...]:
        """Weights of `SentenceFeatures.lexical()`, in its order."""
        return (
            self.coverage_weight,
            self.phrase_weight,
            self.proximity_weight,
            self.passage_coverage_weight,
            self.exact_weight,
            self.answer_kind_weight,
        )


_WORD = re.compile(r"\w+")


def surface_words(text: str) -> frozenset[str]:
    """Distinct words of `text` as written (folded, stopwords dropped, not stemmed)."""
    return frozenset(w for w in _WORD.findall(fold(text)) if w not in STOPWORDS)


@dataclass(frozen=True)
class QuestionShape:
    """What the second stage reads from the question's text besides its terms."""

    text: str
    words: frozenset[str]  # surface words
    kind: AnswerKind | None

    @classmethod
    def of(cls, question: str) -> QuestionShape:
        return cls(question, surface_words(question), answer_kind(question))

    def words_in(self, text: str) -> int:
        """How many of the question's surface words `text` holds as whole words (`len(self.words &
        surface_words(text))`: the question's words hold no stopword); each word is found with `str.find`,
        the text is not tokenized."""
        if not self.words:
            return 0
        folded = fold(text)
        return sum(1 for word in self.words if _holds_whole_word(folded, word))


def _holds_whole_word(text: str, word: str) -> bool:
    """Whether `word` (word characters only) occurs in `text` between non-word characters, as the regular
    expression `\\w+` would cut it (a word character: `str.isalnum()` or "_")."""
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        start = text.find(word, start + 1)
    return False


@dataclass(frozen=True)
class SentenceFeatures:
    coverage: float  # best sentence's share of the question's idf mass
    phrases: float  # best sentence's share of the question's adjacent term pairs
    proximity: float  # matched distinct terms / shortest passage run holding them all
    passage_coverage: float  # the whole passage's share of the question's idf mass
    exact: float  # best-covered sentence's share of the question's surface words
    answer_kind: float  # 1.0 when the best-covered sentence holds the kind of answer the question asks for
    sentence_coverages: tuple[float, ...]  # per sentence, in order
    spans: tuple[tuple[int, int], ...]

    def lexical(self) -> tuple[float, ...]:
        """The features `RerankSettings.lexical_weights()` weigh, in that order."""
        return (self.coverage, self.phrases, self.proximity, self.passage_coverage, self.exact, self.answer_kind)


def query_pairs(terms: Sequence[str]) -> list[tuple[str, str]]:
    """Distinct adjacent pairs of the question's terms (stopwords already gone), in order."""
    return list(dict.fromkeys(zip(terms, terms[1:], strict=False)))


@dataclass(frozen=True)
class PassageSentences:
    """What the second stage reads from a passage whatever the question: its sentences' spans and the
    terms of each (`span_terms`), in order: as text, or as the vocabulary ids the index stored (the
    question's weights and pairs are then keyed by id too)."""

    spans: tuple[tuple[int, int], ...]
    terms: tuple[list[str], ...] | tuple[list[int], ...]

    @classmethod
    def of(cls, text: str) -> PassageSentences:
        spans = tuple(sentences_of(text))
        return cls(spans, tuple(span_terms(text[start:end]) for start, end in spans))


class PassageSentencesCache:
    """`PassageSentences` of passages by search row, for one index (rows never change their text): the
    questions of one topic meet the same candidates again. Up to `limit` rows (`BoundedCache`)."""

    def __init__(self, limit: int = 4096) -> None:
        self._rows: BoundedCache[int, PassageSentences] = BoundedCache(limit)

    def of(self, texts: Mapping[int, str]) -> dict[int, PassageSentences]:
        return self._rows.lookup(texts, lambda rows: {row: PassageSentences.of(texts[row]) for row in rows})


def sentence_features(
    text: str,
    weights: Mapping[Term, float],
    pairs: Sequence[tuple[Term, Term]],
    question: QuestionShape | None = None,
    sentences: PassageSentences | None = None,
) -> SentenceFeatures:
    """The features of passage `text` for a question (`sentences`: `PassageSentences.of(text)`, if known)."""
    analysed = sentences if sentences is not None else PassageSentences.of(text)
    return _features(text, analysed.spans, term_hits(analysed.terms, weights, pairs), question)


def passage_features(
    rows: Sequence[int],
    texts: Mapping[int, str],
    weights: Mapping[Term, float],
    pairs: Sequence[tuple[Term, Term]],
    question: QuestionShape | None = None,
    analysed: Mapping[int, PassageSentences | StoredSentences] | None = None,
    contexts: Mapping[int, AbstractSet[Term]] | None = None,
    sections: Mapping[int, str] | None = None,
) -> dict[int, SentenceFeatures]:
    """`sentence_features` of passages `rows` (`analysed`: what is known of them; `contexts`: the terms of
    a passage's section heading, keyed like `weights`, held by each of its sentences; `sections`: that
    heading, whose words as written count as the best sentence's for the exact-words feature). When every
    passage's sentences are as the index stored them (`weights` and `pairs` then keyed by term id),
    computed for all of them at once (`stored_term_hits`)."""
    known = analysed or {}
    headings = contexts or {}
    titles = sections or {}
    sentences = {row: known.get(row) or PassageSentences.of(texts[row]) for row in rows}
    stored = [sentences[row] for row in rows]
    if all(isinstance(s, StoredSentences) for s in stored):
        ids = cast(list[StoredSentences], stored)
        hits = stored_term_hits(
            ids,
            cast(Mapping[int, float], weights),
            cast(Sequence[tuple[int, int]], pairs),
            [cast(AbstractSet[int], headings.get(row, frozenset())) for row in rows] if headings else None,
        )
        return {
            row: _features(texts[row], s.spans, h, question, titles.get(row, ""))
            for row, s, h in zip(rows, ids, hits, strict=True)
        }
    return {
        row: _features(
            texts[row],
            s.spans,
            term_hits(s.terms, weights, pairs, headings.get(row, frozenset())),
            question,
            titles.get(row, ""),
        )
        for row, s in sentences.items()
    }


def _features(
    text: str, spans: Sequence[tuple[int, int]], hits: TermHits, question: QuestionShape | None, section: str = ""
) -> SentenceFeatures:
    coverages, best = hits.coverages, hits.best
    best_text = text[spans[best][0] : spans[best][1]]
    exact = answer = 0.0
    if question is not None:
        if question.words:
            exact = question.words_in(f"{best_text}\n{section}" if section else best_text) / len(question.words)
        answer = float(holds_answer_kind(question.kind, question.text, best_text))
    return SentenceFeatures(
        coverage=coverages[best],
        phrases=hits.phrases,
        proximity=hits.proximity,
        passage_coverage=hits.passage_coverage,
        exact=exact,
        answer_kind=answer,
        sentence_coverages=coverages,
        spans=tuple(spans),
    )


def rerank(
    fused: list[tuple[int, float]],
    texts: Mapping[int, str],
    weights: Mapping[Term, float],
    pairs: Sequence[tuple[Term, Term]],
    question: QuestionShape | None,
    query_vector: Vector | None,
    embed: EmbedFn,
    sentence_vectors: dict[str, Vector],
    settings: RerankSettings,
    passage_cosines: Mapping[int, float] | None = None,
    stored: StoredSentenceVectors | None = None,
    analysed: Mapping[int, PassageSentences | StoredSentences] | None = None,
    contexts: Mapping[int, AbstractSet[Term]] | None = None,
    sections: Mapping[int, str] | None = None,
) -> list[tuple[int, float]]:
    """`fused` (row, score) best first, re-scored in its first `settings.depth` rows; the rest keeps its
    order below them. Sentence vectors come from `stored` (rows -> each row's sentence vectors, computed
    at index time) and otherwise from `embed`, remembered in `sentence_vectors` (sentence text -> unit
    vector, read and filled); `passage_cosines` (row -> the passage's cosine) is needed when
    `settings.passage_cosine_weight` > 0; `analysed` holds rows' `PassageSentences` when known;
    `contexts` the terms of rows' section headings and `sections` those headings (`passage_features`)."""
    head, tail = fused[: settings.depth], fused[settings.depth :]
    if not head:
        return fused
    rows = [row for row, _ in head]
    features = passage_features(rows, texts, weights, pairs, question, analysed, contexts, sections)
    lexical_weights = settings.lexical_weights()

    def bonus(row: int, score: float) -> float:
        for weight, feature in zip(lexical_weights, features[row].lexical(), strict=True):
            if weight:
                score += weight * feature
        if settings.passage_cosine_weight and passage_cosines is not None:
            score += settings.passage_cosine_weight * max(0.0, passage_cosines[row])
        return score

    scored = [(row, bonus(row, score)) for row, score in head]
    scored.sort(key=lambda item: (-item[1], item[0]))
    if settings.cosine_weight > 0 and settings.cosine_depth > 0 and query_vector is not None:
        top = scored[: settings.cosine_depth]
        chosen = {row: _best_covered(features[row], settings.sentences_per_passage) for row, _ in top}
        known = stored([row for row, _ in top]) if stored is not None else {}
        cosines: dict[int, float] = {}
        for row, _ in top:
            matrix = known.get(row)
            if matrix is not None and len(matrix) == len(features[row].spans):
                cosines[row] = float((matrix[chosen[row]] @ query_vector).max())
        unknown = {
            row: [texts[row][slice(*features[row].spans[i])] for i in chosen[row]]
            for row, _ in top
            if row not in cosines
        }
        wanted = (s for sentences in unknown.values() for s in sentences if s not in sentence_vectors)
        missing = list(dict.fromkeys(wanted))
        if missing:
            sentence_vectors.update(zip(missing, embed(missing), strict=True))
        for row, sentences in unknown.items():
            cosines[row] = max(float(sentence_vectors[s] @ query_vector) for s in sentences)

        top = [(row, score + settings.cosine_weight * max(0.0, cosines[row])) for row, score in top]
        top.sort(key=lambda item: (-item[1], item[0]))
        scored = top + scored[settings.cosine_depth :]
    return scored + tail  # the tail's fused scores are below every head score already


def _best_covered(features: SentenceFeatures, count: int) -> list[int]:
    """Indices of the `count` sentences covering most of the question (ties: earlier first)."""
    return sorted(range(len(features.spans)), key=lambda i: (-features.sentence_coverages[i], i))[: max(count, 1)]
