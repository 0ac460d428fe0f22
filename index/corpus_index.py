"""A loaded, read-only index: the catalog, the BM25 postings and the dense vectors of one generation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.ann import ANN_FILE, read_ann
from index.bm25 import BM25Scorer
from index.bounded_cache import BoundedCache
from index.catalog import Catalog, DocumentRecord, PassageRecord
from index.dense import DenseIndex
from index.errors import IndexStoreError
from index.paragraphs import heading_text, opening_words
from index.sentence_terms import (
    SENTENCE_TERMS_VERSION,
    StoredSentences,
    StoredSentenceTerms,
)
from index.store import Generation
from index.vector_chunks import (
    SENTENCE_VECTORS_FILE,
    VECTORS_FILE,
    ChunkedVectors,
    is_shared,
    open_stored_vectors,
)

CATALOG_FILE = "catalog.sqlite"
BM25_INDPTR_FILE = "bm25_indptr.npy"
BM25_ROWS_FILE = "bm25_rows.npy"
BM25_WEIGHTS_FILE = "bm25_weights.npy"
# What BM25 was built from, passage by passage (for updates; not read when serving): term ids, counts,
# each searchable passage's first pair (int64, one more than the passages) and token count
BM25_PASSAGE_TERMS_FILE = "bm25_passage_terms.npy"
BM25_PASSAGE_TFS_FILE = "bm25_passage_tfs.npy"
BM25_PASSAGE_FIRSTS_FILE = "bm25_passage_firsts.npy"
BM25_PASSAGE_LENGTHS_FILE = "bm25_passage_lengths.npy"


TERM_CACHE_LIMIT = 100_000
PASSAGE_CACHE_LIMIT = 4096
SHARED_SECTION_DOCUMENTS = 3  # a heading in this many documents or more is part of their layout, not a topic


class CorpusIndex:
    """Search structures over the searchable passages, addressed by search row (0..n-1)."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.manifest: dict[str, Any] = generation.manifest
        self.stored_sentence_terms: StoredSentenceTerms | None = None  # read by `sentence_terms`
        try:
            self.catalog = Catalog(generation.file(CATALOG_FILE))
        except ValueError as exc:
            raise IndexStoreError(str(exc)) from None
        self.size = int(self.manifest["counts"]["searchable"])
        self.dimension = int(self.manifest["dimension"])
        self.vectors: npt.NDArray[Any] | ChunkedVectors
        if not is_shared(self.manifest):  # one file in search-row order: checked through its memory map first
            self.vectors = generation.load_array(VECTORS_FILE)
            if self.vectors.shape != (self.size, self.dimension) or self.vectors.dtype != np.float32:
                raise IndexStoreError("index vectors do not match the manifest")
        if "sentences" not in self.manifest:
            raise IndexStoreError("the index was written by an older version (no sentence vectors)")
        self._stored = open_stored_vectors(generation, self.size)
        if is_shared(self.manifest):
            self.vectors = self._stored.passages
        passages, sentences = self._stored.passages, self._stored.sentences
        if passages.shape[1] != self.dimension or passages.stored_dtype != np.float32:
            self.close()
            raise IndexStoreError("index vectors do not match the manifest")
        if sentences.shape[1] != self.dimension:
            self.close()
            raise IndexStoreError("index sentence vectors do not match the passages")
        indptr = generation.load_array(BM25_INDPTR_FILE)
        rows = generation.load_array(BM25_ROWS_FILE)
        weights = generation.load_array(BM25_WEIGHTS_FILE)
        if len(rows) != len(weights) or (len(indptr) and int(indptr[-1]) != len(rows)):
            raise IndexStoreError("index BM25 postings do not match each other")
        terms = int(self.manifest["counts"]["terms"])
        if len(indptr) != terms + 1 or (len(indptr) and int(indptr[0]) != 0) or bool(np.any(np.diff(indptr) < 0)):
            raise IndexStoreError("index BM25 postings do not match the vocabulary")
        if not generation.checked:  # reads every posting: only when the checksums were verified too
            _check_postings(rows, weights, self.size)
        if self.manifest.get("sentence_terms") == SENTENCE_TERMS_VERSION:
            try:
                stored = StoredSentenceTerms.open(generation.path)
            except (OSError, ValueError) as exc:
                self.close()
                raise IndexStoreError(f"index sentence terms are unreadable: {exc}") from None
            self.stored_sentence_terms = stored
            if not stored.check(int(self._stored.sentence_firsts[-1])):
                self.close()
                raise IndexStoreError("index sentence terms do not match the sentences")
        generation.record_checked()
        self.bm25 = BM25Scorer(indptr, rows, weights, self.size)
        self._dense: DenseIndex | None = None
        self._documents: list[DocumentRecord] | None = None
        self._term_cache: BoundedCache[str, tuple[int, float]] = BoundedCache(TERM_CACHE_LIMIT)
        self._passage_cache: BoundedCache[int, PassageRecord] = BoundedCache(PASSAGE_CACHE_LIMIT)
        self._sentence_terms_cache: BoundedCache[int, StoredSentences] = BoundedCache(PASSAGE_CACHE_LIMIT)
        self._titles: BoundedCache[int, str] = BoundedCache(PASSAGE_CACHE_LIMIT)  # doc -> display title
        self._sections: BoundedCache[int, str] = BoundedCache(PASSAGE_CACHE_LIMIT)  # row -> section heading
        self._has_sections: bool | None = None
        self._heading_spread: dict[str, int] | None = None  # heading -> documents that have it

    @property
    def model_id(self) -> str:
        return str(self.manifest["model_id"])

    @property
    def dense(self) -> DenseIndex:
        if self._dense is None:
            try:
                if self.manifest.get("dense", {}).get("kind") == "ivf-sq8":
                    approximate = read_ann(self.generation.file(ANN_FILE))
                    self._dense = DenseIndex(self.vectors, self.dimension, approximate)
                else:
                    self._dense = DenseIndex(np.asarray(self.vectors), self.dimension)
            except (ValueError, RuntimeError) as exc:
                raise IndexStoreError(f"index vectors are damaged: {exc}") from None
        return self._dense

    def vectors_at(self, rows: Sequence[int] | npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.float32]:
        """The stored vectors of passages `rows`, in that order (read from the file, not the memory map:
        at a million passages touching the map for ~100 rows per question kept ~0.5 MiB resident each)."""
        try:
            return self._stored.passages.rows_at(rows)
        except (OSError, ValueError) as exc:
            raise IndexStoreError(f"index file {VECTORS_FILE} is unreadable: {exc}") from None

    def sentence_vectors(self, rows: Sequence[int]) -> dict[int, npt.NDArray[np.float32]]:
        """Unit vectors of the sentences of passages `rows` (`index.sentences.sentences_of` of each text,
        in order), computed at index time; one positional read per passage, or per run of consecutive ones
        (`StoredVectors.sentence_vectors_of`)."""
        try:
            found = self._stored.sentence_vectors_of(rows)
            return {row: found[row] for row in dict.fromkeys(int(r) for r in rows)}
        except (OSError, ValueError, IndexError) as exc:
            raise IndexStoreError(f"index file {SENTENCE_VECTORS_FILE} is unreadable: {exc}") from None

    def sentence_terms(self, rows: Sequence[int]) -> dict[int, StoredSentences]:
        """Each passage's sentence spans (in its text) and the vocabulary ids of each sentence's terms, as
        stored at index time ({} for an index that did not store them). Both stages of a question read
        them, and the questions of one topic meet the same passages: up to PASSAGE_CACHE_LIMIT rows are
        remembered."""
        stored = self.stored_sentence_terms
        if stored is None:
            return {}
        firsts = self._stored.sentence_firsts

        def read(missing: list[int]) -> dict[int, StoredSentences]:
            return {row: stored.of(int(firsts[row]), int(firsts[row + 1])) for row in missing}

        return self._sentence_terms_cache.lookup(rows, read, PASSAGE_CACHE_LIMIT)

    def documents(self) -> list[DocumentRecord]:
        if self._documents is None:
            self._documents = self.catalog.documents()
        return self._documents

    def document(self, doc: int) -> DocumentRecord:
        return self.documents()[doc]

    def display_title(self, doc: int) -> str:
        """The document's title line, or for a document without one (its title is its file name) its
        opening words ("Russian fighter jets have targeted a weapons depot in…"); remembered."""
        document = self.document(doc)
        if document.title_from_text:
            return document.title
        return self._titles.lookup([doc], lambda docs: {d: self._opening(d) for d in docs})[doc]

    @property
    def has_sections(self) -> bool:
        """Whether passages read a section heading as context (some document has one); remembered."""
        if self._has_sections is None:
            wanted = self.manifest.get("settings", {}).get("title_context", True)
            self._has_sections = bool(wanted) and self.catalog.has_headings()
        return self._has_sections

    def section(self, record: PassageRecord) -> str:
        """The heading of the section the passage is in ("" when none): its document's last
        heading before it, the context indexing gave the passage; remembered."""
        if not self.has_sections:
            return ""
        return self._sections.lookup([record.row], lambda _: {record.row: self._heading_before(record)})[record.row]

    def shared_section(self, section: str) -> bool:
        """Whether `section` heads a section in `SHARED_SECTION_DOCUMENTS` documents or more: a recurring
        part of the documents' layout ("DESCRIPTION" in every manual page, "UI, Workflows & Features" in
        every release note), which says nothing about any one topic. Read once, on first use."""
        if self._heading_spread is None:
            spread: dict[str, set[int]] = {}
            for doc, text in self.catalog.headings():
                spread.setdefault(heading_text(text), set()).add(doc)
            self._heading_spread = {heading: len(docs) for heading, docs in spread.items()}
        return self._heading_spread.get(section, 0) >= SHARED_SECTION_DOCUMENTS

    def _heading_before(self, record: PassageRecord) -> str:
        heading = self.catalog.heading_before(record.doc, record.row)
        return heading_text(heading) if heading else ""

    def _opening(self, doc: int) -> str:
        text = self.catalog.first_passage_text(doc)
        return opening_words(text) if text and text.strip() else self.document(doc).title

    def passages(self, search_rows: Sequence[int]) -> dict[int, PassageRecord]:
        """The catalog records of passages `search_rows`. A question reads its candidates' records twice
        (second stage, then answers) and the questions of one topic share many: up to PASSAGE_CACHE_LIMIT
        records are remembered (the catalog never changes)."""
        found = self._passage_cache.lookup(search_rows, self.catalog.passages_by_search_rows, PASSAGE_CACHE_LIMIT)
        missing = [r for r in search_rows if r not in found]
        if missing:
            raise IndexStoreError(f"index catalog lacks passages for rows {missing[:5]}")
        return found

    def term_info(self, terms: Sequence[str]) -> dict[str, tuple[int, float]]:
        """term -> (vocabulary id, idf) for the indexed terms among `terms`. A question looks its terms up
        three times (BM25 top, the fused candidates' scores, the second stage's weights): answers, "not in
        the vocabulary" included, are remembered (the catalog never changes), up to TERM_CACHE_LIMIT terms."""
        return self._term_cache.lookup(terms, self.catalog.term_ids, TERM_CACHE_LIMIT)

    def known_terms(self, terms: Sequence[str], min_prefix: int = 4) -> set[str]:
        """The `terms` some passage holds, or (those of `min_prefix` letters or more) holds the start of:
        "mullet" when the text writes "Mullett"."""
        known = set(self.term_info(terms))
        prefixes = [t for t in terms if t not in known and len(t) >= min_prefix]
        return known | (self.catalog.extended_terms(prefixes) if prefixes else set())

    def bm25_top(
        self, terms: Sequence[str], k: int, weights: Sequence[float] | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The `k` best passages for `terms` (one optional query weight per term)."""
        return self.bm25.top(self._term_ids(terms), k, weights)

    def bm25_scores(self, terms: Sequence[str], weights: Sequence[float] | None = None) -> npt.NDArray[np.float64]:
        """BM25 scores of every passage for `terms` (one optional query weight per term)."""
        return self.bm25.scores(self._term_ids(terms), weights)

    def bm25_scores_at(
        self, terms: Sequence[str], rows: Sequence[int], weights: Sequence[float] | None = None
    ) -> npt.NDArray[np.float64]:
        """`bm25_scores(terms, weights)[rows]`, bit for bit, scoring only those passages."""
        return self.bm25.scores_at(self._term_ids(terms), rows, weights)

    def _term_ids(self, terms: Sequence[str]) -> list[int | None]:
        """Vocabulary id of each term in order (None for a term the index does not know)."""
        info = self.term_info(terms)
        return [info[t][0] if t in info else None for t in terms]

    def close(self) -> None:
        self.catalog.close()
        self._stored.close()
        if self.stored_sentence_terms is not None:
            self.stored_sentence_terms.close()
            self.stored_sentence_terms = None


def _check_postings(rows: npt.NDArray[Any], weights: npt.NDArray[Any], size: int) -> None:
    """Every posting points into the passage table and has a finite weight. The files are scanned in
    blocks with plain reads, not through their memory maps, which would keep every page resident."""
    for block in _blocks(rows):
        if len(block) and (int(block.max()) >= size or int(block.min()) < 0):
            raise IndexStoreError("index BM25 postings point outside the passage table")
    for block in _blocks(weights):
        if not bool(np.isfinite(block).all()):
            raise IndexStoreError("index BM25 weights are damaged (not finite)")


SCAN_BLOCK = 1 << 22  # elements per read when scanning a whole array (32 MiB of float64)


def _blocks(array: npt.NDArray[Any]) -> Iterator[npt.NDArray[Any]]:
    """The elements of a memory-mapped one-dimensional array, block by block, read from its file."""
    if not isinstance(array, np.memmap) or array.filename is None:
        yield from (array[start : start + SCAN_BLOCK] for start in range(0, len(array), SCAN_BLOCK))
        return
    try:
        with open(array.filename, "rb") as handle:
            handle.seek(array.offset)
            for start in range(0, len(array), SCAN_BLOCK):
                count = min(SCAN_BLOCK, len(array) - start)
                block = np.fromfile(handle, dtype=array.dtype, count=count)
                if len(block) != count:
                    raise IndexStoreError(f"index file {Path(array.filename).name} is shorter than its header")
                yield block
    except OSError as exc:
        raise IndexStoreError(f"index file {Path(array.filename).name} is unreadable: {exc}") from None
