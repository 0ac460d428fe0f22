"""Small helpers for driving the app headlessly."""

from __future__ import annotations

from textual.pilot import Pilot

from tui.app import QAApp
from tui.widgets.answer import AnswerCard
from tui.widgets.question import PendingAnswer, QuestionBubble


async def ask(pilot: Pilot[int], question: str, settle_s: float = 5.0) -> None:
    """Type `question`, press Enter, wait until its worker finished, its answer is mounted and the view
    has scrolled the question to the top (the app does that a refresh or two after mounting the answer:
    on a loaded machine, later than two pauses)."""
    app = pilot.app
    assert isinstance(app, QAApp)
    app.question_input.focus()
    app.question_input.value = question
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
    view = app.conversation_view
    bubbles = list(app.query(QuestionBubble))
    if not bubbles:
        return
    request_id = bubbles[-1].request_id
    for _ in range(int(settle_s / 0.05)):  # the worker is done; on a loaded machine its message may come later
        if any(card.request_id == request_id for card in app.query(AnswerCard)):
            break
        pending = [p for p in app.query(PendingAnswer) if p.request_id == request_id]
        if not pending or pending[0].has_class("failed") or pending[0].has_class("superseded"):
            return  # no answer (a failure, a superseded question): nothing scrolls
        await pilot.pause(0.05)
    else:
        return
    bubble = bubbles[-1]
    for _ in range(int(settle_s / 0.05)):
        if view.max_scroll_y == 0 or 0 <= bubble.region.y - view.region.y <= 2:
            return
        await pilot.pause(0.05)


def rendered(widget: object) -> str:
    """The plain text a Static shows."""
    content = widget.content  # type: ignore[attr-defined]
    return str(getattr(content, "plain", content))


async def wait_for_engine(pilot: Pilot[int], timeout: float = 60.0) -> None:
    """Wait until the start-up thread opened the engine (or failed), then let the app settle."""
    app = pilot.app
    assert isinstance(app, QAApp)
    for _ in range(int(timeout / 0.05)):
        if not app.loading:
            break
        await pilot.pause(0.05)
    assert not app.loading, "the engine did not open in time"
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
