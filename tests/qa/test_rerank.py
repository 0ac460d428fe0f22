"""The sentence-level second stage: its features, its order guarantees, and the embeddings it shares."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from index.tokenize import tokenize
from qa.rerank import (
    PassageSentences,
    PassageSentencesCache,
    QuestionShape,
    RerankSettings,
    passage_features,
    query_pairs,
    rerank,
    sentence_features,
    surface_words,
)

WEIGHTS = {"depot": 2.0, "idlib": 1.0, "jet": 1.0}
LEXICAL_ONLY = RerankSettings(cosine_weight=0.0)
DEPOT_TEXTS = {
    1: "The harbour froze in winter. Jets struck the depot in Idlib. Ships waited outside.",
    2: "A depot in Idlib was hit by jets, officials said. Nobody was hurt.",
}
DEPOT_QUESTION = "Which depot did jets strike in Idlib?"


def test_coverage_counts_the_best_single_sentence() -> None:
    assert sentence_features("Jets struck a depot in Idlib. Nothing else.", WEIGHTS, []).coverage == 1.0
    assert sentence_features("Jets flew. A depot burned. Idlib waited.", WEIGHTS, []).coverage == 0.5
    assert sentence_features("Unrelated text.", WEIGHTS, []).coverage == 0.0
    assert sentence_features("Anything.", {}, []).coverage == 0.0


def test_phrases_reward_the_question_word_order_inside_one_sentence() -> None:
    pairs = query_pairs(tokenize("Which weapons depot did the jets strike?"))
    assert pairs == [("weapon", "depot"), ("depot", "jet"), ("jet", "strike")]
    assert sentence_features("The weapons depot burned.", {}, pairs).phrases == 1 / 3
    assert sentence_features("A depot of weapons burned.", {}, pairs).phrases == 0.0
    assert sentence_features("Weapons. Depot.", {}, pairs).phrases == 0.0  # pairs do not cross sentences


def test_proximity_is_distinct_terms_over_the_shortest_window() -> None:
    near = sentence_features("Jets hit the depot near Idlib today.", WEIGHTS, []).proximity
    far = sentence_features("Jets flew for hours over hills and rivers. Later, the depot in Idlib.", WEIGHTS, [])
    assert near == 3 / 5  # jet .. idlib: 3 question terms in a run of 5 terms (jet hit depot near idlib)
    assert 0 < far.proximity < near
    assert sentence_features("Nothing matches.", WEIGHTS, []).proximity == 0.0


def test_rerank_moves_concentrated_evidence_up_and_keeps_the_tail_below() -> None:
    texts = {
        1: "Jets flew over the hills. A depot stood there. Idlib was quiet.",
        2: "Jets struck the depot in Idlib on Monday.",
        3: "Weather report for the coast.",
    }
    fused = [(1, 0.9), (2, 0.85), (3, 0.1)]
    ranked = rerank(fused, texts, WEIGHTS, [], None, None, _never_embed, {}, RerankSettings(cosine_weight=0.0, depth=2))
    assert [row for row, _ in ranked] == [2, 1, 3]
    assert ranked[-1] == (3, 0.1)  # beyond the depth: untouched
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)


def _recording_embed(embedder, embedded: list[str]):  # type: ignore[no-untyped-def]
    """An embed function that appends every text it embeds to `embedded`."""

    def embed(sentences: list[str]) -> np.ndarray:
        embedded.extend(sentences)
        return embedder.embed_queries(sentences)

    return embed


def test_sentence_cosines_embed_only_the_best_covered_sentences_once(embedder) -> None:  # type: ignore[no-untyped-def]
    texts = DEPOT_TEXTS
    vector = embedder.embed_queries([DEPOT_QUESTION])[0]
    embedded: list[str] = []
    embed = _recording_embed(embedder, embedded)

    cache: dict[str, np.ndarray] = {}
    settings = RerankSettings(cosine_depth=2, sentences_per_passage=1)
    ranked = rerank([(1, 0.5), (2, 0.5)], texts, WEIGHTS, [], None, vector, embed, cache, settings)
    assert sorted(embedded) == ["A depot in Idlib was hit by jets, officials said.", "Jets struck the depot in Idlib."]
    assert set(cache) == set(embedded)
    for sentence, sentence_vector in cache.items():
        assert np.allclose(sentence_vector, embedder.embed_queries([sentence])[0], atol=1e-5)
    rerank([(1, 0.5), (2, 0.5)], texts, WEIGHTS, [], None, vector, embed, cache, settings)
    assert len(embedded) == 2  # the second pass reuses the cache
    assert {row for row, _ in ranked} == {1, 2}


def test_stored_sentence_vectors_are_used_and_a_mismatch_falls_back_to_embedding(embedder) -> None:  # type: ignore[no-untyped-def]
    texts = DEPOT_TEXTS
    vector = embedder.embed_queries([DEPOT_QUESTION])[0]
    stored = {1: np.zeros((3, len(vector)), np.float32), 2: np.zeros((1, len(vector)), np.float32)}
    stored[1][1] = vector  # the best-covered sentence of passage 1: cosine 1.0
    embedded: list[str] = []
    embed = _recording_embed(embedder, embedded)

    settings = RerankSettings(cosine_depth=2, sentences_per_passage=1)
    ranked = rerank(
        [(2, 0.5), (1, 0.5)], texts, WEIGHTS, [], None, vector, embed, {}, settings, stored=lambda rows: stored
    )
    assert embedded == ["A depot in Idlib was hit by jets, officials said."]  # passage 2's stored set is 1 short
    assert ranked[0][0] == 1  # lifted by its stored sentence vector


def test_a_question_embeds_only_itself(seeds_engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The second stage and every shown passage's answer sentence read the sentence vectors the index
    stored: answering embeds the question and nothing else."""
    embedded: list[str] = []
    inner = seeds_engine.embedder.embed_queries

    def counting(texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return inner(texts)

    monkeypatch.setattr(seeds_engine.embedder, "embed_queries", counting)
    question = "How many people live in Idlib?"
    answer = seeds_engine.ask(question, top_k=5)
    assert embedded == [question]
    top = answer.passages[0]
    assert "million" in top.answer_sentence.text
    for passage in answer.passages:  # every highlighted sentence lies inside its passage
        assert passage.answer_sentence.text in passage.text


def _never_embed(sentences: list[str]) -> np.ndarray:
    raise AssertionError(f"nothing should be embedded: {sentences}")


def test_passage_coverage_and_exact_words() -> None:
    question = QuestionShape.of("Which depot did the jets strike in Idlib?")
    assert question.words == frozenset({"depot", "jets", "strike", "idlib"})
    features = sentence_features("Jets struck a depot. Idlib was quiet.", WEIGHTS, [], question)
    assert features.passage_coverage == 1.0  # every term somewhere in the passage
    assert features.coverage == 0.75  # the best sentence: jet + depot (3 of 4 idf units)
    assert features.exact == 2 / 4  # "jets", "depot" as written; "struck" is not "strike"
    assert sentence_features("Nothing here.", WEIGHTS, [], question).exact == 0.0
    assert sentence_features("Jets struck a depot.", WEIGHTS, [], None).exact == 0.0  # no question text: off


def test_a_section_headings_words_count_as_exact_words() -> None:
    # Node.js's errors.md: "What is ERR_INVALID_ARG_TYPE?" ranked `ERR_MISSING_ARGS` (whose sentence names
    # the code) above the section named after it ("An argument of the wrong type was passed ...").
    question = QuestionShape.of("What is ERR_INVALID_ARG_TYPE?")
    texts = {1: "An argument of the wrong type was passed to an API.", 2: "The ERR_INVALID_ARG_TYPE code may be used."}
    weights = {term: 1.0 for term in tokenize("ERR_INVALID_ARG_TYPE")}
    contexts = {1: set(weights)}
    plain = passage_features([1, 2], texts, weights, [], question, contexts=contexts)
    assert (plain[1].coverage, plain[1].exact, plain[2].exact) == (1.0, 0.0, 1.0)
    sectioned = passage_features(
        [1, 2], texts, weights, [], question, contexts=contexts, sections={1: "`ERR_INVALID_ARG_TYPE`"}
    )
    assert (sectioned[1].exact, sectioned[2].exact) == (1.0, 1.0)
    assert passage_features([1], texts, weights, [], question, sections={1: "Other words"})[1].exact == 0.0


def test_answer_kind_of_the_best_sentence() -> None:
    when = QuestionShape.of("When did jets strike the depot in Idlib?")
    dated = sentence_features("Jets struck the depot in Idlib in 2019.", WEIGHTS, [], when)
    undated = sentence_features("Jets struck the depot in Idlib at night.", WEIGHTS, [], when)
    assert (dated.answer_kind, undated.answer_kind) == (1.0, 0.0)
    claim = QuestionShape.of("Jets struck a depot in Idlib in 2019.")  # no question word: no expected kind
    assert sentence_features("Jets struck the depot in Idlib in 2019.", WEIGHTS, [], claim).answer_kind == 0.0


def test_the_second_stage_weighs_the_new_features_only_when_asked() -> None:
    texts = {1: "Jets struck the depot in Idlib at night.", 2: "Jets struck the depot in Idlib in 2019."}
    question = QuestionShape.of("When did jets strike the depot in Idlib?")
    fused = [(1, 0.9), (2, 0.89)]
    off = RerankSettings(cosine_weight=0.0, answer_kind_weight=0.0)
    on = RerankSettings(cosine_weight=0.0)  # the default answer-kind weight
    assert [row for row, _ in rerank(fused, texts, WEIGHTS, [], question, None, _never_embed, {}, off)] == [1, 2]
    assert [row for row, _ in rerank(fused, texts, WEIGHTS, [], question, None, _never_embed, {}, on)] == [2, 1]


PASSAGES = [
    "Jets struck a depot in Idlib. Nothing else. Mr. Smith arrived at 5 p.m. on Monday.",
    "Erdoğan said the strike near İdlib was coordinated; Ankara denied it. 日本語 text follows.",
    "One sentence only without a final stop",
    "",
]


def test_features_from_a_cached_analysis_equal_the_features_computed_afresh() -> None:
    question = QuestionShape.of("When did jets strike the depot in Idlib?")
    pairs = query_pairs(tokenize(question.text))
    for text in PASSAGES:
        analysed = PassageSentences.of(text)
        assert sentence_features(text, WEIGHTS, pairs, question, analysed) == sentence_features(
            text, WEIGHTS, pairs, question
        )


def test_the_passage_cache_analyses_a_row_once_and_empties_when_full(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    analysed: list[str] = []
    real = PassageSentences.of.__func__  # type: ignore[attr-defined]

    def counting(cls, text):  # type: ignore[no-untyped-def]
        analysed.append(text)
        return real(cls, text)

    monkeypatch.setattr(PassageSentences, "of", classmethod(counting))
    cache = PassageSentencesCache(limit=2)
    first = cache.of({0: PASSAGES[0], 1: PASSAGES[1]})
    again = cache.of({1: PASSAGES[1], 0: PASSAGES[0]})
    assert again[0] is first[0] and again[1] is first[1] and len(analysed) == 2
    cache.of({2: PASSAGES[2]})  # full: emptied, then holds row 2 only
    cache.of({0: PASSAGES[0]})
    assert analysed == [PASSAGES[0], PASSAGES[1], PASSAGES[2], PASSAGES[0]]


def test_answers_are_the_same_with_the_passage_cache_warm_or_cold(seeds_engine) -> None:  # type: ignore[no-untyped-def]
    from qa.retrieve import HybridRetriever

    questions = ["Who struck the weapons depot in Idlib?", "How many people live in Idlib?", "What did Moscow say?"]
    warm = seeds_engine.retriever
    for question in questions:
        warm.retrieve(question, "hybrid", 10)
    for question in questions:
        cold = HybridRetriever(seeds_engine.index, seeds_engine.embedder)
        assert warm.retrieve(question, "hybrid", 10).candidates == cold.retrieve(question, "hybrid", 10).candidates


def test_stored_sentence_terms_rank_exactly_as_the_text_does(seeds_engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The index stores each sentence's span and terms (vocabulary ids): the second stage and the answer
    stage read them instead of splitting and tokenizing passages, with the very same features, order,
    answer sentences and highlights; the stored spans are `sentences_of(text)` and the ids stand for
    `span_terms` of each sentence."""
    from index.sentences import sentences_of
    from index.tokenize import span_terms
    from qa.retrieve import HybridRetriever

    index = seeds_engine.index
    assert index.stored_sentence_terms is not None
    vocabulary = index.catalog.terms_by_id()
    rows = list(range(index.size))
    stored = index.sentence_terms(rows)
    for row, record in index.passages(rows).items():
        spans, ids = stored[row].spans, stored[row].terms
        assert list(spans) == sentences_of(record.text)
        assert [[vocabulary[i] for i in sentence] for sentence in ids] == [
            span_terms(record.text[start:end]) for start, end in spans
        ]
    questions = [
        "Who struck the weapons depot in Idlib?",
        "How many people live in Idlib?",
        "Did quokkas in Zanzibar see the Idlib depot strike?",  # words the corpus lacks
    ]
    with_stored = [HybridRetriever(index, seeds_engine.embedder).retrieve(q, "hybrid", 10) for q in questions]
    answers = [[p.to_json() for p in seeds_engine.ask(q, top_k=10).passages] for q in questions]
    monkeypatch.setattr(index, "stored_sentence_terms", None)
    from_text = [HybridRetriever(index, seeds_engine.embedder).retrieve(q, "hybrid", 10) for q in questions]
    for mine, theirs in zip(with_stored, from_text, strict=True):
        assert mine.candidates == theirs.candidates
    # the answer stage too: the same answer sentences and highlighted words
    assert answers == [[p.to_json() for p in seeds_engine.ask(q, top_k=10).passages] for q in questions]


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("abé_1 .-'’\u0301ßİ"), min_size=1, max_size=30),
    st.text(alphabet=st.sampled_from("abé_1 .-'’\u0301ßİA"), max_size=60),
)
def test_words_in_counts_whole_words_as_the_tokenizer_cuts_them(question: str, text: str) -> None:
    """The second stage finds the question's words in a sentence with `str.find`, without tokenizing it:
    the count is the tokenizer's (`surface_words`), whatever the accents, apostrophes and underscores."""
    shape = QuestionShape.of(question + " depot")
    for sentence in (text, " ".join(sorted(shape.words)), f"{text}_{question}.{text}"):
        assert shape.words_in(sentence) == len(shape.words & surface_words(sentence))
