"""Where the conversation machinery gains and loses, by the decision it takes on each target turn.

For every target turn of an abg-coqa split (follow-ups, and the topic-drift set), the target is ranked
alone, with all earlier questions prepended, and through `Conversation` + `ContextualRetriever` (ours);
turns are grouped by the decision ours took (answered alone for one reason or another, follow-up) and
whether the question carries a follow-up cue, and each group's gold-story hit@1 is printed per method.
Then the cosine between each target question and its earlier questions (embedded as one text): how well
it tells follow-ups from drift targets (AUC), and what "all earlier prepended when that cosine is over t,
else ours" would score.

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

    from qa.conversation import Conversation, has_follow_up_cue
    from qa.conversation_eval import (
        drift_conversations,
        load_conversations,
        open_dataset_engine,
        plain_queries,
        ranked_documents,
    )
    from qa.progress import StderrReporter

    engine, source = open_dataset_engine(args.dataset, StderrReporter(quiet=True))
    conversations = load_conversations(args.dataset / "conversations.jsonl", args.split)
    counts: dict[tuple[str, str], Counter[str]] = {}
    closeness: dict[str, list[tuple[float, bool, bool]]] = {}  # set -> (cosine, all right, ours right)
    for name, group in (("follow-ups", conversations), ("drift", drift_conversations(conversations))):
        for conv in group:
            target = conv.target.text
            queries = plain_queries(conv)
            firsts = {}
            for method in ("alone", "all"):
                query = queries[method]
                rows = [c.row for c in engine.retriever.retrieve(query, "hybrid", 20).candidates]
                firsts[method] = ranked_documents(engine, rows, source.doc_id)[:1]
            conversation = Conversation()
            for turn in conv.history:
                engine.ask(turn.text, conversation=conversation)
            context = conversation.context(target, engine.index.shared_section)
            retrieval, decision = engine.contextual.retrieve(target, context, "hybrid", 20)
            firsts["ours"] = ranked_documents(engine, [c.row for c in retrieval.candidates], source.doc_id)[:1]
            label = next((text for prefix, text in DECISIONS if decision.reason.startswith(prefix)), decision.reason)
            if label.startswith("topic holds"):
                label = ("cue, " if has_follow_up_cue(target) else "complete, ") + label
            count = counts.setdefault((label, name), Counter())
            count["n"] += 1
            right = {m: bool(firsts[m]) and firsts[m][0] in conv.target.gold for m in METHODS}
            for method in METHODS:
                count[method] += right[method]
            own, earlier = engine.embedder.embed_queries([target, " ".join(t.text for t in conv.history)])
            closeness.setdefault(name, []).append((float(own @ earlier), right["all"], right["ours"]))
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
    follow, drift = closeness["follow-ups"], closeness["drift"]
    above = sum(f > d for f, _, _ in follow for d, _, _ in drift) + 0.5 * sum(
        f == d for f, _, _ in follow for d, _, _ in drift
    )
    print(f"\ncosine(question, earlier questions): AUC follow-ups vs drift {above / (len(follow) * len(drift)):.3f}")
    gated = []
    for threshold in (0.1, 0.2, 0.25, 0.3, 0.35):
        scores = [sum(a if c > threshold else o for c, a, o in group) / len(group) for group in (follow, drift)]
        gated.append([f"{threshold:.2f}", *(f"{score:.3f}" for score in scores)])
    print(table(["all prepended when cosine > t, else ours: t", "follow-ups hit@1", "drift hit@1"], gated))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
