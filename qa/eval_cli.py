"""`qa eval --dataset DIR`: index a BEIR-layout dataset with the normal indexing code, run every query in
each retrieval mode, and print a Markdown table of ranking metrics, latency and answer-string checks.

Ranking metrics (hit@k, MRR@10, nDCG@10) come from exactly what `qa --ask` computes: the same retriever,
the same candidate depth and fusion, only more of the list is read. recall@100 needs a deeper list, so it
comes from a second, eval-only retrieval with a larger candidate depth (`--deep-depth`); the normal path
is never made deeper. Latency is that of the normal retrieval: the question's embedding (measured once
per question, since every mode embeds it) plus the searches, fusion and re-ranking of the mode.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from index.bm25 import BM25Params
from index.builder import BuildReporter, IndexSettings, open_index
from index.corpus_index import CorpusIndex
from index.embed import Embedder, ModelEmbedder, resolve_model
from index.errors import QAError
from index.jsonl_source import JsonlSource
from index.store import default_index_dir
from qa.caching_embedder import CachingEmbedder
from qa.engine import QAEngine
from qa.eval import (
    DEEP_METRICS,
    RANK_METRICS,
    SPLITS,
    Dataset,
    Query,
    contains_answer,
    entry_ranking,
    load_dataset,
    mean,
    percentile,
    select_queries,
)
from qa.progress import StderrReporter
from qa.rerank import RerankSettings
from qa.retrieve import (
    CANDIDATE_DEPTH,
    DEFAULT_FUSION,
    DEFAULT_RERANK,
    FUSIONS,
    LEXICAL_WEIGHT,
    Fusion,
    HybridRetriever,
    Retrieval,
)
from qa.types import Mode

RANK_DEPTH = 100  # passages read from the normal retrieval (enough for hit@20 by entry)
DEEP_DEPTH = 400  # candidate depth of the eval-only retrieval behind recall@100
ALL_MODES = ("bm25", "dense", "hybrid", "hybrid-rrf", "hybrid-convex")
DEFAULT_MODES = ("bm25", "dense", "hybrid-rrf", "hybrid")
# The second stage's settings (qa/rerank.py) that `qa eval` can vary: flag, RerankSettings field, type, help.
RERANK_FLAGS: tuple[tuple[str, str, type, str], ...] = (
    ("--sentence-weight", "coverage_weight", float, "weight of the best sentence's term coverage (0 = off)"),
    ("--phrase-weight", "phrase_weight", float, "weight of question term pairs"),
    ("--proximity-weight", "proximity_weight", float, "weight of term proximity"),
    ("--passage-coverage-weight", "passage_coverage_weight", float, "weight of the whole passage's term coverage"),
    ("--exact-weight", "exact_weight", float, "weight of the question's words as written in the best sentence"),
    ("--answer-kind-weight", "answer_kind_weight", float, "weight of a date/number/name when the question asks one"),
    ("--passage-cosine-weight", "passage_cosine_weight", float, "weight of the passage's own cosine"),
    ("--sentence-cosine-weight", "cosine_weight", float, "weight of the best sentence cosine (0 = embed no sentences)"),
    ("--rerank-depth", "depth", int, "candidates given the sentence features"),
    ("--cosine-depth", "cosine_depth", int, "candidates whose best-covered sentences are compared by cosine"),
    ("--cosine-sentences", "sentences_per_passage", int, "best-covered sentences per passage compared by cosine"),
)
ANSWER_KEYS = ("answer@1", "answer_in_sentence", "sentence_given_gold@1")


@dataclass
class ModeRun:
    label: str
    mode: Mode
    retriever: HybridRetriever
    deep: HybridRetriever
    per_query: list[dict[str, Any]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa eval",
        description="Retrieval benchmark over a BEIR-layout dataset (corpus.jsonl, queries.jsonl, qrels.tsv).",
        epilog="Split: a query is dev when the first byte of sha256(query id) is even, else test; "
        "--limit takes the first N queries of the file before splitting. Tune on dev, report test.",
    )
    parser.add_argument("--dataset", type=Path, required=True, metavar="DIR", help="BEIR-layout dataset folder")
    parser.add_argument("--split", choices=SPLITS, default="all", help="which queries (default: all)")
    parser.add_argument("--limit", type=int, metavar="N", help="use only the first N queries of the file")
    parser.add_argument(
        "--modes",
        default=",".join(DEFAULT_MODES),
        help=f"comma-separated modes among {', '.join(ALL_MODES)} (hybrid = the default fusion, "
        f"or --fusion) (default: {','.join(DEFAULT_MODES)})",
    )
    parser.add_argument("--fusion", choices=FUSIONS, default=DEFAULT_FUSION, help="fusion of the 'hybrid' mode")
    parser.add_argument(
        "--lexical-weight", type=float, default=LEXICAL_WEIGHT, help="convex fusion: weight of BM25 (0..1)"
    )
    for flag, setting, kind, help_text in RERANK_FLAGS:
        default = getattr(DEFAULT_RERANK, setting)
        parser.add_argument(
            flag,
            dest=setting,
            type=kind,
            default=default,
            metavar=kind.__name__.upper(),
            help=f"{help_text} (default: {default})",
        )
    parser.add_argument("--depth", type=int, default=CANDIDATE_DEPTH, help="candidates per retriever (as qa --ask)")
    parser.add_argument("--deep-depth", type=int, default=DEEP_DEPTH, help="candidate depth behind recall@100")
    parser.add_argument("--no-title", action="store_true", help="index without the entry title as passage context")
    parser.add_argument("--bm25-k1", type=float, default=BM25Params.k1)
    parser.add_argument("--bm25-b", type=float, default=BM25Params.b)
    parser.add_argument("--no-answers", action="store_true", help="skip answer sentences and verdicts (faster)")
    parser.add_argument("--index-dir", type=Path, metavar="DIR", help="index location (default: under $QA_HOME)")
    parser.add_argument("--model", metavar="NAME_OR_PATH", help="sentence-transformers model (default: bundled)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index from scratch")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the full report (per query too) here")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    return parser


def _modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in modes if m not in ALL_MODES]
    if unknown or not modes:
        raise QAError(f"unknown mode(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(ALL_MODES)}")
    return list(dict.fromkeys(modes))


def entry_ids(index: CorpusIndex, source: JsonlSource) -> list[str]:
    """The corpus entry id behind each search row."""
    records = index.passages(range(index.size))
    return [source.doc_id(index.document(records[row].doc).path) for row in range(index.size)]


def rerank_settings(args: argparse.Namespace) -> RerankSettings:
    return dataclasses.replace(DEFAULT_RERANK, **{setting: getattr(args, setting) for _, setting, _, _ in RERANK_FLAGS})


def _mode_runs(args: argparse.Namespace, index: CorpusIndex, embedder: Embedder) -> list[ModeRun]:
    runs = []
    for label in _modes(args.modes):
        fusion = cast(Fusion, label.split("-", 1)[1] if label.startswith("hybrid-") else args.fusion)
        mode = cast(Mode, "hybrid" if label.startswith("hybrid") else label)
        normal, deep = (
            HybridRetriever(
                index,
                embedder,
                depth=depth,
                fusion=fusion,
                lexical_weight=args.lexical_weight,
                rerank_settings=rerank_settings(args),
            )
            for depth in (args.depth, max(args.deep_depth, args.depth))
        )
        runs.append(ModeRun(label, mode, normal, deep))
    return runs


def _evaluate_query(
    run: ModeRun,
    query: Query,
    qrels: dict[str, int],
    entries: list[str],
    engine: QAEngine | None,
    embed_ms: float,
) -> None:
    started = time.perf_counter()
    retrieval = run.retriever.retrieve(query.text, run.mode, RANK_DEPTH)
    run.latencies_ms.append(embed_ms + (time.perf_counter() - started) * 1000)
    ranking = entry_ranking(entries[row] for c in retrieval.candidates for row in c.shown_rows)
    deep = run.deep.retrieve(query.text, run.mode, run.deep.depth)
    deep_ranking = entry_ranking(entries[row] for c in deep.candidates for row in c.shown_rows)
    result: dict[str, Any] = {"id": query.id, "top10": ranking[:10]}
    for name, metric in RANK_METRICS.items():
        result[name] = metric(ranking, qrels)
    for name, metric in DEEP_METRICS.items():
        result[name] = metric(deep_ranking, qrels)
    if engine is not None and retrieval.candidates:
        top = Retrieval(retrieval.candidates[:1], retrieval.query_terms, retrieval.query_vector)
        answer = engine.compose(query.text, query.text, run.mode, 1, top)
        result["answered"] = answer.verdict == "answered"
        if query.answers:
            passage = answer.passages[0]
            result["answer@1"] = contains_answer(passage.text, query.answers)
            result["answer_in_sentence"] = contains_answer(passage.answer_sentence.text, query.answers)
            if result["hit@1"]:
                result["sentence_given_gold@1"] = result["answer_in_sentence"]
    run.per_query.append(result)


def summarize(run: ModeRun) -> dict[str, Any]:
    rows = run.per_query
    summary: dict[str, Any] = {"mode": run.label, "queries": len(rows)}
    for name in [*RANK_METRICS, *DEEP_METRICS]:
        summary[name] = mean([r[name] for r in rows])
    summary["latency_p50_ms"] = percentile(run.latencies_ms, 50)
    summary["latency_p95_ms"] = percentile(run.latencies_ms, 95)
    judged = [r["answered"] for r in rows if "answered" in r]
    summary["answered"] = mean([float(a) for a in judged]) if judged else None
    for key in ANSWER_KEYS:
        values = [float(r[key]) for r in rows if key in r]
        summary[key] = mean(values) if values else None
        summary[f"{key}_n"] = len(values)
    return summary


def markdown_table(summaries: Sequence[dict[str, Any]]) -> str:
    columns = ["hit@1", "hit@5", "hit@10", "hit@20", "mrr@10", "ndcg@10", "recall@100"]
    with_answers = any(s.get("answer@1") is not None for s in summaries)
    head = ["mode", "queries", *columns, "p50 ms", "p95 ms", "answered"]
    if with_answers:
        head += ["ans@1", "ans in sent", "sent given gold@1"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def share(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    for s in summaries:
        cells = [s["mode"], str(s["queries"]), *(f"{s[c]:.3f}" for c in columns)]
        cells += [f"{s['latency_p50_ms']:.1f}", f"{s['latency_p95_ms']:.1f}", share(s["answered"])]
        if with_answers:
            cells += [share(s["answer@1"]), share(s["answer_in_sentence"]), share(s["sentence_given_gold@1"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_eval(args: argparse.Namespace, reporter: BuildReporter, embedder_: Embedder | None = None) -> dict[str, Any]:
    dataset: Dataset = load_dataset(args.dataset.expanduser())
    queries = select_queries(dataset.queries, args.split, args.limit)
    if not queries:
        raise QAError(f"no judged queries in {dataset.directory} for split {args.split!r}")
    settings = IndexSettings(title_context=not args.no_title, bm25=BM25Params(k1=args.bm25_k1, b=args.bm25_b))
    index_dir = args.index_dir or default_index_dir(dataset.directory.resolve())
    if args.no_title and args.index_dir is None:
        index_dir = index_dir.with_name(index_dir.name + "-notitle")
    embedder = CachingEmbedder(embedder_ or ModelEmbedder(resolve_model(args.model)))
    source = JsonlSource(dataset.corpus)
    started = time.perf_counter()
    index = open_index(source, index_dir, embedder, reporter, settings=settings, rebuild=args.rebuild)
    index_seconds = time.perf_counter() - started
    try:
        entries = entry_ids(index, source)
        runs = _mode_runs(args, index, embedder)
        engine = None if args.no_answers else QAEngine(index, embedder)
        started = time.perf_counter()
        for number, query in enumerate(queries, start=1):
            embed_started = time.perf_counter()
            embedder.embed_queries([query.text])  # every mode embeds the question: time it once, uncached
            embed_ms = (time.perf_counter() - embed_started) * 1000
            for run in runs:
                _evaluate_query(run, query, dataset.qrels[query.id], entries, engine, embed_ms)
            reporter.progress("queries", number, len(queries))
        query_seconds = time.perf_counter() - started
    finally:
        index.close()
    summaries = [summarize(run) for run in runs]
    return {
        "dataset": dataset.name,
        "split": args.split,
        "limit": args.limit,
        "queries": len(queries),
        "passages": index.size,
        "settings": {
            "fusion": args.fusion,
            "lexical_weight": args.lexical_weight,
            "rerank": dataclasses.asdict(rerank_settings(args)),
            "depth": args.depth,
            "deep_depth": args.deep_depth,
            "index": settings.as_manifest(),
            "model": embedder.model_id,
        },
        "seconds": {"index": round(index_seconds, 2), "queries": round(query_seconds, 2)},
        "summary": summaries,
        "per_query": {run.label: run.per_query for run in runs},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    reporter = StderrReporter(quiet=args.quiet)
    report = run_eval(args, reporter)  # errors are reported by qa.cli.main
    print(
        f"{report['dataset']}: {report['queries']} queries (split {report['split']}"
        + (f", first {report['limit']} of the file" if report["limit"] else "")
        + f"), {report['passages']} passages; queries ran in {report['seconds']['queries']:.1f} s"
    )
    print(markdown_table(report["summary"]))
    if args.json is not None:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0
