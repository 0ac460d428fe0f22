"""The source document of a passage, scrolled to it, with the passage highlighted and its neighbours readable."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from qa.types import Evidence
from tui.emphasis import emphasised, evidence_spans, plain
from tui.source import SourceExcerpt, load_excerpt

CONTEXT_LINES_ABOVE = 3  # lines of the previous paragraphs kept visible above the passage


def header_text(evidence: Evidence, excerpt: SourceExcerpt) -> Text:
    citation = evidence.citation
    lines = (
        f"line {citation.line_start}"
        if citation.line_start == citation.line_end
        else f"lines {citation.line_start}-{citation.line_end}"
    )
    text = plain(citation.heading(), style="bold", one_line=True)
    text.append("\n")
    text.append_text(plain(citation.path, style="italic", one_line=True))
    text.append(f"  [{evidence.rank}] ¶{citation.paragraph}, {lines}", style="italic")
    if excerpt.note:
        text.append("\n")
        text.append(excerpt.note, style="bold")
    return text


class SourcePanel(Vertical):
    """Hidden until a passage is opened; `evidence` and `excerpt` are what it shows."""

    BINDINGS = [
        Binding("escape", "app.close_source", "Close source"),
        Binding("f", "app.toggle_source_full", "Full/side"),
    ]

    def __init__(self) -> None:
        super().__init__(id="source")
        self.evidence: Evidence | None = None
        self.excerpt: SourceExcerpt | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="source-header")
        with VerticalScroll(id="source-body"):
            yield Static(id="source-before", classes="context")
            yield Static(id="source-passage")
            yield Static(id="source-after", classes="context")

    @property
    def body(self) -> VerticalScroll:
        return self.query_one("#source-body", VerticalScroll)

    def show(self, evidence: Evidence) -> None:
        excerpt = load_excerpt(evidence)
        self.evidence, self.excerpt = evidence, excerpt
        self.query_one("#source-header", Static).update(header_text(evidence, excerpt))
        before = plain(excerpt.before.rstrip("\n"))
        if excerpt.clipped_before:
            before = Text(f"… {excerpt.clipped_before} characters above not shown\n", style="italic") + before
        self.query_one("#source-before", Static).update(before)
        self.query_one("#source-before", Static).display = bool(excerpt.before or excerpt.clipped_before)
        offset = evidence.citation.char_start
        sentence = (evidence.answer_sentence.char_start - offset, evidence.answer_sentence.char_end - offset)
        self.query_one("#source-passage", Static).update(
            emphasised(excerpt.passage, evidence_spans(sentence, evidence.term_spans))
        )
        after = plain(excerpt.after.lstrip("\n"))
        if excerpt.clipped_after:
            after.append(f"\n… {excerpt.clipped_after} characters below not shown", style="italic")
        self.query_one("#source-after", Static).update(after)
        self.query_one("#source-after", Static).display = bool(excerpt.after or excerpt.clipped_after)
        self.call_after_refresh(self.scroll_to_passage)

    def scroll_to_passage(self) -> None:
        if self.evidence is None:
            return
        passage = self.query_one("#source-passage", Static)
        top = passage.virtual_region.y - max(CONTEXT_LINES_ABOVE, self.body.size.height // 4)
        self.body.scroll_to(y=max(0, top), animate=False)
