from __future__ import annotations

from index.sentences import sentences_of
from index.tables import is_separator_row, table_roles

REPORT = (
    "Sales grew in every region. The table lists revenue per region.\n"
    "| Region | Revenue | Growth |\n"
    "|---|---:|:--:|\n"
    "| North | 12.4 | 4% |\n"
    "| East | 15.9 | 2% |\n"
    "Hiring slows next quarter."
)


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentences_of(text)]


def test_a_table_s_rows_are_read_under_its_header_row() -> None:
    spans = sentences_of(REPORT)
    roles = table_roles(REPORT, spans)
    sentences = _sentences(REPORT)
    header = sentences.index("| Region | Revenue | Growth |")
    rows = [sentences.index("| North | 12.4 | 4% |"), sentences.index("| East | 15.9 | 2% |")]
    assert roles.headers == {row: header for row in rows}
    assert roles.labels == {header, header + 1}  # the header row and the separator
    assert bool(roles)


def test_rows_without_a_separator_or_without_data_have_no_header() -> None:
    no_separator = "| a | b |\n| c | d |\n| e | f |"
    assert not table_roles(no_separator, sentences_of(no_separator))
    only_header = "Columns:\n| Region | Revenue |\n|---|---|"
    roles = table_roles(only_header, sentences_of(only_header))
    assert not roles and not roles.labels  # the header row stays an answer of its own
    apart = "| Region | Revenue |\n\n|---|---|\n| North | 12.4 |"  # a blank line ends a table
    assert not table_roles(apart, sentences_of(apart))


def test_two_tables_each_have_their_own_header() -> None:
    text = "| A | B |\n|---|---|\n| 1 | 2 |\nBetween them.\n| C | D |\n| --- | --- |\n| 3 | 4 |\n| 5 | 6 |"
    sentences = _sentences(text)
    roles = table_roles(text, sentences_of(text))
    by_text = {sentences[row]: sentences[header] for row, header in roles.headers.items()}
    assert by_text == {"| 1 | 2 |": "| A | B |", "| 3 | 4 |": "| C | D |", "| 5 | 6 |": "| C | D |"}


def test_separator_rows() -> None:
    separators = ("|---|---|", "| :--- | ---: |", "|:-:|", "--- | ---", "| - | - |")  # GFM: one hyphen will do
    assert all(is_separator_row(line) for line in separators)
    assert not any(is_separator_row(line) for line in ("| a | b |", "----", "| -- x |", "| |", "| : |"))
