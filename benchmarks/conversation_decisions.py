"""Where the conversation machinery gains and loses, by the decision it takes on each target turn.

For every target turn of an abg-coqa split (follow-ups, and the topic-drift set), the target is ranked
alone, with all earlier questions prepended, and through `Conversation` + `ContextualRetriever` (ours);
turns are grouped by the decision ours took (answered alone for one reason or another, follow-up) and
whether the question carries a follow-up cue, and each group's gold-story hit@1 is printed per method.

    PYTHONPATH=. QA_HOME=/tmp/eval-qahome python benchmarks/conversation_decisions.py --split val
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.common import table  # noqa: E402

DECISIONS = (  # reason prefix -> label
    ("a complete question that finds", "complete, finds the topic's document itself: alone"),
    ("a complete question mostly", "complete, topic holds less, points elsewhere: alone, new topic"),
    ("the question alone clearly", "cue, points clearly elsewhere: alone, topic kept"),
    ("the topic's document holds", "topic holds >= 70%: follow-up"),
    ("too vague", "cue, too vague: follow-up"),
)
METHODS = ("alone", "all", "ours")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/eval/abg-coqa"))
    parser.add_argument("--split", default="val")
    args = parser.parse_args()

    from index.builder import open_index
    from index.embed import ModelEmbedder, resolve_model
    from index.jsonl_source import JsonlSource
    from index.store import default_index_dir
    from qa.caching_embedder import CachingEmbedder
    from qa.conversation import Conversation, has_follow_up_cue
    from qa.conversation_eval import drift_conversations, load_conversations, ranked_documents
    from qa.engine import QAEngine
    from qa.progress import StderrReporter

    corpus = args.dataset / "corpus.jsonl"
    source = JsonlSource(corpus)
    embedder = CachingEmbedder(ModelEmbedder(resolve_model(None)))
    index = open_index(source, default_index_dir(corpus.resolve()), embedder, StderrReporter(quiet=True))
    engine = QAEngine(index, embedder)
    conversations = load_conversations(args.dataset / "conversations.jsonl", args.split)
    counts: dict[tuple[str, str], Counter[str]] = {}
    for name, group in (("follow-ups", conversations), ("drift", drift_conversations(conversations))):
        for conv in group:
            target = conv.target.text
            queries = {"alone": target, "all": " ".join([t.text for t in conv.history] + [target])}
            firsts = {}
            for method, query in queries.items():
                rows = [c.row for c in engine.retriever.retrieve(query, "hybrid", 20).candidates]
                firsts[method] = ranked_documents(engine, rows, source.doc_id)[:1]
            conversation = Conversation()
            for turn in conv.history:
                engine.ask(turn.text, conversation=conversation)
            retrieval, decision = engine.contextual.retrieve(target, conversation.context(target), "hybrid", 20)
            firsts["ours"] = ranked_documents(engine, [c.row for c in retrieval.candidates], source.doc_id)[:1]
            label = next((text for prefix, text in DECISIONS if decision.reason.startswith(prefix)), decision.reason)
            if label.startswith("topic holds"):
                label = ("cue, " if has_follow_up_cue(target) else "complete, ") + label
            count = counts.setdefault((label, name), Counter())
            count["n"] += 1
            for method in METHODS:
                count[method] += bool(firsts[method]) and firsts[method][0] in conv.target.gold
    engine.close()
    labels = sorted({label for label, _ in counts})
    rows = []
    for label in labels:
        row: list[object] = [label]
        for name in ("follow-ups", "drift"):
            count = counts.get((label, name), Counter())
            row += [count["n"], " / ".join(str(count[m]) for m in METHODS)]
        rows.append(row)
    print(f"abg-coqa {args.split}: hit@1 counts (alone / all earlier prepended / ours) by ours' decision")
    print(table(["decision", "follow-ups n", "alone / all / ours", "drift n", "alone / all / ours"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
