"""Shared fixtures: the real bundled model (loaded once), seed corpus copies, isolated state dirs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"

os.environ["HF_HUB_OFFLINE"] = "1"
# Golden files and SVG snapshots show cosines: embed passages in fp32 so they do not depend on whether
# the CPU has native bf16 (the bf16 path has its own agreement test).
os.environ["QA_EMBED_PRECISION"] = "fp32"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class RecordingReporter:
    """A BuildReporter that keeps everything it is told."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.stages: list[tuple[str, int, int]] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stages.append((stage, done, total))


def engine_over(root: Path, files: dict[str, str], embedder):  # type: ignore[no-untyped-def]
    """A QAEngine over `files` (name -> text) written to `root`/corpus, indexed in `root`/index."""
    from index.builder import open_index
    from index.corpus import FolderSource
    from qa.engine import QAEngine

    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return QAEngine(open_index(FolderSource(corpus), root / "index", embedder, RecordingReporter()), embedder)


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes to the user's cache: QA_HOME points into a temp dir."""
    monkeypatch.setenv("QA_HOME", str(tmp_path_factory.mktemp("qa_home")))
    monkeypatch.delenv("QA_INDEX_DIR", raising=False)


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from index.embed import ModelEmbedder, resolve_model

    return ModelEmbedder(resolve_model(None))


@pytest.fixture(scope="session")
def seeds_index_dir(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    """One index over the bundled seeds, built once per session."""
    from index.builder import open_index
    from index.corpus import FolderSource

    directory = tmp_path_factory.mktemp("seeds_index")
    open_index(FolderSource(SEEDS), directory, embedder, RecordingReporter()).close()
    return directory


@pytest.fixture(scope="session")
def seeds_engine(seeds_index_dir: Path, embedder) -> Iterator[object]:  # type: ignore[no-untyped-def]
    from index.builder import open_index
    from index.corpus import FolderSource
    from qa.engine import QAEngine

    engine = QAEngine(open_index(FolderSource(SEEDS), seeds_index_dir, embedder, RecordingReporter()), embedder)
    yield engine
    engine.close()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the seeds, for tests that change the corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target
