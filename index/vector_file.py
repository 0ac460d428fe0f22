"""A float32 (or float16) `.npy` matrix written row by row, in any order, without holding it in memory.

Rows go straight to their place in the file; the standard 128-byte `.npy` header is written last,
once the row count is known, so `np.load(..., mmap_mode="r", allow_pickle=False)` reads the result.
Readers always return float32.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.dense import check_vectors

HEADER_BYTES = 128
STORED_DTYPES = (np.dtype("<f4"), np.dtype("<f2"))


def npy_header(rows: int, dimension: int, dtype: npt.DTypeLike = "<f4") -> bytes:
    """A version 1.0 `.npy` header for a C-ordered little-endian float (rows, dimension) array."""
    text = f"{{'descr': '{np.dtype(dtype).str}', 'fortran_order': False, 'shape': ({rows}, {dimension}), }}"
    magic = b"\x93NUMPY\x01\x00"
    padding = HEADER_BYTES - len(magic) - 2 - len(text) - 1
    if padding < 0:
        raise ValueError("shape too large for a 128-byte header")
    body = (text + " " * padding + "\n").encode("latin-1")
    return magic + len(body).to_bytes(2, "little") + body


class VectorFileWriter:
    def __init__(self, path: Path, dimension: int, dtype: npt.DTypeLike = "<f4") -> None:
        self.path = path
        self.dimension = dimension
        self.dtype = np.dtype(dtype).newbyteorder("<")
        if self.dtype not in STORED_DTYPES:
            raise ValueError(f"vectors are stored as float32 or float16, not {self.dtype}")
        self.rows = 0
        self._row_bytes = dimension * self.dtype.itemsize
        self._handle = open(path, "wb")  # noqa: SIM115 - closed in finish/abort
        self._handle.write(b"\0" * HEADER_BYTES)

    def write(self, first_row: int, vectors: npt.NDArray[np.float32]) -> None:
        """Write consecutive rows starting at `first_row` (checked: finite, right shape)."""
        block = check_vectors(vectors, self.dimension)
        self._handle.seek(HEADER_BYTES + first_row * self._row_bytes)
        self._handle.write(block.astype(self.dtype, copy=False).tobytes())
        self.rows = max(self.rows, first_row + len(block))

    def copy_rows(self, source: VectorFileReader, start: int, stop: int, first_row: int) -> None:
        """Copy rows [start, stop) of `source` to the rows from `first_row`: inside the kernel when both files
        store the same type (the rows were checked when they were first written), else read and written."""
        if source.dtype != self.dtype or source.shape[1] != self.dimension:
            self.write(first_row, source.row_range(start, stop))
            return
        self._handle.flush()  # buffered writes land before the copied range
        count = (stop - start) * self._row_bytes
        source_at = source.offset_of(start)
        target_at = HEADER_BYTES + first_row * self._row_bytes
        while count > 0:
            try:
                copied = os.copy_file_range(source.fileno(), self._handle.fileno(), count, source_at, target_at)
            except OSError:  # not supported between these files: through memory, 64 MiB at a time
                copied = min(count, 64 << 20)
                data = os.pread(source.fileno(), copied, source_at)
                if len(data) != copied or os.pwrite(self._handle.fileno(), data, target_at) != copied:
                    raise ValueError("vector file is shorter than its header says") from None
            if copied == 0:
                raise ValueError("vector file is shorter than its header says")
            count, source_at, target_at = count - copied, source_at + copied, target_at + copied
        self.rows = max(self.rows, first_row + stop - start)

    def finish(self, rows: int) -> None:
        """Fix the row count (every row below it must have been written) and close."""
        self._handle.truncate(HEADER_BYTES + rows * self._row_bytes)
        self._handle.seek(0)
        self._handle.write(npy_header(rows, self.dimension, self.dtype))
        self._handle.close()

    def abort(self) -> None:
        self._handle.close()


class VectorFileReader:
    """Rows of a float32 or float16 `.npy` matrix, returned as float32, read with plain file reads, not a
    memory map: pages read this way stay in the page cache instead of counting in the process's resident
    memory (the vectors of a million passages are 1.5 GiB, read whole while the approximate index is built)."""

    def __init__(self, path: Path) -> None:
        self._handle = open(path, "rb")  # noqa: SIM115 - closed in close()
        try:
            version = np.lib.format.read_magic(self._handle)
            if version == (1, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(self._handle)
            else:
                shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(self._handle)
            if len(shape) != 2 or fortran_order or dtype not in STORED_DTYPES:
                raise ValueError(f"{path.name} is not a C-ordered float32 or float16 matrix")
        except BaseException:
            self._handle.close()
            raise
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self._offset = self._handle.tell()
        self.dtype: np.dtype[Any] = dtype
        self._row_bytes = self.shape[1] * dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice | npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.float32]:
        """Consecutive rows (a slice with step 1) or the rows at ascending indices."""
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                raise ValueError("only consecutive rows can be sliced")
            return self._read(start, max(start, stop))
        rows = np.asarray(key, dtype=np.int64)
        out = np.empty((len(rows), self.shape[1]), np.float32)
        if len(rows) and (bool(np.any(np.diff(rows) < 0)) or rows[0] < 0 or rows[-1] >= len(self)):
            raise ValueError("row indices must be ascending and within the matrix")
        block = max(1, (64 << 20) // max(1, self._row_bytes))  # read 64 MiB at a time, keep the wanted rows
        done = 0
        while done < len(rows):
            first = int(rows[done])
            upto = int(np.searchsorted(rows, first + block, side="left"))
            chunk = self._read(first, int(rows[upto - 1]) + 1)
            out[done:upto] = chunk[rows[done:upto] - first]
            done = upto
        return out

    def rows_at(self, rows: Sequence[int] | npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.float32]:
        """The rows at `rows`, in that order, one positional read each (safe from several threads; a
        memory map would instead keep a read-ahead window around each row resident)."""
        out = np.empty((len(rows), self.shape[1]), self.dtype)
        fd = self._handle.fileno()
        for i, row in enumerate(rows):
            row = int(row)
            if not 0 <= row < len(self):
                raise IndexError(f"vector row {row} out of range")
            if os.preadv(fd, [out[i]], self._offset + row * self._row_bytes) != self._row_bytes:
                raise ValueError("vector file is shorter than its header says")
        return out.astype(np.float32, copy=False)

    def row_range(self, start: int, stop: int) -> npt.NDArray[np.float32]:
        """Rows `start` to `stop` (exclusive), one positional read (safe from several threads)."""
        if not 0 <= start <= stop <= len(self):
            raise IndexError(f"vector rows {start}:{stop} out of range")
        out = np.empty((stop - start, self.shape[1]), self.dtype)
        size = out.nbytes
        if size and os.preadv(self._handle.fileno(), [out.data], self._offset + start * self._row_bytes) != size:
            raise ValueError("vector file is shorter than its header says")
        return out.astype(np.float32, copy=False)

    def fileno(self) -> int:
        return self._handle.fileno()

    def offset_of(self, row: int) -> int:
        """Where row `row` begins in the file."""
        if not 0 <= row <= len(self):
            raise IndexError(f"vector row {row} out of range")
        return self._offset + row * self._row_bytes

    def _read(self, start: int, stop: int) -> npt.NDArray[np.float32]:
        self._handle.seek(self._offset + start * self._row_bytes)
        count = (stop - start) * self.shape[1]
        data = np.fromfile(self._handle, dtype=self.dtype, count=count)
        if len(data) != count:
            raise ValueError("vector file is shorter than its header says")
        return data.reshape(stop - start, self.shape[1]).astype(np.float32, copy=False)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> VectorFileReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
