"""Warm follow-ups over a large index: a SQuAD dev question (sampled across the dev set), then "What else
happened to it?" in the same conversation; the follow-ups' total time and the time their candidate documents
take to be asked the topic's questions (`timings_ms.story`), p50 / p95 after a warm-up. Real query encoder.

    PYTHONPATH=. python benchmarks/follow_up_scale.py --index <QA_HOME>/scale-1000000 [--pairs 70]
        [--story-weight 0]

The index is one `benchmarks/bench_scale.py` built (`--tag`); `--story-weight 0` turns the story stage off
(`ContextSettings.story_sentence_weight`) for an A/B in the same conditions.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `qa` runs a question
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import load_queries, median, percentile  # noqa: E402

FOLLOW_UP = "What else happened to it?"
WARM_UP = 5  # conversations not counted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index directory (holding CURRENT)")
    parser.add_argument("--pairs", type=int, default=70, help="conversations of two questions")
    parser.add_argument("--story-weight", type=float, default=None, help="story_sentence_weight (default: as set)")
    args = parser.parse_args()

    import faiss

    from index.corpus_index import CorpusIndex
    from index.embed import ModelEmbedder, resolve_model
    from index.store import current_generation
    from qa.conversation import Conversation
    from qa.engine import QAEngine

    faiss.omp_set_num_threads(1)
    generation = current_generation(args.index)
    if generation is None:
        raise SystemExit(f"no index in {args.index}")
    engine = QAEngine(CorpusIndex(generation), ModelEmbedder(resolve_model(None)))
    if args.story_weight is not None:
        engine.contextual.settings = replace(engine.contextual.settings, story_sentence_weight=args.story_weight)
    questions = [text for _, text in random.Random(0).sample(load_queries("squad-v1.1-dev"), args.pairs)]
    story: list[float] = []
    total: list[float] = []
    for done, question in enumerate(questions):
        conversation = Conversation()
        engine.ask(question, conversation=conversation)
        answer = engine.ask(FOLLOW_UP, conversation=conversation)
        if answer.follow_up and done >= WARM_UP:
            story.append(answer.timings_ms.get("story", 0.0))
            total.append(answer.timings_ms["total"])
    engine.close()
    if not total:
        raise SystemExit("no follow-up was taken as one")
    print(f"{len(total)} follow-ups of {len(questions) - WARM_UP}")
    print(f"follow-up total: p50 {median(total):.1f} ms, p95 {percentile(total, 0.95):.1f} ms")
    print(f"story stage: p50 {median(story):.1f} ms, p95 {percentile(story, 0.95):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
