"""BM25 with the exact semantics of `rank_bm25.BM25Okapi`, stored as a term -> postings CSR matrix.

Each posting holds the final BM25 weight of a term in a passage (idf already applied, with rank-bm25's
epsilon floor for negative idf), so scoring a query is at most one scatter-add per query term, and the
top k usually needs much less (see `BM25Scorer`). The arrays are plain `.npy` files, memory-mapped at
load.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from index.cores import CORES
from index.mapped_pages import drop_pages


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25


WEIGHT_DTYPE = np.float64  # of the stored postings weights
POSTING_BYTES = 4 + 8  # a posting's row (int32) and weight
# Postings read through the memory maps before their pages are dropped from the process's mappings.
RELEASE_AFTER_BYTES = 128 << 20


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


@dataclass(frozen=True)
class PassageTerms:
    """The counted terms of consecutive passages, passage by passage (what BM25 was built from, kept so
    that an update can rebuild the postings of unchanged passages without tokenizing them again)."""

    term_ids: npt.NDArray[np.integer[Any]]  # term id of each (passage, term) pair
    tfs: npt.NDArray[np.integer[Any]]  # its count in the passage
    firsts: npt.NDArray[np.int64]  # passage i's pairs are [firsts[i] - firsts[0], firsts[i + 1] - firsts[0])
    lengths: npt.NDArray[np.integer[Any]]  # tokens per passage

    def check(self, passages: int) -> bool:
        """Whether the arrays describe `passages` passages consistently."""
        return (
            len(self.firsts) == passages + 1
            and len(self.lengths) == passages
            and int(self.firsts[0]) == 0
            and int(self.firsts[-1]) == len(self.term_ids) == len(self.tfs)
        )

    def passages(self, start: int, stop: int) -> PassageTerms:
        """Passages [start, stop)."""
        first, last = int(self.firsts[start]), int(self.firsts[stop])
        return PassageTerms(
            self.term_ids[first:last], self.tfs[first:last], self.firsts[start : stop + 1], self.lengths[start:stop]
        )


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
        self._sorted_ids: npt.NDArray[np.int32] | None = None  # insertion id -> id in the finished index

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

    def ids_of(self, terms: Sequence[str]) -> list[int]:
        """This builder's ids of `terms` in order (added to the vocabulary if new: see `term_ids`)."""
        vocab = self.vocab
        return [vocab.setdefault(t, len(vocab)) for t in terms]

    @property
    def final_ids(self) -> npt.NDArray[np.int32]:
        """After `finish`: builder id -> id in the finished index (-1: left out, in no passage)."""
        if self._sorted_ids is None:
            raise RuntimeError("final_ids needs finish() first")
        return self._sorted_ids

    def term_ids(self, terms: Sequence[str]) -> npt.NDArray[np.intc]:
        """This builder's ids of `terms` (added to the vocabulary if new), for `add_counted`. A term that no
        passage ends up containing is left out of the index by `finish`."""
        return np.asarray(self.ids_of(terms), dtype=np.intc)

    def add_counted(self, counted: PassageTerms) -> None:
        """Add passages already counted (e.g. unchanged passages of a previous index, their term ids mapped
        to this builder's by `term_ids`): the same as `add`-ing their tokens, without the tokens."""
        self._term_ids.frombytes(np.ascontiguousarray(counted.term_ids, dtype=np.intc).tobytes())
        self._tfs.frombytes(np.ascontiguousarray(counted.tfs, dtype=np.intc).tobytes())
        self._terms_per_doc.frombytes(np.diff(counted.firsts).astype(np.intc).tobytes())
        self._doc_lens.frombytes(np.ascontiguousarray(counted.lengths, dtype=np.intc).tobytes())

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
        doc_ends = np.cumsum(per_doc, dtype=np.int64)
        # The passages are cut into one run per core, of about as many postings each; each run's postings are
        # counted by term, so that every run knows where its postings of each term begin.
        parts = min(CORES, max(1, n_postings // FINISH_BLOCK))
        middle = (int(np.searchsorted(doc_ends, n_postings * i // parts, side="left")) + 1 for i in range(1, parts))
        cuts = sorted({0, *middle, n_docs})  # passages without postings can make two cuts one
        run_df = []
        for first_doc, end_doc in zip(cuts[:-1], cuts[1:], strict=True):
            start, end = (int(doc_ends[first_doc - 1]) if first_doc else 0), int(doc_ends[end_doc - 1])
            counted = np.zeros(n_terms, np.int64)
            for block in range(start, end, FINISH_BLOCK):  # bincount copies its input to int64: by blocks
                counted += np.bincount(ids[block : min(block + FINISH_BLOCK, end)], minlength=n_terms)
            run_df.append(counted)
        doc_freq_insertion = np.sum(run_df, axis=0)

        # rank_bm25: idf = log(N - df + 0.5) - log(df + 0.5), averaged in vocabulary insertion order,
        # and negative idf replaced by epsilon * average idf.
        idf_insertion = np.array(
            [math.log(n_docs - df + 0.5) - math.log(df + 0.5) for df in doc_freq_insertion.tolist()],
            dtype=np.float64,
        )
        present = doc_freq_insertion > 0  # terms adopted by `term_ids` but in no passage are left out
        n_terms = int(present.sum())
        average_idf = math.fsum(idf_insertion[present].tolist()) / n_terms if n_terms else 0.0
        idf_insertion = np.where(idf_insertion < 0, params.epsilon * average_idf, idf_insertion)
        avgdl = float(lens.sum()) / n_docs
        norm = params.k1 * (1 - params.b + params.b * lens / avgdl) if avgdl > 0 else np.ones(n_docs)

        # Terms are renumbered in sorted order so the vocabulary can be stored and searched as a sorted list.
        terms = sorted(t for t, i in vocab.items() if present[i])
        inverse = np.fromiter((vocab[t] for t in terms), dtype=np.int64, count=n_terms)  # sorted -> insertion
        new_id = np.full(len(vocab), -1, dtype=np.int32)
        new_id[inverse] = np.arange(n_terms, dtype=np.int32)
        self._sorted_ids = new_id
        doc_freq = doc_freq_insertion[inverse]
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(doc_freq, out=indptr[1:])

        def write_run(first_doc: int, stop_doc: int, next_free: npt.NDArray[np.int64], block_size: int) -> None:
            """Counting sort of passages [first_doc, stop_doc): blocks of whole passages, in row order; within
            a block postings are ordered by term (stable, so rows stay ascending within a term) and written at
            each term's next free slot."""
            while first_doc < stop_doc:
                start = int(doc_ends[first_doc - 1]) if first_doc else 0
                end_doc = max(first_doc + 1, int(np.searchsorted(doc_ends, start + block_size, side="right")))
                end_doc = min(end_doc, stop_doc)
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

        # Each run writes from where the runs before it end in every term's slots, on its own thread (numpy
        # lets go of the GIL in the sort and the scatter): the same arrays as one run, in less time. Blocks
        # are smaller by as much, so the temporaries stay as large as one run's.
        starts, begin = [], indptr[:-1].copy()
        for counted in run_df:
            starts.append(begin.copy())
            begin += counted[inverse]
        runs = list(zip(cuts[:-1], cuts[1:], starts, strict=True))
        block_size = max(1, FINISH_BLOCK // len(runs))
        if len(runs) == 1:
            write_run(*runs[0], block_size)
        else:
            with ThreadPoolExecutor(len(runs), thread_name_prefix="bm25-finish") as pool:
                for done in [pool.submit(write_run, *run, block_size) for run in runs]:
                    done.result()
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

    def max_tf(self) -> int:
        """The largest term count of any passage (to choose the stored counts' integer type)."""
        return int(np.frombuffer(self._tfs, dtype=np.intc).max()) if self.postings else 0

    def passage_term_blocks(self, counts: bool = False) -> Iterator[npt.NDArray[Any]]:
        """After `finish`: each passage's term ids (ids of the finished index), or with `counts` their
        counts, in blocks, passage after passage (what `PassageTerms` holds)."""
        if self._sorted_ids is None:
            raise RuntimeError("passage_term_blocks needs finish() first")
        source = np.frombuffer(self._tfs if counts else self._term_ids, dtype=np.intc)
        for start in range(0, self.postings, FINISH_BLOCK):
            block = source[start : start + FINISH_BLOCK]
            yield block if counts else self._sorted_ids[block]

    def passage_bounds(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        """The passages' `firsts` and `lengths` (`PassageTerms`)."""
        firsts = np.zeros(len(self._terms_per_doc) + 1, np.int64)
        np.cumsum(np.frombuffer(self._terms_per_doc, dtype=np.intc), out=firsts[1:])
        return firsts, np.frombuffer(self._doc_lens, dtype=np.intc).astype(np.int32)


def build_bm25(documents: Iterable[list[str]], params: BM25Params = BM25Params()) -> BM25Arrays:
    """Build the index from token lists, one per passage row, in row order."""
    builder = BM25Builder(params)
    for tokens in documents:
        builder.add(tokens)
    return builder.finish()


_Entry = tuple[int, int, float | None]  # one query token: its postings [lo, hi) and query weight (None = 1)

SAFETY = 1e-9  # relative margin on score bounds, far above float64 rounding of a sum of a few weights
DENSE_BELOW = 20_000  # queries with fewer postings than this are scored directly (pruning would not pay)
DENSE_SHARE = 0.8  # give up pruning once the candidate terms hold this share of the query's postings
EXTREMES_CACHED = 65_536  # terms whose smallest and largest weights are remembered


class BM25Scorer:
    """Scores queries against stored postings; `term_ids` maps query tokens to vocabulary ids.

    Every score is accumulated token by token in query order, exactly as a full scatter-add would, so
    `scores`, `scores_at` and `top` agree to the last bit. `top` avoids most of the work for typical
    queries with MaxScore pruning: the tokens with the highest possible contribution ("essential")
    propose candidates; tokens whose summed maximum weights cannot lift any other passage to the k-th
    best score are only looked up for the surviving candidates.
    """

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
        self._local = threading.local()  # per-thread scratch arrays of n_docs, kept all zero between uses
        self._extreme_cache: dict[int, tuple[float, float]] = {}  # postings start -> (min, max) weight
        self._read_since_release = 0  # bytes of postings read since the pages were last dropped

    def _entries(self, term_ids: Sequence[int | None], query_weights: Sequence[float] | None) -> list[_Entry]:
        if query_weights is not None and len(query_weights) != len(term_ids):
            raise ValueError("one query weight per token")
        entries = []
        for position, term_id in enumerate(term_ids):
            if term_id is None:
                continue
            lo, hi = int(self.indptr[term_id]), int(self.indptr[term_id + 1])
            weight = None if query_weights is None else float(query_weights[position])
            if hi > lo:
                entries.append((lo, hi, None if weight == 1.0 else weight))  # x * 1.0 == x: skip it
        return entries

    def _contribution(self, entry: _Entry) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
        lo, hi, weight = entry
        self._read_since_release += (hi - lo) * POSTING_BYTES
        postings = self.weights[lo:hi]
        return self.rows[lo:hi], postings if weight is None else weight * postings

    def release_if_due(self) -> bool:
        """Once RELEASE_AFTER_BYTES of postings have been read, drop the pages of the memory-mapped
        postings from this process's mappings (`index.mapped_pages`): the resident set no longer grows
        toward the whole postings (756 MiB at a million passages) as questions touch new terms. True when
        dropped."""
        if self._read_since_release < RELEASE_AFTER_BYTES:
            return False
        self._read_since_release = 0
        return drop_pages(self.rows, self.weights)

    def _scratch(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = (np.zeros(self.n_docs), np.zeros(self.n_docs, np.bool_))
        return scratch

    def scores(
        self, term_ids: Sequence[int | None], query_weights: Sequence[float] | None = None
    ) -> npt.NDArray[np.float64]:
        """Scores of every passage, equal to `BM25Okapi.get_scores` for the same tokens.

        Unknown tokens (None) contribute nothing; repeated tokens count once per occurrence. With
        `query_weights` (one per token) each token's contribution is multiplied by its weight.
        """
        total = np.zeros(self.n_docs, dtype=np.float64)
        for entry in self._entries(term_ids, query_weights):
            np.add.at(total, *self._contribution(entry))  # rows are distinct within a term
        self.release_if_due()
        return total

    def scores_at(
        self,
        term_ids: Sequence[int | None],
        rows: Sequence[int] | npt.NDArray[np.integer[Any]],
        query_weights: Sequence[float] | None = None,
    ) -> npt.NDArray[np.float64]:
        """`scores(term_ids, query_weights)[rows]`, bit for bit, without scoring every passage."""
        wanted = np.asarray(rows, dtype=np.int64)
        if wanted.size and (int(wanted.min()) < 0 or int(wanted.max()) >= self.n_docs):
            raise IndexError("passage row out of range")
        unique, back = np.unique(wanted, return_inverse=True)
        entries = self._entries(term_ids, query_weights)
        found = self._exact(entries, unique, {})[back.reshape(wanted.shape)]
        self.release_if_due()
        return found

    def _exact(
        self, entries: list[_Entry], candidates: npt.NDArray[np.integer[Any]], known: dict[int, npt.NDArray[np.float64]]
    ) -> npt.NDArray[np.float64]:
        """Scores of sorted, distinct candidate rows, token by token in query order (`known`: the
        contributions of some entries, by position, already looked up for these candidates)."""
        total = np.zeros(len(candidates))
        for i, entry in enumerate(entries):
            total += known[i] if i in known else self._lookup(entry, candidates)  # adding 0.0 changes nothing
        return total

    def _lookup(self, entry: _Entry, candidates: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.float64]:
        """The contribution of one token to each sorted candidate row (0 where the row lacks the term)."""
        rows, contribution = self._contribution(entry)  # counted whole: a binary search reads less
        if len(candidates) * 8 < len(rows):  # few candidates: binary search in the term's sorted rows
            out = np.zeros(len(candidates))
            position = np.searchsorted(rows, candidates)
            np.minimum(position, len(rows) - 1, out=position)
            hit = rows[position] == candidates
            out[hit] = contribution[position[hit]]
            return out
        dense, _ = self._scratch()  # many candidates: scatter the term's weights, gather, clear
        try:
            dense[rows] = contribution
            out = dense[candidates]
            dense[rows] = 0.0
        except BaseException:
            self._local.scratch = None  # interrupted half-way: never reuse a dirty scratch array
            raise
        return out

    def top(
        self, term_ids: Sequence[int | None], k: int, query_weights: Sequence[float] | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The `k` best passages that match at least one query term: (rows, scores), best first,
        ties broken by row (that is, by paragraph id order)."""
        if query_weights is not None and len(query_weights) != len(term_ids):
            raise ValueError("one query weight per token")
        if query_weights is not None:  # a token with a weight <= 0 neither scores nor lets a passage match
            kept = [i for i, w in enumerate(query_weights) if w > 0]
            term_ids, query_weights = [term_ids[i] for i in kept], [query_weights[i] for i in kept]
        entries = self._entries(term_ids, query_weights)
        if not entries or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        try:
            found = self._pruned_top(entries, k)
            best = found if found is not None else self._dense_top(entries, k)
        except BaseException:
            self._local.scratch = None  # interrupted half-way: never reuse a dirty scratch array
            raise
        self.release_if_due()
        return best

    def _pruned_top(
        self, entries: list[_Entry], k: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None:
        """MaxScore: the top k without accumulating the postings of common terms, or None when the
        bounds do not allow it (then every posting is scored)."""
        sizes = [hi - lo for lo, hi, _ in entries]
        if len(entries) < 2 or sum(sizes) < DENSE_BELOW:
            return None
        bounds = []
        for lo, hi, weight in entries:
            lowest, highest = self._extremes(lo, hi)
            if lowest < 0:  # negative weights (tiny corpora): partial sums bound nothing
                return None
            bounds.append(highest * (1.0 if weight is None else weight))
        by_bound = sorted(range(len(entries)), key=lambda i: (-bounds[i], sizes[i]))
        rest = [0.0] * (len(entries) + 1)  # rest[j]: most that the tokens by_bound[j:] can add to a score
        for j in range(len(entries) - 1, -1, -1):
            rest[j] = rest[j + 1] + bounds[by_bound[j]]
        rest = [r * (1 + SAFETY) for r in rest]
        dense, _ = self._scratch()
        essential = 0  # the first `essential` tokens of by_bound propose the candidates
        candidates: npt.NDArray[np.int64] = np.zeros(0, np.int64)
        seen: list[npt.NDArray[np.int32]] = []
        proposed, most = 0, DENSE_SHARE * sum(sizes)
        while essential < len(entries) - 1 and proposed + sizes[by_bound[essential]] <= most:
            rows, contribution = self._contribution(entries[by_bound[essential]])
            proposed += sizes[by_bound[essential]]
            essential += 1
            if essential == 1:
                candidates, partial = rows.astype(np.int64), contribution
            else:
                if len(seen) == 1:
                    np.add.at(dense, *self._contribution(entries[by_bound[0]]))
                np.add.at(dense, rows, contribution)
                candidates = np.sort(np.concatenate([*seen, rows]).astype(np.int64))
                candidates = candidates[np.r_[True, candidates[1:] != candidates[:-1]]]
                partial = dense[candidates]
            seen.append(rows)
            if len(candidates) < k:
                continue
            # Partial scores are lower bounds of the exact ones, so the k-th best partial score bounds
            # the k-th best exact score from below; a passage outside the candidates scores at most rest.
            low = float(np.partition(partial, len(partial) - k)[len(partial) - k]) * (1 - SAFETY)
            if rest[essential] >= low:
                continue
            if len(seen) > 1:
                dense[candidates] = 0.0
            keep = partial + rest[essential] >= low
            candidates, partial = candidates[keep], partial[keep]
            known: dict[int, npt.NDArray[np.float64]] = {}
            for j in range(essential, len(entries)):  # the other tokens, looked up for the candidates
                i = by_bound[j]
                known[i] = self._lookup(entries[i], candidates)
                partial = partial + known[i]
                low = max(low, float(np.partition(partial, len(partial) - k)[len(partial) - k]) * (1 - SAFETY))
                keep = partial + rest[j + 1] >= low
                if not keep.all():
                    candidates, partial = candidates[keep], partial[keep]
                    known = {e: values[keep] for e, values in known.items()}
            return _best(candidates, self._exact(entries, candidates, known), k)
        if len(seen) > 1:
            dense[candidates] = 0.0
        return None

    def _extremes(self, lo: int, hi: int) -> tuple[float, float]:
        """Smallest and largest weight of one term's postings, remembered for the terms seen recently
        (common terms recur across questions, and their postings are the long ones)."""
        found = self._extreme_cache.get(lo)
        if found is None:
            self._read_since_release += (hi - lo) * POSTING_BYTES
            postings = self.weights[lo:hi]
            found = (float(postings.min()), float(postings.max()))
            if len(self._extreme_cache) >= EXTREMES_CACHED:
                self._extreme_cache.clear()
            self._extreme_cache[lo] = found
        return found

    def _dense_top(self, entries: list[_Entry], k: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Scatter-add every posting into the thread's scratch array, then take the best of the rows
        touched."""
        dense, touched_mask = self._scratch()
        for entry in entries:
            rows, contribution = self._contribution(entry)
            np.add.at(dense, rows, contribution)
            touched_mask[rows] = True
        touched = np.flatnonzero(touched_mask)
        scores = dense[touched]
        dense[touched] = 0.0
        touched_mask[touched] = False
        return _best(touched, scores, k)


def _best(
    rows: npt.NDArray[np.integer[Any]], scores: npt.NDArray[np.float64], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The k highest non-zero scores, best first, ties broken by row."""
    matched = scores != 0
    if not matched.all():
        rows, scores = rows[matched], scores[matched]
    if len(rows) > k:
        keep = np.argpartition(-scores, k - 1)[:k]
        # argpartition may cut a tie arbitrarily: take every candidate tied with the k-th score.
        keep = np.flatnonzero(scores >= scores[keep].min())
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:k]
    return rows[order].astype(np.int64), scores[order]
