"""Dense stage A/B in one process: exact FAISS flat against the index's IVF-SQ8 (nprobe 32) over the same
stored vectors, same query vectors (fake embedder of SQuAD questions), one thread, interleaved queries.
Needs the indexes built by bench_scale.py (an IVF-SQ8 one: the 1M index, or --exact-limit at 100k).

    PYTHONPATH=. QA_HOME=/tmp/bench-qahome python benchmarks/bench_dense.py --index scale-100000-ivf scale-1000000
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from benchmarks.common import load_queries, median, percentile, table  # noqa: E402
from benchmarks.fake_embedder import FakeEmbedder  # noqa: E402

QA_HOME = Path(os.environ.get("QA_HOME", "/tmp/bench-qahome"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", nargs="+", default=["scale-100000-ivf", "scale-1000000"])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="20 queries")
    args = parser.parse_args()
    if args.quick:
        args.queries = 20
    import faiss

    from index.ann import ANN_FILE, read_ann
    from index.store import current_generation

    faiss.omp_set_num_threads(1)
    vectors_q = FakeEmbedder().embed_queries([t for _, t in load_queries("squad-v1.1-dev", args.queries)])
    rows = []
    for name in args.index:
        generation = current_generation(QA_HOME / name)
        if generation is None or generation.manifest.get("dense", {}).get("kind") != "ivf-sq8":
            print(f"{name}: no IVF-SQ8 index under {QA_HOME} (run bench_scale.py first); skipped")
            continue
        ivf = read_ann(generation.file(ANN_FILE))
        vectors = np.load(generation.file("vectors.npy"), allow_pickle=False)
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        del vectors
        exact_ms, ivf_ms, recall = [], [], []
        for q in vectors_q:
            q = q.reshape(1, -1)
            started = time.perf_counter()
            _, truth = flat.search(q, 10)
            exact_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            _, found = ivf.search(q, 10)
            ivf_ms.append((time.perf_counter() - started) * 1000)
            recall.append(len(set(truth[0].tolist()) & set(found[0].tolist())) / 10)
        speed_up = median(exact_ms) / median(ivf_ms)
        rows.append([name, f"{flat.ntotal:,}", median(exact_ms), percentile(exact_ms, 0.95), median(ivf_ms),
                     percentile(ivf_ms, 0.95), speed_up, sum(recall) / len(recall)])  # fmt: skip
        del flat, ivf
    headers = ["index", "vectors", "exact p50 ms", "exact p95 ms", "IVF-SQ8 p50 ms", "IVF-SQ8 p95 ms",
               "speed-up (x)", "recall@10 vs exact"]  # fmt: skip
    print(table(headers, rows))
    print(f"\n{args.queries} queries, k=10, 1 thread, interleaved exact/IVF per query, same process.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
