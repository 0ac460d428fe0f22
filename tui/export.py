"""Where the Markdown export of a conversation goes (the Markdown itself comes from qa.export)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from qa.escape import safe_line
from qa.export import conversation_markdown
from qa.types import Answer, Evidence


def citation_line(evidence: Evidence) -> str:
    """`path:line` and the quoted passage: what "copy citation" puts on the clipboard."""
    citation = evidence.citation
    return f'{safe_line(citation.abs_path)}:{citation.line_start} "{safe_line(evidence.text)}"'


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
