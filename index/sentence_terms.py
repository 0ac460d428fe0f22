"""Each sentence's character span in its passage and its terms, stored at index time so that a question's
second stage reads them instead of splitting and tokenizing every candidate passage again.

Rows are the sentence vectors' rows (`sentence_firsts` maps a passage to its sentences). A sentence's
terms are `index.tokenize.span_terms` of its text, in order, as ids of the BM25 vocabulary (-1 for a term
the vocabulary lacks). While an index is built the ids are the BM25 builder's insertion ids, written to a
scratch file; `finish` rewrites them as the finished vocabulary's ids.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SENTENCE_SPANS_FILE = "sentence_spans.npy"  # int32 [sentences, 2]: start, end in the passage's text
SENTENCE_TERM_FIRSTS_FILE = "sentence_term_firsts.npy"  # int64 [sentences + 1]
SENTENCE_TERMS_FILE = "sentence_terms.npy"  # int32: term ids, sentence after sentence
SENTENCE_TERMS_VERSION = 1  # manifest["sentence_terms"]
_SCRATCH = "sentence_terms.scratch"  # builder ids while building (removed by `finish`)
REMAP_BLOCK = 1 << 22  # term ids rewritten per step in `finish`
MISSING = -1  # a term the vocabulary lacks

SpansAndTerms = tuple[tuple[tuple[int, int], ...], tuple[list[int], ...]]  # one passage's sentences


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

    def finish(self, save_array: Any, create_array: Any, final_ids: npt.NDArray[np.int32]) -> None:
        """Write the three files through the generation writer's `save_array` / `create_array`, builder
        ids rewritten as `final_ids[id]` (-1 stays -1)."""
        self._scratch.close()
        scratch = self.directory / _SCRATCH
        try:
            save_array(SENTENCE_SPANS_FILE, np.frombuffer(self._spans, dtype=np.int32).reshape(-1, 2))
            save_array(SENTENCE_TERM_FIRSTS_FILE, np.frombuffer(self._firsts, dtype=np.int64))
            total = self._firsts[-1]
            out = create_array(SENTENCE_TERMS_FILE, total, np.int32)
            if total:
                ids = np.memmap(scratch, dtype=np.int32, mode="r", shape=(total,))
                for start in range(0, total, REMAP_BLOCK):
                    block = ids[start : start + REMAP_BLOCK]
                    known = block >= 0
                    out[start : start + len(block)] = np.where(known, final_ids[np.where(known, block, 0)], MISSING)
                del ids
            out.flush()
        finally:
            scratch.unlink(missing_ok=True)

    def abort(self) -> None:
        self._scratch.close()
        (self.directory / _SCRATCH).unlink(missing_ok=True)


@dataclass(frozen=True)
class StoredSentenceTerms:
    """The three arrays of an index (memory-mapped)."""

    spans: npt.NDArray[np.int32]
    firsts: npt.NDArray[np.int64]
    terms: npt.NDArray[np.int32]

    def check(self, sentences: int) -> bool:
        """Whether the arrays describe `sentences` sentences consistently."""
        return (
            self.spans.shape == (sentences, 2)
            and len(self.firsts) == sentences + 1
            and int(self.firsts[0]) == 0
            and int(self.firsts[-1]) == len(self.terms)
        )

    def of(self, first: int, stop: int) -> SpansAndTerms:
        """Spans and term-id lists of sentences [first, stop)."""
        spans = tuple((int(a), int(b)) for a, b in self.spans[first:stop].tolist())
        bounds = self.firsts[first : stop + 1].tolist()
        block = self.terms[bounds[0] : bounds[-1]].tolist()
        base = bounds[0]
        return spans, tuple(block[a - base : b - base] for a, b in zip(bounds, bounds[1:], strict=False))
