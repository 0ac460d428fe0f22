"""Recall@10 and speed of the approximate dense index (IVF-SQ8, `index.ann`) against exact search, on
**real** MiniLM vectors: N synthetic paragraphs (`synthetic_corpus.py`: real SQuAD/SciFact paragraphs
varied, so thousands of near-duplicate families, a hard case for an approximate index) embedded with the
model exactly as indexing does, queried with real SQuAD dev questions embedded as questions are.

    PYTHONPATH=. python benchmarks/ann_recall_real.py --paragraphs 100000 --cache /tmp/real-vectors

Embedding is slow (~100 paragraphs/s on two cores): vectors are cached in chunks under --cache and
reused by later runs (any size up to what is cached).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import load_queries, median, percentile, table  # noqa: E402
from benchmarks.synthetic_corpus import Varier, load_paragraphs  # noqa: E402

CHUNK = 2_500


def paragraphs(count: int) -> list[str]:
    """The first `count` paragraphs `synthetic_corpus.write_corpus` would write (same variation scheme)."""
    base = load_paragraphs()
    varier = Varier(base, seed=0)
    return [varier.paragraph(i % len(base), i // len(base) + (i % 3 != 0)) for i in range(count)]


def cached_vectors(count: int, cache: Path) -> np.ndarray:
    from index.embed import ModelEmbedder, resolve_model

    cache.mkdir(parents=True, exist_ok=True)
    texts = paragraphs(count)
    embedder = ModelEmbedder(resolve_model(None))  # bf16 where the CPU runs it natively, as indexing does
    chunks = []
    for start in range(0, count, CHUNK):
        path = cache / f"chunk-{start // CHUNK:05d}.npy"
        if path.exists():
            chunks.append(np.load(path, allow_pickle=False))
            continue
        started = time.perf_counter()
        vectors = embedder.embed_passages(texts[start : start + CHUNK])
        aside = path.with_suffix(".tmp.npy")
        np.save(aside, vectors, allow_pickle=False)
        os.replace(aside, path)
        rate = len(vectors) / (time.perf_counter() - started)
        print(f"embedded {start + len(vectors):,}/{count:,} ({rate:.0f} paragraphs/s)", file=sys.stderr)
        chunks.append(vectors)
    return np.ascontiguousarray(np.vstack(chunks)[:count], dtype=np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/real-vectors"))
    args = parser.parse_args()

    import faiss

    from index.ann import NPROBE, fill_ivf, list_count, train_ivf
    from index.embed import ModelEmbedder, resolve_model

    faiss.omp_set_num_threads(1)
    vectors = cached_vectors(args.paragraphs, args.cache)
    questions = [text for _, text in load_queries("squad-v1.1-dev", args.queries)]
    queries = ModelEmbedder(resolve_model(None)).embed_queries(questions)

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    started = time.perf_counter()
    approximate = fill_ivf(train_ivf(vectors, vectors.shape[1]), vectors)
    build_s = time.perf_counter() - started

    rows = []
    truth: list[set[int]] = []
    for name, index in (("exact (flat)", exact), (f"IVF{list_count(len(vectors))}-SQ8 nprobe {NPROBE}", approximate)):
        times, found = [], []
        for query in queries:
            began = time.perf_counter()
            _, ids = index.search(query[None, :], 10)
            times.append((time.perf_counter() - began) * 1000)
            found.append(set(ids[0].tolist()))
        if not truth:
            truth = found
        recall = float(np.mean([len(a & b) / 10 for a, b in zip(found, truth, strict=True)]))
        rows.append([name, median(times), percentile(times, 0.95), recall])
    print(f"{len(vectors):,} real MiniLM paragraph vectors, {len(queries)} SQuAD questions, one thread;")
    print(f"IVF-SQ8 trained and filled in {build_s:.1f} s\n")
    print(table(["dense index", "search p50 ms", "search p95 ms", "recall@10 vs exact"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
