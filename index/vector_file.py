"""A float32 `.npy` matrix written row by row, in any order, without holding it in memory.

Rows go straight to their place in the file; the standard 128-byte `.npy` header is written last,
once the row count is known, so `np.load(..., mmap_mode="r", allow_pickle=False)` reads the result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.dense import check_vectors

HEADER_BYTES = 128


def npy_header(rows: int, dimension: int) -> bytes:
    """A version 1.0 `.npy` header for a C-ordered little-endian float32 (rows, dimension) array."""
    text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dimension}), }}"
    magic = b"\x93NUMPY\x01\x00"
    padding = HEADER_BYTES - len(magic) - 2 - len(text) - 1
    if padding < 0:
        raise ValueError("shape too large for a 128-byte header")
    body = (text + " " * padding + "\n").encode("latin-1")
    return magic + len(body).to_bytes(2, "little") + body


class VectorFileWriter:
    def __init__(self, path: Path, dimension: int) -> None:
        self.path = path
        self.dimension = dimension
        self.rows = 0
        self._row_bytes = dimension * 4
        self._handle = open(path, "wb")  # noqa: SIM115 - closed in finish/abort
        self._handle.write(b"\0" * HEADER_BYTES)

    def write(self, first_row: int, vectors: npt.NDArray[np.float32]) -> None:
        """Write consecutive rows starting at `first_row` (checked: finite, right shape)."""
        block = check_vectors(vectors, self.dimension)
        self._handle.seek(HEADER_BYTES + first_row * self._row_bytes)
        self._handle.write(block.astype("<f4", copy=False).tobytes())
        self.rows = max(self.rows, first_row + len(block))

    def finish(self, rows: int) -> None:
        """Fix the row count (every row below it must have been written) and close."""
        self._handle.truncate(HEADER_BYTES + rows * self._row_bytes)
        self._handle.seek(0)
        self._handle.write(npy_header(rows, self.dimension))
        self._handle.close()

    def abort(self) -> None:
        self._handle.close()
