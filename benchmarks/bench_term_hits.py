"""The second stage's term hits two ways, on the inputs real questions give: every candidate at once
with numpy (`stored_term_hits`, the default) against one passage at a time in Python (`term_hits`), same
run, same inputs; the results are checked equal. Also times the answer stage's matched words from the
stored ids against tokenizing the passages.

    PYTHONPATH=. python benchmarks/bench_term_hits.py --index /tmp/bench-qahome/scale-100000 [--questions 100]

The inputs are captured while sampled SQuAD dev questions are asked (warm engine, real query encoder),
then each variant runs over all of them, alternating, `--rounds` times; medians per question. Timed in a
tight loop, so both are faster than inside a question (caches are warm here).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qa.engine  # noqa: E402
import qa.rerank  # noqa: E402
from benchmarks.common import load_queries, median, table  # noqa: E402
from index.corpus_index import CorpusIndex  # noqa: E402
from index.embed import ModelEmbedder, resolve_model  # noqa: E402
from index.store import current_generation  # noqa: E402
from qa.answer import matched_terms, stored_matched_terms  # noqa: E402
from qa.engine import QAEngine  # noqa: E402
from qa.term_hits import stored_term_hits, term_hits  # noqa: E402


def capture(index_dir: Path, questions: int, seed: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The arguments of every `stored_term_hits` and `stored_matched_terms` call while asking."""
    hits_calls: list[tuple[Any, ...]] = []
    word_calls: list[tuple[Any, ...]] = []

    def recording(calls: list[tuple[Any, ...]], function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            calls.append(args)
            return function(*args)

        return wrapper

    qa.rerank.stored_term_hits = recording(hits_calls, stored_term_hits)  # type: ignore[assignment]
    qa.engine.stored_matched_terms = recording(word_calls, stored_matched_terms)  # type: ignore[assignment]
    index = CorpusIndex(current_generation(index_dir))
    engine = QAEngine(index, ModelEmbedder(resolve_model(None)))
    for _, question in random.Random(seed).sample(load_queries("squad-v1.1-dev"), questions):
        engine.ask(question, "hybrid", 10)
    qa.rerank.stored_term_hits = stored_term_hits  # type: ignore[assignment]
    qa.engine.stored_matched_terms = stored_matched_terms  # type: ignore[assignment]
    return hits_calls, word_calls


def timed(function: Callable[..., object], *args: Any) -> float:
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def passage_by_passage(passages: list[Any], weights: Any, pairs: Any) -> list[Any]:
    return [term_hits(p.terms, weights, pairs) for p in passages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="index folder (holds CURRENT)")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    hits_calls, word_calls = capture(args.index, args.questions, args.seed)
    for passages, weights, pairs in hits_calls:
        assert stored_term_hits(passages, weights, pairs) == passage_by_passage(passages, weights, pairs)
    for text, stored, ids, weights in word_calls:
        assert stored_matched_terms(text, stored, ids, weights) == matched_terms(text, weights)

    per_question: dict[str, list[float]] = {"numpy": [], "python": []}
    for _ in range(args.rounds):
        for passages, weights, pairs in hits_calls:
            per_question["numpy"].append(timed(stored_term_hits, passages, weights, pairs))
            per_question["python"].append(timed(passage_by_passage, passages, weights, pairs))
    # the answer stage places the matched words of a question's passages (10 per question)
    per_answer: dict[str, list[float]] = {"ids": [], "tokenized": []}
    for _ in range(args.rounds):
        for text, stored, ids, weights in word_calls:
            per_answer["ids"].append(timed(stored_matched_terms, text, stored, ids, weights))
            per_answer["tokenized"].append(timed(matched_terms, text, weights))
    shown = len(word_calls) / max(len(hits_calls), 1)
    rows = [
        ["term hits of a question's candidates", "numpy, all at once", f"{median(per_question['numpy']):.3f}", ""],
        ["", "Python, passage by passage", f"{median(per_question['python']):.3f}", ""],
        ["matched words of one shown passage", "from the stored ids", f"{median(per_answer['ids']):.4f}", ""],
        ["", "tokenizing the passage", f"{median(per_answer['tokenized']):.4f}", ""],
    ]
    rows[0][3] = f"{median(per_question['python']) / median(per_question['numpy']):.2f}x"
    rows[2][3] = f"{median(per_answer['tokenized']) / median(per_answer['ids']):.2f}x"
    print(f"{len(hits_calls)} questions, {shown:.1f} shown passages each; results equal")
    print(table(["step", "way", "median ms", "speed-up"], rows))


if __name__ == "__main__":
    main()
