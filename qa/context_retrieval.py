"""Retrieval for a question asked inside a conversation: decide whether it follows up, then search with context.

Wraps the plain retriever (`qa.retrieve.Retriever`) without changing it:

1. The question alone is searched (BM25 over its own terms, dense over its own embedding).
2. Follow-up or not: if both retrievers of the question alone clearly prefer another document (best
   topic BM25 score below half the best, best topic cosine more than 0.05 below the best) the question
   points elsewhere and stands alone. Otherwise a question with a lexical cue (referring word, few
   content words) is a follow-up; one without a cue is a follow-up only if its own retrieval already
   finds the topic's documents within `plain_topic_depth` (same subject, phrased in full).
   Anything else stands alone: it is answered by the plain retriever, exactly as without a conversation,
   and starts a new topic.
3. A follow-up with a cue adds two rankings to the question's own two: BM25 over its own terms (weight 1) plus the
   carried terms (weight `carried_term_weight` x their recency weight), and the dense embedding of the
   question followed by the earlier questions of the topic. The four rankings are fused by weighted RRF
   (own rankings weight 1, contextual ones `context_weight`), and passages of the documents of the
   evidence shown get a document-affinity bonus of `document_boost` x prior, in units of a rank-1 hit.
   A follow-up without a cue has its own subject: it keeps its own two rankings and only gets the bonus.

Every ranking breaks ties on the search row (the stable paragraph-id order).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.corpus_index import CorpusIndex
from index.embed import Embedder
from index.tokenize import tokenize
from qa.conversation import TopicContext, describe_query
from qa.fusion import RRF_K, reciprocal_rank_fusion
from qa.retrieve import CANDIDATE_DEPTH, Candidate, Retrieval, Retriever
from qa.types import Mode


@dataclass(frozen=True)
class ContextSettings:
    context_weight: float = 0.5  # RRF weight of the contextual rankings (the question's own rankings weigh 1)
    carried_term_weight: float = 0.4  # BM25 weight of a carried term (x its recency weight); own terms weigh 1
    document_boost: float = 1.0  # bonus for the topic's documents, in units of one rank-1 RRF hit
    plain_topic_depth: int = 10  # without a cue: follow-up only if the topic is in the own top-N
    # The question alone "points elsewhere" when both retrievers prefer another document clearly:
    elsewhere_bm25_ratio: float = 0.5  # best topic BM25 score < this x the best BM25 score
    elsewhere_dense_gap: float = 0.05  # best topic cosine < the best cosine - this


@dataclass(frozen=True)
class ContextDecision:
    """Why a question was (not) treated as a follow-up, and what retrieval searched for."""

    follow_up: bool
    reason: str
    topic_rank: int | None  # best rank of a topic-document passage when the question is searched alone
    query: str  # human-readable: the question, plus "[+ context: ...]" for a follow-up


class ContextualRetriever:
    def __init__(
        self,
        index: CorpusIndex,
        embedder: Embedder,
        base: Retriever,
        settings: ContextSettings | None = None,
        depth: int = CANDIDATE_DEPTH,
        rrf_k: int = RRF_K,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.base = base
        self.settings = settings or ContextSettings()
        self.depth = depth
        self.rrf_k = rrf_k
        self._doc_numbers: dict[str, int] | None = None
        self._doc_rows: dict[int, frozenset[int]] = {}

    def retrieve(
        self, question: str, context: TopicContext | None, mode: Mode, k: int
    ) -> tuple[Retrieval, ContextDecision]:
        if context is None:
            return self.base.retrieve(question, mode, k), ContextDecision(False, "first question", None, question)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        depth = max(self.depth, k)
        own_terms = tokenize(question)
        dense_text = f"{question} {context.text}".strip()
        own_vector, context_vector = self.embedder.embed_queries([question, dense_text])
        timings["embed"] = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        use_bm25 = mode in ("hybrid", "bm25")
        use_dense = mode in ("hybrid", "dense")
        own_bm25 = self._bm25({t: 1.0 for t in own_terms}, own_terms, depth) if use_bm25 else ([], {})
        own_dense = self._dense(own_vector, depth) if use_dense else ([], {})
        plain = reciprocal_rank_fusion([r for r in (own_bm25[0], own_dense[0]) if r], k=self.rrf_k)
        topic_rows = self._topic_rows(context)
        topic_rank = next((rank for rank, (row, _) in enumerate(plain, start=1) if row in topic_rows), None)
        elsewhere = self._points_elsewhere(own_bm25[1], own_dense[1], own_terms, own_vector, topic_rows)
        follow_up, reason = self._decide(context, topic_rank, elsewhere)
        timings["decide"] = (time.perf_counter() - started) * 1000
        if not follow_up:
            retrieval = self.base.retrieve(question, mode, k)
            return retrieval, ContextDecision(False, reason, topic_rank, question)

        started = time.perf_counter()
        s = self.settings
        carried: dict[str, float] = {}
        for word, weight in context.terms:
            for stem in tokenize(word):
                carried[stem] = max(carried.get(stem, 0.0), weight * s.carried_term_weight)
        weights = {t: 1.0 for t in own_terms}
        for stem, weight in carried.items():
            weights.setdefault(stem, weight)
        # A question without a cue has its own subject: it only prefers the topic's documents.
        borrow_words = context.cue
        ctx_bm25 = self._bm25(weights, list(weights), depth) if use_bm25 and borrow_words else ([], {})
        ctx_dense = self._dense(context_vector, depth) if use_dense and borrow_words else ([], {})
        rankings: list[list[int]] = []
        rank_weights: list[float] = []
        # The question's own ranking is the default retrieval's (fused exactly as a standalone question is),
        # worth its two retrievers; the contextual rankings add to it.
        own = self.base.retrieve(question, mode, depth)
        own_ranking = [c.row for c in own.candidates]
        for ranking, weight in (
            (own_ranking, 2.0),
            (ctx_bm25[0], s.context_weight),
            (ctx_dense[0], s.context_weight),
        ):
            if ranking:
                rankings.append(ranking)
                rank_weights.append(weight)
        fused = dict(reciprocal_rank_fusion(rankings, k=self.rrf_k, weights=rank_weights)) if rankings else {}
        prior = self._row_prior(context)
        bonus = s.document_boost / (self.rrf_k + 1)
        for row in list(fused):
            if row in prior:
                # without a cue every topic document is equally welcome; with one, the latest evidence counts most
                fused[row] += bonus * (prior[row] if borrow_words else 1.0)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        bm25_rank = {row: rank for rank, row in enumerate(ctx_bm25[0], start=1)}
        dense_rank = {row: rank for rank, row in enumerate(ctx_dense[0], start=1)}
        candidates = [
            Candidate(
                row=row,
                score=score,
                bm25_rank=bm25_rank.get(row),
                bm25_score=ctx_bm25[1].get(row),
                dense_rank=dense_rank.get(row),
                dense_score=ctx_dense[1].get(row),
            )
            for row, score in ranked
        ]
        timings["fuse"] = (time.perf_counter() - started) * 1000
        if not borrow_words:
            bm25_rank = {row: rank for rank, row in enumerate(own_bm25[0], start=1)}
            dense_rank = {row: rank for rank, row in enumerate(own_dense[0], start=1)}
            candidates = [
                Candidate(
                    row, score, bm25_rank.get(row), own_bm25[1].get(row), dense_rank.get(row), own_dense[1].get(row)
                )
                for row, score in ranked
            ]
            shown = f"{question} [+ context: same documents]"
            return Retrieval(candidates, own_terms, own_vector, timings, own.sentence_vectors), ContextDecision(
                True, reason, topic_rank, shown
            )
        terms = own_terms + [t for t in carried if t not in set(own_terms)]
        return (
            Retrieval(candidates, terms, context_vector, timings),
            ContextDecision(True, reason, topic_rank, describe_query(question, context)),
        )

    def _decide(self, context: TopicContext, topic_rank: int | None, elsewhere: bool) -> tuple[bool, str]:
        where = "not in its top results" if topic_rank is None else f"at rank {topic_rank}"
        if elsewhere:
            return False, f"the question alone clearly points to other documents (topic {where})"
        if context.cue:
            return True, f"refers back (topic documents {where} for the question alone)"
        if topic_rank is not None and topic_rank <= self.settings.plain_topic_depth:
            return True, f"same topic (topic documents {where} for the question alone)"
        return False, f"stands alone (topic documents {where} for the question alone)"

    def _points_elsewhere(
        self,
        bm25_scores: dict[int, float],
        dense_scores: dict[int, float],
        own_terms: list[str],
        own_vector: npt.NDArray[np.float32],
        topic_rows: frozenset[int],
    ) -> bool:
        """Both retrievers of the question alone clearly prefer a passage outside the topic's documents."""
        if not topic_rows or not bm25_scores or not dense_scores:
            return False
        best = max(bm25_scores.values())
        full = self._bm25_full({t: 1.0 for t in own_terms})
        rows = np.fromiter(sorted(topic_rows), dtype=np.int64)
        topic_best = float(full[rows].max()) if full is not None else 0.0
        cosine_best = max(dense_scores.values())
        topic_cosine = float((np.asarray(self.index.vectors[rows]) @ own_vector).max())
        s = self.settings
        return topic_best < s.elsewhere_bm25_ratio * best and topic_cosine < cosine_best - s.elsewhere_dense_gap

    def _bm25_full(self, weights: dict[str, float]) -> npt.NDArray[np.float64] | None:
        info = self.index.term_info(list(weights))
        known = [(info[t][0], w) for t, w in weights.items() if t in info]
        if not known:
            return None
        scorer = self.index.bm25
        total = np.zeros(self.index.size, dtype=np.float64)
        for term_id, weight in known:
            lo, hi = int(scorer.indptr[term_id]), int(scorer.indptr[term_id + 1])
            total[scorer.rows[lo:hi]] += weight * scorer.weights[lo:hi]
        return total

    def _bm25(self, weights: dict[str, float], order: list[str], depth: int) -> tuple[list[int], dict[int, float]]:
        info = self.index.term_info(order)
        known = [(info[t][0], w) for t, w in weights.items() if t in info]
        if not known:
            return [], {}
        scorer = self.index.bm25
        total = np.zeros(self.index.size, dtype=np.float64)
        touched: set[int] = set()
        for term_id, weight in known:
            lo, hi = int(scorer.indptr[term_id]), int(scorer.indptr[term_id + 1])
            rows = scorer.rows[lo:hi]
            total[rows] += weight * scorer.weights[lo:hi]
            touched.update(rows.tolist())
        rows_arr = np.fromiter(sorted(touched), dtype=np.int64)
        scores = total[rows_arr]
        order_idx = np.lexsort((rows_arr, -scores))[:depth]
        top = rows_arr[order_idx].tolist()
        return top, dict(zip(top, scores[order_idx].tolist(), strict=True))

    def _dense(self, vector: npt.NDArray[np.float32], depth: int) -> tuple[list[int], dict[int, float]]:
        rows, cosines = self.index.dense.search(vector, depth)
        listed = rows.tolist()
        return listed, dict(zip(listed, cosines.tolist(), strict=True))

    def _doc_number(self, path: str) -> int | None:
        if self._doc_numbers is None:
            self._doc_numbers = {d.path: d.doc for d in self.index.documents()}
        return self._doc_numbers.get(path)

    def _rows_of(self, doc: int) -> frozenset[int]:
        if doc not in self._doc_rows:
            records = self.index.catalog.passages_of_document(doc)
            self._doc_rows[doc] = frozenset(r.search_row for r in records if r.search_row is not None)
        return self._doc_rows[doc]

    def _row_prior(self, context: TopicContext) -> dict[int, float]:
        prior: dict[int, float] = {}
        for path, weight in context.documents:
            doc = self._doc_number(path)
            if doc is None:
                continue
            for row in self._rows_of(doc):
                prior[row] = max(prior.get(row, 0.0), weight)
        return prior

    def _topic_rows(self, context: TopicContext) -> frozenset[int]:
        return frozenset(self._row_prior(context))
