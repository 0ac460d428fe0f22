"""Small helpers shared by the benchmark scripts: timing statistics, memory, Markdown tables."""

from __future__ import annotations

import json
import os
import resource
import statistics
from collections.abc import Sequence
from pathlib import Path

EVAL_DIR = Path("/work/shared/eval")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def status_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (VmRSS, VmHWM), 0 where /proc is absent."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if field == "VmHWM" else 0


def mib(kib: float) -> float:
    return kib / 1024


def dir_size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            if value != value:
                return "—"
            return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def load_queries(dataset: str, limit: int | None = None) -> list[tuple[str, str]]:
    """(id, text) of a dataset's queries.jsonl, in file order."""
    out = []
    with open(EVAL_DIR / dataset / "queries.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            out.append((str(record.get("id", record.get("_id"))), str(record["text"])))
            if limit is not None and len(out) >= limit:
                break
    return out


def load_qrels(dataset: str) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(EVAL_DIR / dataset / "qrels.tsv", encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0] in ("query-id", "query_id"):
                continue
            try:
                qrels.setdefault(parts[0], {})[parts[1]] = int(parts[-1])
            except ValueError:
                continue
    return qrels


class QuietReporter:
    """A `BuildReporter` that prints notes (and progress every ~10%) on stderr."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self._last: dict[str, int] = {}

    def warn(self, message: str) -> None:
        print(f"{self.prefix}warning: {message}", file=__import__("sys").stderr, flush=True)

    def note(self, message: str) -> None:
        print(f"{self.prefix}{message}", file=__import__("sys").stderr, flush=True)

    def progress(self, stage: str, done: int, total: int) -> None:
        step = max(1, total // 10)
        if done // step != self._last.get(stage, -1) or done >= total:
            self._last[stage] = done // step
            print(f"{self.prefix}{stage} {done}/{total}", file=__import__("sys").stderr, flush=True)
