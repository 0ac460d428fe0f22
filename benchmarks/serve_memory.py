"""Serving cost of a built index: open time (process start -> first answer), resident memory after N warm
questions and where it goes (per mapping, from /proc/self/smaps), query latency. Two code trees (A = a
`git archive` of the previous code, B = this one) can be run alternately on the same index, each run in
a fresh process; medians and B/A ratios are printed.

    # B only, the 1M index built by bench_scale.py
    PYTHONPATH=. python benchmarks/serve_memory.py --index /tmp/bench-qahome/scale-1000000
    # A against B, alternating (A B, B A, ...), 3 runs each; --evict drops the index files from the page cache first
    PYTHONPATH=. python benchmarks/serve_memory.py --index /tmp/bench-qahome/scale-1000000 \\
        --base /tmp/serve-base --runs 3 [--evict] [--real-encoder] [--checkpoints 100 500] [--top-k 10]

The worker imports only what both trees have (`index.store.current_generation`, `CorpusIndex`,
`QAEngine`, the benchmark fake embedder), from the tree given by PYTHONPATH.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve()
STAGES = ("embed", "bm25", "dense", "fuse", "answer")


def smaps_rss(generation: Path) -> dict[str, float]:
    """Resident MiB of this process by kind: anonymous, each index file, the query model's weights, and
    other file-backed mappings (code of Python and the libraries)."""
    by: Counter[str] = Counter()
    name = ""
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            field = line.split(None, 1)[0]
            if not field.endswith(":"):  # a mapping's header: address perms offset dev inode [path]
                parts = line.split(None, 5)
                path = parts[5].strip() if len(parts) > 5 else ""
                if path.startswith(str(generation)):
                    name = "index " + Path(path).name
                elif path.endswith(".safetensors"):
                    name = "model weights"
                elif path.startswith("/"):
                    name = "other files"
                else:
                    name = "anonymous"
            elif field == "Rss:":
                by[name] += int(line.split()[1])
            elif field == "Anonymous:" and name != "anonymous":  # written pages of a file mapping
                by[name] -= int(line.split()[1])
                by["anonymous"] += int(line.split()[1])
    return {key: kib / 1024 for key, kib in sorted(by.items())}


def status_mib(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker(args: argparse.Namespace) -> dict[str, object]:
    imported = time.time()
    from benchmarks.common import load_queries, median, percentile
    from benchmarks.fake_embedder import FakeEmbedder
    from index.corpus_index import CorpusIndex
    from index.store import current_generation
    from qa.engine import QAEngine

    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    import faiss

    faiss.omp_set_num_threads(1)
    imported = time.time() - imported
    started = time.perf_counter()
    generation = current_generation(Path(args.index))
    if generation is None:
        raise SystemExit(f"no index in {args.index}")
    verified = time.perf_counter() - started
    index = CorpusIndex(generation)
    opened = time.perf_counter() - started
    if args.real_encoder:
        from index.embed import ModelEmbedder, resolve_model

        engine = QAEngine(index, ModelEmbedder(resolve_model(None)))
    else:
        engine = QAEngine(index, FakeEmbedder())
    checkpoints = sorted(args.checkpoints)
    wanted = checkpoints[-1] + 5
    if args.sample:  # spread over the whole dev set: little topical locality between consecutive questions
        every = load_queries("squad-v1.1-dev")
        questions = [text for _, text in random.Random(0).sample(every, wanted)]
    else:  # the file's order: consecutive questions often ask about the same paragraph, as a user would
        questions = [text for _, text in load_queries("squad-v1.1-dev", wanted)]
    engine.ask(questions[0], "hybrid", args.top_k)
    first = time.perf_counter() - started
    first_since_spawn = time.time() - args.spawned_at
    for question in questions[1:5]:  # warm-up
        engine.ask(question, "hybrid", args.top_k)
    stages: dict[str, list[float]] = {}
    memory: dict[str, object] = {}
    for done, question in enumerate(questions[5:], start=1):
        for stage, ms in engine.ask(question, "hybrid", args.top_k).timings_ms.items():
            stages.setdefault(stage, []).append(ms)
        if done in checkpoints:
            memory[str(done)] = {"rss": status_mib("VmRSS"), "by": smaps_rss(generation.path)}
    result: dict[str, object] = {
        "import_s": imported,
        "verify_s": verified,
        "open_s": opened,
        "first_answer_s": first,
        "spawn_to_first_answer_s": first_since_spawn,
        "p50_ms": {stage: median(ms[: checkpoints[0]]) for stage, ms in stages.items()},
        "p95_ms": percentile(stages["total"][: checkpoints[0]], 0.95),
        "memory": memory,
        "hwm": status_mib("VmHWM"),
    }
    if args.tracemalloc:
        current, peak = tracemalloc.get_traced_memory()
        result["traced_mib"] = [current / 2**20, peak / 2**20]
    engine.close()
    return result


def evict(index_dir: Path) -> None:
    """Drop the live generation's files from the page cache (so the next open reads from disk)."""
    generation = index_dir / (index_dir / "CURRENT").read_text().strip()
    for path in generation.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def run_worker(code: Path, index_dir: Path, args: argparse.Namespace) -> dict[str, object]:
    if args.evict:
        evict(index_dir)
    command = [sys.executable, str(HERE), "--worker", "--index", str(index_dir), "--spawned-at", str(time.time())]
    command += ["--checkpoints", *map(str, args.checkpoints)]
    command += ["--real-encoder"] * args.real_encoder + ["--tracemalloc"] * args.tracemalloc
    command += ["--sample"] * args.sample + ["--top-k", str(args.top_k)]
    env = {**os.environ, "PYTHONPATH": str(code), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, env=env, cwd=code, stdout=subprocess.PIPE, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"worker for {code} failed with exit code {result.returncode}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="index folder (holds CURRENT)")
    parser.add_argument("--base", type=Path, help="code tree A (a git archive of the previous code)")
    parser.add_argument("--base-index", type=Path, help="index folder for A (default: --index)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[100], help="RSS after these questions")
    parser.add_argument("--evict", action="store_true", help="drop the index files from the page cache first")
    parser.add_argument("--real-encoder", action="store_true", help="the real query encoder (see QA_QUERY_ENCODER)")
    parser.add_argument("--sample", action="store_true", help="questions sampled across the dev set, not in order")
    parser.add_argument(
        "--top-k", type=int, default=5, help="passages per answer (5, the product default; 10 before session 8)"
    )
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python/numpy allocations")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--spawned-at", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    from benchmarks.common import median, table

    trees = {"B (this tree)": (HERE.parent.parent, args.index)}
    if args.base:
        trees = {"A (base)": (args.base, args.base_index or args.index), **trees}
    results: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
    for run in range(args.runs):
        order = list(trees.items())
        for name, (code, index_dir) in order[::-1] if run % 2 else order:  # A B, B A, A B, ...
            results[name].append(run_worker(code, index_dir, args))
            print(f"run {run + 1} {name}: {json.dumps(results[name][-1])}", file=sys.stderr, flush=True)
    first_checkpoint = str(min(args.checkpoints))
    fields = [
        ("verify s", lambda r: r["verify_s"]),
        ("open s", lambda r: r["open_s"]),
        ("open -> first answer s", lambda r: r["first_answer_s"]),
        ("process start -> first answer s", lambda r: r["spawn_to_first_answer_s"]),
        ("warm p50 ms", lambda r: r["p50_ms"]["total"]),
        ("warm p95 ms", lambda r: r["p95_ms"]),
        *[(f"{stage} p50 ms", lambda r, s=stage: r["p50_ms"][s]) for stage in STAGES],
        *[(f"RSS after {c} MiB", lambda r, c=c: r["memory"][str(c)]["rss"]) for c in sorted(args.checkpoints)],
        ("peak RSS MiB", lambda r: r["hwm"]),
    ]
    rows = []
    for label, get in fields:
        values = {name: median([float(get(r)) for r in runs]) for name, runs in results.items()}
        row: list[object] = [label, *values.values()]
        if len(values) == 2:
            a, b = values.values()
            row.append(b / a if a else float("nan"))
        rows.append(row)
    headers = ["median of runs", *trees] + (["B / A"] if len(trees) == 2 else [])
    print(table(headers, rows))
    kinds = sorted({k for runs in results.values() for r in runs for k in r["memory"][first_checkpoint]["by"]})
    print()
    print(f"Resident MiB after {first_checkpoint} questions by mapping (median of runs):")
    by_rows = []
    for kind in kinds:
        mapped = [[r["memory"][first_checkpoint]["by"].get(kind, 0.0) for r in runs] for runs in results.values()]
        by_rows.append([kind, *map(median, mapped)])
    print(table(["mapping", *trees], by_rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
