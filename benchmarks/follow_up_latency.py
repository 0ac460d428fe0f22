"""Warm `QAEngine.ask` inside conversations over the bundled seeds: first questions (searched once) against
later turns (searched alone and with the topic's context), same engine, one run.

    PYTHONPATH=. python benchmarks/follow_up_latency.py [--rounds 3] [--story-weight 0]

`--story-weight` sets `ContextSettings.story_sentence_weight` (0: follow-ups' documents are not asked the
topic's questions); the follow-ups' time in that stage is printed too.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `qa` runs a question
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import median, percentile, table  # noqa: E402
from qa.conversation import Conversation  # noqa: E402
from qa.conversation_eval import load_passage_conversations  # noqa: E402
from qa.engine import open_engine  # noqa: E402
from qa.progress import StderrReporter  # noqa: E402

CONVERSATIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "seed_conversations.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="times every conversation is replayed")
    parser.add_argument("--story-weight", type=float, default=None, help="story_sentence_weight (default: as set)")
    args = parser.parse_args()
    engine = open_engine(None, None, None, StderrReporter(quiet=True))
    if args.story_weight is not None:
        engine.contextual.settings = replace(engine.contextual.settings, story_sentence_weight=args.story_weight)
    conversations = load_passage_conversations(CONVERSATIONS)
    engine.ask(conversations[0][0].text)  # warm up: index pages, encoder weights
    first: list[float] = []
    follow_ups: list[float] = []
    answered_alone: list[float] = []
    story: list[float] = []
    for _ in range(args.rounds):
        for turns in conversations:
            conversation = Conversation()
            for position, turn in enumerate(turns):
                answer = engine.ask(turn.text, conversation=conversation)
                total = answer.timings_ms["total"]
                (first if position == 0 else follow_ups if answer.follow_up else answered_alone).append(total)
                if answer.follow_up:
                    story.append(answer.timings_ms.get("story", 0.0))
    rows = [
        (name, str(len(values)), f"{median(values):.0f}", f"{percentile(values, 0.95):.0f}")
        for name, values in (
            ("first question (one search)", first),
            ("later turn, follow-up (two searches)", follow_ups),
            ("later turn, answered alone (two searches)", answered_alone),
        )
        if values
    ]
    print(table(["turn", "n", "p50 ms", "p95 ms"], rows))
    print(f"follow-up / first question p50: {median(follow_ups) / median(first):.2f}x")
    if story:
        p50, p95 = median(story), percentile(story, 0.95)
        print(f"follow-ups' documents asked the topic's questions: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    engine.close()


if __name__ == "__main__":
    main()
