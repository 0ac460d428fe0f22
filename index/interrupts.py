"""Ctrl+C while the index is written: noted at once, acted on at the next safe point.

Python raises KeyboardInterrupt wherever the main thread happens to be. Inside native code that calls
back into Python (torch's pybind11 layer while the model loads or runs) an exception there cannot
unwind and the process aborts with a core dump, leaving a half-written generation behind. So while an
index is written, the first SIGINT only sets a flag; the builder and the embedder check it between
steps (every embedding batch, every document) and raise KeyboardInterrupt there, where unwinding is
safe and the partial generation is removed. A second SIGINT raises at once, for the impatient.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_pending = threading.Event()


def raise_if_interrupted() -> None:
    """The safe point: raise the KeyboardInterrupt that a deferred Ctrl+C asked for."""
    if _pending.is_set():
        _pending.clear()
        raise KeyboardInterrupt


def _note_interrupt(signum: int, frame: FrameType | None) -> None:
    if _pending.is_set():
        _pending.clear()
        raise KeyboardInterrupt  # pressed twice: stop now
    _pending.set()


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Within the block the first Ctrl+C waits for `raise_if_interrupted`; at the end it is raised if
    nothing took it. Outside the main thread, or when the program installed its own SIGINT handler
    (the TUI), this changes nothing."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    _pending.clear()
    signal.signal(signal.SIGINT, _note_interrupt)
    try:
        yield
    except BaseException:
        _pending.clear()  # already stopping: nothing left to interrupt
        raise
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    raise_if_interrupted()  # reached only when the block ended normally
