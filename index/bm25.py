"""BM25 with the exact semantics of `rank_bm25.BM25Okapi`, stored as a term -> postings CSR matrix.

Each posting holds the final BM25 weight of a term in a passage (idf already applied, with rank-bm25's
epsilon floor for negative idf), so scoring a query is one scatter-add per query term. The arrays are
plain `.npy` files, memory-mapped at load.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25


@dataclass(frozen=True)
class BM25Arrays:
    """Everything a BM25 index is: vocabulary (sorted), idf, postings in CSR form, statistics."""

    terms: list[str]  # sorted; a term's id is its position
    idf: npt.NDArray[np.float64]
    doc_freq: npt.NDArray[np.int64]
    indptr: npt.NDArray[np.int64]  # len(terms) + 1
    rows: npt.NDArray[np.int32]  # passage row of each posting, ascending within a term
    weights: npt.NDArray[np.float64]
    n_docs: int
    avgdl: float
    average_idf: float
    params: BM25Params


class BM25Builder:
    """Accumulates passages one at a time in compact arrays (no list of token lists: at a million
    passages that alone costs gigabytes), then computes the weights in one vectorised pass."""

    def __init__(self, params: BM25Params = BM25Params()) -> None:
        self.params = params
        self.vocab: dict[str, int] = {}
        self._term_ids = array("q")
        self._tfs = array("q")
        self._terms_per_doc = array("q")
        self._doc_lens = array("q")

    def add(self, tokens: list[str]) -> None:
        counts = Counter(tokens)
        vocab = self.vocab
        self._term_ids.extend(vocab.setdefault(t, len(vocab)) for t in counts)
        self._tfs.extend(counts.values())
        self._terms_per_doc.append(len(counts))
        self._doc_lens.append(len(tokens))

    def finish(self) -> BM25Arrays:
        params, vocab = self.params, self.vocab
        n_docs = len(self._doc_lens)
        if n_docs == 0:
            raise ValueError("cannot build BM25 over zero passages")
        all_ids = np.frombuffer(self._term_ids, dtype=np.int64) if self._term_ids else np.zeros(0, np.int64)
        all_tfs = np.frombuffer(self._tfs, dtype=np.int64).astype(np.float64) if self._tfs else np.zeros(0)
        lens = np.frombuffer(self._doc_lens, dtype=np.int64).astype(np.float64)
        all_rows = np.repeat(np.arange(n_docs, dtype=np.int64), np.frombuffer(self._terms_per_doc, dtype=np.int64))
        doc_freq_insertion = np.bincount(all_ids, minlength=len(vocab)).astype(np.int64)

        # rank_bm25: idf = log(N - df + 0.5) - log(df + 0.5), averaged in vocabulary insertion order,
        # and negative idf replaced by epsilon * average idf.
        idf_insertion = np.array(
            [math.log(n_docs - df + 0.5) - math.log(df + 0.5) for df in doc_freq_insertion.tolist()],
            dtype=np.float64,
        )
        average_idf = math.fsum(idf_insertion.tolist()) / len(vocab) if vocab else 0.0
        idf_insertion = np.where(idf_insertion < 0, params.epsilon * average_idf, idf_insertion)

        avgdl = float(lens.sum()) / n_docs
        norm = params.k1 * (1 - params.b + params.b * lens / avgdl) if avgdl > 0 else np.ones(n_docs)
        weights = idf_insertion[all_ids] * (all_tfs * (params.k1 + 1) / (all_tfs + norm[all_rows]))

        # Renumber terms in sorted order so the vocabulary can be stored and searched as a sorted list.
        terms = sorted(vocab)
        new_id = np.empty(len(vocab), dtype=np.int64)
        for position, term in enumerate(terms):
            new_id[vocab[term]] = position
        sorted_ids = new_id[all_ids]
        order = np.argsort(sorted_ids, kind="stable")  # rows stay ascending within a term
        counts_per_term = np.bincount(sorted_ids, minlength=len(terms))
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(counts_per_term, out=indptr[1:])
        inverse = np.argsort(new_id)
        return BM25Arrays(
            terms=terms,
            idf=idf_insertion[inverse],
            doc_freq=doc_freq_insertion[inverse],
            indptr=indptr,
            rows=all_rows[order].astype(np.int32),
            weights=weights[order],
            n_docs=n_docs,
            avgdl=avgdl,
            average_idf=average_idf,
            params=params,
        )


def build_bm25(documents: Iterable[list[str]], params: BM25Params = BM25Params()) -> BM25Arrays:
    """Build the index from token lists, one per passage row, in row order."""
    builder = BM25Builder(params)
    for tokens in documents:
        builder.add(tokens)
    return builder.finish()


class BM25Scorer:
    """Scores queries against stored postings; `term_ids` maps query tokens to vocabulary ids."""

    def __init__(
        self,
        indptr: npt.NDArray[np.int64],
        rows: npt.NDArray[np.int32],
        weights: npt.NDArray[np.float64],
        n_docs: int,
    ) -> None:
        self.indptr = indptr
        self.rows = rows
        self.weights = weights
        self.n_docs = n_docs

    def scores(
        self, term_ids: Sequence[int | None], query_weights: Sequence[float] | None = None
    ) -> npt.NDArray[np.float64]:
        """Scores of every passage, equal to `BM25Okapi.get_scores` for the same tokens.

        Unknown tokens (None) contribute nothing; repeated tokens count once per occurrence. With
        `query_weights` (one per token) each token's contribution is multiplied by its weight.
        """
        if query_weights is not None and len(query_weights) != len(term_ids):
            raise ValueError("one query weight per token")
        total = np.zeros(self.n_docs, dtype=np.float64)
        for position, term_id in enumerate(term_ids):
            if term_id is None:
                continue
            lo, hi = int(self.indptr[term_id]), int(self.indptr[term_id + 1])
            if query_weights is None:
                total[self.rows[lo:hi]] += self.weights[lo:hi]
            else:
                total[self.rows[lo:hi]] += query_weights[position] * self.weights[lo:hi]
        return total

    def top(
        self, term_ids: Sequence[int | None], k: int, query_weights: Sequence[float] | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The `k` best passages that match at least one query term: (rows, scores), best first,
        ties broken by row (that is, by paragraph id order)."""
        if query_weights is not None and len(query_weights) != len(term_ids):
            raise ValueError("one query weight per token")
        pairs = [
            (t, 1.0 if query_weights is None else query_weights[i])
            for i, t in enumerate(term_ids)
            if t is not None and (query_weights is None or query_weights[i] > 0)
        ]
        if not pairs or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        known = [t for t, _ in pairs]
        total = self.scores(known, None if query_weights is None else [w for _, w in pairs])
        touched = np.flatnonzero(total)  # passages matching at least one term (with a non-zero weight)
        touched_scores = total[touched]
        if len(touched) > k:
            keep = np.argpartition(-touched_scores, k - 1)[:k]
            # argpartition may cut a tie arbitrarily: take every candidate tied with the k-th score.
            kth = touched_scores[keep].min()
            keep = np.flatnonzero(touched_scores >= kth)
            touched, touched_scores = touched[keep], touched_scores[keep]
        order = np.lexsort((touched, -touched_scores))[:k]
        return touched[order].astype(np.int64), touched_scores[order]
