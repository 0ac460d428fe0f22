"""Persistence round-trip, change detection, damage detection and refusals, with the real model."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.builder import open_index
from index.corpus import FolderSource
from index.embed import ModelEmbedder, bundled_model_dir, resolve_model
from index.errors import CorpusError
from index.store import CURRENT, current_generation
from tests.conftest import RecordingReporter


def _open(corpus: Path, index_dir: Path, embedder: ModelEmbedder) -> tuple[object, RecordingReporter]:
    reporter = RecordingReporter()
    index = open_index(FolderSource(corpus), index_dir, embedder, reporter)
    return index, reporter


def _prebuilt(seeds_index_dir: Path, tmp_path: Path) -> Path:
    """A copy of the session's seeds index: rebuilding over a seeds copy reuses every vector."""
    target = tmp_path / "idx"
    shutil.copytree(seeds_index_dir, target)
    return target


def _embedded_count(reporter: RecordingReporter) -> int:
    note = next(n for n in reporter.notes if n.startswith("indexed "))
    return int(note.split("(")[1].split(" embedded")[0])


def test_build_then_load_without_rebuilding(corpus_copy: Path, tmp_path: Path, embedder: ModelEmbedder) -> None:
    index_dir = tmp_path / "idx"
    index, reporter = _open(corpus_copy, index_dir, embedder)
    assert any(n.startswith("building the index") for n in reporter.notes)
    corpus_bytes = sum(f.stat().st_size for f in corpus_copy.iterdir() if f.is_file())
    assert [s for s in reporter.stages if s[0] == "indexing"][-1][1:] == (corpus_bytes, corpus_bytes)
    assert any(n.startswith("embedded 66 passages") for n in reporter.notes)
    manifest = index.manifest  # type: ignore[attr-defined]
    assert manifest["model_id"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384 and manifest["counts"]["documents"] == 5
    assert set(manifest["files"]) >= {"catalog.sqlite", "vectors.npy", "bm25_weights.npy"}
    index.close()  # type: ignore[attr-defined]
    again, reporter2 = _open(corpus_copy, index_dir, embedder)
    assert reporter2.notes == [] and reporter2.stages == []
    vectors = np.load(again.generation.file("vectors.npy"), allow_pickle=False)  # type: ignore[attr-defined]
    assert vectors.shape == (66, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_changes_reembed_only_what_changed(
    corpus_copy: Path, tmp_path: Path, seeds_index_dir: Path, embedder: ModelEmbedder
) -> None:
    index_dir = _prebuilt(seeds_index_dir, tmp_path)
    _open(corpus_copy, index_dir, embedder)
    edited = corpus_copy / "000_a6242c36691dad2e.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "A brand new closing paragraph about HTS drones.\n")
    index, reporter = _open(corpus_copy, index_dir, embedder)
    assert any("corpus changed" in n for n in reporter.notes)
    assert _embedded_count(reporter) == 1
    (corpus_copy / "sub").mkdir()
    (corpus_copy / "sub" / "new.md").write_text("# New file\n\nA paragraph about Latakia airbase defences.\n")
    index, reporter = _open(corpus_copy, index_dir, embedder)
    assert _embedded_count(reporter) == 1 and index.manifest["counts"]["documents"] == 6  # type: ignore[attr-defined]
    (corpus_copy / "004_27355abb6f9ee19d.txt").unlink()
    index, reporter = _open(corpus_copy, index_dir, embedder)
    assert _embedded_count(reporter) == 0 and index.manifest["counts"]["documents"] == 5  # type: ignore[attr-defined]
    paths = [d.path for d in index.documents()]  # type: ignore[attr-defined]
    assert "corpus/sub/new.md" in paths and "corpus/004_27355abb6f9ee19d.txt" not in paths


def test_changed_model_is_detected(
    corpus_copy: Path, tmp_path: Path, seeds_index_dir: Path, embedder: ModelEmbedder
) -> None:
    index_dir = _prebuilt(seeds_index_dir, tmp_path)
    _open(corpus_copy, index_dir, embedder)
    other_dir = tmp_path / "model-copy"
    shutil.copytree(bundled_model_dir(), other_dir)
    index, reporter = _open(corpus_copy, index_dir, ModelEmbedder(resolve_model(str(other_dir))))
    assert any("model or its precision changed" in n for n in reporter.notes)
    assert _embedded_count(reporter) == 66
    assert index.model_id == f"path:{other_dir.resolve()}"  # type: ignore[attr-defined]


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "manifest"])
def test_damaged_index_is_detected_and_rebuilt(
    damage: str, corpus_copy: Path, tmp_path: Path, seeds_index_dir: Path, embedder: ModelEmbedder
) -> None:
    index_dir = _prebuilt(seeds_index_dir, tmp_path)
    index, _ = _open(corpus_copy, index_dir, embedder)
    generation = index.generation.path  # type: ignore[attr-defined]
    index.close()  # type: ignore[attr-defined]
    target = generation / "vectors.npy"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:-100])
    elif damage == "flip":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x40
        target.write_bytes(bytes(data))
    elif damage == "delete":
        target.unlink()
    else:
        (generation / "manifest.json").write_text("{not json")
    with pytest.raises(Exception) as caught:
        current_generation(index_dir)
    assert "damaged" in str(caught.value) or "missing" in str(caught.value) or "wrong size" in str(caught.value)
    index, reporter = _open(corpus_copy, index_dir, embedder)
    assert any("rebuilding" in n for n in reporter.notes)
    assert current_generation(index_dir) is not None


def test_index_of_another_corpus_is_not_used(
    corpus_copy: Path, tmp_path: Path, seeds_index_dir: Path, embedder: ModelEmbedder
) -> None:
    index_dir = _prebuilt(seeds_index_dir, tmp_path)
    _open(corpus_copy, index_dir, embedder)
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.txt").write_text("Completely different text about apples and orchards in autumn.\n")
    index, reporter = _open(other, index_dir, embedder)
    assert any("another corpus" in n for n in reporter.notes)
    assert index.manifest["counts"]["documents"] == 1  # type: ignore[attr-defined]


def test_bad_files_are_skipped_with_one_warning_each(tmp_path: Path, embedder: ModelEmbedder) -> None:
    corpus = tmp_path / "mixed"
    corpus.mkdir()
    (corpus / "good.txt").write_text("A perfectly good paragraph about the Hmeimim airbase.\n")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 10)
    (corpus / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (corpus / "empty.md").write_text("")
    (corpus / "blank.md").write_text("  \n\n \t\n")
    (corpus / "image.png").write_bytes(b"\x89PNG")  # not a text suffix: not read, counted in one note
    (corpus / "Report.PDF").write_bytes(b"%PDF-1.4")
    (corpus / "notes.pdf").write_bytes(b"%PDF-1.4")
    (corpus / ".hidden.pdf").write_bytes(b"%PDF-1.4")  # hidden: not even counted
    (corpus / "utf16.txt").write_bytes("Un paragraphe en UTF-16 avec BOM, assez long.\n".encode("utf-16"))
    index, reporter = _open(corpus, tmp_path / "idx", embedder)
    assert len(reporter.warnings) == 4
    assert any("binary.txt" in w and "binary" in w for w in reporter.warnings)
    assert any("latin1.txt" in w and "UTF-8" in w for w in reporter.warnings)
    assert index.manifest["counts"]["documents"] == 2  # type: ignore[attr-defined]
    readable = ".txt, .md, .markdown, .rst, .adoc, .asciidoc, .org, .text files and README, NEWS, ..."
    assert f"3 files not indexed (.pdf 2, .png 1): only {readable} are read" in reporter.notes
    (corpus / "README").write_text("The project's readme names the Hmeimim airbase too.\n")  # a known name: read
    (corpus / "tool").write_bytes(b"\x7fELF\x00")  # no extension, no known name: not read
    (corpus / "setup.rst").write_text("Setup\n=====\n\nInstall it with pip in a fresh environment.\n")
    index, reporter = _open(corpus, tmp_path / "idx", embedder)
    assert index.manifest["counts"]["documents"] == 4  # type: ignore[attr-defined]
    assert f"4 files not indexed (.pdf 2, .png 1, no extension 1): only {readable} are read" in reporter.notes
    # Skipped files are remembered: asking again neither rebuilds nor re-warns.
    _, again = _open(corpus, tmp_path / "idx", embedder)
    assert again.notes == [] and again.warnings == []


def test_corpus_errors(tmp_path: Path, embedder: ModelEmbedder) -> None:
    with pytest.raises(CorpusError, match="not found"):
        _open(tmp_path / "missing", tmp_path / "idx", embedder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no text files to read"):
        _open(tmp_path / "empty", tmp_path / "idx", embedder)
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "pdfs" / "a.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(CorpusError, match=r"no text files to read in .*pdfs \(1 file not indexed \(\.pdf 1\)"):
        _open(tmp_path / "pdfs", tmp_path / "idx", embedder)
    a_file = tmp_path / "file.txt"
    a_file.write_text("text")
    with pytest.raises(CorpusError, match="not a folder"):
        _open(a_file, tmp_path / "idx", embedder)
    (tmp_path / "allbad").mkdir()
    (tmp_path / "allbad" / "x.txt").write_bytes(b"\x00\x00")
    with pytest.raises(CorpusError, match="no readable documents"):
        _open(tmp_path / "allbad", tmp_path / "idx", embedder)


def test_writes_are_atomic_and_leave_no_temporary_files(
    corpus_copy: Path, tmp_path: Path, seeds_index_dir: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    index_dir = _prebuilt(seeds_index_dir, tmp_path)
    _open(corpus_copy, index_dir, embedder)
    (corpus_copy / "extra.txt").write_text("Another paragraph about Idlib that changes the corpus.\n")
    _open(corpus_copy, index_dir, embedder)
    names = sorted(p.name for p in index_dir.iterdir())
    assert not [n for n in names if n.startswith("tmp-") or n.endswith(".tmp")]
    assert len([n for n in names if n.startswith("gen-")]) == 2  # current + previous
    live = (index_dir / CURRENT).read_text().strip()
    manifest = json.loads((index_dir / live / "manifest.json").read_text())
    for name, facts in manifest["files"].items():
        assert os.path.getsize(index_dir / live / name) == facts["size"]


def test_variants_of_a_known_text_name_are_read(tmp_path: Path, embedder: ModelEmbedder) -> None:
    # Before: /usr/share/doc's README.Debian, NEWS.old and the like were "not indexed (.debian 47, ...)".
    corpus = tmp_path / "doc"
    corpus.mkdir()
    texts = {
        "README.Debian": "The Debian package installs the daemon under a system account named hmeimim.\n",
        "NEWS.old": "Version 1.2 added the airbase schedule export.\n",
        "LICENSE-MIT": "Permission is hereby granted, free of charge, to any person obtaining a copy.\n",
    }
    for name, text in texts.items():
        (corpus / name).write_text(text)
    (corpus / "changelog.Debian.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)  # compressed: not read
    (corpus / "README.html").write_text("<p>Markup is another format.</p>\n")  # a known type: not read
    (corpus / "install.sh").write_text("#!/bin/sh\necho install\n")  # code: not read
    index, reporter = _open(corpus, tmp_path / "idx", embedder)
    assert sorted(d.path.rsplit("/", 1)[1] for d in index.documents()) == sorted(texts)
    assert reporter.warnings == []  # the files not read are counted, not warned about one by one
    assert any("3 files not indexed (.gz 1, .html 1, .sh 1)" in note for note in reporter.notes)


def test_files_sealed_before_publishing_are_checksummed_as_they_end_up(tmp_path: Path) -> None:
    """`GenerationWriter.seal` checksums a finished file while the rest is written; `publish` keeps that
    checksum only for a file that has not changed since, and one written again gets its final content's."""
    from index.store import GenerationWriter, current_generation, sha256_file

    writer = GenerationWriter(tmp_path / "index")
    writer.save_array("kept.npy", np.arange(1000))  # sealed by save_array
    with open(writer.path / "late.bin", "wb") as handle:
        handle.write(b"first version")
    writer.seal("late.bin")
    writer._sealed["late.bin"].result()  # checksummed before it changes
    with open(writer.path / "late.bin", "ab") as handle:
        handle.write(b", then more")
    with open(writer.path / "unsealed.bin", "wb") as handle:
        handle.write(b"checksummed by publish")
    generation = writer.publish({"note": "sealed"})
    files = generation.manifest["files"]
    for name in ("kept.npy", "late.bin", "unsealed.bin"):
        assert files[name]["sha256"] == sha256_file(generation.file(name))
        assert files[name]["size"] == generation.file(name).stat().st_size
    loaded = current_generation(tmp_path / "index")  # verifies every checksum
    assert loaded is not None and loaded.manifest["files"] == files


def test_an_aborted_writer_stops_sealing_and_leaves_nothing(tmp_path: Path) -> None:
    from index.store import GenerationWriter

    writer = GenerationWriter(tmp_path / "index")
    for number in range(20):
        writer.save_array(f"part{number}.npy", np.arange(200_000))
    writer.abort()
    assert not writer.path.exists()
    assert list((tmp_path / "index").iterdir()) == []
