"""Bring the index of a corpus up to date: detect changes, re-embed only what changed, publish atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import sqlite3
import threading
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from index import corpus_index as layout
from index.ann import ANN_FILE, exact_search_limit, fill_ivf, read_ann, train_ivf, write_ann
from index.bm25 import WEIGHT_DTYPE, BM25Arrays, BM25Builder, BM25Params
from index.catalog import Catalog, CatalogWriter, DocumentRecord, PassageRecord, SkippedRecord
from index.corpus import Document, DocumentSource, FileEntry, UnreadableDocument
from index.corpus_index import CorpusIndex
from index.dense import check_vectors
from index.embed import Embedder, ProgressFn, embed_passages_and_sentences
from index.errors import CorpusError, IndexStoreError, ModelError
from index.interrupts import deferred_interrupts, raise_if_interrupted
from index.paragraphs import PassageKind, PassageSpan, split_document
from index.sentences import SENTENCES_VERSION, sentences_of
from index.stages import INDEXING
from index.store import (
    Generation,
    GenerationWriter,
    crash_point,
    current_generation,
    update_lock,
    write_errors_reported,
)
from index.tokenize import TOKENIZER_VERSION, tokenize
from index.vector_file import VectorFileReader, VectorFileWriter

SPLITTER_VERSION = "paragraphs/1"
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
    title_context: bool = True  # the document title is part of every passage's BM25 text and embedding
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


def embed_text(title: str, text: str, use_title: bool) -> str:
    return f"{title}. {text}" if use_title else text


def _embed_hash(model_id: str, text: str) -> str:
    return hashlib.sha256(f"{model_id}\x00{text}".encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _why_stale(
    generation: Generation,
    catalog: Catalog,
    entries: list[FileEntry],
    identity: str,
    model_id: str,
    settings: IndexSettings,
) -> str | None:
    """Why the generation cannot serve this corpus and model as it is, or None when it can."""
    manifest = generation.manifest
    if manifest.get("corpus_root") != identity:
        return f"the index in this folder belongs to another corpus ({manifest.get('corpus_root')})"
    if manifest.get("model_id") != model_id:
        return f"the model changed ({manifest.get('model_id')} -> {model_id})"
    if manifest.get("settings") != settings.as_manifest():
        return "the index settings or format changed"
    if not _has_sentence_vectors(manifest):
        return "the sentence vectors' format changed"
    indexed = {(d.path, d.size, d.mtime_ns) for d in catalog.documents()}
    indexed |= {(s.path, s.size, s.mtime_ns) for s in catalog.skipped()}
    found = {(e.path, e.size, e.mtime_ns) for e in entries}
    if indexed != found:
        return "the corpus changed"
    return None


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
        raise CorpusError(f"no .txt or .md files in {source.identity}")

    def usable() -> tuple[CorpusIndex | None, Generation | None, str]:
        try:
            generation = current_generation(index_dir)
        except IndexStoreError as exc:
            return None, None, f"{exc}; rebuilding it"
        if generation is None:
            return None, None, ""
        try:
            loaded = CorpusIndex(generation)
        except IndexStoreError as exc:
            return None, None, f"{exc}; rebuilding it"
        reason = _why_stale(generation, loaded.catalog, entries, source.identity, embedder.model_id, settings)
        if reason is None and not rebuild:
            return loaded, generation, ""
        loaded.close()
        return None, generation, reason or "rebuild requested"

    loaded, _, _ = usable()
    if loaded is not None:
        return loaded
    with deferred_interrupts(), write_errors_reported(index_dir), update_lock(index_dir, reporter.note):
        loaded, previous, reason = usable()  # another process may have finished the work meanwhile
        if loaded is not None:
            return loaded
        if reason:
            reporter.note(f"updating the index: {reason}")
        else:
            reporter.note(f"building the index of {source.identity} in {index_dir}")
        generation, stats = build_generation(
            source, entries, index_dir, embedder, reporter, settings, previous, reread=rebuild
        )
        reporter.note(
            f"indexed {stats.documents} documents, {stats.passages} passages "
            f"({stats.embedded} embedded, {stats.reused} reused) in {stats.seconds:.1f} s"
        )
        return CorpusIndex(generation)


def _has_sentence_vectors(manifest: dict[str, Any]) -> bool:
    return bool(manifest.get("sentences", {}).get("version") == SENTENCES_VERSION)


@dataclass
class _PreviousVectors:
    """The previous generation's passage and sentence vectors, read row by row (not memory-mapped, so
    reusing a million vectors does not make them all resident)."""

    rows: dict[str, int]  # embed_hash -> passage row
    passages: VectorFileReader
    sentences: VectorFileReader
    sentence_firsts: npt.NDArray[np.int64]

    def close(self) -> None:
        self.passages.close()
        self.sentences.close()


def _previous_vectors(previous: Generation | None, model_id: str) -> _PreviousVectors | None:
    """The vectors a new generation may reuse: the previous one's, when the model and the sentence
    vectors' version are the same."""
    if previous is None or previous.manifest.get("model_id") != model_id:
        return None
    if not _has_sentence_vectors(previous.manifest):
        return None
    passages = sentences = None
    try:
        catalog = Catalog(previous.file(layout.CATALOG_FILE))
        hashes = catalog.embed_hashes()
        catalog.close()
        firsts = np.load(previous.file(layout.SENTENCE_FIRSTS_FILE), allow_pickle=False)
        passages = VectorFileReader(previous.file(layout.VECTORS_FILE))
        sentences = VectorFileReader(previous.file(layout.SENTENCE_VECTORS_FILE))
        if len(firsts) != len(passages) + 1 or int(firsts[-1]) != len(sentences):
            raise ValueError("sentence vectors do not match the passages")
        return _PreviousVectors(hashes, passages, sentences, firsts.astype(np.int64))
    except (ValueError, OSError, IndexStoreError):
        for reader in (passages, sentences):
            if reader is not None:
                reader.close()
        return None


@dataclass(frozen=True)
class _PreparedPassage:
    span: PassageSpan
    text: str
    embed_text: str | None  # None for passages that are not searched (titles, fragments)
    tokens: list[str]


@dataclass(frozen=True)
class _DocumentFacts:
    sha256: str  # of the raw bytes
    size: int


@dataclass(frozen=True)
class _PreparedDocument:
    entry: FileEntry
    document: Document | _DocumentFacts | None  # None: unreadable (skipped)
    skip_reason: str
    title: str
    title_from_text: bool
    passages: list[_PreparedPassage]


_END = object()


def _prepare(source: DocumentSource, entry: FileEntry, settings: IndexSettings) -> _PreparedDocument:
    """Read, split and tokenize one document (runs on the producer thread)."""
    try:
        document = source.read(entry)
    except UnreadableDocument as exc:
        return _PreparedDocument(entry, None, str(exc), "", False, [])
    split = split_document(document.text, PurePosixPath(entry.path).name, document.title)
    spans = [(span, document.text[span.char_start : span.char_end]) for span in split.passages]
    return _tokenized(entry, document, split.title, split.title_from_text, spans, settings)


def _tokenized(
    entry: FileEntry,
    document: Document | _DocumentFacts,
    title: str,
    title_from_text: bool,
    spans: list[tuple[PassageSpan, str]],
    settings: IndexSettings,
) -> _PreparedDocument:
    """A split document's passages with their embedding text and BM25 tokens."""
    use_title = settings.title_context and title_from_text
    title_tokens = tokenize(title) if use_title else []
    passages = []
    for span, text in spans:
        if span.searchable:
            tokens = title_tokens + tokenize(text)
            passages.append(_PreparedPassage(span, text, embed_text(title, text, use_title), tokens))
        else:
            passages.append(_PreparedPassage(span, text, None, []))
    return _PreparedDocument(entry, document, "", title, title_from_text, passages)


class _UnchangedDocuments:
    """The previous generation's passages of files whose size and mtime have not changed: an update takes
    their split from the previous catalog instead of reading and splitting the file again (the same rule
    that lets an unchanged corpus be served as it is). Used on the producer thread only."""

    def __init__(self, previous: Generation, entries: list[FileEntry]) -> None:
        self._catalog = Catalog(previous.file(layout.CATALOG_FILE))
        self._stream: Iterator[PassageRecord] | None = None  # opened at the first unchanged file
        self._ahead: PassageRecord | None = None
        wanted = {(e.path, e.size, e.mtime_ns) for e in entries}
        try:
            self._known = {d.path: d for d in self._catalog.documents() if (d.path, d.size, d.mtime_ns) in wanted}
        except BaseException:
            self._catalog.close()
            raise

    def prepared(self, entry: FileEntry, settings: IndexSettings) -> _PreparedDocument | None:
        record = self._known.get(entry.path)  # same path, size and mtime (paths are unique)
        if record is None:
            return None
        spans = [
            (
                PassageSpan(
                    p.paragraph, p.window, p.char_start, p.char_end, p.line_start, p.line_end, cast(PassageKind, p.kind)
                ),
                p.text,
            )
            for p in self._passages_of(record.doc)
        ]
        facts = _DocumentFacts(record.sha256, record.size)
        return _tokenized(entry, facts, record.title, record.title_from_text, spans, settings)

    def _passages_of(self, doc: int) -> list[PassageRecord]:
        """Document `doc`'s passages from one cursor over the whole catalog in document order (files come
        in the order they were indexed, so it only moves forward); a query when asked out of order."""
        if self._stream is None:
            self._stream = self._catalog.passages_in_document_order()
            self._ahead = next(self._stream, None)
        if self._ahead is None or self._ahead.doc > doc:  # passed already (or beyond the end)
            return self._catalog.passages_of_document(doc)
        while self._ahead is not None and self._ahead.doc < doc:
            self._ahead = next(self._stream, None)
        found = []
        while self._ahead is not None and self._ahead.doc == doc:
            found.append(self._ahead)
            self._ahead = next(self._stream, None)
        return found

    def close(self) -> None:
        self._stream, self._ahead = None, None
        self._catalog.close()


def _produce(
    source: DocumentSource,
    entries: list[FileEntry],
    settings: IndexSettings,
    out: queue.Queue[object],
    stop: threading.Event,
    previous: Generation | None = None,
) -> None:
    unchanged = None
    try:
        if previous is not None:
            try:
                unchanged = _UnchangedDocuments(previous, entries)
            except (ValueError, OSError, sqlite3.Error, IndexStoreError):
                unchanged = None  # an unreadable previous catalog: read every file
        for entry in entries:
            if stop.is_set():
                return
            known = unchanged.prepared(entry, settings) if unchanged is not None else None
            out.put(known if known is not None else _prepare(source, entry, settings))
        out.put(_END)
    except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
        out.put(exc)
    finally:
        if unchanged is not None:
            unchanged.close()


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
    are copied one read and one write per run of consecutive passages."""

    def __init__(self, old: _PreviousVectors, vectors: VectorFileWriter, sentence_vectors: VectorFileWriter) -> None:
        self.old = old
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors
        self.rows: list[int] = []
        self.old_rows: list[int] = []
        self.sentence_firsts: list[int] = []

    def sentence_count(self, old_row: int) -> int | None:
        """How many sentence vectors the previous generation holds for passage `old_row` (None: no such row)."""
        firsts = self.old.sentence_firsts
        return int(firsts[old_row + 1] - firsts[old_row]) if 0 <= old_row < len(self.old.passages) else None

    def add(self, row: int, old_row: int, sentence_first: int) -> None:
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
        firsts = self.old.sentence_firsts
        for start, stop in _runs(self.old_rows, self.rows):  # consecutive passages: one read, one write
            sentences = self.old.sentences.row_range(int(firsts[old[start]]), int(firsts[old[stop - 1] + 1]))
            self.sentence_vectors.write(self.sentence_firsts[start], sentences)
        self.rows, self.old_rows, self.sentence_firsts = [], [], []


def _build_approximate_index(
    writer: GenerationWriter, previous: Generation | None, model_id: str, rows: int, reporter: BuildReporter
) -> dict[str, Any]:
    """Above the exact-search limit, write an IVF-SQ8 index over the new vectors, reusing the previous
    generation's trained quantizer when the model is the same (an update never retrains)."""
    if rows <= exact_search_limit():
        return {"kind": "flat"}
    index = None
    if previous is not None and previous.manifest.get("model_id") == model_id:
        if previous.manifest.get("dense", {}).get("kind") == "ivf-sq8":
            with contextlib.suppress(ValueError, RuntimeError, OSError):
                index = read_ann(previous.file(ANN_FILE))
    import faiss

    faiss.omp_set_num_threads(max(1, os.cpu_count() or 1))  # building uses every core
    # The vectors are read, not memory-mapped: a mapping would add all 1.5 GiB of a million passages'
    # vectors to the resident set while the index is filled.
    with VectorFileReader(writer.path / layout.VECTORS_FILE) as vectors:
        if index is None:
            reporter.note(f"training the approximate vector index for {rows:,} passages")
            index = train_ivf(vectors, vectors.shape[1])
        reporter.progress("vector index", 0, 1)
        fill_ivf(index, vectors)
    write_ann(index, writer.path / ANN_FILE)
    reporter.progress("vector index", 1, 1)
    faiss.omp_set_num_threads(1)  # back to single-threaded queries
    return {"kind": "ivf-sq8", "nlist": int(index.nlist), "nprobe": int(index.nprobe)}


def _write_bm25(writer: GenerationWriter, bm25: BM25Builder) -> BM25Arrays:
    """Compute the BM25 postings straight into the generation's memory-mapped `.npy` files (no copy of
    the 63 M-posting arrays of a 1M-passage corpus is ever held in memory)."""
    rows = writer.create_array(layout.BM25_ROWS_FILE, bm25.postings, np.int32)
    weights = writer.create_array(layout.BM25_WEIGHTS_FILE, bm25.postings, WEIGHT_DTYPE)
    arrays = bm25.finish(rows, weights)
    rows.flush()
    weights.flush()
    writer.save_array(layout.BM25_INDPTR_FILE, arrays.indptr)
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
) -> tuple[Generation, BuildStats]:
    """Write a complete new generation, streaming: documents are read, split and tokenized on a
    producer thread while this thread embeds (torch releases the GIL), and passages, postings and
    vectors go to disk as they come, so memory stays bounded by one embedding chunk plus compact
    BM25 arrays. Files unchanged since `previous` (same size and mtime, same settings) are not read
    again: their passages come from its catalog (`reread` reads every file)."""
    started = time.perf_counter()
    old_vectors = _previous_vectors(previous, embedder.model_id)
    old_rows = old_vectors.rows if old_vectors is not None else {}
    same_settings = previous is not None and previous.manifest.get("settings") == settings.as_manifest()
    split_from = previous if same_settings and not reread else None
    writer = GenerationWriter(index_dir)
    try:
        catalog = CatalogWriter(writer.path / layout.CATALOG_FILE)
        vectors = VectorFileWriter(writer.path / layout.VECTORS_FILE, embedder.dimension)
        sentence_vectors = VectorFileWriter(
            writer.path / layout.SENTENCE_VECTORS_FILE, embedder.dimension, SENTENCE_DTYPE
        )
    except (OSError, sqlite3.Error) as exc:
        writer.abort()
        if old_vectors is not None:
            old_vectors.close()
        raise IndexStoreError(f"cannot write the index in {index_dir}: {exc}") from None
    bm25 = BM25Builder(settings.bm25)
    embedding = _Embedding(embedder, vectors, sentence_vectors)
    reuse = _Reuse(old_vectors, vectors, sentence_vectors) if old_vectors is not None else None
    sentence_firsts = array("q")  # first sentence row of each search row (then the total)
    sentence_count = 0
    fingerprint = hashlib.sha256()
    prepared: queue.Queue[object] = queue.Queue(maxsize=256)
    stop = threading.Event()
    producer = threading.Thread(
        target=_produce,
        args=(source, entries, settings, prepared, stop, split_from),
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

    try:
        reporter.progress(INDEXING, 0, total_bytes)
        while True:
            item = prepared.get()
            raise_if_interrupted()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            if not isinstance(item, _PreparedDocument):
                raise TypeError(f"unexpected item from the reader thread: {item!r}")
            entry = item.entry
            if item.document is None:
                reporter.warn(f"skipped {entry.path}: {item.skip_reason}")
                catalog.add_skipped(SkippedRecord(entry.path, entry.size, entry.mtime_ns, item.skip_reason))
                skipped += 1
            else:
                doc = documents
                documents += 1
                document = item.document
                fingerprint.update(f"{entry.path}\x00{document.sha256}\n".encode("utf-8", "surrogateescape"))
                catalog.add_document(
                    DocumentRecord(
                        doc, entry.path, entry.abs_path, item.title, item.title_from_text,
                        document.sha256, document.size, entry.mtime_ns,
                    )
                )  # fmt: skip
                for passage in item.passages:
                    search_row: int | None = None
                    embed_hash: str | None = None
                    if passage.embed_text is not None:
                        search_row = search_rows
                        search_rows += 1
                        embed_hash = _embed_hash(embedder.model_id, passage.embed_text)
                        bm25.add(passage.tokens)
                        first = sentence_count
                        sentence_firsts.append(first)
                        old = old_rows.get(embed_hash)
                        if reuse is not None and old is not None and (reused := reuse.sentence_count(old)) is not None:
                            # the same embedded text, split by the same splitter (the manifest's sentences
                            # version): its sentence count, and vectors, are the previous generation's
                            sentence_count += reused
                            reuse.add(search_row, old, first)
                        else:
                            spans = sentences_of(passage.text)
                            sentence_count += len(spans)
                            shift = len(passage.embed_text) - len(passage.text)  # the title before the text
                            shifted = [(start + shift, end + shift) for start, end in spans]
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
            pending_bytes += entry.size
            if len(embedding.rows) >= EMBED_CHUNK:
                embedding.flush(embedding_progress)
            if not embedding.rows:
                done_bytes, pending_bytes = done_bytes + pending_bytes, 0
                reporter.progress(INDEXING, done_bytes, total_bytes)
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
        vectors.finish(search_rows)
        sentence_vectors.finish(sentence_count)
        sentence_firsts.append(sentence_count)
        writer.save_array(layout.SENTENCE_FIRSTS_FILE, np.frombuffer(sentence_firsts, dtype=np.int64))
        raise_if_interrupted()
        arrays = _write_bm25(writer, bm25)
        del bm25  # its postings buffers (8 bytes per posting) are not needed any more
        catalog.add_terms(
            (term, i, int(arrays.doc_freq[i]), float(arrays.idf[i])) for i, term in enumerate(arrays.terms)
        )
        catalog.close()
        crash_point("catalog")
        n_terms = len(arrays.terms)
        bm25_stats = {"n_docs": arrays.n_docs, "avgdl": arrays.avgdl, "average_idf": arrays.average_idf}
        del arrays  # unmaps the postings files before the vector index reads the vectors
        dense = _build_approximate_index(writer, previous, embedder.model_id, search_rows, reporter)
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
            "dense": dense,
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
        reporter.note(
            f"embedded {embedding.embedded} passages in {embedding.seconds:.1f} s "
            f"({embedding.embedded / max(embedding.seconds, 1e-9):,.0f}/s)"
        )
    return generation, stats
