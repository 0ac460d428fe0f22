"""Bring the index of a corpus up to date: detect changes, re-embed only what changed, publish atomically."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import numpy as np

from index import corpus_index as layout
from index.bm25 import BM25Params, build_bm25
from index.catalog import Catalog, DocumentRecord, PassageRecord, SkippedRecord, write_catalog
from index.corpus import DocumentSource, FileEntry, UnreadableDocument
from index.corpus_index import CorpusIndex
from index.dense import check_vectors
from index.embed import Embedder
from index.errors import CorpusError, IndexStoreError, ModelError
from index.paragraphs import split_document
from index.store import (
    Generation,
    GenerationWriter,
    crash_point,
    current_generation,
    update_lock,
    write_errors_reported,
)
from index.tokenize import TOKENIZER_VERSION, tokenize

SPLITTER_VERSION = "paragraphs/1"


class BuildReporter(Protocol):
    """Where the builder sends warnings, notes and progress (the CLI draws them on stderr)."""

    def warn(self, message: str) -> None: ...

    def note(self, message: str) -> None: ...

    def progress(self, stage: str, done: int, total: int) -> None: ...


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


def _fingerprint(documents: list[DocumentRecord]) -> str:
    digest = hashlib.sha256()
    for doc in documents:
        digest.update(f"{doc.path}\x00{doc.sha256}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


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
    with write_errors_reported(index_dir), update_lock(index_dir, reporter.note):
        loaded, previous, reason = usable()  # another process may have finished the work meanwhile
        if loaded is not None:
            return loaded
        if reason:
            reporter.note(f"updating the index: {reason}")
        else:
            reporter.note(f"building the index of {source.identity} in {index_dir}")
        generation, stats = build_generation(source, entries, index_dir, embedder, reporter, settings, previous)
        reporter.note(
            f"indexed {stats.documents} documents, {stats.passages} passages "
            f"({stats.embedded} embedded, {stats.reused} reused) in {stats.seconds:.1f} s"
        )
        return CorpusIndex(generation)


def _previous_vectors(previous: Generation | None, model_id: str) -> tuple[dict[str, int], Any]:
    if previous is None or previous.manifest.get("model_id") != model_id:
        return {}, None
    try:
        catalog = Catalog(previous.file(layout.CATALOG_FILE))
        hashes = catalog.embed_hashes()
        catalog.close()
        return hashes, previous.load_array(layout.VECTORS_FILE)
    except (ValueError, IndexStoreError):
        return {}, None


def build_generation(
    source: DocumentSource,
    entries: list[FileEntry],
    index_dir: Path,
    embedder: Embedder,
    reporter: BuildReporter,
    settings: IndexSettings,
    previous: Generation | None = None,
) -> tuple[Generation, BuildStats]:
    started = time.perf_counter()
    documents: list[DocumentRecord] = []
    skipped: list[SkippedRecord] = []
    passages: list[PassageRecord] = []
    search_texts: list[str] = []
    search_tokens: list[list[str]] = []
    search_hashes: list[str] = []
    for number, entry in enumerate(entries, start=1):
        reporter.progress("reading", number, len(entries))
        try:
            document = source.read(entry)
        except UnreadableDocument as exc:
            reporter.warn(f"skipped {entry.path}: {exc}")
            skipped.append(SkippedRecord(entry.path, entry.size, entry.mtime_ns, str(exc)))
            continue
        split = split_document(document.text, PurePosixPath(entry.path).name, document.title)
        doc_number = len(documents)
        documents.append(
            DocumentRecord(
                doc_number,
                entry.path,
                entry.abs_path,
                split.title,
                split.title_from_text,
                document.sha256,
                document.size,
                entry.mtime_ns,
            )
        )
        use_title = settings.title_context and split.title_from_text
        title_tokens = tokenize(split.title) if use_title else []
        for span in split.passages:
            text = document.text[span.char_start : span.char_end]
            search_row: int | None = None
            embed_hash: str | None = None
            if span.searchable:
                search_row = len(search_texts)
                to_embed = embed_text(split.title, text, use_title)
                embed_hash = _embed_hash(embedder.model_id, to_embed)
                search_texts.append(to_embed)
                search_hashes.append(embed_hash)
                search_tokens.append(title_tokens + tokenize(text))
            passages.append(
                PassageRecord(
                    row=len(passages),
                    id=f"{entry.path}#{span.local_id()}",
                    doc=doc_number,
                    paragraph=span.paragraph,
                    window=span.window,
                    kind=span.kind,
                    line_start=span.line_start,
                    line_end=span.line_end,
                    char_start=span.char_start,
                    char_end=span.char_end,
                    text=text,
                    search_row=search_row,
                    embed_hash=embed_hash,
                )
            )
    if not documents:
        raise CorpusError(f"no readable documents in {source.identity} (every file was skipped)")
    if not search_texts:
        raise CorpusError(f"no passages to search in {source.identity} (only titles and fragments)")
    crash_point("read")

    old_rows, old_vectors = _previous_vectors(previous, embedder.model_id)
    vectors = np.zeros((len(search_texts), embedder.dimension), dtype=np.float32)
    missing: list[int] = []
    for row, embed_hash in enumerate(search_hashes):
        old = old_rows.get(embed_hash)
        if old is not None and old_vectors is not None and old < len(old_vectors):
            vectors[row] = old_vectors[old]
        else:
            missing.append(row)
    if missing:

        def progress(done: int, total: int) -> None:
            reporter.progress("embedding", done, total)
            crash_point("embedding")

        embedded = embedder.embed_passages([search_texts[r] for r in missing], progress)
        try:  # a NaN or misshapen vector would be searchable garbage: refuse it before anything is written
            if len(embedded) != len(missing):
                raise ValueError(f"{len(embedded)} vectors for {len(missing)} passages")
            vectors[missing] = check_vectors(embedded, embedder.dimension)
        except ValueError as exc:
            raise ModelError(f"the model {embedder.model_id} returned unusable embeddings: {exc}") from None

    reporter.progress("bm25", 0, 1)
    bm25 = build_bm25(search_tokens, settings.bm25)
    reporter.progress("bm25", 1, 1)

    writer = GenerationWriter(index_dir)
    try:
        write_catalog(
            writer.path / layout.CATALOG_FILE,
            documents,
            skipped,
            passages,
            ((term, i, int(bm25.doc_freq[i]), float(bm25.idf[i])) for i, term in enumerate(bm25.terms)),
        )
        crash_point("catalog")
        writer.save_array(layout.VECTORS_FILE, vectors)
        writer.save_array(layout.BM25_INDPTR_FILE, bm25.indptr)
        writer.save_array(layout.BM25_ROWS_FILE, bm25.rows)
        writer.save_array(layout.BM25_WEIGHTS_FILE, bm25.weights)
        manifest = {
            "corpus_root": source.identity,
            "corpus_fingerprint": _fingerprint(documents),
            "model_id": embedder.model_id,
            "dimension": embedder.dimension,
            "tokenizer_version": TOKENIZER_VERSION,
            "settings": settings.as_manifest(),
            "counts": {
                "documents": len(documents),
                "skipped": len(skipped),
                "passages": len(passages),
                "searchable": len(search_texts),
                "terms": len(bm25.terms),
            },
            "bm25": {"n_docs": bm25.n_docs, "avgdl": bm25.avgdl, "average_idf": bm25.average_idf},
        }
        generation = writer.publish(manifest)
    except BaseException:
        writer.abort()
        raise
    stats = BuildStats(
        documents=len(documents),
        passages=len(search_texts),
        embedded=len(missing),
        reused=len(search_texts) - len(missing),
        seconds=time.perf_counter() - started,
    )
    return generation, stats
