"""Dump per-candidate ranking features of a BEIR dataset, for offline studies of the second stage.

For every query (both splits), the first `--depth` candidates of the plain convex fusion (no second stage)
are written with the features the second stage uses and a few more, the relevance label, the entry id and
the query's split. `benchmarks/rank_study.py` re-scores them offline, so a weighting can be tried in
milliseconds instead of an eval run. Sentence vectors are embedded once per distinct sentence (fp32,
sentence-transformers: the same vectors as the numpy query encoder to cosine >= 0.9999).

    PYTHONPATH=. QA_HOME=/tmp/eval-qahome python benchmarks/rank_features.py \\
        --dataset ../shared/eval/squad-v1.1-dev --limit 3000 --out /tmp/squad_features.npz
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import QuietReporter
from index.builder import IndexSettings, open_index
from index.embed import ModelEmbedder, resolve_model
from index.jsonl_source import JsonlSource
from index.sentences import sentences_of
from index.store import default_index_dir
from index.tokenize import term_spans, tokenize
from qa.answer import term_weights
from qa.eval import load_dataset, split_of
from qa.eval_cli import entry_ids
from qa.fusion import convex_fusion
from qa.rerank import QuestionShape, query_pairs, sentence_features
from qa.retrieve import CANDIDATE_DEPTH, LEXICAL_WEIGHT

FEATURES = (
    "fused",  # 0.4 * minmax(bm25) + 0.6 * minmax(cosine) over the union
    "bm25_norm",
    "cos_norm",
    "bm25",
    "cos",
    "coverage",  # best sentence's share of the question's idf mass
    "phrases",
    "proximity",
    "cos_top2cov",  # best cosine among the 2 best-covered sentences (what the default embeds)
    "cos_all",  # best cosine among all sentences
    "cos_all_2nd",
    "cos_window",  # best cosine among windows of two consecutive sentences
    "cos_text",  # cosine of the passage text without the title context
    "passage_coverage",  # the whole passage's share of idf mass
    "exact_coverage",  # best sentence's share of the question's surface words (unstemmed)
    "sentence_bm25",  # best sentence's BM25-like score (k1 1.2, no length norm), / question idf mass
    "answer_type",  # the question asks for a year/number/name and the best sentence holds one not in it
    "fused_rank",  # 1-based
    "bm25_rank",  # 1-based, depth + 1 when absent
    "dense_rank",
)


def sentence_bm25(sentence_terms: Sequence[str], weights: Mapping[str, float], k1: float = 1.2) -> float:
    counts: dict[str, int] = {}
    for t in sentence_terms:
        if t in weights:
            counts[t] = counts.get(t, 0) + 1
    total = sum(weights.values()) or 1.0
    return sum(weights[t] * c * (k1 + 1) / (c + k1) for t, c in counts.items()) / total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--depth", type=int, default=30, help="candidates per query written")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--sentences-only", action="store_true", help="embed sentences only (cos_window, cos_text copy cos_all)"
    )
    parser.add_argument(
        "--top2-only",
        action="store_true",
        help="embed only each candidate's 2 best-covered sentences (every cos_* feature is then cos_top2cov)",
    )
    parser.add_argument("--cache", type=Path, help="npz of text -> vector, read and extended (saves re-embedding)")
    args = parser.parse_args(argv)

    dataset = load_dataset(args.dataset)
    queries = list(dataset.queries[: args.limit] if args.limit else dataset.queries)
    embedder = ModelEmbedder(resolve_model(None), precision="fp32")
    source = JsonlSource(dataset.corpus)
    index = open_index(
        source, default_index_dir(dataset.directory.resolve()), embedder, QuietReporter(), settings=IndexSettings()
    )
    entries = entry_ids(index, source)
    query_vectors = embedder.embed_passages([q.text for q in queries])  # batched; = the query encoder

    # First pass: candidates and their sentences.
    per_query = []
    sentences_needed: dict[str, None] = {}
    for number, (query, vector) in enumerate(zip(queries, query_vectors, strict=True), start=1):
        terms = tokenize(query.text)
        rows, scores = index.bm25_top(terms, CANDIDATE_DEPTH)
        bm25_rows = rows.tolist()
        bm25 = dict(zip(bm25_rows, scores.tolist(), strict=True))
        drows, cosines = index.dense.search(vector, CANDIDATE_DEPTH)
        dense_rows = drows.tolist()
        dense = dict(zip(dense_rows, cosines.tolist(), strict=True))
        union = sorted(set(bm25_rows) | set(dense_rows))
        all_bm25 = index.bm25_scores(terms)
        for row in union:
            bm25.setdefault(row, float(all_bm25[row]))
            dense.setdefault(row, float(np.asarray(index.vectors[row]) @ vector))
        fused = convex_fusion(union, [bm25[r] for r in union], [dense[r] for r in union], LEXICAL_WEIGHT)
        lo_b, hi_b = min(bm25[r] for r in union), max(bm25[r] for r in union)
        lo_d, hi_d = min(dense[r] for r in union), max(dense[r] for r in union)
        head = fused[: args.depth]
        records = index.passages([row for row, _ in head])
        texts = {row: records[row].text for row, _ in head}
        if args.top2_only:
            info = index.term_info(terms)
            weights = term_weights(terms, {t: idf for t, (_, idf) in info.items()}, index.size)
        for text in texts.values():
            spans = sentences_of(text)
            if args.top2_only:
                coverages = sentence_features(text, weights, []).sentence_coverages
                spans = [spans[i] for i in sorted(range(len(spans)), key=lambda i: (-coverages[i], i))[:2]]
            for start, end in spans:
                sentences_needed.setdefault(text[start:end], None)
        per_query.append((query, terms, head, texts, bm25, dense, bm25_rows, dense_rows, (lo_b, hi_b, lo_d, hi_d)))
        if number % 500 == 0:
            print(f"candidates {number}/{len(queries)}", file=sys.stderr, flush=True)

    for _, _, _, texts, *_ in per_query:
        if args.sentences_only or args.top2_only:
            break
        for text in texts.values():
            spans = sentences_of(text)
            for (s1, _), (_, e2) in zip(spans, spans[1:], strict=False):
                sentences_needed.setdefault(text[s1:e2], None)
            sentences_needed.setdefault(text, None)
    sentence_list = list(sentences_needed)
    cached: dict[str, np.ndarray] = {}
    if args.cache is not None and args.cache.exists():
        stored = np.load(args.cache, allow_pickle=False)
        cached = dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))
    missing = [s for s in sentence_list if s not in cached]
    print(f"embedding {len(missing)} of {len(sentence_list)} texts", file=sys.stderr, flush=True)
    if missing:
        vectors = embedder.embed_passages(
            missing, lambda done, total: print(f"  {done}/{total}", file=sys.stderr) if done % 3200 == 0 else None
        )
        cached.update(zip(missing, vectors, strict=True))
        if args.cache is not None:
            np.savez(args.cache, texts=np.array(list(cached)), vectors=np.stack(list(cached.values())))
    sentence_vectors = np.stack([cached[s] for s in sentence_list])
    sentence_row = {s: i for i, s in enumerate(sentence_list)}

    n_q, n_f = len(per_query), len(FEATURES)
    features = np.zeros((n_q, args.depth, n_f), np.float32)
    labels = np.zeros((n_q, args.depth), np.int8)
    valid = np.zeros((n_q, args.depth), bool)
    entry = np.full((n_q, args.depth), -1, np.int64)
    search_rows = np.full((n_q, args.depth), -1, np.int64)
    entry_index: dict[str, int] = {}
    split = np.array([split_of(item[0].id) == "dev" for item in per_query])
    gold_count = np.zeros(n_q, np.int32)
    for qi, (query, terms, head, texts, bm25, dense, bm25_rows, dense_rows, bounds) in enumerate(per_query):
        lo_b, hi_b, lo_d, hi_d = bounds
        qrels = dataset.qrels[query.id]
        gold_count[qi] = sum(1 for v in qrels.values() if v > 0)
        info = index.term_info(terms)
        weights = term_weights(terms, {t: idf for t, (_, idf) in info.items()}, index.size)
        pairs = query_pairs(terms)
        qvec = query_vectors[qi]
        shape = QuestionShape.of(query.text)
        bm25_rank = {r: i for i, r in enumerate(bm25_rows, start=1)}
        dense_rank = {r: i for i, r in enumerate(dense_rows, start=1)}
        for ci, (row, score) in enumerate(head):
            text = texts[row]
            feats = sentence_features(text, weights, pairs, shape)
            spans = feats.spans
            sents = [text[s:e] for s, e in spans]
            order = sorted(range(len(sents)), key=lambda i: (-feats.sentence_coverages[i], i))
            if args.top2_only:
                sents, order = [sents[i] for i in order[:2]], list(range(min(2, len(sents))))
            cos = np.array([float(sentence_vectors[sentence_row[s]] @ qvec) for s in sents])
            top2 = order[:2]
            sorted_cos = np.sort(cos)[::-1]
            windows = [text[s1:e2] for (s1, _), (_, e2) in zip(spans, spans[1:], strict=False)] or sents
            if args.sentences_only or args.top2_only:
                cos_window = cos_text = float(sorted_cos[0])
            else:
                cos_window = max(float(sentence_vectors[sentence_row[w]] @ qvec) for w in windows)
                cos_text = float(sentence_vectors[sentence_row[text]] @ qvec)
            sbm25 = max(sentence_bm25([t for t, _, _ in term_spans(s)], weights) for s in sents)
            values = (
                score,
                (bm25[row] - lo_b) / (hi_b - lo_b) if hi_b > lo_b else 1.0,
                (dense[row] - lo_d) / (hi_d - lo_d) if hi_d > lo_d else 1.0,
                bm25[row],
                dense[row],
                feats.coverage,
                feats.phrases,
                feats.proximity,
                max(0.0, float(max(cos[i] for i in top2))),
                float(sorted_cos[0]),
                float(sorted_cos[1]) if len(sorted_cos) > 1 else float(sorted_cos[0]),
                cos_window,
                cos_text,
                feats.passage_coverage,
                feats.exact,
                sbm25,
                feats.answer_kind,
                ci + 1,
                bm25_rank.get(row, CANDIDATE_DEPTH + 1),
                dense_rank.get(row, CANDIDATE_DEPTH + 1),
            )
            features[qi, ci] = values
            labels[qi, ci] = 1 if qrels.get(entries[row], 0) > 0 else 0
            valid[qi, ci] = True
            search_rows[qi, ci] = row
            entry[qi, ci] = entry_index.setdefault(entries[row], len(entry_index))
    np.savez_compressed(
        args.out,
        features=features,
        labels=labels,
        valid=valid,
        entry=entry,
        rows=search_rows,
        entry_names=np.array(list(entry_index)),
        dev=split,
        gold_count=gold_count,
        names=np.array(FEATURES),
        query_ids=np.array([item[0].id for item in per_query]),
    )
    print(f"wrote {args.out}: {n_q} queries x {args.depth} candidates x {n_f} features", file=sys.stderr)
    index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
