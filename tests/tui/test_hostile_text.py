"""Corpus text is data: markup-looking strings and escape sequences are shown literally, never acted on."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Static
from tui_pilot import ask, rendered, wait_for_engine

from index.builder import BuildReporter
from qa.engine import QAEngine, open_engine
from tui.app import QAApp
from tui.widgets.answer import AnswerCard
from tui.widgets.evidence import EvidencePassage

pytestmark = pytest.mark.anyio

TITLE = "[bold]Depot ledger[/bold] \x1b[31mred"
CLICK = (
    "The depot ledger lists [@click=app.quit]x[/] and [bold unclosed and [link=https://evil.example]here[/link] too."
)
OSC = "The depot clipboard trap \x1b]52;c;SGVsbG8=\x07 then a screen clear \x1b[2J and the depot keeps going."
CORPUS_TEXT = f"{TITLE}\n\n{CLICK}\n\n{OSC}\n"


@pytest.fixture
def hostile_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "hostile"
    corpus.mkdir()
    (corpus / "[red]ledger.txt").write_text(CORPUS_TEXT, encoding="utf-8")
    return corpus


async def test_markup_and_escapes_in_documents_are_shown_literally(hostile_corpus: Path, tmp_path: Path) -> None:
    engines: list[QAEngine] = []

    def factory(reporter: BuildReporter) -> QAEngine:
        engines.append(open_engine(hostile_corpus, tmp_path / "index", None, reporter))
        return engines[0]

    app = QAApp(engine_factory=factory, show_timings=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for_engine(pilot)  # the index is built for real, in the start-up thread
            assert app.engine is not None and app.startup_error is None
            await ask(pilot, "What does the depot ledger list?")
            card = app.query_one(AnswerCard)
            shown = {p.evidence.text: p for p in card.query(EvidencePassage)}
            assert set(shown) == {CLICK, OSC}
            click_passage, osc_passage = shown[CLICK], shown[OSC]
            for passage in (click_passage, osc_passage):
                assert isinstance(passage.content, Text)  # never a markup string
            click_text = rendered(click_passage)
            assert "[@click=app.quit]x[/]" in click_text
            assert "[bold unclosed" in click_text and "[link=https://evil.example]here[/link]" in click_text
            osc_text = rendered(osc_passage)
            assert "\\x1b]52;c;SGVsbG8=\\x07" in osc_text and "\\x1b[2J" in osc_text
            assert "\x1b" not in osc_text and "\x07" not in osc_text
            assert "[bold]Depot ledger[/bold] \\x1b[31mred" in click_text  # the title, escaped
            assert "[red]ledger.txt" in click_text  # the file name, literal
            # clicking the passage must not run the embedded @click action
            await pilot.click(click_passage, offset=(30, 1))
            await pilot.pause()
            assert app.is_running
            await pilot.double_click(osc_passage)
            await pilot.pause()
            panel = app.source_panel
            assert panel.has_class("open")
            source = rendered(panel.query_one("#source-passage", Static))
            assert "\\x1b]52;c;SGVsbG8=\\x07" in source and "\x1b" not in source
            assert "[@click=app.quit]x[/]" in rendered(panel.query_one("#source-before", Static))
            assert "[bold]Depot ledger[/bold]" in rendered(panel.query_one("#source-header", Static))
            await pilot.click(panel.query_one("#source-before", Static))
            await pilot.pause()
            assert app.is_running
            await pilot.press("ctrl+y")
            assert "\x1b" not in app.clipboard and "\\x1b]52" in app.clipboard
    finally:
        for engine in engines:
            engine.close()
