"""One evidence passage: citation, the passage with its answer sentence and matched terms, and why it came back."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from index.sentences import is_code_block, line_breaks
from qa.render import STALE_NOTE, also_in_line
from qa.types import Evidence, Mode
from tui.emphasis import emphasised, evidence_spans, plain

RETRIEVERS = {"bm25": "BM25", "dense": "dense"}


def retrieved_by(evidence: Evidence) -> str:
    """The retrievers that found the passage: with the topic's context for a follow-up's passage (or, when only
    the question alone found it, those, said so)."""
    own = [name for name, rank in (("BM25", evidence.bm25_rank), ("dense", evidence.dense_rank)) if rank]
    if evidence.context_ranks is None:
        return " + ".join(own) or "-"
    bm25, dense = evidence.context_ranks
    found = [name for name, rank in (("BM25", bm25), ("dense", dense)) if rank]
    if found:
        return " + ".join(found)
    return f"{' + '.join(own)} (question alone)" if own else "-"


def why_text(evidence: Evidence, mode: Mode) -> Text:
    """Why the passage was returned: each retriever's rank and score, the fused score, who found it; for a
    follow-up's passage, its ranks in the search with the topic's context, then the question alone's (which
    chose the passage within its document)."""
    score_name = {"hybrid": "fused", "bm25": "BM25 score", "dense": "cosine"}[mode]
    parts = [f"{score_name} {evidence.score:.4f}"]
    if evidence.context_ranks is not None:
        bm25_rank, dense_rank = evidence.context_ranks
        parts.append(f"with context: BM25 {f'#{bm25_rank}' if bm25_rank else '-'}")
        parts.append(f"dense {f'#{dense_rank}' if dense_rank else '-'}")
    own: list[str] = []
    if evidence.bm25_rank is not None:
        bm25 = f" ({evidence.bm25_score:.2f})" if evidence.bm25_score is not None else ""
        own.append(f"BM25 #{evidence.bm25_rank}{bm25}")
    else:
        own.append("BM25 -")
    if evidence.dense_rank is not None:
        cosine = f" (cos {evidence.dense_score:.3f})" if evidence.dense_score is not None else ""
        own.append(f"dense #{evidence.dense_rank}{cosine}")
    else:
        own.append("dense -")
    if evidence.context_ranks is not None:
        own[0] = f"question alone: {own[0]}"
    parts.extend(own)
    parts.append(f"found by {retrieved_by(evidence)}")
    text = Text("why: ", style="bold")
    text.append(" · ".join(parts))
    if evidence.matched_terms:
        text.append("\nmatched: ", style="bold")
        text.append_text(plain(", ".join(evidence.matched_terms), one_line=True))
    if evidence.heading_terms:
        text.append("\nin its heading: ", style="bold")
        text.append_text(plain(", ".join(evidence.heading_terms), one_line=True))
    return text


def citation_text(evidence: Evidence) -> Text:
    citation = evidence.citation
    text = Text(f"[{evidence.rank}] ", style="bold")
    text.append_text(plain(citation.heading(), style="bold", one_line=True))
    text.append("  ")
    text.append_text(plain(citation.location(), style="italic", one_line=True))
    if evidence.stale:  # the file changed after the index was brought up to date for this question
        text.append(STALE_NOTE, style="bold red")
    if evidence.also_in:  # copies of the same text elsewhere in the corpus take no slot of their own
        text.append("\n")
        text.append_text(plain(also_in_line(evidence), style="italic", one_line=True))
    return text


def passage_text(evidence: Evidence, with_sentence: bool = True) -> Text:
    sentence = None
    if with_sentence:
        offset = evidence.citation.char_start
        sentence = (evidence.answer_sentence.char_start - offset, evidence.answer_sentence.char_end - offset)
    text = evidence.text  # flowed: hard-wrapped lines read as one paragraph; items, rows and code keep their lines
    spans = evidence_spans(sentence, evidence.term_spans)
    return emphasised(text, spans, breaks=line_breaks(text), squeeze=not is_code_block(text))  # code keeps its blanks


class EvidencePassage(Static, can_focus=True):
    """A focusable passage of an answer card (non-answers, under a no-evidence card, get the class `closest`)."""

    BINDINGS = [
        Binding("enter,o", "open_source", "Open source"),
        Binding("c", "app.copy_citation", "Copy cite", show=False),
        Binding("down,j", "next_passage", "Next", show=False),
        Binding("up,k", "previous_passage", "Previous", show=False),
    ]

    class Selected(Message):
        def __init__(self, passage: EvidencePassage) -> None:
            super().__init__()
            self.passage = passage

    class OpenRequested(Message):
        def __init__(self, evidence: Evidence) -> None:
            super().__init__()
            self.evidence = evidence

    def __init__(self, evidence: Evidence, mode: Mode, answered: bool) -> None:
        super().__init__(classes="evidence" if answered else "evidence closest")
        self.evidence = evidence
        self.mode: Mode = mode
        self.answered = answered

    def on_mount(self) -> None:
        self.update(self.render_evidence())

    def render_evidence(self) -> Text:
        text = citation_text(self.evidence)
        if not self.answered:
            text.append("  (closest, not an answer)", style="italic")
        text.append("\n")
        text.append_text(passage_text(self.evidence, with_sentence=self.answered))
        text.append("\n")
        why = why_text(self.evidence, self.mode)
        why.stylize("dim")
        text.append_text(why)
        return text

    def on_focus(self) -> None:
        self.post_message(self.Selected(self))

    def on_click(self, event: events.Click) -> None:
        self.focus()
        if event.chain >= 2:
            self.post_message(self.OpenRequested(self.evidence))

    def action_open_source(self) -> None:
        self.post_message(self.OpenRequested(self.evidence))

    def action_next_passage(self) -> None:
        self._step(1)

    def action_previous_passage(self) -> None:
        self._step(-1)

    def _step(self, direction: int) -> None:
        passages = list(self.screen.query(EvidencePassage))
        index = passages.index(self) + direction
        if 0 <= index < len(passages):
            self.screen.set_focus(passages[index])
