"""The user's question, as asked."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.emphasis import plain


class QuestionBubble(Static):
    def __init__(self, question: str, request_id: int) -> None:
        super().__init__(classes="question")
        self.question = question
        self.request_id = request_id

    def on_mount(self) -> None:
        text = Text("You  ", style="bold")
        text.append_text(plain(self.question, one_line=True))
        self.update(text)


class PendingAnswer(Static):
    """Shown under a question until its answer arrives (or a newer question supersedes it)."""

    def __init__(self, request_id: int) -> None:
        super().__init__(Text("Searching the corpus…", style="italic"), classes="pending")
        self.request_id = request_id

    def supersede(self) -> None:
        self.update(Text("Not answered: a newer question was asked.", style="italic"))
        self.add_class("superseded")

    def fail(self, error: str) -> None:
        self.update(plain(error, one_line=True))
        self.add_class("failed")
