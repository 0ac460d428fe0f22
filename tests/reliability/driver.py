"""A real `qa` process for crash and concurrency tests, with the fast `HashEmbedder`.

    python -m tests.reliability.driver build CORPUS INDEX_DIR
    python -m tests.reliability.driver ask CORPUS INDEX_DIR QUESTION N        open + ask, N times
    python -m tests.reliability.driver hold CORPUS INDEX_DIR QUESTION SECONDS open once, ask until SECONDS

Each answer is one JSON line on stdout: the generation used and every passage with its citation.
Notes and warnings go to stderr, like the CLI. Fault injection: QA_TEST_CRASH_AT (see index.store).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from index.builder import open_index
from index.corpus import FolderSource
from index.errors import QAError
from qa.engine import QAEngine
from tests.reliability.fakes import HashEmbedder


class StderrNotes:
    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        print(f"note: {message}", file=sys.stderr, flush=True)

    def progress(self, stage: str, done: int, total: int) -> None:
        return None


def _open(corpus: Path, index_dir: Path) -> QAEngine:
    embedder = HashEmbedder()
    source = FolderSource(corpus)
    return QAEngine(open_index(source, index_dir, embedder, StderrNotes()), embedder, source=source)


def _report(engine: QAEngine, question: str) -> None:
    answer = engine.ask(question, top_k=10)
    print(
        json.dumps(
            {
                "generation": engine.index.generation.path.name,
                "fingerprint": engine.index.manifest["corpus_fingerprint"],
                "passages": [
                    {
                        "file": e.citation.abs_path,
                        "char_start": e.citation.char_start,
                        "char_end": e.citation.char_end,
                        "text": e.text,
                        "stale": e.stale,
                    }
                    for e in answer.passages
                ],
            }
        ),
        flush=True,
    )


def main(argv: list[str]) -> int:
    command, corpus, index_dir = argv[0], Path(argv[1]), Path(argv[2])
    try:
        if command == "build":
            engine = _open(corpus, index_dir)
            print(json.dumps({"generation": engine.index.generation.path.name}), flush=True)
            engine.close()
        elif command == "ask":
            for _ in range(int(argv[4])):
                engine = _open(corpus, index_dir)
                _report(engine, argv[3])
                engine.close()
        elif command == "hold":
            engine = _open(corpus, index_dir)
            deadline = time.monotonic() + float(argv[4])
            while time.monotonic() < deadline:
                _report(engine, argv[3])
                time.sleep(0.05)
            engine.close()
        else:
            print(f"unknown command {command}", file=sys.stderr)
            return 2
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
