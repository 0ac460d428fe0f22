"""Crash safety: a real process SIGKILLed while building or updating never leaves a half-read index.

Named points (QA_TEST_CRASH_AT, read by index.store.crash_point) cover every step of a build: after
reading, mid-embedding, after the catalog is written, before and after the generation directory is
renamed into place, before and after CURRENT is switched. A second test kills at wall-clock delays.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.builder import open_index
from index.corpus import FolderSource
from index.store import CURRENT, current_generation
from tests.reliability.fakes import HashEmbedder, NullReporter
from tests.reliability.helpers import (
    REPO,
    answers,
    check_citations_true,
    driver_command,
    driver_env,
    run_driver,
    sigint_as_at_a_terminal,
    snapshot,
    write_corpus,
)

STAGES = ["read", "embedding", "catalog", "before-rename", "after-rename", "before-switch", "after-switch"]
QUESTION = "harbour repairs and visitors"


def _assert_clean_answer(corpus: Path, index_dir: Path, versions: dict[str, dict[str, str]], expect: str) -> str:
    """Ask through a fresh process: it succeeds, cites the corpus as it is, and leaves no debris."""
    result = run_driver("ask", corpus, index_dir, QUESTION, "1")
    assert result.returncode == 0, result.stderr
    (answer,) = answers(result.stdout)
    assert check_citations_true(answer, versions) == expect
    assert "Traceback" not in result.stderr
    assert not [p for p in index_dir.iterdir() if p.name.startswith("tmp-") or p.name.endswith(".tmp")]
    return result.stderr


@pytest.mark.parametrize("stage", STAGES)
def test_killed_first_build_is_never_read_half_written(stage: str, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", "alpha")
    index_dir = tmp_path / "index"
    killed = run_driver("build", corpus, index_dir, QA_TEST_CRASH_AT=stage)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    generation = current_generation(index_dir)  # never raises: CURRENT is absent or names a whole generation
    if stage == "after-switch":
        assert generation is not None and generation.manifest["counts"]["documents"] == 3
    else:
        assert generation is None
    stderr = _assert_clean_answer(corpus, index_dir, {"alpha": snapshot(corpus)}, "alpha")
    assert ("building the index" in stderr) == (stage != "after-switch")


@pytest.mark.parametrize("stage", STAGES)
def test_killed_update_keeps_the_last_complete_index(stage: str, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", "alpha")
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    old = current_generation(index_dir)
    assert old is not None
    alpha = snapshot(corpus)
    write_corpus(corpus, "beta")
    killed = run_driver("build", corpus, index_dir, QA_TEST_CRASH_AT=stage)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    after = current_generation(index_dir)
    assert after is not None
    if stage == "after-switch":
        assert (
            after.path.name != old.path.name
            and after.manifest["corpus_fingerprint"] != old.manifest["corpus_fingerprint"]
        )
    else:
        assert after.path == old.path and after.manifest == old.manifest  # the last complete index, intact
    stderr = _assert_clean_answer(corpus, index_dir, {"alpha": alpha, "beta": snapshot(corpus)}, "beta")
    assert ("updating the index: the corpus changed" in stderr) == (stage != "after-switch")


def test_sigkill_at_random_moments_of_a_slow_build(tmp_path: Path) -> None:
    """No named points: kill a real build (slowed to ~2 s) from outside at several delays."""
    corpus = write_corpus(tmp_path / "corpus", "gamma", documents=8, paragraphs=60)
    versions = {"gamma": snapshot(corpus)}
    index_dir = tmp_path / "index"
    outcomes = []
    for delay in (0.4, 0.9, 1.5, 2.2, 3.0):
        process = subprocess.Popen(
            driver_command("build", corpus, index_dir),
            env=driver_env(QA_FAKE_EMBED_DELAY="0.05"),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        outcomes.append(process.wait(timeout=60))
        generation = current_generation(index_dir)  # whole or absent, never damaged
        if generation is not None:
            assert generation.manifest["counts"]["documents"] == 8
        if index_dir.exists():
            assert (index_dir / CURRENT).exists() == (generation is not None)
    assert -signal.SIGKILL in outcomes  # at least one kill landed mid-build
    _assert_clean_answer(corpus, index_dir, versions, "gamma")


@pytest.mark.parametrize("stage", ["catalog", "before-switch"])
def test_real_cli_killed_during_update_then_answers(
    stage: str, seeds_index_dir: Path, corpus_copy: Path, tmp_path: Path
) -> None:
    """The real `qa --ask` with the real model: killed while updating, the next question still answers."""
    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)  # built for seeds/: the copy rebuilds, reusing every vector
    before = current_generation(index_dir)
    command = [sys.executable, "-m", "qa.cli", "--corpus", str(corpus_copy), "--index-dir", str(index_dir)]
    command += ["--ask", "How many people live in Idlib?", "--json"]
    env = driver_env(QA_TEST_CRASH_AT=stage, NO_COLOR="1")
    killed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert killed.returncode == -signal.SIGKILL and killed.stdout == ""
    assert current_generation(index_dir) == before  # the old index, whole
    env.pop("QA_TEST_CRASH_AT")
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "updating the index" in result.stderr and "(0 embedded, 66 reused)" in result.stderr
    assert json.loads(result.stdout)["passages"][0]["id"] == "corpus/001_1b964a6f03f87240.txt#p4"
    assert not [p for p in index_dir.iterdir() if p.name.startswith("tmp-")]


def test_ctrl_c_during_an_update_exits_130_and_keeps_the_old_index(
    seeds_index_dir: Path, corpus_copy: Path, tmp_path: Path
) -> None:
    """SIGINT while the real CLI embeds new passages: one line, exit 130, nothing lost."""
    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    before = current_generation(index_dir)
    paragraphs = (
        f"Report {n} about the lighthouse keepers of Latakia, their boats and their nets." for n in range(600)
    )
    (corpus_copy / "new.txt").write_text("\n\n".join(paragraphs) + "\n")  # ~10 s of embedding
    command = [sys.executable, "-m", "qa.cli", "--corpus", str(corpus_copy), "--index-dir", str(index_dir)]
    process = subprocess.Popen(
        [*command, "--ask", "lighthouse keepers"],
        env=driver_env(NO_COLOR="1"),
        cwd=REPO,
        preexec_fn=sigint_as_at_a_terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # said under the lock, just before reading and embedding
    assert "updating the index" in first, first
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, rest = process.communicate(timeout=120)
    assert process.returncode == 130, first + rest
    assert "qa: interrupted" in rest and "Traceback" not in rest and out == ""
    assert current_generation(index_dir) == before
    assert not [p for p in index_dir.iterdir() if p.name.startswith("tmp-")]
