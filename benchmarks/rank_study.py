"""Offline re-scoring of the candidates dumped by `benchmarks/rank_features.py`, and the fit behind the
second stage's default weights.

For each dump: the product's second stage (the current `RerankSettings` defaults) re-computed from the
dumped features, on the dev and test halves (a check that the dump matches `qa eval`, and a baseline).
With `--fit`: a listwise logistic regression (softmax over each query's candidates, the relevant ones as
targets, L2 1e-3) of the lexical stage's weights, fitted on the dev halves only (SciFact queries weighted
`--scifact-weight` times, as SciFact has 30x fewer dev queries), the fused score's weight pinned to 1; then
a small grid of the sentence-cosine weight on the dev halves. Test halves are printed, never fitted on.

    PYTHONPATH=. python benchmarks/rank_study.py --squad /tmp/squad_all.npz --scifact /tmp/scifact.npz --fit

(`--squad` should be a dump of the whole SQuAD file: its first 3,000 queries are the issue's benchmark and
are reported separately.)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qa.rerank import RerankSettings
from qa.retrieve import DEFAULT_RERANK

Array = npt.NDArray[np.float64]
SQUAD_BENCHMARK_QUERIES = 3000  # the SQuAD figures use the first 3,000 queries of the file
# Dumped feature -> RerankSettings weight, for the lexical stage (the fused score has weight 1).
STAGE_FEATURES = (
    ("passage_cos", "passage_cosine_weight"),
    ("coverage", "coverage_weight"),
    ("phrases", "phrase_weight"),
    ("proximity", "proximity_weight"),
    ("passage_coverage", "passage_coverage_weight"),
    ("exact_coverage", "exact_weight"),
    ("answer_type", "answer_kind_weight"),
)


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
        if name == "passage_cos":  # the product clamps the passage cosine at 0
            return np.maximum(0.0, self.f("cos"))
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

    def halves(self) -> tuple[Dump, Dump]:
        return self.subset(self.dev), self.subset(~self.dev)


def load(path: Path) -> Dump:
    data = np.load(path, allow_pickle=False)
    return Dump(
        path.stem,
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
    order = np.lexsort((np.broadcast_to(np.arange(depth), scores.shape), -scores), axis=1)
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


def stage_scores(d: Dump, settings: RerankSettings) -> Array:
    """The lexical stage: fused score + the weighted features (every dumped candidate is in its depth)."""
    scores = d.f("fused")
    for feature, field in STAGE_FEATURES:
        scores = scores + getattr(settings, field) * d.f(feature)
    return scores


def product_scores(d: Dump, settings: RerankSettings) -> Array:
    """The product's second stage: the lexical stage, then + cosine_weight x the best cosine of the 2
    best-covered sentences for the first `cosine_depth` of that order, which stay above the rest."""
    base = np.where(d.valid, stage_scores(d, settings), -np.inf)
    order = np.argsort(-base, axis=1, kind="stable")
    out = base.copy()
    bonus = settings.cosine_weight * d.f("cos_top2cov")
    for q in range(base.shape[0]):
        head = order[q, : settings.cosine_depth]
        out[q, head] = 1e6 + base[q, head] + bonus[q, head]
    return out


def fit_stage(parts: Sequence[tuple[Dump, float]], l2: float = 1e-3) -> dict[str, float]:
    """Listwise logistic regression of the lexical stage's weights (fused score pinned to weight 1)."""
    from scipy.optimize import minimize  # a dependency of sentence-transformers; only this study needs it

    names = [feature for feature, _ in STAGE_FEATURES]
    data = []
    for dump, query_weight in parts:
        x = np.stack([dump.f("fused")] + [dump.f(n) for n in names], axis=2)
        y = dump.labels.astype(np.float64)
        judged = (y * dump.valid).sum(1) > 0
        data.append((x[judged], y[judged], dump.valid[judged], query_weight))

    def loss(w: Array) -> tuple[float, Array]:
        total_loss, grad, total = 0.0, np.zeros_like(w), 0.0
        for x, y, valid, query_weight in data:
            s = np.where(valid, x @ w, -1e9)
            e = np.exp(s - s.max(1, keepdims=True)) * valid
            z, r = e.sum(1), (e * y).sum(1)
            total_loss -= query_weight * float(np.sum(np.log(r + 1e-300) - np.log(z)))
            grad -= query_weight * np.einsum("nk,nkf->f", e * y / (r[:, None] + 1e-300) - e / z[:, None], x)
            total += query_weight * len(x)
        return total_loss / total + l2 * float(w @ w), grad / total + 2 * l2 * w

    w = minimize(loss, np.zeros(len(names) + 1), jac=True, method="L-BFGS-B").x
    return {field: float(w[i + 1] / w[0]) for i, (_, field) in enumerate(STAGE_FEATURES)}


def line(label: str, dump: Dump, settings: RerankSettings) -> str:
    cells = []
    for split, half in zip(("dev", "test"), dump.halves(), strict=True):
        m = metrics(half, product_scores(half, settings))
        cells.append(f"{split} ({len(half.labels)}) " + " ".join(f"{k} {v:.3f}" for k, v in m.items()))
    return f"{label:28s} | " + " | ".join(cells)


def report(settings: RerankSettings, squad: Dump | None, scifact: Dump | None) -> None:
    if squad is not None:
        first = np.zeros(len(squad.labels), bool)
        first[:SQUAD_BENCHMARK_QUERIES] = True
        print(line("squad (whole file)", squad, settings))
        print(line(f"squad (first {SQUAD_BENCHMARK_QUERIES})", squad.subset(first), settings))
    if scifact is not None:
        print(line("scifact", scifact, settings))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, help="rank_features.py dump of SQuAD (the whole file)")
    parser.add_argument("--scifact", type=Path, help="rank_features.py dump of SciFact")
    parser.add_argument("--fit", action="store_true", help="fit the lexical stage on the dev halves")
    parser.add_argument("--scifact-weight", type=float, default=10.0, help="weight of a SciFact dev query")
    args = parser.parse_args(argv)
    squad = load(args.squad) if args.squad else None
    scifact = load(args.scifact) if args.scifact else None
    print("current defaults:", DEFAULT_RERANK)
    report(DEFAULT_RERANK, squad, scifact)
    if args.fit:
        parts = [(d.halves()[0], w) for d, w in ((squad, 1.0), (scifact, args.scifact_weight)) if d is not None]
        fitted = replace(DEFAULT_RERANK, **fit_stage(parts))
        print("fitted:", {field: round(getattr(fitted, field), 3) for _, field in STAGE_FEATURES})
        for cosine_weight in (0.3, 0.6, 0.9):
            for cosine_depth in (3, 5):
                print(f"cosine weight {cosine_weight}, depth {cosine_depth}:")
                report(replace(fitted, cosine_weight=cosine_weight, cosine_depth=cosine_depth), squad, scifact)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
