"""The header row each table row of a passage is read under: by the answer stage (which row answers, and
the header shown over it) and by the second stage of retrieval (a later part of a long table).

A row's figures mean something only under the header row that names its columns (`index.tables`). The
header is in the passage, or, for a later window of a table too long for one passage, in an earlier
window of the same paragraph: windows overlap by a sentence, so a table that runs on to a window's end
goes on at the next one's start.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from index.sentences import sentences_of
from index.tables import is_table_row, table_end, table_roles
from index.tokenize import span_terms
from qa.types import Sentence

if TYPE_CHECKING:
    from index.catalog import PassageRecord
    from index.corpus_index import CorpusIndex

Term = str | int  # a term as text, or its vocabulary id when the index stored the sentences' terms


@dataclass(frozen=True)
class RowHeader:
    """A header row as the answer stage reads it: the sentence (file offsets), its terms keyed as the
    question's weights are, and its unit vector (None when sentence vectors are not read)."""

    sentence: Sentence
    terms: AbstractSet[Term]
    vector: npt.NDArray[np.float32] | None


@dataclass(frozen=True)
class PassageTables:
    """A passage's table rows with the header each is read under, and the sentences that only label a
    table (its header row and separator): no answer of their own while the table has rows."""

    headers: dict[int, RowHeader]
    labels: frozenset[int]


NO_TABLES = PassageTables({}, frozenset())


def passage_tables(
    text: str,
    offset: int,
    spans: Sequence[tuple[int, int]],
    terms: Sequence[Sequence[int]] | None,
    vectors: npt.NDArray[np.float32] | None,
    before: RowHeader | None = None,
) -> PassageTables:
    """The tables of a passage whose sentences are `spans` of `text` (`offset`: its start in the file;
    `terms`: the stored term ids of each sentence, else its terms are read off the text; `vectors`: one
    per sentence, or None). `before` is the header of a table the passage starts inside of, from an
    earlier window: the rows at the passage's start are read under it."""
    if before is None and "|" not in text:
        return NO_TABLES
    roles = table_roles(text, spans)
    if not roles and before is None:
        return NO_TABLES
    headers = {i: _row_header(text, offset, spans, h, terms, vectors) for i, h in roles.headers.items()}
    if before is not None:
        for i, (start, end) in enumerate(spans):
            if i in headers or i in roles.labels or not is_table_row(text[start:end]):
                break
            headers[i] = before
    return PassageTables(headers, roles.labels)


def header_before(index: CorpusIndex, record: PassageRecord, stored_terms: bool) -> RowHeader | None:
    """The header row of the table that window `record` of a long paragraph starts inside of, from the
    paragraph's earlier windows (None when it starts with no table row, or the table has no header).
    `stored_terms`: key the header's terms by their stored ids, as the answer stage keys the question's."""
    found = _header_window(index, record)
    if found is None:
        return None
    earlier, spans, at = found
    text, row = earlier.text, earlier.search_row
    if row is None:  # `_header_window` reads searched windows only
        return None
    stored = index.sentence_terms([row]).get(row) if stored_terms else None
    if stored is not None and stored.spans != tuple(spans):
        stored = None
    vectors = index.sentence_vectors([row]).get(row)
    if vectors is not None and len(vectors) != len(spans):
        vectors = None
    return _row_header(text, earlier.char_start, spans, at, None if stored is None else stored.terms, vectors)


def _row_header(
    text: str,
    offset: int,
    spans: Sequence[tuple[int, int]],
    at: int,
    terms: Sequence[Sequence[int]] | None,
    vectors: npt.NDArray[np.float32] | None,
) -> RowHeader:
    """Sentence `at` of a passage (`text` at file offset `offset`, sentences `spans`) as a header row: its
    stored term ids when `terms` has them, else its terms read off the text; its vector if `vectors`."""
    start, end = spans[at]
    held: AbstractSet[Term] = set(terms[at]) if terms is not None else set(span_terms(text[start:end]))
    vector = None if vectors is None else vectors[at]
    return RowHeader(Sentence(text[start:end], offset + start, offset + end), held, vector)


def header_text_before(index: CorpusIndex, record: PassageRecord) -> str:
    """The text of `header_before`'s header row ("" when there is none): context for the whole window."""
    found = _header_window(index, record)
    if found is None:
        return ""
    earlier, spans, at = found
    return earlier.text[spans[at][0] : spans[at][1]]


def _header_window(
    index: CorpusIndex, record: PassageRecord
) -> tuple[PassageRecord, list[tuple[int, int]], int] | None:
    """The earlier window of `record`'s paragraph that holds the header row of the table `record` starts
    inside of, its sentence spans and the header's index among them."""
    if record.window <= 1 or not is_table_row(record.text):
        return None
    base = record.id.rsplit("w", 1)[0]
    for window in range(record.window - 1, 0, -1):
        earlier = index.catalog.passage_by_id(f"{base}w{window}")
        if earlier is None or earlier.search_row is None:
            return None
        spans = sentences_of(earlier.text)
        ending = table_end(earlier.text, spans)
        if ending.header is not None:
            return earlier, spans, ending.header
        if not (ending.in_table and ending.all_rows):
            return None  # the table does not run on into the next window, or has no header
    return None
