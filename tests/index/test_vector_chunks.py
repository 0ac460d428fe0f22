"""Vectors in several chunk files, read through a row map (index/vector_chunks.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.vector_chunks import ChunkedVectors, chunks_to_link
from index.vector_file import VectorFileWriter


def _chunk(path: Path, rows: np.ndarray, dtype: str = "<f4") -> Path:
    writer = VectorFileWriter(path, rows.shape[1], dtype)
    writer.write(0, rows)
    writer.finish(len(rows))
    return path


def test_rows_are_read_through_the_map_across_chunks(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    first, second = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    paths = [_chunk(tmp_path / "a.npy", first), _chunk(tmp_path / "b.npy", second)]
    physical = np.concatenate([first, second])
    row_map = np.array([8, 0, 5, 2, 2, 7], dtype=np.int64)  # out of order, a row twice, both chunks
    with ChunkedVectors(paths, row_map) as vectors:
        assert vectors.shape == (6, 3) and vectors.physical_rows == 9
        expected = physical[row_map]
        np.testing.assert_array_equal(vectors.rows_at([3, 0, 5]), expected[[3, 0, 5]])
        np.testing.assert_array_equal(vectors[1:5], expected[1:5])
        np.testing.assert_array_equal(vectors[np.array([5, 0, 3, 3])], expected[[5, 0, 3, 3]])
        np.testing.assert_array_equal(vectors[2], expected[2])
        np.testing.assert_array_equal(np.asarray(vectors), expected)
        np.testing.assert_array_equal(vectors.physical_range(5, 8), second[0:3])  # within the second chunk
        with pytest.raises(IndexError):
            vectors.physical_range(4, 6)  # across two chunks: never one passage's sentences
        with pytest.raises(IndexError):
            vectors.rows_at([6])
        assert vectors.rows_within_chunks()
    with ChunkedVectors(paths, np.array([9], dtype=np.int64)) as pointing_outside:
        assert not pointing_outside.rows_within_chunks()


def test_float16_chunks_are_read_as_float32(tmp_path: Path) -> None:
    rows = np.arange(12, dtype=np.float32).reshape(4, 3) / 8
    with ChunkedVectors([_chunk(tmp_path / "s.npy", rows, "<f2")]) as vectors:
        assert vectors.single is not None
        assert vectors[0:4].dtype == np.float32
        np.testing.assert_array_equal(vectors[0:4], rows)


def test_an_update_links_every_chunk_until_they_are_many_or_mostly_garbage() -> None:
    assert chunks_to_link(passage_chunks=3, physical_rows=1_000, live_rows=900) == 3
    assert chunks_to_link(passage_chunks=16, physical_rows=1_000, live_rows=900) == 1  # the small ones copied
    assert chunks_to_link(passage_chunks=3, physical_rows=1_000, live_rows=400) == 0  # one fresh chunk
