"""A `BuildReporter` for the UI: forwards the index builder's progress, notes and warnings as messages."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message import Message

from tui.messages import BuildNoted, BuildProgressed

PROGRESS_INTERVAL_S = 0.05


class MessageReporter:
    """Implements `index.builder.BuildReporter` by posting messages (safe from a worker thread).

    Progress is throttled so that a fast stage does not flood the app; the first and last steps of a
    stage always go through.
    """

    def __init__(self, post: Callable[[Message], object], clock: Callable[[], float] = time.monotonic) -> None:
        self._post = post
        self._clock = clock
        self._last = float("-inf")
        self._stage = ""

    def warn(self, message: str) -> None:
        self._post(BuildNoted(message, warning=True))

    def note(self, message: str) -> None:
        self._post(BuildNoted(message, warning=False))

    def progress(self, stage: str, done: int, total: int) -> None:
        now = self._clock()
        if stage == self._stage and done < total and now - self._last < PROGRESS_INTERVAL_S:
            return
        self._stage, self._last = stage, now
        self._post(BuildProgressed(stage, done, total))
