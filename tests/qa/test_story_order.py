"""A follow-up's candidate documents are asked every question of the topic (`ContextualRetriever._story_order`):
the story holding a sentence close to each question comes before one that matches the latest question's words
best. Real model, real index of two stories and the seed articles on disk."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

import qa.context_retrieval as context_retrieval
from index.builder import open_index
from index.corpus import FolderSource
from qa.engine import QAEngine
from qa.retrieve import Candidate, SearchQuery
from tests.conftest import SEEDS, RecordingReporter

BUS = """Passenger collapses on the morning bus

Nicole Ames collapsed on the morning bus to the city. Ted Garretson, 28, a passenger, tried to bring Nicole
back to life until the ambulance came.

The driver had stopped once on the way to pick up more passengers, witnesses said.
"""

TIMETABLE = """New timetable for school buses

From Monday every school bus driver will try to pick up more people on each round, the council said.

Drivers will pick up more people at six new stops, and people waiting will see the bus on an app.
"""

FIRST = "Who tried to bring Nicole back to life?"
FOLLOW_UP = "Did the driver try to pick more people up?"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[QAEngine]:  # type: ignore[no-untyped-def]
    corpus = tmp_path_factory.mktemp("stories") / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "bus.txt").write_text(BUS, encoding="utf-8")
    (corpus / "timetable.txt").write_text(TIMETABLE, encoding="utf-8")
    index = open_index(FolderSource(corpus), corpus.parent / "index", embedder, RecordingReporter())
    engine = QAEngine(index, embedder)
    yield engine
    engine.close()


def _candidates(engine: QAEngine) -> list[Candidate]:
    """The follow-up's own search: its words match the timetable best."""
    vector = engine.embedder.embed_queries([FOLLOW_UP])[0]
    query = SearchQuery(context_retrieval.question_terms(FOLLOW_UP), vector, text=FOLLOW_UP)
    return engine.retriever.search(query, "hybrid", 10, distinct=False).candidates


def _path(engine: QAEngine, candidate: Candidate) -> str:
    record = engine.index.passages([candidate.row])[candidate.row]
    return engine.index.document(record.doc).path


def _asked(engine: QAEngine) -> np.ndarray:
    return engine.embedder.embed_queries([FIRST, FOLLOW_UP])


def test_the_story_that_answers_every_question_comes_first(engine: QAEngine) -> None:
    candidates = _candidates(engine)
    assert _path(engine, candidates[0]).endswith("timetable.txt")  # by its own words
    ordered = engine.contextual._story_order(_asked(engine), candidates)
    assert _path(engine, ordered[0]).endswith("bus.txt")
    assert sorted(c.row for c in ordered) == sorted(c.row for c in candidates)  # nothing lost, nothing added


def test_a_documents_passages_keep_their_order_and_weight_zero_changes_nothing(engine: QAEngine) -> None:
    candidates = _candidates(engine)
    ordered = engine.contextual._story_order(_asked(engine), candidates)
    for path in {_path(engine, c) for c in candidates}:
        before = [c.row for c in candidates if _path(engine, c) == path]
        assert [c.row for c in ordered if _path(engine, c) == path] == before
    off = replace(engine.contextual.settings, story_sentence_weight=0.0)
    plain = context_retrieval.ContextualRetriever(engine.index, engine.embedder, engine.retriever, off)
    assert plain._story_order(_asked(engine), candidates) == candidates


def test_documents_past_the_depth_follow_unchanged(engine: QAEngine) -> None:
    candidates = _candidates(engine)
    one = replace(engine.contextual.settings, story_depth=1)
    shallow = context_retrieval.ContextualRetriever(engine.index, engine.embedder, engine.retriever, one)
    # only the first document is asked: its passages come first, in their order, then the others in theirs
    first = _path(engine, candidates[0])
    expected = [c for c in candidates if _path(engine, c) == first] + [
        c for c in candidates if _path(engine, c) != first
    ]
    assert shallow._story_order(_asked(engine), candidates) == expected


def test_a_long_document_is_asked_through_its_candidate_passages(
    engine: QAEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    candidates = _candidates(engine)
    read: list[list[int]] = []
    original = engine.index.sentence_vectors

    def spy(rows):  # type: ignore[no-untyped-def]
        read.append(list(rows))
        return original(rows)

    monkeypatch.setattr(engine.index, "sentence_vectors", spy)
    retriever = context_retrieval.ContextualRetriever(engine.index, engine.embedder, engine.retriever)
    retriever._story_order(_asked(engine), candidates)
    every = {row for rows in read for row in rows}
    every_bus = {c.row for c in candidates if _path(engine, c).endswith("bus.txt")}
    assert every_bus < every and len(every) > len(candidates)  # short documents: all their passages are read
    read.clear()
    monkeypatch.setattr(context_retrieval, "STORY_PASSAGES", 1)  # both are "long" now
    retriever = context_retrieval.ContextualRetriever(engine.index, engine.embedder, engine.retriever)
    ordered = retriever._story_order(_asked(engine), candidates)
    assert {row for rows in read for row in rows} == {c.row for c in candidates}
    assert sorted(c.row for c in ordered) == sorted(c.row for c in candidates)
