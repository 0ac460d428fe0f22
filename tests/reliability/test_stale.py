"""Stale citations: an engine kept open (the TUI) never presents moved text as a valid citation."""

from __future__ import annotations

import json
import os
from pathlib import Path

from index.builder import open_index
from index.corpus import FolderSource
from qa.engine import QAEngine
from qa.render import STALE_NOTE, render_answer
from tests.reliability.fakes import HashEmbedder, NullReporter
from tests.reliability.helpers import write_corpus

QUESTION = "harbour report visitors repairs"


def _engine(corpus: Path, index_dir: Path) -> QAEngine:
    source = FolderSource(corpus)
    embedder = HashEmbedder()
    return QAEngine(open_index(source, index_dir, embedder, NullReporter()), embedder, source=source)


def _by_file(engine: QAEngine, name: str) -> list[bool]:
    answer = engine.ask(QUESTION, top_k=18)
    return [e.stale for e in answer.passages if e.citation.path.endswith(name)]


def test_edits_after_indexing_mark_exactly_the_moved_citations(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", "alpha")
    engine = _engine(corpus, tmp_path / "index")
    answer = engine.ask(QUESTION, top_k=18)
    assert len(answer.passages) == 18 and not any(e.stale for e in answer.passages)
    assert all(engine.verify_citation(e) for e in answer.passages)

    doc0, doc1, doc2 = (corpus / f"doc{i}.txt" for i in range(3))
    # touched only (same bytes, new mtime): still valid
    os.utime(doc0, ns=(1, 1))
    # appended to: the cited text is still at its offsets and lines
    doc1.write_text(doc1.read_text() + "\nA closing remark added later.\n")
    # edited at the start: every offset moved
    doc2.write_text("An inserted opening line.\n\n" + doc2.read_text())
    assert _by_file(engine, "doc0.txt") == [False] * 6
    assert _by_file(engine, "doc1.txt") == [False] * 6
    assert _by_file(engine, "doc2.txt") == [True] * 6

    answer = engine.ask(QUESTION, top_k=18)
    stale = [e for e in answer.passages if e.stale]
    assert stale and not any(engine.verify_citation(e) for e in stale)
    data = answer.to_json()
    assert [p.get("stale", False) for p in data["passages"]] == [e.stale for e in answer.passages]
    assert "stale" not in next(p for p in data["passages"] if not p["path"].endswith("doc2.txt"))
    json.dumps(data)
    text = render_answer(answer)
    assert text.count(STALE_NOTE) == len(stale)

    doc0.unlink()  # deleted: stale too
    assert _by_file(engine, "doc0.txt") == [True] * 6
    engine.close()

    # A new engine (every CLI question, or the TUI re-opening) re-indexes: nothing is stale any more.
    fresh = _engine(corpus, tmp_path / "index")
    assert not any(e.stale for e in fresh.ask(QUESTION, top_k=18).passages)
    fresh.close()


def test_same_length_edit_in_place_is_caught_by_the_content_check(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", "alpha")
    engine = _engine(corpus, tmp_path / "index")
    doc = corpus / "doc1.txt"
    stat = doc.stat()
    doc.write_text(doc.read_text().replace("alpha", "omega"))  # same size, different words
    os.utime(doc, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert _by_file(engine, "doc1.txt") == [True] * 6
    engine.close()


def test_an_engine_without_a_source_trusts_its_index(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", "alpha")
    index = open_index(FolderSource(corpus), tmp_path / "index", HashEmbedder(), NullReporter())
    engine = QAEngine(index, HashEmbedder())
    (corpus / "doc0.txt").unlink()
    assert not any(e.stale for e in engine.ask(QUESTION).passages)
    engine.close()
