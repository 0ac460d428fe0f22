"""Scaling curve: build time, query latency (p50/p95 per stage), RSS (build and serve) and disk size at
10k / 100k / 1M synthetic paragraphs, with the benchmark-only fake embedder (see fake_embedder.py).

Each build and each serve runs in its own subprocess so that peak RSS (VmHWM) is that stage's alone.
Serving opens the index and answers N real questions (SQuAD dev) in hybrid mode, warm, single-threaded,
then measures recall@10 of the dense index against exact search over the same stored vectors.

    PYTHONPATH=. QA_HOME=/tmp/bench-qahome python benchmarks/bench_scale.py --sizes 10000 100000 1000000
    PYTHONPATH=. python benchmarks/bench_scale.py --quick          # 10k only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import dir_size, median, mib, percentile, status_kib, table  # noqa: E402

WORK = Path(os.environ.get("BENCH_WORK", "/tmp/bench-work"))
QA_HOME = Path(os.environ.get("QA_HOME", "/tmp/bench-qahome"))


def index_dir_for(size: int, tag: str = "") -> Path:
    return QA_HOME / f"scale-{size}{tag}"


def worker_build(size: int, tag: str) -> dict[str, object]:
    from benchmarks.common import QuietReporter
    from benchmarks.fake_embedder import FakeEmbedder
    from benchmarks.synthetic_corpus import ensure_corpus
    from index.builder import open_index
    from index.corpus import FolderSource

    generated = time.perf_counter()
    corpus = ensure_corpus(WORK, size)
    generated = time.perf_counter() - generated
    directory = index_dir_for(size, tag)
    embedder = FakeEmbedder()
    started = time.perf_counter()
    index = open_index(FolderSource(corpus), directory, embedder, QuietReporter(f"[build {size}] "), rebuild=True)
    seconds = time.perf_counter() - started
    counts = index.manifest["counts"]
    dense = index.manifest["dense"]["kind"]
    generation_mib = dir_size(index.generation.path) / 2**20
    index.close()
    return {
        "size": size,
        "generate_s": generated,
        "build_s": seconds,
        "searchable": counts["searchable"],
        "documents": counts["documents"],
        "dense": dense,
        "build_hwm_mib": mib(status_kib("VmHWM")),
        "disk_mib": generation_mib,
        "corpus_mib": dir_size(corpus) / 2**20,
    }


def worker_serve(size: int, tag: str, queries: int) -> dict[str, object]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from benchmarks.common import load_queries
    from benchmarks.fake_embedder import FakeEmbedder
    from index.store import current_generation

    rss_start = status_kib("VmRSS")
    import faiss
    import numpy as np

    from index.corpus_index import CorpusIndex
    from qa.engine import QAEngine

    faiss.omp_set_num_threads(1)
    directory = index_dir_for(size, tag)
    opened = time.perf_counter()
    generation = current_generation(directory)
    if generation is None:
        raise SystemExit(f"no index in {directory}")
    index = CorpusIndex(generation)
    embedder = FakeEmbedder()
    if os.environ.get("BENCH_REAL_ENCODER") == "1":
        # The real numpy query encoder (question + answer sentences) over the fake-vector index: the
        # rankings are meaningless but the latency is the real one.
        from index.embed import ModelEmbedder, resolve_model

        engine = QAEngine(index, ModelEmbedder(resolve_model(None)))
    else:
        engine = QAEngine(index, embedder)
    questions = [text for _, text in load_queries("squad-v1.1-dev", queries + 5)]
    for question in questions[:5]:  # warm-up (loads the dense index, touches the catalog)
        engine.ask(question, "hybrid", 10)
    open_s = time.perf_counter() - opened
    stages: dict[str, list[float]] = {}
    for question in questions[5:]:
        answer = engine.ask(question, "hybrid", 10)
        for stage, ms in answer.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
    serve_rss = mib(status_kib("VmRSS"))
    serve_hwm = mib(status_kib("VmHWM"))
    # Recall@10 of the index's dense search against exact search over the same stored vectors.
    vectors = index.vectors
    query_vectors = embedder.embed_queries(questions[5:])
    truth = np.zeros((len(query_vectors), 10), np.int64)
    best = np.full((len(query_vectors), 10), -np.inf, np.float32)
    block = 100_000
    for start in range(0, len(vectors), block):
        scores = np.asarray(vectors[start : start + block]) @ query_vectors.T  # (block, q)
        for q in range(len(query_vectors)):
            merged_scores = np.concatenate([best[q], scores[:, q]])
            merged_rows = np.concatenate([truth[q], np.arange(start, start + len(scores))])
            keep = np.argsort(-merged_scores, kind="stable")[:10]
            best[q], truth[q] = merged_scores[keep], merged_rows[keep]
    recall = []
    for q, vector in enumerate(query_vectors):
        rows, _ = index.dense.search(vector, 10)
        recall.append(len(set(rows.tolist()) & set(truth[q].tolist())) / 10)
    engine.close()
    return {
        "size": size,
        "open_and_warm_s": open_s,
        "stages": {k: [median(v), percentile(v, 0.95)] for k, v in stages.items()},
        "serve_rss_mib": serve_rss,
        "serve_hwm_mib": serve_hwm,
        "start_rss_mib": mib(rss_start),
        "recall_at_10": sum(recall) / len(recall),
        "exact": bool(index.dense.exact),
    }


def run_worker(kind: str, size: int, tag: str, queries: int, env: dict[str, str]) -> dict[str, object]:
    command = [sys.executable, __file__, "--worker", kind, "--sizes", str(size), f"--tag={tag}"]
    command += ["--queries", str(queries)]
    result = subprocess.run(command, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{kind} worker for {size} failed with exit code {result.returncode}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="10k paragraphs, 50 queries")
    parser.add_argument("--skip-build", action="store_true", help="reuse indexes built by an earlier run")
    parser.add_argument("--exact-limit", type=int, help="QA_EXACT_SEARCH_LIMIT for the builds (tag -ivf)")
    parser.add_argument("--tag", default="")
    parser.add_argument(
        "--real-encoder", action="store_true", help="serve with the real numpy query encoder (latency only)"
    )
    parser.add_argument("--worker", choices=("build", "serve"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        size = args.sizes[0]
        if args.worker == "build":
            result = worker_build(size, args.tag)
        else:
            result = worker_serve(size, args.tag, args.queries)
        print(json.dumps(result))
        return 0
    if args.quick:
        args.sizes, args.queries = [10_000], 50
    env = {"QA_HOME": str(QA_HOME)}
    tag = args.tag
    if args.real_encoder:
        env["BENCH_REAL_ENCODER"] = "1"
    if args.exact_limit is not None:
        env["QA_EXACT_SEARCH_LIMIT"] = str(args.exact_limit)
        tag = tag or "-ivf"
    builds, serves = {}, {}
    for size in args.sizes:
        if not args.skip_build:
            builds[size] = run_worker("build", size, tag, args.queries, env)
            print(f"build {size}: {json.dumps(builds[size])}", file=sys.stderr, flush=True)
        serves[size] = run_worker("serve", size, tag, args.queries, env)
        print(f"serve {size}: {json.dumps(serves[size])}", file=sys.stderr, flush=True)
    rows = []
    for size in args.sizes:
        b, s = builds.get(size, {}), serves[size]
        st = s["stages"]
        rows.append(
            [
                f"{size:,}",
                f"{b['searchable']:,}" if b else "—",
                b.get("build_s", float("nan")),
                b["searchable"] / b["build_s"] if b else float("nan"),
                b.get("build_hwm_mib", float("nan")),
                b.get("disk_mib", float("nan")),
                "exact" if s["exact"] else "IVF-SQ8",
                st["total"][0],
                st["total"][1],
                st["bm25"][0],
                st["dense"][0],
                st["answer"][0],
                s["serve_rss_mib"],
                s["serve_hwm_mib"],
                s["recall_at_10"],
            ]
        )
    headers = [
        "paragraphs", "passages", "build s", "passages/s", "build peak RSS MiB", "index disk MiB", "dense",
        "query p50 ms", "query p95 ms", "bm25 p50 ms", "dense p50 ms", "answer p50 ms",
        "serve RSS MiB", "serve peak MiB", "dense recall@10 vs exact",
    ]  # fmt: skip
    print(table(headers, rows))
    stage_rows = [
        [f"{size:,}"] + [f"{serves[size]['stages'][k][0]:.2f} / {serves[size]['stages'][k][1]:.2f}" for k in STAGES]
        for size in args.sizes
    ]
    print()
    print(table(["paragraphs"] + [f"{k} p50 / p95 ms" for k in STAGES], stage_rows))
    return 0


STAGES = ("embed", "bm25", "dense", "fuse", "answer", "total")

if __name__ == "__main__":
    raise SystemExit(main())
