"""Text rendering of answers for a terminal or a pipe. All corpus text passes through `safe_text`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from index.sentences import line_breaks
from index.tokenize import SHOWN_WORD_BREAK, shown_breaks
from qa.escape import one_line, safe_line, safe_text
from qa.types import Answer, Evidence

BOLD, UNDERLINE, DIM, RESET = "\x1b[1m", "\x1b[4m", "\x1b[2m", "\x1b[0m"
_WORD_RUN = re.compile(rf"(?:\S*\w{SHOWN_WORD_BREAK}(?=\w))*\S+")  # a word typeset or hyphenated across lines
INDENT = "    "
_LEADING_BLANKS = re.compile(r"[ \t]*")
TAB_SIZE = 4
MAX_LEAD = 24  # columns of a line's own indentation kept when a passage is shown


def _span_mask(text: str, spans: Sequence[tuple[int, int]]) -> list[bool]:
    """For each character of `text`, whether it lies in one of `spans` (matched terms, breaks not shown)."""
    inside = [False] * len(text)
    for start, end in spans:
        for i in range(start, end):
            inside[i] = True
    return inside


def _styled_words(
    text: str,
    sentence: tuple[int, int],
    in_term: Sequence[bool],
    color: bool,
    first: int,
    last: int,
    dropped: Sequence[bool],
) -> list[str]:
    """The words of `text[first:last]` with emphasis: ANSI when `color`, else Markdown (**sentence**,
    *term*); `sentence` holds offsets into `text`, `in_term` is its `_span_mask`, `dropped` its
    `_span_mask` of `shown_breaks` (a line break inside a word is not shown)."""
    words: list[str] = []
    s_start, s_end = sentence
    for match in _WORD_RUN.finditer(text, first, last):
        start, end = match.start(), match.end()
        pieces: list[str] = []
        i = start
        while i < end:
            j = i
            while j < end and in_term[j] == in_term[i] and (s_start <= j < s_end) == (s_start <= i < s_end):
                j += 1
            chunk = safe_text("".join(c for c, gone in zip(text[i:j], dropped[i:j], strict=True) if not gone))
            emphasised_term = in_term[i]
            in_sentence = s_start <= i < s_end
            if color:
                style = (BOLD if in_sentence else "") + (UNDERLINE if emphasised_term else "")
                pieces.append(f"{style}{chunk}{RESET}" if style else chunk)
            else:
                pieces.append(f"*{chunk}*" if emphasised_term else chunk)
            i = j
        word = "".join(pieces)
        if not color:
            if start <= s_start < end:
                word = "**" + word
            if start < s_end <= end:
                word = word + "**"
        words.append(word)
    return words


def _visible_len(word: str) -> int:
    return len(re.sub(r"\x1b\[[0-9;]*m", "", word))


def _wrap(words: list[str], width: int, indent: str) -> str:
    lines: list[str] = []
    line: list[str] = []
    used = 0
    for word in words:
        length = _visible_len(word)
        if line and used + 1 + length > width - len(indent):
            lines.append(indent + " ".join(line))
            line, used = [], 0
        used += length + (1 if line else 0)
        line.append(word)
    if line:
        lines.append(indent + " ".join(line))
    return "\n".join(lines)


def _passage_lines(evidence: Evidence, width: int, color: bool) -> str:
    """The passage wrapped to `width`, each list item and table row starting a line of its own."""
    text = evidence.text
    sentence = (
        evidence.answer_sentence.char_start - evidence.citation.char_start,
        evidence.answer_sentence.char_end - evidence.citation.char_start,
    )
    in_term = _span_mask(text, evidence.term_spans)
    dropped = _span_mask(text, shown_breaks(text))
    bounds = [0, *line_breaks(text), len(text)]
    return "\n".join(
        _wrap(_styled_words(text, sentence, in_term, color, start, end, dropped), width, INDENT + _lead(text, start))
        for start, end in pairwise(bounds)
        if text[start:end].strip()
    )


def _lead(text: str, start: int) -> str:
    """The indentation of the line starting at `start` (a nested list item, a line of code), as spaces."""
    return _LEADING_BLANKS.match(text, start).group().expandtabs(TAB_SIZE)[:MAX_LEAD]  # type: ignore[union-attr]


STALE_NOTE = " [file changed since indexing: this citation may be out of date; ask again to re-index]"


def evidence_header(evidence: Evidence) -> str:
    header = f"[{evidence.rank}] {one_line(evidence.citation.heading())} — {safe_line(evidence.citation.location())}"
    return header + STALE_NOTE if evidence.stale else header


ALSO_IN_SHOWN = 3  # copies of a passage cited by location; the rest are counted


def also_in_line(evidence: Evidence) -> str:
    """Where else the corpus says the same ("also in: a.txt:3-5 (¶2), b.txt:9 (¶4)"), "" when nowhere."""
    if not evidence.also_in:
        return ""
    shown = ", ".join(safe_line(c.location()) for c in evidence.also_in[:ALSO_IN_SHOWN])
    more = len(evidence.also_in) - ALSO_IN_SHOWN
    return f"also in: {shown}" + (f" and {more} more" if more > 0 else "")


def why_line(evidence: Evidence) -> str:
    parts = [f"score {evidence.score:.4f}"]
    own = [f"bm25 #{evidence.bm25_rank}" if evidence.bm25_rank else "bm25 -"]
    own.append(
        f"dense #{evidence.dense_rank} (cos {evidence.dense_score:.2f})"
        if evidence.dense_rank and evidence.dense_score is not None
        else "dense -"
    )
    if evidence.context_ranks is not None:  # a follow-up: the search with context found it, the question alone chose it
        bm25, dense = evidence.context_ranks
        parts.append(f"with context: bm25 {f'#{bm25}' if bm25 else '-'} · dense {f'#{dense}' if dense else '-'}")
        own[0] = f"question alone: {own[0]}"
    parts.extend(own)
    if evidence.matched_terms:
        parts.append("matched: " + ", ".join(safe_line(t) for t in evidence.matched_terms))
    if evidence.heading_terms:
        parts.append("in its heading: " + ", ".join(safe_line(t) for t in evidence.heading_terms))
    return " · ".join(parts)


def render_answer(answer: Answer, width: int = 100, color: bool = False) -> str:
    out: list[str] = []
    dim = (lambda s: f"{DIM}{s}{RESET}") if color else (lambda s: s)
    out.append(f"Q: {safe_line(answer.question)}")
    if answer.retrieval_query != answer.question:
        out.append(dim(f"   (searched for: {safe_line(answer.retrieval_query)})"))
    if (context := answer.context_line()) is not None:
        out.append(dim(f"   ({safe_line(context)})"))
    if answer.answer is not None:
        sentence = one_line(answer.answer.text)
        shown = f"{BOLD}{sentence}{RESET}" if color else sentence
        if answer.answer.header is not None:  # a table row, under the header row that names its columns
            header = _wrap(one_line(answer.answer.header.text).split(" "), width, "   ")
            out.append("A:" + header.removeprefix("  "))
            out.append(_wrap(shown.split(" "), width, "   "))
        else:
            out.append(_wrap(("A: " + shown).split(" "), width, ""))
        out.append(dim(f"   — from [{answer.answer.passage}] {safe_line(answer.passages[0].citation.location())}"))
    else:
        out.append("A: No good evidence for this in the corpus.")
        out.append(dim(f"   ({safe_line(answer.reason)}; the closest passages follow)" if answer.passages else ""))
    for evidence in answer.passages:
        out.append("")
        out.append(f"{BOLD}{evidence_header(evidence)}{RESET}" if color else evidence_header(evidence))
        if evidence.also_in:
            out.append(dim(INDENT + also_in_line(evidence)))
        out.append(_passage_lines(evidence, width, color))
        out.append(dim(INDENT + why_line(evidence)))
    return "\n".join(line for line in out if line is not None)


def timing_line(answer: Answer) -> str:
    """Per-stage timings (stderr: they differ run to run, while stdout stays byte-identical)."""
    stages = " ".join(f"{k} {v:.1f}" for k, v in answer.timings_ms.items() if k != "total")
    return f"{answer.mode}, top {answer.top_k}: {answer.timings_ms.get('total', 0):.0f} ms ({stages} ms)"
