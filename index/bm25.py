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
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25


WEIGHT_DTYPE = np.float64  # of the stored postings weights


@dataclass(frozen=True)
class BM25Arrays:
    """Everything a BM25 index is: vocabulary (sorted), idf, postings in CSR form, statistics."""

    terms: list[str]  # sorted; a term's id is its position
    idf: npt.NDArray[np.float64]
    doc_freq: npt.NDArray[np.int64]
    indptr: npt.NDArray[np.int64]  # len(terms) + 1
    rows: npt.NDArray[np.int32]  # passage row of each posting, ascending within a term
    weights: npt.NDArray[np.floating[Any]]
    n_docs: int
    avgdl: float
    average_idf: float
    params: BM25Params


FINISH_BLOCK = 1 << 20  # postings per block in `finish` (bounds its temporaries to a few tens of MiB)


class BM25Builder:
    """Accumulates passages one at a time in compact int32 arrays (8 bytes per posting; no list of
    token lists: at a million passages that alone costs gigabytes), then writes the CSR matrix in
    blocks straight into its final arrays (a counting sort), so memory stays near the size of the
    result."""

    def __init__(self, params: BM25Params = BM25Params()) -> None:
        self.params = params
        self.vocab: dict[str, int] = {}
        self._term_ids = array("i")  # vocabulary id (insertion order) of each posting, passage by passage
        self._tfs = array("i")  # term frequency of each posting
        self._terms_per_doc = array("i")
        self._doc_lens = array("i")

    @property
    def postings(self) -> int:
        """The number of postings so far (the length of the `rows` and `weights` arrays `finish` fills)."""
        return len(self._term_ids)

    def add(self, tokens: list[str]) -> None:
        counts = Counter(tokens)
        vocab = self.vocab
        self._term_ids.extend(vocab.setdefault(t, len(vocab)) for t in counts)
        self._tfs.extend(counts.values())
        self._terms_per_doc.append(len(counts))
        self._doc_lens.append(len(tokens))

    def finish(
        self,
        rows_out: npt.NDArray[np.int32] | None = None,
        weights_out: npt.NDArray[np.floating[Any]] | None = None,
    ) -> BM25Arrays:
        """The index. `rows_out` / `weights_out` (one element per posting, e.g. memory-mapped `.npy`
        files of the generation being written) receive the postings; by default they are allocated."""
        params, vocab = self.params, self.vocab
        n_docs, n_postings, n_terms = len(self._doc_lens), self.postings, len(vocab)
        if n_docs == 0:
            raise ValueError("cannot build BM25 over zero passages")
        rows_out = np.empty(n_postings, np.int32) if rows_out is None else rows_out
        weights_out = np.empty(n_postings, WEIGHT_DTYPE) if weights_out is None else weights_out
        if rows_out.shape != (n_postings,) or weights_out.shape != (n_postings,):
            raise ValueError(f"the output arrays must hold {n_postings} postings")
        ids = np.frombuffer(self._term_ids, dtype=np.intc) if n_postings else np.zeros(0, np.intc)
        tfs = np.frombuffer(self._tfs, dtype=np.intc) if n_postings else np.zeros(0, np.intc)
        per_doc = np.frombuffer(self._terms_per_doc, dtype=np.intc)
        lens = np.frombuffer(self._doc_lens, dtype=np.intc).astype(np.float64)
        doc_freq_insertion = np.zeros(n_terms, np.int64)
        for start in range(0, n_postings, FINISH_BLOCK):  # bincount copies its input to int64: by blocks
            doc_freq_insertion += np.bincount(ids[start : start + FINISH_BLOCK], minlength=n_terms)

        # rank_bm25: idf = log(N - df + 0.5) - log(df + 0.5), averaged in vocabulary insertion order,
        # and negative idf replaced by epsilon * average idf.
        idf_insertion = np.array(
            [math.log(n_docs - df + 0.5) - math.log(df + 0.5) for df in doc_freq_insertion.tolist()],
            dtype=np.float64,
        )
        average_idf = math.fsum(idf_insertion.tolist()) / n_terms if n_terms else 0.0
        idf_insertion = np.where(idf_insertion < 0, params.epsilon * average_idf, idf_insertion)
        avgdl = float(lens.sum()) / n_docs
        norm = params.k1 * (1 - params.b + params.b * lens / avgdl) if avgdl > 0 else np.ones(n_docs)

        # Terms are renumbered in sorted order so the vocabulary can be stored and searched as a sorted list.
        terms = sorted(vocab)
        inverse = np.fromiter((vocab[t] for t in terms), dtype=np.int64, count=n_terms)  # sorted -> insertion
        new_id = np.empty(n_terms, dtype=np.int32)
        new_id[inverse] = np.arange(n_terms, dtype=np.int32)
        doc_freq = doc_freq_insertion[inverse]
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(doc_freq, out=indptr[1:])

        # Counting sort: blocks of whole passages, in row order; within a block postings are ordered by
        # term (stable, so rows stay ascending within a term) and written at each term's next free slot.
        next_free = indptr[:-1].copy()
        doc_ends = np.cumsum(per_doc, dtype=np.int64)
        first_doc = 0
        while first_doc < n_docs:
            start = int(doc_ends[first_doc - 1]) if first_doc else 0
            end_doc = max(first_doc + 1, int(np.searchsorted(doc_ends, start + FINISH_BLOCK, side="right")))
            end = int(doc_ends[end_doc - 1])
            block_rows = np.repeat(np.arange(first_doc, end_doc, dtype=np.int32), per_doc[first_doc:end_doc])
            block_ids = ids[start:end]
            block_tfs = tfs[start:end].astype(np.float64)
            weights = idf_insertion[block_ids] * (block_tfs * (params.k1 + 1) / (block_tfs + norm[block_rows]))
            # A stable argsort by term, done as a plain sort of unique (term, position) keys (several
            # times faster than numpy's stable argsort of int32).
            shift = max(1, end - start).bit_length()
            keys = (new_id[block_ids].astype(np.int64) << shift) | np.arange(end - start, dtype=np.int64)
            keys.sort()
            order = keys & ((1 << shift) - 1)
            sorted_ids = keys >> shift
            del keys
            firsts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]]) if len(order) else order
            block_terms = sorted_ids[firsts]
            run_lengths = np.diff(np.r_[firsts, len(order)])
            destination = np.repeat(next_free[block_terms] - firsts, run_lengths) + np.arange(len(order))
            next_free[block_terms] += run_lengths
            rows_out[destination] = block_rows[order]
            weights_out[destination] = weights[order]
            first_doc = end_doc
        return BM25Arrays(
            terms=terms,
            idf=idf_insertion[inverse],
            doc_freq=doc_freq,
            indptr=indptr,
            rows=rows_out,
            weights=weights_out,
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
