"""Tables in a passage: which sentence names the columns of which table row.

A Markdown (pipe) table is a run of row lines ("| a | b |"), each one sentence of its own
(`index.sentences`). When its second line is a separator ("|---|:--:|"), its first line is the header:
it names the columns, and a row's numbers mean something only under it ("| IVF1024-SQ8 | 0.38 | 0.96 |"
answers "What is the recall of the approximate index?" through the header's "recall@10").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

TABLE_ROW = re.compile(r"[ \t]*\|")  # a line of a pipe table starts so
_SEPARATOR = re.compile(r"[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)*[ \t]*:?-+:?[ \t]*\|?[ \t]*")
_LINE_BREAK = re.compile(r"[ \t]*\r?\n[ \t]*")  # exactly one line break: the next line


@dataclass(frozen=True)
class TableRoles:
    """The table parts among a passage's sentences (indices into its sentence spans)."""

    headers: dict[int, int] = field(default_factory=dict)  # a data row -> its table's header row
    labels: frozenset[int] = frozenset()  # header rows and separators of tables with data rows

    def __bool__(self) -> bool:
        return bool(self.headers)


def is_table_row(line: str) -> bool:
    """Whether `line` is a line of a pipe table ("| a | b |")."""
    return TABLE_ROW.match(line) is not None


def is_separator_row(line: str) -> bool:
    """Whether `line` is a table's header separator ("|---|:--:|", "--- | ---")."""
    return "|" in line and _SEPARATOR.fullmatch(line) is not None


def table_roles(text: str, spans: Sequence[tuple[int, int]]) -> TableRoles:
    """Header rows, separators and data rows among the sentences `spans` of `text`: a table is a run of
    one-line sentences starting with "|" on consecutive lines, with a header when its second line is a
    separator. A table cut by the passage's start (a later part of a long one) has no header here."""
    headers: dict[int, int] = {}
    labels: set[int] = set()
    for run in _row_runs(text, spans):
        if len(run) < 3 or not is_separator_row(text[spans[run[1]][0] : spans[run[1]][1]]):
            continue
        data = [i for i in run[2:] if not is_separator_row(text[spans[i][0] : spans[i][1]])]
        if data:
            headers.update((i, run[0]) for i in data)
            labels.update(i for i in run if i not in headers)
    return TableRoles(headers, frozenset(labels))


@dataclass(frozen=True)
class TableEnd:
    """How a text (a window of a long paragraph) ends with respect to tables."""

    in_table: bool  # its last sentence is a table row: the table may go on in the next window
    header: int | None  # that table's header row (an index into the spans), when the text holds it
    all_rows: bool  # every sentence is a table row: the text may be the middle of a longer table


def table_end(text: str, spans: Sequence[tuple[int, int]]) -> TableEnd:
    """Whether `text` (sentences `spans`) ends inside a table, and the header row of that table if it holds
    it: the next window of the paragraph, starting inside the same table, is read under that header."""
    last_start, last_end = spans[-1]
    if not is_table_row(text[last_start:last_end]):
        return TableEnd(False, None, False)
    header = table_roles(text, spans).headers.get(len(spans) - 1)
    return TableEnd(True, header, all(is_table_row(text[s:e]) for s, e in spans))


def _row_runs(text: str, spans: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Runs of sentence indices that are table rows on consecutive lines."""
    runs: list[list[int]] = []
    previous_end = -1
    for i, (start, end) in enumerate(spans):
        if not TABLE_ROW.match(text, start, end) or "\n" in text[start:end]:
            previous_end = -1
            continue
        if runs and previous_end >= 0 and _LINE_BREAK.fullmatch(text, previous_end, start):
            runs[-1].append(i)
        else:
            runs.append([i])
        previous_end = end
    return runs
