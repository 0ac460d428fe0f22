"""Names of the index build's progress stages and the line that reports its embedding, shared by the builder
and whatever draws its progress (kept apart so that a progress bar need not import the builder)."""

from __future__ import annotations

INDEXING = "indexing"  # reading, splitting and embedding: done / total are bytes of the corpus's files
BYTE_STAGES = frozenset({INDEXING})  # stages whose progress counts bytes, not steps

RATE_FROM = 100  # passages embedded before a rate is worth showing (below, loading the model dominates)


def embedded_note(passages: int, seconds: float) -> str:
    """ "embedded 1,200 passages in 4.1 s (293/s)"; for a few passages, no rate ("embedded 1 passage in 4.4 s")."""
    text = f"embedded {passages:,} passage{'s' if passages != 1 else ''} in {seconds:.1f} s"
    return text + (f" ({passages / max(seconds, 1e-9):,.0f}/s)" if passages >= RATE_FROM else "")
