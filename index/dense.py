"""Exact inner-product search over L2-normalised vectors with FAISS (inner product = cosine).

The FAISS index is rebuilt from the stored `.npy` vectors at load: no FAISS file of unknown origin is
ever read. Non-finite or wrongly shaped vectors are refused, and FAISS's -1 "no result" ids are dropped.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

import numpy as np
import numpy.typing as npt

from index.errors import ModelError


def check_vectors(vectors: npt.NDArray[Any], dimension: int) -> npt.NDArray[np.float32]:
    """Return `vectors` as contiguous float32 rows, or raise ValueError when they cannot be indexed."""
    array = np.asarray(vectors)
    if array.ndim != 2 or array.shape[1] != dimension:
        raise ValueError(f"expected vectors of shape (n, {dimension}), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("embedding contains NaN or infinite values")
    return np.ascontiguousarray(array, dtype=np.float32)


def normalize(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)


class DenseIndex:
    """FAISS inner-product index whose ids are passage rows: exact (flat, built from the stored vectors)
    unless an approximate index is given."""

    def __init__(self, vectors: npt.NDArray[np.float32] | Sized, dimension: int, approximate: Any = None) -> None:
        import faiss  # deferred: only retrieval needs it

        self.dimension = dimension
        if approximate is not None:
            if approximate.d != dimension or approximate.ntotal != len(vectors):
                raise ValueError("approximate index does not match the stored vectors")
            self.size = int(approximate.ntotal)
            self._index = approximate
            self.exact = False
            return
        checked = check_vectors(np.asarray(vectors), dimension)
        self.size = checked.shape[0]
        self._index = faiss.IndexFlatIP(dimension)
        self.exact = True
        if self.size:
            self._index.add(checked)

    def search(self, query: npt.NDArray[np.float32], k: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The `k` nearest rows to `query`: (rows, cosines), best first, ties broken by row."""
        if self.size == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        try:
            vector = check_vectors(np.asarray(query).reshape(1, -1), self.dimension)
        except ValueError as exc:  # FAISS would answer a NaN query with id -1, i.e. paragraphs[-1]
            raise ModelError(f"the question's embedding is unusable ({exc}); is the model damaged?") from None
        scores, ids = self._index.search(vector, min(k, self.size))
        valid = (ids[0] >= 0) & (ids[0] < self.size)
        rows, cosines = ids[0][valid].astype(np.int64), scores[0][valid]
        order = np.lexsort((rows, -cosines))
        return rows[order], cosines[order]
