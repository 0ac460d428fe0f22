"""Small helpers for driving the app headlessly."""

from __future__ import annotations

from textual.pilot import Pilot

from tui.app import QAApp


async def ask(pilot: Pilot[int], question: str) -> None:
    """Type `question`, press Enter, wait until its worker finished and its answer is mounted."""
    app = pilot.app
    assert isinstance(app, QAApp)
    app.question_input.focus()
    app.question_input.value = question
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


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
