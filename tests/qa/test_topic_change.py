"""When a question inside a conversation points to another story: answered alone, and a new topic only if
nothing in it refers back. Real model, real index over the seeds plus one unrelated article."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from qa.context_retrieval import ContextSettings
from qa.conversation import Conversation
from qa.engine import QAEngine
from tests.conftest import SEEDS, engine_over

BAKERY = """Lyon bakery wins the national baguette prize

The bakery of Marcel Dubois in the Croix-Rousse district of Lyon won the national baguette prize on Monday.
The jury tasted 180 loaves before choosing his crusty sourdough baguette.

Dubois bakes every loaf himself, starting at three in the morning with flour milled in the Beaujolais.
His prize includes supplying the presidential palace with bread for a year.
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[QAEngine]:  # type: ignore[no-untyped-def]
    seeds = {path.name: path.read_text(encoding="utf-8") for path in SEEDS.iterdir() if path.is_file()}
    engine = engine_over(tmp_path_factory.mktemp("topic-change"), {**seeds, "bakery.txt": BAKERY}, embedder)
    yield engine
    engine.close()


def test_a_question_that_refers_back_keeps_the_topic(engine: QAEngine) -> None:
    # "points elsewhere" judged on BM25 alone (any cosine passes), so that this short question takes that path
    strict = QAEngine(engine.index, engine.embedder, context_settings=ContextSettings(elsewhere_dense_gap=-1.0))
    conversation = Conversation()
    strict.ask("Who struck the weapons depot in Idlib?", conversation=conversation)
    other = strict.ask("And the sourdough?", conversation=conversation)
    # its own words find the bakery article: answered alone, not dragged back to the depot story
    assert not other.follow_up and other.retrieval_query == other.question
    assert other.passages[0].citation.path.endswith("bakery.txt")
    # but it is too short to stand on its own, so the depot topic is not dropped
    assert conversation.topic_start == 0
    follow = strict.ask("Was it coordinated with anyone?", conversation=conversation)
    assert follow.follow_up and "depot" in follow.retrieval_query


def test_a_question_that_stands_alone_starts_a_new_topic(engine: QAEngine) -> None:
    conversation = Conversation()
    engine.ask("Who struck the weapons depot in Idlib?", conversation=conversation)
    other = engine.ask("Which Lyon bakery won the national baguette prize?", conversation=conversation)
    assert not other.follow_up
    assert other.passages[0].citation.path.endswith("bakery.txt")
    assert conversation.topic_start == 1


def test_a_complete_question_naming_what_the_topic_lacks_is_not_a_follow_up(engine: QAEngine) -> None:
    conversation = Conversation()
    engine.ask("What did the Sochi deal between Erdogan and Putin require?", conversation=conversation)
    engine.ask("By when did the heavy arms have to be pulled out?", conversation=conversation)
    # the Sochi article never names Zakharova: the question is about another article, whatever the words
    # ("Turkish", "forces", "militants") the two share
    question = "What did Zakharova say about the Turkish forces supporting militants?"
    other = engine.ask(question, conversation=conversation)
    assert not other.follow_up and other.retrieval_query == other.question
    assert other.passages[0].citation.path.endswith("002_3b424afd968655b2.txt")
    assert other.passages[0].citation.paragraph in (2, 4)
    assert conversation.topic_start == 2


def test_a_short_follow_up_starts_with_the_passage_just_read_when_it_holds_its_words(engine: QAEngine) -> None:
    # "How many loaves?" has no pronoun, but one word of its own is too few to stand alone: like "And what is
    # its status?", it asks about the passage just read when that passage holds its words (abg-coqa val: the
    # first passage holds the rationale in 270 target turns, 269 when only a pronoun counted)
    conversation = Conversation()
    first = engine.ask("Which Lyon bakery won the national baguette prize?", conversation=conversation)
    question = "How many loaves?"
    context = conversation.context(question, engine.index.shared_section)
    retrieval, decision = engine.contextual.retrieve(question, context, "hybrid", 5)
    assert decision.follow_up
    assert "the passage just read" in decision.reason
    shown = engine.index.passages([retrieval.candidates[0].row])[retrieval.candidates[0].row]
    assert shown.id == first.passages[0].id


FARM = """Giles and the lost cow

Farmer Giles lost his cow Daisy on a foggy morning in March.

He searched the wet fields along the river until noon, calling her name.

His neighbour Tom found Daisy eating apples in the orchard behind the church.

Giles thanked Tom and gave him a basket of fresh eggs and a jar of honey.
"""
REWARDS = {  # three stories whose words ("reward", "offered", "finding") are common in this corpus
    "dog.txt": "Reward for lost spaniel\n\nA reward of fifty pounds was offered for finding Max, a brown spaniel "
    "lost in the park.\n\nHis owners offered the reward on posters on every lamp post in town.\n",
    "museum.txt": "Museum reward\n\nThe museum offered a reward for information leading to finding the stolen "
    "painting.\n\nPolice said the reward offered was the largest in the city's history.\n",
    "bike.txt": "Reward for a stolen bicycle\n\nStudents offered a reward for finding the bicycle stolen from the "
    "library.\n\nThe reward offered was a week of free lunches.\n",
}


@pytest.fixture(scope="module")
def farm_engine(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[QAEngine]:  # type: ignore[no-untyped-def]
    engine = engine_over(tmp_path_factory.mktemp("common-words"), {"farm.txt": FARM, **REWARDS}, embedder)
    yield engine
    engine.close()


def test_a_complete_question_naming_only_common_things_the_topic_lacks_follows_up(farm_engine: QAEngine) -> None:
    # Before: "reward", "offered" and "finding" are not in the farm story and the question alone prefers another
    # story, so it was answered alone as a new topic: "A reward of fifty pounds was offered for finding Max, a
    # brown spaniel". Words found in many passages do not say the question is about something else (abg-coqa
    # val: such questions answered alone found their story in 5 of 34 target turns); a rare one does (above:
    # "And the sourdough?", "What did Zakharova say ...?").
    conversation = Conversation()
    first = farm_engine.ask("Who found the lost cow?", conversation=conversation)
    assert first.passages[0].citation.path.endswith("farm.txt")
    answer = farm_engine.ask("Was a reward offered for finding Daisy?", conversation=conversation)
    assert answer.follow_up and conversation.topic_start == 0
    assert answer.context_reason is not None
    assert answer.context_reason.startswith("what it names beyond the topic's document is common")
    assert answer.passages[0].citation.path.endswith("farm.txt")
    assert answer.answer is None or "spaniel" not in answer.answer.text


def test_a_short_question_naming_someone_only_its_own_document_holds_starts_a_new_topic(engine: QAEngine) -> None:
    # Before: two content words make it "too short to stand alone", so it followed up the air-strike report's
    # topic (its words found the Peskov article anyway) and carried "IS facilities hit" into the next question.
    # No referring word, both searches find the same document, not the latest answer's, and "Peskov" is rare
    # and missing from the latest answer's document: the conversation has moved on.
    conversation = Conversation()
    engine.ask("Which jets carried out the sorties?", conversation=conversation)
    strikes = engine.ask("How many IS facilities were hit?", conversation=conversation)
    other = engine.ask("What did Peskov say about the cease-fire?", conversation=conversation)
    assert other.passages[0].citation.path != strikes.passages[0].citation.path
    assert "Peskov" in other.passages[0].text
    assert not other.follow_up and other.retrieval_query == other.question
    assert other.context_reason is not None and other.context_reason.startswith("a short question that finds its")
    assert "(Peskov only there)" in other.context_reason
    assert conversation.topic_start == 2
    follow = engine.ask("Who called for it?", conversation=conversation)
    assert follow.follow_up and "Peskov" in follow.retrieval_query and "facilities" not in follow.retrieval_query
    assert "Erdogan" in follow.passages[0].text


def test_a_short_question_that_refers_back_keeps_the_topic_whatever_document_it_finds(engine: QAEngine) -> None:
    conversation = Conversation()
    engine.ask("How many IS facilities were hit?", conversation=conversation)
    follow = engine.ask("What did Peskov say about that?", conversation=conversation)  # "that": the strikes
    assert follow.follow_up and conversation.topic_start == 0


def test_a_follow_up_does_not_search_for_its_referring_words(engine: QAEngine) -> None:
    # Found over Node.js's docs: "When should I use queueMicrotask instead?" after questions on
    # process.nextTick searched "instead" and put first "Stability: 3 - Legacy: Use queueMicrotask() instead."
    conversation = Conversation()
    engine.ask("Who struck the weapons depot in Idlib?", conversation=conversation)
    context = conversation.context("Who else was involved instead?", engine.index.shared_section)
    retrieval, decision = engine.contextual.retrieve("Who else was involved instead?", context, "hybrid", 5)
    assert decision.follow_up
    assert "involv" in retrieval.query_terms
    assert not {"els", "instead"} & set(retrieval.query_terms)
    # a follow-up naming nothing searches none of its fillers: only the carried words
    context = conversation.context("Where exactly?", engine.index.shared_section)
    retrieval, decision = engine.contextual.retrieve("Where exactly?", context, "hybrid", 5)
    assert decision.follow_up and "exact" not in retrieval.query_terms and "depot" in retrieval.query_terms
    kept = replace(engine.contextual.settings, drop_referring_terms=False)
    before = QAEngine(engine.index, engine.embedder, context_settings=kept)
    retrieval, _ = before.contextual.retrieve("Who else was involved instead?", context, "hybrid", 5)
    assert {"els", "instead"} <= set(retrieval.query_terms)
