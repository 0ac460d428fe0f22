"""Index building progress: the stage, a bar, and counts."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar

from index.stages import INDEXING
from qa.progress import progress_counts

STAGES = {INDEXING: "Reading, embedding and indexing documents"}


class BuildProgress(Vertical):
    def __init__(self) -> None:
        super().__init__(id="build")
        self.stage = ""
        self.done = 0
        self.total = 0

    def compose(self) -> ComposeResult:
        yield Label("Opening the index…", id="build-label")
        yield ProgressBar(id="build-bar", show_eta=False)

    def set_progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total
        counts = progress_counts(stage, done, total)
        self.query_one("#build-label", Label).update(f"{STAGES.get(stage, stage)}: {counts}")
        self.query_one("#build-bar", ProgressBar).update(total=max(total, 1), progress=done)
