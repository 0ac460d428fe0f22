"""Offline re-scoring of the candidates dumped by `benchmarks/rank_features.py`.

Reproduces the default second stage from the dumped features (a check that the dump matches the
product), then scores alternatives on the dev half and, for the chosen one, the test half.

    PYTHONPATH=. python benchmarks/rank_study.py /tmp/squad_features.npz [/tmp/scifact_features.npz ...]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass
class Dump:
    name: str
    features: Array  # queries x candidates x features
    labels: npt.NDArray[np.int8]
    valid: npt.NDArray[np.bool_]
    entry: npt.NDArray[np.int64]
    dev: npt.NDArray[np.bool_]
    gold_count: npt.NDArray[np.int32]
    names: list[str]

    def f(self, name: str) -> Array:
        return self.features[:, :, self.names.index(name)].astype(np.float64)

    def subset(self, mask: npt.NDArray[np.bool_]) -> Dump:
        return Dump(
            self.name,
            self.features[mask],
            self.labels[mask],
            self.valid[mask],
            self.entry[mask],
            self.dev[mask],
            self.gold_count[mask],
            self.names,
        )


def load(path: str) -> Dump:
    data = np.load(path, allow_pickle=False)
    return Dump(
        path.rsplit("/", 1)[-1].replace("_features.npz", ""),
        data["features"],
        data["labels"],
        data["valid"],
        data["entry"],
        data["dev"],
        data["gold_count"],
        [str(n) for n in data["names"]],
    )


def metrics(dump: Dump, scores: Array) -> dict[str, float]:
    """hit@1, hit@5 (by entry), MRR@10 and nDCG@10 (binary) of the candidates ordered by `scores`
    (ties by candidate position), invalid candidates last."""
    scores = np.where(dump.valid, scores, -np.inf)
    n_q, depth = scores.shape
    position = np.arange(depth)[None, :].repeat(n_q, 0)
    order = np.lexsort((position, -scores), axis=1)
    hit1 = hit5 = mrr = ndcg = 0.0
    for q in range(n_q):
        seen: set[int] = set()
        ranking: list[int] = []
        for c in order[q]:
            if not dump.valid[q, c]:
                break
            e = int(dump.entry[q, c])
            if e in seen:
                continue
            seen.add(e)
            ranking.append(int(dump.labels[q, c]))
            if len(ranking) == 10:
                break
        hit1 += ranking[:1] == [1]
        hit5 += any(ranking[:5])
        first = next((i for i, v in enumerate(ranking) if v), None)
        mrr += 0.0 if first is None else 1.0 / (first + 1)
        dcg = sum(v / np.log2(i + 2) for i, v in enumerate(ranking))
        ideal = sum(1.0 / np.log2(i + 2) for i in range(min(int(dump.gold_count[q]), 10)))
        ndcg += dcg / ideal if ideal else 0.0
    return {"hit@1": hit1 / n_q, "hit@5": hit5 / n_q, "mrr@10": mrr / n_q, "ndcg@10": ndcg / n_q}


def default_scores(d: Dump, cosine_weight: float = 0.3, cosine_depth: int = 3, cos_name: str = "cos_top2cov") -> Array:
    """The product's second stage: fused + 0.3 coverage + 0.2 phrases + 0.05 proximity over every dumped
    candidate, then + 0.3 x sentence cosine for the first 3 of that order."""
    stage1 = d.f("fused") + 0.3 * d.f("coverage") + 0.2 * d.f("phrases") + 0.05 * d.f("proximity")
    return top_bonus(d, stage1, cosine_weight * d.f(cos_name), cosine_depth)


def top_bonus(d: Dump, base: Array, bonus: Array, depth: int) -> Array:
    """`base`, plus `bonus` for the first `depth` candidates of the `base` order; those stay above the
    rest (the product re-sorts only its head)."""
    base = np.where(d.valid, base, -np.inf)
    order = np.argsort(-base, axis=1, kind="stable")
    out = base.copy()
    big = 1e6
    for q in range(base.shape[0]):
        head = order[q, :depth]
        out[q, head] = big + base[q, head] + bonus[q, head]
    return out


def show(label: str, dump: Dump, scores_fn: Callable[[Dump], Array]) -> None:
    parts = []
    for split_name, mask in (("dev", dump.dev), ("test", ~dump.dev)):
        part = dump.subset(mask)
        m = metrics(part, scores_fn(part))
        parts.append(f"{split_name} " + " ".join(f"{k} {v:.3f}" for k, v in m.items()))
    print(f"{dump.name:10s} {label:40s} | " + " | ".join(parts))


def main(paths: list[str]) -> int:
    for path in paths:
        d = load(path)
        show("fused only", d, lambda x: x.f("fused"))
        show("bm25", d, lambda x: x.f("bm25"))
        show("default", d, default_scores)
        show("default, cos of all sentences", d, lambda x: default_scores(x, cos_name="cos_all"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
