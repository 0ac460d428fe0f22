"""SQuAD dev paragraphs written as one .txt file per article (title line, blank-line separated
paragraphs), with the character span of every source paragraph so passages map back to qrels ids.
The dataset is read from /work/shared/eval; the files go to a scratch folder, never the repository."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.common import EVAL_DIR

Spans = dict[str, list[tuple[str, int, int]]]  # file name -> [(paragraph id, char_start, char_end)]


def squad_records(limit: int | None = None) -> list[tuple[str, str, str]]:
    """(id, title, text) of SQuAD dev paragraphs, in file order."""
    out = []
    with open(EVAL_DIR / "squad-v1.1-dev" / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            out.append((record["id"], record["title"], " ".join(record["text"].split())))
            if limit is not None and len(out) >= limit:
                break
    return out


def write_squad_files(folder: Path, limit: int | None = None) -> Spans:
    """Write the files (unchanged files are not rewritten, so an index over them stays valid)."""
    folder.mkdir(parents=True, exist_ok=True)
    by_article: dict[str, list[tuple[str, str, str]]] = {}
    for record in squad_records(limit):
        by_article.setdefault(record[0].rsplit("-p", 1)[0], []).append(record)
    spans: Spans = {}
    for article, records in by_article.items():
        name = f"{article.removeprefix('squad-dev-')}.txt"
        text = records[0][1].replace("_", " ") + "\n\n"
        spans[name] = []
        for paragraph_id, _, body in records:
            spans[name].append((paragraph_id, len(text), len(text) + len(body)))
            text += body + "\n\n"
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return spans


def paragraph_of(spans: Spans, passage_path: str, char_start: int) -> str | None:
    """The source paragraph id of a passage (by file name and start offset)."""
    for paragraph_id, start, end in spans.get(passage_path.rsplit("/", 1)[-1], []):
        if start <= char_start < end:
            return paragraph_id
    return None
