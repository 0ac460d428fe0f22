"""Peak memory of `BM25Builder` at scale, isolated from the rest of the build: the builder's postings
buffers are filled directly with Zipf-distributed term ids (as `add` would leave them), then `finish()`
runs, writing the postings into memory-mapped `.npy` files as the index builder does (`--in-memory`:
into arrays it allocates). VmRSS before and the peak RSS during `finish()` are reported (the kernel's
peak counter, VmHWM, is reset just before `finish()`, so the set-up does not count). Postings per
passage default to 63, as in the 1M synthetic index (62,973,656 postings for 1,002,103 passages).

    PYTHONPATH=. python benchmarks/bench_bm25_memory.py --passages 1000000

It fills the buffers with the builder's own typecodes, so the same script copied into an older checkout
measures that checkout's builder (A/B in one session).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from benchmarks.common import status_kib, table  # noqa: E402
from index.bm25 import BM25Builder  # noqa: E402

BLOCK = 1 << 22


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def fill(builder: BM25Builder, passages: int, k: int, vocabulary: int, seed: int = 0) -> int:
    """Fill the builder's buffers block by block (little set-up memory): Zipf-ranked ids made distinct
    inside each passage (slot j of a passage only takes ids = j (mod k))."""
    rng = np.random.default_rng(seed)
    term_ids, tfs = array(builder._term_ids.typecode), array(builder._tfs.typecode)
    for first in range(0, passages, BLOCK // k):
        count = min(BLOCK // k, passages - first)
        slots = np.tile(np.arange(k, dtype=np.int64), count)
        ids = (((rng.zipf(1.3, count * k) - 1) % (vocabulary // k)) * k + slots) % vocabulary
        term_ids.frombytes(ids.astype(np.dtype(term_ids.typecode)).tobytes())
        tfs.frombytes(rng.integers(1, 4, count * k).astype(np.dtype(tfs.typecode)).tobytes())
    builder.vocab = {f"t{i}": i for i in range(vocabulary)}
    builder._term_ids, builder._tfs = term_ids, tfs
    per_doc = np.full(passages, k, np.int64)
    builder._terms_per_doc = array(builder._terms_per_doc.typecode, per_doc.astype(builder._terms_per_doc.typecode))
    builder._doc_lens = array(builder._doc_lens.typecode, (per_doc + 10).astype(builder._doc_lens.typecode))
    return passages * k


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--postings-per-passage", type=int, default=63)
    parser.add_argument("--vocabulary", type=int, default=130_000)
    parser.add_argument("--in-memory", action="store_true", help="let finish() allocate the result arrays")
    parser.add_argument("--quick", action="store_true", help="100k passages")
    args = parser.parse_args()
    if args.quick:
        args.passages = 100_000
    k = args.postings_per_passage
    vocabulary = args.vocabulary - args.vocabulary % k
    builder = BM25Builder()
    total = fill(builder, args.passages, k, vocabulary)
    buffers = sum(len(b) * b.itemsize for b in (builder._term_ids, builder._tfs)) / 2**20
    with tempfile.TemporaryDirectory(prefix="bench-bm25-memory-") as scratch:
        before = status_kib("VmRSS") / 1024
        peak_reset = reset_peak()
        started = time.perf_counter()
        try:  # the current builder writes into files; older ones (no arguments) allocate
            from index.bm25 import WEIGHT_DTYPE

            if args.in_memory:
                arrays = builder.finish()
            else:
                rows = np.lib.format.open_memmap(Path(scratch) / "rows.npy", "w+", np.int32, (builder.postings,))
                weights = np.lib.format.open_memmap(Path(scratch) / "w.npy", "w+", WEIGHT_DTYPE, (builder.postings,))
                arrays = builder.finish(rows, weights)
                rows.flush()
                weights.flush()
            mode = "in memory" if args.in_memory else "memory-mapped files"
        except ImportError:
            arrays, mode = builder.finish(), "in memory (old builder)"
        seconds = time.perf_counter() - started
        peak = status_kib("VmHWM") / 1024
        kept = (arrays.rows.nbytes + arrays.weights.nbytes + arrays.indptr.nbytes) / 2**20
        weights_dtype = str(arrays.weights.dtype)
        del arrays
    print(table(["passages", "postings", "builder buffers MiB", "result", "RSS before finish MiB",
                 "peak during finish MiB", "finish() extra MiB", "result arrays MiB", "finish s"],
                [[f"{args.passages:,}", f"{total:,}", buffers, f"{mode}, {weights_dtype} weights", before, peak,
                  peak - before, kept, seconds]]))  # fmt: skip
    if not peak_reset:
        print("(VmHWM could not be reset: the peak includes the set-up)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
