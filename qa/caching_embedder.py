"""An embedder wrapper for evaluations: question and sentence vectors are remembered by text."""

from __future__ import annotations

import numpy as np

from index.bounded_cache import BoundedCache
from index.embed import Embedder, ProgressFn, Spans, Vectors, embed_passages_and_sentences


class CachingEmbedder:
    """Wraps an embedder and remembers query vectors, so the several retrievals and answer sentences of
    one question (and the turns of a conversation that repeat a text) embed each text once."""

    def __init__(self, inner: Embedder, limit: int = 200_000) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self._cache: BoundedCache[str, np.ndarray] = BoundedCache(limit)

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_passages(self, texts: list[str], progress: ProgressFn | None = None) -> Vectors:
        return self.inner.embed_passages(texts, progress)

    def embed_passages_and_sentences(
        self, texts: list[str], spans: list[Spans], progress: ProgressFn | None = None
    ) -> tuple[Vectors, Vectors]:
        return embed_passages_and_sentences(self.inner, texts, spans, progress)

    def embed_queries(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        vectors = self._cache.lookup(
            texts, lambda missing: dict(zip(missing, self.inner.embed_queries(missing), strict=True))
        )
        return np.vstack([vectors[t] for t in texts]).astype(np.float32)
