"""Is a citation still true? Checks that a cited file still holds the cited text at the cited place.

An index describes the corpus as it was when it was built; a long-running session (the TUI) keeps its
index open while files are edited. Before an answer is shown, each cited document is checked: unchanged
size and modification time (the cheap, common case), else the same content hash, else the passage text
still found at the same offsets and lines. Anything else (edited, deleted, unreadable) is stale.
"""

from __future__ import annotations

import os

from index.catalog import DocumentRecord
from index.corpus import DocumentSource, FileEntry, UnreadableDocument
from index.paragraphs import LineIndex
from qa.types import Citation


class CitationChecker:
    """Verifies citations against the documents of one source; remembers each file's state it read."""

    def __init__(self, source: DocumentSource) -> None:
        self.source = source
        # (path, size, mtime) -> the document's text now, or None when it is gone or unreadable
        self._texts: dict[tuple[str, int, int], str | None] = {}
        self._unchanged: set[tuple[str, int, int]] = set()

    def holds(self, citation: Citation, text: str, document: DocumentRecord) -> bool:
        """True when `citation` still points at `text` in the document as it is now on disk."""
        try:
            stat = os.stat(document.abs_path)
        except OSError:
            return False
        if stat.st_size == document.size and stat.st_mtime_ns == document.mtime_ns:
            return True
        key = (document.path, stat.st_size, stat.st_mtime_ns)
        if len(self._texts) > 256:  # a long session: keep the cache small
            self._texts.clear()
            self._unchanged.clear()
        if key not in self._texts:
            entry = FileEntry(document.path, document.abs_path, stat.st_size, stat.st_mtime_ns)
            try:
                current = self.source.read(entry)
            except (UnreadableDocument, KeyError, OSError):
                self._texts[key] = None
            else:
                self._texts[key] = current.text
                if current.sha256 == document.sha256:
                    self._unchanged.add(key)
        if key in self._unchanged:  # same content, only touched
            return True
        current_text = self._texts[key]
        if current_text is None:
            return False
        if current_text[citation.char_start : citation.char_end] != text:
            return False
        lines = LineIndex(current_text)
        return (
            lines.line_of(citation.char_start) == citation.line_start
            and lines.line_of(citation.char_end - 1) == citation.line_end
        )
