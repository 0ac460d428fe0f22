"""BM25 scores equal rank_bm25.BM25Okapi's, on seeded random corpora and on the seeds."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from index import bm25
from index.bm25 import BM25Scorer, build_bm25
from index.paragraphs import split_document
from index.tokenize import tokenize


def _scorer(corpus: list[list[str]]) -> tuple[BM25Scorer, dict[str, int]]:
    arrays = build_bm25(corpus)
    return (
        BM25Scorer(arrays.indptr, arrays.rows, arrays.weights, arrays.n_docs),
        {t: i for i, t in enumerate(arrays.terms)},
    )


@pytest.mark.parametrize("seed", range(12))
def test_scores_equal_rank_bm25_on_random_corpora(seed: int) -> None:
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(rng.randint(3, 60))]
    weights = [1 / (i + 1) for i in range(len(vocabulary))]  # Zipf-like: common words get negative idf
    corpus = [
        rng.choices(vocabulary, weights, k=rng.randint(0 if seed % 3 == 0 else 1, 40))
        for _ in range(rng.randint(1, 80))
    ]
    if not any(corpus):
        corpus[0] = ["w0"]
    reference = BM25Okapi(corpus)
    scorer, ids = _scorer(corpus)
    for _ in range(20):
        query = rng.choices(vocabulary + ["unknown"], k=rng.randint(1, 6))
        expected = reference.get_scores(query)
        actual = scorer.scores([ids.get(t) for t in query])
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6)


def test_scores_equal_rank_bm25_on_seed_paragraphs() -> None:
    seeds = Path(__file__).resolve().parents[2] / "seeds"
    corpus = []
    for path in sorted(seeds.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        corpus += [tokenize(text[p.char_start : p.char_end]) for p in split_document(text, path.name).passages]
    reference = BM25Okapi(corpus)
    scorer, ids = _scorer(corpus)
    for question in ["Who owned the weapons depot?", "Turkey Idlib Turkey ceasefire", "Hmeimim airbase missiles"]:
        query = tokenize(question)
        np.testing.assert_allclose(scorer.scores([ids.get(t) for t in query]), reference.get_scores(query), atol=1e-6)


def test_top_is_sorted_with_ties_broken_by_row() -> None:
    corpus = [["a", "b"], ["a", "b"], ["c"], ["a", "b"], ["d"]]
    scorer, ids = _scorer(corpus)
    rows, scores = scorer.top([ids["a"]], 10)
    assert rows.tolist() == [0, 1, 3]
    assert scores[0] == scores[1] == scores[2]
    rows, _ = scorer.top([ids["a"]], 2)
    assert rows.tolist() == [0, 1]
    assert scorer.top([None], 5)[0].size == 0


def test_query_weights_scale_each_token_and_zero_weights_match_nothing() -> None:
    corpus = [["depot", "idlib", "strike"], ["turkey", "ceasefire"], ["depot", "turkey"], ["weather"]]
    reference = BM25Okapi(corpus)
    scorer, ids = _scorer(corpus)
    single = {t: reference.get_scores([t]) for t in ("depot", "turkey")}
    weighted = scorer.scores([ids["depot"], ids["turkey"]], [1.0, 0.4])
    np.testing.assert_allclose(weighted, single["depot"] + 0.4 * single["turkey"], atol=1e-9)
    rows, scores = scorer.top([ids["depot"], ids["turkey"]], 10, [1.0, 0.4])
    np.testing.assert_allclose(scores, weighted[rows], atol=1e-12)
    assert rows.tolist() == sorted(rows.tolist(), key=lambda r: (-weighted[r], r))
    # a zero-weight token neither scores nor lets a passage match
    rows, _ = scorer.top([ids["depot"], ids["turkey"]], 10, [1.0, 0.0])
    assert 1 not in rows.tolist()
    with pytest.raises(ValueError):
        scorer.scores([ids["depot"]], [1.0, 2.0])


@pytest.mark.parametrize("cores", [1, 2, 3])
@pytest.mark.parametrize("block", [1, 5, 64])
def test_finish_in_blocks_writes_the_same_postings(monkeypatch: pytest.MonkeyPatch, block: int, cores: int) -> None:
    """`finish` sorts postings into the CSR matrix block by block (a few passages at a time, here tiny
    blocks, including empty passages), in one run of passages per core, each on its own thread: the arrays
    equal the one-block result, rows ascend within a term, and scores still equal rank_bm25's."""
    rng = random.Random(block)
    vocabulary = [f"w{i}" for i in range(40)]
    corpus = [rng.choices(vocabulary, k=rng.randint(0, 30)) for _ in range(120)]
    corpus[60:64] = [[], [], [], []]  # empty passages where a run may begin or end
    monkeypatch.setattr(bm25, "CORES", 1)
    whole = build_bm25(corpus)
    monkeypatch.setattr(bm25, "CORES", cores)
    monkeypatch.setattr(bm25, "FINISH_BLOCK", block)
    builder = bm25.BM25Builder()
    for tokens in corpus:
        builder.add(tokens)
    rows_out = np.full(builder.postings, -1, np.int32)
    weights_out = np.full(builder.postings, np.nan)
    blocks = builder.finish(rows_out, weights_out)
    assert blocks.rows is rows_out and blocks.weights is weights_out
    for name in ("indptr", "rows", "weights", "idf", "doc_freq"):
        np.testing.assert_array_equal(getattr(blocks, name), getattr(whole, name))
    assert all(np.all(np.diff(rows_out[a:b]) > 0) for a, b in zip(blocks.indptr[:-1], blocks.indptr[1:], strict=True))
    reference = BM25Okapi(corpus)
    scorer = BM25Scorer(blocks.indptr, blocks.rows, blocks.weights, blocks.n_docs)
    ids = {t: i for i, t in enumerate(blocks.terms)}
    query = ["w0", "w3", "w17", "w3"]
    np.testing.assert_allclose(scorer.scores([ids[t] for t in query]), reference.get_scores(query), atol=1e-6)
    with pytest.raises(ValueError):
        builder.finish(np.empty(builder.postings + 1, np.int32), weights_out)


def _reference_top(scorer: BM25Scorer, ids: list[int | None], k: int, weights: list[float] | None) -> tuple:
    """The top k by scoring every passage: non-zero scores, best first, ties broken by row."""
    positive = [i for i in range(len(ids)) if weights is None or weights[i] > 0]
    total = scorer.scores([ids[i] for i in positive], None if weights is None else [weights[i] for i in positive])
    rows = np.flatnonzero(total)
    order = np.lexsort((rows, -total[rows]))[:k]
    return rows[order], total[rows][order]


@pytest.mark.parametrize("seed", range(8))
def test_pruned_top_equals_scoring_every_passage(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """`top` skips the postings of common terms when their maximum weights cannot change the top k
    (MaxScore); the result, ties at the k-th place included, is bit for bit the exhaustive one."""
    monkeypatch.setattr(bm25, "DENSE_BELOW", 0)
    pruned = []
    original = BM25Scorer._pruned_top

    def counting(self: BM25Scorer, entries: list, k: int) -> object:
        found = original(self, entries, k)
        pruned.append(found is not None)
        return found

    monkeypatch.setattr(BM25Scorer, "_pruned_top", counting)
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(300)]
    zipf = [1 / (i + 1) for i in range(len(vocabulary))]
    corpus = [rng.choices(vocabulary, zipf, k=rng.randint(1, 30)) for _ in range(1500)]
    corpus += [list(corpus[7]) for _ in range(30)]  # identical passages: ties across the k-th place
    scorer, ids = _scorer(corpus)
    for _ in range(40):
        query = rng.choices(vocabulary[:5], k=rng.randint(1, 3)) + rng.choices(vocabulary, k=rng.randint(1, 4))
        query += rng.choice([[], corpus[7][:2], ["unknown"]])
        term_ids = [ids.get(t) for t in query]
        weights = None if rng.random() < 0.5 else [rng.choice([1.0, 1.0, 0.5, 0.2, 0.0]) for _ in query]
        for k in (1, 10, 40):
            rows, scores = scorer.top(term_ids, k, weights)
            want_rows, want_scores = _reference_top(scorer, term_ids, k, weights)
            np.testing.assert_array_equal(rows, want_rows)
            np.testing.assert_array_equal(scores, want_scores)
            chosen = np.array(sorted(rng.sample(range(len(corpus)), 50)) + [7, 7])
            full = scorer.scores(term_ids, weights)
            np.testing.assert_array_equal(scorer.scores_at(term_ids, chosen, weights), full[chosen])
    assert any(pruned) and not all(pruned)


def test_pruning_is_not_used_with_negative_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where rank_bm25's epsilon floor makes weights negative (common terms of tiny corpora), partial
    scores bound nothing: every posting is scored."""
    monkeypatch.setattr(bm25, "DENSE_BELOW", 0)
    corpus = [["a", "b"], ["a", "c"], ["a", "b", "d"], ["a"], ["a", "d"]]
    scorer, ids = _scorer(corpus)
    assert scorer.weights.min() < 0
    query = [ids["a"], ids["b"], ids["d"]]
    rows, scores = scorer.top(query, 2)
    want_rows, want_scores = _reference_top(scorer, query, 2, None)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(scores, want_scores)
    with pytest.raises(IndexError):
        scorer.scores_at(query, [len(corpus)])


def _resident_kib(path: Path) -> int:
    """Resident KiB of this process's mappings of `path` (from /proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8") as handle:
        for line in handle:
            field = line.split(None, 1)[0]
            if not field.endswith(":"):
                inside = line.rstrip().endswith(str(path))
            elif inside and field == "Rss:":
                total += int(line.split()[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs /proc/self/smaps")
def test_postings_pages_are_dropped_from_the_resident_set_and_scores_stay_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    vocabulary = [f"w{i}" for i in range(50)]
    corpus = [rng.choices(vocabulary, k=rng.randint(5, 40)) for _ in range(40_000)]
    arrays = build_bm25(corpus)
    np.save(tmp_path / "rows.npy", arrays.rows)
    np.save(tmp_path / "weights.npy", arrays.weights)
    mapped = BM25Scorer(
        arrays.indptr,
        np.load(tmp_path / "rows.npy", mmap_mode="r"),
        np.load(tmp_path / "weights.npy", mmap_mode="r"),
        arrays.n_docs,
    )
    in_memory, ids = _scorer(corpus)
    queries = [[ids[t] for t in rng.sample(vocabulary, 3)] for _ in range(20)]

    monkeypatch.setattr(bm25, "RELEASE_AFTER_BYTES", 1 << 60)  # never: the pages touched stay resident
    for query in queries:
        mapped.top(query, 10)
    assert _resident_kib(tmp_path / "weights.npy") > 1000
    assert mapped.release_if_due() is False

    monkeypatch.setattr(bm25, "RELEASE_AFTER_BYTES", 1)  # after every question
    for query in queries:
        for got, want in zip(mapped.top(query, 10), in_memory.top(query, 10), strict=True):
            np.testing.assert_array_equal(got, want)
        assert _resident_kib(tmp_path / "weights.npy") == 0
    np.testing.assert_array_equal(mapped.scores(queries[0]), in_memory.scores(queries[0]))
    assert in_memory.release_if_due() is False  # nothing mapped: nothing to drop
