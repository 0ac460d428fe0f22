"""Pure helpers of the UI: escaping with aligned highlights, source excerpts, export locations."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.style import Style

from index.tokenize import term_spans
from qa.escape import safe_text
from qa.render import STALE_NOTE, why_line
from qa.types import Citation, Evidence, Sentence
from tui.emphasis import TERM, emphasised
from tui.export import citation_line, export_path
from tui.source import load_excerpt
from tui.widgets.evidence import citation_text, passage_text, why_text

TRICKY = st.text(alphabet=st.sampled_from(list("ab [/]@=\n\t\x1b\x07\x9b\u202e\u200b")), max_size=40)


@given(TRICKY, st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=4))
def test_emphasis_escapes_everything_and_keeps_spans_aligned(text: str, raw: list[tuple[int, int]]) -> None:
    spans = [(min(a, b), max(a, b), TERM) for a, b in raw]
    rendered = emphasised(text, spans)
    assert rendered.plain == safe_text(text)
    assert "\x1b" not in rendered.plain and "\x07" not in rendered.plain and "\u202e" not in rendered.plain
    styled = {i for s in rendered.spans if Style.parse(str(s.style)).underline for i in range(s.start, s.end)}
    expected: set[int] = set()
    for start, end, _ in spans:
        start, end = min(start, len(text)), min(end, len(text))
        if start < end:
            # the escaped span occupies this range of the escaped text
            before = len(safe_text(text[:start]))
            expected |= set(range(before, before + len(safe_text(text[start:end]))))
    assert styled == expected


def _evidence(path: Path, text: str, start: int) -> Evidence:
    citation = Citation(str(path.name), str(path), "T", 2, 0, 3, 3, start, start + len(text))
    return Evidence(1, "x#p2", citation, text, 1.0, 1, 1.0, 1, 0.5, Sentence(text, start, start + len(text)), (), ())


def test_a_hard_wrapped_passage_is_flowed_and_keeps_its_items_and_highlights(tmp_path: Path) -> None:
    # A manual page's paragraph, hard-wrapped and indented, a word hyphenated across two lines, then a list.
    # Before: shown line by line, the first line flush and the others indented by 7 ("ragged").
    text = (
        "Normally the exit status is 0 if a line is selected, 1 if no lines were\n"
        "       selected, and 2 if an er\u2010\n       ror occurred.\n- first item\n  - nested item"
    )
    error = next((start, end) for term, start, end in term_spans(text) if term == "error")  # "er‐\n       ror"
    evidence = replace(_evidence(tmp_path / "grep.txt", text, 0), term_spans=(error,))
    shown = passage_text(evidence)
    assert shown.plain == (
        "Normally the exit status is 0 if a line is selected, 1 if no lines were selected, and 2 if an error "
        "occurred.\n- first item\n  - nested item"
    )
    underlined = sorted({i for s in shown.spans if Style.parse(str(s.style)).underline for i in range(s.start, s.end)})
    start = shown.plain.index("error")
    assert underlined == list(range(start, start + len("error")))
    justified = replace(evidence, text="The exit status is 0  even  if an\n       error occurred.", term_spans=())
    assert passage_text(justified).plain == "The exit status is 0 even if an error occurred."
    code = replace(evidence, text="```py\nx  =  1\n    y = [x,  x]\n```", term_spans=())
    assert passage_text(code).plain == "```py\nx  =  1\n    y = [x,  x]\n```"  # code keeps its lines and blanks


@given(
    TRICKY.map(lambda t: t.replace("\x1b", "")), st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=4)
)
def test_flowing_a_passage_only_joins_its_lines(text: str, raw: list[tuple[int, int]]) -> None:
    spans = [(min(a, b), max(a, b), TERM) for a, b in raw]
    flowed = emphasised(text, spans, breaks=[]).plain
    assert flowed.split() == safe_text(text).split()


def test_excerpt_cuts_the_file_around_the_passage(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_text("Title\n\nfirst para\n\nthe passage\n\nlast para\n", encoding="utf-8")
    excerpt = load_excerpt(_evidence(path, "the passage", 19))
    assert excerpt.before == "Title\n\nfirst para\n\n" and excerpt.passage == "the passage"
    assert excerpt.after == "\n\nlast para\n"
    assert excerpt.note == ""
    clipped = load_excerpt(_evidence(path, "the passage", 19), context=3)
    assert clipped.before == "a\n\n" and clipped.after == "\n\nl"
    assert clipped.clipped_before == 16 and clipped.clipped_after == len("\n\nlast para\n") - 3


def test_excerpt_of_a_changed_or_missing_file_falls_back_to_the_indexed_passage(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_text("Title\n\nsomething else entirely now\n", encoding="utf-8")
    changed = load_excerpt(_evidence(path, "the passage", 7))
    assert changed.passage == "the passage" and "changed since it was indexed" in changed.note
    missing = load_excerpt(_evidence(tmp_path / "gone.txt", "the passage", 7))
    assert missing.passage == "the passage" and "cannot read the file" in missing.note


def test_citation_line_is_path_line_and_quoted_escaped_text(tmp_path: Path) -> None:
    evidence = _evidence(tmp_path / "doc.txt", 'say \x1b[2J "hi"', 0)
    assert citation_line(evidence) == f'{tmp_path / "doc.txt"}:3 "say \\x1b[2J "hi""'


def test_export_goes_to_qa_home_or_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5)
    monkeypatch.setenv("QA_HOME", str(tmp_path / "home"))
    assert export_path(when) == tmp_path / "home" / "exports" / "qa-conversation-20260102-030405.md"
    monkeypatch.delenv("QA_HOME")
    monkeypatch.chdir(tmp_path)
    first = export_path(when)
    assert first == tmp_path / "qa-conversation-20260102-030405.md"
    first.write_text("x", encoding="utf-8")
    assert export_path(when) == tmp_path / "qa-conversation-20260102-030405-2.md"


def test_why_says_what_the_section_heading_added(tmp_path: Path) -> None:
    evidence = replace(_evidence(tmp_path / "doc.md", "Tuesday at 3pm.", 0), heading_terms=("dentist", "\x1b[2J"))
    assert why_text(evidence, "hybrid").plain.endswith("\nin its heading: dentist, \\x1b[2J")
    assert "in its heading" not in why_text(replace(evidence, heading_terms=()), "hybrid").plain


def test_why_gives_a_follow_ups_ranks_with_context_then_the_question_alones(tmp_path: Path) -> None:
    # before: a follow-up's passage showed only the question alone's ranks ("dense #26 · found by dense" for the
    # second passage), not those of the search with context that found it
    evidence = replace(
        _evidence(tmp_path / "doc.txt", "Around four million people live there.", 0),
        bm25_rank=None,
        bm25_score=None,
        dense_rank=26,
        dense_score=0.121,
        context_ranks=(1, 6),
    )
    why = why_text(evidence, "hybrid").plain
    assert "with context: BM25 #1 · dense #6 · question alone: BM25 - · dense #26 (cos 0.121)" in why
    assert why.endswith("found by BM25 + dense")
    assert "with context" not in why_text(replace(evidence, context_ranks=None), "hybrid").plain
    assert why_text(replace(evidence, context_ranks=None), "hybrid").plain.endswith("found by dense")
    only_alone = why_text(replace(evidence, context_ranks=(None, None)), "hybrid").plain
    assert "with context: BM25 - · dense -" in only_alone and only_alone.endswith("found by dense (question alone)")
    line = why_line(evidence)
    assert "with context: bm25 #1 · dense #6 · question alone: bm25 - · dense #26 (cos 0.12)" in line


def test_a_stale_citation_says_so_in_the_card(tmp_path: Path) -> None:
    # the CLI printed the note; the TUI card did not (before: a changed file's passage looked valid)
    evidence = _evidence(tmp_path / "doc.txt", "the passage", 7)
    assert STALE_NOTE not in citation_text(evidence).plain
    assert citation_text(replace(evidence, stale=True)).plain.endswith(STALE_NOTE)
