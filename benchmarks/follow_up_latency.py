"""Warm `QAEngine.ask` inside conversations over the bundled seeds: first questions (searched once) against
later turns (searched alone and with the topic's context), same engine, one run.

    PYTHONPATH=. python benchmarks/follow_up_latency.py [--rounds 3]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `qa` runs a question
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import sys
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
    args = parser.parse_args()
    engine = open_engine(None, None, None, StderrReporter(quiet=True))
    conversations = load_passage_conversations(CONVERSATIONS)
    engine.ask(conversations[0][0].text)  # warm up: index pages, encoder weights
    first: list[float] = []
    follow_ups: list[float] = []
    answered_alone: list[float] = []
    for _ in range(args.rounds):
        for turns in conversations:
            conversation = Conversation()
            for position, turn in enumerate(turns):
                answer = engine.ask(turn.text, conversation=conversation)
                total = answer.timings_ms["total"]
                (first if position == 0 else follow_ups if answer.follow_up else answered_alone).append(total)
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
    engine.close()


if __name__ == "__main__":
    main()
