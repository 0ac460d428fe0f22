"""Follow-up questions over a real reference manual, 12 conversations of 3 turns written for this benchmark:
Node.js's API docs (10 of its Markdown files, as a Debian machine installs them under
/usr/share/doc/nodejs/api; `benchmarks/data/node_api_conversations.jsonl`) or, with `--manual python`,
Python's language reference as the running interpreter's `pydoc` prints it (its 79 topics, one file each;
`benchmarks/data/python_reference_conversations.jsonl`). A turn's gold is the sections that answer it (file
name and heading, "" for a file's text before any heading); a passage hits when it, or a copy of its text
cited with it (`also in`), is in one of them. Scored on the 24 later turns, per method: the question alone,
the previous question prepended, all earlier prepended, and this project's conversation (every turn asked
in order through `QAEngine.ask`). First turns are reported alone.

    PYTHONPATH=. python benchmarks/manual_conversations.py [--manual node|python] [--docs DIR] [--misses]

The files are copied to a work folder (`--work`, default /tmp/qa-node-api or /tmp/qa-python-reference) and
indexed under $QA_HOME.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import table  # noqa: E402
from qa.conversation import Conversation  # noqa: E402
from qa.engine import QAEngine, open_engine  # noqa: E402
from qa.progress import StderrReporter  # noqa: E402
from qa.types import Answer  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
CONVERSATIONS = {"node": DATA / "node_api_conversations.jsonl", "python": DATA / "python_reference_conversations.jsonl"}
WORK = {"node": Path("/tmp/qa-node-api"), "python": Path("/tmp/qa-python-reference")}
FILES = ("fs", "path", "events", "stream", "child_process", "process", "http", "buffer", "errors", "cli")
METHODS = ("alone", "previous", "all", "ours")
TOP = 5

Shown = frozenset[tuple[str, str]]  # (file name, section) of a passage and of the copies cited with it


def ranked_sections(engine: QAEngine, query: str) -> list[Shown]:
    """What the question alone shows first: each passage's (file name, section heading), with its copies'."""
    retrieval = engine.retriever.retrieve(query, "hybrid", TOP)
    rows = [row for c in retrieval.candidates for row in c.shown_rows]
    records = engine.index.passages(rows)

    def where(row: int) -> tuple[str, str]:
        return Path(engine.index.document(records[row].doc).path).name, engine.index.section(records[row])

    return [frozenset(where(row) for row in c.shown_rows) for c in retrieval.candidates]


def shown_sections(answer: Answer) -> list[Shown]:
    return [frozenset((Path(c.path).name, c.section) for c in (p.citation, *p.also_in)) for p in answer.passages]


def copy_node_docs(docs: Path, work: Path) -> None:
    missing = [name for name in FILES if not (docs / f"{name}.md").is_file()]
    if missing:
        raise SystemExit(f"{docs} lacks {', '.join(missing)}.md (Debian's nodejs package installs them)")
    for name in FILES:
        shutil.copyfile(docs / f"{name}.md", work / f"{name}.md")


def write_python_reference(work: Path) -> None:
    """Python's language reference as `pydoc` prints its topics ("with", "try", ...), one file per topic."""
    from pydoc_data.topics import topics

    for name, text in topics.items():
        (work / f"{re.sub(r'[^A-Za-z0-9_-]+', '-', name)}.txt").write_text(text, encoding="utf-8")


def _share(hits: int, total: int) -> str:
    return f"{hits}/{total} ({hits / total:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manual", choices=sorted(CONVERSATIONS), default="node")
    parser.add_argument("--docs", type=Path, default=Path("/usr/share/doc/nodejs/api"), help="Node.js's docs")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--misses", action="store_true", help="print the later turns ours misses at rank 1")
    args = parser.parse_args()
    work: Path = args.work or WORK[args.manual]
    work.mkdir(parents=True, exist_ok=True)
    if args.manual == "node":
        copy_node_docs(args.docs, work)
    else:
        write_python_reference(work)
    engine = open_engine(work, None, None, StderrReporter())
    lines = CONVERSATIONS[args.manual].read_text(encoding="utf-8").splitlines()
    conversations = [json.loads(line) for line in lines if line]
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
            ours = shown_sections(answer)
            if position == 0:
                first_turns[0] += bool(ours) and bool(ours[0] & gold)
                first_turns[1] += any(found & gold for found in ours)
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
                hits[method][0] += bool(ranked) and bool(ranked[0] & gold)
                hits[method][1] += any(found & gold for found in ranked)
            if ours and not ours[0] & gold:
                where = f"{conversation['id']} #{position + 1} {turn['text']!r}"
                misses.append(f"{where} -> {sorted(ours[0])} ({answer.retrieval_query})")
    engine.close()
    rows = [[method, _share(h1, later), _share(h5, later)] for method, (h1, h5) in hits.items()]
    print(table(["later turns", "section hit@1", f"section hit@{TOP}"], rows))
    count = len(conversations)
    print(f"first turns (question alone): hit@1 {first_turns[0]}/{count}, hit@{TOP} {first_turns[1]}/{count}")
    if args.misses:
        print("\n".join(misses))


if __name__ == "__main__":
    main()
