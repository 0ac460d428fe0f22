"""A numpy forward pass of BERT-family sentence-transformers models (mean pooling, normalised).

It embeds questions without importing torch (which costs ~4-6 s in a cold process), from the same
safetensors weights and `tokenizer.json` that sentence-transformers uses, so query vectors match the
indexed passage vectors (cosine >= 0.9999, checked by a test and at index build time).
Only models shaped exactly like that are accepted (`NumpyBertEncoder.load` returns None otherwise).
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]
_SAFETENSORS_DTYPES = {"F32": np.float32}


def read_safetensors(path: Path) -> dict[str, Array]:
    """Read float32 tensors from a safetensors file (memory-mapped; no pickle, no torch)."""
    with open(path, "rb") as handle:
        header_len = struct.unpack("<Q", handle.read(8))[0]
        if header_len > 100_000_000:
            raise ValueError("safetensors header too large")
        header: dict[str, Any] = json.loads(handle.read(header_len))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    tensors: dict[str, Array] = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] not in _SAFETENSORS_DTYPES:
            continue
        start, end = info["data_offsets"]
        dtype = _SAFETENSORS_DTYPES[info["dtype"]]
        tensors[name] = data[start:end].view(dtype).reshape(info["shape"])
    return tensors


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

    def __init__(self, tensors: dict[str, Array], config: dict[str, Any], tokenizer: Any, prefix: str) -> None:
        self._t = tensors
        self._p = prefix
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dimension = int(config["hidden_size"])
        self._tokenizer = tokenizer
        self._transposed: dict[str, Array] = {}

    @classmethod
    def load(cls, model_dir: Path) -> NumpyBertEncoder | None:
        """The encoder for `model_dir`, or None when the model is not a plain mean-pooled BERT."""
        try:
            modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
            config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
            kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
            if kinds != ["Transformer", "Pooling", "Normalize"]:
                return None
            if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
                return None
            if config.get("position_embedding_type", "absolute") != "absolute":
                return None
            pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
            wanted = {"pooling_mode_mean_tokens": True}
            others = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v and k not in wanted]
            if not pooling.get("pooling_mode_mean_tokens") or others:
                return None
            max_len = 512
            st_config = model_dir / "sentence_bert_config.json"
            if st_config.exists():
                max_len = int(json.loads(st_config.read_text(encoding="utf-8")).get("max_seq_length", 512))
            weights_file = model_dir / "model.safetensors"
            tokenizer_file = model_dir / "tokenizer.json"
            if not weights_file.exists() or not tokenizer_file.exists():
                return None
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(tokenizer_file))
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=min(max_len, int(config["max_position_embeddings"])))
            tensors = read_safetensors(weights_file)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in tensors else ""
        if f"{prefix}embeddings.word_embeddings.weight" not in tensors:
            return None
        return cls(tensors, config, tokenizer, prefix)

    def _w(self, name: str) -> Array:
        return self._t[self._p + name]

    def _linear(self, x: Array, name: str) -> Array:
        weight = self._transposed.get(name)
        if weight is None:  # contiguous (in, out) copies: faster products for the few rows of a question
            weight = self._transposed[name] = np.ascontiguousarray(self._w(name + ".weight").T)
        out: Array = x @ weight
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

    def token_offsets(self, texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """Token ids and character spans of each text, truncated as the model truncates ((0, 0) for the
        special tokens)."""
        return [(list(e.ids), [tuple(o) for o in e.offsets]) for e in self._tokenizer.encode_batch(texts)]

    def encode(self, texts: list[str]) -> Array:
        """Unit vectors, one row per text (no padding, exact mean pooling per text); texts are packed
        into passes of at most `PACKED_TOKENS` tokens."""
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        segments = [(list(e.ids), list(e.type_ids)) for e in self._tokenizer.encode_batch(texts)]
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
