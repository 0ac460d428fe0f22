"""Export a conversation to Markdown: each question, what retrieval searched for, the answer, and the
evidence passages with their citations (`path:lines (¶n)`), so the export can be checked against the files.

Corpus text is data: control characters are escaped and every passage is quoted (a code block is fenced,
with a fence longer than any run of backticks in it), so a document cannot inject headings or links into
the structure of the export.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.sentences import is_code_block
from index.tokenize import shown_words
from qa.escape import one_line, safe_line, safe_text
from qa.render import why_line
from qa.types import Answer

EXCERPT_MAX_CHARS = 600
_BACKTICKS = re.compile(r"`+")


def _quote(text: str) -> str:
    flat = " ".join(safe_text(shown_words(text)).split())
    if len(flat) > EXCERPT_MAX_CHARS:
        flat = flat[: EXCERPT_MAX_CHARS - 1].rstrip() + "…"
    return "> " + flat


def _code(text: str) -> str:
    return "`" + safe_line(text).replace("`", "'") + "`"


def _code_block(text: str) -> list[str]:
    """Corpus code (a fenced block, fences included) as a Markdown code block whose fence is longer than any
    run of backticks in it, so nothing inside can close it."""
    fence = "`" * max(3, 1 + max((len(run) for run in _BACKTICKS.findall(text)), default=0))
    return [fence, *safe_text(text).splitlines(), fence]


# what Markdown reads inside a line (line-start marks such as "#", "-" or "1." cannot occur: the title follows "N. ")
_MARKDOWN_PUNCTUATION = frozenset("\\`*_[]<>()|~")


def _plain(text: str) -> str:
    """One line of corpus text shown as text inside a Markdown line: the marks Markdown reads there are escaped."""
    return "".join("\\" + c if c in _MARKDOWN_PUNCTUATION else c for c in one_line(text))


def conversation_markdown(turns: Sequence[Answer], title: str | None = None) -> str:
    """The conversation as Markdown, one section per turn, every passage with its citation."""
    lines: list[str] = [f"# {safe_line(title or (turns[0].question if turns else 'Conversation'))}", ""]
    for number, turn in enumerate(turns, start=1):
        lines += [f"## {number}. {safe_line(turn.question)}", ""]
        if turn.retrieval_query != turn.question:
            lines += [f"*Searched for:* {safe_line(turn.retrieval_query)}", ""]
        if (context := turn.context_line()) is not None:
            lines += [f"*Context:* {safe_line(context)}", ""]
        if turn.answer is not None and turn.passages:
            cited = turn.passages[turn.answer.passage - 1]
            if turn.answer.header is not None:  # a table row: shown as a table under its header row
                header = one_line(turn.answer.header.text)
                columns = max(1, len(header.strip().strip("|").split("|")))
                lines += [f"**Answer:** [{turn.answer.passage}]", "", header, "|" + "---|" * columns]
                lines += [one_line(turn.answer.text), ""]
            else:
                lines += [f"**Answer:** {one_line(turn.answer.text)} [{turn.answer.passage}]", ""]
            lines += [
                f"Source: {_code(cited.citation.location())}",
                "",
            ]
        else:
            lines += [f"**No credible evidence:** {safe_line(turn.reason)}", ""]
        if turn.passages:
            lines += ["Evidence:", ""]
            for evidence in turn.passages:
                title = evidence.citation.heading()
                named = f"**{_plain(title)}** — " if title.strip() else ""
                where = f"{_code(evidence.citation.location())} · {_code(evidence.id)}"
                lines += [f"{evidence.rank}. {named}{where}", ""]
                if evidence.also_in:
                    copies = ", ".join(_code(c.location()) for c in evidence.also_in)
                    lines += [f"   *The same text is also in:* {copies}", ""]
                if is_code_block(evidence.text):  # quoted, its fence would open a code block that hides it
                    lines += [f"   {line}" if line else "" for line in _code_block(evidence.text)] + [""]
                else:
                    lines += ["   " + _quote(evidence.text), ""]
                lines += [f"   *why: {why_line(evidence)}*", ""]
    return "\n".join(lines).rstrip() + "\n"
