"""How many of our own questions about the seeds put a right paragraph first (and in the top 5), per mode.

PYTHONPATH=. python benchmarks/seed_questions.py
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from index.builder import open_index
from index.corpus import FolderSource
from index.embed import ModelEmbedder, resolve_model
from qa.engine import QAEngine, default_corpus
from qa.progress import StderrReporter

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "seed_questions.jsonl"


def main() -> None:
    items = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    embedder = ModelEmbedder(resolve_model(None))
    with tempfile.TemporaryDirectory() as directory:
        index = open_index(FolderSource(default_corpus()), Path(directory), embedder, StderrReporter(quiet=True))
        engine = QAEngine(index, embedder)
        print("| mode | right paragraph first | in top 5 |\n|---|---|---|")
        misses: list[str] = []
        for mode in ("hybrid", "bm25", "dense"):
            first = top5 = 0
            for item in items:
                answer = engine.ask(item["question"], mode=mode)  # type: ignore[arg-type]
                ids = [p.id for p in answer.passages]
                first += ids[0] in item["gold"]
                top5 += any(i in item["gold"] for i in ids)
                if mode == "hybrid" and ids[0] not in item["gold"]:
                    misses.append(f"{item['question']} -> {ids[0]}")
            print(f"| {mode} | {first}/{len(items)} | {top5}/{len(items)} |")
        engine.close()
    for miss in misses:
        print(f"hybrid miss: {miss}")


if __name__ == "__main__":
    main()
