"""The Textual app of corpus-qa: ask questions, read cited evidence, open sources.

It shows what `qa` decided and decides nothing itself. The engine is opened (and the index built) in a
worker thread; each question runs in an exclusive worker and its answer is dropped if a newer question
was asked meanwhile.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from index.builder import BuildReporter
from index.errors import QAError
from qa.conversation import Conversation
from qa.engine import DEFAULT_TOP_K, QAEngine, open_engine
from qa.escape import safe_line
from qa.history import (
    SavedConversation,
    delete_conversation,
    list_conversations,
    load_conversation,
    recover_history,
    save_conversation,
)
from qa.types import MODES, Answer, Evidence, Mode
from tui.export import citation_line, write_export
from tui.messages import (
    Answered,
    AskFailed,
    BuildNoted,
    BuildProgressed,
    EngineFailed,
    EngineReady,
    EngineRefreshed,
)
from tui.reporter import MessageReporter
from tui.widgets.answer import AnswerCard
from tui.widgets.build_progress import BuildProgress
from tui.widgets.evidence import EvidencePassage
from tui.widgets.help import HelpScreen
from tui.widgets.history import HistoryScreen
from tui.widgets.question import PendingAnswer, QuestionBubble
from tui.widgets.question_input import QuestionInput
from tui.widgets.source_panel import SourcePanel
from tui.widgets.status import StatusBar

EngineFactory = Callable[[BuildReporter], QAEngine]
MAX_TOP_K = 20
SIDE_PANEL_MIN_WIDTH = 110  # narrower terminals open the source full-width
FILES_CHECK_INTERVAL_S = 1.0  # before a question, the corpus is listed again (one stat a file) at most this often
FILES_CHECK_COST_RATIO = 20  # and at most once in 20 times the last listing took (10,000 files: ~0.1 s, every 2 s)
WELCOME = (
    "Ask a question about the documents and press Enter. Answers come only from the corpus, "
    "each with its evidence passages and citations. F1 shows the keys, Ctrl+Q quits."
)


class QAApp(App[int]):
    TITLE = "corpus-qa"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help"),
        Binding("ctrl+n", "new_topic", "New topic"),
        Binding("ctrl+y", "copy_citation", "Copy cite"),
        Binding("ctrl+o", "open_selected", "Source", show=False),
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+r", "reopen", "Reopen", show=False),
        Binding("f2", "cycle_mode", "Mode"),
        Binding("f3", "top_k(-1)", "k-1", show=False),
        Binding("f4", "top_k(1)", "k+1", show=False),
        Binding("escape", "leave", "Back", show=False),
    ]

    def __init__(
        self,
        engine: QAEngine | None = None,
        engine_factory: EngineFactory | None = None,
        mode: Mode = "hybrid",
        top_k: int = DEFAULT_TOP_K,
        show_timings: bool = True,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        super().__init__()
        if engine is None and engine_factory is None:
            raise ValueError("QAApp needs an engine or an engine factory")
        self.engine = engine
        self._engine_factory = engine_factory
        self.mode: Mode = mode
        self.top_k = top_k
        self.show_timings = show_timings
        self.clock = clock
        self.conversation = Conversation()
        self.answers: list[Answer] = []  # the answers shown since the last new topic
        self.selected: EvidencePassage | None = None
        self.pending_question: str | None = None  # asked before the engine was ready
        self.stale_dropped = 0
        self.startup_error: str | None = None
        self._request_id = 0
        self._engine_lock = threading.Lock()
        self._source_full = False
        self._files_checked_at = time.monotonic()  # the engine given or opened now serves the files as they are
        self._files_check_s = 0.0  # how long the last listing of the corpus took
        self.last_saved_id: int | None = None  # the conversation's id in the history
        self._history_failed = False  # a history that cannot be written is reported once

    # ---- layout -------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with VerticalScroll(id="conversation", can_focus=False):
                yield Static(Text(WELCOME, style="italic"), id="welcome")
            yield SourcePanel()
        yield BuildProgress()
        yield QuestionInput()
        yield StatusBar(show_timings=self.show_timings)
        yield Footer()

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def conversation_view(self) -> VerticalScroll:
        return self.query_one("#conversation", VerticalScroll)

    @property
    def source_panel(self) -> SourcePanel:
        return self.query_one(SourcePanel)

    @property
    def question_input(self) -> QuestionInput:
        return self.query_one(QuestionInput)

    def on_mount(self) -> None:
        self.status.set(mode=self.mode, top_k=self.top_k)
        self.question_input.focus()
        if self.engine is not None:
            self.post_message(EngineReady(self.engine))
        else:
            self.query_one(BuildProgress).display = True
            # A daemon thread rather than a Textual worker: quitting must not wait for a long index build
            # (Textual's thread workers run in the event loop's executor, which is joined at exit).
            threading.Thread(target=self._open_engine, name="qa-open-index", daemon=True).start()

    # ---- start-up -----------------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        """True while the engine is being opened (and the index possibly built)."""
        return self.engine is None and self.startup_error is None

    def _open_engine(self) -> None:
        """In the start-up thread: open the engine and report back with messages (thread-safe)."""
        assert self._engine_factory is not None
        reporter = MessageReporter(self.post_message)
        try:
            engine = self._engine_factory(reporter)
        except QAError as exc:
            self.post_message(EngineFailed(str(exc)))
        except OSError as exc:
            self.post_message(EngineFailed(f"cannot open the index: {exc}"))
        except Exception as exc:  # noqa: BLE001 - a thread has no caller: say what happened, never hang on "loading"
            self.post_message(EngineFailed(f"unexpected error while opening the index: {type(exc).__name__}: {exc}"))
        else:
            self.post_message(EngineReady(engine))

    def on_build_progressed(self, message: BuildProgressed) -> None:
        self.query_one(BuildProgress).display = True  # at start-up, or files changed before a question
        self.query_one(BuildProgress).set_progress(message.stage, message.done, message.total)
        self.status.set(state="building the index…")

    def on_build_noted(self, message: BuildNoted) -> None:
        self.notify(
            safe_line(message.text),
            title="Warning" if message.warning else "Index",
            severity="warning" if message.warning else "information",
            markup=False,
        )

    def on_engine_ready(self, message: EngineReady) -> None:
        self.engine = message.engine
        self.query_one(BuildProgress).display = False
        self.status.set(facts=message.engine.facts(), state="")
        if self.pending_question is not None:
            question, self.pending_question = self.pending_question, None
            self._ask(question)

    def on_engine_failed(self, message: EngineFailed) -> None:
        self.startup_error = message.error
        self.query_one("#welcome").display = False
        self.query_one(BuildProgress).display = False
        self.status.set(state="no index")
        text = Text("Cannot open the corpus\n", style="bold")
        text.append(safe_line(message.error))
        text.append("\nQuit with Ctrl+Q and start again with --corpus PATH (or --rebuild for a damaged index).")
        self.conversation_view.mount(Static(text, classes="error-card"))
        self.notify(safe_line(message.error), title="Cannot open the corpus", severity="error", markup=False)
        self.question_input.disabled = True

    # ---- asking -------------------------------------------------------------------------------------

    @on(Input.Submitted, "#question")
    def on_question_submitted(self, event: Input.Submitted) -> None:
        question = " ".join(event.value.split())
        if not question:
            return
        self.question_input.remember(question)
        self.question_input.value = ""
        if self.engine is None:
            self.pending_question = question
            self.notify("The index is still loading; your question will be asked when it is ready.")
            return
        self._ask(question)

    def _ask(self, question: str) -> None:
        assert self.engine is not None
        for pending in self.query(PendingAnswer):
            if not pending.has_class("superseded") and not pending.has_class("failed"):
                pending.supersede()
        self._request_id += 1
        request_id = self._request_id
        self.query_one("#welcome").display = False
        bubble = QuestionBubble(question, request_id)
        self.conversation_view.mount(bubble)
        self.conversation_view.mount(PendingAnswer(request_id))
        self.conversation_view.scroll_end(animate=False)
        self.status.set(state="searching…")
        self._run_question(self.engine, request_id, question, self.mode, self.top_k, copy.deepcopy(self.conversation))

    @work(thread=True, exclusive=True, group="ask")
    def _run_question(
        self, engine: QAEngine, request_id: int, question: str, mode: Mode, top_k: int, conversation: Conversation
    ) -> None:
        worker = get_current_worker()
        with self._engine_lock:  # one question at a time; a superseded one is skipped if not yet started
            if worker.is_cancelled or request_id != self._request_id:
                return
            try:
                engine = self._up_to_date(self.engine or engine)
                answer = engine.ask(question, mode=mode, top_k=top_k, conversation=conversation)
            except QAError as exc:
                self.post_message(AskFailed(request_id, str(exc)))
                return
        self.post_message(Answered(request_id, answer, conversation))

    def _up_to_date(self, engine: QAEngine) -> QAEngine:
        """In a question's worker, holding the engine lock: the engine over the files as they are now. When
        files were edited, added or removed since its index was built (checked at most every
        `FILES_CHECK_INTERVAL_S`, and rarer for a corpus that takes long to list: the listing costs at most
        1 / `FILES_CHECK_COST_RATIO` of the time), the index is brought up to date and the new engine
        replaces the old one."""
        wait = max(FILES_CHECK_INTERVAL_S, FILES_CHECK_COST_RATIO * self._files_check_s)
        if time.monotonic() - self._files_checked_at < wait:
            return engine
        started = time.monotonic()
        fresh = engine.refreshed(MessageReporter(self.post_message))
        self._files_checked_at = time.monotonic()
        if fresh is None:
            self._files_check_s = self._files_checked_at - started  # a big corpus is listed less often
            return engine
        fresh.warm_up()
        self.engine = fresh
        engine.close()  # no other question can be using it: they all hold this lock
        self.post_message(EngineRefreshed(fresh))
        return fresh

    def on_engine_refreshed(self, message: EngineRefreshed) -> None:
        self.query_one(BuildProgress).display = False
        self.status.set(facts=message.engine.facts())

    def on_answered(self, message: Answered) -> None:
        if message.request_id != self._request_id:
            self.stale_dropped += 1
            return
        self.conversation = message.conversation
        self.answers.append(message.answer)
        self._keep_in_history()
        card = AnswerCard(message.answer, message.request_id)
        for pending in self.query(PendingAnswer):
            if pending.request_id == message.request_id:
                pending.remove()
        self.conversation_view.mount(card)
        self.status.set(timings=dict(message.answer.timings_ms), state="")
        bubble = next(b for b in self.query(QuestionBubble) if b.request_id == message.request_id)
        # once the card is laid out, put its question at the top (immediately then: no second deferral)
        view = self.conversation_view
        self.call_after_refresh(view.scroll_to_widget, bubble, animate=False, top=True, immediate=True)

    def on_ask_failed(self, message: AskFailed) -> None:
        if message.request_id != self._request_id:
            return
        for pending in self.query(PendingAnswer):
            if pending.request_id == message.request_id:
                pending.fail(message.error)
        self.status.set(state="")
        self.notify(safe_line(message.error), title="Cannot answer", severity="error", markup=False)

    # ---- passages and sources -----------------------------------------------------------------------

    def on_evidence_passage_selected(self, message: EvidencePassage.Selected) -> None:
        if self.selected is not None and self.selected is not message.passage:
            self.selected.remove_class("selected")
        self.selected = message.passage
        message.passage.add_class("selected")

    def on_evidence_passage_open_requested(self, message: EvidencePassage.OpenRequested) -> None:
        self.open_source(message.evidence)

    def selected_evidence(self) -> Evidence | None:
        if self.selected is not None and self.selected.is_attached:
            return self.selected.evidence
        if self.answers and self.answers[-1].passages:
            return self.answers[-1].passages[0]
        return None

    def open_source(self, evidence: Evidence) -> None:
        panel = self.source_panel
        panel.show(evidence)
        panel.add_class("open")
        self._layout_source()
        panel.body.focus()

    def _layout_source(self) -> None:
        full = self._source_full or self.size.width < SIDE_PANEL_MIN_WIDTH
        self.query_one("#body").set_class(full and self.source_panel.has_class("open"), "source-full")

    def on_resize(self) -> None:
        self._layout_source()

    def action_focus_answer(self) -> None:
        """From the question box: to the first passage of the latest answer (Tab)."""
        cards = list(self.query(AnswerCard))
        passages = list(cards[-1].query(EvidencePassage)) if cards else []
        if passages:
            self.screen.set_focus(passages[0])  # at once: a key typed right after Tab goes to the passage
        else:
            self.screen.focus_next()

    def action_open_selected(self) -> None:
        evidence = self.selected_evidence()
        if evidence is None:
            self.notify("No passage to open yet: ask a question first.", severity="warning")
            return
        self.open_source(evidence)

    def action_close_source(self) -> None:
        self.source_panel.remove_class("open")
        self._layout_source()
        if self.selected is not None and self.selected.is_attached:
            self.selected.focus()
        else:
            self.question_input.focus()

    def action_toggle_source_full(self) -> None:
        self._source_full = not self._source_full
        self._layout_source()
        self.call_after_refresh(self.source_panel.scroll_to_passage)  # the text rewrapped: find it again

    def action_leave(self) -> None:
        if self.source_panel.has_class("open"):
            self.action_close_source()
        else:
            self.question_input.focus()

    # ---- conversation actions -----------------------------------------------------------------------

    def action_new_topic(self) -> None:
        self._request_id += 1  # answers still on their way belong to the old topic
        self.conversation.clear()
        self.answers.clear()
        self.selected = None
        for widget in self.query("#conversation > *"):
            if widget.id != "welcome":
                widget.remove()
        self.query_one("#welcome").display = True
        self.source_panel.remove_class("open")
        self._layout_source()
        self.status.set(timings={}, state="")
        self.question_input.focus()
        self.notify("New topic: the conversation was cleared.")

    def action_copy_citation(self) -> None:
        evidence = self.selected_evidence()
        if evidence is None:
            self.notify("No citation to copy yet: ask a question first.", severity="warning")
            return
        self.copy_to_clipboard(citation_line(evidence))
        self.notify(f"Copied {safe_line(evidence.citation.location())}", title="Citation copied", markup=False)

    def action_export(self) -> None:
        if not self.answers:
            self.notify("Nothing to export yet: ask a question first.", severity="warning")
            return
        try:
            path = write_export(self.answers, self.clock())
        except OSError as exc:
            self.notify(f"Cannot write the export: {exc}", severity="error", markup=False)
            return
        self.last_export: Path = path
        self._keep_in_history(report=True)  # kept after each answer already; saved again in case that failed
        saved = f" (history #{self.last_saved_id})" if self.last_saved_id is not None else ""
        self.notify(safe_line(str(path)) + saved, title="Conversation exported", markup=False, timeout=8)

    def _keep_in_history(self, report: bool = False) -> None:
        """Every answered turn is kept in the local history (Ctrl+R reopens the conversation later); a
        history that cannot be written is reported once (each time when `report`: the user asked for it),
        and the conversation goes on."""
        failure = self._save()
        if failure is not None and self._recover_history():
            self.conversation.saved_id = None  # its id was the damaged file's
            failure = self._save()
        if failure is None:
            return
        self.last_saved_id = None
        if report or not self._history_failed:
            self._history_failed = True
            self.notify(safe_line(str(failure)), title="Not kept in the history", severity="warning", markup=False)

    def _save(self) -> QAError | None:
        """Save the conversation in the history: None, or why it could not be saved."""
        try:
            self.last_saved_id = save_conversation(self.conversation)
        except QAError as exc:
            return exc
        return None

    def _recover_history(self) -> bool:
        """A damaged history is moved aside (kept) and a new one started: whether that was done, and said."""
        try:
            aside = recover_history()
        except QAError as exc:
            self.notify(safe_line(str(exc)), title="Cannot recover the history", severity="error", markup=False)
            return False
        if aside is not None:
            self.notify(
                f"It is kept as {safe_line(str(aside))}; a new history is started.",
                title="The conversation history was damaged",
                severity="warning",
                markup=False,
                timeout=10,
            )
        return aside is not None

    def action_reopen(self) -> None:
        """Choose a saved conversation (most recent first) to reopen: its turns are shown again and
        follow-ups continue it."""
        try:
            saved = list_conversations()
        except QAError as exc:
            if not self._recover_history():
                self.notify(safe_line(str(exc)), title="Cannot read the history", severity="error", markup=False)
                return
            saved = []
        if not saved:
            self.notify("No saved conversation yet: each answered question is kept here.", severity="warning")
            return
        corpus = self.engine.corpus if self.engine is not None else None
        self.push_screen(HistoryScreen(saved, self._delete_saved, corpus), self._reopen)

    def _delete_saved(self, conversation_id: int) -> None:
        try:
            delete_conversation(conversation_id)
        except QAError as exc:
            self.notify(safe_line(str(exc)), title="Not deleted", severity="error", markup=False)
            return
        if self.conversation.saved_id == conversation_id:
            self.conversation.saved_id = None  # saving it again makes a new entry

    def _reopen(self, chosen: SavedConversation | None) -> None:
        if chosen is None:
            return
        try:
            conversation = load_conversation(chosen.id)
        except QAError as exc:
            self.notify(safe_line(str(exc)), title="Cannot reopen", severity="error", markup=False)
            return
        self.action_new_topic()
        self.conversation = conversation
        self.answers = list(conversation.turns)
        self.query_one("#welcome").display = False
        for answer in conversation.turns:
            self._request_id += 1
            self.conversation_view.mount(QuestionBubble(answer.question, self._request_id))
            self.conversation_view.mount(AnswerCard(answer, self._request_id))
        self.conversation_view.scroll_end(animate=False)
        self.notify(f"Reopened: {safe_line(chosen.title)} ({len(conversation.turns)} turns)", markup=False)
        if chosen.asked_over_another(self.engine.corpus if self.engine is not None else None):
            self.notify(
                f"It was asked over {safe_line(str(chosen.corpus))}: its citations point there, and the next "
                "question starts a new topic.",
                title="Another corpus",
                severity="warning",
                markup=False,
                timeout=10,
            )

    def action_cycle_mode(self) -> None:
        self.set_mode(MODES[(MODES.index(self.mode) + 1) % len(MODES)])

    def set_mode(self, mode: Mode) -> None:
        self.mode = mode
        self.status.set(mode=mode)
        self.notify(f"Retrieval mode: {mode} (applies to the next question)")

    def action_top_k(self, step: int) -> None:
        self.top_k = min(MAX_TOP_K, max(1, self.top_k + step))
        self.status.set(top_k=self.top_k)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("New topic", "Clear the conversation (Ctrl+N)", self.action_new_topic)
        yield SystemCommand("Copy citation", "Copy the selected citation (Ctrl+Y)", self.action_copy_citation)
        yield SystemCommand("Open source", "Open the selected passage's document (Ctrl+O)", self.action_open_selected)
        yield SystemCommand("Export conversation", "Save it as Markdown (Ctrl+S)", self.action_export)
        yield SystemCommand("Reopen conversation", "Choose a saved conversation to reopen (Ctrl+R)", self.action_reopen)
        for mode in MODES:
            yield SystemCommand(f"Mode: {mode}", f"Retrieve with {mode} (F2 cycles)", lambda m=mode: self.set_mode(m))
        yield SystemCommand("More passages", "top-k + 1 (F4)", lambda: self.action_top_k(1))
        yield SystemCommand("Fewer passages", "top-k - 1 (F3)", lambda: self.action_top_k(-1))
        yield SystemCommand("Help", "List the keys (F1)", self.action_help)


def run(args: argparse.Namespace) -> int:
    """Entry point from `qa` with no questions: open the app over the corpus of `args`."""
    engines: list[QAEngine] = []

    def factory(reporter: BuildReporter) -> QAEngine:
        engine = open_engine(args.corpus, args.index_dir, args.model, reporter, rebuild=args.rebuild)
        engines.append(engine)
        engine.warm_up()  # still in the start-up thread: the first question gets an answer as fast as the rest
        return engine

    app = QAApp(engine_factory=factory, mode=args.mode, top_k=args.top_k)
    try:
        app.run()
    finally:
        # the app's engine: the one opened at start-up, or the one that replaced it (closed then) when files
        # changed; none yet when the app was quit before the start-up engine reached it
        for engine in [app.engine] if app.engine is not None else engines:
            engine.close()
    if app.loading and not engines:
        # Quit while the index was still being built: do not wait for the build thread. The builder
        # writes into a temporary folder and publishes atomically, so nothing half-written is left live.
        print("qa: quit before the index was ready; it will be built on the next start", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(0)
    return 1 if app.startup_error else (app.return_code or 0)
