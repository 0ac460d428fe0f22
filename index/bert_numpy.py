"""A numpy forward pass of BERT-family sentence-transformers models (mean pooling, normalised).

It embeds questions without importing torch (which costs ~4-6 s in a cold process), from the same
safetensors weights and `tokenizer.json` that sentence-transformers uses (`index.bert_model`), so query
vectors match the indexed passage vectors (cosine >= 0.9999, checked by a test). It starts sooner than
the ONNX Runtime encoder (`index.bert_onnx`), which is ~1.4x faster per question: one-shot `qa --ask`
uses this one, and everything does when onnxruntime is not installed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from index.bert_model import Array, BertModel


def _erf(x: Array) -> Array:
    """erf with |error| < 1.2e-7 (Numerical Recipes erfc Chebyshev fit), vectorised in float32: the
    polynomial's rounding (~1e-7) is below the fit's own error, and float32 halves its cost."""
    z = np.abs(x, dtype=np.float32)
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.5) * z)
    poly = np.full_like(z, np.float32(0.17087277))
    for coefficient in (-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196):
        poly *= t
        poly += np.float32(coefficient)
    poly *= t
    poly += np.float32(1.00002368)
    poly *= t
    poly += np.float32(-1.26551223)
    poly -= z * z
    result = np.float32(1.0) - t * np.exp(poly)
    return np.copysign(result, x).astype(np.float32, copy=False)


def _gelu(x: Array) -> Array:
    return (0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))).astype(np.float32)


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + eps) * weight + bias).astype(np.float32)


PACKED_TOKENS = 1024  # tokens per packed pass: larger matrix products, bounded memory


class NumpyBertEncoder:
    """Embeds texts with a BERT encoder + mean pooling + L2 normalisation, in numpy."""

    def __init__(self, model: BertModel) -> None:
        self.model = model
        self.heads = model.heads
        self.layers = model.layers
        self.eps = model.eps
        self.dimension = model.dimension

    @classmethod
    def load(cls, model_dir: Path) -> NumpyBertEncoder | None:
        """The encoder for `model_dir`, or None when the model is not a plain mean-pooled BERT."""
        model = BertModel.load(model_dir)
        return None if model is None else cls(model)

    def _w(self, name: str) -> Array:
        return self.model.weight(name)

    def _linear(self, x: Array, name: str) -> Array:
        # The (out, in) weights as stored, transposed by BLAS: contiguous (in, out) copies multiply ~10%
        # faster but cost ~80 ms to make, more than a one-shot question saves (`qa --ask` uses this encoder).
        out: Array = x @ self._w(name + ".weight").T
        out += self._w(name + ".bias")
        return out

    def _forward(self, segments: list[tuple[list[int], list[int]]]) -> Array:
        """Unit vectors of several token sequences in one pass, without padding: the sequences are packed
        into one matrix, so the dense layers (nearly all the FLOPs) run as a few larger matrix products
        (better BLAS efficiency than one small product per sequence), while attention and mean pooling
        stay within each sequence. Each row equals what its sequence alone gives (to float rounding)."""
        lengths = [len(ids) for ids, _ in segments]
        bounds = [0, *np.cumsum(lengths).tolist()]
        ids = [i for sequence, _ in segments for i in sequence]
        type_ids = [t for _, sequence in segments for t in sequence]
        positions = np.concatenate([np.arange(n) for n in lengths])
        total = len(ids)
        x = (
            self._w("embeddings.word_embeddings.weight")[ids]
            + self._w("embeddings.position_embeddings.weight")[positions]
            + self._w("embeddings.token_type_embeddings.weight")[type_ids]
        )
        x = _layer_norm(x, self._w("embeddings.LayerNorm.weight"), self._w("embeddings.LayerNorm.bias"), self.eps)
        head_dim = self.dimension // self.heads
        scale = 1.0 / math.sqrt(head_dim)
        for layer in range(self.layers):
            base = f"encoder.layer.{layer}."
            q = self._linear(x, base + "attention.self.query").reshape(total, self.heads, head_dim)
            k = self._linear(x, base + "attention.self.key").reshape(total, self.heads, head_dim)
            v = self._linear(x, base + "attention.self.value").reshape(total, self.heads, head_dim)
            context = np.empty((total, self.dimension), np.float32)
            for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
                qs, ks, vs = (m[start:stop].transpose(1, 0, 2) for m in (q, k, v))
                scores = (qs @ ks.transpose(0, 2, 1)) * scale
                scores -= scores.max(axis=-1, keepdims=True)
                probs = np.exp(scores)
                probs /= probs.sum(axis=-1, keepdims=True)
                context[start:stop] = (probs @ vs).transpose(1, 0, 2).reshape(stop - start, self.dimension)
            attn = self._linear(context, base + "attention.output.dense")
            x = _layer_norm(
                x + attn,
                self._w(base + "attention.output.LayerNorm.weight"),
                self._w(base + "attention.output.LayerNorm.bias"),
                self.eps,
            )
            inner = _gelu(self._linear(x, base + "intermediate.dense"))
            out = self._linear(inner, base + "output.dense")
            x = _layer_norm(
                x + out, self._w(base + "output.LayerNorm.weight"), self._w(base + "output.LayerNorm.bias"), self.eps
            )
        pooled = np.vstack([x[start:stop].mean(axis=0) for start, stop in zip(bounds[:-1], bounds[1:], strict=True)])
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Array = (pooled / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        return result

    def encode(self, texts: list[str]) -> Array:
        """Unit vectors, one row per text (no padding, exact mean pooling per text); texts are packed
        into passes of at most `PACKED_TOKENS` tokens."""
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        segments = self.model.token_ids(texts)
        rows: list[Array] = []
        batch: list[tuple[list[int], list[int]]] = []
        tokens = 0
        for segment in segments:
            if batch and tokens + len(segment[0]) > PACKED_TOKENS:
                rows.append(self._forward(batch))
                batch, tokens = [], 0
            batch.append(segment)
            tokens += len(segment[0])
        rows.append(self._forward(batch))
        return np.vstack(rows)
