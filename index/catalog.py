"""The passage catalog: documents, passages and the BM25 vocabulary in one SQLite file.

Written once into a new index generation, then opened read-only (`immutable=1`): generations never change.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from index.errors import IndexStoreError

SCHEMA = """
CREATE TABLE documents (
    doc INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, abs_path TEXT NOT NULL, title TEXT NOT NULL,
    title_from_text INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL
);
CREATE TABLE skipped (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE passages (
    row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc INTEGER NOT NULL REFERENCES documents(doc),
    paragraph INTEGER NOT NULL, window INTEGER NOT NULL, kind TEXT NOT NULL,
    line_start INTEGER NOT NULL, line_end INTEGER NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    text TEXT NOT NULL, search_row INTEGER UNIQUE, embed_hash TEXT
);
CREATE INDEX passages_doc ON passages(doc, row, search_row);  -- covers `document_row_ranges`
CREATE INDEX passages_headings ON passages(doc, row) WHERE kind = 'heading';
CREATE TABLE terms (term TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE, df INTEGER NOT NULL, idf REAL NOT NULL);
"""


@dataclass(frozen=True)
class DocumentRecord:
    doc: int
    path: str
    abs_path: str
    title: str
    title_from_text: bool
    sha256: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class SkippedRecord:
    path: str
    size: int
    mtime_ns: int
    reason: str


@dataclass(frozen=True)
class PassageRecord:
    row: int
    id: str
    doc: int
    paragraph: int
    window: int
    kind: str
    line_start: int
    line_end: int
    char_start: int
    char_end: int
    text: str
    search_row: int | None
    embed_hash: str | None


def _uri(path: Path, options: str) -> str:
    return f"file:{quote(str(path))}?{options}"


def _read_only_uri(path: Path) -> str:
    return _uri(path, "mode=ro&immutable=1")


class CatalogWriter:
    """Creates a catalog file and fills it incrementally (passages are written as they are produced).
    With `previous` (another catalog), passages can be copied from it by row range (`copy_passages`)."""

    BATCH = 2000

    def __init__(self, path: Path, previous: Path | None = None) -> None:
        self._db = sqlite3.connect(_uri(path, "mode=rwc"), uri=True)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        if previous is not None:
            self._db.execute("ATTACH DATABASE ? AS previous", (_read_only_uri(previous),))
        self._db.executescript(SCHEMA)
        self._documents: list[tuple[object, ...]] = []
        self._passages: list[tuple[object, ...]] = []

    def add_document(self, d: DocumentRecord) -> None:
        self._documents.append(
            (d.doc, d.path, d.abs_path, d.title, int(d.title_from_text), d.sha256, d.size, d.mtime_ns)
        )
        if len(self._documents) >= self.BATCH:
            self._flush()

    def add_skipped(self, s: SkippedRecord) -> None:
        self._db.execute("INSERT INTO skipped VALUES (?,?,?,?)", (s.path, s.size, s.mtime_ns, s.reason))

    def add_passage(self, p: PassageRecord) -> None:
        self._passages.append(
            (
                p.row, p.id, p.doc, p.paragraph, p.window, p.kind, p.line_start, p.line_end,
                p.char_start, p.char_end, p.text, p.search_row, p.embed_hash,
            )
        )  # fmt: skip
        if len(self._passages) >= self.BATCH:
            self._flush()

    def copy_passages(self, rows: tuple[int, int], row_shift: int, doc_shift: int, search_shift: int) -> None:
        """Copy the previous catalog's passages of rows [start, stop), their rows, documents and search rows
        shifted by the given amounts (one statement, inside SQLite)."""
        self._db.execute(
            'INSERT INTO passages SELECT row + ?, id, doc + ?, paragraph, "window", kind, line_start, line_end, '
            "char_start, char_end, text, search_row + ?, embed_hash FROM previous.passages WHERE row >= ? AND row < ?",
            (row_shift, doc_shift, search_shift, rows[0], rows[1]),
        )

    def _flush(self) -> None:
        self._db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?)", self._documents)
        self._documents.clear()
        self._db.executemany("INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", self._passages)
        self._passages.clear()

    def add_terms(self, terms: Iterable[tuple[str, int, int, float]]) -> None:
        self._db.executemany("INSERT INTO terms VALUES (?,?,?,?)", terms)

    def close(self) -> None:
        self._flush()
        self._db.commit()
        self._db.close()

    def abort(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()


def write_catalog(
    path: Path,
    documents: Sequence[DocumentRecord],
    skipped: Sequence[SkippedRecord],
    passages: Iterable[PassageRecord],
    terms: Iterable[tuple[str, int, int, float]],
) -> None:
    """Create the catalog file at `path` (which must not exist) in one go."""
    writer = CatalogWriter(path)
    try:
        for document in documents:
            writer.add_document(document)
        for skip in skipped:
            writer.add_skipped(skip)
        for passage in passages:
            writer.add_passage(passage)
        writer.add_terms(terms)
    except sqlite3.Error as exc:  # disk full, file size limit, I/O error: one clear message, nothing published
        writer.abort()
        raise IndexStoreError(f"cannot write the index catalog in {path.parent}: {exc}") from None
    except BaseException:
        writer.abort()
        raise
    writer.close()


class Catalog:
    """Read-only access to a written catalog."""

    def __init__(self, path: Path) -> None:
        try:
            self._db = sqlite3.connect(_read_only_uri(path), uri=True, check_same_thread=False)
            self._db.execute("SELECT row FROM passages LIMIT 1").fetchone()  # reads the schema, not the table
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"catalog unreadable: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def documents(self) -> list[DocumentRecord]:
        rows = self._db.execute("SELECT * FROM documents ORDER BY doc").fetchall()
        return [DocumentRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6], r[7]) for r in rows]

    def skipped(self) -> list[SkippedRecord]:
        return [SkippedRecord(*r) for r in self._db.execute("SELECT * FROM skipped ORDER BY path")]

    def passage_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM passages").fetchone()[0])

    def passages_by_search_rows(self, search_rows: Sequence[int]) -> dict[int, PassageRecord]:
        if not search_rows:
            return {}
        marks = ",".join("?" * len(search_rows))
        cursor = self._db.execute(
            f"SELECT * FROM passages WHERE search_row IN ({marks})", [int(r) for r in search_rows]
        )
        return {int(r[11]): PassageRecord(*r) for r in cursor}

    def document_row_ranges(self) -> list[tuple[int, int, int, int | None, int]]:
        """(doc, first row, passages, first search row or None, searchable passages) of every document
        with passages, by document."""
        cursor = self._db.execute(
            "SELECT doc, min(row), count(*), min(search_row), count(search_row) FROM passages GROUP BY doc ORDER BY doc"
        )
        return [(int(d), int(r), int(n), None if s is None else int(s), int(k)) for d, r, n, s, k in cursor]

    def terms_by_id(self) -> list[str]:
        """The BM25 vocabulary, term i at position i."""
        return [str(t) for (t,) in self._db.execute("SELECT term FROM terms ORDER BY id")]

    def first_passage_text(self, doc: int) -> str | None:
        row = self._db.execute("SELECT text FROM passages WHERE doc = ? ORDER BY row LIMIT 1", (doc,)).fetchone()
        return str(row[0]) if row else None

    def has_headings(self) -> bool:
        """Whether any document has a section heading."""
        return self._db.execute("SELECT 1 FROM passages WHERE kind = 'heading' LIMIT 1").fetchone() is not None

    def headings(self) -> list[tuple[int, str]]:
        """(document, text) of every heading passage."""
        return self._db.execute("SELECT doc, text FROM passages WHERE kind = 'heading'").fetchall()

    def heading_before(self, doc: int, row: int) -> str | None:
        """The text of document `doc`'s last heading passage before catalog row `row`, if any."""
        found = self._db.execute(
            "SELECT text FROM passages WHERE doc = ? AND kind = 'heading' AND row < ? ORDER BY row DESC LIMIT 1",
            (doc, row),
        ).fetchone()
        return str(found[0]) if found else None

    def passages_of_document(self, doc: int) -> list[PassageRecord]:
        cursor = self._db.execute("SELECT * FROM passages WHERE doc = ? ORDER BY row", (doc,))
        return [PassageRecord(*r) for r in cursor]

    def search_rows_of_document(self, doc: int) -> list[int]:
        """The search rows of document `doc`'s searchable passages, in reading order (from the covering index)."""
        cursor = self._db.execute(
            "SELECT search_row FROM passages WHERE doc = ? AND search_row IS NOT NULL ORDER BY row", (doc,)
        )
        return [int(r) for (r,) in cursor]

    def passage_by_id(self, passage_id: str) -> PassageRecord | None:
        row = self._db.execute("SELECT * FROM passages WHERE id = ?", (passage_id,)).fetchone()
        return PassageRecord(*row) if row else None

    def embed_hashes(self, doc: int | None = None) -> dict[str, int]:
        """embed_hash -> search_row, for reusing vectors of unchanged passages: of document `doc`'s passages
        (an indexed query), or of every passage."""
        if doc is None:
            cursor = self._db.execute("SELECT embed_hash, search_row FROM passages WHERE search_row IS NOT NULL")
        else:
            cursor = self._db.execute(
                "SELECT embed_hash, search_row FROM passages WHERE doc = ? AND search_row IS NOT NULL", (doc,)
            )
        return {str(h): int(r) for h, r in cursor}

    def extended_terms(self, prefixes: Sequence[str]) -> set[str]:
        """The `prefixes` that begin a longer term of the vocabulary (a B-tree range on the terms' key)."""
        found = set()
        for prefix in set(prefixes):
            row = self._db.execute(
                "SELECT 1 FROM terms WHERE term > ? AND term < ? LIMIT 1", (prefix, prefix + "\U0010ffff")
            ).fetchone()
            if row is not None:
                found.add(prefix)
        return found

    def term_ids(self, terms: Sequence[str]) -> dict[str, tuple[int, float]]:
        """term -> (id, idf) for the terms of `terms` that are in the vocabulary."""
        unique = sorted(set(terms))
        if not unique:
            return {}
        marks = ",".join("?" * len(unique))
        cursor = self._db.execute(f"SELECT term, id, idf FROM terms WHERE term IN ({marks})", unique)
        return {t: (int(i), float(idf)) for t, i, idf in cursor}
