"""The approximate dense index used above `EXACT_SEARCH_LIMIT` passages: FAISS IVF with 8-bit scalar
quantisation (inner product on unit vectors = cosine).

Its coarse quantizer is trained once and reused by later updates of the same model, so an edit never
retrains: the unchanged passages' entries move to their new rows and only new vectors are added. The
file is written into the generation and covered by the manifest's checksum like every other file, so
FAISS only ever reads a file this program wrote and verified.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.vector_chunks import ChunkedVectors
from index.vector_file import VectorFileReader

VectorRows = npt.NDArray[np.float32] | VectorFileReader | ChunkedVectors  # rows readable by index

ANN_FILE = "dense_ivf_sq8.faiss"
# Above this many passages, search the IVF-SQ8 index: on 98k real MiniLM vectors it answers in 0.3 ms
# with recall@10 0.96 against exact search's 16 ms (benchmarks/ann_recall_real.py); exact search below.
EXACT_SEARCH_LIMIT = 50_000
NPROBE = 32
ADD_BATCH = 65_536


def exact_search_limit() -> int:
    """`QA_EXACT_SEARCH_LIMIT` overrides the threshold (tests exercise the approximate path on small data)."""
    return int(os.environ.get("QA_EXACT_SEARCH_LIMIT", EXACT_SEARCH_LIMIT))


def list_count(rows: int) -> int:
    return int(min(65_536, max(16, 2 ** round(math.log2(4 * math.sqrt(rows))))))


def train_ivf(vectors: VectorRows, dimension: int, seed: int = 1234) -> Any:
    """An empty, trained IVF-SQ8 index for vectors like `vectors` (trained on a sample of them)."""
    import faiss

    nlist = list_count(len(vectors))
    sample_size = min(len(vectors), 40 * nlist)
    rng = np.random.default_rng(seed)
    sample_rows = np.sort(rng.choice(len(vectors), size=sample_size, replace=False))
    sample = np.ascontiguousarray(vectors[sample_rows], dtype=np.float32)
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.niter = 12
    index.cp.seed = seed
    index.train(sample)
    return index


def fill_ivf(index: Any, vectors: VectorRows) -> Any:
    """Empty `index` (keeping its training) and add every row of `vectors`, id = row."""
    index.reset()
    for start in range(0, len(vectors), ADD_BATCH):
        block = np.ascontiguousarray(vectors[start : start + ADD_BATCH], dtype=np.float32)
        index.add(block)
    index.nprobe = NPROBE
    return index


def move_ivf_entries(index: Any, new_row_of: npt.NDArray[np.int64]) -> int:
    """Renumber the entries of a filled IVF index in place: the entry of row r becomes row
    `new_row_of[r]`, or is removed where that is -1. Each entry keeps its list and code (both depend only
    on the vector and the trained quantizer), so an update moves the unchanged passages' entries instead
    of assigning every vector to a list again (0.2 s instead of ~30 s at a million passages). Returns
    the entries kept."""
    import faiss

    lists = index.invlists
    code_size = lists.code_size
    kept = 0
    for number in range(index.nlist):
        size = lists.list_size(number)
        if size == 0:
            continue
        ids = faiss.rev_swig_ptr(lists.get_ids(number), size).copy()
        codes = faiss.rev_swig_ptr(lists.get_codes(number), size * code_size).copy().reshape(size, code_size)
        moved = new_row_of[ids]
        keep = moved >= 0
        lists.resize(number, 0)
        count = int(keep.sum())
        if count:
            # the arrays must outlive the call: swig_ptr keeps no reference to them
            kept_ids, kept_codes = np.ascontiguousarray(moved[keep]), np.ascontiguousarray(codes[keep])
            lists.add_entries(number, count, faiss.swig_ptr(kept_ids), faiss.swig_ptr(kept_codes))
        kept += count
    index.ntotal = kept
    return kept


def add_rows(index: Any, vectors: VectorRows, rows: npt.NDArray[np.int64]) -> None:
    """Add rows `rows` (ascending) of `vectors` to `index`, id = row."""
    for start in range(0, len(rows), ADD_BATCH):
        chosen = rows[start : start + ADD_BATCH]
        block = np.ascontiguousarray(vectors[chosen], dtype=np.float32)
        index.add_with_ids(block, np.ascontiguousarray(chosen, dtype=np.int64))


def write_ann(index: Any, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def read_ann(path: Path) -> Any:
    """Read an index file that the manifest checksum has already verified."""
    import faiss

    index = faiss.read_index(str(path))
    if not isinstance(index, faiss.IndexIVFScalarQuantizer):
        raise ValueError(f"{path.name} is not an IVF-SQ8 index")
    index.nprobe = NPROBE
    return index
