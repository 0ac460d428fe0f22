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
