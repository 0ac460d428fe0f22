"""Start-up: the index is opened or built in a worker with visible progress; errors are readable."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from textual.widgets import Label, ProgressBar
from tui_pilot import rendered, wait_for_engine

from index.builder import BuildReporter
from index.errors import IndexStoreError
from qa.engine import QAEngine, open_engine
from tui.app import QAApp
from tui.messages import BuildProgressed
from tui.reporter import MessageReporter
from tui.widgets.answer import AnswerCard
from tui.widgets.build_progress import BuildProgress

pytestmark = pytest.mark.anyio


class NoteRecorder:
    def __init__(self, app: QAApp) -> None:
        self.notes: list[tuple[str, str]] = []
        original = app.notify

        def notify(message: str, **kwargs: object) -> None:
            self.notes.append((str(kwargs.get("title", "")), message))
            original(message, **kwargs)  # type: ignore[arg-type]

        app.notify = notify  # type: ignore[method-assign]


async def test_build_progress_is_shown_and_the_app_stays_responsive(engine: QAEngine) -> None:
    reported, release = threading.Event(), threading.Event()

    def factory(reporter: BuildReporter) -> QAEngine:
        reporter.note("building the index of seeds")
        reporter.progress("reading", 5, 5)
        reporter.progress("embedding", 32, 66)
        reported.set()
        if not release.wait(20):
            raise TimeoutError("test did not release the build")
        return engine

    app = QAApp(engine_factory=factory, show_timings=False)
    recorder = NoteRecorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):
            if reported.is_set():
                break
            await pilot.pause(0.02)
        await pilot.pause(0.1)
        build = app.query_one(BuildProgress)
        assert build.display and (build.stage, build.done, build.total) == ("embedding", 32, 66)
        assert "32/66" in str(app.query_one("#build-label", Label).content)
        bar = app.query_one("#build-bar", ProgressBar)
        assert (bar.progress, bar.total) == (32, 66)
        assert app.status.state == "building the index…"
        assert ("Index", "building the index of seeds") in recorder.notes
        # the UI still takes input while the index builds; a question waits for the engine
        await pilot.press(*"Who owned the weapons depot?")
        assert app.question_input.value == "Who owned the weapons depot?"
        await pilot.press("enter")
        assert app.pending_question == "Who owned the weapons depot?"
        assert any("still loading" in message for _, message in recorder.notes)
        release.set()
        await wait_for_engine(pilot)
        assert app.engine is engine and not build.display
        assert app.status.facts == engine.facts()
        assert [card.answer.question for card in app.query(AnswerCard)] == ["Who owned the weapons depot?"]


async def test_builder_notes_become_notifications() -> None:
    posted: list[object] = []
    times = iter([0.0, 0.01, 0.02, 0.5, 0.51])
    reporter = MessageReporter(posted.append, clock=lambda: next(times))
    reporter.progress("embedding", 0, 10)  # first of a stage: shown
    reporter.progress("embedding", 1, 10)  # too soon: dropped
    reporter.progress("embedding", 10, 10)  # last of a stage: shown
    reporter.progress("bm25", 0, 1)  # a new stage: shown
    reporter.warn("skipped x.txt")
    steps = [(m.stage, m.done) for m in posted if isinstance(m, BuildProgressed)]
    assert steps == [("embedding", 0), ("embedding", 10), ("bm25", 0)]
    assert getattr(posted[-1], "warning", False) is True


async def test_bad_corpus_path_is_a_readable_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"

    def factory(reporter: BuildReporter) -> QAEngine:
        return open_engine(missing, tmp_path / "index", None, reporter)

    app = QAApp(engine_factory=factory, show_timings=False)
    recorder = NoteRecorder(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_engine(pilot)
        assert app.is_running and app.engine is None
        assert app.startup_error is not None and "corpus folder not found" in app.startup_error
        card = app.query_one(".error-card")
        assert "Cannot open the corpus" in rendered(card) and str(missing) in rendered(card)
        assert any(title == "Cannot open the corpus" for title, _ in recorder.notes)
        assert app.question_input.disabled
        assert not app.query_one(BuildProgress).display


async def test_damaged_index_error_is_readable() -> None:
    def factory(reporter: BuildReporter) -> QAEngine:
        raise IndexStoreError("index manifest in /x/gen-1 is missing or damaged")

    app = QAApp(engine_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_engine(pilot)
        assert app.is_running
        assert "missing or damaged" in rendered(app.query_one(".error-card"))


async def test_unexpected_start_up_failure_does_not_hang_on_loading() -> None:
    def factory(reporter: BuildReporter) -> QAEngine:
        raise RuntimeError("the model file is truncated")

    app = QAApp(engine_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_engine(pilot)
        assert app.is_running and not app.loading
        assert "RuntimeError: the model file is truncated" in rendered(app.query_one(".error-card"))
