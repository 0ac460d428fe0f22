"""Dense search: refusing bad vectors, never mapping FAISS's -1 to a passage, and the approximate index."""

from __future__ import annotations

import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

from index import builder
from index.ann import ANN_FILE, fill_ivf, read_ann
from index.builder import open_index
from index.corpus import FolderSource
from index.dense import DenseIndex, check_vectors
from index.embed import ModelEmbedder
from index.errors import ModelError
from index.vector_file import VectorFileReader, VectorFileWriter
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
    middle = sorted(corpus_copy.glob("00[12]_*.txt"))  # passages removed and changed before later rows
    middle[0].unlink()
    middle[1].write_text(middle[1].read_text(encoding="utf-8") + "\nOne more paragraph at the end.\n")
    reporter = RecordingReporter()
    moves: list[np.ndarray] = []
    move = builder.move_ivf_entries

    def recording_move(ivf: object, new_row_of: np.ndarray) -> int:
        moves.append(new_row_of.copy())
        return move(ivf, new_row_of)

    monkeypatch.setattr(builder, "move_ivf_entries", recording_move)
    updated = open_index(FolderSource(corpus_copy), index_dir, embedder, reporter)
    assert updated.manifest["dense"]["kind"] == "ivf-sq8"
    assert not any("training" in n for n in reporter.notes)  # the trained quantizer was reused
    assert updated.dense.size == updated.size
    (new_row_of,) = moves  # moved, not refilled: removed rows dropped, later rows shifted down
    assert (new_row_of == -1).any() and (new_row_of[new_row_of >= 0] < np.flatnonzero(new_row_of >= 0)).any()
    # The unchanged passages' entries were moved to their new rows, the new ones added: the same lists
    # and codes as adding every vector of the new generation again.
    moved = read_ann(updated.generation.file(ANN_FILE))
    again = fill_ivf(faiss.clone_index(moved), np.asarray(updated.vectors))
    assert moved.ntotal == again.ntotal == updated.size
    assert _entries(moved) == _entries(again)


def _entries(index: object) -> list[set[tuple[int, bytes]]]:
    """Each list of an IVF index as a set of (id, code)."""
    lists = index.invlists  # type: ignore[attr-defined]
    found = []
    for number in range(index.nlist):  # type: ignore[attr-defined]
        size = lists.list_size(number)
        ids = faiss.rev_swig_ptr(lists.get_ids(number), size).tolist() if size else []
        codes = faiss.rev_swig_ptr(lists.get_codes(number), size * lists.code_size).tobytes() if size else b""
        step = lists.code_size
        found.append({(i, codes[j * step : (j + 1) * step]) for j, i in enumerate(ids)})
    return found


def test_vector_file_reader_reads_what_the_writer_wrote(tmp_path: Path) -> None:
    """The builder reads vectors with plain reads (no memory map, so they do not stay resident)."""
    vectors = np.random.default_rng(0).standard_normal((1000, 8)).astype(np.float32)
    writer = VectorFileWriter(tmp_path / "v.npy", 8)
    writer.write(500, vectors[500:])
    writer.write(0, vectors[:500])
    writer.finish(1000)
    with VectorFileReader(tmp_path / "v.npy") as reader:
        assert len(reader) == 1000 and reader.shape == (1000, 8)
        np.testing.assert_array_equal(reader[:], vectors)
        np.testing.assert_array_equal(reader[998:2000], vectors[998:])
        rows = np.array([0, 3, 3, 640, 999])
        np.testing.assert_array_equal(reader[rows], vectors[rows])
        with pytest.raises(ValueError):
            reader[np.array([5, 2])]
        with pytest.raises(ValueError):
            reader[::2]
    np.save(tmp_path / "f64.npy", vectors.astype(np.float64))
    with pytest.raises(ValueError):
        VectorFileReader(tmp_path / "f64.npy")
