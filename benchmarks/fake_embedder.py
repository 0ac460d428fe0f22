"""A benchmark-only `Embedder`: deterministic clustered unit vectors derived from a hash of the text.

Real embedding of 100k-1M paragraphs does not fit the time budget on 2 shared cores, so scale runs use
this to measure everything else (reading, splitting, BM25, catalog, FAISS, query latency, memory).
Vectors are a centroid (one of 2,000, picked by the text's hash) plus Gaussian noise, normalised:
clustered like real sentence embeddings, so approximate-search recall is meaningful.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

DIMENSION = 384
CENTROIDS = 2_000
NOISE = 0.045  # per dimension: cosine to the centroid ~0.7, like neighbours in a topic


class FakeEmbedder:
    model_id = "benchmark/fake-clustered-384"

    def __init__(self, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        centroids = rng.standard_normal((CENTROIDS, DIMENSION)).astype(np.float32)
        self.centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
        self.calls = 0
        self.embedded = 0

    @property
    def dimension(self) -> int:
        return DIMENSION

    def _embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        out = np.empty((len(texts), DIMENSION), np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=8).digest())
            rng = np.random.default_rng(seed)
            out[i] = self.centroids[seed % CENTROIDS] + NOISE * rng.standard_normal(DIMENSION, dtype=np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    def embed_passages(self, texts: list[str], progress: object = None) -> npt.NDArray[np.float32]:
        self.calls += 1
        self.embedded += len(texts)
        return self._embed(texts)

    def embed_passages_and_sentences(
        self, texts: list[str], spans: list[list[tuple[int, int]]], progress: object = None
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Passage vectors as `embed_passages`; sentence vectors from the sentences' own text (the real
        model pools them from the passage's forward pass at no extra cost: they are not counted)."""
        sentences = [text[start:end] for text, pairs in zip(texts, spans, strict=True) for start, end in pairs]
        return self.embed_passages(texts, progress), self._embed(sentences)

    def embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return self._embed(texts)
