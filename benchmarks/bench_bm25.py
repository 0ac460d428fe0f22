"""BM25 stage: this project's `BM25Scorer` (CSR of precomputed rank_bm25 Okapi weights) against
`rank_bm25.BM25Okapi.get_scores`, same tokens, same queries (real SQuAD dev questions), same run.

Reports the median ms per query for scoring + top-100 (the engine's candidate depth), the ratio, and
whether the top-10 rows agree. rank_bm25 is skipped above --rank-bm25-max paragraphs (memory and time).
"before" is the previous top-k (score every passage with a fancy-index scatter-add, then argpartition
over the non-zero scores), kept here as `ScatterAddTop`; it runs on the same arrays, interleaved query by
query with the current `BM25Scorer.top`, and must return the same rows and scores bit for bit.
"lookup" is the engine's SQLite term lookup (`CorpusIndex.term_info`) when the index is a built one.

    PYTHONPATH=. python benchmarks/bench_bm25.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from benchmarks.common import load_queries, median, percentile, status_kib, table  # noqa: E402
from benchmarks.synthetic_corpus import Varier, load_paragraphs  # noqa: E402
from index.bm25 import BM25Builder, BM25Scorer  # noqa: E402
from index.corpus_index import CorpusIndex  # noqa: E402
from index.store import current_generation  # noqa: E402
from index.tokenize import tokenize  # noqa: E402

QA_HOME = Path(os.environ.get("QA_HOME", "/tmp/bench-qahome"))

DEPTH = 100


def corpus_tokens(size: int, seed: int = 0) -> list[list[str]]:
    base = load_paragraphs()
    varier = Varier(base, seed)
    return [tokenize(varier.paragraph(i % len(base), i // len(base) + (i % 3 != 0))) for i in range(size)]


def time_calls(fn, queries, repeat: int = 1) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for query in queries:
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            fn(query)
            best = min(best, time.perf_counter() - started)
        out.append(best * 1000)
    return out


class ScatterAddTop:
    """The previous `BM25Scorer.top` (before MaxScore pruning), verbatim in its algorithm."""

    def __init__(self, scorer: BM25Scorer) -> None:
        self.indptr, self.rows, self.weights, self.n_docs = scorer.indptr, scorer.rows, scorer.weights, scorer.n_docs

    def top(self, term_ids: list[int | None], k: int) -> tuple[np.ndarray, np.ndarray]:
        total = np.zeros(self.n_docs, dtype=np.float64)
        for term_id in term_ids:
            if term_id is not None:
                lo, hi = int(self.indptr[term_id]), int(self.indptr[term_id + 1])
                total[self.rows[lo:hi]] += self.weights[lo:hi]
        touched = np.flatnonzero(total)
        touched_scores = total[touched]
        if len(touched) > k:
            keep = np.argpartition(-touched_scores, k - 1)[:k]
            keep = np.flatnonzero(touched_scores >= touched_scores[keep].min())
            touched, touched_scores = touched[keep], touched_scores[keep]
        order = np.lexsort((touched, -touched_scores))[:k]
        return touched[order].astype(np.int64), touched_scores[order]


def before_after(scorer: BM25Scorer, ids: list[list[int | None]], repeat: int = 3) -> tuple[list[float], list[float]]:
    """ms per query of the previous and the current top-100, alternating query by query (best of
    `repeat` each), after checking that both return the same rows and scores."""
    before = ScatterAddTop(scorer)
    for query in ids:
        old_rows, old_scores = before.top(query, DEPTH)
        new_rows, new_scores = scorer.top(query, DEPTH)
        if not (np.array_equal(old_rows, new_rows) and np.array_equal(old_scores, new_scores)):
            raise SystemExit(f"top-{DEPTH} differs from the scatter-add reference for term ids {query}")
    old_ms, new_ms = [], []
    for query in ids:
        old_ms += time_calls(lambda q: before.top(q, DEPTH), [query], repeat)
        new_ms += time_calls(lambda q: scorer.top(q, DEPTH), [query], repeat)
    return old_ms, new_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rank-bm25-queries", type=int, default=20, help="rank_bm25 is slow: fewer queries")
    parser.add_argument("--rank-bm25-max", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10k paragraphs only")
    args = parser.parse_args()
    if args.quick:
        args.sizes = [10_000]
    questions = [tokenize(text) for _, text in load_queries("squad-v1.1-dev", args.queries)]
    rows = []
    for size in args.sizes:
        lookup_ms: list[float] = []
        built = QA_HOME / f"scale-{size}"
        if size > args.rank_bm25_max and current_generation(built) is not None:
            # Reuse the BM25 arrays of the index bench_scale.py built (tokenizing 1M paragraphs again
            # takes minutes); term ids come from its catalog, exactly as the engine looks them up.
            index = CorpusIndex(current_generation(built))  # type: ignore[arg-type]
            tokens, tokenize_s, build_s = [], float("nan"), float("nan")
            scorer, n_postings = index.bm25, len(index.bm25.rows)
            ids = []
            for q in questions:
                started = time.perf_counter()
                info = index.term_info(q)
                lookup_ms.append((time.perf_counter() - started) * 1000)
                ids.append([info[t][0] if t in info else None for t in q])
        else:
            started = time.perf_counter()
            tokens = corpus_tokens(size)
            tokenize_s = time.perf_counter() - started
            started = time.perf_counter()
            builder = BM25Builder()
            for passage in tokens:
                builder.add(passage)
            arrays = builder.finish()
            build_s = time.perf_counter() - started
            scorer = BM25Scorer(arrays.indptr, arrays.rows, arrays.weights, arrays.n_docs)
            n_postings = len(arrays.rows)
            position = {t: i for i, t in enumerate(arrays.terms)}
            ids = [[position.get(t) for t in q] for q in questions]
        before, ours = before_after(scorer, ids)
        ours_p95 = percentile(ours, 0.95)
        reference = float("nan")
        agreement = float("nan")
        if size <= args.rank_bm25_max and tokens:
            from rank_bm25 import BM25Okapi

            okapi = BM25Okapi(tokens)
            subset = list(range(min(args.rank_bm25_queries, len(questions))))

            def reference_top(i: int, okapi: BM25Okapi = okapi) -> np.ndarray:
                scores = okapi.get_scores(questions[i])
                return np.argsort(-scores, kind="stable")[:DEPTH]

            reference = median(time_calls(reference_top, subset))
            agree = []
            for i in subset:
                scores = okapi.get_scores(questions[i])
                top_rows, top_scores = scorer.top(ids[i], 10)
                want = set(np.argsort(-scores, kind="stable")[:10].tolist())
                agree.append(len(want & set(top_rows.tolist())) / max(1, min(10, len(top_rows))))
                if len(top_rows) and not np.allclose(scores[top_rows], top_scores, rtol=1e-9, atol=1e-9):
                    raise SystemExit("BM25 scores differ from rank_bm25")
            agreement = sum(agree) / len(agree)
            del okapi
        del tokens
        rows.append(
            [
                f"{size:,}", tokenize_s, build_s, n_postings, median(before), percentile(before, 0.95),
                median(ours), ours_p95, median(before) / median(ours),
                median(lookup_ms) if lookup_ms else float("nan"), reference, reference / median(ours),
                agreement, status_kib("VmHWM") / 1024,
            ]
        )  # fmt: skip
        print(f"done {size}", file=sys.stderr, flush=True)
    print(
        table(
            [
                "paragraphs", "tokenize s", "CSR build s", "postings", "before p50 ms", "before p95 ms",
                "ours p50 ms", "ours p95 ms", "before / ours (x)", "term lookup p50 ms", "rank_bm25 p50 ms",
                "rank_bm25 / ours (x)", "top-10 agreement", "process peak RSS MiB",
            ],
            rows,
        )
    )  # fmt: skip
    print(f"\nms per query = top-{DEPTH}; {len(questions)} SQuAD dev questions (before/ours alternating, best of 3),")
    print(f"{args.rank_bm25_queries} for rank_bm25 (get_scores + argsort). Same process, same tokens.")
    print(f"Above {args.rank_bm25_max:,} paragraphs the arrays come from $QA_HOME/scale-N (bench_scale.py) when built.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
