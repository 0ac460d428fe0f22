"""Retrieval quality of the current defaults on the shared benchmark sets, as a Markdown table.

    PYTHONPATH=. python benchmarks/quality.py [--out docs/quality-results.md] [--splits dev,test]

Datasets are looked up in $QA_EVAL_DIR, else `<repo root>/../shared/eval`, else /work/shared/eval.
SciFact runs on all its queries, SQuAD v1.1 dev on the first 3,000 queries of its file; both are split
into dev and test by `qa.eval.split_of` (a stable hash of the query id). Every mode uses the defaults
that `qa --ask` uses (index settings, candidate depth, fusion); only recall@100 reads a deeper list.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qa.eval_cli import build_parser, markdown_table, run_eval  # noqa: E402
from qa.progress import StderrReporter  # noqa: E402

DATASETS = (("scifact", None), ("squad-v1.1-dev", 3000))


def eval_dir() -> Path | None:
    candidates = [os.environ.get("QA_EVAL_DIR"), str(REPO.parent / "shared" / "eval"), "/work/shared/eval"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="also write the Markdown here")
    parser.add_argument("--json", type=Path, help="write the summaries as JSON here")
    parser.add_argument("--splits", default="dev,test")
    parser.add_argument("--modes", default="bm25,dense,hybrid-rrf,hybrid")
    parser.add_argument("--limit", type=int, help="at most N queries of each file (a quick smoke run)")
    args = parser.parse_args()
    root = eval_dir()
    if root is None:
        print("no eval datasets: set QA_EVAL_DIR or put shared/eval beside the repo", file=sys.stderr)
        return 1
    reporter = StderrReporter()
    sections = []
    summaries = []
    for name, limit in DATASETS:
        for split in args.splits.split(","):
            argv = ["--dataset", str(root / name), "--split", split, "--modes", args.modes]
            if args.limit is not None:
                limit = min(limit or args.limit, args.limit)
            if limit is not None:
                argv += ["--limit", str(limit)]
            started = time.perf_counter()
            report = run_eval(build_parser().parse_args(argv), reporter)
            seconds = time.perf_counter() - started
            limit_text = f", first {limit} queries of the file" if limit else ""
            sections.append(
                f"### {name}, {split} split ({report['queries']} queries{limit_text}; "
                f"{report['passages']} passages; {seconds:.0f} s)\n\n{markdown_table(report['summary'])}\n"
            )
            summaries.append({"dataset": name, "split": split, "summary": report["summary"]})
    text = "\n".join(sections)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
