"""Corpus text as Rich `Text`: escaped with `safe_text`, styled by explicit spans, never parsed as markup."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text

from qa.escape import one_line as on_one_line
from qa.escape import safe_text

SENTENCE = "bold on #2e3a4f"  # the answer sentence inside a passage
TERM = "bold underline #ffd866"  # a query term found in a passage
Span = tuple[int, int, str]


def plain(text: str, style: str = "", one_line: bool = False) -> Text:
    """`text` escaped and wrapped in a `Text` with one style: markup-looking strings stay literal."""
    return Text(on_one_line(text) if one_line else safe_text(text), style=style)


def emphasised(text: str, spans: Sequence[Span], base: str = "") -> Text:
    """`text` with each `(start, end, style)` span styled; offsets are into `text` (before escaping).

    Each piece between span boundaries is escaped on its own, so escapes never shift the highlighting.
    """
    size = len(text)
    cuts = {0, size}
    clipped = [(max(0, s), min(size, e), style) for s, e, style in spans if s < e]
    for start, end, _ in clipped:
        if start < end:
            cuts.update((start, end))
    bounds = sorted(c for c in cuts if 0 <= c <= size)
    out = Text(style=base)
    for a, b in zip(bounds, bounds[1:], strict=False):
        styles = [style for s, e, style in clipped if s <= a and b <= e]
        out.append(safe_text(text[a:b]), style=Style.combine(Style.parse(s) for s in styles) if styles else None)
    return out


def evidence_spans(sentence: tuple[int, int] | None, terms: Sequence[tuple[int, int]], offset: int = 0) -> list[Span]:
    """Spans for a passage shown from `offset`: the answer sentence, then the matched terms on top."""
    spans: list[Span] = []
    if sentence is not None:
        spans.append((sentence[0] + offset, sentence[1] + offset, SENTENCE))
    spans.extend((s + offset, e + offset, TERM) for s, e in terms)
    return spans
