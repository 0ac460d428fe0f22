"""The saved-conversations picker (Ctrl+R): choose one to reopen, or delete ones no longer wanted."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from qa.escape import safe_line
from qa.history import SavedConversation

DeleteFn = Callable[[int], object]


def describe(saved: SavedConversation, now: float | None = None, corpus: str | None = None) -> Text:
    """`Who struck the weapons depot in Idlib?   4 turns · today 09:12` (the title escaped, one line), and
    `· over <folder>` when it was asked over a corpus other than `corpus`."""
    moment = time.localtime(saved.updated)
    today = time.localtime(now if now is not None else time.time())
    same_day = (moment.tm_year, moment.tm_yday) == (today.tm_year, today.tm_yday)
    when = time.strftime("today %H:%M" if same_day else "%Y-%m-%d %H:%M", moment)
    turns = f"{saved.turns} turn" + ("" if saved.turns == 1 else "s")
    line = Text(safe_line(saved.title), no_wrap=True, overflow="ellipsis")
    line.append(f"   {turns} · {when}", style="dim")
    if saved.asked_over_another(corpus):
        line.append(f" · over {safe_line(Path(str(saved.corpus)).name or str(saved.corpus))}", style="yellow")
    return line


class HistoryScreen(ModalScreen[SavedConversation | None]):
    """Saved conversations, most recent first. Enter reopens the highlighted one (the screen is dismissed
    with it); Delete removes it from the history; Escape closes without choosing (None)."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Close"),
        Binding("delete,d", "delete_selected", "Delete"),
    ]

    def __init__(self, saved: Sequence[SavedConversation], delete: DeleteFn, corpus: str | None = None) -> None:
        super().__init__()
        self.saved = list(saved)
        self._delete = delete
        self.corpus = corpus  # the corpus open now: a conversation asked over another one says which

    def compose(self) -> ComposeResult:
        with Vertical(id="history"):
            yield Static("Saved conversations", id="history-title")
            yield OptionList(*self._options(), id="history-list")
            yield Static("Enter reopens · Delete removes from the history · Esc closes", id="history-note")

    def _options(self) -> list[Option]:
        now = time.time()
        return [Option(describe(s, now, self.corpus), id=str(s.id)) for s in self.saved]

    @property
    def options(self) -> OptionList:
        return self.query_one("#history-list", OptionList)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.saved[event.option_index])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def action_delete_selected(self) -> None:
        highlighted = self.options.highlighted
        if highlighted is None or not self.saved:
            return
        removed = self.saved.pop(highlighted)
        self._delete(removed.id)
        self.notify(f"Deleted from the history: {safe_line(removed.title)}", markup=False)
        if not self.saved:  # nothing left to choose
            self.dismiss(None)
            return
        self.options.clear_options()
        self.options.add_options(self._options())
        self.options.highlighted = min(highlighted, len(self.saved) - 1)
