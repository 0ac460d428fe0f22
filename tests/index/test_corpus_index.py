"""Opening an index: whole-file checks run once per verified set of files and leave nothing resident;
stored vectors are read row by row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import index.corpus_index
import index.store
import index.vector_chunks
from index.builder import open_index
from index.catalog import write_catalog
from index.corpus import Document, FileEntry, FolderSource
from index.corpus_index import (
    BM25_INDPTR_FILE,
    BM25_PASSAGE_FIRSTS_FILE,
    BM25_PASSAGE_LENGTHS_FILE,
    BM25_PASSAGE_TERMS_FILE,
    BM25_PASSAGE_TFS_FILE,
    BM25_ROWS_FILE,
    BM25_WEIGHTS_FILE,
    CATALOG_FILE,
    SENTENCE_VECTORS_FILE,
    VECTORS_FILE,
    CorpusIndex,
)
from index.errors import IndexStoreError, ModelError
from index.sentence_terms import SENTENCE_SPANS_FILE, SENTENCE_TERM_FIRSTS_FILE, SENTENCE_TERMS_FILE
from index.sentences import SENTENCES_VERSION, sentences_of
from index.store import MANIFEST, GenerationWriter, current_generation, sha256_file
from index.vector_chunks import SENTENCE_FIRSTS_FILE
from tests.conftest import RecordingReporter
from tests.reliability.fakes import HashEmbedder, NaNEmbedder, NullReporter
from tests.reliability.helpers import rewrite_document, write_corpus

PASSAGES = 1000
SENTENCES = {"version": SENTENCES_VERSION, "count": 2 * PASSAGES, "dtype": "float16"}
POSTINGS = 1 << 20  # 8 MiB of float64 weights: large enough to see pages made resident


def _publish(index_dir: Path) -> None:
    """A generation of one term present in every passage, many times over (no real corpus needed)."""
    writer = GenerationWriter(index_dir)
    write_catalog(writer.path / CATALOG_FILE, [], [], [], [])
    rng = np.random.default_rng(0)
    writer.save_array(VECTORS_FILE, rng.standard_normal((PASSAGES, 4)).astype(np.float32))
    writer.save_array(BM25_INDPTR_FILE, np.array([0, POSTINGS], np.int64))
    writer.save_array(BM25_ROWS_FILE, (np.arange(POSTINGS) % PASSAGES).astype(np.int32))
    writer.save_array(BM25_WEIGHTS_FILE, rng.random(POSTINGS))
    writer.save_array(SENTENCE_FIRSTS_FILE, np.arange(PASSAGES + 1, dtype=np.int64) * 2)  # two per passage
    writer.save_array(SENTENCE_VECTORS_FILE, rng.standard_normal((2 * PASSAGES, 4)).astype(np.float16))
    writer.publish({"counts": {"searchable": PASSAGES, "terms": 1}, "dimension": 4, "sentences": SENTENCES})


def _resident_kib(path: Path) -> int:
    """Resident KiB of this process's mappings of `path` (Linux /proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            field = line.split(None, 1)[0]
            if not field.endswith(":"):
                inside = line.rstrip("\n").endswith(str(path))
            elif inside and field == "Rss:":
                total += int(line.split()[1])
    return total


def test_opening_scans_postings_once_and_keeps_none_resident(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index_dir = tmp_path / "index"
    _publish(index_dir)
    first = current_generation(index_dir)
    assert first is not None and not first.checked  # no stamp yet: checksums were computed just now
    opened = CorpusIndex(first)
    assert _resident_kib(first.file(BM25_WEIGHTS_FILE)) < 256 and _resident_kib(first.file(BM25_ROWS_FILE)) < 256
    opened.close()

    def no_reads(*args: object) -> None:
        raise AssertionError("files were read again")

    monkeypatch.setattr(index.store, "sha256_file", no_reads)
    monkeypatch.setattr(index.corpus_index, "_check_postings", no_reads)
    again = current_generation(index_dir)
    assert again is not None and again.checked
    reopened = CorpusIndex(again)
    assert reopened.bm25.top([0], 3)[0].tolist() and reopened.vectors_at([5, 1]).shape == (2, 4)
    reopened.close()


def test_a_changed_manifest_or_file_is_checked_again(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    _publish(index_dir)
    generation = current_generation(index_dir)
    assert generation is not None
    CorpusIndex(generation).close()
    manifest = json.loads(generation.file(MANIFEST).read_text())
    manifest["counts"]["searchable"] = PASSAGES // 2  # rows now point past the passage table
    generation.file(MANIFEST).write_text(json.dumps(manifest))
    changed = current_generation(index_dir)
    assert changed is not None and not changed.checked
    with pytest.raises(IndexStoreError, match="do not match the manifest"):
        CorpusIndex(changed)  # the vectors' shape no longer fits, checked without reading them
    weights = np.load(generation.file(BM25_WEIGHTS_FILE), allow_pickle=False)
    weights[POSTINGS - 1] = np.inf
    np.save(generation.file(BM25_WEIGHTS_FILE), weights, allow_pickle=False)
    manifest = json.loads(generation.file(MANIFEST).read_text())
    manifest["counts"]["searchable"] = PASSAGES
    for name in manifest["files"]:  # re-sealed: checksums match, content does not
        manifest["files"][name] = {
            "size": generation.file(name).stat().st_size,
            "sha256": sha256_file(generation.file(name)),
        }
    generation.file(MANIFEST).write_text(json.dumps(manifest))
    resealed = current_generation(index_dir)
    assert resealed is not None and not resealed.checked
    with pytest.raises(IndexStoreError, match="weights are damaged"):
        CorpusIndex(resealed)
    assert not current_generation(index_dir).checked  # type: ignore[union-attr]  # refused: no stamp


def test_vectors_are_read_by_row_in_the_order_asked(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    _publish(index_dir)
    generation = current_generation(index_dir)
    assert generation is not None
    opened = CorpusIndex(generation)
    stored = np.load(generation.file(VECTORS_FILE), allow_pickle=False)
    rows = [999, 0, 5, 5, 17]
    np.testing.assert_array_equal(opened.vectors_at(rows), stored[rows])
    assert opened.vectors_at([]).shape == (0, 4)
    with pytest.raises(IndexError):
        opened.vectors_at([PASSAGES])
    opened.close()


class _CountingSource(FolderSource):
    read_paths: list[str] = []

    def read(self, entry: FileEntry) -> Document:
        _CountingSource.read_paths.append(entry.path)
        return super().read(entry)


def _assert_same_as_a_full_build(updated: CorpusIndex, corpus: Path, full_dir: Path) -> None:
    """`updated` holds exactly what a full build of `corpus` holds: catalog, vocabulary, BM25 arrays (and
    the passage terms the next update copies), every passage's vector and sentence vectors."""
    full = open_index(FolderSource(corpus), full_dir, HashEmbedder(), NullReporter())
    try:
        assert updated.size == full.size
        mine = updated.passages(list(range(updated.size)))
        theirs = {r.id: row for row, r in full.passages(list(range(full.size))).items()}
        mine_sentences = updated.sentence_vectors(list(range(updated.size)))
        full_sentences = full.sentence_vectors(list(range(full.size)))
        for row, record in mine.items():
            assert np.array_equal(updated.vectors[row], full.vectors[theirs[record.id]]), record.id
            assert len(mine_sentences[row]) == len(sentences_of(record.text)), record.id
            assert np.array_equal(mine_sentences[row], full_sentences[theirs[record.id]]), record.id
        assert list(mine.values()) == list(full.passages(list(range(full.size))).values())
        assert updated.documents() == full.documents()
        assert updated.catalog.skipped() == full.catalog.skipped()
        assert updated.catalog.terms_by_id() == full.catalog.terms_by_id()
        assert updated.manifest["bm25"] == full.manifest["bm25"]
        for name in (
            "bm25_indptr.npy", "bm25_rows.npy", "bm25_weights.npy", SENTENCE_FIRSTS_FILE, BM25_PASSAGE_TERMS_FILE,
            BM25_PASSAGE_TFS_FILE, BM25_PASSAGE_FIRSTS_FILE, BM25_PASSAGE_LENGTHS_FILE, SENTENCE_SPANS_FILE,
            SENTENCE_TERM_FIRSTS_FILE, SENTENCE_TERMS_FILE,
        ):  # fmt: skip
            assert updated.manifest["files"][name]["sha256"] == full.manifest["files"][name]["sha256"], name
    finally:
        full.close()


def test_an_update_stores_the_same_index_as_a_full_build(tmp_path: Path) -> None:
    """An update copies unchanged files' catalog rows, BM25 terms and vectors from the previous generation
    (the files are not read again; rows shift when a file is removed or added before them, and interleave
    with changed files' rows): what it stores must be exactly what a full build stores. Twice in a row, so
    the second update copies from a generation that was itself an update."""
    corpus = write_corpus(tmp_path / "corpus", "alpha", documents=6, paragraphs=8)
    with open(corpus / "doc0.txt", "a", encoding="utf-8") as handle:
        handle.write("\nOnly here: quokkas and zanzibar.\n")  # terms that vanish from the vocabulary with doc0
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    rewrite_document(corpus, 2, "beta", paragraphs=9)  # a changed file in the middle
    (corpus / "doc0.txt").unlink()  # every later row shifts
    (corpus / "extra.txt").write_text("An added note about harbours.\n\nAnother paragraph, on ferries.\n")
    _CountingSource.read_paths = []
    updated = open_index(_CountingSource(corpus), index_dir, HashEmbedder(), NullReporter())
    assert _CountingSource.read_paths == ["corpus/doc2.txt", "corpus/extra.txt"]  # the unchanged ones are not read
    try:
        _assert_same_as_a_full_build(updated, corpus, tmp_path / "full")
    finally:
        updated.close()

    (corpus / "aaa.txt").write_text("A first note, about lighthouses.\n")  # before every other file
    (corpus / "doc3b.txt").write_bytes(b"\x00\x01 binary\x00" * 40)  # skipped, between two kept files
    rewrite_document(corpus, 4, "gamma", paragraphs=2)
    _CountingSource.read_paths = []
    updated = open_index(_CountingSource(corpus), index_dir, HashEmbedder(), NullReporter())
    assert _CountingSource.read_paths == ["corpus/aaa.txt", "corpus/doc3b.txt", "corpus/doc4.txt"]
    try:
        _assert_same_as_a_full_build(updated, corpus, tmp_path / "full2")
    finally:
        updated.close()


def test_sentence_vectors_read_in_runs_equal_those_read_passage_by_passage(tmp_path: Path) -> None:
    """`sentence_vectors` reads consecutive passages whose sentences lie together in one positional read:
    after an update the rows' sentences are spread over linked chunks, and any choice of rows (all, every
    other, reversed, repeated, a run crossing a changed file) gives what reading each passage alone gives."""
    corpus = write_corpus(tmp_path / "corpus", "alpha", documents=6, paragraphs=8)
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    rewrite_document(corpus, 2, "beta", paragraphs=9)  # its passages go to a new chunk, between linked ones
    updated = open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter())
    try:
        assert len(updated.manifest["vector_chunks"]["sentences"]) == 2
        every = list(range(updated.size))
        for rows in (every, every[::2], every[::-1], [5, 5, 3, 4], every[10:40], []):
            got = updated.sentence_vectors(rows)
            assert list(got) == list(dict.fromkeys(rows))
            for row in rows:
                np.testing.assert_array_equal(got[row], updated._stored.sentence_vectors(row))
        with pytest.raises(IndexStoreError):
            updated.sentence_vectors([updated.size])
    finally:
        updated.close()


def test_an_update_links_the_vectors_it_keeps_and_writes_only_the_new_ones(tmp_path: Path) -> None:
    """An update does not copy the vectors of the passages it keeps (5.1 GB at a million passages): the
    previous generation's vector files become files of the new one by hard link, and only the passages
    embedded now are written, into a new chunk; the maps say where each search row's vectors are. Once the
    rows nothing points to outnumber the live ones, an update writes one fresh chunk again."""
    corpus = write_corpus(tmp_path / "corpus", "alpha", documents=6, paragraphs=8)
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    first = current_generation(index_dir)
    assert first is not None and "vector_chunks" not in first.manifest
    rewrite_document(corpus, 2, "beta", paragraphs=9)
    updated = open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter())
    try:
        chunks = updated.manifest["vector_chunks"]
        assert chunks["passages"][0] == VECTORS_FILE and chunks["sentences"][0] == SENTENCE_VECTORS_FILE
        for name in (VECTORS_FILE, SENTENCE_VECTORS_FILE):  # the same file on disk, not a copy
            assert updated.generation.file(name).stat().st_ino == first.file(name).stat().st_ino
            assert updated.manifest["files"][name] == first.manifest["files"][name]
        doc2 = next(d.doc for d in updated.documents() if d.path.endswith("doc2.txt"))
        embedded = [r for r in updated.catalog.passages_of_document(doc2) if r.search_row is not None]
        new_chunk = updated.generation.file(chunks["passages"][1])
        assert np.load(new_chunk, mmap_mode="r", allow_pickle=False).shape == (len(embedded), updated.dimension)
        _assert_same_as_a_full_build(updated, corpus, tmp_path / "full")
    finally:
        updated.close()

    for n in range(12):  # every edit re-embeds doc2: the linked chunks fill with rows nothing points to
        rewrite_document(corpus, 2, f"edit{n}", paragraphs=9)
        updated = open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter())
        compacted = "vector_chunks" not in updated.manifest
        updated.close()
        # the files were verified as they were published: the next load does not hash them again, although
        # removing the oldest generation, which shared some of them, touched their link counts
        assert current_generation(index_dir).checked  # type: ignore[union-attr]
        if compacted:
            break
    assert compacted, "the chunks were never compacted"
    updated = open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter())
    try:
        _assert_same_as_a_full_build(updated, corpus, tmp_path / "full2")
    finally:
        updated.close()


def test_once_the_chunks_are_many_an_update_links_the_first_and_copies_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every small edit adds a chunk; once there are MAX_CHUNKS, an update links only the first (the big
    one) and copies the live rows of the small ones into its new chunk: a cost in proportion to them, not a
    rewrite of every vector."""
    monkeypatch.setattr(index.vector_chunks, "MAX_CHUNKS", 3)
    corpus = write_corpus(tmp_path / "corpus", "alpha", documents=8, paragraphs=6)
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    chunk_counts = []
    for n in range(4):  # edits of different files: little garbage, one more chunk each
        rewrite_document(corpus, n, f"edit{n}", paragraphs=6)
        updated = open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter())
        chunk_counts.append(len(updated.manifest["vector_chunks"]["passages"]))
        passages = updated.manifest["vector_chunks"]["passages"]
        updated.close()
    assert chunk_counts == [2, 3, 2, 3]  # the third update linked the first chunk only
    assert passages[0] == VECTORS_FILE
    updated = open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter())
    try:
        _assert_same_as_a_full_build(updated, corpus, tmp_path / "full")
    finally:
        updated.close()


def _embedded(corpus: Path, index_dir: Path) -> int:
    """Open (update) the index; how many passages that embedded."""
    reporter = RecordingReporter()
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), reporter).close()
    counts = [re.search(r"\((\d+) embedded, \d+ reused\)", note) for note in reporter.notes]
    return next(int(match.group(1)) for match in counts if match)


def test_an_update_embeds_what_the_files_it_reads_did_not_hold_before(tmp_path: Path) -> None:
    """Vectors are reused by embedded text: an edited file's unchanged paragraphs from its own previous
    version (looked up by document: the million hashes of a large index are not read for an edit), a renamed
    file's from any file. A paragraph moved into another file is embedded again: its embedded text begins
    with that file's title."""
    corpus = write_corpus(tmp_path / "corpus", "alpha", documents=4, paragraphs=5)
    index_dir = tmp_path / "index"
    assert _embedded(corpus, index_dir) > 0
    with open(corpus / "doc1.txt", "a", encoding="utf-8") as handle:
        handle.write("\nA new closing paragraph about the harbour's ferries.\n")
    assert _embedded(corpus, index_dir) == 1
    (corpus / "doc2.txt").rename(corpus / "renamed.txt")
    assert _embedded(corpus, index_dir) == 0
    moved = (corpus / "doc3.txt").read_text(encoding="utf-8").split("\n\n")[-1]
    with open(corpus / "doc0.txt", "a", encoding="utf-8") as handle:
        handle.write(f"\n{moved}\n")
    assert _embedded(corpus, index_dir) == 1


def test_a_failed_update_leaves_the_live_generation_verified(tmp_path: Path) -> None:
    """An update links the live generation's vector files, then fails (here the model returns NaN) and
    removes its links: linking and unlinking change the files' ctime, which must not make the next load hash
    every file again (7.8 s at a million passages)."""
    corpus = write_corpus(tmp_path / "corpus", "alpha", documents=3, paragraphs=4)
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    assert current_generation(index_dir).checked  # type: ignore[union-attr]
    rewrite_document(corpus, 1, "beta", paragraphs=5)
    with pytest.raises(ModelError):
        open_index(FolderSource(corpus), index_dir, NaNEmbedder(), NullReporter())
    live = current_generation(index_dir)
    assert live is not None and live.checked and "vector_chunks" not in live.manifest


def test_without_hard_links_an_update_copies_the_vectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system that refuses hard links (some network or removable ones) gets the vectors copied."""
    corpus = write_corpus(tmp_path / "corpus", "alpha", documents=3, paragraphs=4)
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    rewrite_document(corpus, 1, "beta", paragraphs=5)

    def refuse(source: object, target: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(index.store.os, "link", refuse)
    updated = open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter())
    try:
        assert "vector_chunks" not in updated.manifest
        _assert_same_as_a_full_build(updated, corpus, tmp_path / "full")
    finally:
        updated.close()


def test_an_index_without_stored_terms_is_updated_by_reading_every_file(tmp_path: Path) -> None:
    """An index written before generations kept their passages' and sentences' terms cannot lend them:
    the next update reads every file again (vectors are still reused) and stores what a full build does,
    the terms included."""
    corpus = write_corpus(tmp_path / "corpus", "alpha", documents=4, paragraphs=5)
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    generation = current_generation(index_dir)
    assert generation is not None
    manifest = json.loads(generation.file(MANIFEST).read_text())
    del manifest["passage_terms"], manifest["sentence_terms"]  # as an older version wrote it
    generation.file(MANIFEST).write_text(json.dumps(manifest))
    rewrite_document(corpus, 1, "beta", paragraphs=5)
    _CountingSource.read_paths = []
    updated = open_index(_CountingSource(corpus), index_dir, HashEmbedder(), NullReporter())
    assert sorted(_CountingSource.read_paths) == [f"corpus/doc{n}.txt" for n in range(4)]
    try:
        assert updated.stored_sentence_terms is not None
        _assert_same_as_a_full_build(updated, corpus, tmp_path / "full")
    finally:
        updated.close()


def test_sentence_vectors_must_match_the_passages(tmp_path: Path) -> None:
    """A sentence table that does not cover the passages (a damaged or foreign file) is refused at load."""
    index_dir = tmp_path / "index"
    writer = GenerationWriter(index_dir)
    write_catalog(writer.path / CATALOG_FILE, [], [], [], [])
    writer.save_array(VECTORS_FILE, np.ones((PASSAGES, 4), np.float32))
    writer.save_array(BM25_INDPTR_FILE, np.array([0, 1], np.int64))
    writer.save_array(BM25_ROWS_FILE, np.zeros(1, np.int32))
    writer.save_array(BM25_WEIGHTS_FILE, np.ones(1))
    writer.save_array(SENTENCE_FIRSTS_FILE, np.arange(PASSAGES + 1, dtype=np.int64))
    writer.save_array(SENTENCE_VECTORS_FILE, np.ones((PASSAGES - 1, 4), np.float16))  # one sentence short
    writer.publish({"counts": {"searchable": PASSAGES, "terms": 1}, "dimension": 4, "sentences": SENTENCES})
    generation = current_generation(index_dir)
    assert generation is not None
    with pytest.raises(IndexStoreError, match="sentence vectors do not match"):
        CorpusIndex(generation)


def test_an_index_without_sentence_vectors_is_rebuilt(tmp_path: Path) -> None:
    """An index written before sentence vectors existed is stale: it is rebuilt whole (nothing reused)."""
    corpus = write_corpus(tmp_path / "corpus", "alpha", documents=2, paragraphs=3)
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    generation = current_generation(index_dir)
    assert generation is not None
    manifest = json.loads(generation.file(MANIFEST).read_text())
    del manifest["sentences"]
    generation.file(MANIFEST).write_text(json.dumps(manifest))
    reporter = RecordingReporter()
    rebuilt = open_index(FolderSource(corpus), index_dir, HashEmbedder(), reporter)
    try:
        assert any("sentence vectors" in note for note in reporter.notes), reporter.notes
        assert any("0 reused" in note for note in reporter.notes), reporter.notes
        assert len(rebuilt.sentence_vectors([0])[0]) == len(sentences_of(rebuilt.passages([0])[0].text))
    finally:
        rebuilt.close()


def test_term_lookups_are_remembered_and_equal_the_catalogs(
    seeds_index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A question looks its terms up three times: the answers are cached, including "not in the
    vocabulary", and stay the catalog's own when the cache fills up and is emptied."""
    generation = current_generation(seeds_index_dir)
    assert generation is not None
    corpus = CorpusIndex(generation)
    try:
        terms = ["idlib", "turkey", "zzzunknownzzz", "idlib", "russian", "depot"]
        expected = corpus.catalog.term_ids(terms)
        assert "zzzunknownzzz" not in expected and "idlib" in expected
        calls: list[list[str]] = []
        lookup = corpus.catalog.term_ids
        monkeypatch.setattr(corpus.catalog, "term_ids", lambda wanted: calls.append(list(wanted)) or lookup(wanted))
        assert corpus.term_info(terms) == expected
        assert corpus.term_info(terms) == expected
        assert calls == [["idlib", "turkey", "zzzunknownzzz", "russian", "depot"]]  # once, each term once
        monkeypatch.setattr(index.corpus_index, "TERM_CACHE_LIMIT", 3)
        assert corpus.term_info(["strike", "jets"]) == lookup(["strike", "jets"])  # over the limit: emptied
        assert corpus.term_info(terms) == expected
        assert len(calls) == 3
    finally:
        corpus.close()


def test_passage_records_are_remembered_and_equal_the_catalogs(
    seeds_index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generation = current_generation(seeds_index_dir)
    assert generation is not None
    corpus = CorpusIndex(generation)
    try:
        reads: list[list[int]] = []
        fetch = corpus.catalog.passages_by_search_rows
        monkeypatch.setattr(
            corpus.catalog, "passages_by_search_rows", lambda rows: reads.append(list(rows)) or fetch(rows)
        )
        assert corpus.passages([3, 1, 2]) == fetch([3, 1, 2])
        assert corpus.passages([2, 5]) == fetch([2, 5])
        assert reads == [[3, 1, 2], [5]]  # row 2 came from memory
        monkeypatch.setattr(index.corpus_index, "PASSAGE_CACHE_LIMIT", 4)
        assert corpus.passages([7, 8]) == fetch([7, 8])  # over the limit: emptied, then holds 7 and 8
        assert corpus.passages([1, 7]) == fetch([1, 7])
        assert reads[-2:] == [[7, 8], [1]]
        every = list(range(corpus.size))
        assert corpus.passages(every) == fetch(every)  # more than the limit at once: read, not remembered
        assert len(corpus._passage_cache) <= 4
        with pytest.raises(IndexStoreError, match="lacks passages"):
            corpus.passages([corpus.size + 5])
    finally:
        corpus.close()
