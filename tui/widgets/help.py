"""The help screen: every key, in one place."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "ask the question in the box (on a passage: open its source)"),
    ("Up / Down", "in the box: recall earlier questions; on a passage: previous / next passage"),
    ("Tab / Shift+Tab", "move between the question box, the passages and the source panel"),
    ("click, double-click", "select a passage; open its source"),
    ("Ctrl+O", "open the source of the selected passage"),
    ("Escape", "close the source panel / back to the question box"),
    ("F", "in the source panel: switch between side and full panel"),
    ("Ctrl+Y  (c on a passage)", "copy the selected citation (path:line and the quoted text)"),
    ("F2", "switch retrieval mode: hybrid, BM25, dense"),
    ("F3 / F4", "fewer / more passages per answer (top-k)"),
    ("Ctrl+N", "new topic: clear the conversation"),
    ("Ctrl+S", "export the conversation to Markdown"),
    ("Ctrl+R", "saved conversations (each answer is kept): Enter reopens one, Delete removes it"),
    ("Ctrl+P", "command palette (every action)"),
    ("F1", "this help"),
    ("Ctrl+Q", "quit"),
)


def keys_table() -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, what in KEYS:
        table.add_row(key, what)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("corpus-qa: keys", id="help-title")
            yield Static(keys_table())
            yield Static(
                "Answers come only from the indexed documents; every passage shows why it was returned "
                "(BM25 and dense ranks and scores). Esc closes this help.",
                id="help-note",
            )
