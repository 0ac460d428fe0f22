"""The topic-change sets `qa eval-conversations` builds from a dataset's conversations."""

from __future__ import annotations

from qa.conversation_eval import EvalConversation, EvalTurn, drift_conversations, switch_conversations


def conversation(number: int, story: str, history: int) -> EvalConversation:
    turns = [EvalTurn(f"conversation {number}, turn {i}", (story,)) for i in range(history + 1)]
    return EvalConversation(f"c{number:02d}", "val", story, tuple(turns[:-1]), turns[-1])


CONVERSATIONS = [conversation(i, f"story{i // 2}", i % 3) for i in range(12)]  # two per story, 0-2 earlier turns
BY_ID = {c.id: c for c in CONVERSATIONS}


def test_drift_pairs_a_history_with_the_target_of_a_conversation_about_another_story() -> None:
    drifted = drift_conversations(CONVERSATIONS)
    assert len(drifted) == sum(1 for c in CONVERSATIONS if c.history)
    for item in drifted:
        first, second = (BY_ID[part] for part in item.id.split("->"))
        assert first.history and first.story_id != second.story_id
        assert (item.history, item.target, item.story_id) == (first.history, second.target, second.story_id)


def test_switch_puts_a_whole_conversation_about_another_story_before_one_with_earlier_turns() -> None:
    switched = switch_conversations(CONVERSATIONS)
    assert switched
    for item in switched:
        first, second = (BY_ID[part] for part in item.id.split("=>"))
        assert first.story_id != second.story_id and first.history and second.history
        assert (item.target, item.story_id) == (second.target, second.story_id)
        # the other conversation, its target included, then the conversation's own earlier turns
        assert item.history == (*first.history, first.target, *second.history)
    # pairs whose second conversation has no earlier turns of its own are left out (nothing to follow up)
    drifted = {item.id.replace("->", "=>") for item in drift_conversations(CONVERSATIONS)}
    assert {item.id for item in switched} == {i for i in drifted if BY_ID[i.split("=>")[1]].history}
