"""Names of the index build's progress stages, shared by the builder and whatever draws its progress
(kept apart so that a progress bar need not import the builder)."""

from __future__ import annotations

INDEXING = "indexing"  # reading, splitting and embedding: done / total are bytes of the corpus's files
BYTE_STAGES = frozenset({INDEXING})  # stages whose progress counts bytes, not steps
