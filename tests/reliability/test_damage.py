"""Damaged, foreign and crafted index files; NaN vectors; untrusted models; no pickle anywhere."""

from __future__ import annotations

import errno
import json
import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.builder import open_index
from index.corpus import FolderSource
from index.corpus_index import VECTORS_FILE, CorpusIndex
from index.dense import DenseIndex
from index.embed import bundled_model_dir, check_model_dir, resolve_model
from index.errors import IndexStoreError, ModelError
from index.store import CURRENT, MANIFEST, GenerationWriter, current_generation, sha256_file
from qa.engine import QAEngine
from tests.reliability.fakes import HashEmbedder, NaNEmbedder, NullReporter, ShortEmbedder
from tests.reliability.helpers import REPO, driver_env, rewrite_document, write_corpus


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    corpus = write_corpus(tmp_path / "corpus", "alpha")
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    return corpus, index_dir


def _live(index_dir: Path) -> Path:
    return index_dir / (index_dir / CURRENT).read_text().strip()


def _reseal(generation: Path, **manifest_changes: Any) -> None:
    """Re-checksum a generation after a crafted change, as an attacker (or a careless tool) would."""
    manifest = json.loads((generation / MANIFEST).read_text())
    for name in manifest["files"]:
        path = generation / name
        manifest["files"][name] = {"size": path.stat().st_size, "sha256": sha256_file(path)}
    manifest.update(manifest_changes)
    (generation / MANIFEST).write_text(json.dumps(manifest))


def _reopen(corpus: Path, index_dir: Path) -> tuple[CorpusIndex, NullReporter]:
    reporter = NullReporter()
    return open_index(FolderSource(corpus), index_dir, HashEmbedder(), reporter), reporter


def test_a_damaged_vector_file_that_two_generations_share_is_detected_and_rebuilt(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """An update links the vector files it keeps (index/vector_chunks.py): one damaged file is damaged in
    both generations. It fails its checksum, and the rebuild takes nothing from it."""
    corpus, index_dir = built
    rewrite_document(corpus, 1, "beta")
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    live = _live(index_dir)
    shared = json.loads((live / MANIFEST).read_text())["vector_chunks"]["sentences"][0]
    assert (live / shared).stat().st_nlink == 2  # the first generation's file
    data = bytearray((live / shared).read_bytes())
    data[len(data) * 2 // 3] ^= 0x01
    (live / shared).write_bytes(bytes(data))  # in place: the other generation's name sees it too
    with pytest.raises(IndexStoreError, match="fails its checksum"):
        current_generation(index_dir)
    rebuilt, reporter = _reopen(corpus, index_dir)
    fresh = open_index(FolderSource(corpus), tmp_path / "fresh", HashEmbedder(), NullReporter())
    try:
        assert any("fails its checksum" in n for n in reporter.notes), reporter.notes
        rows = list(range(rebuilt.size))
        mine, theirs = rebuilt.sentence_vectors(rows), fresh.sentence_vectors(rows)
        assert all(np.array_equal(mine[row], theirs[row]) for row in rows)
        assert current_generation(index_dir) is not None  # whole again
    finally:
        rebuilt.close()
        fresh.close()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate catalog", "wrong size"),
        ("flip catalog", "fails its checksum"),
        ("flip bm25", "fails its checksum"),
        ("delete bm25", "missing"),
        ("format version", "not the supported format"),
        ("pointer garbage", "pointer"),
        ("pointer escape", "pointer"),
        ("pointer to nothing", "missing or damaged"),
        ("manifest path escape", "missing"),
        ("manifest empty", "lists no files"),
    ],
)
def test_damage_is_detected_at_load_and_rebuilt(built: tuple[Path, Path], damage: str, message: str) -> None:
    corpus, index_dir = built
    live = _live(index_dir)
    if damage.startswith(("truncate", "flip", "delete")):
        name = {"catalog": "catalog.sqlite", "bm25": "bm25_weights.npy"}[damage.split()[1]]
        data = bytearray((live / name).read_bytes())
        if damage.startswith("truncate"):
            (live / name).write_bytes(bytes(data[: len(data) // 2]))
        elif damage.startswith("flip"):
            data[len(data) * 2 // 3] ^= 0x01
            (live / name).write_bytes(bytes(data))
        else:
            (live / name).unlink()
    elif damage == "format version":
        _reseal(live, format_version=99)
    elif damage == "pointer garbage":
        (index_dir / CURRENT).write_bytes(b"\xff\xfe\x00garbage")
    elif damage == "pointer escape":
        (index_dir / CURRENT).write_text("gen-1/../../../etc\n")
    elif damage == "pointer to nothing":
        (index_dir / CURRENT).write_text("gen-999999-deadbeef\n")
    elif damage == "manifest path escape":
        manifest = json.loads((live / MANIFEST).read_text())
        manifest["files"]["../../outside.npy"] = {"size": 1, "sha256": "0"}
        (live / MANIFEST).write_text(json.dumps(manifest))
    else:
        _reseal(live, files={})
    with pytest.raises(IndexStoreError, match=re.escape(message)):
        current_generation(index_dir)
    rebuilt, reporter = _reopen(corpus, index_dir)
    assert any("rebuilding it" in n for n in reporter.notes), reporter.notes
    assert current_generation(index_dir) is not None and rebuilt.size == 18


@pytest.mark.parametrize(
    ("craft", "message"),
    [
        ("vectors shape", "do not match the manifest"),
        ("vectors dtype", "do not match the manifest"),
        ("catalog garbage", "catalog unreadable"),
        ("bm25 out of range", "point outside the passage table"),
        ("bm25 indptr", "do not match the vocabulary"),
        ("bm25 nan", "weights are damaged"),
        ("foreign model", "model or its precision changed"),
        ("foreign corpus", "another corpus"),
        ("foreign settings", "settings or format changed"),
    ],
)
def test_consistent_but_wrong_files_are_refused(built: tuple[Path, Path], craft: str, message: str) -> None:
    """Files whose checksums match (re-sealed manifest) but whose content does not fit are still refused."""
    corpus, index_dir = built
    live = _live(index_dir)
    vectors = np.load(live / VECTORS_FILE, allow_pickle=False)
    changes: dict[str, Any] = {}
    if craft == "vectors shape":
        np.save(live / VECTORS_FILE, vectors[:-1], allow_pickle=False)
    elif craft == "vectors dtype":
        np.save(live / VECTORS_FILE, vectors.astype(np.float64), allow_pickle=False)
    elif craft == "catalog garbage":
        (live / "catalog.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x07" * 4096)
    elif craft == "bm25 out of range":
        rows = np.load(live / "bm25_rows.npy", allow_pickle=False)
        rows[0] = 10_000
        np.save(live / "bm25_rows.npy", rows, allow_pickle=False)
    elif craft == "bm25 indptr":
        indptr = np.load(live / "bm25_indptr.npy", allow_pickle=False)
        np.save(live / "bm25_indptr.npy", np.append(indptr, indptr[-1]), allow_pickle=False)  # one term too many
    elif craft == "bm25 nan":
        weights = np.load(live / "bm25_weights.npy", allow_pickle=False)
        weights[1] = np.nan
        np.save(live / "bm25_weights.npy", weights, allow_pickle=False)
    elif craft == "foreign model":
        changes["model_id"] = "someone/else"
    elif craft == "foreign corpus":
        changes["corpus_root"] = "/some/other/folder"
    else:
        manifest = json.loads((live / MANIFEST).read_text())
        changes["settings"] = {**manifest["settings"], "splitter_version": "paragraphs/0"}
    _reseal(live, **changes)
    rebuilt, reporter = _reopen(corpus, index_dir)
    assert any(message in n for n in reporter.notes), reporter.notes
    assert rebuilt.generation.path != live and rebuilt.size == 18


def test_pickled_vectors_are_never_unpickled(built: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, index_dir = built
    live = _live(index_dir)
    marker = tmp_path / "pwned"
    payload = np.empty(1, dtype=object)
    payload[0] = _Exploit(str(marker))
    np.save(live / VECTORS_FILE, payload, allow_pickle=True)
    _reseal(live)
    rebuilt, reporter = _reopen(corpus, index_dir)
    assert not marker.exists()
    assert any("vectors.npy is unreadable" in n and "rebuilding it" in n for n in reporter.notes), reporter.notes
    assert rebuilt.size == 18


class _Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


def test_nan_vectors_on_disk_are_reported_not_searched(built: tuple[Path, Path]) -> None:
    corpus, index_dir = built
    live = _live(index_dir)
    vectors = np.load(live / VECTORS_FILE, allow_pickle=False)
    vectors[3, 0] = np.nan
    np.save(live / VECTORS_FILE, vectors, allow_pickle=False)
    _reseal(live)
    index, _ = _reopen(corpus, index_dir)
    engine = QAEngine(index, HashEmbedder())
    with pytest.raises(IndexStoreError, match="index vectors are damaged: embedding contains NaN"):
        engine.ask("harbour repairs")
    assert engine.ask("harbour repairs", mode="bm25").passages  # the rest of the index still answers


def test_nan_query_vector_is_an_error_not_the_last_paragraph(built: tuple[Path, Path]) -> None:
    corpus, index_dir = built
    index, _ = _reopen(corpus, index_dir)

    class NaNQueries(HashEmbedder):
        def embed_queries(self, texts: list[str]) -> Any:
            return np.full((len(texts), self.dimension), np.nan, np.float32)

    with pytest.raises(ModelError, match="question's embedding is unusable"):
        QAEngine(index, NaNQueries()).ask("harbour", mode="dense")


def test_faiss_no_result_ids_are_never_cited() -> None:
    vectors = np.eye(4, dtype=np.float32)
    dense = DenseIndex(vectors, 4)

    class Padded:  # FAISS pads with id -1 when it has fewer results than asked for
        def search(self, query: Any, k: int) -> tuple[Any, Any]:
            return np.array([[0.9, 0.5, 0.0, 0.0]], np.float32), np.array([[2, 0, -1, -1]], np.int64)

    dense._index = Padded()
    rows, cosines = dense.search(np.array([0, 0, 1, 0], np.float32), 4)
    assert rows.tolist() == [2, 0] and len(cosines) == 2
    with pytest.raises(ValueError, match="shape"):
        DenseIndex(np.ones((3, 5), np.float32), 4)
    with pytest.raises(ValueError, match="NaN"):
        DenseIndex(np.array([[np.inf, 0, 0, 0]], np.float32), 4)


@pytest.mark.parametrize("embedder", [NaNEmbedder(), ShortEmbedder()], ids=["nan", "short"])
def test_embedder_returning_garbage_publishes_nothing(built: tuple[Path, Path], embedder: HashEmbedder) -> None:
    corpus, index_dir = built
    before = current_generation(index_dir)
    write_corpus(corpus, "beta")
    with pytest.raises(ModelError, match="returned unusable embeddings"):
        open_index(FolderSource(corpus), index_dir, embedder, NullReporter())
    assert current_generation(index_dir) == before
    assert not [p for p in index_dir.iterdir() if p.name.startswith("tmp-")]
    fresh = index_dir.parent / "fresh-index"
    with pytest.raises(ModelError):
        open_index(FolderSource(corpus), fresh, embedder, NullReporter())
    assert current_generation(fresh) is None


def _model_copy(tmp_path: Path) -> Path:
    """A model directory of symlinks to the bundled files (cheap), with a real modules.json to edit."""
    target = tmp_path / "model"
    source = bundled_model_dir()
    for item in source.rglob("*"):
        destination = target / item.relative_to(source)
        if item.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        elif item.name != "modules.json":
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.symlink_to(item)
    (target / "modules.json").write_text((source / "modules.json").read_text())
    return target


def test_model_with_unknown_module_class_is_refused_not_imported(tmp_path: Path) -> None:
    model = _model_copy(tmp_path)
    check_model_dir(model)  # the honest copy is fine
    modules = json.loads((model / "modules.json").read_text())
    modules[1]["type"] = "corpus_qa_evil_module.Backdoor"
    (model / "modules.json").write_text(json.dumps(modules))
    (tmp_path / "corpus_qa_evil_module.py").write_text(f"open({str(tmp_path / 'pwned')!r}, 'w')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ModelError, match="refusing unknown module class 'corpus_qa_evil_module.Backdoor'"):
            resolve_model(str(model))
    finally:
        sys.path.remove(str(tmp_path))
    assert "corpus_qa_evil_module" not in sys.modules and not (tmp_path / "pwned").exists()
    modules[1]["type"] = "sentence_transformers.models.Pooling; import os"
    (model / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ModelError, match="refusing unknown module class"):
        resolve_model(str(model))


def test_model_with_only_pickled_weights_is_refused(tmp_path: Path) -> None:
    model = _model_copy(tmp_path)
    (model / "model.safetensors").unlink()
    (model / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    with pytest.raises(ModelError, match="only pickle-based weights"):
        resolve_model(str(model))
    (model / "modules.json").unlink()  # a plain transformers folder is checked too
    with pytest.raises(ModelError, match="only pickle-based weights"):
        resolve_model(str(model))


def test_model_loading_never_trusts_remote_code_or_pickle() -> None:
    source = (REPO / "index" / "embed.py").read_text()
    assert "trust_remote_code=False" in source and '"use_safetensors": True' in source
    assert "trust_remote_code=True" not in source


def _call_text(source: str, start: int) -> str:
    """The arguments of a call whose opening parenthesis ends at `start` (nested parentheses included)."""
    depth, i = 1, start
    while depth and i < len(source):
        depth += {"(": 1, ")": -1}.get(source[i], 0)
        i += 1
    return source[start : i - 1]


def test_no_pickle_anywhere_in_the_code() -> None:
    offenders = []
    for path in sorted(REPO.glob("[!.]*/**/*.py")):
        if "tests" in path.parts or "venv" in str(path):
            continue
        source = path.read_text(encoding="utf-8")
        for pattern in (r"\bimport pickle\b", r"\bpickle\.", r"\bcPickle\b", r"\bdill\b", r"joblib\.load"):
            if re.search(pattern, source):
                offenders.append(f"{path}: {pattern}")
        for match in re.finditer(r"\bnp\.load\(|\bnumpy\.load\(", source):
            call = _call_text(source, match.end())
            if "allow_pickle=False" not in call:
                offenders.append(f"{path}: np.load({call})")
        for risky in (r"torch\.load\(", r"read_index", r"yaml\.load\(", r"allow_pickle=True", r"\beval\(", r"\bexec\("):
            # FAISS reads exactly one file: the approximate index this program wrote into a generation,
            # listed with its SHA-256 in the manifest and verified before any read (index/ann.py).
            if risky == "read_index" and path.relative_to(REPO).as_posix() == "index/ann.py":
                continue
            if re.search(risky, source):
                offenders.append(f"{path}: {risky}")
    assert offenders == []


def test_index_files_of_unknown_origin_are_never_read(built: tuple[Path, Path]) -> None:
    """A FAISS file (or anything) dropped into a generation is ignored: only manifest-listed files are read."""
    corpus, index_dir = built
    live = _live(index_dir)
    (live / "index.faiss").write_bytes(b"IxFI" + b"\xff" * 64)
    code = (
        "import faiss, sys\n"
        "faiss.read_index = lambda *a, **k: sys.exit('read_index called')\n"
        "from pathlib import Path\n"
        "from index.builder import open_index\n"
        "from index.corpus import FolderSource\n"
        "from qa.engine import QAEngine\n"
        "from tests.reliability.fakes import HashEmbedder, NullReporter\n"
        f"index = open_index(FolderSource(Path({str(corpus)!r})), Path({str(index_dir)!r}), HashEmbedder(), "
        "NullReporter())\n"
        "print(len(QAEngine(index, HashEmbedder()).ask('harbour').passages))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env={"PYTHONPATH": str(REPO)}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5"


def test_disk_full_during_a_cli_update_is_one_line_and_keeps_the_old_index(
    seeds_index_dir: Path, corpus_copy: Path, tmp_path: Path
) -> None:
    """A file-size limit makes every write past 20 kB fail (EFBIG), as a full disk would."""
    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)  # built for seeds/: the copy rebuilds, reusing every vector
    before = current_generation(index_dir)

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    command = [sys.executable, "-m", "qa.cli", "--corpus", str(corpus_copy), "--index-dir", str(index_dir)]
    result = subprocess.run(
        [*command, "--ask", "Idlib"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=driver_env(),
        timeout=300,
        preexec_fn=limit_file_size,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("qa: error:")]
    assert "cannot write the index" in error
    assert current_generation(index_dir) == before
    assert not [p for p in index_dir.iterdir() if p.name.startswith("tmp-")]


def test_no_space_left_while_saving_arrays_is_one_clear_error(
    built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index_dir = built
    before = current_generation(index_dir)
    write_corpus(corpus, "beta")

    def disk_full(self: GenerationWriter, name: str, array: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", name)

    monkeypatch.setattr(GenerationWriter, "save_array", disk_full)
    with pytest.raises(IndexStoreError, match="cannot write the index in .*: No space left on device"):
        open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter())
    assert current_generation(index_dir) == before
    assert not [p for p in index_dir.iterdir() if p.name.startswith("tmp-")]


def test_no_space_left_for_the_postings_files_is_one_clear_error(
    built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The BM25 postings are written through memory-mapped files whose blocks are allocated first: a full
    disk is an error there, never a SIGBUS on a write to the mapping."""
    corpus, index_dir = built
    before = current_generation(index_dir)
    write_corpus(corpus, "beta")

    def disk_full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", disk_full)
    with pytest.raises(IndexStoreError, match="cannot write the index in .*: No space left on device"):
        open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter())
    assert current_generation(index_dir) == before
    assert not [p for p in index_dir.iterdir() if p.name.startswith("tmp-")]
