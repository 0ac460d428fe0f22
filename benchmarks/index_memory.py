"""Peak memory (RSS) and time of indexing a generated corpus.

    python benchmarks/index_memory.py --paragraphs 20000                 # real model
    python benchmarks/index_memory.py --paragraphs 100000 --no-embed     # reading, splitting, BM25, catalog
    python benchmarks/index_memory.py --layout one-line --megabytes 50 --no-embed
    python benchmarks/index_memory.py --layout tiny --paragraphs 100000 --no-embed

Layouts: `files` (documents of 50 paragraphs of ~40 words), `tiny` (one file of N five-word paragraphs),
`one-line` (one file: a single line of M megabytes of sentences). `--no-embed` replaces the model with
an embedder that returns a constant unit vector instantly, isolating everything but the model.
Prints one JSON line: paragraphs, passages, seconds, peak RSS (MiB) and RSS after imports.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.builder import open_index  # noqa: E402
from index.corpus import FolderSource  # noqa: E402

WORDS = (
    "harbour orchard glacier railway library volcano monastery lighthouse river market bridge tower garden "
    "village council winter summer storm repair visitor archive letter museum festival engine signal"
).split()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def generate(root: Path, layout: str, paragraphs: int, megabytes: float) -> int:
    rng = random.Random(7)
    if layout == "files":
        per_file = 50
        for start in range(0, paragraphs, per_file):
            count = min(per_file, paragraphs - start)
            body = "\n\n".join(_sentence(rng, 20) + " " + _sentence(rng, 20) for _ in range(count))
            (root / f"doc{start // per_file:06d}.txt").write_text(f"Document {start}\n\n{body}\n", encoding="utf-8")
        return paragraphs
    if layout == "tiny":
        body = "\n\n".join(f"{_sentence(rng, 4)} {i}" for i in range(paragraphs))
        (root / "tiny.txt").write_text(body + "\n", encoding="utf-8")
        return paragraphs
    target = int(megabytes * 1024 * 1024)
    with open(root / "one-line.txt", "w", encoding="utf-8") as handle:
        written = 0
        while written < target:
            chunk = " ".join(_sentence(rng, 12) for _ in range(1000)) + " "
            handle.write(chunk)
            written += len(chunk)
        handle.write("\n")
    return 1


class ConstantEmbedder:
    model_id = "benchmark/constant"
    dimension = 384

    def embed_passages(
        self, texts: list[str], progress: Callable[[int, int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dimension), np.float32)
        out[:, 0] = 1.0
        if progress is not None:
            progress(len(texts), len(texts))
        return out

    def embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return self.embed_passages(texts)


class Quiet:
    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)

    def note(self, message: str) -> None:
        print(message, file=sys.stderr)

    def progress(self, stage: str, done: int, total: int) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=10000)
    parser.add_argument("--layout", choices=("files", "tiny", "one-line"), default="files")
    parser.add_argument("--megabytes", type=float, default=50.0, help="size of the one-line file")
    parser.add_argument("--no-embed", action="store_true", help="constant vectors instead of the model")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        paragraphs = generate(corpus, args.layout, args.paragraphs, args.megabytes)
        size = sum(p.stat().st_size for p in corpus.iterdir())
        if args.no_embed:
            embedder = ConstantEmbedder()
        else:
            from index.embed import ModelEmbedder, resolve_model

            embedder = ModelEmbedder(resolve_model(None))  # type: ignore[assignment]
        baseline = _rss_mib()
        started = time.perf_counter()
        index = open_index(FolderSource(corpus), Path(tmp) / "index", embedder, Quiet())
        seconds = time.perf_counter() - started
        result = {
            "layout": args.layout,
            "paragraphs": paragraphs,
            "corpus_mib": round(size / 1024 / 1024, 1),
            "passages": index.size,
            "embedding": not args.no_embed,
            "seconds": round(seconds, 1),
            "peak_rss_mib": round(_rss_mib(), 0),
            "rss_before_build_mib": round(baseline, 0),
        }
        index.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
