"""A question asked while another runs: the UI stays responsive and never shows a stale answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from tui_pilot import ask, rendered

from index.errors import QuestionError
from qa.engine import QAEngine
from qa.types import Answer
from tui.app import QAApp
from tui.widgets.answer import AnswerCard
from tui.widgets.question import PendingAnswer, QuestionBubble

pytestmark = pytest.mark.anyio

SLOW = "Who owned the weapons depot that Russian jets struck in Idlib?"
FAST = "Which Russian air base was the planned drone attack aimed at?"


class HeldEngine:
    """The real engine, except that the slow question waits until the test releases it."""

    def __init__(self, engine: QAEngine) -> None:
        self._engine = engine
        self.started = threading.Event()
        self.release = threading.Event()
        self.asked: list[str] = []

    def ask(self, question: str, **kwargs: Any) -> Answer:
        self.asked.append(question)
        if question == SLOW:
            self.started.set()
            self.release.wait(20)
        return self._engine.ask(question, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


async def test_new_question_supersedes_a_running_one(make_app: Callable[..., QAApp], engine: QAEngine) -> None:
    held = HeldEngine(engine)
    app = make_app(engine=held)
    async with app.run_test(size=(120, 40)) as pilot:
        app.question_input.value = SLOW
        await pilot.press("enter")
        for _ in range(200):
            if held.started.is_set():
                break
            await pilot.pause(0.02)
        assert held.started.is_set()
        # the UI is responsive while the first question runs
        await pilot.press(*"abc")
        assert app.question_input.value == "abc"
        app.question_input.value = FAST
        await pilot.press("enter")
        await pilot.pause()
        first_pending = next(p for p in app.query(PendingAnswer) if p.request_id == 1)
        assert first_pending.has_class("superseded")
        held.release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        cards = list(app.query(AnswerCard))
        assert [c.answer.question for c in cards] == [FAST]  # the stale answer was dropped
        assert app.stale_dropped == 1
        assert [a.question for a in app.answers] == [FAST]
        assert [t.question for t in app.conversation.turns] == [FAST]  # nor recorded in the conversation
        assert [b.question for b in app.query(QuestionBubble)] == [SLOW, FAST]


async def test_answer_arriving_after_new_topic_is_dropped(make_app: Callable[..., QAApp], engine: QAEngine) -> None:
    held = HeldEngine(engine)
    app = make_app(engine=held)
    async with app.run_test(size=(120, 40)) as pilot:
        app.question_input.value = SLOW
        await pilot.press("enter")
        for _ in range(200):
            if held.started.is_set():
                break
            await pilot.pause(0.02)
        await pilot.press("ctrl+n")
        held.release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.query(AnswerCard) and not app.answers and not app.conversation.turns
        await ask(pilot, FAST)
        assert [c.answer.question for c in app.query(AnswerCard)] == [FAST]


class RefusingEngine(HeldEngine):
    def ask(self, question: str, **kwargs: Any) -> Answer:
        raise QuestionError("top-k must be at least 1")


async def test_a_refused_question_is_a_readable_error(make_app: Callable[..., QAApp], engine: QAEngine) -> None:
    app = make_app(engine=RefusingEngine(engine))
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, "anything")
        pending = app.query_one(PendingAnswer)
        assert pending.has_class("failed") and "top-k must be at least 1" in rendered(pending)
        assert app.is_running and not app.query(AnswerCard)
        assert app.status.state == ""
