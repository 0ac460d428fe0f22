"""Warm `QAEngine.ask` with and without the sentence-cosine step of the second stage, same index, same
questions, one run (A/B): what the embedded sentences cost per question.

    PYTHONPATH=. QA_HOME=/tmp/eval-qahome python benchmarks/rerank_latency.py \
        --dataset ../shared/eval/scifact --dataset ../shared/eval/squad-v1.1-dev [--queries 40]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `qa` runs a question

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import median, percentile, table  # noqa: E402
from index.builder import open_index  # noqa: E402
from index.embed import ModelEmbedder, resolve_model  # noqa: E402
from index.jsonl_source import JsonlSource  # noqa: E402
from index.store import default_index_dir  # noqa: E402
from qa.engine import QAEngine  # noqa: E402
from qa.eval import load_dataset  # noqa: E402
from qa.progress import StderrReporter  # noqa: E402
from qa.retrieve import DEFAULT_RERANK, HybridRetriever  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, action="append", required=True)
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    rows = []
    variants = {
        "default (sentence cosines)": DEFAULT_RERANK,
        "lexical second stage only": dataclasses.replace(DEFAULT_RERANK, cosine_weight=0.0),
    }
    for directory in args.dataset:
        dataset = load_dataset(directory)
        embedder = ModelEmbedder(resolve_model(None))
        index_dir = default_index_dir(dataset.directory.resolve())
        index = open_index(JsonlSource(dataset.corpus), index_dir, embedder, StderrReporter(quiet=False))
        questions = [q.text for q in dataset.queries[: args.queries]]
        for label, settings in variants.items():
            engine = QAEngine(index, embedder, HybridRetriever(index, embedder, rerank_settings=settings))
            engine.ask(questions[0])  # warm-up
            times = []
            for question in questions:
                started = time.perf_counter()
                engine.ask(question)
                times.append((time.perf_counter() - started) * 1000)
            rows.append([dataset.name, label, f"{median(times):.0f}", f"{percentile(times, 0.95):.0f}"])
        index.close()
    print(table(["dataset", "second stage", "ask p50 ms", "ask p95 ms"], rows))


if __name__ == "__main__":
    main()
