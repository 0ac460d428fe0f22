"""Follow-up questions over the bundled seed articles, with the real model and the real index code.

`tests/data/seed_conversations.jsonl`: natural 3-turn conversations, some with topic switches; each turn
lists the passage ids that answer it. Turns after the first are scored (passage hit@1 / hit@5).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.builder import open_index
from index.corpus import FolderSource
from index.embed import ModelEmbedder, resolve_model
from qa.conversation import Conversation
from qa.conversation_eval import evaluate_passages, format_table, load_passage_conversations
from qa.engine import QAEngine, default_corpus
from qa.progress import StderrReporter

SEED_CONVERSATIONS = Path(__file__).resolve().parent.parent / "data" / "seed_conversations.jsonl"
# Measured: context 0.917 hit@1 (22/24 later turns since session 8; the question alone 23/24: "When was the
# truce brokered?" shows the depot story's strained-truce paragraph first, "At whose request?" stays with
# the first answer's article); the floor leaves room for two ties to flip.
CONTEXT_HIT1_FLOOR = 0.83


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QAEngine]:
    home = tmp_path_factory.mktemp("qa-home")
    embedder = ModelEmbedder(resolve_model(None))
    index = open_index(FolderSource(default_corpus()), home / "seeds-index", embedder, StderrReporter(quiet=True))
    engine = QAEngine(index, embedder)
    yield engine
    engine.close()


def test_seed_conversations_are_well_formed(engine: QAEngine) -> None:
    conversations = [json.loads(line) for line in SEED_CONVERSATIONS.read_text(encoding="utf-8").splitlines()]
    assert len(conversations) >= 10
    for conversation in conversations:
        assert len(conversation["turns"]) == 3
        for turn in conversation["turns"]:
            for passage_id in turn["gold"]:
                record = engine.index.catalog.passage_by_id(passage_id)
                assert record is not None and record.search_row is not None, passage_id


def test_follow_ups_find_their_passages(engine: QAEngine) -> None:
    report = evaluate_passages(engine, load_passage_conversations(SEED_CONVERSATIONS), "seeds")
    print("\n" + format_table([report]))
    scores = report.scores
    context = scores["context"]
    assert context.hits1 / context.count >= CONTEXT_HIT1_FLOOR
    # far better than prepending earlier questions, close to the question alone, every gold passage in the top 5
    assert context.hits1 >= scores["all"].hits1 + 5
    assert context.hits1 >= scores["alone"].hits1 - 2
    assert context.hits5 == scores["alone"].hits5 == context.count


def test_example_conversation(engine: QAEngine) -> None:
    conversation = Conversation()
    first = engine.ask("Who struck the weapons depot in Idlib?", conversation=conversation)
    second = engine.ask("Was it coordinated with anyone?", conversation=conversation)
    third = engine.ask("What did Sergey Lavrov say about the Free Syrian Army?", conversation=conversation)
    assert not first.follow_up and first.retrieval_query == first.question
    assert second.follow_up
    assert second.retrieval_query.startswith("Was it coordinated with anyone? [+ context: ")
    assert "depot" in second.retrieval_query
    assert second.passages[0].id in {"seeds/000_a6242c36691dad2e.txt#p8", "seeds/001_1b964a6f03f87240.txt#p2"}
    # answered, not "no good evidence": a follow-up's fillers ("anyone") do not count against its coverage
    assert second.answer is not None
    # a question that stands alone is not dragged back, and starts a new topic
    assert not third.follow_up and third.retrieval_query == third.question
    assert third.passages[0].id.startswith("seeds/003_5955d54851c696b3.txt#p1")
    assert conversation.topic_start == 2
    assert second.to_json()["retrieval_query"] == second.retrieval_query


def test_follow_up_highlights_the_sentence_its_own_words_ask_for(engine: QAEngine) -> None:
    # The context ("people live Idlib") finds the paragraph; "controls" picks its sentence. With the context's
    # words and vector the four-million sentence was highlighted instead of the one about control.
    conversation = Conversation()
    engine.ask("How many people live in Idlib?", conversation=conversation)
    answer = engine.ask("Who controls it?", conversation=conversation)
    assert answer.follow_up
    top = answer.passages[0]
    assert top.id == "seeds/001_1b964a6f03f87240.txt#p4"
    assert top.answer_sentence.text.startswith("Idlib, in northwest Syria, is controlled by HTS militia")
    assert answer.answer is not None and answer.answer.text == top.answer_sentence.text
