"""The embedder: the torch-free query encoders (ONNX Runtime, numpy), ONNX Runtime passages and bf16
passages agree with sentence-transformers fp32."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from index import embed as embed_module
from index.bert_model import BertModel
from index.bert_numpy import PACKED_TOKENS, NumpyBertEncoder
from index.bert_onnx import OnnxBertEncoder, bert_graph
from index.embed import (
    ModelEmbedder,
    bundled_model_dir,
    check_model_dir,
    embed_sentences_alone,
    load_query_encoder,
    passage_precision,
    pool_sentences,
    resolve_model,
)
from index.errors import ModelError
from index.sentences import sentences_of

TEXTS = [
    "Who owned the weapons depot that Russian jets struck in Idlib?",
    "The Russian air forces, in coordination with Turkey, carried out an air strike on a militant weapons "
    "store in Syria’s rebel-held Idlib province that belongs to Hayat Tahrir al-Sham (HTS) militia.",
    "x",
    "Erdoğan 🙂 日本語 Идлиб",
    "word " * 400,  # longer than the model's 256-token window: truncated the same way
]


def test_questions_are_embedded_with_onnx_runtime_by_default(embedder: ModelEmbedder) -> None:
    assert isinstance(embedder.query_encoder(), OnnxBertEncoder)


@pytest.mark.parametrize("kind", ["onnx", "numpy"])
def test_query_encoders_match_sentence_transformers(embedder: ModelEmbedder, kind: str) -> None:
    """Questions are embedded without torch; the vectors are sentence-transformers' own (the passages
    were embedded by it), one text or several at a time, including one longer than the model's window."""
    model = embedder.bert_model()
    assert model is not None
    encoder = load_query_encoder(model, kind)
    assert isinstance(encoder, OnnxBertEncoder if kind == "onnx" else NumpyBertEncoder)
    vectors = encoder.encode(TEXTS)
    reference = embedder._sentence_transformer().encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    cosines = (vectors * reference.astype(np.float32)).sum(axis=1)
    assert cosines.min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(encoder.encode([TEXTS[1]])[0], vectors[1], atol=1e-6)


@pytest.mark.parametrize("int8", [False, True])
def test_onnx_graph_is_a_valid_onnx_model(embedder: ModelEmbedder, int8: bool) -> None:
    """The graph is serialised by `index.onnx_proto`, not by the onnx package: the package's own checker
    accepts it (with the weights' declared shapes and types) when it is installed, the int8 graph with its
    ONNX Runtime operators too."""
    onnx = pytest.importorskip("onnx")
    local_dir = embedder.spec.local_dir
    assert local_dir is not None
    model = BertModel.load(local_dir)
    assert model is not None
    graph = bert_graph(model, token_states=True, int8=int8)
    proto = onnx.load_model_from_string(graph.model_bytes())
    assert [i.name for i in proto.graph.input] == ["input_ids", "token_type_ids", "position_ids"]
    assert {t.name for t in proto.graph.initializer} >= set(graph.weights)
    assert {op.domain for op in proto.opset_import} == ({"", "com.microsoft"} if int8 else {""})
    for tensor in proto.graph.initializer:  # external weights: shape only, the values come from memory
        if tensor.name in graph.weights:
            value = np.asarray(graph.derived.get(tensor.name, model.tensors.get(tensor.name)))
            assert tuple(tensor.dims) == value.shape
            assert onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type) == value.dtype
            tensor.ClearField("external_data")
            tensor.data_location = onnx.TensorProto.DEFAULT
            tensor.raw_data = value.tobytes()
    onnx.checker.check_model(proto, full_check=True)


def test_an_unknown_query_encoder_is_a_clear_error(embedder: ModelEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    model = embedder.bert_model()
    assert model is not None
    monkeypatch.setenv("QA_QUERY_ENCODER", "tensorflow")
    with pytest.raises(ModelError, match="QA_QUERY_ENCODER must be one of onnx, numpy"):
        load_query_encoder(model)


def test_without_onnx_runtime_questions_use_the_numpy_encoder(
    embedder: ModelEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = embedder.bert_model()
    assert model is not None
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if it were not installed
    assert isinstance(load_query_encoder(model), NumpyBertEncoder)


def test_threads_asking_at_once_share_one_query_encoder() -> None:
    """The TUI warms the engine in its start-up thread while a question may already run in another: the
    query encoder is created once, and nobody sees "no encoder" (which would load torch) meanwhile."""
    from concurrent.futures import ThreadPoolExecutor

    fresh = ModelEmbedder(resolve_model(None))
    with ThreadPoolExecutor(max_workers=6) as pool:
        encoders = list(pool.map(lambda _: fresh.query_encoder(), range(6)))
    assert encoders[0] is not None and all(encoder is encoders[0] for encoder in encoders)
    assert fresh._model is None  # sentence-transformers (torch) never loaded


def test_packed_passes_give_each_text_its_own_vector(embedder: ModelEmbedder) -> None:
    """The numpy encoder packs texts into passes of at most PACKED_TOKENS tokens (attention and pooling
    stay within each text): many texts at once, spilling over several passes, equal each text alone."""
    local_dir = embedder.spec.local_dir
    assert local_dir is not None
    encoder = NumpyBertEncoder.load(local_dir)
    assert encoder is not None
    texts = [f"Sentence {n} about {' '.join(['harbour'] * (n % 40))} cranes." for n in range(90)] + TEXTS
    assert sum(len(ids) for ids, _ in encoder.model.token_ids(texts)) > 2 * PACKED_TOKENS
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([text]) for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_bf16_passages_agree_with_fp32(embedder: ModelEmbedder) -> None:
    bf16 = ModelEmbedder(resolve_model(None), precision="bf16")
    fp32_vectors = embedder.embed_passages(TEXTS)
    bf16_vectors = bf16.embed_passages(TEXTS)
    assert bf16_vectors.dtype == np.float32
    assert (fp32_vectors * bf16_vectors).sum(axis=1).min() >= 0.999


def test_passages_are_embedded_with_onnx_runtime_as_sentence_transformers_would(embedder: ModelEmbedder) -> None:
    """fp32 passages go through ONNX Runtime, one text per run (no padding), without loading torch; the
    passage vectors and the sentence vectors pooled from the same run equal the sentence-transformers
    path's (cosine >= 0.9999), the text longer than the model's window included."""
    onnx = ModelEmbedder(resolve_model(None), precision="fp32")
    torch_path = ModelEmbedder(resolve_model(None), precision="fp32", passage_encoder="torch")
    assert isinstance(onnx.passage_encoder(), OnnxBertEncoder) and torch_path.passage_encoder() is None
    texts = [*TEXTS, "Idlib. " + TEXTS[1] + " Turkey said nothing about it."]
    spans = [sentences_of(text) for text in texts]
    passages, sentences = onnx.embed_passages_and_sentences(texts, spans)
    reference, reference_sentences = torch_path.embed_passages_and_sentences(texts, spans)
    assert onnx._model is None  # sentence-transformers (torch) never loaded
    assert (passages * reference).sum(axis=1).min() >= 0.9999
    assert sentences.shape == reference_sentences.shape == (sum(map(len, spans)), onnx.dimension)
    assert (sentences * reference_sentences).sum(axis=1).min() >= 0.9999
    np.testing.assert_allclose(onnx.embed_passages(texts), passages, atol=1e-6)


def test_passages_embedded_side_by_side_keep_their_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passages run on `PASSAGE_WORKERS` threads at once, rounds of several batches: each passage's vector
    and sentence vectors land in its own rows (the same as that text embedded alone), and an error raised
    in a worker reaches the caller."""
    onnx = ModelEmbedder(resolve_model(None), precision="fp32")
    texts = [f"Paragraph {i} is about river {i}. It has {i * 3} bridges and {i % 7} ferries." for i in range(150)]
    spans = [sentences_of(text) for text in texts]
    passages, sentences = onnx.embed_passages_and_sentences(texts, spans)
    encoder = onnx.passage_encoder()
    assert isinstance(encoder, OnnxBertEncoder)
    np.testing.assert_allclose(passages, encoder.encode(texts), atol=1e-6)
    assert all(len(pairs) == 2 for pairs in spans)
    for i in (0, 63, 64, 149):  # first and last of a round, first of the next, the last one
        passage, its_sentences = onnx.embed_passages_and_sentences([texts[i]], [spans[i]])
        np.testing.assert_allclose(passages[i], passage[0], atol=1e-6)
        np.testing.assert_allclose(sentences[2 * i : 2 * i + 2], its_sentences, atol=1e-6)

    calls = 0
    real = encoder.encode_with_states

    def failing(ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        nonlocal calls
        calls += 1
        if calls == 100:
            raise RuntimeError("the model run failed")
        return real(ids)

    monkeypatch.setattr(encoder, "encode_with_states", failing)
    with pytest.raises(RuntimeError, match="the model run failed"):
        onnx.embed_passages(texts)


def test_int8_passages_stay_close_to_fp32(embedder: ModelEmbedder) -> None:
    """int8 passages (ONNX Runtime, quantised activations and 7-bit weights): passage and sentence vectors
    close to fp32 ones (measured ~0.994 on SQuAD paragraphs), and the same passage ranks first for each
    question; questions stay fp32."""
    int8 = ModelEmbedder(resolve_model(None), precision="int8")
    encoder = int8.passage_encoder()
    assert isinstance(encoder, OnnxBertEncoder)
    spans = [sentences_of(text) for text in TEXTS]
    passages, sentences = int8.embed_passages_and_sentences(TEXTS, spans)
    reference, reference_sentences = embedder.embed_passages_and_sentences(TEXTS, spans)
    assert (passages * reference).sum(axis=1).min() >= 0.98
    assert (sentences * reference_sentences).sum(axis=1).min() >= 0.97
    questions = embedder.embed_queries(["Who struck the weapons depot?", "What did Turkey say?"])
    np.testing.assert_array_equal(int8.embed_queries(["Who struck the weapons depot?"])[0], questions[0])
    assert ((passages @ questions.T).argmax(axis=0) == (reference @ questions.T).argmax(axis=0)).all()


def test_int8_is_opt_in_and_part_of_the_model_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passages are embedded in bf16 where the CPU runs it natively, else fp32; int8 only when asked for.
    The precision is part of the index's model id (int8 vectors are never mixed with fp32 ones); an
    unknown QA_EMBED_PRECISION is a clear error."""
    monkeypatch.delenv("QA_EMBED_PRECISION")
    monkeypatch.setattr(embed_module, "bf16_is_fast", lambda: False)
    assert passage_precision() == "fp32"
    monkeypatch.setattr(embed_module, "bf16_is_fast", lambda: True)
    assert passage_precision() == "bf16"
    monkeypatch.setenv("QA_EMBED_PRECISION", "int8")
    assert passage_precision() == "int8"
    assert ModelEmbedder(resolve_model(None)).model_id == "sentence-transformers/all-MiniLM-L6-v2 (int8)"
    torch_path = ModelEmbedder(resolve_model(None), passage_encoder="torch")  # int8 is an ONNX Runtime graph
    assert torch_path.precision == "fp32" and torch_path.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    with monkeypatch.context() as blocked:
        blocked.setitem(sys.modules, "onnxruntime", None)  # not installed: fp32 vectors, labelled as such
        assert ModelEmbedder(resolve_model(None)).model_id == "sentence-transformers/all-MiniLM-L6-v2"
    monkeypatch.setenv("QA_EMBED_PRECISION", "fp16")
    with pytest.raises(ModelError, match="QA_EMBED_PRECISION must be one of auto, fp32, bf16, int8"):
        passage_precision()


def test_passage_encoder_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """bf16 passages stay with torch (native bf16 matmuls); an unknown QA_PASSAGE_ENCODER is a clear error;
    without onnxruntime fp32 passages go through sentence-transformers."""
    assert ModelEmbedder(resolve_model(None), precision="bf16").passage_encoder() is None
    monkeypatch.setenv("QA_PASSAGE_ENCODER", "tensorflow")
    with pytest.raises(ModelError, match="QA_PASSAGE_ENCODER must be one of onnx, torch"):
        ModelEmbedder(resolve_model(None))
    monkeypatch.delenv("QA_PASSAGE_ENCODER")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if it were not installed
    fallback = ModelEmbedder(resolve_model(None), precision="fp32")
    assert fallback.passage_encoder() is None
    assert np.linalg.norm(fallback.embed_passages([TEXTS[1]]), axis=1)[0] == pytest.approx(1.0, abs=1e-5)


def test_pooling_takes_the_tokens_inside_each_span() -> None:
    states = np.arange(12, dtype=np.float32).reshape(6, 2)
    offsets = [(0, 0), (0, 3), (4, 8), (8, 9), (10, 14), (0, 0)]  # [CLS] ... [SEP]
    pooled = pool_sentences(states, offsets, [(0, 9), (10, 14), (15, 20)])
    assert pooled[0] is not None and pooled[0].tolist() == states[1:4].mean(axis=0).tolist()
    assert pooled[1] is not None and pooled[1].tolist() == states[4].tolist()
    assert pooled[2] is None  # past the last token: the text was cut by the length limit


def test_sentence_vectors_come_from_the_passage_pass(embedder: ModelEmbedder) -> None:
    """Passage vectors are exactly `embed_passages`'; each sentence vector pools its tokens' states from
    that same pass (close in meaning to the sentence embedded alone, and nearer its own sentence than the
    passage's others); sentences past the 256-token window are embedded alone."""
    long_text = " ".join(f"Sentence number {n} tells of harbour cranes and ferries." for n in range(40))
    texts = [TEXTS[1], "Idlib. " + TEXTS[1] + " Turkey said nothing about it.", long_text, "x"]
    spans = [sentences_of(text) for text in texts]
    passages, sentences = embedder.embed_passages_and_sentences(texts, spans)
    np.testing.assert_allclose(passages, embedder.embed_passages(texts), atol=1e-6)
    _, alone = embed_sentences_alone(embedder, texts, spans)
    assert sentences.shape == alone.shape == (sum(map(len, spans)), embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(sentences, axis=1), 1.0, atol=1e-5)
    cosines = (sentences * alone).sum(axis=1)
    assert cosines.min() > 0.5  # measured 0.64 to 1.0 here: the same meaning, coloured by the passage
    second = sentences[1:4]  # the sentences of the second text
    assert int(np.argmax(second @ alone[2])) == 1  # the strike sentence pooled is nearest the strike alone
    first_long = 1 + 3
    tail = slice(first_long + 30, first_long + 40)  # far past 256 tokens: embedded alone, so identical
    np.testing.assert_allclose(sentences[tail], alone[tail], atol=1e-5)


def test_unknown_module_class_is_refused(tmp_path: Path) -> None:
    model_dir = tmp_path / "evil-model"
    model_dir.mkdir()
    (model_dir / "modules.json").write_text(
        json.dumps([{"idx": 0, "name": "0", "path": "", "type": "evil_package.backdoor.Module"}])
    )
    with pytest.raises(ModelError, match="refusing unknown module class"):
        check_model_dir(model_dir)
    with pytest.raises(ModelError, match="refusing"):
        resolve_model(str(model_dir))
    check_model_dir(bundled_model_dir())  # the bundled model passes


def test_missing_model_name_is_a_clear_error() -> None:
    with pytest.raises(ModelError, match="cannot load model"):
        _ = ModelEmbedder(resolve_model("no-such-org/no-such-model")).embed_passages(["text"])


def test_a_model_name_must_be_in_the_local_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked when the name is resolved, before any index is opened or an update announced; the cache
    is found the way the hub finds it (HF_HUB_CACHE, else HF_HOME/hub)."""
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelError, match="not in the local Hugging Face cache"):
        resolve_model("some-org/some-model")
    (tmp_path / "hub" / "models--some-org--some-model").mkdir(parents=True)
    assert resolve_model("some-org/some-model").location == "some-org/some-model"
    (tmp_path / "hub" / "models--sentence-transformers--paraphrase-thing").mkdir()
    assert resolve_model("paraphrase-thing").local_dir is None  # sentence-transformers' own organisation
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelError, match="not in the local Hugging Face cache"):
        resolve_model("some-org/some-model")
    (tmp_path / "hf" / "hub" / "models--some-org--some-model").mkdir(parents=True)
    assert resolve_model("some-org/some-model").model_id == "some-org/some-model"
