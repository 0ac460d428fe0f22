"""Deterministic synthetic corpora of N paragraphs built from real text (SQuAD dev + SciFact abstracts).

Each paragraph is a real paragraph varied by sentence shuffling, word substitutions and random numbers,
so BM25 statistics look like real English (Zipfian vocabulary, ~50-110 words per paragraph) while no two
paragraphs are identical. Files hold 10-100 paragraphs separated by blank lines, with a title line.
The source datasets are read from /work/shared/eval (never copied into the repository).

    PYTHONPATH=. python benchmarks/synthetic_corpus.py --paragraphs 100000 --out /tmp/corpus-100k
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

EVAL_DIR = Path("/work/shared/eval")
SOURCES = (EVAL_DIR / "squad-v1.1-dev" / "corpus.jsonl", EVAL_DIR / "scifact" / "corpus.jsonl")
MAX_WORDS = 110  # below the splitter's window threshold (160), so one paragraph = one passage
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


def load_paragraphs(sources: tuple[Path, ...] = SOURCES) -> list[tuple[str, str]]:
    """(title, text) of every record of the source datasets, in file order."""
    out = []
    for path in sources:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                text = " ".join(str(record.get("text") or "").split())
                if text:
                    out.append((str(record.get("title") or ""), text))
    return out


class Varier:
    """Makes deterministic variants of real paragraphs."""

    def __init__(self, paragraphs: list[tuple[str, str]], seed: int) -> None:
        self.paragraphs = paragraphs
        self.rng = random.Random(seed)
        self.sentences = [_SENTENCE.split(text) for _, text in paragraphs]
        vocabulary: set[str] = set()
        for _, text in paragraphs[:3000]:
            vocabulary.update(w for w in text.split() if w.isalpha() and len(w) > 3)
        self.vocabulary = sorted(vocabulary)

    def paragraph(self, base: int, variant: int) -> str:
        rng = self.rng
        sentences = list(self.sentences[base])
        if variant and len(sentences) > 1:
            rng.shuffle(sentences)
        words = " ".join(sentences).split()[:MAX_WORDS]
        if variant:
            for _ in range(rng.randint(1, 4)):  # word substitutions from the corpus vocabulary
                words[rng.randrange(len(words))] = rng.choice(self.vocabulary)
            words.insert(rng.randrange(len(words) + 1), str(rng.randint(1, 99_999)))
        text = " ".join(words)
        return text if text.endswith((".", "!", "?")) else text + "."


def write_corpus(out: Path, paragraphs: int, seed: int = 0, quiet: bool = False) -> int:
    """Write `paragraphs` paragraphs under `out` (files of 10-100 paragraphs); returns the file count.
    Re-running with the same arguments writes byte-identical files."""
    base = load_paragraphs()
    varier = Varier(base, seed)
    rng = random.Random(seed + 1)
    out.mkdir(parents=True, exist_ok=True)
    written = files = 0
    while written < paragraphs:
        count = min(rng.randint(10, 100), paragraphs - written)
        first = (written * 7919) % len(base)
        title, _ = base[first]
        lines = [f"{title or 'Untitled'} (part {files})", ""]
        for i in range(count):
            index = written + i
            lines.append(varier.paragraph((first + i) % len(base), index // len(base) + (index % 3 != 0)))
            lines.append("")
        folder = out / f"d{files // 1000:04d}"
        folder.mkdir(exist_ok=True)
        (folder / f"f{files:07d}.txt").write_text("\n".join(lines), encoding="utf-8")
        written += count
        files += 1
        if not quiet and files % 2000 == 0:
            print(f"  wrote {written:,} paragraphs in {files:,} files", file=sys.stderr)
    return files


def ensure_corpus(root: Path, paragraphs: int, seed: int = 0) -> Path:
    """The corpus folder for `paragraphs` under `root`, generated once (a marker file records completion)."""
    folder = root / f"synthetic-{paragraphs}-s{seed}"
    marker = root / f".synthetic-{paragraphs}-s{seed}.done"
    if not marker.exists():
        write_corpus(folder, paragraphs, seed)
        marker.write_text("ok\n")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    files = write_corpus(args.out, args.paragraphs, args.seed)
    print(f"{args.paragraphs:,} paragraphs in {files:,} files under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
