"""How long `split_document` takes on documents built to stress what it looks for: a plain-text manual
(ruled headings, prose, indented examples, a contents block), Markdown notes (headings over prose and
lists), a document of many headings under a long table of contents, and hard-wrapped prose without a
heading. Medians of `--rounds` runs, this tree only: compare two trees by running it with each on
PYTHONPATH, in the same hour.

    PYTHONPATH=. python benchmarks/bench_splitter.py [--rounds 5] [--scale 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import table  # noqa: E402
from index.paragraphs import split_document  # noqa: E402

PROSE = "The command changes every selected word, and it works in Visual mode with any motion you give it."


def manual(sections: int) -> str:
    contents = "\n".join(f"|{n}.{k}|\tSection {k} of chapter {n}" for n in range(1, 3) for k in range(1, 10))
    body = "".join(
        f"{'=' * 78}\n*{i}.1*\tSection {i} of the manual\n\n{PROSE}\n{PROSE}\n\n\tgUw\n\n{PROSE}\n\n"
        for i in range(sections)
    )
    return f"*manual.txt*\tFor version 9.0\n\n{contents}\n\n{body}"


def notes(sections: int) -> str:
    return "# Notes\n\n" + "".join(
        f"## Meeting {i}\n\n{PROSE}\n\n- call Bob about item {i}\n- buy milk\n\nDeadline: March {i % 28 + 1}\n\n"
        for i in range(sections)
    )


def many_headings(sections: int) -> str:
    contents = "\n".join(f"- Topic number {i} of the guide" for i in range(sections))
    body = "".join(f"## Topic number {i} of the guide\n\n{PROSE}\n\n" for i in range(sections))
    return f"# Guide\n\n{contents}\n\n{body}"


def wrapped_prose(lines: int) -> str:
    block = "\n".join(f"line {i} of a long hard-wrapped paragraph, which goes on" for i in range(200))
    return "A report\n\n" + "\n\n".join(block + "." for _ in range(lines // 200))


def timed(make: Callable[[], str], rounds: int) -> tuple[int, int, float]:
    text = make()
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        split = split_document(text, "doc.txt")
        seconds.append(time.perf_counter() - started)
    return len(text), len(split.passages), statistics.median(seconds) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale", type=int, default=1, help="multiplies every document's size")
    args = parser.parse_args()
    n = args.scale
    documents: dict[str, Callable[[], str]] = {
        "plain-text manual": lambda: manual(500 * n),
        "Markdown notes": lambda: notes(1000 * n),
        "many headings under a contents list": lambda: many_headings(3000 * n),
        "hard-wrapped prose": lambda: wrapped_prose(100_000 * n),
    }
    rows = [[name, *timed(make, args.rounds)] for name, make in documents.items()]
    print(table(["document", "characters", "passages", "split median ms"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
