"""Keeping memory-mapped index files out of the resident set.

A page of a memory-mapped file, once read, stays mapped into the process: reading a million-passage
index's postings question after question, or the previous generation's arrays while an update copies
them, would make the resident set grow toward the whole files. `drop_pages` hands the pages back
(`madvise(MADV_DONTNEED)`): they stay in the page cache, and the next read of them maps them again (a
minor fault), so nothing is read from disk twice and nothing changes for the reader.
"""

from __future__ import annotations

import mmap
from typing import Any


def drop_pages(*arrays: Any) -> bool:
    """Drop the pages of the memory maps behind `arrays` (numpy memmaps and their views; in-memory
    arrays are skipped) from this process's mappings. True when any mapping was dropped."""
    advice = getattr(mmap, "MADV_DONTNEED", None)
    dropped = False
    for array in arrays:
        mapping = getattr(array, "_mmap", None)  # numpy.memmap's mapping (None: an in-memory array)
        if mapping is None or advice is None:
            continue
        try:
            mapping.madvise(advice)
            dropped = True
        except (OSError, ValueError):  # a platform that refuses: the pages simply stay
            pass
    return dropped
