"""Regression on a small slice of abg-coqa: follow-ups must find their story, topic changes must not suffer.

The dataset lives beside the repository (`<repo>/../shared/eval/abg-coqa`) or in `$QA_EVAL_DIR`; the test
skips when it is absent. The slice: the first val conversations, their stories plus distractor stories,
indexed into a temporary folder through the normal JSONL source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from eval_data import eval_dataset

from index.builder import open_index
from index.embed import ModelEmbedder, resolve_model
from index.jsonl_source import JsonlSource
from qa.conversation_eval import (
    EvalReport,
    drift_conversations,
    evaluate,
    format_table,
    load_conversations,
    switch_conversations,
)
from qa.engine import QAEngine
from qa.progress import StderrReporter

CONVERSATIONS = 12
STORIES = 30  # the slice's stories plus distractors, in corpus order
Reports = tuple[EvalReport, EvalReport, EvalReport]  # follow-ups, drift, switch


DATASET = eval_dataset("abg-coqa", ("conversations.jsonl", "corpus.jsonl"))
pytestmark = pytest.mark.skipif(
    DATASET is None,
    reason="abg-coqa not found: set QA_EVAL_DIR (the eval folder or abg-coqa itself) or put shared/eval "
    "beside the repository",
)


@pytest.fixture(scope="module")
def slice_reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reports]:
    conversations = [c for c in load_conversations(DATASET / "conversations.jsonl", "val") if c.history][:CONVERSATIONS]
    wanted = {c.story_id for c in conversations}
    folder = tmp_path_factory.mktemp("abg-slice") / "abg-slice"
    folder.mkdir()
    kept = 0
    with open(DATASET / "corpus.jsonl", encoding="utf-8") as source, open(folder / "corpus.jsonl", "w") as out:
        for line in source:
            record = json.loads(line)
            if record["id"] in wanted or kept < STORIES - len(wanted):
                kept += record["id"] not in wanted
                out.write(line)
    jsonl = JsonlSource(folder / "corpus.jsonl")
    embedder = ModelEmbedder(resolve_model(None))
    index = open_index(jsonl, folder.parent / "index", embedder, StderrReporter(quiet=True))
    engine = QAEngine(index, embedder)
    follow = evaluate(engine, conversations, jsonl.doc_id, "abg-coqa val slice")
    drift = evaluate(engine, drift_conversations(conversations), jsonl.doc_id, "abg-coqa val slice drift")
    switch = evaluate(engine, switch_conversations(conversations), jsonl.doc_id, "abg-coqa val slice switch")
    print("\n" + format_table([follow, drift, switch]))
    yield follow, drift, switch
    engine.close()


# Measured on this slice (12 val conversations, 30 stories): follow-ups hit@1 alone 5/12, all earlier
# prepended 11/12, context 11/12; drift set alone 5/12, all earlier prepended 1/12, context 4/12 (5/12 when first
# measured); switch set alone 5/12, previous prepended 9/12, all earlier prepended 5/12, context 9/12.


def test_follow_ups_beat_the_question_alone(slice_reports: Reports) -> None:
    follow, _, _ = slice_reports
    s = follow.scores
    assert s["context"].hits1 >= s["alone"].hits1 + 5
    assert s["context"].hits5 >= s["alone"].hits5


def test_topic_changes_cost_little(slice_reports: Reports) -> None:
    _, drift, _ = slice_reports
    s = drift.scores
    # one tie may flip; on the full val drift set ours is 0.012 below alone (docs/conversation.md)
    assert s["context"].hits1 >= s["alone"].hits1 - 1
    assert s["context"].hits1 >= s["all"].hits1 + 3


def test_highlighted_sentences_are_read_against_the_rationale(slice_reports: Reports) -> None:
    follow, _, _ = slice_reports
    ours = follow.scores["context"]
    assert 0 < ours.follow_up_sentence_turns <= ours.sentence_turns <= ours.count
    assert ours.follow_up_sentence_hits <= ours.sentence_hits <= ours.sentence_turns
    assert ours.as_json()["answer_sentence"]["of"] == ours.sentence_turns
    assert "the highlighted sentence lies on the rationale" in format_table([follow])
    # the baselines are rankings only: no sentence is shown for them
    assert all(not follow.scores[m].sentence_turns for m in ("alone", "previous", "all"))


def test_after_a_topic_switch_follow_ups_find_the_new_story(
    slice_reports: Reports,
) -> None:
    _, _, switch = slice_reports
    s = switch.scores
    # a whole conversation about another story comes first: prepending every earlier question drags its words
    # along (5 of 12 here, as alone), the conversation changes topic and follows up (9 of 12, as "previous")
    assert s["context"].hits1 >= s["all"].hits1 + 3
    assert s["context"].hits1 >= s["alone"].hits1 + 3
    assert s["context"].hits5 >= s["all"].hits5
