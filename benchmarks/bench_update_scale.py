"""Editing one file of a large synthetic corpus: the update's wall time and peak RSS, then the same for
putting the file back. Uses the corpus and index `bench_scale.py` built (fake embedder), each update in
its own process so that its peak RSS (VmHWM) is its own.

    PYTHONPATH=. QA_HOME=/tmp/bench-qahome python benchmarks/bench_update_scale.py --size 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_scale import WORK, index_dir_for  # noqa: E402
from benchmarks.common import mib, status_kib, table  # noqa: E402

ADDED = "\nA new closing paragraph about the Apollo program and its budget, added to time an update.\n"


def worker(size: int) -> dict[str, object]:
    from benchmarks.common import QuietReporter
    from benchmarks.fake_embedder import FakeEmbedder
    from index.builder import open_index
    from index.corpus import FolderSource

    started = time.perf_counter()
    index = open_index(FolderSource(corpus_dir(size)), index_dir_for(size), FakeEmbedder(), QuietReporter("[update] "))
    seconds = time.perf_counter() - started
    counts = index.manifest["counts"]
    chunks = len(index.manifest.get("vector_chunks", {}).get("passages", [None]))  # vector files (shared ones)
    index.close()
    hwm = mib(status_kib("VmHWM"))
    return {"update_s": seconds, "hwm_mib": hwm, "passages": counts["searchable"], "chunks": chunks}


def corpus_dir(size: int) -> Path:
    return WORK / f"synthetic-{size}-s0"


def run_worker(size: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--size", str(size), "--worker"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.size)))
        return
    corpus = corpus_dir(args.size)
    if not corpus.is_dir() or not (index_dir_for(args.size) / "CURRENT").exists():
        sys.exit(f"build the corpus and index first: benchmarks/bench_scale.py --sizes {args.size}")
    target = sorted(sorted(corpus.iterdir())[len(list(corpus.iterdir())) // 2].glob("*.txt"))[0]
    kept = target.with_suffix(".orig")
    shutil.copy2(target, kept)
    rows = []
    try:
        run_worker(args.size)  # the index up to date first: nothing changed
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(ADDED)
        rows.append(["edit one file", *run_worker(args.size).values()])
    finally:
        shutil.copy2(kept, target)
        kept.unlink()
    rows.append(["put it back", *run_worker(args.size).values()])
    rows = [[label, f"{seconds:.1f}", f"{hwm:,.0f}", f"{n:,}", str(chunks)] for label, seconds, hwm, n, chunks in rows]
    print(f"{args.size:,} paragraphs, file {target.relative_to(corpus)}")
    print(table(["change", "update s", "peak RSS MiB", "passages", "vector chunks"], rows))


if __name__ == "__main__":
    main()
