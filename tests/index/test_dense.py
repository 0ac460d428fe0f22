"""Dense search: refusing bad vectors, never mapping FAISS's -1 to a passage, and the approximate index."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index.builder import open_index
from index.corpus import FolderSource
from index.dense import DenseIndex, check_vectors
from index.embed import ModelEmbedder
from index.errors import ModelError
from tests.conftest import RecordingReporter


def test_non_finite_or_misshapen_vectors_are_refused() -> None:
    good = np.eye(4, dtype=np.float32)
    with pytest.raises(ValueError, match="NaN"):
        check_vectors(np.array([[np.nan, 0, 0, 1]], dtype=np.float32), 4)
    with pytest.raises(ValueError, match="NaN"):
        check_vectors(np.array([[np.inf, 0, 0, 1]], dtype=np.float32), 4)
    with pytest.raises(ValueError, match="shape"):
        check_vectors(good[:, :3], 4)
    index = DenseIndex(good, 4)
    with pytest.raises(ModelError, match="NaN"):
        index.search(np.array([np.nan, 0, 0, 0], dtype=np.float32), 2)


def test_search_never_returns_negative_or_out_of_range_rows() -> None:
    index = DenseIndex(np.eye(3, dtype=np.float32), 3)
    rows, scores = index.search(np.array([1, 0, 0], dtype=np.float32), 10)  # k > size: FAISS pads with -1
    assert rows.tolist() == [0, 1, 2] and scores[0] == pytest.approx(1.0)
    assert (rows >= 0).all()


def test_ties_are_broken_by_row() -> None:
    vectors = np.array([[1, 0], [0.6, 0.8], [0.6, 0.8], [0, 1]], dtype=np.float32)
    rows, _ = DenseIndex(vectors, 2).search(np.array([0.6, 0.8], dtype=np.float32), 2)
    assert rows.tolist() == [1, 2]


def test_approximate_index_above_the_limit_and_reuse_on_update(
    monkeypatch: pytest.MonkeyPatch, corpus_copy: Path, tmp_path: Path, seeds_index_dir: Path, embedder: ModelEmbedder
) -> None:
    monkeypatch.setenv("QA_EXACT_SEARCH_LIMIT", "10")
    index_dir = tmp_path / "idx"
    shutil.copytree(seeds_index_dir, index_dir)
    reporter = RecordingReporter()
    index = open_index(FolderSource(corpus_copy), index_dir, embedder, reporter)
    assert index.manifest["dense"]["kind"] == "ivf-sq8"
    assert "dense_ivf_sq8.faiss" in index.manifest["files"]
    assert any("training the approximate vector index" in n for n in reporter.notes)
    exact = DenseIndex(np.asarray(index.vectors), index.dimension)
    query = np.asarray(index.vectors[7])
    approx_rows, _ = index.dense.search(query, 10)
    exact_rows, _ = exact.search(query, 10)
    assert not index.dense.exact and approx_rows[0] == exact_rows[0] == 7
    assert len(set(approx_rows.tolist()) & set(exact_rows.tolist())) >= 7
    (corpus_copy / "new.txt").write_text("A new paragraph about drones stored in an Idlib warehouse by HTS.\n")
    reporter = RecordingReporter()
    updated = open_index(FolderSource(corpus_copy), index_dir, embedder, reporter)
    assert updated.manifest["dense"]["kind"] == "ivf-sq8"
    assert not any("training" in n for n in reporter.notes)  # the trained quantizer was reused
    assert updated.dense.size == updated.size == 67
