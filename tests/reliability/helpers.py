"""Corpus generators and a subprocess runner shared by the reliability tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TOPICS = ["harbour", "orchard", "glacier", "railway", "library", "volcano", "monastery", "lighthouse"]


def paragraph(version: str, doc: int, number: int) -> str:
    topic = TOPICS[(doc + number) % len(TOPICS)]
    return (
        f"The {topic} report {version} number {doc}-{number} describes how the {topic} changed over "
        f"the seasons, with notes on visitors, repairs and the weather near the {topic}."
    )


def write_corpus(root: Path, version: str, documents: int = 3, paragraphs: int = 6) -> Path:
    """A corpus whose every paragraph names `version`; each file is replaced atomically."""
    root.mkdir(parents=True, exist_ok=True)
    for doc in range(documents):
        rewrite_document(root, doc, version, paragraphs)
    return root


def rewrite_document(root: Path, doc: int, version: str, paragraphs: int = 6) -> None:
    """Replace one document atomically (other files untouched: every state on disk is a whole version)."""
    text = f"Report {doc} on places\n\n" + "\n\n".join(paragraph(version, doc, n) for n in range(paragraphs))
    temporary = root / f".doc{doc}.tmp"
    temporary.write_text(text + "\n", encoding="utf-8")
    os.replace(temporary, root / f"doc{doc}.txt")


def driver_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QA_TEST_CRASH_AT", "QA_FAKE_EMBED_DELAY")}
    env.update({"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    env.update(extra)
    return env


def sigint_as_at_a_terminal() -> None:
    """`preexec_fn` for a child that will get SIGINT: a job started in the background (`cmd &`, as a CI
    script may be) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt; a user's
    Ctrl+C at a terminal reaches a process whose SIGINT is at its default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def driver_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "tests.reliability.driver", *(str(a) for a in args)]


def run_driver(*args: str | Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        driver_command(*args), capture_output=True, text=True, env=driver_env(**env), cwd=REPO, timeout=timeout
    )


def answers(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def check_citations_true(answer: dict[str, Any], versions: dict[str, dict[str, str]]) -> str:
    """Every passage of `answer` is exactly the cited slice of one corpus version (the same version for
    all passages); returns that version's name."""
    matching = []
    for name, files in versions.items():
        if all(files[p["file"]][p["char_start"] : p["char_end"]] == p["text"] for p in answer["passages"]):
            matching.append(name)
    assert matching, f"answer from {answer['generation']} cites text found in no corpus version"
    return matching[0]


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.resolve()): p.read_text(encoding="utf-8") for p in sorted(root.glob("*.txt"))}
