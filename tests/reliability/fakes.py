"""Test doubles for reliability tests: a fast deterministic embedder and faulty variants.

`HashEmbedder` maps each word to a fixed pseudo-random direction (a hashed bag of words), so indexing a
large corpus costs milliseconds instead of minutes while retrieval still prefers passages sharing words
with the question. Everything else (splitting, BM25, catalog, store, FAISS) is the real code.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import numpy.typing as npt

DIMENSION = 32
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=65536)
def _direction(word: str) -> npt.NDArray[np.float32]:
    seed = int.from_bytes(hashlib.blake2b(word.lower().encode("utf-8", "surrogatepass"), digest_size=8).digest())
    return np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)


class HashEmbedder:
    """A deterministic bag-of-words embedder; `QA_FAKE_EMBED_DELAY` seconds of sleep per batch of 16."""

    model_id = "test/hash-embedder"
    dimension = DIMENSION

    def __init__(self) -> None:
        self.delay = float(os.environ.get("QA_FAKE_EMBED_DELAY", "0"))

    def _embed(self, text: str) -> npt.NDArray[np.float32]:
        vector = np.zeros(DIMENSION, np.float32)
        for word in _WORD.findall(text)[:512]:
            vector += _direction(word)
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0], norm = 1.0, 1.0
        return vector / norm

    def embed_passages(
        self, texts: list[str], progress: Callable[[int, int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), DIMENSION), np.float32)
        for start in range(0, len(texts), 16):
            for i in range(start, min(start + 16, len(texts))):
                out[i] = self._embed(texts[i])
            if self.delay:
                time.sleep(self.delay)
            if progress is not None:
                progress(min(start + 16, len(texts)), len(texts))
        return out

    def embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return np.vstack([self._embed(t) for t in texts]) if texts else np.zeros((0, DIMENSION), np.float32)


class ConstantEmbedder(HashEmbedder):
    """The same unit vector for every passage: for tests about volume, where only BM25 ranks."""

    model_id = "test/constant-embedder"

    def embed_passages(
        self, texts: list[str], progress: Callable[[int, int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), DIMENSION), np.float32)
        out[:, 0] = 1.0
        if progress is not None:
            progress(len(texts), len(texts))
        return out


class NaNEmbedder(HashEmbedder):
    """Returns NaN for one passage in a build, as a broken model or a numeric overflow would."""

    def embed_passages(
        self, texts: list[str], progress: Callable[[int, int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        out = super().embed_passages(texts, progress)
        out[len(out) // 2, 3] = np.nan
        return out


class ShortEmbedder(HashEmbedder):
    """Returns one vector too few (a model that silently drops an input)."""

    def embed_passages(
        self, texts: list[str], progress: Callable[[int, int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        return super().embed_passages(texts, progress)[:-1]


class NullReporter:
    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.notes: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def progress(self, stage: str, done: int, total: int) -> None:
        return None
