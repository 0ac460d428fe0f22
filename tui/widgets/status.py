"""The status bar: retrieval settings, index facts, timings of the last question."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from qa.engine import IndexFacts
from qa.types import Mode
from tui.emphasis import plain

TIMING_PARTS = ("embed", "bm25", "dense", "fuse", "answer")


def short_model(model_id: str) -> str:
    return model_id.rstrip("/").rsplit("/", 1)[-1]


class StatusBar(Horizontal):
    """Holds what it shows (`mode`, `top_k`, `facts`, `timings`, `state`) so tests can read it back."""

    def __init__(self, show_timings: bool = True) -> None:
        super().__init__(id="status")
        self.show_timings = show_timings
        self.mode: Mode = "hybrid"
        self.top_k = 5
        self.facts: IndexFacts | None = None
        self.timings: dict[str, float] = {}
        self.state = "loading the index…"

    def set(self, **changes: object) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        self.refresh_status()

    def compose(self) -> ComposeResult:
        yield Static(id="status-left")
        yield Static(id="status-right")

    def on_mount(self) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        self.query_one("#status-left", Static).update(self.render_status())
        self.query_one("#status-right", Static).update(self.render_facts())

    def render_facts(self) -> Text:
        text = Text()
        if self.facts is not None:
            facts = self.facts
            text.append(f" {facts.documents} docs · {facts.passages} passages · ")
            text.append_text(plain(short_model(facts.model_id), one_line=True))
            text.append(" ")
        return text

    def render_status(self) -> Text:
        text = Text()
        text.append(f" {self.mode} ", style="bold reverse")
        text.append(f" top {self.top_k} ")
        if self.state:
            text.append("│ ")
            text.append(self.state, style="italic")
            text.append(" ")
        if self.timings:
            text.append("│ ")
            if self.show_timings:
                total = self.timings.get("total", 0.0)
                parts = [f"{k} {self.timings[k]:.0f}" for k in TIMING_PARTS if k in self.timings]
                text.append(f"{total:.0f} ms", style="bold")
                text.append(f" ({' · '.join(parts)})")
            else:
                text.append("— ms", style="bold")
        return text
