"""Resource bounds: indexing memory grows with the corpus, not worse (measured in a fresh process)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.reliability.helpers import REPO, driver_env


def _measure(*args: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "index_memory.py"), *args, "--no-embed"],
        capture_output=True,
        text=True,
        env=driver_env(),
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_indexing_memory_is_bounded_per_passage() -> None:
    """10k passages (384-dim vectors, BM25, catalog): about 7 KiB per passage above the interpreter,
    mostly copies of the vectors. docs/guarantees.md has the 100k and 50 MB numbers."""
    measured = _measure("--paragraphs", "10000")
    assert measured["passages"] == 10000
    growth = measured["peak_rss_mib"] - measured["rss_before_build_mib"]
    assert growth < 250, measured
