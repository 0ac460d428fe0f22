"""Build progress counts bytes of the corpus's files, so one big file moves the bar while it is embedded."""

from __future__ import annotations

import io
from pathlib import Path

from index.builder import INDEXING, open_index
from index.corpus import FolderSource
from qa.progress import StderrReporter, human_bytes, progress_counts
from tests.conftest import RecordingReporter
from tests.reliability.fakes import HashEmbedder


def test_one_big_file_moves_the_bar_while_it_is_embedded(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    big = "Harbour report\n\n" + "\n\n".join(f"Paragraph {n} on ferries, tides and harbour cranes." for n in range(600))
    (corpus / "big.txt").write_text(big + "\n", encoding="utf-8")
    (corpus / "small.txt").write_text("A note\n\nOne paragraph about lighthouses.\n", encoding="utf-8")
    total = sum(f.stat().st_size for f in corpus.iterdir())
    reporter = RecordingReporter()
    open_index(FolderSource(corpus), tmp_path / "index", HashEmbedder(), reporter).close()
    steps = [(done, of) for stage, done, of in reporter.stages if stage == INDEXING]
    assert {of for _, of in steps} == {total}
    assert steps[0][0] == 0 and steps[-1][0] == total
    done = [d for d, _ in steps]
    assert done == sorted(done)  # never goes back
    assert len({d for d in done if 0 < d < total}) >= 10  # moves inside the big file, batch by batch


def test_byte_stages_are_shown_in_bytes() -> None:
    assert human_bytes(532) == "532 B"
    assert human_bytes(14.2 * 1024) == "14.2 KiB"
    assert human_bytes(3.5 * 1024**3) == "3.5 GiB"
    assert progress_counts(INDEXING, 1536, 4 * 1024**2) == "1.5 KiB/4.0 MiB"
    assert progress_counts("vector index", 1, 2) == "1/2"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_terminal_bar_shows_bytes_rate_and_an_unknown_eta_before_anything_is_done() -> None:
    stream = _Terminal()
    reporter = StderrReporter(stream)
    reporter.progress(INDEXING, 0, 3 * 1024**2)
    first = stream.getvalue()
    assert "0 B/3.0 MiB" in first and "ETA ?" in first
    reporter.progress(INDEXING, 3 * 1024**2, 3 * 1024**2)
    last = stream.getvalue().split("\r")[-1]
    assert "3.0 MiB/3.0 MiB" in last and "/s ETA 0s" in last and last.endswith("\n")
