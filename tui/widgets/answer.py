"""The reply to one question: the answer sentence (or an honest "no good evidence"), then the evidence."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from qa.types import Answer
from tui.emphasis import plain
from tui.widgets.evidence import EvidencePassage

NO_EVIDENCE = "No good evidence in this corpus"


def summary_text(answer: Answer) -> Text:
    """The head of the card: the answer sentence and where it comes from, or why there is none."""
    if answer.answer is not None:
        text = Text("Answer  ", style="bold")
        if answer.answer.header is not None:  # a table row, under the header row that names its columns
            text.append_text(plain(answer.answer.header.text, one_line=True))
            text.append("\n        ")
        text.append_text(plain(answer.answer.text, style="bold", one_line=True))
        top = answer.passages[answer.answer.passage - 1]
        text.append("\n— from ")
        text.append(f"[{answer.answer.passage}] ", style="bold")
        text.append_text(plain(top.citation.location(), style="italic", one_line=True))
    else:
        text = Text(NO_EVIDENCE, style="bold")
        text.append("\n")
        text.append_text(plain(answer.reason, one_line=True))
        if answer.passages:
            text.append("\nThe closest passages follow; they do not answer the question.", style="italic")
    return text


def searched_for_text(answer: Answer) -> Text | None:
    """What retrieval searched for, when the context added to it, and how the conversation shaped the search
    ("follow-up: ...", "new topic: ...", "searched alone: ..."), when the question was asked inside a topic."""
    lines: list[Text] = []
    if answer.retrieval_query != answer.question:
        searched = Text("searched for: ", style="italic")
        searched.append_text(plain(answer.retrieval_query, one_line=True))
        lines.append(searched)
    if (context := answer.context_line()) is not None:
        lines.append(plain(context, style="italic", one_line=True))
    return Text("\n").join(lines) if lines else None


class AnswerCard(Vertical):
    """One answer: class `answered` or `no-evidence`; its passages are `EvidencePassage` children."""

    def __init__(self, answer: Answer, request_id: int) -> None:
        answered = answer.verdict == "answered"
        super().__init__(classes="answer-card answered" if answered else "answer-card no-evidence")
        self.answer = answer
        self.request_id = request_id
        self.answered = answered

    def compose(self) -> ComposeResult:
        searched = searched_for_text(self.answer)
        if searched is not None:
            yield Static(searched, classes="searched-for")
        yield Static(summary_text(self.answer), classes="summary")
        for evidence in self.answer.passages:
            yield EvidencePassage(evidence, self.answer.mode, self.answered)
        yield Static(Text(f"{self.answer.mode} · top {self.answer.top_k}", style="dim"), classes="card-meta")
