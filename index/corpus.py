"""Find and read the documents of a corpus folder: deterministic order, skip rules, content hashes.

Readers turn a file into text behind one small interface (`DocumentReader`), so that HTML, PDF or DOCX
readers can be added later without touching the rest of the pipeline.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import mimetypes
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Protocol

from index.errors import CorpusError

MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """One readable document: its text exactly as decoded from the file."""

    path: str  # display path: "<corpus folder name>/<relative posix path>"
    abs_path: str
    text: str
    sha256: str  # of the raw bytes
    size: int
    mtime_ns: int
    title: str | None = None  # a title the source knows (e.g. a dataset field); else detected from the text


@dataclass(frozen=True)
class FileEntry:
    """A candidate file found under the corpus root, before it is read."""

    path: str
    abs_path: str
    size: int
    mtime_ns: int


class UnreadableDocument(Exception):
    """Raised by a reader for a file that is not usable text; the message says why."""


class DocumentReader(Protocol):
    """Turns the bytes of one kind of file into text."""

    suffixes: tuple[str, ...]  # ".txt": lowercase file name endings it reads
    # "readme": lowercase whole file names it reads (files without an extension), and their variants
    # ("README.Debian", "NEWS.old", "LICENSE-MIT") that are no file of a known type (`is_named_variant`)
    names: tuple[str, ...]

    def decode(self, data: bytes) -> str: ...


class PlainTextReader:
    """Plain text, markup and all (`.txt`, `.md`, `.rst`, `.adoc`, `.org`, ...; a project's `README`, `NEWS`,
    `ChangeLog`, ...): UTF-8 (with or without BOM) or UTF-16/32 with a BOM."""

    suffixes: tuple[str, ...] = (".txt", ".md", ".markdown", ".rst", ".adoc", ".asciidoc", ".org", ".text")
    names: tuple[str, ...] = (
        "readme", "news", "changes", "changelog", "history", "todo", "notes", "authors", "thanks", "install",
        "hacking", "contributing", "copying", "license", "licence", "notice",
    )  # fmt: skip

    def decode(self, data: bytes) -> str:
        for bom, encoding in (
            (codecs.BOM_UTF32_LE, "utf-32"),
            (codecs.BOM_UTF32_BE, "utf-32"),
            (codecs.BOM_UTF8, "utf-8-sig"),
            (codecs.BOM_UTF16_LE, "utf-16"),
            (codecs.BOM_UTF16_BE, "utf-16"),
        ):
            if data.startswith(bom):
                try:
                    return data.decode(encoding)
                except UnicodeDecodeError as exc:
                    raise UnreadableDocument(f"invalid {encoding} text ({exc.reason})") from None
        if b"\x00" in data[:8192]:
            raise UnreadableDocument("binary file (contains NUL bytes)")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            reason = f"not valid UTF-8 (byte {exc.start}: {exc.reason}); save it as UTF-8 to index it"
            raise UnreadableDocument(reason) from None


DEFAULT_READERS: tuple[DocumentReader, ...] = (PlainTextReader(),)

Warn = Callable[[str], None]


# Endings that make a file named like a text file something else: source code and data that Python's
# `mimetypes` does not know ("install.sh", "README.html", "changelog.Debian.gz" it knows).
CODE_AND_DATA = frozenset(
    """.yaml .yml .toml .ini .cfg .conf .lock .rs .go .ts .tsx .jsx .rb .php .lua .kt .swift .scala .sql .ps1
    .bat .cmd .cs .dart .r .jl .m .mm .hpp .cc .cxx .gradle .properties .ipynb .db .sqlite .bin .dat""".split()
)
_NAMED_VARIANT = re.compile(r"([a-z]+)[.\-_]")  # "readme." of "readme.debian", "license-" of "license-mit"


@functools.cache
def _mime_types() -> mimetypes.MimeTypes:
    return mimetypes.MimeTypes()  # Python's own table, not the machine's: the same answer everywhere


def is_named_variant(lower_name: str, names: tuple[str, ...]) -> bool:
    """Whether `lower_name` is a variant of one of `names` ("readme.debian", "news.old", "license-mit",
    "copying.lib") that is no file of a known type ("install.sh", "readme.html", "history.json",
    "changelog.debian.gz" are not)."""
    variant = _NAMED_VARIANT.match(lower_name)
    if variant is None or variant.group(1) not in names or Path(lower_name).suffix in CODE_AND_DATA:
        return False
    return _mime_types().guess_type(lower_name, strict=False) == (None, None)


def _reader_for(name: str, readers: tuple[DocumentReader, ...]) -> DocumentReader | None:
    lower = os.path.basename(name).lower()
    for reader in readers:
        if lower.endswith(reader.suffixes) or lower in reader.names:
            return reader
    for reader in readers:  # a variant of a known name: "README.Debian", "NEWS.old", "LICENSE-MIT"
        if is_named_variant(lower, reader.names):
            return reader
    return None


def file_type(name: str) -> str:
    """`.pdf` for `Report.PDF`; `no extension` for `README`."""
    suffix = Path(name).suffix.lower()
    return suffix if suffix else "no extension"


def describe_ignored(ignored: Mapping[str, int], readers: tuple[DocumentReader, ...] = DEFAULT_READERS) -> str:
    """`3 files not indexed (.pdf 2, .docx 1): only .txt, .md, ... files and README, NEWS, ... are read`"""
    total = sum(ignored.values())
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(ignored.items(), key=lambda kv: (-kv[1], kv[0]))[:6])
    more = ", ..." if len(ignored) > 6 else ""
    suffixes = ", ".join(s for r in readers for s in r.suffixes)
    names = ", ".join(n.upper() for r in readers for n in r.names[:2])
    readable = f"{suffixes} files and {names}, ..." if names else f"{suffixes} files"
    return f"{total} file{'s' if total != 1 else ''} not indexed ({kinds}{more}): only {readable} are read"


def check_corpus_root(root: Path) -> Path:
    """Resolve the corpus root or raise a `CorpusError` a user can act on."""
    if not root.exists():
        raise CorpusError(f"corpus folder not found: {root}")
    if not root.is_dir():
        raise CorpusError(f"corpus path is not a folder: {root} (give the folder that holds it)")
    return root.resolve()


def list_files(
    root: Path,
    warn: Warn,
    readers: tuple[DocumentReader, ...] = DEFAULT_READERS,
    ignored: Counter[str] | None = None,
) -> list[FileEntry]:
    """All files under `root` that a reader accepts, sorted by display path; `ignored` counts the other
    (not hidden) files by suffix.

    Hidden files and folders are skipped; symlinked folders are not followed (no loops);
    a symlinked file is read like a file.
    """
    root = check_corpus_root(root)
    entries: list[FileEntry] = []

    def on_error(exc: OSError) -> None:
        warn(f"skipped {exc.filename}: {exc.strerror or exc}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        folder = Path(dirpath).relative_to(root).as_posix()  # plain string joins below: 10,000s of files
        prefix = f"{root.name}/" if folder == "." else f"{root.name}/{folder}/"
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if _reader_for(name, readers) is None:
                if ignored is not None:
                    ignored[file_type(name)] += 1
                continue
            full = os.path.join(dirpath, name)
            display = prefix + name
            try:
                stat = os.stat(full)  # follows a symlinked file
            except OSError as exc:
                warn(f"skipped {display}: {exc.strerror or exc}")
                continue
            if not S_ISREG(stat.st_mode):
                continue
            entries.append(FileEntry(display, full, stat.st_size, stat.st_mtime_ns))
    entries.sort(key=lambda e: e.path)
    return entries


def read_document(entry: FileEntry, readers: tuple[DocumentReader, ...] = DEFAULT_READERS) -> Document:
    """Read and decode one file; raise `UnreadableDocument` with the reason when it is not usable."""
    reader = _reader_for(entry.abs_path, readers)
    if reader is None:
        raise UnreadableDocument("no reader for this file type")
    if entry.size > MAX_FILE_BYTES:
        raise UnreadableDocument(
            f"too large ({entry.size // (1024 * 1024)} MiB > {MAX_FILE_BYTES // (1024 * 1024)} MiB)"
        )
    try:
        with open(entry.abs_path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UnreadableDocument(exc.strerror or str(exc)) from None
    text = reader.decode(data)
    if not text.strip():
        raise UnreadableDocument("empty file" if not text else "only whitespace")
    return Document(
        path=entry.path,
        abs_path=entry.abs_path,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        mtime_ns=entry.mtime_ns,
    )


class DocumentSource(Protocol):
    """Where documents come from: a folder of files, a JSONL collection, later other stores.

    `identity` names the source in the index manifest (an index built for one source is never used
    for another); `entries` lists documents cheaply (no content); `read` returns one document or raises
    `UnreadableDocument`.
    """

    @property
    def identity(self) -> str: ...

    def entries(self, warn: Warn) -> list[FileEntry]: ...

    def read(self, entry: FileEntry) -> Document: ...

    def ignored(self) -> Mapping[str, int]:
        """Files the last `entries` saw but has no reader for, counted by type (`.pdf`)."""
        ...


class FolderSource:
    """The `.txt`/`.md` files under a folder (recursively, sorted by path)."""

    def __init__(self, root: Path, readers: tuple[DocumentReader, ...] = DEFAULT_READERS) -> None:
        self.root = check_corpus_root(root)
        self.readers = readers
        self._ignored: Counter[str] = Counter()

    @property
    def identity(self) -> str:
        return str(self.root)

    def entries(self, warn: Warn) -> list[FileEntry]:
        self._ignored = Counter()
        return list_files(self.root, warn, self.readers, self._ignored)

    def read(self, entry: FileEntry) -> Document:
        return read_document(entry, self.readers)

    def ignored(self) -> Mapping[str, int]:
        return dict(self._ignored)


def iter_documents(root: Path, warn: Warn, readers: tuple[DocumentReader, ...] = DEFAULT_READERS) -> Iterator[Document]:
    """Every readable document under `root`, in display-path order; one warning per skipped file."""
    for entry in list_files(root, warn, readers):
        try:
            yield read_document(entry, readers)
        except UnreadableDocument as exc:
            warn(f"skipped {entry.path}: {exc}")
