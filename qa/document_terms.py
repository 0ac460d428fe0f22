"""What each indexed document holds, as the conversation's decisions ask it: its search rows and indexed terms,
and in a document with section headings the same for each section (its heading's terms included). A document
is read from the catalog once, its passages tokenized (a text it repeats once), and remembered, up to
`DOCUMENT_CACHE` documents."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from index.bounded_cache import BoundedCache
from index.catalog import PassageRecord
from index.corpus_index import CorpusIndex
from index.paragraphs import heading_text
from index.tokenize import span_terms

DOCUMENT_CACHE = 256  # documents whose rows and terms are kept between questions

Rows = npt.NDArray[np.int64]


def sections_of(
    records: list[PassageRecord], passage_terms: list[frozenset[str]]
) -> dict[str, tuple[Rows, frozenset[str]]]:
    """A document's sections (its passages `records` in reading order, with their terms): heading -> the search
    rows and the terms of the passages under it, the heading's own included ("" for those before any heading).
    A heading that recurs in the document gathers every part it heads."""
    rows: dict[str, list[int]] = {}
    terms: dict[str, set[str]] = {}
    current = ""
    for record, found in zip(records, passage_terms, strict=True):
        if record.kind == "heading":
            current = heading_text(record.text)
        rows.setdefault(current, [])
        terms.setdefault(current, set()).update(found)
        if record.search_row is not None:
            rows[current].append(record.search_row)
    return {h: (np.asarray(sorted(rows[h]), dtype=np.int64), frozenset(terms[h])) for h in rows}


class DocumentTerms:
    """The documents of one index, as `sections_of` and the catalog describe them, remembered."""

    def __init__(self, index: CorpusIndex) -> None:
        self.index = index
        self._documents: dict[int, tuple[Rows, frozenset[str]]] = {}  # doc -> (search rows, terms)
        # doc -> section heading -> (search rows, terms), for an index with sections (read with `_documents`)
        self._sections: dict[int, dict[str, tuple[Rows, frozenset[str]]]] = {}
        self._paths: dict[str, int] | None = None
        self._reading_rows: BoundedCache[int, list[int]] = BoundedCache(DOCUMENT_CACHE)

    def rows_and_terms(self, doc: int) -> tuple[Rows, frozenset[str]]:
        """Search rows (ascending) and indexed terms of document `doc`."""
        if doc not in self._documents:
            if len(self._documents) >= DOCUMENT_CACHE:
                self._documents.clear()
                self._sections.clear()
            records = self.index.catalog.passages_of_document(doc)
            rows = np.asarray(sorted(r.search_row for r in records if r.search_row is not None), dtype=np.int64)
            by_text: dict[str, frozenset[str]] = {}  # a text the document repeats is read once
            passage_terms = [
                by_text.get(r.text) or by_text.setdefault(r.text, frozenset(span_terms(r.text))) for r in records
            ]
            self._documents[doc] = (rows, frozenset().union(*passage_terms))
            if self.index.has_sections:
                self._sections[doc] = sections_of(records, passage_terms)
        return self._documents[doc]

    def terms(self, doc: int) -> frozenset[str]:
        """The indexed terms of document `doc`'s passages."""
        return self.rows_and_terms(doc)[1]

    def sections(self, doc: int) -> dict[str, tuple[Rows, frozenset[str]]]:
        """Section heading -> (search rows, terms) of document `doc` ({} in an index without sections)."""
        self.rows_and_terms(doc)  # reads the sections with the document's terms
        return self._sections.get(doc, {})

    def reading_rows(self, doc: int) -> list[int]:
        """The search rows of document `doc` in reading order (the catalog's covering index: no text read)."""
        catalog = self.index.catalog
        return self._reading_rows.lookup([doc], lambda docs: {d: catalog.search_rows_of_document(d) for d in docs})[doc]

    def of_row(self, row: int) -> int:
        """The document of search row `row`."""
        return self.index.passages([row])[row].doc

    def at(self, path: str) -> int | None:
        """The indexed document at `path` (None: not in this index)."""
        if self._paths is None:
            self._paths = {d.path: d.doc for d in self.index.documents()}
        return self._paths.get(path)
