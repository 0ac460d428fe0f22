"""Build progress, warnings and notes on stderr (stdout carries only answers)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from index.stages import BYTE_STAGES, embedded_note
from qa.escape import safe_line

BAR_WIDTH = 28


def human_bytes(count: float) -> str:
    """`532 B`, `14.2 KiB`, `3.4 MiB`, `1.2 GiB`."""
    for unit in ("B", "KiB", "MiB"):
        if abs(count) < 1024:
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1024
    return f"{count:,.1f} GiB"


def progress_counts(stage: str, done: int, total: int) -> str:
    """`12/66` for steps, `1.3 MiB/4.0 MiB` for a stage counted in bytes."""
    if stage in BYTE_STAGES:
        return f"{human_bytes(done)}/{human_bytes(total)}"
    return f"{done}/{total}"


def progress_rate(stage: str, per_second: float) -> str:
    return f"{human_bytes(per_second)}/s" if stage in BYTE_STAGES else f"{per_second:,.0f}/s"


class StderrReporter:
    """Implements `index.builder.BuildReporter` for a terminal or a log: a live bar on a TTY,
    one line per finished stage otherwise."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self._stage = ""
        self._stage_started = 0.0
        self._last_draw = 0.0
        self._bar_open = False

    def _end_bar(self) -> None:
        if self._bar_open:
            self.stream.write("\n")
            self._bar_open = False

    def warn(self, message: str) -> None:
        self._end_bar()
        self.stream.write(f"qa: warning: {safe_line(message)}\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        if self.quiet:
            return
        self._end_bar()
        self.stream.write(f"qa: {safe_line(message)}\n")
        self.stream.flush()

    def progress(self, stage: str, done: int, total: int) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if stage != self._stage:
            self._end_bar()
            self._stage, self._stage_started = stage, now
        finished = done >= total
        if self.tty:
            if not finished and now - self._last_draw < 0.1:
                return
            self._last_draw = now
            elapsed = max(now - self._stage_started, 1e-9)
            rate = done / elapsed
            eta = (total - done) / rate if rate > 0 else 0.0
            filled = int(BAR_WIDTH * done / total) if total else BAR_WIDTH
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            counts, speed = progress_counts(stage, done, total), progress_rate(stage, rate)
            eta_text = f"ETA {eta:,.0f}s" if done > 0 else "ETA ?"  # nothing done yet (the model loads)
            self.stream.write(f"\r{stage:>9} [{bar}] {counts} {speed} {eta_text}   ")
            self._bar_open = True
            if finished:
                self._end_bar()
            self.stream.flush()
        elif finished and stage == "embedding":
            elapsed = max(now - self._stage_started, 1e-9)
            self.stream.write(f"qa: {embedded_note(total, elapsed)}\n")
            self.stream.flush()
