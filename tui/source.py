"""The text around a cited passage, read from its file, for the source panel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from index.corpus import PlainTextReader, UnreadableDocument
from qa.types import Evidence

CONTEXT_CHARS = 20_000  # shown before and after the passage (a huge file is not drawn whole)


@dataclass(frozen=True)
class SourceExcerpt:
    """A document cut around one passage: `before + passage + after` is a slice of the file's text."""

    before: str
    passage: str
    after: str
    clipped_before: int  # characters of the file not shown above
    clipped_after: int
    note: str  # why the file could not be shown as it is ("" when it could)


def load_excerpt(evidence: Evidence, context: int = CONTEXT_CHARS) -> SourceExcerpt:
    """The file of `evidence` around the passage; the indexed passage alone if the file changed or is gone."""
    citation = evidence.citation
    try:
        text = PlainTextReader().decode(Path(citation.abs_path).read_bytes())
    except (OSError, UnreadableDocument) as exc:
        return SourceExcerpt("", evidence.text, "", 0, 0, f"cannot read the file ({exc}); showing the indexed passage")
    start, end = citation.char_start, citation.char_end
    if text[start:end] != evidence.text:
        return SourceExcerpt(
            "", evidence.text, "", 0, 0, "the file changed since it was indexed; showing the indexed passage"
        )
    first = max(0, start - context)
    last = min(len(text), end + context)
    return SourceExcerpt(text[first:start], text[start:end], text[end:last], first, len(text) - last, "")
