"""Question words -> the kind of answer asked for, and whether a sentence holds one."""

from __future__ import annotations

import pytest

from qa.answer_kind import answer_kind, follow_up_kind, holds_answer_kind, holds_follow_up_kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did Russian jets strike Idlib?", "time"),
        ("In what year was the truce brokered?", "time"),
        ("How many people live in Idlib?", "number"),
        ("What percentage of the money went to charity?", "number"),
        ("Who owned the weapons depot?", "name"),
        ("Where is the depot?", "name"),
        ("The depot was owned by whom, and who struck it?", "name"),
        ("When?", "time"),  # a follow-up: the question word alone
        ("And where?", "name"),
        ("who?", "name"),
        ("Since when?", "time"),  # a preposition before the question word
        ("Until when does the truce hold?", "time"),
        ("How long ago did it start?", "time"),
        ("By whom?", "name"),
        ("From where did the drones come?", "name"),
        ("Whenever they strike, what happens?", None),
        ("What did Turkey say?", None),
        ("Jets struck a depot.", None),
    ],
)
def test_answer_kind(question: str, kind: str | None) -> None:
    assert answer_kind(question) == kind


def test_a_sentence_holds_the_kind_only_when_the_question_does_not_already() -> None:
    assert holds_answer_kind("time", "When was the depot struck?", "It was struck in 2019.")
    assert not holds_answer_kind("time", "Was the depot struck in 2019, and when?", "It was struck in 2019.")
    assert holds_answer_kind("time", "When was the truce brokered?", "Russia and Turkey brokered it in September.")
    assert holds_answer_kind("time", "When did the jets strike?", "Moscow said the jets struck on Wednesday.")
    assert not holds_answer_kind("time", "What happened in September?", "The truce held through September.")
    assert not holds_answer_kind("time", "When was the truce brokered?", "The truce came under strain recently.")
    assert holds_answer_kind("number", "How many died?", "Twelve people, or 12 in all, died.")
    assert holds_answer_kind("number", "How many died?", "Three people died.")
    assert not holds_answer_kind("number", "How many died?", "Nobody knows.")
    assert holds_answer_kind("name", "Who owned the depot?", "The depot belonged to Hayat Tahrir al-Sham.")
    assert not holds_answer_kind("name", "Who owned the depot in Idlib?", "Idlib is far. the depot is in Idlib.")
    assert not holds_answer_kind(None, "What happened?", "In 2019 Jets struck.")


def test_a_follow_up_asking_where_asks_for_a_place() -> None:
    assert follow_up_kind("Where exactly?") == "place"
    assert follow_up_kind("From where?") == "place"
    assert follow_up_kind("Who?") == "name"  # any capitalised word: the sentence choice only
    assert follow_up_kind("Since when?") == "time"
    question = "Where?"
    assert holds_follow_up_kind("place", question, "attacks on the Syrian Army in the Idlib de-escalation zone")
    assert holds_follow_up_kind("place", question, "planned an attack on the air base at Hmeimim")
    assert not holds_follow_up_kind("place", question, "At the request of Damascus, Su-24 aircraft hit them")
    assert not holds_follow_up_kind("place", question, "Turkey has opposed the Syrian Army's advances")
    assert not holds_follow_up_kind("place", "Where in Idlib?", "The depot lay in Idlib")  # it says where itself
