"""Recall@10 and speed of the approximate dense index (IVF-SQ8, `index.ann`) against exact search, on
**real** MiniLM vectors: every passage and sentence vector stored by already-built indexes (e.g. the
evaluation indexes of SQuAD, SciFact and CoQA stories: ~87k vectors of real, diverse text), queried with
real SQuAD dev questions embedded as questions are.

    PYTHONPATH=. python benchmarks/ann_recall_real.py /tmp/eval-qahome/indexes/*/

(Embedding 100k synthetic paragraphs for this would take over an hour on two cores: ~20 paragraphs/s.)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import load_queries, median, percentile, table  # noqa: E402


def stored_vectors(index_dirs: list[Path]) -> np.ndarray:
    """Passage and sentence vectors of the indexes' current generations, as float32 rows."""
    from index.corpus_index import SENTENCE_VECTORS_FILE, VECTORS_FILE
    from index.store import current_generation
    from index.vector_file import VectorFileReader

    blocks = []
    for directory in index_dirs:
        generation = current_generation(directory)
        if generation is None:
            raise SystemExit(f"{directory}: no index")
        for name in (VECTORS_FILE, SENTENCE_VECTORS_FILE):
            reader = VectorFileReader(generation.file(name))
            blocks.append(np.asarray(reader[0 : len(reader)], dtype=np.float32))
    return np.ascontiguousarray(np.vstack(blocks))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dirs", type=Path, nargs="+", help="index folders (each holds CURRENT)")
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()

    import faiss

    from index.ann import NPROBE, fill_ivf, list_count, train_ivf
    from index.embed import ModelEmbedder, resolve_model

    faiss.omp_set_num_threads(1)
    vectors = stored_vectors(args.index_dirs)
    questions = [text for _, text in load_queries("squad-v1.1-dev", args.queries)]
    queries = ModelEmbedder(resolve_model(None)).embed_queries(questions)

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    started = time.perf_counter()
    approximate = fill_ivf(train_ivf(vectors, vectors.shape[1]), vectors)
    build_s = time.perf_counter() - started

    rows = []
    truth: list[set[int]] = []
    contenders = [("exact (flat)", exact, 0)]
    contenders += [(f"IVF{list_count(len(vectors))}-SQ8 nprobe {n}", approximate, n) for n in (NPROBE, 2 * NPROBE)]
    for name, index, nprobe in contenders:
        if nprobe:
            index.nprobe = nprobe
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
    print(f"{len(vectors):,} real MiniLM vectors, {len(queries)} SQuAD questions, one thread;")
    print(f"IVF-SQ8 trained and filled in {build_s:.1f} s\n")
    print(table(["dense index", "search p50 ms", "search p95 ms", "recall@10 vs exact"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
