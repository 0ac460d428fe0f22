"""Hybrid retrieval: BM25 top-N and dense top-N over one index, fused by reciprocal rank.

`Retriever` is the interface an engine implements (FAISS + BM25 here; a Qdrant engine later).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from index.corpus_index import CorpusIndex
from index.embed import Embedder
from index.tokenize import tokenize
from qa.fusion import RRF_K, reciprocal_rank_fusion
from qa.types import Mode

CANDIDATE_DEPTH = 100


@dataclass(frozen=True)
class Candidate:
    """A passage (by search row) and what each retriever said about it."""

    row: int
    score: float
    bm25_rank: int | None
    bm25_score: float | None
    dense_rank: int | None
    dense_score: float | None


@dataclass(frozen=True)
class Retrieval:
    candidates: list[Candidate]
    query_terms: list[str]
    query_vector: npt.NDArray[np.float32] | None
    timings_ms: dict[str, float] = field(default_factory=dict)


class Retriever(Protocol):
    def retrieve(self, query: str, mode: Mode, k: int) -> Retrieval: ...


class HybridRetriever:
    """BM25 + FAISS over a `CorpusIndex`; the query is embedded once per question."""

    def __init__(
        self, index: CorpusIndex, embedder: Embedder, depth: int = CANDIDATE_DEPTH, rrf_k: int = RRF_K
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.depth = depth
        self.rrf_k = rrf_k

    def retrieve(self, query: str, mode: Mode, k: int) -> Retrieval:
        timings: dict[str, float] = {}
        terms = tokenize(query)
        depth = max(self.depth, k)

        started = time.perf_counter()
        vector = self.embedder.embed_queries([query])[0]
        timings["embed"] = (time.perf_counter() - started) * 1000

        bm25_rows: list[int] = []
        bm25_scores: dict[int, float] = {}
        if mode in ("hybrid", "bm25"):
            started = time.perf_counter()
            rows, scores = self.index.bm25_top(terms, depth)
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
        bm25_rank = {row: rank for rank, row in enumerate(bm25_rows, start=1)}
        dense_rank = {row: rank for rank, row in enumerate(dense_rows, start=1)}
        if mode == "hybrid":
            fused = reciprocal_rank_fusion([bm25_rows, dense_rows], k=self.rrf_k)
        elif mode == "bm25":
            fused = [(row, bm25_scores[row]) for row in bm25_rows]
        else:
            fused = [(row, dense_scores[row]) for row in dense_rows]
        candidates = [
            Candidate(
                row=row,
                score=score,
                bm25_rank=bm25_rank.get(row),
                bm25_score=bm25_scores.get(row),
                dense_rank=dense_rank.get(row),
                dense_score=dense_scores.get(row),
            )
            for row, score in fused[:k]
        ]
        timings["fuse"] = (time.perf_counter() - started) * 1000
        return Retrieval(candidates, terms, vector, timings)
