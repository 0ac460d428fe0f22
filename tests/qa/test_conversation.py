from __future__ import annotations

from dataclasses import replace

import pytest
from conversation_helpers import COORDINATED, DEPOT, answer

from qa.conversation import Conversation, content_words, describe_query, has_follow_up_cue, referring_terms


@pytest.mark.parametrize(
    "question",
    ["Was it coordinated with anyone?", "How did Turkey react?", "Why?", "Who else was there?", "is it flat?"],
)
def test_dependent_questions_have_a_cue(question: str) -> None:
    assert has_follow_up_cue(question)


@pytest.mark.parametrize(
    "question",
    [
        "How many people live in Idlib province?",
        "Who struck the weapons depot in Idlib?",
        "When did Russia intervene in Syria?",
    ],
)
def test_self_contained_questions_have_no_cue(question: str) -> None:
    assert not has_follow_up_cue(question)


def test_content_words_drop_fillers_and_referring_words() -> None:
    assert content_words("What did they say about the depot in Idlib?") == ["depot", "Idlib"]


def test_referring_words_that_are_no_stopwords_are_terms_to_leave_out() -> None:
    assert referring_terms("When should I use queueMicrotask instead?") == {"instead"}
    assert referring_terms("What else did she eat, and which one?") == {"els", "one"}
    assert referring_terms("What did it do there?") == frozenset()  # stopwords: never searched anyway
    assert referring_terms('What does "else" mean?') == frozenset()  # the word named, not used
    assert referring_terms("What about the else clause?") == frozenset()  # a keyword of a manual


def test_first_question_has_no_context() -> None:
    conversation = Conversation()
    assert conversation.context("Who struck the depot?") is None
    assert not conversation.is_follow_up("Was it coordinated?")
    assert conversation.retrieval_query("Was it coordinated?") == "Was it coordinated?"


def test_context_carries_question_and_answer_terms_below_own_terms() -> None:
    conversation = Conversation(answer_term_weight=0.5)
    conversation.add(
        answer("Who struck the weapons depot in Idlib?", [("seeds/a.txt", 1, DEPOT), ("seeds/b.txt", 2, COORDINATED)])
    )
    context = conversation.context("Was it coordinated with anyone?")
    assert context is not None and context.cue
    words = dict(context.terms)
    # the earlier question's words weigh 1, the answer sentence's words half, never the question's own
    assert words["depot"] == 1.0 and words["Idlib"] == 1.0
    assert words["fighter"] == 0.5
    assert "coordinated" not in words
    assert conversation.retrieval_query("Was it coordinated with anyone?").startswith(
        "Was it coordinated with anyone? [+ context: struck weapons depot Idlib"
    )


def test_default_context_carries_the_questions_of_the_topic_alike() -> None:
    conversation = Conversation()
    conversation.add(answer("Who struck the weapons depot in Idlib?", [("seeds/a.txt", 1, DEPOT)]))
    conversation.add(answer("Was it coordinated with Turkey?", [("seeds/b.txt", 8, COORDINATED)], follow_up=True))
    context = conversation.context("How did Ankara react?")
    assert context is not None
    words = dict(context.terms)
    assert words["Turkey"] == 1.0 and words["depot"] == 1.0
    assert "fighter" not in words  # the answers shown lend nothing by default (abg-coqa val: it hurt)


def test_recent_turns_count_more() -> None:
    conversation = Conversation(recency_decay=0.5)
    conversation.add(answer("Who struck the weapons depot in Idlib?", [("seeds/a.txt", 1, DEPOT)]))
    conversation.add(answer("Was it coordinated with Turkey?", [("seeds/b.txt", 8, COORDINATED)], follow_up=True))
    context = conversation.context("How did Ankara react?")
    assert context is not None
    words = dict(context.terms)
    assert words["Turkey"] == 1.0 and words["depot"] == 0.5
    # the dense query reads the earlier questions in the order they were asked
    assert context.text == "Who struck the weapons depot in Idlib? Was it coordinated with Turkey?"


def test_new_topic_and_clear() -> None:
    conversation = Conversation()
    conversation.add(answer("Who struck the weapons depot in Idlib?", [("seeds/a.txt", 1, DEPOT)]))
    conversation.add(answer("How many people live in Idlib?", [("seeds/b.txt", 4, "Four million.")]), starts_topic=True)
    context = conversation.context("Who controls it?")
    assert context is not None
    assert "depot" not in dict(context.terms)  # the standalone question started a new topic
    assert len(conversation.turns) == 2 and conversation.topic_start == 1
    conversation.saved_id = 3
    conversation.clear()
    assert conversation.turns == [] and conversation.context("Who controls it?") is None
    assert conversation.saved_id is None


def test_context_is_deterministic() -> None:
    def build() -> Conversation:
        c = Conversation()
        c.add(
            answer(
                "Who struck the weapons depot in Idlib?", [("seeds/a.txt", 1, DEPOT), ("seeds/b.txt", 2, COORDINATED)]
            )
        )
        return c

    assert build().context("And then?") == build().context("And then?")


def test_describe_query_without_terms() -> None:
    conversation = Conversation()
    conversation.add(answer("Idlib?", [("seeds/a.txt", 1, "Idlib.")]))
    context = conversation.context("Idlib?")
    assert context is not None
    assert describe_query("Idlib?", context) == "Idlib? [+ context: same documents]"


def test_a_section_s_outline_number_is_not_carried() -> None:
    # Before: after an answer cited under "4. Conveying Verbatim Copies." the follow-up searched "... 4 Verbatim".
    conversation = Conversation()
    first = answer("Can I charge a fee for conveying copies?", [("lic/GPL-3.txt", 40, "You may charge any price.")])
    cited = replace(first.passages[0].citation, title="GNU GPL", section="4. Conveying Verbatim Copies.")
    conversation.add(replace(first, passages=(replace(first.passages[0], citation=cited),)))
    context = conversation.context("Does it have to include the source?")
    assert context is not None
    words = [word for word, _ in context.terms]
    assert "Verbatim" in words and "4" not in words
