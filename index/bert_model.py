"""The files of a plain mean-pooled BERT sentence-transformers model, read without torch.

`BertModel.load` accepts only models shaped exactly like all-MiniLM-L6-v2 (Transformer -> mean Pooling ->
Normalize, absolute positions, exact GELU) and returns None for anything else, so the query encoders
built on it (`index.bert_onnx`, `index.bert_numpy`) compute what sentence-transformers computes.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]
TokenOffsets = list[tuple[list[int], list[tuple[int, int]]]]
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


@dataclass
class BertModel:
    """Weights (memory-mapped), configuration and tokenizer of one BERT sentence-transformers model."""

    tensors: dict[str, Array]
    config: dict[str, Any]
    tokenizer: Any  # tokenizers.Tokenizer, truncating as the model truncates, never padding
    prefix: str  # "bert." when the weights are named after BertModel inside a wrapper

    @property
    def heads(self) -> int:
        return int(self.config["num_attention_heads"])

    @property
    def layers(self) -> int:
        return int(self.config["num_hidden_layers"])

    @property
    def dimension(self) -> int:
        return int(self.config["hidden_size"])

    @property
    def eps(self) -> float:
        return float(self.config.get("layer_norm_eps", 1e-12))

    def weight(self, name: str) -> Array:
        return self.tensors[self.prefix + name]

    def token_ids(self, texts: list[str]) -> list[tuple[list[int], list[int]]]:
        """Token ids and token type ids of each text, truncated as the model truncates."""
        return [(list(e.ids), list(e.type_ids)) for e in self.tokenizer.encode_batch(texts)]

    def token_offsets(self, texts: list[str]) -> TokenOffsets:
        """Token ids and character spans of each text, truncated as the model truncates ((0, 0) for the
        special tokens)."""
        return [(list(e.ids), [tuple(o) for o in e.offsets]) for e in self.tokenizer.encode_batch(texts)]

    @classmethod
    def load(cls, model_dir: Path) -> BertModel | None:
        """The model in `model_dir`, or None when it is not a plain mean-pooled BERT with safetensors
        weights and a `tokenizer.json`."""
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
