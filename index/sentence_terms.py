"""Each sentence's character span in its passage and its terms, stored at index time so that a question's
second stage reads them instead of splitting and tokenizing every candidate passage again.

Rows are the sentence vectors' rows (`sentence_firsts` maps a passage to its sentences). A sentence's
terms are `index.tokenize.span_terms` of its text, in order, as ids of the BM25 vocabulary (-1 for a term
the vocabulary lacks). While an index is built the ids are the BM25 builder's insertion ids, written to a
scratch file; `finish` rewrites them as the finished vocabulary's ids.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from index.store import GenerationWriter

SENTENCE_SPANS_FILE = "sentence_spans.npy"  # int32 [sentences, 2]: start, end in the passage's text
SENTENCE_TERM_FIRSTS_FILE = "sentence_term_firsts.npy"  # int64 [sentences + 1]
SENTENCE_TERMS_FILE = "sentence_terms.npy"  # int32: term ids, sentence after sentence
SENTENCE_TERMS_VERSION = 1  # manifest["sentence_terms"]
_SCRATCH = "sentence_terms.scratch"  # builder ids while building (removed by `finish`)
REMAP_BLOCK = 1 << 20  # term ids rewritten per step in `finish`
MISSING = -1  # a term the vocabulary lacks


class SentenceTermsWriter:
    """Collects sentence spans and terms in sentence-row order (in memory: 16 bytes a sentence; the terms
    go to a scratch file)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._spans = array("i")
        self._firsts = array("q", [0])
        self._scratch = open(directory / _SCRATCH, "wb")  # noqa: SIM115 - closed in finish/abort

    @property
    def sentences(self) -> int:
        return len(self._firsts) - 1

    def add(self, spans: Sequence[tuple[int, int]], terms: Sequence[Sequence[int]]) -> None:
        """One passage's sentences: spans and term ids (builder ids)."""
        for (start, end), ids in zip(spans, terms, strict=True):
            self._spans.extend((start, end))
            self._firsts.append(self._firsts[-1] + len(ids))
            self._scratch.write(array("i", ids).tobytes())

    def add_stored(
        self, spans: npt.NDArray[np.integer[Any]], firsts: npt.NDArray[np.int64], terms: npt.NDArray[np.int32]
    ) -> None:
        """Consecutive sentences as another index stored them (`terms` already mapped to builder ids;
        `firsts` one longer than `spans`, relative to any origin)."""
        self._spans.frombytes(np.ascontiguousarray(spans, dtype=np.int32).tobytes())
        shifted = firsts[1:] - firsts[0] + self._firsts[-1]
        self._firsts.frombytes(shifted.astype(np.int64).tobytes())
        self._scratch.write(np.ascontiguousarray(terms, dtype=np.int32).tobytes())

    def finish(self, writer: GenerationWriter, final_ids: npt.NDArray[np.int32]) -> None:
        """Write the three files into the generation, builder ids rewritten as `final_ids[id]` (-1 stays
        -1), reading the scratch file by blocks (plain reads and writes: nothing stays resident)."""
        self._scratch.close()
        scratch = self.directory / _SCRATCH
        try:
            writer.save_array(SENTENCE_SPANS_FILE, np.frombuffer(self._spans, dtype=np.int32).reshape(-1, 2))
            writer.save_array(SENTENCE_TERM_FIRSTS_FILE, np.frombuffer(self._firsts, dtype=np.int64))
            with open(scratch, "rb") as handle:
                writer.stream_array(SENTENCE_TERMS_FILE, self._firsts[-1], np.int32, _remapped(handle, final_ids))
        finally:
            scratch.unlink(missing_ok=True)

    def abort(self) -> None:
        self._scratch.close()
        (self.directory / _SCRATCH).unlink(missing_ok=True)


def remap_ids(ids: npt.NDArray[np.integer[Any]], table: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.int32]:
    """`table[id]` for each term id (MISSING, a term the vocabulary lacked, stays MISSING)."""
    known = ids >= 0
    return np.where(known, table[np.where(known, ids, 0)], MISSING).astype(np.int32)


def _remapped(handle: BinaryIO, final_ids: npt.NDArray[np.int32]) -> Iterator[npt.NDArray[np.int32]]:
    """The builder ids in `handle` (int32), block by block, as final ids."""
    while len(block := np.fromfile(handle, dtype=np.int32, count=REMAP_BLOCK)):
        yield remap_ids(block, final_ids)


class ArrayFile:
    """A `.npy` array read by positional reads of element ranges, not memory-mapped: the few ranges a
    question needs stay in the page cache, not in the process's resident set (as a mapping's read-ahead
    would, a little more with every question, at a million passages)."""

    def __init__(self, path: Path) -> None:
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
        if not isinstance(mapped, np.memmap) or mapped.dtype.byteorder == ">":
            raise ValueError(f"{path.name} is not a little-endian array file")
        self.shape: tuple[int, ...] = mapped.shape
        self.dtype = mapped.dtype
        self._row = int(np.prod(mapped.shape[1:], dtype=np.int64))  # elements per first-axis index
        self._offset = int(mapped.offset)
        del mapped
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.shape[0]

    def read(self, start: int, stop: int) -> npt.NDArray[Any]:
        """Elements [start, stop) along the first axis."""
        if not 0 <= start <= stop <= len(self):
            raise IndexError(f"rows {start}:{stop} out of range")
        size = (stop - start) * self._row * self.dtype.itemsize
        data = os.pread(self._fd, size, self._offset + start * self._row * self.dtype.itemsize)
        if len(data) != size:
            raise ValueError("array file is shorter than its header says")
        return np.frombuffer(data, dtype=self.dtype).reshape((stop - start, *self.shape[1:]))

    def close(self) -> None:
        os.close(self._fd)


@dataclass(frozen=True, eq=False)
class StoredSentences:
    """One passage's sentences as the index stored them: spans in its text, and the term ids of every
    sentence one after the other (`lengths[i]` of them for sentence i)."""

    spans: tuple[tuple[int, int], ...]
    lengths: npt.NDArray[np.int64]
    ids: npt.NDArray[np.int32]

    @cached_property
    def terms(self) -> tuple[list[int], ...]:
        """Each sentence's term ids as a list."""
        every, ends = self.ids.tolist(), np.cumsum(self.lengths).tolist()
        return tuple(every[end - length : end] for end, length in zip(ends, self.lengths.tolist(), strict=True))


@dataclass(frozen=True)
class StoredSentenceTerms:
    """The three arrays of an index: memory-mapped (built from `Generation.load_array` by the builder, to
    copy them into the next generation) or read by ranges (`open`, for questions)."""

    spans: Any  # int32 [sentences, 2]
    firsts: Any  # int64 [sentences + 1]
    terms: Any  # int32

    @classmethod
    def open(cls, directory: Path) -> StoredSentenceTerms:
        files: list[ArrayFile] = []
        try:
            for name in (SENTENCE_SPANS_FILE, SENTENCE_TERM_FIRSTS_FILE, SENTENCE_TERMS_FILE):
                files.append(ArrayFile(directory / name))
        except BaseException:
            for opened in files:
                opened.close()
            raise
        return cls(*files)

    def check(self, sentences: int) -> bool:
        """Whether the arrays describe `sentences` sentences consistently."""
        if tuple(self.spans.shape) != (sentences, 2) or len(self.firsts) != sentences + 1:
            return False
        first, last = int(_rows(self.firsts, 0, 1)[0]), int(_rows(self.firsts, sentences, sentences + 1)[0])
        return first == 0 and last == len(self.terms)

    def of(self, first: int, stop: int) -> StoredSentences:
        """Sentences [first, stop) (one passage's)."""
        spans = tuple((a, b) for a, b in _rows(self.spans, first, stop).tolist())
        bounds = np.asarray(_rows(self.firsts, first, stop + 1), dtype=np.int64)
        ids = np.asarray(_rows(self.terms, int(bounds[0]), int(bounds[-1])), dtype=np.int32)
        return StoredSentences(spans, np.diff(bounds), ids)

    def close(self) -> None:
        for part in (self.spans, self.firsts, self.terms):
            if isinstance(part, ArrayFile):
                part.close()


def _rows(array: Any, start: int, stop: int) -> npt.NDArray[Any]:
    return array.read(start, stop) if isinstance(array, ArrayFile) else array[start:stop]
