"""The data `qa` hands to its users (CLI, TUI, JSON): frozen, JSON-serialisable dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[Mode, ...] = ("hybrid", "bm25", "dense")
DEFAULT_TOP_K = 5
Fusion = Literal["convex", "rrf"]
FUSIONS: tuple[Fusion, ...] = ("convex", "rrf")
DEFAULT_FUSION: Fusion = "convex"  # min-max normalised BM25 and cosine, weighted, plus a best-sentence bonus
Verdict = Literal["answered", "no_credible_evidence"]


@dataclass(frozen=True)
class Citation:
    """Where a passage comes from: enough to open the file at the right line and offsets."""

    path: str  # "<corpus folder>/<relative path>"
    abs_path: str
    title: str
    paragraph: int
    window: int  # 0 for a whole paragraph
    line_start: int
    line_end: int
    char_start: int
    char_end: int
    section: str = ""  # the heading of the section the passage is in (Markdown or plain text), if any

    def heading(self) -> str:
        """The document's title, and the passage's section after it: "Personal notes › Dentist"."""
        return f"{self.title} › {self.section}" if self.section and self.section != self.title else self.title

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "file": self.abs_path,
            "title": self.title,
            "section": self.section or None,
            "paragraph": self.paragraph,
            "window": self.window,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "char_start": self.char_start,
            "char_end": self.char_end,
        }

    def location(self) -> str:
        """`seeds/000_x.txt:3 (¶3)`; windows of long paragraphs add their part number."""
        lines = f"{self.line_start}" if self.line_start == self.line_end else f"{self.line_start}-{self.line_end}"
        part = f", part {self.window}" if self.window else ""
        return f"{self.path}:{lines} (¶{self.paragraph}{part})"


@dataclass(frozen=True)
class Sentence:
    """A sentence of a passage; offsets are into the original file, like the passage's."""

    text: str
    char_start: int
    char_end: int
    header: Sentence | None = None  # a table row's header row (it names the row's columns), in the same passage

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text, "char_start": self.char_start, "char_end": self.char_end}
        if self.header is not None:  # present only for a table row, so other answers keep their shape
            data["table_header"] = self.header.to_json()
        return data


@dataclass(frozen=True)
class Evidence:
    """One returned passage, with why it was returned."""

    rank: int
    id: str
    citation: Citation
    text: str
    score: float  # fused score (hybrid) or the single retriever's score
    bm25_rank: int | None
    bm25_score: float | None
    dense_rank: int | None
    dense_score: float | None  # cosine
    answer_sentence: Sentence
    matched_terms: tuple[str, ...]  # query words found in the passage (as written in the passage)
    term_spans: tuple[tuple[int, int], ...]  # where they are, relative to `text`
    stale: bool = False  # the cited file changed since indexing and no longer holds `text` at the citation
    heading_terms: tuple[str, ...] = ()  # query words found only in the section heading (as written there)
    also_in: tuple[Citation, ...] = ()  # other passages with the same text, ranked lower (qa/duplicates.py)
    # a follow-up's passage: its BM25 and dense ranks in the search with the topic's context (the ranks above are
    # the question alone's); None for a question searched alone
    context_ranks: tuple[int | None, int | None] | None = None

    def to_json(self) -> dict[str, Any]:
        c = self.citation
        data = {
            "rank": self.rank,
            "id": self.id,
            "path": c.path,
            "file": c.abs_path,
            "title": c.title,
            "section": c.section or None,
            "paragraph": c.paragraph,
            "window": c.window,
            "line_start": c.line_start,
            "line_end": c.line_end,
            "char_start": c.char_start,
            "char_end": c.char_end,
            "text": self.text,
            "score": round(self.score, 6),
            "bm25_rank": self.bm25_rank,
            "bm25_score": None if self.bm25_score is None else round(self.bm25_score, 6),
            "dense_rank": self.dense_rank,
            "dense_score": None if self.dense_score is None else round(self.dense_score, 6),
            "answer_sentence": self.answer_sentence.to_json(),
            "matched_terms": list(self.matched_terms),
        }
        if self.heading_terms:  # present only when some, as "stale": answers without headings keep their shape
            data["heading_terms"] = list(self.heading_terms)
        if self.also_in:  # present only when some
            data["also_in"] = [c.to_json() for c in self.also_in]
        if self.context_ranks is not None:  # a follow-up's passage only
            bm25, dense = self.context_ranks
            data["context_ranks"] = {"bm25_rank": bm25, "dense_rank": dense}
        if self.stale:  # present only when true, so answers over an unchanged corpus keep their exact shape
            data["stale"] = True
        return data


@dataclass(frozen=True)
class AnswerText:
    text: str
    passage: int  # rank of the passage it comes from
    char_start: int
    char_end: int
    header: Sentence | None = None  # the header row of the table whose row this is (names its columns)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "passage": self.passage,
            "char_start": self.char_start,
            "char_end": self.char_end,
        }
        if self.header is not None:
            data["table_header"] = self.header.to_json()
        return data


@dataclass(frozen=True)
class Answer:
    """Everything said in reply to one question."""

    question: str
    retrieval_query: str  # what retrieval searched for (differs from the question for follow-ups)
    mode: Mode
    top_k: int
    verdict: Verdict
    reason: str  # one line: why the evidence is (not) credible
    answer: AnswerText | None
    passages: tuple[Evidence, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    follow_up: bool = False  # retrieval borrowed context from earlier turns of the conversation
    # asked inside a topic: why its context was used or not (None for a question asked outside a topic: the
    # first of a conversation, after a new topic was started by hand, or without a conversation)
    context_reason: str | None = None
    new_topic: bool = False  # asked inside a topic, it began a new one (later questions borrow nothing before it)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "retrieval_query": self.retrieval_query,
            "follow_up": self.follow_up,
            "mode": self.mode,
            "top_k": self.top_k,
            "verdict": self.verdict,
            "reason": self.reason,
            "answer": None if self.answer is None else self.answer.to_json(),
            "passages": [p.to_json() for p in self.passages],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
        if self.context_reason is not None:  # present only for a question asked inside a topic
            data["context_reason"] = self.context_reason
            data["new_topic"] = self.new_topic
        return data

    def context_line(self) -> str | None:
        """One line on how the conversation shaped the search: "follow-up: ...", "new topic: ..." or "searched
        alone: ..." (with the reason), None for a question asked outside a topic."""
        if self.context_reason is None:
            return None
        kind = "follow-up" if self.follow_up else "new topic" if self.new_topic else "searched alone"
        return f"{kind}: {self.context_reason}"
