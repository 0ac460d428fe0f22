"""Passage and sentence vectors kept in chunk files that generations share, seen through a row map.

An update reuses nearly every vector. Instead of copying them into the new generation (5.1 GB at a million
passages), it hard-links the previous generation's chunk files (a published file is never written again)
and writes only the new vectors into one new chunk. Two maps say where each search row's vectors are:

    vector_rows.npy            int64, one per search row: its row in the concatenation of the passage chunks
    sentence_vector_rows.npy   int64, one per search row: the row of its first sentence vector in the
                               concatenation of the sentence chunks (its count comes from sentence_firsts)

The manifest's "vector_chunks" lists the chunk files in order. An index without it (a fresh build, a
compaction, an index written before) has one chunk of each kind in search-row order and no maps. Rows no
search row points to any more are garbage; once they outnumber the live rows the next update writes one
fresh chunk again, and once the chunks are many it links only the first and copies the live rows of the
others into its new chunk (`chunks_to_link`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.errors import IndexStoreError
from index.store import Generation
from index.vector_file import VectorFileReader

VECTORS_FILE = "vectors.npy"  # float32, one row per searchable passage, in search-row order (no maps)
SENTENCE_FIRSTS_FILE = "sentence_firsts.npy"  # int64: passage row r's sentences are rows firsts[r]:firsts[r+1]
SENTENCE_VECTORS_FILE = "sentence_vectors.npy"  # float16, one row per sentence of every searchable passage
PASSAGE_ROWS_FILE = "vector_rows.npy"
SENTENCE_ROWS_FILE = "sentence_vector_rows.npy"
MAX_CHUNKS = 16  # chunks of each kind before an update writes one fresh chunk
MAX_GARBAGE = 1.0  # ... or once the rows nothing points to exceed this share of the live rows


def chunk_names(manifest: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The passage chunks and the sentence chunks of a generation, in order."""
    chunks = manifest.get("vector_chunks")
    if not isinstance(chunks, dict):
        return [VECTORS_FILE], [SENTENCE_VECTORS_FILE]
    return [str(name) for name in chunks["passages"]], [str(name) for name in chunks["sentences"]]


def is_shared(manifest: dict[str, Any]) -> bool:
    """Whether the generation's vectors are chunks seen through row maps."""
    return isinstance(manifest.get("vector_chunks"), dict)


class ChunkedVectors:
    """The rows of several `.npy` vector files as one float32 matrix: logical row i is row `rows[i]` of
    the files' concatenation (row i itself without `rows`). Read with positional reads, never mapped."""

    def __init__(self, paths: Sequence[Path], rows: npt.NDArray[np.integer[Any]] | None = None) -> None:
        self._readers: list[VectorFileReader] = []
        try:
            for path in paths:
                self._readers.append(VectorFileReader(path))
        except BaseException:
            self.close()
            raise
        if not self._readers or len({reader.shape[1] for reader in self._readers}) != 1:
            self.close()
            raise ValueError("vector chunks are missing or of different widths")
        self._starts = np.cumsum([0, *(len(reader) for reader in self._readers)], dtype=np.int64)
        self.physical_rows = int(self._starts[-1])
        self._rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        count = self.physical_rows if self._rows is None else len(self._rows)
        self.shape: tuple[int, int] = (count, self._readers[0].shape[1])
        self.dtype = np.dtype(np.float32)  # whatever the chunks store, rows are returned as float32
        self.stored_dtype = self._readers[0].dtype
        self._lock = threading.Lock()

    def chunk(self, index: int) -> VectorFileReader:
        """The `index`-th chunk file."""
        return self._readers[index]

    @property
    def single(self) -> VectorFileReader | None:
        """The one chunk, when the rows are in its order (no map)."""
        return self._readers[0] if self._rows is None and len(self._readers) == 1 else None

    def row_map(self) -> npt.NDArray[np.int64]:
        """Each logical row's row in the chunks' concatenation."""
        return np.arange(len(self), dtype=np.int64) if self._rows is None else self._rows

    def rows_within_chunks(self) -> bool:
        """Whether every logical row points inside the chunks (a map read from disk is checked with it)."""
        rows = self._rows
        return rows is None or not len(rows) or (int(rows.min()) >= 0 and int(rows.max()) < self.physical_rows)

    def __len__(self) -> int:
        return self.shape[0]

    def _physical(self, logical: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        if len(logical) and (int(logical.min()) < 0 or int(logical.max()) >= len(self)):
            raise IndexError("vector row out of range")
        return logical if self._rows is None else self._rows[logical]

    def _chunks_of(self, physical: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return np.searchsorted(self._starts, physical, side="right") - 1

    def rows_at(self, rows: Sequence[int] | npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.float32]:
        """The rows at `rows`, in that order, one positional read each (safe from several threads)."""
        physical = self._physical(np.asarray(rows, dtype=np.int64).reshape(-1))
        if len(self._readers) == 1:
            return self._readers[0].rows_at(physical)
        out = np.empty((len(physical), self.shape[1]), np.float32)
        chunks = self._chunks_of(physical)
        for chunk in np.unique(chunks):
            at = np.flatnonzero(chunks == chunk)
            out[at] = self._readers[int(chunk)].rows_at(physical[at] - self._starts[chunk])
        return out

    def __getitem__(self, key: int | slice | npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.float32]:
        """One row, consecutive rows (a slice with step 1) or the rows at given indices, read in blocks (one
        caller at a time: the block reads seek)."""
        if isinstance(key, (int, np.integer)):
            return self.rows_at([int(key)])[0]
        with self._lock:
            return self._block_rows(key)

    def _block_rows(self, key: slice | npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.float32]:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                raise ValueError("only consecutive rows can be sliced")
            if (single := self.single) is not None:
                return single[start:stop]
            logical = np.arange(start, max(start, stop), dtype=np.int64)
        else:
            logical = np.asarray(key, dtype=np.int64)
            if (single := self.single) is not None and (len(logical) < 2 or bool(np.all(np.diff(logical) > 0))):
                return single[logical]
        physical = self._physical(logical)
        out = np.empty((len(physical), self.shape[1]), np.float32)
        order = np.argsort(physical, kind="stable")
        chunks = self._chunks_of(physical[order])
        for chunk in np.unique(chunks):
            at = order[chunks == chunk]
            local = physical[at] - self._starts[chunk]
            # the reader takes strictly ascending rows; a repeated row is read once
            unique, inverse = np.unique(local, return_inverse=True)
            out[at] = self._readers[int(chunk)][unique][inverse]
        return out

    def chunk_of(self, physical: int) -> int:
        """The chunk holding row `physical` of the chunks' concatenation."""
        return int(self._chunks_of(np.asarray([physical], dtype=np.int64))[0])

    def physical_range(self, start: int, stop: int) -> npt.NDArray[np.float32]:
        """Rows `start` to `stop` of the chunks' concatenation, which lie in one chunk (a passage's sentence
        vectors are written together), one positional read."""
        if start == stop:
            return np.empty((0, self.shape[1]), np.float32)
        chunk = int(self._chunks_of(np.asarray([start], dtype=np.int64))[0])
        if not 0 <= start < stop <= self._starts[chunk + 1]:
            raise IndexError(f"vector rows {start}:{stop} out of range")
        first = int(self._starts[chunk])
        return self._readers[chunk].row_range(start - first, stop - first)

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> npt.NDArray[Any]:
        rows = self[0 : len(self)]
        return rows if dtype is None else rows.astype(dtype)

    def close(self) -> None:
        for reader in self._readers:
            reader.close()

    def __enter__(self) -> ChunkedVectors:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chunks_to_link(passage_chunks: int, physical_rows: int, live_rows: int) -> int:
    """How many of the previous generation's chunks (from the first) an update links: all while they are
    few; only the first once they are many (the live rows of the others, the small chunks of earlier
    updates, are copied into the new chunk); none once the rows nothing points to outnumber the live ones
    (one fresh chunk)."""
    if physical_rows - live_rows > MAX_GARBAGE * live_rows:
        return 0
    return passage_chunks if passage_chunks < MAX_CHUNKS else 1


@dataclass
class StoredVectors:
    """A generation's passage and sentence vectors, and where each search row's lie."""

    passages: ChunkedVectors  # by search row
    sentences: ChunkedVectors  # by row of the sentence chunks
    sentence_firsts: npt.NDArray[np.int64]  # search row r's sentences are sentences firsts[r]:firsts[r + 1]
    sentence_starts: npt.NDArray[np.int64]  # search row -> the row of its first sentence vector in the chunks

    def sentence_vectors(self, row: int) -> npt.NDArray[np.float32]:
        """The sentence vectors of search row `row`, one positional read."""
        start, count = int(self.sentence_starts[row]), int(self.sentence_firsts[row + 1] - self.sentence_firsts[row])
        return self.sentences.physical_range(start, start + count)

    def sentence_vectors_of(self, rows: Sequence[int]) -> dict[int, npt.NDArray[np.float32]]:
        """The sentence vectors of search rows `rows` (by row, in ascending order). Consecutive rows whose
        sentences lie one after another in one chunk are read together, one positional read per run: a
        document's passages, written together, are one run."""
        wanted = sorted({int(row) for row in rows})
        if wanted and (wanted[0] < 0 or wanted[-1] >= len(self.sentence_starts)):
            raise IndexError("search row out of range")
        starts, firsts = self.sentence_starts, self.sentence_firsts
        counts = {row: int(firsts[row + 1] - firsts[row]) for row in wanted}
        out: dict[int, npt.NDArray[np.float32]] = {}
        first = 0
        while first < len(wanted):
            last = first
            while (
                last + 1 < len(wanted)
                and wanted[last + 1] == wanted[last] + 1
                and int(starts[wanted[last + 1]]) == int(starts[wanted[last]]) + counts[wanted[last]]
            ):
                last += 1
            run = wanted[first : last + 1]
            begin, end = int(starts[run[0]]), int(starts[run[-1]]) + counts[run[-1]]
            if len(run) > 1 and self.sentences.chunk_of(begin) == self.sentences.chunk_of(max(begin, end - 1)):
                block = self.sentences.physical_range(begin, end)
                for row in run:
                    at = int(starts[row]) - begin
                    out[row] = block[at : at + counts[row]]
            else:
                for row in run:
                    out[row] = self.sentence_vectors(row)
            first = last + 1
        return out

    def close(self) -> None:
        self.passages.close()
        self.sentences.close()


def open_stored_vectors(generation: Generation, size: int) -> StoredVectors:
    """The vectors of `generation`'s `size` search rows, their files and maps checked against each other (the
    maps' ranges only when the generation's checksums were not verified before)."""
    passage_names, sentence_names = chunk_names(generation.manifest)
    shared = is_shared(generation.manifest)
    firsts = generation.load_array(SENTENCE_FIRSTS_FILE)
    rows = generation.load_array(PASSAGE_ROWS_FILE) if shared else None
    starts = generation.load_array(SENTENCE_ROWS_FILE) if shared else firsts[:-1]
    if rows is not None and (len(rows) != size or rows.dtype != np.int64):
        raise IndexStoreError("index vector rows do not match the passages")
    if len(firsts) != size + 1 or len(starts) != size or starts.dtype != np.int64 or int(firsts[0]) != 0:
        raise IndexStoreError("index sentence vectors do not match the passages")
    passages = sentences = None
    try:
        passages = ChunkedVectors([generation.file(name) for name in passage_names], rows)
        sentences = ChunkedVectors([generation.file(name) for name in sentence_names])
    except (OSError, ValueError) as exc:
        if passages is not None:
            passages.close()
        problem = "are unreadable" if isinstance(exc, OSError) else "do not match the manifest"
        raise IndexStoreError(f"index vectors {problem}: {exc}") from None
    stored = StoredVectors(passages, sentences, firsts, starts)
    if len(passages) != size:
        stored.close()
        raise IndexStoreError("index vectors do not match the manifest")
    if not generation.checked and not passages.rows_within_chunks():
        stored.close()
        raise IndexStoreError("index vector rows point outside the vector files")
    if (not shared and sentences.physical_rows != int(firsts[-1])) or (
        not generation.checked and not _sentences_within(firsts, starts, sentences.physical_rows)
    ):
        stored.close()
        raise IndexStoreError("index sentence vectors do not match the passages")
    return stored


def _sentences_within(firsts: npt.NDArray[Any], starts: npt.NDArray[Any], physical_rows: int) -> bool:
    """Every passage's sentence vectors lie within the chunks (sentence counts never negative)."""
    counts = np.diff(np.asarray(firsts, dtype=np.int64))
    if bool(np.any(counts < 0)):
        return False
    ends = np.asarray(starts, dtype=np.int64) + counts
    return not len(ends) or (int(np.min(starts)) >= 0 and int(ends.max()) <= physical_rows)
