"""`qa eval-conversations`: does the conversation machinery find the right document for follow-up questions?

Dataset layout (abg-coqa, see its README.txt): `corpus.jsonl` ({"id","title","text"} per story) and
`conversations.jsonl` ({"id","split","story_id","turns":[{"text","answers","gold","is_target"}, ...]}).
Only target turns are scored: gold story hit@1 / hit@5, documents ranked by their best passage.

Methods, all over the same index and the same retriever:
  alone     the target question by itself
  previous  the previous question prepended
  all       all earlier questions prepended
  context   ours: each history turn is asked in order through `Conversation` + `QAEngine.ask` (the user
            sees real answers), then the target turn is retrieved with that conversation's context.

The drift set pairs the history of one conversation with the target turn of a conversation about another
story (a topic change): a good mechanism keeps hit@1 at least at the "alone" level there. The switch set
puts a whole conversation about another story before each conversation (a topic change, then follow-ups
about the new topic): a mechanism that changes topic finds the target's story as it does without the
other conversation before it, where "all earlier prepended" carries the other story's questions too.

For the context method it also reads the sentence the answer highlights: on target turns whose first
passage is from the gold story, holds the turn's `span` (CoQA's rationale) and has two sentences or more,
how often that sentence lies on the rationale.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.errors import QAError
from index.sentences import sentences_of
from qa.caching_embedder import CachingEmbedder
from qa.context_retrieval import ContextDecision, ContextSettings
from qa.conversation import Conversation
from qa.engine import QAEngine
from qa.retrieve import Retrieval
from qa.types import Mode

if TYPE_CHECKING:
    from index.builder import BuildReporter
    from index.jsonl_source import JsonlSource

METHODS = ("alone", "previous", "all", "context")
DOC_DEPTH = 30  # passages retrieved to rank documents (enough for 5 distinct documents)


@dataclass(frozen=True)
class EvalTurn:
    text: str
    gold: tuple[str, ...]
    rationale: tuple[int, int] | None = None  # where the gold story says the answer (character offsets)


@dataclass(frozen=True)
class EvalConversation:
    id: str
    split: str
    story_id: str
    history: tuple[EvalTurn, ...]
    target: EvalTurn


@dataclass
class MethodScore:
    hits1: int = 0
    hits5: int = 0
    count: int = 0
    follow_ups: int = 0  # target turns treated as follow-ups (context method only)
    # Context method only: target turns whose first passage holds the rationale (and has 2+ sentences), and
    # those whose highlighted sentence lies on it; the same for the follow-ups among them.
    sentence_turns: int = 0
    sentence_hits: int = 0
    follow_up_sentence_turns: int = 0
    follow_up_sentence_hits: int = 0

    def add(self, ranked_docs: Sequence[str], gold: Iterable[str]) -> None:
        wanted = set(gold)
        self.count += 1
        self.hits1 += bool(ranked_docs[:1] and ranked_docs[0] in wanted)
        self.hits5 += bool(wanted & set(ranked_docs[:5]))

    def add_sentence(self, on_rationale: bool, follow_up: bool) -> None:
        self.sentence_turns += 1
        self.sentence_hits += on_rationale
        self.follow_up_sentence_turns += follow_up
        self.follow_up_sentence_hits += follow_up and on_rationale

    def as_json(self) -> dict[str, Any]:
        n = max(self.count, 1)
        scores: dict[str, Any] = {
            "hit@1": round(self.hits1 / n, 4),
            "hit@5": round(self.hits5 / n, 4),
            "n": self.count,
            "follow_ups": self.follow_ups,
        }
        if self.sentence_turns:
            scores["answer_sentence"] = {
                "on_rationale": self.sentence_hits,
                "of": self.sentence_turns,
                "follow_ups_on_rationale": self.follow_up_sentence_hits,
                "follow_ups_of": self.follow_up_sentence_turns,
            }
        return scores


@dataclass
class EvalReport:
    name: str
    scores: dict[str, MethodScore] = field(default_factory=lambda: {m: MethodScore() for m in METHODS})

    def as_json(self) -> dict[str, Any]:
        return {"set": self.name, "methods": {m: s.as_json() for m, s in self.scores.items()}}


def load_conversations(path: Path, split: str | None = None) -> list[EvalConversation]:
    conversations = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                turns = [
                    EvalTurn(str(t["text"]), tuple(str(g) for g in t["gold"]), _span(t.get("span")))
                    for t in record["turns"]
                ]
                targets = [i for i, t in enumerate(record["turns"]) if t.get("is_target")]
            except (ValueError, KeyError, TypeError) as exc:
                raise QAError(f"{path.name} line {number} is not a conversation record: {exc}") from None
            if split and record.get("split") != split:
                continue
            target = targets[-1] if targets else len(turns) - 1
            conversations.append(
                EvalConversation(
                    id=str(record["id"]),
                    split=str(record.get("split", "")),
                    story_id=str(record.get("story_id", turns[target].gold[0] if turns[target].gold else "")),
                    history=tuple(turns[:target]),
                    target=turns[target],
                )
            )
    return conversations


def _span(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0], value[1]
    return None


def _paired(conversations: Sequence[EvalConversation]) -> Iterator[tuple[EvalConversation, EvalConversation]]:
    """(conversation i in id order, conversation i + 7k for the first k about another story), for every i with
    a history."""
    ordered = sorted(conversations, key=lambda c: c.id)
    n = len(ordered)
    for i, conv in enumerate(ordered):
        if not conv.history:
            continue
        for step in range(1, n):
            other = ordered[(i + step * 7) % n]
            if other.story_id != conv.story_id:
                yield conv, other
                break


def drift_conversations(conversations: Sequence[EvalConversation]) -> list[EvalConversation]:
    """History of conversation i (in id order), target of conversation i + 7k for the first k with another story."""
    return [
        EvalConversation(f"{conv.id}->{other.id}", conv.split, other.story_id, conv.history, other.target)
        for conv, other in _paired(conversations)
    ]


def switch_conversations(conversations: Sequence[EvalConversation]) -> list[EvalConversation]:
    """A topic change, then follow-ups about the new topic: every turn of conversation i (in id order), then
    the whole of conversation i + 7k for the first k with another story (of those with a history). The target
    is the second conversation's, with its own earlier turns just before it and the other story's turns
    before those: a mechanism that switches topic finds the second story as it does without the first."""
    return [
        EvalConversation(
            f"{conv.id}=>{other.id}",
            conv.split,
            other.story_id,
            (*conv.history, conv.target, *other.history),
            other.target,
        )
        for conv, other in _paired(conversations)
        if other.history
    ]


def ranked_documents(engine: QAEngine, rows: Sequence[int], doc_id: Callable[[str], str]) -> list[str]:
    records = engine.index.passages(rows)
    docs: list[str] = []
    for row in rows:
        name = doc_id(engine.index.document(records[row].doc).path)
        if name not in docs:
            docs.append(name)
    return docs


def evaluate(
    engine: QAEngine,
    conversations: Sequence[EvalConversation],
    doc_id: Callable[[str], str],
    name: str,
    mode: Mode = "hybrid",
    methods: Sequence[str] = METHODS,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    report = EvalReport(name, {m: MethodScore() for m in methods})
    for done, conv in enumerate(conversations, start=1):
        target = conv.target.text
        plain = plain_queries(conv)
        for method in methods:
            if method in plain:
                retrieval = engine.retriever.retrieve(plain[method], mode, DOC_DEPTH)
            else:
                conversation = Conversation()
                for turn in conv.history:
                    engine.ask(turn.text, mode=mode, conversation=conversation)
                context = conversation.context(target, engine.index.shared_section)
                retrieval, decision = engine.contextual.retrieve(target, context, mode, DOC_DEPTH)
                report.scores[method].follow_ups += decision.follow_up
                score_answer_sentence(engine, report.scores[method], conv.target, retrieval, decision, doc_id, mode)
            shown = [row for c in retrieval.candidates for row in c.shown_rows]  # copies where cited
            docs = ranked_documents(engine, shown, doc_id)
            report.scores[method].add(docs, conv.target.gold)
        if progress is not None:
            progress(done, len(conversations))
    return report


def score_answer_sentence(
    engine: QAEngine,
    score: MethodScore,
    target: EvalTurn,
    retrieval: Retrieval,
    decision: ContextDecision,
    doc_id: Callable[[str], str],
    mode: Mode = "hybrid",
) -> None:
    """When the first passage is from the gold story, holds the target's rationale and has two sentences or
    more: whether the sentence the answer highlights lies on the rationale."""
    if target.rationale is None or not retrieval.candidates:
        return
    first = replace(retrieval, candidates=retrieval.candidates[:1])
    answer = engine.compose(target.text, decision.query, mode, 1, first, decision.follow_up)
    top = answer.passages[0]
    start, end = target.rationale
    citation = top.citation
    if doc_id(citation.path) not in target.gold or not (citation.char_start < end and start < citation.char_end):
        return
    if len(sentences_of(top.text)) < 2:
        return
    sentence = top.answer_sentence
    score.add_sentence(sentence.char_start < end and start < sentence.char_end, decision.follow_up)


def plain_queries(conv: EvalConversation) -> dict[str, str]:
    """The target question alone, and with the previous or all earlier questions prepended (the baselines)."""
    target, earlier = conv.target.text, [t.text for t in conv.history]
    return {"alone": target, "previous": " ".join(earlier[-1:] + [target]), "all": " ".join(earlier + [target])}


def open_dataset_engine(
    dataset: Path, reporter: BuildReporter, model: str | None = None, index_dir: Path | None = None
) -> tuple[QAEngine, JsonlSource]:
    """An engine over `dataset`'s corpus.jsonl (indexed under $QA_HOME unless `index_dir`; question vectors
    remembered by text) and the corpus, which names each indexed document's id."""
    from index.builder import open_index
    from index.embed import ModelEmbedder, resolve_model
    from index.jsonl_source import JsonlSource
    from index.store import default_index_dir

    corpus = dataset / "corpus.jsonl"
    source = JsonlSource(corpus)
    embedder = CachingEmbedder(ModelEmbedder(resolve_model(model)))
    index = open_index(source, index_dir or default_index_dir(corpus.resolve()), embedder, reporter)
    return QAEngine(index, embedder, context_settings=ContextSettings()), source


def format_table(reports: Sequence[EvalReport]) -> str:
    lines = [
        "| set | n | alone | previous prepended | all earlier prepended | context (ours) |",
        "|---|---|---|---|---|---|",
    ]
    for report in reports:
        cells = []
        n = 0
        for method in METHODS:
            score = report.scores.get(method)
            if score is None or not score.count:
                cells.append("–")
                continue
            n = score.count
            cells.append(f"{score.hits1 / score.count:.3f} / {score.hits5 / score.count:.3f}")
        lines.append(f"| {report.name} | {n} | " + " | ".join(cells) + " |")
    for report in reports:
        ours = report.scores.get("context")
        if ours is not None and ours.sentence_turns:
            lines.append(
                f"{report.name}: the highlighted sentence lies on the rationale in {ours.sentence_hits} of "
                f"{ours.sentence_turns} target turns whose first passage holds it "
                f"(follow-ups {ours.follow_up_sentence_hits} of {ours.follow_up_sentence_turns})"
            )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa eval-conversations",
        description="Gold-document hit@1/hit@5 on the target turns of a conversational dataset (abg-coqa layout), "
        "for the question alone, naive prepending and the conversation machinery; plus a topic-drift set.",
    )
    parser.add_argument(
        "--dataset", type=Path, required=True, metavar="DIR", help="folder with corpus.jsonl and conversations.jsonl"
    )
    parser.add_argument("--split", default="test", help="conversation split to score: val, test or all (default: test)")
    parser.add_argument("--limit", type=int, default=0, metavar="N", help="score only the first N conversations")
    parser.add_argument("--no-drift", action="store_true", help="skip the topic-drift and topic-switch sets")
    parser.add_argument("--mode", choices=("hybrid", "bm25", "dense"), default="hybrid")
    parser.add_argument("--index-dir", type=Path, metavar="DIR", help="index location (default: under $QA_HOME)")
    parser.add_argument("--model", metavar="NAME_OR_PATH")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--quiet", "-q", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from qa.progress import StderrReporter

    args = build_parser().parse_args(argv)
    reporter = StderrReporter(quiet=args.quiet)  # errors are reported by qa.cli.main
    dialogues = args.dataset / "conversations.jsonl"
    if not dialogues.is_file():
        raise QAError(f"no conversations.jsonl in {args.dataset}")
    engine, source = open_dataset_engine(args.dataset, reporter, args.model, args.index_dir)
    split = None if args.split == "all" else args.split
    conversations = load_conversations(dialogues, split)
    if args.limit:
        conversations = conversations[: args.limit]
    started = time.perf_counter()
    sets = [(f"{args.split}", conversations)]
    if not args.no_drift:
        sets.append((f"{args.split} drift", drift_conversations(conversations)))
        sets.append((f"{args.split} switch", switch_conversations(conversations)))
    reports = []
    for name, items in sets:

        def progress(done: int, total: int, stage: str = f"scoring {name}") -> None:
            reporter.progress(stage, done, total)

        reports.append(evaluate(engine, items, source.doc_id, name, args.mode, progress=progress))
    engine.close()
    if args.json:
        print(
            json.dumps({"reports": [r.as_json() for r in reports], "seconds": round(time.perf_counter() - started, 1)})
        )
    else:
        print(format_table(reports))
    return 0


def load_passage_conversations(path: Path) -> list[list[EvalTurn]]:
    """Conversations whose gold are passage ids (`tests/data/seed_conversations.jsonl`)."""
    conversations = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                conversations.append([EvalTurn(str(t["text"]), tuple(t["gold"])) for t in record["turns"]])
    return conversations


def evaluate_passages(
    engine: QAEngine, conversations: Sequence[Sequence[EvalTurn]], name: str, mode: Mode = "hybrid"
) -> EvalReport:
    """Passage-level hit@1/hit@5 on every turn after the first (each turn in turn is the target)."""
    report = EvalReport(name)
    for turns in conversations:
        conversation = Conversation()
        for position, turn in enumerate(turns):
            if position:
                earlier = [t.text for t in turns[:position]]
                plain = {
                    "alone": turn.text,
                    "previous": " ".join(earlier[-1:] + [turn.text]),
                    "all": " ".join(earlier + [turn.text]),
                }
                for method, query in plain.items():
                    retrieval = engine.retriever.retrieve(query, mode, 5)
                    records = engine.index.passages([c.row for c in retrieval.candidates])
                    report.scores[method].add([records[c.row].id for c in retrieval.candidates], turn.gold)
            answer = engine.ask(turn.text, mode=mode, conversation=conversation)
            if position:
                report.scores["context"].add([p.id for p in answer.passages], turn.gold)
                report.scores["context"].follow_ups += answer.follow_up
    return report
