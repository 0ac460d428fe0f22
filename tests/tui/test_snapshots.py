"""SVG snapshots of the main screens (timings hidden, cursor blink off). Review before updating:
`pytest tests/tui/test_snapshots.py --snapshot-update`."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from tui_pilot import ask

from tui.app import QAApp

DEPOT = "Who owned the weapons depot that Russian jets struck in Idlib?"
FRANCE = "What is the capital of France?"


async def _steady(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, QAApp)
    app.question_input.cursor_blink = False
    await pilot.pause()


def test_empty_screen(snap_compare: Callable[..., bool], make_app: Callable[..., QAApp]) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_steady)


def test_answered_question(snap_compare: Callable[..., bool], make_app: Callable[..., QAApp]) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await _steady(pilot)
        await ask(pilot, DEPOT)

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)


def test_source_panel(snap_compare: Callable[..., bool], make_app: Callable[..., QAApp]) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await _steady(pilot)
        await ask(pilot, DEPOT)
        await pilot.press("tab", "down", "enter")
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(160, 48), run_before=run_before)


def test_no_evidence_card(snap_compare: Callable[..., bool], make_app: Callable[..., QAApp]) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await _steady(pilot)
        await ask(pilot, FRANCE)

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)
