"""Hybrid retrieval: BM25 top-N and dense top-N over one index, fused.

The default fusion is a convex combination of min-max-normalised BM25 and cosine scores over the union of
both candidate lists (every candidate gets its exact BM25 score and cosine, so nothing is imputed);
reciprocal-rank fusion (RRF, k=60) stays selectable. Ties are broken by search row (stable ids).

`Retriever` is the interface an engine implements (FAISS + BM25 here; a Qdrant engine later).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt

from index.catalog import PassageRecord
from index.corpus_index import CorpusIndex
from index.embed import Embedder
from index.paragraphs import heading_context
from index.sentence_terms import StoredSentences
from index.tokenize import tokenize
from qa.answer import term_keys, term_weights
from qa.duplicates import distinct_head
from qa.fusion import RRF_K, convex_fusion, reciprocal_rank_fusion
from qa.question_terms import question_terms
from qa.rerank import (
    PassageSentences,
    PassageSentencesCache,
    QuestionShape,
    RerankSettings,
    Term,
    query_pairs,
    rerank,
)
from qa.table_headers import header_text_before
from qa.types import DEFAULT_FUSION, FUSIONS, Fusion, Mode

CANDIDATE_DEPTH = 100
LEXICAL_WEIGHT = 0.4  # convex fusion: weight of normalised BM25 (1 - weight goes to the cosine)
DEFAULT_RERANK = RerankSettings()  # the sentence-level second stage of convex fusion (qa/rerank.py)
HEADING_TERMS_CACHE = 4096  # section headings whose terms are remembered


@functools.lru_cache(maxsize=HEADING_TERMS_CACHE)
def heading_terms(section: str) -> frozenset[str]:
    """The terms of a section heading as its passages read it (`index.paragraphs.heading_context`)."""
    return frozenset(tokenize(heading_context(section)))


def passage_context(index: CorpusIndex, record: PassageRecord) -> tuple[frozenset[str], str]:
    """What a passage is read with besides its own text, as the index read it: its section heading and, for a
    later part of a long table, the table's header row (`qa.table_headers`); their terms and their text
    ("" when there is neither)."""
    section = index.section(record)
    terms = heading_terms(section) if section else frozenset()
    context = heading_context(section) if section else ""
    if header := header_text_before(index, record):
        terms |= frozenset(tokenize(header))
        context = f"{context}\n{header}" if context else header
    return terms, context


@dataclass(frozen=True)
class Candidate:
    """A passage (by search row) and what each retriever said about it."""

    row: int
    score: float
    bm25_rank: int | None
    bm25_score: float | None
    dense_rank: int | None
    dense_score: float | None
    duplicates: tuple[int, ...] = ()  # rows of passages with the same text, ranked lower (qa/duplicates.py)
    # a follow-up's passage: its BM25 and dense ranks in the search with the topic's context (the ranks above are
    # those of the question alone, which chose the passage within its document); None otherwise
    context_ranks: tuple[int | None, int | None] | None = None

    @property
    def shown_rows(self) -> tuple[int, ...]:
        """The passage's row, then its copies' (cited with it, in that order)."""
        return (self.row, *self.duplicates)


@dataclass(frozen=True)
class Retrieval:
    candidates: list[Candidate]
    query_terms: list[str]
    query_vector: npt.NDArray[np.float32] | None
    timings_ms: dict[str, float] = field(default_factory=dict)
    # The question's own embedding when `query_vector` mixes in a conversation's context (None otherwise):
    # the context finds the passage, the question itself picks the sentence that answers it.
    own_vector: npt.NDArray[np.float32] | None = None


@dataclass(frozen=True)
class SearchQuery:
    """What one search looks for: the question's own terms (in order; each occurrence weighs 1 in BM25),
    terms carried from elsewhere (a conversation) with BM25 weights below 1, and the dense query vector."""

    terms: list[str]
    vector: npt.NDArray[np.float32]
    carried: dict[str, float] = field(default_factory=dict)  # term not among `terms` -> weight in (0, 1]
    text: str = ""  # the question as asked (the second stage reads its words and question words)

    def carried_terms(self) -> dict[str, float]:
        """The carried terms that add something: not among the question's own, with a positive weight."""
        own = set(self.terms)
        return {t: w for t, w in self.carried.items() if t not in own and w > 0}

    def bm25_terms(self) -> tuple[list[str], list[float]]:
        carried = self.carried_terms()
        return self.terms + list(carried), [1.0] * len(self.terms) + list(carried.values())


class Retriever(Protocol):
    """A search engine over one index (FAISS + BM25 here; a Qdrant engine later)."""

    def retrieve(self, query: str, mode: Mode, k: int) -> Retrieval:
        """Search for a question as typed."""
        ...

    def search(self, query: SearchQuery, mode: Mode, k: int, distinct: bool = True) -> Retrieval:
        """Search for prepared terms and vector (a follow-up with its carried context). The `k` passages are
        distinct (copies of a passage's text folded into its `duplicates`) unless `distinct` is False: a
        ranking read as a whole (a conversation's) need not read the records of every candidate."""
        ...


class HybridRetriever:
    """BM25 + FAISS over a `CorpusIndex`; the query is embedded once per question."""

    def __init__(
        self,
        index: CorpusIndex,
        embedder: Embedder,
        depth: int = CANDIDATE_DEPTH,
        rrf_k: int = RRF_K,
        fusion: Fusion = DEFAULT_FUSION,
        lexical_weight: float = LEXICAL_WEIGHT,
        rerank_settings: RerankSettings = DEFAULT_RERANK,
    ) -> None:
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r}")
        self.index = index
        self.embedder = embedder
        self.depth = depth
        self.rrf_k = rrf_k
        self.fusion = fusion
        self.lexical_weight = lexical_weight
        self.rerank_settings = rerank_settings
        self._passage_sentences = PassageSentencesCache()  # rows of this index only

    def retrieve(self, query: str, mode: Mode, k: int) -> Retrieval:
        started = time.perf_counter()
        vector = self.embedder.embed_queries([query])[0]
        embed_ms = (time.perf_counter() - started) * 1000
        retrieval = self.search(SearchQuery(question_terms(query), vector, text=query), mode, k)
        return replace(retrieval, timings_ms={"embed": embed_ms, **retrieval.timings_ms})

    def search(self, query: SearchQuery, mode: Mode, k: int, distinct: bool = True) -> Retrieval:
        timings: dict[str, float] = {}
        terms, vector = query.terms, query.vector
        bm25_terms, bm25_weights = query.bm25_terms()
        depth = max(self.depth, k)

        bm25_rows: list[int] = []
        bm25_scores: dict[int, float] = {}
        if mode in ("hybrid", "bm25"):
            started = time.perf_counter()
            rows, scores = self.index.bm25_top(bm25_terms, depth, bm25_weights)
            bm25_rows = rows.tolist()
            bm25_scores = dict(zip(bm25_rows, scores.tolist(), strict=True))
            timings["bm25"] = (time.perf_counter() - started) * 1000

        dense_rows: list[int] = []
        dense_scores: dict[int, float] = {}
        if mode in ("hybrid", "dense"):
            started = time.perf_counter()
            rows, cosines = self.index.dense.search(vector, depth)
            dense_rows = rows.tolist()
            dense_scores = dict(zip(dense_rows, cosines.tolist(), strict=True))
            timings["dense"] = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        sentence_vectors: dict[str, npt.NDArray[np.float32]] = {}
        bm25_rank = {row: rank for rank, row in enumerate(bm25_rows, start=1)}
        dense_rank = {row: rank for rank, row in enumerate(dense_rows, start=1)}
        if mode == "hybrid" and self.fusion == "rrf":
            fused = reciprocal_rank_fusion([bm25_rows, dense_rows], k=self.rrf_k)
        elif mode == "hybrid":
            union = sorted(set(bm25_rows) | set(dense_rows))
            self._complete_scores(bm25_terms, bm25_weights, vector, union, bm25_scores, dense_scores)
            fused = convex_fusion(
                union,
                [bm25_scores[row] for row in union],
                [dense_scores[row] for row in union],
                self.lexical_weight,
            )
            if self.rerank_settings.enabled:
                fused = self._rerank(query, fused, sentence_vectors, dense_scores)
        elif mode == "bm25":
            fused = [(row, bm25_scores[row]) for row in bm25_rows]
        else:
            fused = [(row, dense_scores[row]) for row in dense_rows]
        # Candidates only for what is returned (a ranking runs to 200 rows); copies folded unless told not to
        ranked = [row for row, _ in fused]
        shown = distinct_head(ranked, k, self.index.passages) if distinct else [(row, ()) for row in ranked[:k]]
        score_of = dict(fused)
        candidates = [
            Candidate(
                row=row,
                score=score_of[row],
                bm25_rank=bm25_rank.get(row),
                bm25_score=bm25_scores.get(row),
                dense_rank=dense_rank.get(row),
                dense_score=dense_scores.get(row),
                duplicates=copies,
            )
            for row, copies in shown
        ]
        timings["fuse"] = (time.perf_counter() - started) * 1000
        return Retrieval(candidates, terms, vector, timings)

    def _rerank(
        self,
        query: SearchQuery,
        fused: list[tuple[int, float]],
        sentence_vectors: dict[str, npt.NDArray[np.float32]],
        cosines: dict[int, float],
    ) -> list[tuple[int, float]]:
        """The sentence-level second stage (qa/rerank.py) over the first fused candidates; a carried term
        counts with its idf times its weight."""
        terms, vector = query.terms, query.vector
        carried = query.carried_terms()
        info = self.index.term_info(terms + list(carried))
        idf = {t: value for t, (_, value) in info.items()}
        weights = term_weights(terms, idf, self.index.size)
        weights.update((t, w * idf[t]) for t, w in carried.items() if t in idf)
        head = [row for row, _ in fused[: self.rerank_settings.depth]]
        records = self.index.passages(head)
        texts = {row: record.text for row, record in records.items()}
        pairs = query_pairs(terms)
        stored = self.index.sentence_terms(head)
        headings, sections = self._heading_terms(records, weights)
        contexts: dict[int, AbstractSet[Term]]
        if stored:  # sentences and their terms as the index stored them: terms stand for their ids
            ids = term_keys(info, [*terms, *weights])
            analysed: Mapping[int, PassageSentences | StoredSentences] = stored
            keyed_weights: dict[Term, float] = {ids[t]: w for t, w in weights.items()}
            keyed_pairs: list[tuple[Term, Term]] = [(ids[a], ids[b]) for a, b in pairs]
            contexts = {row: {ids[t] for t in held} for row, held in headings.items()}
        else:
            analysed = self._passage_sentences.of(texts)
            keyed_weights, keyed_pairs = dict(weights.items()), list(pairs)
            contexts = dict(headings)
        return rerank(
            fused,
            texts,
            keyed_weights,
            keyed_pairs,
            QuestionShape.of(query.text) if query.text else None,
            vector,
            self.embedder.embed_queries,
            sentence_vectors,
            self.rerank_settings,
            cosines,
            self.index.sentence_vectors,
            analysed,
            contexts,
            sections,
        )

    def _heading_terms(
        self, records: Mapping[int, PassageRecord], weights: Mapping[str, float]
    ) -> tuple[dict[int, set[str]], dict[int, str]]:
        """The question's terms that each passage's section heading holds, and that heading, for the passages
        whose heading holds any. A later window of a long table is read under the table's header row too,
        as the index read it (`qa.table_headers`)."""
        if not self.index.has_sections and not any(record.window > 1 for record in records.values()):
            return {}, {}  # no headings, and no part of a long paragraph that could start inside a table
        held: dict[int, set[str]] = {}
        sections: dict[int, str] = {}
        for row, record in records.items():
            terms, context = passage_context(self.index, record)
            found = {t for t in terms if t in weights}
            if found:
                held[row] = found
                sections[row] = context
        return held, sections

    def _complete_scores(
        self,
        terms: list[str],
        query_weights: list[float],
        vector: npt.NDArray[np.float32],
        rows: list[int],
        bm25_scores: dict[int, float],
        dense_scores: dict[int, float],
    ) -> None:
        """Fill in the exact BM25 score and cosine of candidates that only one retriever returned."""
        lacking_bm25 = [row for row in rows if row not in bm25_scores]
        if lacking_bm25:
            lacking_scores = self.index.bm25_scores_at(terms, lacking_bm25, query_weights)
            bm25_scores.update(zip(lacking_bm25, lacking_scores.tolist(), strict=True))
        lacking_dense = [row for row in rows if row not in dense_scores]
        if lacking_dense:
            cosines = self.index.vectors_at(lacking_dense) @ vector
            dense_scores.update(zip(lacking_dense, cosines.tolist(), strict=True))
