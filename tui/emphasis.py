"""Corpus text as Rich `Text`: escaped with `safe_text`, styled by explicit spans, never parsed as markup."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.style import Style
from rich.text import Text

from index.tokenize import shown_breaks
from qa.escape import one_line as on_one_line
from qa.escape import safe_text

_LINE_BREAK = re.compile(r"[ \t]*(?:\r\n|\r|\n)[ \t]*")
_INNER_BLANKS = re.compile(r"(?<=\S)[ \t]{2,}(?=\S)")  # between two words on one line
SENTENCE = "bold on #2e3a4f"  # the answer sentence inside a passage
TERM = "bold underline #ffd866"  # a query term found in a passage
Span = tuple[int, int, str]


def plain(text: str, style: str = "", one_line: bool = False) -> Text:
    """`text` escaped and wrapped in a `Text` with one style: markup-looking strings stay literal."""
    return Text(on_one_line(text) if one_line else safe_text(text), style=style)


def emphasised(
    text: str, spans: Sequence[Span], base: str = "", breaks: Sequence[int] | None = None, squeeze: bool = False
) -> Text:
    """`text` with each `(start, end, style)` span styled; offsets are into `text` (before escaping).

    Each piece between span boundaries is escaped on its own, so escapes never shift the highlighting.
    With `breaks` (offsets of the line starts to keep: list items, table rows, code lines) the text is
    flowed: any other line break and the indentation after it become one space (a word typeset across
    the break is joined), so a hard-wrapped paragraph reads as one and the terminal wraps it; with
    `squeeze` too, blanks between two words are one space (a justified manual page's "0  even  if").
    """
    size = len(text)
    cuts = {0, size}
    dropped: set[tuple[int, int]] = set()  # typesetter's breaks inside words (and extra blanks), when flowing
    if breaks is not None:
        cuts.update(b for b in breaks if 0 < b < size)
        dropped = set(shown_breaks(text))
        if squeeze:
            dropped.update((run.start() + 1, run.end()) for run in _INNER_BLANKS.finditer(text))
        cuts.update(offset for span in dropped for offset in span)
    clipped = [(max(0, s), min(size, e), style) for s, e, style in spans if s < e]
    for start, end, _ in clipped:
        if start < end:
            cuts.update((start, end))
    bounds = sorted(c for c in cuts if 0 <= c <= size)
    kept = set(breaks or ())
    out = Text(style=base)
    for a, b in zip(bounds, bounds[1:], strict=False):
        styles = [style for s, e, style in clipped if s <= a and b <= e]
        piece = text[a:b] if breaks is None else "" if (a, b) in dropped else _flowed(text[a:b], keep_last=b in kept)
        out.append(safe_text(piece), style=Style.combine(Style.parse(s) for s in styles) if styles else None)
    return out


def _flowed(piece: str, keep_last: bool) -> str:
    """`piece` with its line breaks, and the blanks around them, as one space; a break at its very end is
    kept (with the next piece's indentation) when the next line is one to keep (`keep_last`)."""
    if keep_last:
        head, newline, tail = piece.rpartition("\n")
        if newline and not tail.strip():
            return _flowed(head.removesuffix("\r"), False) + newline + tail
        return _flowed(piece, False)
    return _LINE_BREAK.sub(" ", piece)


def evidence_spans(sentence: tuple[int, int] | None, terms: Sequence[tuple[int, int]], offset: int = 0) -> list[Span]:
    """Spans for a passage shown from `offset`: the answer sentence, then the matched terms on top."""
    spans: list[Span] = []
    if sentence is not None:
        spans.append((sentence[0] + offset, sentence[1] + offset, SENTENCE))
    spans.extend((s + offset, e + offset, TERM) for s, e in terms)
    return spans
