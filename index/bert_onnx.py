"""The BERT sentence-transformers model run by ONNX Runtime, without torch: questions, and passages.

The graph is written in-process from the model's configuration (`index.onnx_proto`, a few kilobytes)
and its weights are the model's own safetensors tensors, handed to ONNX Runtime from memory: nothing is
exported or written to disk, and the vectors are sentence-transformers' to cosine >= 0.9999 (tested).
One text per run (no padding, no attention mask). ONNX Runtime's kernels embed a question 1.4-2x as fast
as the numpy forward pass (`index.bert_numpy`; `benchmarks/bench_cli.py` and `serve_memory.py` compare
them, docs/performance.md), which starts sooner and stays as the fallback when onnxruntime is missing.
Passages, one per run with no padding waste, embed ~1.4-1.7x as fast as sentence-transformers' padded
fp32 batches (`benchmarks/bench_indexing.py`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from index.bert_model import Array, BertModel
from index.onnx_proto import FLOAT, INT8, INT64, MICROSOFT, Graph

# int8 weights keep 7 bits: without AVX512-VNNI, ONNX Runtime multiplies uint8 activations by int8 weights
# with 16-bit pairwise sums that saturate on full 8-bit weights (measured: cosine to fp32 0.992 -> 0.994).
INT8_WEIGHT_LIMIT = 63


def bert_graph(model: BertModel, token_states: bool = False, int8: bool = False) -> Graph:
    """token ids, token type ids, positions (each [tokens]) -> the unit mean-pooled vector [1, hidden], and
    with `token_states` the last layer's state of every token [tokens, hidden] (for pooling sentences).
    `int8`: every linear layer multiplies dynamically quantised activations by int8 weights (one scale per
    output): ~1.4x faster on this kind of CPU, less exact (see `index.embed.passage_precision`)."""
    graph = Graph("sentence_embedding")
    for name in ("input_ids", "token_type_ids", "position_ids"):
        graph.add_input(name, INT64, ["tokens"])
    heads, hidden = model.heads, model.dimension
    head_dim = hidden // heads

    def weight(name: str) -> str:
        full = model.prefix + name
        return graph.weight(full, tuple(model.tensors[full].shape))

    def linear(x: str, name: str) -> str:
        if not int8:
            return graph.node("Gemm", [x, weight(name + ".weight"), weight(name + ".bias")], transB=1)
        full = model.prefix + name + ".weight"
        matrix = np.asarray(model.tensors[full], np.float32)  # [out, in]
        limit = INT8_WEIGHT_LIMIT
        peak = np.abs(matrix).max(axis=1)
        scale = np.where(peak > 0, peak / limit, 1.0).astype(np.float32)
        quantised = np.clip(np.rint(matrix / scale[:, None]), -limit, limit).astype(np.int8).T.copy()  # [in, out]
        zero = np.zeros(len(scale), np.int8)  # symmetric: every zero point is 0
        graph.derived.update({full + ".int8": quantised, full + ".scale": scale, full + ".zero": zero})
        inputs = [
            x,
            graph.weight(full + ".int8", quantised.shape, INT8),
            graph.weight(full + ".scale", scale.shape),
            graph.weight(full + ".zero", (len(scale),), INT8),
            weight(name + ".bias"),
        ]
        return graph.node("DynamicQuantizeMatMul", inputs, domain=MICROSOFT)

    def layer_norm(x: str, name: str) -> str:
        inputs = [x, weight(name + ".weight"), weight(name + ".bias")]
        return graph.node("LayerNormalization", inputs, axis=-1, epsilon=model.eps)

    by_head = graph.constant("by_head", [0, heads, head_dim], INT64, [3])
    flat = graph.constant("flat", [0, hidden], INT64, [2])
    scale = graph.constant("scale", [1.0 / math.sqrt(head_dim)], FLOAT, [])
    half = graph.constant("half", [0.5], FLOAT, [])
    one = graph.constant("one", [1.0], FLOAT, [])
    inv_sqrt2 = graph.constant("inv_sqrt2", [1.0 / math.sqrt(2.0)], FLOAT, [])
    tokens_axis = graph.constant("tokens_axis", [0], INT64, [1])

    words = graph.node("Gather", [weight("embeddings.word_embeddings.weight"), "input_ids"])
    positions = graph.node("Gather", [weight("embeddings.position_embeddings.weight"), "position_ids"])
    types = graph.node("Gather", [weight("embeddings.token_type_embeddings.weight"), "token_type_ids"])
    x = layer_norm(graph.node("Add", [graph.node("Add", [words, positions]), types]), "embeddings.LayerNorm")
    for layer in range(model.layers):
        base = f"encoder.layer.{layer}."

        query, key, value = (
            graph.node("Transpose", [graph.node("Reshape", [linear(x, base + name), by_head])], perm=perm)
            for name, perm in (  # query, value: [heads, tokens, head_dim]; key: [heads, head_dim, tokens]
                ("attention.self.query", [1, 0, 2]),
                ("attention.self.key", [1, 2, 0]),
                ("attention.self.value", [1, 0, 2]),
            )
        )
        scores = graph.node("Mul", [graph.node("MatMul", [query, key]), scale])
        probs = graph.node("Softmax", [scores], axis=-1)
        context = graph.node("Transpose", [graph.node("MatMul", [probs, value])], perm=[1, 0, 2])
        attended = linear(graph.node("Reshape", [context, flat]), base + "attention.output.dense")
        x = layer_norm(graph.node("Add", [x, attended]), base + "attention.output.LayerNorm")
        inner = linear(x, base + "intermediate.dense")
        erf = graph.node("Erf", [graph.node("Mul", [inner, inv_sqrt2])])
        gelu = graph.node("Mul", [graph.node("Mul", [inner, half]), graph.node("Add", [one, erf])])
        out = linear(gelu, base + "output.dense")
        x = layer_norm(graph.node("Add", [x, out]), base + "output.LayerNorm")
    pooled = graph.node("ReduceMean", [x, tokens_axis], keepdims=1)
    graph.node("LpNormalization", [pooled], "embedding", axis=-1, p=2)
    graph.add_output("embedding", FLOAT, [1, hidden])
    if token_states:
        graph.node("Identity", [x], "states")
        graph.add_output("states", FLOAT, ["tokens", hidden])
    return graph


class OnnxBertEncoder:
    """Embeds texts with ONNX Runtime, one text per run (no padding). Questions use up to two intra-op
    threads that sleep between operators (a spinning second thread collapses when the other core is busy;
    a sleeping one is 1.6x faster on an idle core and no slower on a busy one); passages, embedded in bulk
    while indexing, use every core with spinning threads and also return their token states."""

    def __init__(self, model: BertModel, session: Any, weights: list[Any]) -> None:
        self.model = model
        self.dimension = model.dimension
        self._session = session
        self._weights = weights  # the session reads these buffers: they live as long as it does

    @classmethod
    def for_model(
        cls, model: BertModel, threads: int = 1, token_states: bool = False, spinning: bool = False, int8: bool = False
    ) -> OnnxBertEncoder | None:
        """The encoder for `model`, or None when onnxruntime is missing or refuses the graph."""
        try:
            import onnxruntime
        except (ImportError, OSError):  # not installed, or its shared library cannot load here
            return None
        graph = bert_graph(model, token_states, int8)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: nothing on the user's terminal
        # spinning between operators: ~10% faster bulk passage embedding, but never for single questions
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        names = list(graph.weights)
        values = [
            onnxruntime.OrtValue.ortvalue_from_numpy(np.asarray(graph.derived.get(name, model.tensors.get(name))))
            for name in names
        ]
        options.add_external_initializers(names, values)
        try:
            session = onnxruntime.InferenceSession(graph.model_bytes(), options, providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001 - any refusal means the numpy encoder is used instead
            return None
        return cls(model, session, values)

    def encode(self, texts: list[str]) -> Array:
        """Unit vectors, one row per text."""
        out = np.zeros((len(texts), self.dimension), np.float32)
        for row, (ids, _) in enumerate(self.model.token_ids(texts)):
            out[row] = self._session.run(["embedding"], self._feed(ids))[0][0]
        return out

    def encode_with_states(self, ids: list[int]) -> tuple[Array, Array]:
        """The unit vector [hidden] of one tokenized text and its tokens' last states [tokens, hidden]
        (the encoder must have been made with `token_states`)."""
        vector, states = self._session.run(["embedding", "states"], self._feed(ids))
        return vector[0], states

    @staticmethod
    def _feed(ids: list[int]) -> dict[str, npt.NDArray[np.int64]]:
        return {
            "input_ids": np.asarray(ids, np.int64),
            "token_type_ids": np.zeros(len(ids), np.int64),  # one text: every token is of segment 0
            "position_ids": np.arange(len(ids), dtype=np.int64),
        }
