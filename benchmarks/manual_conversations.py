"""Follow-up questions over a real reference manual: Node.js's API docs (10 of its Markdown files, as a
Debian machine installs them under /usr/share/doc/nodejs/api), 12 conversations of 3 turns written for
this benchmark (`benchmarks/data/node_api_conversations.jsonl`). A turn's gold is the section that answers
it (file name and heading); a passage hits when it is in one of them. Scored on the 24 later turns, per
method: the question alone, the previous question prepended, all earlier prepended, and this project's
conversation (every turn asked in order through `QAEngine.ask`). First turns are reported alone.

    PYTHONPATH=. python benchmarks/manual_conversations.py [--docs /usr/share/doc/nodejs/api] [--misses]

The files are copied to a work folder (`--work`, default /tmp/qa-node-api) and indexed under $QA_HOME.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import table  # noqa: E402
from qa.conversation import Conversation  # noqa: E402
from qa.engine import QAEngine, open_engine  # noqa: E402
from qa.progress import StderrReporter  # noqa: E402

CONVERSATIONS = Path(__file__).resolve().parent / "data" / "node_api_conversations.jsonl"
FILES = ("fs", "path", "events", "stream", "child_process", "process", "http", "buffer", "errors", "cli")
METHODS = ("alone", "previous", "all", "ours")
TOP = 5


def ranked_sections(engine: QAEngine, query: str) -> list[tuple[str, str]]:
    """(file name, section heading) of the passages the question alone ranks first."""
    retrieval = engine.retriever.retrieve(query, "hybrid", TOP)
    records = engine.index.passages([c.row for c in retrieval.candidates])
    return [
        (Path(engine.index.document(records[c.row].doc).path).name, engine.index.section(records[c.row]))
        for c in retrieval.candidates
    ]


def _share(hits: int, total: int) -> str:
    return f"{hits}/{total} ({hits / total:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=Path("/usr/share/doc/nodejs/api"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-node-api"))
    parser.add_argument("--misses", action="store_true", help="print the later turns ours misses at rank 1")
    args = parser.parse_args()
    missing = [name for name in FILES if not (args.docs / f"{name}.md").is_file()]
    if missing:
        raise SystemExit(f"{args.docs} lacks {', '.join(missing)}.md (Debian's nodejs package installs them)")
    args.work.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(args.docs / f"{name}.md", args.work / f"{name}.md")
    engine = open_engine(args.work, None, None, StderrReporter())
    conversations = [json.loads(line) for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines() if line]
    hits = {method: [0, 0] for method in METHODS}  # hit@1, hit@TOP on later turns
    first_turns = [0, 0]
    later = 0
    misses: list[str] = []
    for conversation in conversations:
        turns = conversation["turns"]
        asked = Conversation()
        for position, turn in enumerate(turns):
            gold = {tuple(pair) for pair in turn["gold"]}
            answer = engine.ask(turn["text"], conversation=asked)
            ours = [(Path(p.citation.path).name, p.citation.section) for p in answer.passages]
            if position == 0:
                first_turns[0] += ours[:1] != [] and ours[0] in gold
                first_turns[1] += any(found in gold for found in ours)
                continue
            later += 1
            earlier = [t["text"] for t in turns[:position]]
            rankings = {
                "alone": ranked_sections(engine, turn["text"]),
                "previous": ranked_sections(engine, " ".join([*earlier[-1:], turn["text"]])),
                "all": ranked_sections(engine, " ".join([*earlier, turn["text"]])),
                "ours": ours,
            }
            for method, ranked in rankings.items():
                hits[method][0] += bool(ranked) and ranked[0] in gold
                hits[method][1] += any(found in gold for found in ranked)
            if ours and ours[0] not in gold:
                where = f"{conversation['id']} #{position + 1} {turn['text']!r}"
                misses.append(f"{where} -> {ours[0]} ({answer.retrieval_query})")
    engine.close()
    rows = [[method, _share(h1, later), _share(h5, later)] for method, (h1, h5) in hits.items()]
    print(table(["later turns", "section hit@1", f"section hit@{TOP}"], rows))
    count = len(conversations)
    print(f"first turns (question alone): hit@1 {first_turns[0]}/{count}, hit@{TOP} {first_turns[1]}/{count}")
    if args.misses:
        print("\n".join(misses))


if __name__ == "__main__":
    main()
