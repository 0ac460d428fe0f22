from __future__ import annotations

from index.sentences import sentences_of
from qa.table_headers import RowHeader, passage_tables
from qa.types import Sentence

BEFORE = RowHeader(Sentence("| City | Staff |", 10, 26), frozenset({"citi", "staff"}), None)


def _by_text(text: str, before: RowHeader | None) -> dict[str, str]:
    spans = sentences_of(text)
    tables = passage_tables(text, 100, spans, None, None, before)
    return {text[slice(*spans[i])]: header.sentence.text for i, header in tables.headers.items()}


def test_rows_a_passage_starts_with_are_read_under_the_header_from_before_it() -> None:
    text = "| Oslo | 73 |\n| Prague | 54 |\nAfter the table.\n| Quito | 38 |"
    assert _by_text(text, BEFORE) == {"| Oslo | 73 |": "| City | Staff |", "| Prague | 54 |": "| City | Staff |"}
    assert _by_text(text, None) == {}  # no header anywhere: rows are sentences like any other


def test_a_table_of_the_passage_s_own_keeps_its_own_header() -> None:
    text = "| Oslo | 73 |\n\nAnother table:\n| Lake | Depth |\n|---|---|\n| Mjosa | 453 |"
    spans = sentences_of(text)
    tables = passage_tables(text, 100, spans, None, None, BEFORE)
    by_text = {text[slice(*spans[i])]: h for i, h in tables.headers.items()}
    assert by_text["| Oslo | 73 |"] is BEFORE
    own = by_text["| Mjosa | 453 |"]
    start = text.index("| Lake")
    assert own.sentence == Sentence("| Lake | Depth |", 100 + start, 100 + start + 16)
    assert own.terms == {"lake", "depth"}
    assert {text[slice(*spans[i])] for i in tables.labels} == {"| Lake | Depth |", "|---|---|"}
