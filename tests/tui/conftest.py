"""Fixtures of the TUI tests: one real index over the bundled seeds, built once per session."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qa.engine import QAEngine, open_engine
from tui.app import QAApp


class SilentReporter:
    def warn(self, message: str) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def progress(self, stage: str, done: int, total: int) -> None:
        pass


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def qa_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("qa-home")
    saved = {k: os.environ.get(k) for k in ("QA_HOME", "QA_INDEX_DIR", "HF_HUB_OFFLINE")}
    os.environ["QA_HOME"] = str(home)
    os.environ.pop("QA_INDEX_DIR", None)
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def engine(qa_home: Path) -> Iterator[QAEngine]:
    opened = open_engine(None, None, None, SilentReporter())
    yield opened
    opened.close()


@pytest.fixture
def make_app(engine: QAEngine, qa_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., QAApp]:
    """A new app over the session engine; exports go to this test's tmp dir; timings hidden by default."""
    monkeypatch.setenv("QA_HOME", str(tmp_path))

    def make(**kwargs: object) -> QAApp:
        kwargs.setdefault("engine", engine)
        kwargs.setdefault("show_timings", False)
        return QAApp(**kwargs)  # type: ignore[arg-type]

    return make
