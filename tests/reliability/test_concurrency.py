"""Concurrent use with real processes: readers see the old or the new index whole; updaters take turns."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.builder import open_index
from index.corpus import FolderSource
from index.errors import IndexStoreError
from index.store import current_generation, update_lock
from tests.reliability.fakes import HashEmbedder, NullReporter
from tests.reliability.helpers import (
    REPO,
    answers,
    check_citations_true,
    driver_command,
    driver_env,
    rewrite_document,
    snapshot,
    write_corpus,
)

QUESTION = "orchard weather and repairs"


def _popen(*args: str | Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        driver_command(*args),
        env=driver_env(**env),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_readers_see_old_or_new_index_whole_while_updates_publish(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", "alpha", documents=4, paragraphs=40)
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    first = current_generation(index_dir)
    assert first is not None
    # corpus fingerprint (content of every file) -> the files of that version
    versions = {first.manifest["corpus_fingerprint"]: ("alpha", snapshot(corpus))}
    # A long-lived reader (like the TUI) holds the alpha generation open for the whole test, while a reader
    # that re-opens the index for every question follows the updates.
    holder = _popen("hold", corpus, index_dir, QUESTION, "9")
    asker = _popen("ask", corpus, index_dir, QUESTION, "12")
    time.sleep(1.5)
    for version in ("beta", "gamma"):  # two updates: the alpha generation is garbage-collected meanwhile
        rewrite_document(corpus, 0, version, paragraphs=40)
        update = _popen("build", corpus, index_dir, QA_FAKE_EMBED_DELAY="0.05")
        out, err = update.communicate(timeout=120)
        assert update.returncode == 0, err
        published = current_generation(index_dir)
        assert published is not None
        versions[published.manifest["corpus_fingerprint"]] = (version, snapshot(corpus))
    assert not (index_dir / first.path.name).exists()
    results = {}
    for name, process in (("holder", holder), ("asker", asker)):
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
        assert "Traceback" not in err
        seen = []
        for answer in answers(out):
            version, files = versions[answer["fingerprint"]]
            check_citations_true(answer, {version: files})  # every passage is exactly that version's text
            seen.append(version)
        results[name] = seen
    # The holder kept reading its alpha generation, whole, after it was replaced and deleted on disk.
    assert results["holder"] and set(results["holder"]) == {"alpha"}
    # The asker saw each version whole (the files of one version only), in order.
    seen = results["asker"]
    assert len(seen) == 12 and seen == sorted(seen, key=["alpha", "beta", "gamma"].index)


def test_two_updaters_take_turns_and_the_second_reuses_the_work(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", "alpha", documents=4, paragraphs=40)
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    write_corpus(corpus, "beta", documents=4, paragraphs=40)
    first = _popen("build", corpus, index_dir, QA_FAKE_EMBED_DELAY="0.5")
    assert first.stderr is not None
    first_notes = [first.stderr.readline()]  # "updating the index: ..." is said while holding the lock
    assert "updating the index" in first_notes[0], first_notes
    second = _popen("build", corpus, index_dir, QA_FAKE_EMBED_DELAY="0.5")  # ~5 s of embedding left
    out1, rest = first.communicate(timeout=120)
    err1 = first_notes[0] + rest
    out2, err2 = second.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    assert "another process is updating the index" in err2 and "waiting for it" in err2
    assert "indexed" in err1 and "indexed" not in err2  # the second found the work done, rebuilt nothing
    assert answers(out1) == answers(out2)  # both use the same generation
    generation = current_generation(index_dir)  # verified against every checksum
    assert generation is not None and generation.path.name == answers(out1)[0]["generation"]


def test_an_updater_that_cannot_get_the_lock_gives_up_with_a_clear_message(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            f"h = open({str(index_dir / '.lock')!r}, 'a+')\n"
            "fcntl.flock(h.fileno(), fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        notes: list[str] = []
        started = time.monotonic()
        with pytest.raises(IndexStoreError, match="gave up after 1 s waiting for another process"):
            with update_lock(index_dir, notes.append, timeout_s=1.0):
                pass
        assert time.monotonic() - started < 5
        assert notes == [f"another process is updating the index in {index_dir}; waiting for it"]
    finally:
        holder.kill()
        holder.wait()
    with update_lock(index_dir, notes.append, timeout_s=1.0):  # a dead holder's lock is released
        pass


def test_a_generation_removed_while_being_verified_is_reported_then_recovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader verifying a generation that a concurrent updater garbage-collects mid-way gets a clear
    IndexStoreError (not a raw FileNotFoundError), and open_index recovers by taking the lock."""
    import index.store

    corpus = write_corpus(tmp_path / "corpus", "alpha")
    index_dir = tmp_path / "index"
    open_index(FolderSource(corpus), index_dir, HashEmbedder(), NullReporter()).close()
    for stamp in index_dir.glob("verified-*"):  # the build recorded its checksums: make this reader verify
        stamp.unlink()
    real_sha256 = index.store.sha256_file
    removed: list[Path] = []

    def vanishing(path: Path) -> str:
        if not removed:
            removed.append(path)
            path.unlink()  # the updater's garbage collector got there first
        return real_sha256(path)

    monkeypatch.setattr(index.store, "sha256_file", vanishing)
    with pytest.raises(IndexStoreError, match="is unreadable: No such file"):
        current_generation(index_dir)
    monkeypatch.undo()
    reporter = NullReporter()
    recovered = open_index(FolderSource(corpus), index_dir, HashEmbedder(), reporter)
    assert recovered.size == 18 and any("rebuilding it" in n for n in reporter.notes)
