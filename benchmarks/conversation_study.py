"""Offline study of simple ways to use a conversation's earlier questions, on abg-coqa.

Every distinct question text of the split (each turn alone, the target with the previous question
prepended, with all earlier questions prepended, for the follow-up set and the topic-drift set) is
retrieved once with the default hybrid retriever (depth 100) and cached; then document rankings (by best
passage) are combined in several ways and scored by gold-story hit@1 / hit@5 on the target turns:

- the question's own document scores plus lambda x each earlier question's own scores;
- "all earlier prepended" plus a bonus for the document each earlier question found alone;
- the question alone when its own first document leads the second by more than g, else all prepended;
- a normalised blend a x alone + (1 - a) x all prepended.

    PYTHONPATH=. QA_HOME=/tmp/eval-qahome python benchmarks/conversation_study.py --split val \\
        [--cache /tmp/conv-study-val.json] [--dataset ../shared/eval/abg-coqa]

The conversation machinery itself (`qa eval-conversations`) is not re-run here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from qa.conversation import has_follow_up_cue  # noqa: E402
from qa.conversation_eval import EvalConversation, drift_conversations, load_conversations  # noqa: E402

Ranking = dict[str, float]  # document id -> score of its best passage, best first


def earlier_text(conv: EvalConversation, last: int | None = None) -> str:
    history = [t.text for t in conv.history]
    return " ".join((history[-last:] if last else history) + [conv.target.text])


def dump_rankings(dataset: Path, texts: list[str]) -> dict[str, Ranking]:
    from index.builder import open_index
    from index.embed import ModelEmbedder, resolve_model
    from index.jsonl_source import JsonlSource
    from index.store import default_index_dir
    from qa.caching_embedder import CachingEmbedder
    from qa.engine import QAEngine
    from qa.progress import StderrReporter

    corpus = dataset / "corpus.jsonl"
    source = JsonlSource(corpus)
    embedder = CachingEmbedder(ModelEmbedder(resolve_model(None)))
    reporter = StderrReporter(quiet=False)
    index = open_index(source, default_index_dir(corpus.resolve()), embedder, reporter)
    engine = QAEngine(index, embedder)
    names: dict[int, str] = {}
    rankings: dict[str, Ranking] = {}
    for done, text in enumerate(texts, start=1):
        retrieval = engine.retriever.retrieve(text, "hybrid", 100)
        records = index.passages([c.row for c in retrieval.candidates])
        ranking: Ranking = {}
        for candidate in retrieval.candidates:
            doc = records[candidate.row].doc
            if doc not in names:
                names[doc] = source.doc_id(index.document(doc).path)
            ranking.setdefault(names[doc], candidate.score)
        rankings[text] = ranking
        reporter.progress("retrieving", done, len(texts))
    engine.close()
    return rankings


def ordered(scores: Ranking) -> list[str]:
    return [d for d, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


def hits(method: Callable[[EvalConversation], list[str]], conversations: Sequence[EvalConversation]) -> str:
    h1 = h5 = 0
    for conv in conversations:
        docs, gold = method(conv), set(conv.target.gold)
        h1 += bool(docs[:1] and docs[0] in gold)
        h5 += bool(gold & set(docs[:5]))
    n = max(len(conversations), 1)
    return f"{h1 / n:.3f} / {h5 / n:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path(__file__).resolve().parents[2] / "shared/eval/abg-coqa")
    parser.add_argument("--split", default="val")
    parser.add_argument("--cache", type=Path, help="rankings JSON (written on the first run, read later)")
    args = parser.parse_args()
    follow_ups = load_conversations(args.dataset / "conversations.jsonl", args.split)
    drift = drift_conversations(follow_ups)
    texts: list[str] = []
    for conv in [*follow_ups, *drift]:
        texts += [t.text for t in conv.history] + [conv.target.text, earlier_text(conv), earlier_text(conv, 1)]
    texts = list(dict.fromkeys(texts))
    if args.cache and args.cache.is_file():
        rankings: dict[str, Ranking] = json.loads(args.cache.read_text(encoding="utf-8"))
    else:
        rankings = dump_rankings(args.dataset, texts)
        if args.cache:
            args.cache.write_text(json.dumps(rankings), encoding="utf-8")

    def alone(conv: EvalConversation) -> list[str]:
        return ordered(rankings[conv.target.text])

    def prepended(conv: EvalConversation) -> list[str]:
        return ordered(rankings[earlier_text(conv)])

    def summed(lam: float, base: Callable[[EvalConversation], str]) -> Callable[[EvalConversation], list[str]]:
        def method(conv: EvalConversation) -> list[str]:
            scores = dict(rankings[base(conv)])
            for turn in conv.history:
                for doc, score in rankings[turn.text].items():
                    scores[doc] = scores.get(doc, 0.0) + lam * score
            return ordered(scores)

        return method

    def prior(bonus: float) -> Callable[[EvalConversation], list[str]]:
        def method(conv: EvalConversation) -> list[str]:
            scores = dict(rankings[earlier_text(conv)])
            for turn in conv.history:
                first = ordered(rankings[turn.text])[:1]
                if first and first[0] in scores:
                    scores[first[0]] += bonus
            return ordered(scores)

        return method

    def lead(conv: EvalConversation) -> float:
        values = list(rankings[conv.target.text].values())
        return values[0] - values[1] if len(values) > 1 else (values[0] if values else 0.0)

    def by_lead(gap: float, cue_matters: bool) -> Callable[[EvalConversation], list[str]]:
        def method(conv: EvalConversation) -> list[str]:
            stands = lead(conv) > gap and not (cue_matters and has_follow_up_cue(conv.target.text))
            return alone(conv) if stands else prepended(conv)

        return method

    def blend(weight: float) -> Callable[[EvalConversation], list[str]]:
        def method(conv: EvalConversation) -> list[str]:
            own, joint = rankings[conv.target.text], rankings[earlier_text(conv)]
            top_own, top_joint = max(own.values(), default=1.0) or 1.0, max(joint.values(), default=1.0) or 1.0
            docs = set(own) | set(joint)
            return ordered(
                {d: weight * own.get(d, 0.0) / top_own + (1 - weight) * joint.get(d, 0.0) / top_joint for d in docs}
            )

        return method

    rows: list[tuple[str, Callable[[EvalConversation], list[str]]]] = [
        ("alone", alone),
        ("all earlier prepended", prepended),
    ]
    own_text: Callable[[EvalConversation], str] = lambda c: c.target.text  # noqa: E731
    rows += [(f"alone + {lam} x earlier questions' own", summed(lam, own_text)) for lam in (0.2, 0.5, 1.0)]
    rows += [(f"all prepended + {lam} x earlier questions' own", summed(lam, earlier_text)) for lam in (0.2, 0.5)]
    rows += [(f"all prepended + bonus {b} for earlier questions' first document", prior(b)) for b in (0.1, 0.3, 1.0)]
    rows += [(f"alone if its lead > {g}, else all prepended", by_lead(g, False)) for g in (0.1, 0.2, 0.5)]
    rows += [(f"alone if its lead > {g} and no cue, else all prepended", by_lead(g, True)) for g in (0.2, 0.5)]
    rows += [(f"blend {a} x alone + {1 - a:.1f} x all prepended", blend(a)) for a in (0.3, 0.5, 0.7)]
    print(f"abg-coqa {args.split}: {len(follow_ups)} follow-up targets, {len(drift)} drift targets")
    print("| variant | follow-ups hit@1 / hit@5 | drift hit@1 / hit@5 |")
    print("|---|---|---|")
    for name, method in rows:
        print(f"| {name} | {hits(method, follow_ups)} | {hits(method, drift)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
