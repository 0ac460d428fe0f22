"""Indexing throughput and incremental updates.

1. End-to-end `open_index` (read, split, tokenize, embed with the real model, BM25, catalog, FAISS) over
   real SQuAD dev paragraphs written as .txt files, against plain `SentenceTransformer.encode` (fp32,
   batch 32, default order) of the same paragraph texts, in the same run. Shows the progress bar line.
2. Incremental update with the fake embedder over 10,000 small files: full build, no-change open,
   one file edited, one file added: wall time and passages re-embedded.

    PYTHONPATH=. QA_HOME=/tmp/bench-qahome python benchmarks/bench_indexing.py [--paragraphs 2067]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from benchmarks.common import QuietReporter, status_kib, table  # noqa: E402
from benchmarks.squad_files import write_squad_files  # noqa: E402

WORK = Path(os.environ.get("BENCH_WORK", "/tmp/bench-work"))
QA_HOME = Path(os.environ.get("QA_HOME", "/tmp/bench-qahome"))


class _TtyBuffer(io.StringIO):
    def isatty(self) -> bool:
        return True


class _TeeReporter:
    """Draws the real CLI progress bar (as on a terminal) into a buffer, and notes to stderr."""

    def __init__(self) -> None:
        from qa.progress import StderrReporter

        self.buffer = _TtyBuffer()
        self.bar = StderrReporter(self.buffer)
        self.notes = QuietReporter("[index] ")

    def warn(self, message: str) -> None:
        self.notes.warn(message)

    def note(self, message: str) -> None:
        self.notes.note(message)

    def progress(self, stage: str, done: int, total: int) -> None:
        self.bar.progress(stage, done, total)


def throughput(paragraphs: int) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    from index.builder import open_index
    from index.corpus import FolderSource
    from index.embed import ModelEmbedder, bf16_is_fast, resolve_model

    folder = WORK / f"squad-files-{paragraphs}"
    spans = write_squad_files(folder, paragraphs)
    texts = []
    for name, items in spans.items():
        content = (folder / name).read_text(encoding="utf-8")
        texts += [content[start:end] for _, start, end in items]
    spec = resolve_model(None)

    started = time.perf_counter()
    model = SentenceTransformer(spec.location, device="cpu", local_files_only=True)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    baseline = model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True)
    baseline_s = time.perf_counter() - started
    np.save(WORK / f"squad-st-fp32-{paragraphs}.npy", baseline.astype(np.float32), allow_pickle=False)
    del model

    rows = [
        [
            "SentenceTransformer.encode fp32, batch 32 (embedding only, model preloaded)",
            len(texts), len(texts), baseline_s, len(texts) / baseline_s, 1.0, len(texts) / baseline_s, 1.0,
        ],
    ]  # fmt: skip
    reporters: list[_TeeReporter] = []
    default = ModelEmbedder(spec)
    # the default precision (fp32 through ONNX Runtime on CPUs without native bf16), then opt-in int8
    for embedder in [default] + ([ModelEmbedder(spec, precision="int8")] if default.precision != "int8" else []):
        # the default's index is the one bench_side_by_side.py reuses
        directory = QA_HOME / (f"squad-{paragraphs}" + ("" if embedder is default else f"-{embedder.precision}"))
        shutil.rmtree(directory, ignore_errors=True)  # a previous index would lend its vectors to this build
        reporters.append(reporter := _TeeReporter())
        started = time.perf_counter()
        index = open_index(FolderSource(folder), directory, embedder, reporter)
        ours_s = time.perf_counter() - started
        passages = index.size
        index.close()
        rows.append(
            [
                f"corpus-qa open_index end to end ({embedder.precision}, {embedder.passage_encoder_kind}, "
                "incl. model load + BM25 + catalog + FAISS)",
                len(texts), passages, ours_s, len(texts) / ours_s, baseline_s / ours_s,
                passages / ours_s, (passages / ours_s) / (len(texts) / baseline_s),
            ]
        )  # fmt: skip
    headers = ["pipeline", "paragraphs", "passages embedded", "seconds", "paragraphs/s", "x baseline",
               "passages/s", "x baseline"]  # fmt: skip
    print(table(headers, rows))
    print("(paragraphs longer than 160 words become overlapping windows: more passages than paragraphs)")
    print(f"\nbaseline model load (not in its time; ours includes its own): {load_s:.1f} s;")
    print(f"torch threads {torch.get_num_threads()}; ")
    print(f"bf16 native on this CPU: {bf16_is_fast()}; build process peak RSS {status_kib('VmHWM') / 1024:.0f} MiB")
    frames = [line.strip() for line in reporters[0].buffer.getvalue().split("\r") if "ETA" in line]
    middle = [f for f in frames if " 0/s" not in f and "ETA 0s" not in f] or frames
    if middle:
        print(f"progress bar (stderr on a terminal), a mid-build frame: `{middle[len(middle) // 2]}`")


def incremental(files: int) -> None:
    from benchmarks.fake_embedder import FakeEmbedder
    from benchmarks.synthetic_corpus import Varier, load_paragraphs
    from index.builder import open_index
    from index.corpus import FolderSource

    folder = WORK / f"small-files-{files}"
    base = load_paragraphs()
    varier = Varier(base, 3)
    rng = random.Random(3)
    if not (folder / ".done").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(files):
            count = rng.randint(1, 5)
            body = "\n\n".join(varier.paragraph((i * 5 + j) % len(base), 1) for j in range(count))
            sub = folder / f"g{i // 500:03d}"
            sub.mkdir(exist_ok=True)
            (sub / f"note{i:05d}.txt").write_text(f"Note {i}\n\n{body}\n", encoding="utf-8")
        (folder / ".done").write_text("")
    (folder / "g000" / "added.txt").unlink(missing_ok=True)
    edited = folder / "g000" / "note00007.txt"
    original = edited.read_text(encoding="utf-8").split("\n\n(edit")[0].rstrip("\n") + "\n"
    edited.write_text(original, encoding="utf-8")
    directory = QA_HOME / f"small-files-{files}"
    source = FolderSource(folder)
    rows = []

    def step(name: str, rebuild: bool = False) -> None:
        embedder = FakeEmbedder()
        started = time.perf_counter()
        index = open_index(source, directory, embedder, QuietReporter("[incremental] "), rebuild=rebuild)
        seconds = time.perf_counter() - started
        rows.append([name, seconds, embedder.embedded, index.size])
        index.close()

    step("full build", rebuild=True)
    step("open, nothing changed")
    edited.write_text(original + "\n(edit) One new sentence was appended to this paragraph.\n", encoding="utf-8")
    step("one file edited (a paragraph appended)")
    (folder / "g000" / "added.txt").write_text("Added\n\nA brand new paragraph about rivers.\n", encoding="utf-8")
    step("one file added")
    full = rows[0][1]
    for row in rows:
        row.append(row[1] / full)
    print(table(["step", "seconds", "passages embedded", "passages in index", "x full build time"], rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=2067, help="SQuAD dev paragraphs (max 2067)")
    parser.add_argument("--files", type=int, default=10_000, help="small files for the incremental test")
    parser.add_argument("--quick", action="store_true", help="300 paragraphs, 1,000 files")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.paragraphs, args.files = 300, 1000
    WORK.mkdir(parents=True, exist_ok=True)
    if not args.skip_throughput:
        throughput(args.paragraphs)
        print()
    if not args.skip_incremental:
        incremental(args.files)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
