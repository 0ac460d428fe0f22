"""Bring the index of a corpus up to date: detect changes, re-embed only what changed, publish atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import secrets
import sqlite3
import threading
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from index import corpus_index as layout
from index.ann import (
    ANN_FILE,
    add_rows,
    exact_search_limit,
    fill_ivf,
    move_ivf_entries,
    read_ann,
    train_ivf,
    write_ann,
)
from index.bm25 import WEIGHT_DTYPE, BM25Arrays, BM25Builder, BM25Params, PassageTerms
from index.catalog import Catalog, CatalogWriter, DocumentRecord, PassageRecord, SkippedRecord
from index.corpus import Document, DocumentSource, FileEntry, UnreadableDocument, describe_ignored
from index.corpus_index import CorpusIndex
from index.dense import check_vectors
from index.embed import Embedder, ProgressFn, embed_passages_and_sentences
from index.errors import CorpusError, IndexStoreError, ModelError
from index.interrupts import deferred_interrupts, raise_if_interrupted
from index.mapped_pages import drop_pages
from index.paragraphs import PassageSpan, heading_text, split_document
from index.sentence_terms import (
    SENTENCE_SPANS_FILE,
    SENTENCE_TERM_FIRSTS_FILE,
    SENTENCE_TERMS_FILE,
    SENTENCE_TERMS_VERSION,
    SentenceTermsWriter,
    StoredSentenceTerms,
    remap_ids,
)
from index.sentences import SENTENCES_VERSION, sentences_of
from index.stages import INDEXING, embedded_note
from index.store import (
    Generation,
    GenerationWriter,
    crash_point,
    current_generation,
    update_lock,
    write_errors_reported,
)
from index.tables import is_table_row, table_end
from index.tokenize import TOKENIZER_VERSION, span_terms, tokenize
from index.vector_chunks import (
    PASSAGE_ROWS_FILE,
    SENTENCE_FIRSTS_FILE,
    SENTENCE_ROWS_FILE,
    SENTENCE_VECTORS_FILE,
    VECTORS_FILE,
    ChunkedVectors,
    StoredVectors,
    chunk_names,
    chunks_to_link,
    open_stored_vectors,
)
from index.vector_file import VectorFileWriter

# 2: YAML front matter; 3-4: short statements searchable; 5: list items; 6: section headings are context;
# 7: no headings inside fenced code blocks; 8: plain-text headings (a short line over prose) are context too;
# 9: a table of the document's own headings is not searched; 10: a ruled plain-text heading over anything;
# 11: a fenced code block is one paragraph across its blank lines; 12: an HTML comment or tag is no heading;
# 13: a short line over a list of prose items is a heading, a quotation ("> ...") is not; 14: or over a list
# one of whose first three items is prose; 15: a line over lines indented under it (a manual page's "NAME"),
# a "#" line indented 4 columns or more is no Markdown heading; 16: a manual page's title is its NAME line;
# 17: a list whose first five items (not three) are read for prose; 18: a grammar line (`a ::= b`) is no hanging
# heading; 19: nor is a numbered line right above the next number's item; 20: Sphinx's rubric (`-[ Footnotes ]-`)
# is a heading; 21: a table's rows stay one paragraph however long they are; 22: a sentence longer than a
# window is cut after a clause's end; 23: a block of long lines most of which run on into the next is one
# paragraph, not one per line; 24: a later window of a long table has the table's header row as context, as a
# passage has its section heading; 25: a numbered title closed by a period ("4. Conveying Verbatim Copies.");
# 26: a line ending in a bracket, a quote or a backtick runs on unless a closing mark comes before it; 27: a
# title centred in a plain-text document ("                            NO WARRANTY") is a heading; 28: so is a
# numbered title run in at a paragraph's start ("2. Grant of Copyright License. Subject to ...")
SPLITTER_VERSION = "paragraphs/28"
EMBED_CHUNK = 1024  # passages embedded per batch of work (bounded memory, frequent progress)
REUSE_CHUNK = 8192  # reused vectors copied per batch (12 MiB at 384 dimensions)
SENTENCE_DTYPE = np.float16  # sentence vectors: half the disk of float32, cosines within ~1e-3


class BuildReporter(Protocol):
    """Where the builder sends warnings, notes and progress (the CLI draws them on stderr)."""

    def warn(self, message: str) -> None: ...

    def note(self, message: str) -> None: ...

    def progress(self, stage: str, done: int, total: int) -> None:
        """`done` of `total` for `stage`; the "indexing" stage (`INDEXING`) counts bytes of the corpus's
        files, read, split and embedded (so one big file moves the bar too), other stages count steps."""
        ...


@dataclass(frozen=True)
class IndexSettings:
    # the document title and the passage's section heading are part of its BM25 text and embedding
    title_context: bool = True
    bm25: BM25Params = BM25Params()

    def as_manifest(self) -> dict[str, Any]:
        return {
            "title_context": self.title_context,
            "bm25": {"k1": self.bm25.k1, "b": self.bm25.b, "epsilon": self.bm25.epsilon},
            "splitter_version": SPLITTER_VERSION,
            "tokenizer_version": TOKENIZER_VERSION,
        }


@dataclass(frozen=True)
class BuildStats:
    documents: int
    passages: int
    embedded: int  # passages embedded in this build
    reused: int  # passages whose vectors were reused from the previous generation
    seconds: float


def embed_text(text: str, *context: str) -> str:
    """What is embedded for a passage: its context (document title, section heading) before its text."""
    return ". ".join([*(c for c in context if c), text])


def _embed_hash(model_id: str, text: str) -> str:
    return hashlib.sha256(f"{model_id}\x00{text}".encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _why_stale(
    loaded: CorpusIndex,
    entries: list[FileEntry],
    identity: str,
    model_id: str,
    settings: IndexSettings,
) -> str | None:
    """Why the loaded generation cannot serve this corpus and model as it is, or None when it can."""
    manifest = loaded.manifest
    if manifest.get("corpus_root") != identity:
        return f"the index in this folder belongs to another corpus ({manifest.get('corpus_root')})"
    if manifest.get("model_id") != model_id:
        return f"the model or its precision changed ({manifest.get('model_id')} -> {model_id})"
    if manifest.get("settings") != settings.as_manifest():
        return "the index settings or format changed"
    if not _has_sentence_vectors(manifest):
        return "the sentence vectors' format changed"
    indexed = {(d.path, d.size, d.mtime_ns) for d in loaded.documents()}  # remembered for serving it
    indexed |= {(s.path, s.size, s.mtime_ns) for s in loaded.catalog.skipped()}
    found = {(e.path, e.size, e.mtime_ns) for e in entries}
    if indexed != found:
        return "the corpus changed"
    return None


def serves_as_it_is(
    index: CorpusIndex, source: DocumentSource, model_id: str, settings: IndexSettings = IndexSettings()
) -> bool:
    """Whether `index` still serves `source` as the files are now (none added, removed or changed since it
    was built): one listing of the corpus and a stat of each file, nothing read."""
    entries = source.entries(lambda _message: None)  # unlistable names are reported when the index is updated
    return _why_stale(index, entries, source.identity, model_id, settings) is None


def open_index(
    source: DocumentSource,
    index_dir: Path,
    embedder: Embedder,
    reporter: BuildReporter,
    settings: IndexSettings = IndexSettings(),
    rebuild: bool = False,
) -> CorpusIndex:
    """The up-to-date index of `source`: loaded as it is, updated, or built from scratch."""
    entries = source.entries(reporter.warn)
    if not entries:
        ignored = source.ignored()
        found = f" ({describe_ignored(ignored)})" if ignored else ""
        raise CorpusError(f"no text files to read in {source.identity}{found}")

    def usable(known: _StaleIndex | None = None) -> tuple[CorpusIndex | None, _StaleIndex]:
        """The current generation when it serves this corpus as it is, else why not (`known`: what an
        earlier look found, still true while the same generation is current)."""
        try:
            generation = current_generation(index_dir)
        except IndexStoreError as exc:
            return None, _StaleIndex(None, f"{exc}; rebuilding it")
        if generation is None:
            return None, _StaleIndex(None, "")
        if known is not None and known.generation is not None and known.generation.path == generation.path:
            return None, known  # generations never change once published
        try:
            loaded = CorpusIndex(generation)
        except IndexStoreError as exc:
            return None, _StaleIndex(None, f"{exc}; rebuilding it")
        reason = _why_stale(loaded, entries, source.identity, embedder.model_id, settings)
        if reason is None and not rebuild:
            return loaded, _StaleIndex(generation, "")
        documents = loaded.documents()
        loaded.close()
        return None, _StaleIndex(generation, reason or "rebuild requested", documents)

    loaded, stale = usable()
    if loaded is not None:
        return loaded
    with deferred_interrupts(), write_errors_reported(index_dir), update_lock(index_dir, reporter.note):
        loaded, stale = usable(stale)  # another process may have finished the work meanwhile
        if loaded is not None:
            return loaded
        previous, reason = stale.generation, stale.reason
        if reason:
            reporter.note(f"updating the index: {reason}")
        else:
            reporter.note(f"building the index of {source.identity} in {index_dir}")
        if ignored := source.ignored():
            reporter.note(describe_ignored(ignored))
        generation, stats = build_generation(
            source,
            entries,
            index_dir,
            embedder,
            reporter,
            settings,
            previous,
            reread=rebuild,
            previous_documents=stale.documents,
        )
        reporter.note(
            f"indexed {stats.documents} documents, {stats.passages} passages "
            f"({stats.embedded} embedded, {stats.reused} reused) in {stats.seconds:.1f} s"
        )
        return CorpusIndex(generation)


@dataclass(frozen=True)
class _StaleIndex:
    """The current generation (None: there is none, or it is unreadable) and why it cannot serve the
    corpus as it is ("" when there is none), with its documents when they were read."""

    generation: Generation | None
    reason: str
    documents: list[DocumentRecord] | None = None


def _has_sentence_vectors(manifest: dict[str, Any]) -> bool:
    return bool(manifest.get("sentences", {}).get("version") == SENTENCES_VERSION)


@dataclass
class _PreviousVectors(StoredVectors):
    """The previous generation's passage and sentence vectors, read row by row (not memory-mapped, so
    reusing a million vectors does not make them all resident), where each of its search rows' vectors lie
    in its chunk files (`index.vector_chunks`), and which row holds a text's."""

    generation: Generation
    rows: _ReusableRows  # which previous search row holds a text's vectors
    passage_rows: npt.NDArray[np.int64]  # search row -> its row in the passage chunks
    passage_chunks: list[str]
    sentence_chunks: list[str]

    def chunks_to_link(self) -> int:
        """How many of these chunks, from the first, the next generation links (`index.vector_chunks`)."""
        return chunks_to_link(len(self.passage_chunks), self.passages.physical_rows, len(self.passages))

    def sentence_block(self, start: int, stop: int) -> npt.NDArray[np.float32]:
        """The sentence vectors of search rows [start, stop), in order: one read per run of rows whose
        sentence vectors follow each other in the chunks."""
        counts = np.diff(self.sentence_firsts[start : stop + 1])
        starts = self.sentence_starts[start:stop]
        breaks = np.flatnonzero(starts[1:] != starts[:-1] + counts[:-1]) + 1
        blocks = [
            self.sentences.physical_range(int(starts[a]), int(starts[b - 1] + counts[b - 1]))
            for a, b in zip([0, *breaks], [*breaks, len(starts)], strict=True)
            if b > a
        ]
        return np.concatenate(blocks) if blocks else np.empty((0, self.sentences.shape[1]), np.float32)

    def close(self) -> None:
        super().close()
        self.rows.close()


class _ReusableRows:
    """The previous search row that holds the vectors of an embedded text (by its embed hash). A file indexed
    before looks among its own previous passages only (one indexed query): editing one file of a million
    passages does not read a million hashes (2.2 s). Another file's passages could not serve it anyway, as
    the embedded text begins with the document's title. A new file looks among all the previous passages (a
    renamed or copied file reuses its vectors), read once, when first needed."""

    def __init__(self, catalog: Path, documents: dict[str, int]) -> None:
        self._catalog_path = catalog
        self._catalog: Catalog | None = None
        self._documents = documents  # path -> previous document id
        self._every: dict[str, int] | None = None
        self._path: str | None = None
        self._rows: dict[str, int] = {}

    def row(self, path: str, embed_hash: str) -> int | None:
        if path != self._path:
            self._path = path
            if self._catalog is None:
                self._catalog = Catalog(self._catalog_path)
            doc = self._documents.get(path)
            if doc is not None:
                self._rows = self._catalog.embed_hashes(doc)
            else:
                if self._every is None:
                    self._every = self._catalog.embed_hashes()
                self._rows = self._every
        return self._rows.get(embed_hash)

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None


def _previous_vectors(
    previous: Generation | None, model_id: str, documents: list[DocumentRecord] | None = None
) -> _PreviousVectors | None:
    """The vectors a new generation may reuse: the previous one's, when the model and the sentence
    vectors' version are the same. `documents`: its document records, when the caller read them already."""
    if previous is None or previous.manifest.get("model_id") != model_id:
        return None
    if not _has_sentence_vectors(previous.manifest):
        return None
    try:
        if documents is None:
            catalog = Catalog(previous.file(layout.CATALOG_FILE))
            try:
                documents = catalog.documents()
            finally:
                catalog.close()
        stored = open_stored_vectors(previous, int(previous.manifest["counts"]["searchable"]))
    except (ValueError, OSError, IndexStoreError):
        return None
    passage_chunks, sentence_chunks = chunk_names(previous.manifest)
    return _PreviousVectors(
        **vars(stored),
        generation=previous,
        rows=_ReusableRows(previous.file(layout.CATALOG_FILE), {record.path: record.doc for record in documents}),
        passage_rows=stored.passages.row_map(),
        passage_chunks=passage_chunks,
        sentence_chunks=sentence_chunks,
    )


def _link_chunks(writer: GenerationWriter, old: _PreviousVectors, count: int) -> bool:
    """Link the first `count` of the previous generation's passage and sentence chunks into the new one;
    False (and none linked) when the file system refuses hard links."""
    names = [*old.passage_chunks[:count], *old.sentence_chunks[:count]]
    try:
        for name in names:
            writer.link(old.generation, name)
    except OSError:
        for name in names:
            writer.unlink(name)
        return False
    return True


class _SharedChunks:
    """Where a new generation's vectors are when it links the previous generation's chunk files: each
    search row's row in the passage chunks and its first row in the sentence chunks, the previous
    generation's for a kept or reused passage whose chunk is linked, the new chunk's for one embedded now
    or kept from a chunk that is not linked (its vectors are copied there)."""

    def __init__(
        self, old: _PreviousVectors, linked: int, vectors: VectorFileWriter, sentence_vectors: VectorFileWriter
    ) -> None:
        self.old = old
        self.linked = linked  # the previous generation's first `linked` chunks are linked
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors
        # rows below these lie in the linked chunks; rows of the new chunks are numbered from there
        self.passage_base = sum(len(old.passages.chunk(i)) for i in range(linked))
        self.sentence_base = sum(len(old.sentences.chunk(i)) for i in range(linked))
        self.passage_rows = array("q")
        self.sentence_rows = array("q")
        self.new_passages = 0  # rows written to the new chunks so far
        self.new_sentences = 0

    def reuse(self, start: int, stop: int) -> None:
        """The previous generation's search rows [start, stop) come next."""
        rows = self.old.passage_rows[start:stop]
        starts = self.old.sentence_starts[start:stop]
        if not len(rows) or int(rows.max()) < self.passage_base:  # all in linked chunks
            self.passage_rows.frombytes(rows.tobytes())
            self.sentence_rows.frombytes(starts.tobytes())
            return
        firsts = self.old.sentence_firsts
        for offset, (row, first) in enumerate(zip(rows.tolist(), starts.tolist(), strict=True)):
            if row < self.passage_base:
                self.passage_rows.append(row)
                self.sentence_rows.append(first)
                continue
            old_row = start + offset
            count = int(firsts[old_row + 1] - firsts[old_row])
            local, local_sentence = self.new(count)
            self.vectors.write(local, self.old.passages.rows_at([old_row]))
            self.sentence_vectors.write(local_sentence, self.old.sentences.physical_range(first, first + count))

    def new(self, sentences: int) -> tuple[int, int]:
        """The next search row's vectors go to the new chunks, with `sentences` sentences: their rows there."""
        rows = self.new_passages, self.new_sentences
        self.passage_rows.append(self.passage_base + self.new_passages)
        self.sentence_rows.append(self.sentence_base + self.new_sentences)
        self.new_passages += 1
        self.new_sentences += sentences
        return rows


@dataclass(frozen=True)
class _PreparedPassage:
    span: PassageSpan
    text: str
    embed_text: str | None  # None for passages that are not searched (titles, fragments)
    tokens: list[str]
    sentences: list[tuple[int, int]]  # of a searched passage: `sentences_of(text)`
    sentence_terms: list[list[str]]  # `span_terms` of each sentence


@dataclass(frozen=True)
class _PreparedDocument:
    entry: FileEntry
    document: Document | None  # None: unreadable (skipped)
    skip_reason: str
    title: str
    title_from_text: bool
    passages: list[_PreparedPassage]


_END = object()


def _prepare(source: DocumentSource, entry: FileEntry, settings: IndexSettings) -> _PreparedDocument:
    """Read, split and tokenize one document (runs on the producer thread): its passages with their
    embedding text and BM25 tokens."""
    try:
        document = source.read(entry)
    except UnreadableDocument as exc:
        return _PreparedDocument(entry, None, str(exc), "", False, [])
    split = split_document(document.text, PurePosixPath(entry.path).name, document.title)
    title = split.title if settings.title_context and split.title_from_text else ""
    title_tokens = tokenize(title)
    section = ""  # the heading of the section the passage is in: context, like the title
    context_tokens = title_tokens
    table_header = ""  # the header row of the table the previous window ended inside of
    passages = []
    for span in split.passages:
        text = document.text[span.char_start : span.char_end]
        if span.kind == "heading" and settings.title_context:
            section = heading_text(text)
            context_tokens = title_tokens + tokenize(section)
        if span.searchable:
            sentences = sentences_of(text)
            # a later window of a long table is read under the header row that names its columns
            header = table_header if span.window > 1 and is_table_row(text) else ""
            tokens = context_tokens + tokenize(header) + tokenize(text)
            sentence_terms = [span_terms(text[start:end]) for start, end in sentences]
            embedded = embed_text(text, title, section, header)
            passages.append(_PreparedPassage(span, text, embedded, tokens, sentences, sentence_terms))
            ending = table_end(text, sentences) if span.window else None
            if ending is None or not ending.in_table:
                table_header = ""
            elif ending.header is not None:
                table_header = text[slice(*sentences[ending.header])]
            elif not (ending.all_rows and header):
                table_header = ""
        else:
            passages.append(_PreparedPassage(span, text, None, [], [], []))
    return _PreparedDocument(entry, document, "", split.title, split.title_from_text, passages)


@dataclass(frozen=True)
class _KeptDocument:
    """A file unchanged since the previous generation (same path, size and mtime; same settings, model and
    formats): its catalog rows, BM25 terms and vectors are copied from there, not read, split, tokenized
    or embedded again."""

    entry: FileEntry
    record: DocumentRecord  # as the previous generation stored it
    rows: tuple[int, int]  # its passages' rows there, [start, stop)
    search_rows: tuple[int, int]  # its searchable passages' rows there, [start, stop)


def _kept_documents(
    previous: Generation, entries: list[FileEntry], documents: list[DocumentRecord] | None = None
) -> dict[str, _KeptDocument]:
    """The previous generation's documents whose files have not changed (path -> document);
    `documents`: its document records, when they were read already."""
    catalog = Catalog(previous.file(layout.CATALOG_FILE))
    try:
        ranges = {
            doc: (first, count, search_first, searchable)
            for doc, first, count, search_first, searchable in catalog.document_row_ranges()
        }
        if documents is None:
            documents = catalog.documents()
    finally:
        catalog.close()
    wanted = {e.path: e for e in entries}
    kept = {}
    row = search_row = 0  # where the next document's passages begin (rows were given in document order)
    for record in documents:
        first, count, search_first, search_count = ranges.get(record.doc, (row, 0, None, 0))
        if first != row or (search_count and search_first != search_row):
            raise IndexStoreError("the previous catalog's rows are not in document order")
        entry = wanted.get(record.path)
        if entry is not None and (entry.size, entry.mtime_ns) == (record.size, record.mtime_ns):
            kept[record.path] = _KeptDocument(
                entry, record, (row, row + count), (search_row, search_row + search_count)
            )
        row, search_row = row + count, search_row + search_count
    return kept


def _produce(
    source: DocumentSource,
    entries: list[FileEntry],
    settings: IndexSettings,
    out: queue.Queue[object],
    stop: threading.Event,
    kept: dict[str, _KeptDocument],
) -> None:
    try:
        for entry in entries:
            if stop.is_set():
                return
            known = kept.get(entry.path)
            out.put(known if known is not None else _prepare(source, entry, settings))
        out.put(_END)
    except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
        out.put(exc)


class _Embedding:
    """Embeds pending passages, and their sentences, in chunks (sorted by length inside the embedder)
    straight into the files."""

    def __init__(self, embedder: Embedder, vectors: VectorFileWriter, sentence_vectors: VectorFileWriter) -> None:
        self.embedder = embedder
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors
        self.rows: list[int] = []
        self.texts: list[str] = []
        self.spans: list[list[tuple[int, int]]] = []  # sentences, as spans of the embedded text
        self.sentence_firsts: list[int] = []
        self.embedded = 0
        self.seconds = 0.0

    def add(self, row: int, text: str, spans: list[tuple[int, int]], sentence_first: int) -> None:
        self.rows.append(row)
        self.texts.append(text)
        self.spans.append(spans)
        self.sentence_firsts.append(sentence_first)

    def flush(self, progress: ProgressFn | None = None) -> None:
        if not self.rows:
            return
        started = time.perf_counter()
        embedded, sentences = embed_passages_and_sentences(self.embedder, self.texts, self.spans, progress)
        self.seconds += time.perf_counter() - started
        sentence_rows = [
            first + k for first, spans in zip(self.sentence_firsts, self.spans, strict=True) for k in range(len(spans))
        ]
        try:  # a NaN or misshapen vector would be searchable garbage: refuse it before anything is published
            if len(embedded) != len(self.rows):
                raise ValueError(f"{len(embedded)} vectors for {len(self.rows)} passages")
            if len(sentences) != len(sentence_rows):
                raise ValueError(f"{len(sentences)} vectors for {len(sentence_rows)} sentences")
            vectors = check_vectors(embedded, self.vectors.dimension)
            sentences = check_vectors(sentences, self.vectors.dimension)
        except ValueError as exc:
            raise ModelError(f"the model {self.embedder.model_id} returned unusable embeddings: {exc}") from None
        _write_runs(self.vectors, self.rows, vectors)
        _write_runs(self.sentence_vectors, sentence_rows, sentences)
        self.embedded += len(self.rows)
        self.rows, self.texts, self.spans, self.sentence_firsts = [], [], [], []
        crash_point("embedding")


def _runs(*sequences: Sequence[int]) -> Iterator[tuple[int, int]]:
    """(start, stop) index ranges over which every sequence (all the same length) goes up by one."""
    length = len(sequences[0])
    run_start = 0
    for i in range(1, length + 1):
        if i == length or any(seq[i] != seq[i - 1] + 1 for seq in sequences):
            yield run_start, i
            run_start = i


def _write_runs(vectors: VectorFileWriter, rows: list[int], block: npt.NDArray[np.float32]) -> None:
    """Write `block[i]` at row `rows[i]`; rows are ascending but may have gaps: one write per run."""
    for start, stop in _runs(rows):
        vectors.write(rows[start], block[start:stop])


class _Reuse:
    """Copies the vectors of unchanged passages from the previous generation in batches (one read per
    64 MiB of ascending old rows, one write per run of new rows), not row by row; their sentence vectors
    are copied one read and one write per run of consecutive passages. With `shared`, nothing is copied:
    the new generation points to the previous one's rows."""

    def __init__(
        self,
        old: _PreviousVectors,
        vectors: VectorFileWriter,
        sentence_vectors: VectorFileWriter,
        shared: _SharedChunks | None = None,
    ) -> None:
        self.old = old
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors
        self.shared = shared
        self.rows: list[int] = []
        self.old_rows: list[int] = []
        self.sentence_firsts: list[int] = []

    def sentence_count(self, old_row: int) -> int | None:
        """How many sentence vectors the previous generation holds for passage `old_row` (None: no such row)."""
        firsts = self.old.sentence_firsts
        return int(firsts[old_row + 1] - firsts[old_row]) if 0 <= old_row < len(self.old.passages) else None

    def add(self, row: int, old_row: int, sentence_first: int) -> None:
        if self.shared is not None:
            self.shared.reuse(old_row, old_row + 1)
            return
        self.rows.append(row)
        self.old_rows.append(old_row)
        self.sentence_firsts.append(sentence_first)
        if len(self.rows) >= REUSE_CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        old = np.asarray(self.old_rows, dtype=np.int64)
        order = np.argsort(old, kind="stable")
        block = np.empty((len(old), self.vectors.dimension), np.float32)
        block[order] = self.old.passages[old[order]]
        _write_runs(self.vectors, self.rows, block)
        for start, stop in _runs(self.old_rows, self.rows):  # consecutive passages: one read, one write
            sentences = self.old.sentence_block(int(old[start]), int(old[stop - 1]) + 1)
            self.sentence_vectors.write(self.sentence_firsts[start], sentences)
        self.rows, self.old_rows, self.sentence_firsts = [], [], []


COPY_CHUNK = 8192  # kept passages copied per step (their vectors, sentence vectors and BM25 terms)
PASSAGE_TERMS_VERSION = 1  # manifest["passage_terms"]: the BM25_PASSAGE_* files are there


@dataclass(frozen=True)
class _PreviousTerms:
    passages: PassageTerms
    sentences: StoredSentenceTerms

    def drop_pages(self) -> None:
        """Drop the pages read so far from the resident set (the arrays are memory-mapped, and an update
        reads them from start to end: at a million passages they would add ~750 MiB)."""
        p, s = self.passages, self.sentences
        drop_pages(p.term_ids, p.tfs, p.firsts, p.lengths, s.spans, s.firsts, s.terms)


def _load_previous_terms(previous: Generation) -> _PreviousTerms:
    """The previous generation's BM25 terms passage by passage, and its sentences' terms (memory-mapped)."""
    if (
        previous.manifest.get("passage_terms") != PASSAGE_TERMS_VERSION
        or previous.manifest.get("sentence_terms") != SENTENCE_TERMS_VERSION
    ):
        raise IndexStoreError("the previous index does not keep its passages' and sentences' terms")
    sentences = StoredSentenceTerms(
        previous.load_array(SENTENCE_SPANS_FILE),
        previous.load_array(SENTENCE_TERM_FIRSTS_FILE),
        previous.load_array(SENTENCE_TERMS_FILE),
    )
    if not sentences.check(int(previous.manifest["sentences"]["count"])):
        raise IndexStoreError("the previous index's sentence terms do not match its sentences")
    terms = PassageTerms(
        previous.load_array(layout.BM25_PASSAGE_TERMS_FILE),
        previous.load_array(layout.BM25_PASSAGE_TFS_FILE),
        previous.load_array(layout.BM25_PASSAGE_FIRSTS_FILE),
        previous.load_array(layout.BM25_PASSAGE_LENGTHS_FILE),
    )
    if not terms.check(int(previous.manifest["counts"]["searchable"])):
        raise IndexStoreError("the previous index's passage terms do not match its passages")
    return _PreviousTerms(terms, sentences)


@dataclass
class _Run:
    """Consecutive kept documents, as they were numbered in the previous generation and are now."""

    old_doc: int
    doc: int
    old_rows: list[int]  # [start, stop)
    row: int
    old_search_rows: list[int]  # [start, stop)
    search_row: int
    sentence_first: int


class _KeptRuns:
    """Copies kept documents from the previous generation one run of consecutive documents at a time: the
    catalog rows in one SQL statement, the BM25 terms as counted arrays (term ids mapped to the new
    vocabulary), passage and sentence vectors as row ranges. A run is copied before anything else is
    added (`flush`), so rows, postings and sentence rows all stay in order."""

    def __init__(
        self,
        previous: Generation,
        old_terms: _PreviousTerms,
        old_vectors: _PreviousVectors,
        catalog: CatalogWriter,
        bm25: BM25Builder,
        vectors: VectorFileWriter,
        sentence_vectors: VectorFileWriter,
        sentence_firsts: array[int],
        sentence_terms: SentenceTermsWriter,
        shared: _SharedChunks | None = None,
    ) -> None:
        self.previous = previous
        self.shared = shared
        self.old_terms = old_terms
        self.sentence_terms = sentence_terms
        self.old = old_vectors
        self.catalog = catalog
        self.bm25 = bm25
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors
        self.sentence_firsts = sentence_firsts
        self._term_map: npt.NDArray[np.intc] | None = None  # previous term id -> the builder's
        self._run: _Run | None = None
        self.moved: list[tuple[int, int, int]] = []  # (old search rows start, stop, new start) of each run

    def add(self, kept: _KeptDocument, doc: int, row: int, search_row: int, sentence_first: int) -> int:
        """Queue kept document `kept` as document `doc` at the given rows; returns its sentence count."""
        run = self._run
        if (
            run is not None
            and kept.record.doc == run.old_doc + (doc - run.doc)
            and kept.rows[0] == run.old_rows[1]
            and kept.search_rows[0] == run.old_search_rows[1]
        ):
            run.old_rows[1], run.old_search_rows[1] = kept.rows[1], kept.search_rows[1]
        else:
            self.flush()
            self._run = _Run(
                kept.record.doc, doc, list(kept.rows), row, list(kept.search_rows), search_row, sentence_first
            )
        firsts = self.old.sentence_firsts
        return int(firsts[kept.search_rows[1]] - firsts[kept.search_rows[0]])

    def _mapped(self, ids: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.int32]:
        """Term ids of the previous generation as the builder's (MISSING stays MISSING)."""
        if self._term_map is None:
            catalog = Catalog(self.previous.file(layout.CATALOG_FILE))
            try:
                self._term_map = self.bm25.term_ids(catalog.terms_by_id())
            finally:
                catalog.close()
        return remap_ids(ids, self._term_map)

    def _copy_sentence_terms(self, first: int, stop: int) -> None:
        """The previous generation's sentences [first, stop): spans and terms."""
        stored = self.old_terms.sentences
        bounds = stored.firsts[first : stop + 1]
        terms = stored.terms[int(bounds[0]) : int(bounds[-1])]
        self.sentence_terms.add_stored(stored.spans[first:stop], bounds, self._mapped(terms))

    def flush(self) -> None:
        run, self._run = self._run, None
        if run is None:
            return
        search_shift = run.search_row - run.old_search_rows[0]
        self.moved.append((run.old_search_rows[0], run.old_search_rows[1], run.search_row))
        self.catalog.copy_passages(
            (run.old_rows[0], run.old_rows[1]), run.row - run.old_rows[0], run.doc - run.old_doc, search_shift
        )
        firsts = self.old.sentence_firsts
        sentence_shift = run.sentence_first - int(firsts[run.old_search_rows[0]])
        for start in range(run.old_search_rows[0], run.old_search_rows[1], COPY_CHUNK):
            stop = min(start + COPY_CHUNK, run.old_search_rows[1])
            terms = self.old_terms.passages.passages(start, stop)
            self.bm25.add_counted(PassageTerms(self._mapped(terms.term_ids), terms.tfs, terms.firsts, terms.lengths))
            self.sentence_firsts.frombytes((firsts[start:stop] + sentence_shift).astype(np.int64).tobytes())
            sentences = int(firsts[start]), int(firsts[stop])
            if self.shared is not None:  # the vectors stay where they are, in the linked chunks
                self.shared.reuse(start, stop)
            elif (single := self.old.passages.single) is not None and self.old.sentences.single is not None:
                self.vectors.copy_rows(single, start, stop, start + search_shift)
                self.sentence_vectors.copy_rows(self.old.sentences.single, *sentences, sentences[0] + sentence_shift)
            else:  # compacting shared chunks: read through the maps, write in order
                self.vectors.write(start + search_shift, self.old.passages[start:stop])
                self.sentence_vectors.write(sentences[0] + sentence_shift, self.old.sentence_block(start, stop))
            self._copy_sentence_terms(*sentences)
            self.old_terms.drop_pages()


def _build_approximate_index(
    writer: GenerationWriter,
    previous: Generation | None,
    model_id: str,
    rows: int,
    reporter: BuildReporter,
    moved: list[tuple[int, int, int]] | None = None,
    chunks: tuple[list[str], npt.NDArray[np.int64] | None] = ([VECTORS_FILE], None),
) -> dict[str, Any]:
    """Above the exact-search limit, write an IVF-SQ8 index over the new vectors, reusing the previous
    generation's trained quantizer when the model is the same (an update never retrains). `moved`: the
    previous search rows an update copied, as (start, stop, new start) runs: their entries are moved
    rather than added again. `chunks`: the passage vector files and the row map (`index.vector_chunks`)."""
    if rows <= exact_search_limit():
        return {"kind": "flat"}
    index: Any = None
    if previous is not None and previous.manifest.get("model_id") == model_id:
        if previous.manifest.get("dense", {}).get("kind") == "ivf-sq8":
            with contextlib.suppress(ValueError, RuntimeError, OSError):
                index = read_ann(previous.file(ANN_FILE))
    import faiss

    faiss.omp_set_num_threads(max(1, os.cpu_count() or 1))  # building uses every core
    # The vectors are read, not memory-mapped: a mapping would add all 1.5 GiB of a million passages'
    # vectors to the resident set while the index is filled.
    with ChunkedVectors([writer.path / name for name in chunks[0]], chunks[1]) as vectors:
        trained = index is None
        if trained:
            reporter.note(f"training the approximate vector index for {rows:,} passages")
            index = train_ivf(vectors, vectors.shape[1])
        reporter.progress("vector index", 0, 1)
        searchable = int(previous.manifest["counts"]["searchable"]) if previous is not None else -1
        if not trained and moved is not None and index.ntotal == searchable:  # the previous entries, renumbered
            new_row_of = np.full(index.ntotal, -1, dtype=np.int64)
            copied = np.zeros(rows, dtype=bool)
            for start, stop, new_start in moved:
                new_row_of[start:stop] = np.arange(new_start, new_start + stop - start)
                copied[new_start : new_start + stop - start] = True
            move_ivf_entries(index, new_row_of)
            add_rows(index, vectors, np.flatnonzero(~copied))
        else:
            fill_ivf(index, vectors)
    write_ann(index, writer.path / ANN_FILE)
    reporter.progress("vector index", 1, 1)
    faiss.omp_set_num_threads(1)  # back to single-threaded queries
    return {"kind": "ivf-sq8", "nlist": int(index.nlist), "nprobe": int(index.nprobe)}


def _write_bm25(writer: GenerationWriter, bm25: BM25Builder) -> BM25Arrays:
    """Compute the BM25 postings straight into the generation's memory-mapped `.npy` files (no copy of
    the 63 M-posting arrays of a 1M-passage corpus is ever held in memory), then each passage's terms and
    counts (what the next update copies for unchanged passages). The returned arrays hold the vocabulary
    and statistics, not the postings."""
    rows = writer.create_array(layout.BM25_ROWS_FILE, bm25.postings, np.int32)
    weights = writer.create_array(layout.BM25_WEIGHTS_FILE, bm25.postings, WEIGHT_DTYPE)
    arrays = bm25.finish(rows, weights)
    rows.flush()
    weights.flush()
    writer.seal(layout.BM25_ROWS_FILE, layout.BM25_WEIGHTS_FILE)
    writer.save_array(layout.BM25_INDPTR_FILE, arrays.indptr)
    # Unmap the postings now: their written pages (12 bytes a posting) would stay resident while the rest
    # of the generation is written.
    del rows, weights
    arrays = replace(arrays, rows=np.empty(0, np.int32), weights=np.empty(0, WEIGHT_DTYPE))
    writer.stream_array(layout.BM25_PASSAGE_TERMS_FILE, bm25.postings, np.int32, bm25.passage_term_blocks())
    count_type = np.uint16 if bm25.max_tf() <= 0xFFFF else np.int32
    writer.stream_array(layout.BM25_PASSAGE_TFS_FILE, bm25.postings, count_type, bm25.passage_term_blocks(counts=True))
    firsts, lengths = bm25.passage_bounds()
    writer.save_array(layout.BM25_PASSAGE_FIRSTS_FILE, firsts)
    writer.save_array(layout.BM25_PASSAGE_LENGTHS_FILE, lengths)
    return arrays


def build_generation(
    source: DocumentSource,
    entries: list[FileEntry],
    index_dir: Path,
    embedder: Embedder,
    reporter: BuildReporter,
    settings: IndexSettings,
    previous: Generation | None = None,
    reread: bool = False,
    previous_documents: list[DocumentRecord] | None = None,
) -> tuple[Generation, BuildStats]:
    """Write a complete new generation, streaming: documents are read, split and tokenized on a
    producer thread while this thread embeds (torch releases the GIL), and passages, postings and
    vectors go to disk as they come, so memory stays bounded by one embedding chunk plus compact
    BM25 arrays. Files unchanged since `previous` (same size and mtime, same settings, model and formats)
    are not read again: their catalog rows, BM25 terms and vectors are copied from it, one run of
    consecutive files at a time (`_KeptRuns`); `reread` reads every file (vectors are still reused);
    `previous_documents`: the previous generation's document records, when the caller read them already."""
    started = time.perf_counter()
    old_vectors = _previous_vectors(previous, embedder.model_id, previous_documents)
    same_settings = previous is not None and previous.manifest.get("settings") == settings.as_manifest()
    kept: dict[str, _KeptDocument] = {}
    old_terms = None
    if previous is not None and same_settings and old_vectors is not None and not reread:
        try:
            old_terms = _load_previous_terms(previous)
            kept = _kept_documents(previous, entries, previous_documents)
        except (ValueError, OSError, sqlite3.Error, IndexStoreError):
            kept = {}  # an unreadable or older previous index: every file is read (vectors still reused)
    writer = GenerationWriter(index_dir)
    # An update that keeps most vectors links the previous generation's vector files and writes only the
    # new vectors, into new chunk files (`index.vector_chunks`); a first build, or chunks that are many or
    # mostly garbage, write one chunk of each in search-row order.
    linked = old_vectors.chunks_to_link() if old_vectors is not None else 0
    if old_vectors is not None and linked and not _link_chunks(writer, old_vectors, linked):
        linked = 0  # a file system without hard links: the vectors are copied
    suffix = f"-{secrets.token_hex(4)}" if linked else ""
    vectors_name = VECTORS_FILE.replace(".npy", f"{suffix}.npy")
    sentence_vectors_name = SENTENCE_VECTORS_FILE.replace(".npy", f"{suffix}.npy")
    try:
        catalog = CatalogWriter(
            writer.path / layout.CATALOG_FILE, previous.file(layout.CATALOG_FILE) if kept and previous else None
        )
        vectors = VectorFileWriter(writer.path / vectors_name, embedder.dimension)
        sentence_vectors = VectorFileWriter(writer.path / sentence_vectors_name, embedder.dimension, SENTENCE_DTYPE)
        writer.mark_shareable(vectors_name)  # the next update links them
        writer.mark_shareable(sentence_vectors_name)
        sentence_terms = SentenceTermsWriter(writer.path)
        shared = None
        if old_vectors is not None and linked:
            shared = _SharedChunks(old_vectors, linked, vectors, sentence_vectors)
    except (OSError, sqlite3.Error) as exc:
        writer.abort()
        if old_vectors is not None:
            old_vectors.close()
        raise IndexStoreError(f"cannot write the index in {index_dir}: {exc}") from None
    bm25 = BM25Builder(settings.bm25)
    embedding = _Embedding(embedder, vectors, sentence_vectors)
    reuse = _Reuse(old_vectors, vectors, sentence_vectors, shared) if old_vectors is not None else None
    sentence_firsts = array("q")  # first sentence row of each search row (then the total)
    kept_runs = None
    if kept and previous is not None and old_terms is not None and old_vectors is not None:
        kept_runs = _KeptRuns(
            previous, old_terms, old_vectors, catalog, bm25, vectors, sentence_vectors, sentence_firsts, sentence_terms,
            shared,
        )  # fmt: skip
    sentence_count = 0
    fingerprint = hashlib.sha256()
    prepared: queue.Queue[object] = queue.Queue(maxsize=256)
    stop = threading.Event()
    producer = threading.Thread(
        target=_produce,
        args=(source, entries, settings, prepared, stop, kept),
        name="qa-index-reader",
        daemon=True,
    )
    producer.start()
    documents = skipped = rows = search_rows = 0
    total_bytes = sum(entry.size for entry in entries)
    done_bytes = pending_bytes = 0  # files whose passages are all stored; files waiting for embedding

    def embedding_progress(embedded: int, queued: int) -> None:
        """While a chunk is embedded, the files waiting for it advance with the passages done."""
        reporter.progress(INDEXING, done_bytes + pending_bytes * embedded // max(queued, 1), total_bytes)

    def store_document(entry: FileEntry, title: str, title_from_text: bool, sha256: str, size: int) -> int:
        """Catalog a document (its passages follow); returns its number."""
        nonlocal documents
        fingerprint.update(f"{entry.path}\x00{sha256}\n".encode("utf-8", "surrogateescape"))
        record = DocumentRecord(
            documents, entry.path, entry.abs_path, title, title_from_text, sha256, size, entry.mtime_ns
        )
        catalog.add_document(record)
        documents += 1
        return record.doc

    def document_stored(size: int) -> None:
        """A file's passages are queued or stored: embed a full chunk, advance the progress."""
        nonlocal done_bytes, pending_bytes
        pending_bytes += size
        if len(embedding.rows) >= EMBED_CHUNK:
            embedding.flush(embedding_progress)
        if not embedding.rows:
            done_bytes, pending_bytes = done_bytes + pending_bytes, 0
            reporter.progress(INDEXING, done_bytes, total_bytes)

    try:
        reporter.progress(INDEXING, 0, total_bytes)
        while True:
            item = prepared.get()
            raise_if_interrupted()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, _KeptDocument) and kept_runs is not None:
                entry, record = item.entry, item.record
                doc = store_document(entry, record.title, record.title_from_text, record.sha256, record.size)
                sentence_count += kept_runs.add(item, doc, rows, search_rows, sentence_count)
                rows += item.rows[1] - item.rows[0]
                search_rows += item.search_rows[1] - item.search_rows[0]
                document_stored(entry.size)
                continue
            if not isinstance(item, _PreparedDocument):
                raise TypeError(f"unexpected item from the reader thread: {item!r}")
            if kept_runs is not None:
                kept_runs.flush()  # what came before this document is stored before it
            entry = item.entry
            if item.document is None:
                reporter.warn(f"skipped {entry.path}: {item.skip_reason}")
                catalog.add_skipped(SkippedRecord(entry.path, entry.size, entry.mtime_ns, item.skip_reason))
                skipped += 1
            else:
                document = item.document
                doc = store_document(entry, item.title, item.title_from_text, document.sha256, document.size)
                for passage in item.passages:
                    search_row: int | None = None
                    embed_hash: str | None = None
                    if passage.embed_text is not None:
                        search_row = search_rows
                        search_rows += 1
                        embed_hash = _embed_hash(embedder.model_id, passage.embed_text)
                        bm25.add(passage.tokens)
                        spans = passage.sentences
                        sentence_terms.add(spans, [bm25.ids_of(terms) for terms in passage.sentence_terms])
                        first = sentence_count
                        sentence_firsts.append(first)
                        sentence_count += len(spans)
                        old = old_vectors.rows.row(entry.path, embed_hash) if old_vectors is not None else None
                        if reuse is not None and old is not None and reuse.sentence_count(old) == len(spans):
                            # the same embedded text, split by the same splitter (the manifest's sentences
                            # version): its vectors are the previous generation's
                            reuse.add(search_row, old, first)
                        else:
                            shift = len(passage.embed_text) - len(passage.text)  # title, section before the text
                            shifted = [(start + shift, end + shift) for start, end in spans]
                            if shared is not None:  # written to the new chunks, after the rows written so far
                                chunk_row, chunk_sentence = shared.new(len(spans))
                                embedding.add(chunk_row, passage.embed_text, shifted, chunk_sentence)
                            else:
                                embedding.add(search_row, passage.embed_text, shifted, first)
                    span = passage.span
                    catalog.add_passage(
                        PassageRecord(
                            row=rows, id=f"{entry.path}#{span.local_id()}", doc=doc,
                            paragraph=span.paragraph, window=span.window, kind=span.kind,
                            line_start=span.line_start, line_end=span.line_end,
                            char_start=span.char_start, char_end=span.char_end, text=passage.text,
                            search_row=search_row, embed_hash=embed_hash,
                        )
                    )  # fmt: skip
                    rows += 1
            document_stored(entry.size)
        if kept_runs is not None:
            kept_runs.flush()
        crash_point("read")
        embedding.flush(embedding_progress)
        if reuse is not None:
            reuse.flush()
        done_bytes, pending_bytes = done_bytes + pending_bytes, 0
        reporter.progress(INDEXING, done_bytes, total_bytes)
        if documents == 0:
            raise CorpusError(f"no readable documents in {source.identity} (every file was skipped)")
        if search_rows == 0:
            raise CorpusError(f"no passages to search in {source.identity} (only titles and fragments)")
        chunks: dict[str, list[str]] | None = None
        passage_map: npt.NDArray[np.int64] | None = None
        if shared is None:
            vectors.finish(search_rows)
            sentence_vectors.finish(sentence_count)
        else:
            vectors.finish(shared.new_passages)
            sentence_vectors.finish(shared.new_sentences)
            chunks = {
                "passages": shared.old.passage_chunks[: shared.linked],
                "sentences": shared.old.sentence_chunks[: shared.linked],
            }
            if shared.new_passages:
                chunks["passages"].append(vectors_name)
                chunks["sentences"].append(sentence_vectors_name)
            else:  # nothing embedded: no new chunk
                writer.unlink(vectors_name)
                writer.unlink(sentence_vectors_name)
            passage_map = np.frombuffer(shared.passage_rows, dtype=np.int64)
            if len(passage_map) != search_rows or len(shared.sentence_rows) != search_rows:
                raise RuntimeError(f"{len(passage_map)} vector rows mapped for {search_rows} passages")
            writer.save_array(PASSAGE_ROWS_FILE, passage_map)
            writer.save_array(SENTENCE_ROWS_FILE, np.frombuffer(shared.sentence_rows, dtype=np.int64))
        if shared is None or shared.new_passages:
            writer.seal(vectors_name, sentence_vectors_name)
        sentence_firsts.append(sentence_count)
        writer.save_array(SENTENCE_FIRSTS_FILE, np.frombuffer(sentence_firsts, dtype=np.int64))
        raise_if_interrupted()
        arrays = _write_bm25(writer, bm25)
        if sentence_terms.sentences != sentence_count:
            raise RuntimeError(f"{sentence_terms.sentences} sentences' terms for {sentence_count} sentences")
        sentence_terms.finish(writer, bm25.final_ids)
        del bm25  # its postings buffers (8 bytes per posting) are not needed any more
        catalog.add_terms(
            (term, i, int(arrays.doc_freq[i]), float(arrays.idf[i])) for i, term in enumerate(arrays.terms)
        )
        catalog.close()
        writer.seal(layout.CATALOG_FILE)
        crash_point("catalog")
        n_terms = len(arrays.terms)
        bm25_stats = {"n_docs": arrays.n_docs, "avgdl": arrays.avgdl, "average_idf": arrays.average_idf}
        del arrays
        moved = kept_runs.moved if kept_runs is not None else None
        dense_chunks = ([VECTORS_FILE], None) if chunks is None else (chunks["passages"], passage_map)
        dense = _build_approximate_index(
            writer, previous, embedder.model_id, search_rows, reporter, moved, dense_chunks
        )
        manifest = {
            "corpus_root": source.identity,
            "corpus_fingerprint": fingerprint.hexdigest(),
            "model_id": embedder.model_id,
            "dimension": embedder.dimension,
            "tokenizer_version": TOKENIZER_VERSION,
            "settings": settings.as_manifest(),
            "counts": {
                "documents": documents,
                "skipped": skipped,
                "passages": rows,
                "searchable": search_rows,
                "terms": n_terms,
            },
            "bm25": bm25_stats,
            "passage_terms": PASSAGE_TERMS_VERSION,
            "sentence_terms": SENTENCE_TERMS_VERSION,
            "dense": dense,
            **({} if chunks is None else {"vector_chunks": chunks}),
            "sentences": {
                "version": SENTENCES_VERSION,
                "count": sentence_count,
                "dtype": np.dtype(SENTENCE_DTYPE).name,
            },
        }
        generation = writer.publish(manifest)
    except BaseException as exc:
        stop.set()
        while producer.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                prepared.get(timeout=0.05)
        catalog.abort()
        vectors.abort()
        sentence_vectors.abort()
        sentence_terms.abort()
        writer.abort()
        if old_vectors is not None:
            old_vectors.close()
        if isinstance(exc, sqlite3.Error):  # disk full, I/O error: one clear message, the old index stays
            raise IndexStoreError(f"cannot write the index catalog in {index_dir}: {exc}") from None
        raise
    if old_vectors is not None:
        old_vectors.close()
    stats = BuildStats(
        documents=documents,
        passages=search_rows,
        embedded=embedding.embedded,
        reused=search_rows - embedding.embedded,
        seconds=time.perf_counter() - started,
    )
    if embedding.embedded:
        reporter.note(embedded_note(embedding.embedded, embedding.seconds))
    return generation, stats
