"""A `DocumentSource` over a JSONL collection (BEIR `corpus.jsonl`: one {"id"/"_id", "title", "text"} per line).

Each record becomes one document with the path `<collection name>/<id>`, its title taken from the record,
so benchmark corpora go through exactly the same splitting and indexing as a folder of files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from index.corpus import Document, FileEntry, UnreadableDocument, Warn
from index.errors import CorpusError


class JsonlSource:
    def __init__(self, path: Path, name: str | None = None) -> None:
        if not path.is_file():
            raise CorpusError(f"corpus file not found: {path}")
        self.path = path.resolve()
        self.name = name or self.path.parent.name
        self._records: dict[str, tuple[str, str]] | None = None
        self._doc_ids: dict[str, str] = {}

    @property
    def identity(self) -> str:
        return f"jsonl:{self.path}"

    def doc_id(self, display_path: str) -> str:
        """The record id behind a document path."""
        return self._doc_ids[display_path]

    def _load(self, warn: Warn) -> dict[str, tuple[str, str]]:
        if self._records is None:
            records: dict[str, tuple[str, str]] = {}
            with open(self.path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                        doc_id = str(record.get("id", record.get("_id")))
                        records[doc_id] = (str(record.get("title") or ""), str(record.get("text") or ""))
                    except (ValueError, AttributeError) as exc:
                        warn(f"skipped line {number} of {self.path.name}: {exc}")
            self._records = records
        return self._records

    def entries(self, warn: Warn) -> list[FileEntry]:
        records = self._load(warn)
        mtime = self.path.stat().st_mtime_ns
        entries = []
        for doc_id, (title, text) in records.items():
            display = f"{self.name}/{doc_id}"
            self._doc_ids[display] = doc_id
            size = len(f"{title}\n{text}".encode())
            entries.append(FileEntry(display, str(self.path), size, mtime))
        entries.sort(key=lambda e: e.path)
        return entries

    def ignored(self) -> dict[str, int]:
        return {}  # every record is a document

    def read(self, entry: FileEntry) -> Document:
        title, text = self._load(lambda message: None)[self._doc_ids[entry.path]]
        if not text.strip():
            raise UnreadableDocument("empty text")
        digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()
        return Document(entry.path, entry.abs_path, text, digest, entry.size, entry.mtime_ns, title or None)
