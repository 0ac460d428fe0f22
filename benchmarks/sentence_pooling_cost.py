"""What the stored sentence vectors cost at index time: `embed_passages` (passage vectors only) against
`embed_passages_and_sentences` (the same pass, plus each sentence mean-pooled from its tokens' states and
the sentences past the 256-token window embedded alone), alternating A B / B A in one run, real model.

    PYTHONPATH=. python benchmarks/sentence_pooling_cost.py [--paragraphs 400] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.common import median, table  # noqa: E402

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=EVAL / "squad-v1.1-dev", help="BEIR-layout folder")
    parser.add_argument("--paragraphs", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from index.embed import ModelEmbedder, resolve_model
    from index.sentences import sentences_of

    with open(args.dataset / "corpus.jsonl", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for _, line in zip(range(args.paragraphs), handle, strict=False)]
    spans = [sentences_of(text) for text in texts]
    embedder = ModelEmbedder(resolve_model(None))
    embedder.embed_passages(texts[:8])  # load the model outside the timings
    seconds: dict[str, list[float]] = {"passages only": [], "passages + sentences": []}
    for run in range(args.runs):
        order = list(seconds) if run % 2 == 0 else list(reversed(seconds))
        for label in order:
            started = time.perf_counter()
            if label == "passages only":
                embedder.embed_passages(texts)
            else:
                embedder.embed_passages_and_sentences(texts, spans)
            seconds[label].append(time.perf_counter() - started)
    base = median(seconds["passages only"])
    rows = [
        [label, f"{median(values):.2f}", f"{len(texts) / median(values):.0f}", f"{median(values) / base:.3f}"]
        for label, values in seconds.items()
    ]
    print(f"{len(texts)} paragraphs, {sum(map(len, spans))} sentences, {args.runs} runs each (medians)")
    print(table(["", "seconds", "paragraphs/s", "ratio"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
