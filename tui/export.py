"""The conversation as Markdown, with citations, and where to save it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from qa.escape import safe_line, safe_text
from qa.types import Answer, Evidence
from tui.widgets.evidence import why_text


def citation_line(evidence: Evidence) -> str:
    """`path:line` and the quoted passage: what "copy citation" puts on the clipboard."""
    citation = evidence.citation
    return f'{safe_line(citation.abs_path)}:{citation.line_start} "{safe_line(evidence.text)}"'


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in safe_text(text).splitlines())


def conversation_markdown(answers: Sequence[Answer]) -> str:
    out = ["# corpus-qa conversation", ""]
    for number, answer in enumerate(answers, start=1):
        out.append(f"## {number}. {safe_line(answer.question)}")
        out.append("")
        if answer.retrieval_query != answer.question:
            out += [f"*Searched for: {safe_line(answer.retrieval_query)}*", ""]
        if answer.answer is not None:
            top = answer.passages[answer.answer.passage - 1]
            out += [
                f"**Answer:** {safe_line(answer.answer.text)} [{answer.answer.passage}]",
                "",
                f"*Source: {safe_line(top.citation.location())}*",
                "",
            ]
            out.append("### Evidence")
        else:
            out += ["**No good evidence in this corpus.**", "", f"*{safe_line(answer.reason)}*", ""]
            out.append("### Closest passages (not answers)")
        out.append("")
        for evidence in answer.passages:
            citation = evidence.citation
            out.append(f"[{evidence.rank}] **{safe_line(citation.title)}**: `{safe_line(citation.location())}`")
            out.append("")
            out.append(_quote(evidence.text))
            out.append("")
            out.append(f"*{why_text(evidence, answer.mode).plain}*".replace("\n", " · "))
            out.append("")
        out.append(f"*{answer.mode}, top {answer.top_k}*")
        out.append("")
    return "\n".join(out)


def export_path(now: datetime) -> Path:
    """A new file under $QA_HOME/exports when QA_HOME is set, else under the current directory."""
    home = os.environ.get("QA_HOME")
    folder = Path(home).expanduser() / "exports" if home else Path.cwd()
    stem = f"qa-conversation-{now:%Y%m%d-%H%M%S}"
    path = folder / f"{stem}.md"
    number = 1
    while path.exists():
        number += 1
        path = folder / f"{stem}-{number}.md"
    return path


def write_export(answers: Sequence[Answer], now: datetime) -> Path:
    path = export_path(now)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(conversation_markdown(answers), encoding="utf-8")
    return path
