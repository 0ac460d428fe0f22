"""Retrieval evaluation over BEIR-layout datasets: loading, the dev/test split, and pure metric functions.

A dataset directory holds `corpus.jsonl` ({"id"|"_id", "title", "text"}), `queries.jsonl`
({"id"|"_id", "text", optional "answers"}) and `qrels.tsv` (query id, passage id, relevance; an optional
header line). Everything here is pure: the command that runs queries lives in `qa.eval_cli`.

Conventions (the ones BEIR / trec_eval use):
- A ranking is a list of corpus entry ids, best first, each id at most once. The index may split a long
  entry into several passages; `entry_ranking` keeps each entry at the rank of its best passage. A passage
  shown with copies of its text in other entries (`Evidence.also_in`, qa/duplicates.py) cites those entries
  too: they follow it in the ranking, as they follow it on screen.
- nDCG@k uses linear gain (relevance / log2(rank + 1)) against the ideal ordering of the judged entries.
- hit@k is 1 when any relevant entry is in the top k; MRR@k is 1 / rank of the first relevant entry
  (0 beyond k); recall@k is the share of relevant entries found in the top k.
- The split: a query is "dev" when the first byte of sha256(query id) is even, else "test" (about half
  each, fixed forever, independent of file order and of `--limit`, which takes the first N queries of the
  file before splitting).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from index.errors import QAError

Split = Literal["dev", "test", "all"]
SPLITS: tuple[Split, ...] = ("dev", "test", "all")
Qrels = Mapping[str, int]  # entry id -> relevance (> 0 means relevant)


class DatasetError(QAError):
    """A benchmark dataset is missing files or is malformed."""


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dataset:
    name: str
    directory: Path
    corpus: Path
    queries: tuple[Query, ...]
    qrels: dict[str, dict[str, int]]  # query id -> entry id -> relevance


def split_of(query_id: str) -> Literal["dev", "test"]:
    """The fixed split of a query: dev when the first byte of sha256(id) is even, test otherwise."""
    return "dev" if hashlib.sha256(query_id.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def select_queries(queries: Sequence[Query], split: Split, limit: int | None) -> list[Query]:
    """The first `limit` queries of the file (all when None), then those of `split`."""
    chosen = list(queries[:limit] if limit is not None else queries)
    if split == "all":
        return chosen
    return [q for q in chosen if split_of(q.id) == split]


def read_qrels(lines: Iterable[str]) -> dict[str, dict[str, int]]:
    """Parse TSV qrels (query id, entry id, relevance); a header line and blank lines are skipped.
    A four-column TREC line (query, 0, entry, relevance) is accepted too."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(lines, start=1):
        fields = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
        if not fields or not line.strip():
            continue
        if len(fields) == 4:
            fields = [fields[0], fields[2], fields[3]]
        if len(fields) != 3:
            raise DatasetError(f"qrels line {number}: expected 3 columns, got {len(fields)}")
        query_id, entry_id, relevance = (f.strip() for f in fields)
        try:
            value = int(float(relevance))
        except ValueError:
            if number == 1:
                continue  # a header such as "query-id corpus-id score"
            raise DatasetError(f"qrels line {number}: relevance {relevance!r} is not a number") from None
        qrels.setdefault(query_id, {})[entry_id] = value
    return qrels


def load_dataset(directory: Path) -> Dataset:
    corpus = directory / "corpus.jsonl"
    queries_file = directory / "queries.jsonl"
    qrels_file = directory / "qrels.tsv"
    for needed in (corpus, queries_file, qrels_file):
        if not needed.is_file():
            raise DatasetError(f"{directory} is not a BEIR-layout dataset: {needed.name} is missing")
    with open(qrels_file, encoding="utf-8") as handle:
        qrels = read_qrels(handle)
    queries: list[Query] = []
    with open(queries_file, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                query_id = str(record.get("id", record.get("_id")))
                answers = tuple(str(a) for a in record.get("answers") or ())
                queries.append(Query(query_id, str(record["text"]), answers))
            except (ValueError, KeyError, AttributeError, TypeError) as exc:
                raise DatasetError(f"{queries_file.name} line {number}: {exc}") from None
    judged = tuple(q for q in queries if any(r > 0 for r in qrels.get(q.id, {}).values()))
    return Dataset(directory.name, directory, corpus, judged, qrels)


# --- rankings ---------------------------------------------------------------------------------------


def entry_ranking(passage_entries: Iterable[str]) -> list[str]:
    """Entry ids in the order of their best (first) passage: the ranking of a passage list by entry."""
    return list(dict.fromkeys(passage_entries))


# --- metrics (ranking: entry ids best first; qrels: entry id -> relevance) ---------------------------


def _relevant(qrels: Qrels) -> set[str]:
    return {entry for entry, rel in qrels.items() if rel > 0}


def hit_at(ranking: Sequence[str], qrels: Qrels, k: int) -> float:
    relevant = _relevant(qrels)
    return 1.0 if any(entry in relevant for entry in ranking[:k]) else 0.0


def mrr_at(ranking: Sequence[str], qrels: Qrels, k: int) -> float:
    relevant = _relevant(qrels)
    for rank, entry in enumerate(ranking[:k], start=1):
        if entry in relevant:
            return 1.0 / rank
    return 0.0


def recall_at(ranking: Sequence[str], qrels: Qrels, k: int) -> float:
    relevant = _relevant(qrels)
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def ndcg_at(ranking: Sequence[str], qrels: Qrels, k: int) -> float:
    """nDCG@k with linear gain: sum rel_i / log2(i + 1) over the top k, divided by the ideal sum."""
    dcg = sum(max(qrels.get(entry, 0), 0) / math.log2(rank + 1) for rank, entry in enumerate(ranking[:k], start=1))
    ideal_gains = sorted((rel for rel in qrels.values() if rel > 0), reverse=True)[:k]
    ideal = sum(rel / math.log2(rank + 1) for rank, rel in enumerate(ideal_gains, start=1))
    return dcg / ideal if ideal > 0 else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- answer strings ---------------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_NON_WORD = re.compile(r"[^\w\s]")


def normalize_answer(text: str) -> str:
    """SQuAD's answer normalisation: lowercase, no punctuation, no articles, single spaces (plus
    accent folding)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_ARTICLES.sub(" ", _NON_WORD.sub(" ", folded)).split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """True when any (normalised, non-empty) answer occurs in `text` as whole words."""
    haystack = f" {normalize_answer(text)} "
    for answer in answers:
        needle = normalize_answer(answer)
        if needle and f" {needle} " in haystack:
            return True
    return False


# --- aggregation ------------------------------------------------------------------------------------

RANK_METRICS: dict[str, Callable[[Sequence[str], Qrels], float]] = {
    "hit@1": lambda r, q: hit_at(r, q, 1),
    "hit@5": lambda r, q: hit_at(r, q, 5),
    "hit@10": lambda r, q: hit_at(r, q, 10),
    "hit@20": lambda r, q: hit_at(r, q, 20),
    "mrr@10": lambda r, q: mrr_at(r, q, 10),
    "ndcg@10": lambda r, q: ndcg_at(r, q, 10),
}
DEEP_METRICS: dict[str, Callable[[Sequence[str], Qrels], float]] = {
    "recall@100": lambda r, q: recall_at(r, q, 100),
}


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0
