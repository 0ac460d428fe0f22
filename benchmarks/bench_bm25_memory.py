"""Peak memory of `BM25Builder` at scale, isolated from the rest of the build: the builder's postings
buffers are filled directly with Zipf-distributed term ids (as `add` would leave them), then `finish()`
runs; VmRSS before and VmHWM after are reported. Postings per passage default to 63, as in the 1M
synthetic index (62,973,656 postings for 1,002,103 passages).

    PYTHONPATH=. python benchmarks/bench_bm25_memory.py --passages 1000000
"""

from __future__ import annotations

import argparse
import sys
import time
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from benchmarks.common import status_kib, table  # noqa: E402
from index.bm25 import BM25Builder  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--postings-per-passage", type=int, default=63)
    parser.add_argument("--vocabulary", type=int, default=130_000)
    parser.add_argument("--quick", action="store_true", help="100k passages")
    args = parser.parse_args()
    if args.quick:
        args.passages = 100_000
    rng = np.random.default_rng(0)
    per_doc = np.full(args.passages, args.postings_per_passage, np.int64)
    total = int(per_doc.sum())
    # Zipf-ranked ids made distinct inside each passage: slot j of a passage only takes ids = j (mod k).
    k = args.postings_per_passage
    vocabulary = args.vocabulary - args.vocabulary % k
    slots = np.tile(np.arange(k, dtype=np.int64), args.passages)
    ids = (((rng.zipf(1.3, total) - 1) % (vocabulary // k)) * k + slots) % vocabulary
    args.vocabulary = vocabulary
    builder = BM25Builder()
    builder.vocab = {f"t{i}": i for i in range(args.vocabulary)}
    builder._term_ids = array("q", ids.astype(np.int64).tobytes())
    builder._tfs = array("q", rng.integers(1, 4, total).astype(np.int64).tobytes())
    builder._terms_per_doc = array("q", per_doc.tobytes())
    builder._doc_lens = array("q", (per_doc + 10).tobytes())
    del ids
    before = status_kib("VmRSS") / 1024
    started = time.perf_counter()
    arrays = builder.finish()
    seconds = time.perf_counter() - started
    peak = status_kib("VmHWM") / 1024
    kept = (arrays.rows.nbytes + arrays.weights.nbytes + arrays.indptr.nbytes) / 2**20
    print(table(["passages", "postings", "RSS before finish MiB", "peak during finish MiB",
                 "finish() extra MiB", "result arrays MiB", "finish s"],
                [[f"{args.passages:,}", f"{total:,}", before, peak, peak - before, kept, seconds]]))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
