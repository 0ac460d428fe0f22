"""Metric functions of qa.eval: hit@k, MRR, nDCG with graded relevance, recall, entry mapping, split."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from qa.eval import (
    DatasetError,
    Query,
    contains_answer,
    entry_ranking,
    hit_at,
    load_dataset,
    mrr_at,
    ndcg_at,
    normalize_answer,
    percentile,
    read_qrels,
    recall_at,
    select_queries,
    split_of,
)
from qa.fusion import convex_fusion, min_max


def test_entry_ranking_keeps_each_entry_at_its_best_passage() -> None:
    # passages of entry "a" at ranks 2 and 4: "a" counts once, at rank 2
    assert entry_ranking(["b", "a", "c", "a", "b", "d"]) == ["b", "a", "c", "d"]
    assert entry_ranking([]) == []


def test_hit_at_k() -> None:
    qrels = {"x": 1}
    assert hit_at(["x", "y"], qrels, 1) == 1.0
    assert hit_at(["y", "x"], qrels, 1) == 0.0
    assert hit_at(["y", "x"], qrels, 2) == 1.0
    assert hit_at([], qrels, 5) == 0.0
    assert hit_at(["x"], {"x": 0}, 1) == 0.0  # relevance 0 is not relevant


def test_mrr_at_k() -> None:
    qrels = {"x": 1, "z": 1}
    assert mrr_at(["y", "x", "z"], qrels, 10) == 0.5
    assert mrr_at(["y", "w", "z"], qrels, 10) == pytest.approx(1 / 3)
    assert mrr_at(["y", "w", "z"], qrels, 2) == 0.0


def test_ndcg_binary() -> None:
    qrels = {"x": 1, "z": 1}
    assert ndcg_at(["x", "z", "y"], qrels, 10) == pytest.approx(1.0)
    expected = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at(["y", "x", "z"], qrels, 10) == pytest.approx(expected)
    assert ndcg_at(["y"], qrels, 10) == 0.0


def test_ndcg_graded_relevance_rewards_the_more_relevant_entry_first() -> None:
    qrels = {"best": 2, "good": 1}
    ideal = 2 + 1 / math.log2(3)
    assert ndcg_at(["best", "good"], qrels, 10) == pytest.approx(1.0)
    assert ndcg_at(["good", "best"], qrels, 10) == pytest.approx((1 + 2 / math.log2(3)) / ideal)
    # the ideal is cut at k too
    assert ndcg_at(["best"], {"best": 2, "good": 1, "other": 1}, 1) == pytest.approx(1.0)


def test_recall_at_k() -> None:
    qrels = {"a": 1, "b": 1, "c": 0}
    assert recall_at(["a", "x", "b"], qrels, 2) == 0.5
    assert recall_at(["a", "x", "b"], qrels, 3) == 1.0
    assert recall_at(["a"], {}, 3) == 0.0


def test_percentile_interpolates() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0], 100) == 2.0


def test_answer_containment_uses_squad_normalisation() -> None:
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert contains_answer("Won by the Denver Broncos, 24-10.", ["Denver Broncos"])
    assert contains_answer("in Levi's Stadium", ["Levi's Stadium in Santa Clara", "Levi's Stadium"])
    assert not contains_answer("Broncos won", ["Denver Broncos"])
    assert not contains_answer("1950s", ["50"])  # whole words only
    assert not contains_answer("anything", ["", "the"])


def test_qrels_header_and_columns() -> None:
    qrels = read_qrels(["query-id\tcorpus-id\tscore\n", "q1\td1\t1\n", "q1\td2\t2\n", "\n", "q2 0 d3 1\n"])
    assert qrels == {"q1": {"d1": 1, "d2": 2}, "q2": {"d3": 1}}
    with pytest.raises(DatasetError):
        read_qrels(["q1\td1\t1\n", "q1\td2\tlots\n"])


def test_split_is_fixed_and_limit_applies_first() -> None:
    queries = [Query(str(i), f"question {i}") for i in range(400)]
    dev = select_queries(queries, "dev", None)
    test = select_queries(queries, "test", None)
    assert {q.id for q in dev}.isdisjoint({q.id for q in test})
    assert len(dev) + len(test) == 400
    assert 150 < len(dev) < 250
    assert all(split_of(q.id) == "dev" for q in dev)
    assert select_queries(queries, "dev", 100) == [q for q in dev if int(q.id) < 100]
    assert split_of("56be4db0acb8001400a502ec") == split_of("56be4db0acb8001400a502ec")


def test_load_dataset(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text('{"id": "d1", "title": "T", "text": "x"}\n')
    (tmp_path / "queries.jsonl").write_text(
        '{"id": "q1", "text": "what?", "answers": ["x"]}\n{"_id": "q2", "text": "unjudged"}\n'
    )
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    dataset = load_dataset(tmp_path)
    assert dataset.queries == (Query("q1", "what?", ("x",)),)  # queries without judgements are left out
    assert dataset.qrels == {"q1": {"d1": 1}}
    with pytest.raises(DatasetError):
        load_dataset(tmp_path / "missing")


def test_convex_fusion_normalises_and_breaks_ties_by_row() -> None:
    assert min_max([2.0, 4.0, 3.0]) == [0.0, 1.0, 0.5]
    assert min_max([1.0, 1.0]) == [1.0, 1.0]
    fused = convex_fusion([5, 3, 9], [10.0, 0.0, 5.0], [0.2, 0.6, 0.4], 0.5)
    assert [row for row, _ in fused] == [3, 5, 9]  # all three tie at 0.5: row order
    fused = convex_fusion([5, 3, 9], [10.0, 0.0, 5.0], [0.2, 0.6, 0.4], 0.8)
    assert [row for row, _ in fused] == [5, 9, 3]
    with pytest.raises(ValueError):
        convex_fusion([1], [1.0, 2.0], [1.0], 0.5)
