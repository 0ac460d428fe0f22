"""Saved conversations: a local SQLite file under the state dir (`$QA_HOME` or the user cache dir).

    <state dir>/history.sqlite
      conversations(id, title, created, updated, corpus)
      turns(conversation, position, question, answer_json)   -- `Answer.to_json()`, no pickle

Every save is one SQLite transaction (the old version or the new one, whole). A damaged file is moved
aside, kept, and a new history started (`recover_history`: the command line and the TUI say where it went).
Reopening rebuilds the `Answer` of each turn from its JSON, and the conversation's current topic from the
turns' `follow_up` flags, so that the next question can follow up on the reopened conversation. `corpus`
names the corpus the latest turns were asked over (`DocumentSource.identity`, NULL when unknown: saved by
schema version 1): reopened over another corpus, a conversation's citations point elsewhere and its topic
lends nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import QAError
from index.store import default_state_dir
from qa.conversation import Conversation
from qa.types import MODES, Answer, AnswerText, Citation, Evidence, Sentence

HISTORY_FILE = "history.sqlite"
SCHEMA_VERSION = 2  # 2: conversations.corpus
TITLE_MAX_CHARS = 80
RECOVER_CHECK_TIMEOUT = 2.0  # seconds `recover_history` waits for another process's save (a few ms) to end

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    corpus TEXT
);
CREATE TABLE IF NOT EXISTS turns (
    conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, question TEXT NOT NULL, answer_json TEXT NOT NULL,
    PRIMARY KEY (conversation, position)
);
"""


class HistoryError(QAError):
    """The conversation history cannot be read or written (damaged file, unknown conversation)."""


@dataclass(frozen=True)
class SavedConversation:
    """One line of the history list."""

    id: int
    title: str
    created: float  # seconds since the epoch
    updated: float
    turns: int
    corpus: str | None = None  # the corpus its latest turns were asked over (None: unknown)

    def asked_over_another(self, corpus: str | None) -> bool:
        """Whether it was saved over a corpus known to differ from `corpus`."""
        return self.corpus is not None and corpus is not None and self.corpus != corpus


def history_path(state_dir: Path | None = None) -> Path:
    return (state_dir or default_state_dir()) / HISTORY_FILE


def recover_history(path: Path | None = None) -> Path | None:
    """Move a damaged history file aside, so that a new one can be started: kept whole, never deleted, next
    to it as `history.damaged-<time>.sqlite` (with its journal, if any). Returns where it went; None when the
    history is sound, absent, or cannot be checked now (locked by another process, unreadable)."""
    target = path or history_path()
    if not target.is_file():
        return None
    try:
        connection = sqlite3.connect(target, timeout=RECOVER_CHECK_TIMEOUT)
        try:
            sound = [row[0] for row in connection.execute("PRAGMA quick_check")] == ["ok"]
        finally:
            connection.close()
    except sqlite3.OperationalError:  # locked, or cannot be opened: not known to be damaged
        return None
    except sqlite3.DatabaseError:  # not a database, or its pages are malformed
        sound = False
    if sound:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = target.with_name(f"{target.stem}.damaged-{stamp}{target.suffix}")
    for n in range(2, 1000):
        if not aside.exists():
            break
        aside = target.with_name(f"{target.stem}.damaged-{stamp}-{n}{target.suffix}")
    try:
        for suffix in ("-journal", "-wal"):  # SQLite's files beside it go with it
            beside = target.with_name(target.name + suffix)
            if beside.exists():
                os.replace(beside, aside.with_name(aside.name + suffix))
        os.replace(target, aside)
    except OSError as exc:
        raise HistoryError(f"the conversation history {target} is damaged and cannot be moved aside: {exc}") from None
    return aside


@contextmanager
def _connect(path: Path | None) -> Iterator[sqlite3.Connection]:
    target = path or history_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(target, timeout=10)
    except (OSError, sqlite3.Error) as exc:
        raise HistoryError(f"cannot open the conversation history {target}: {exc}") from None
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = FULL")
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise HistoryError(f"the conversation history {target} was written by a newer corpus-qa (v{version})")
        if version < SCHEMA_VERSION:
            with connection:
                connection.executescript(_SCHEMA)
                _add_corpus_column(connection)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        yield connection
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"cannot use the conversation history {target} (damaged or locked?): {exc}") from None
    finally:
        connection.close()


def _add_corpus_column(connection: sqlite3.Connection) -> None:
    """Schema version 1 -> 2; another process doing the same at the same moment is not an error."""
    columns = {str(row[1]) for row in connection.execute("PRAGMA table_info(conversations)")}
    if "corpus" in columns:
        return
    try:
        connection.execute("ALTER TABLE conversations ADD COLUMN corpus TEXT")
    except sqlite3.OperationalError:
        if "corpus" not in {str(row[1]) for row in connection.execute("PRAGMA table_info(conversations)")}:
            raise


def save_conversation(conversation: Conversation, title: str | None = None, path: Path | None = None) -> int:
    """Save (or update, if it was saved or reopened before) `conversation`, with the corpus its latest turns
    were asked over (`Conversation.corpus`); returns its id.

    The id is also stored in `conversation.saved_id`, so saving again after more turns updates it.
    """
    if not conversation.turns:
        raise HistoryError("nothing to save: the conversation has no turns")
    now = time.time()
    name = title or conversation.turns[0].question
    name = " ".join(name.split())[:TITLE_MAX_CHARS]
    rows = [
        (position, turn.question, json.dumps(turn.to_json(), ensure_ascii=False, sort_keys=True))
        for position, turn in enumerate(conversation.turns)
    ]
    with _connect(path) as connection, connection:
        saved_id = conversation.saved_id
        if (
            saved_id is not None
            and connection.execute("SELECT 1 FROM conversations WHERE id = ?", (saved_id,)).fetchone()
        ):
            connection.execute(
                "UPDATE conversations SET updated = ?, title = coalesce(?, title), corpus = coalesce(?, corpus) "
                "WHERE id = ?",
                (now, None if title is None else name, conversation.corpus, saved_id),
            )
            connection.execute("DELETE FROM turns WHERE conversation = ?", (saved_id,))
        else:
            cursor = connection.execute(
                "INSERT INTO conversations (title, created, updated, corpus) VALUES (?, ?, ?, ?)",
                (name, now, now, conversation.corpus),
            )
            saved_id = int(cursor.lastrowid or 0)
        stored_id = int(saved_id)
        connection.executemany(
            "INSERT INTO turns (conversation, position, question, answer_json) VALUES (?, ?, ?, ?)",
            [(stored_id, *row) for row in rows],
        )
    conversation.saved_id = stored_id
    return stored_id


def list_conversations(path: Path | None = None) -> list[SavedConversation]:
    """Saved conversations, most recently updated first (ties: newest id first)."""
    with _connect(path) as connection:
        cursor = connection.execute(
            "SELECT c.id, c.title, c.created, c.updated, count(t.position), c.corpus FROM conversations c "
            "LEFT JOIN turns t ON t.conversation = c.id GROUP BY c.id ORDER BY c.updated DESC, c.id DESC"
        )
        return [
            SavedConversation(int(i), str(t), float(c), float(u), int(n), None if k is None else str(k))
            for i, t, c, u, n, k in cursor
        ]


def find_conversation(conversation_id: int | None, path: Path | None = None) -> SavedConversation:
    """The saved conversation `conversation_id`, or the most recently updated one (None)."""
    saved = list_conversations(path)
    if not saved:
        raise HistoryError("no saved conversation yet")
    if conversation_id is None:
        return saved[0]
    for entry in saved:
        if entry.id == conversation_id:
            return entry
    raise HistoryError(f"no saved conversation with id {conversation_id}")


def load_conversation(conversation_id: int, path: Path | None = None) -> Conversation:
    """Reopen a saved conversation: its turns and its current topic, ready for the next follow-up."""
    with _connect(path) as connection:
        found = connection.execute("SELECT corpus FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        if found is None:
            raise HistoryError(f"no saved conversation with id {conversation_id}")
        corpus = None if found[0] is None else str(found[0])
        cursor = connection.execute(
            "SELECT answer_json FROM turns WHERE conversation = ? ORDER BY position", (conversation_id,)
        )
        stored = [str(r[0]) for r in cursor]
    conversation = Conversation(saved_id=conversation_id, corpus=corpus)
    for number, text in enumerate(stored, start=1):
        try:
            answer = answer_from_json(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise HistoryError(f"saved conversation {conversation_id}, turn {number} is damaged: {exc}") from None
        conversation.add(answer, starts_topic=not answer.follow_up)
    return conversation


def delete_conversation(conversation_id: int, path: Path | None = None) -> bool:
    """Remove a saved conversation; False if there was none with that id."""
    with _connect(path) as connection, connection:
        cursor = connection.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        return cursor.rowcount > 0


def answer_from_json(data: dict[str, Any]) -> Answer:
    """The inverse of `Answer.to_json()` (term highlight spans are not stored and come back empty)."""
    mode = data["mode"]
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    verdict = data["verdict"]
    if verdict not in ("answered", "no_credible_evidence"):
        raise ValueError(f"unknown verdict {verdict!r}")
    raw_answer = data.get("answer")
    answer = (
        None
        if raw_answer is None
        else AnswerText(
            str(raw_answer["text"]),
            int(raw_answer["passage"]),
            int(raw_answer["char_start"]),
            int(raw_answer["char_end"]),
            _optional_sentence(raw_answer.get("table_header")),
        )
    )
    return Answer(
        question=str(data["question"]),
        retrieval_query=str(data.get("retrieval_query", data["question"])),
        mode=mode,
        top_k=int(data["top_k"]),
        verdict=verdict,
        reason=str(data.get("reason", "")),
        answer=answer,
        passages=tuple(_evidence_from_json(p) for p in data.get("passages", [])),
        timings_ms={str(k): float(v) for k, v in dict(data.get("timings_ms", {})).items()},
        follow_up=bool(data.get("follow_up", False)),
        context_reason=None if data.get("context_reason") is None else str(data["context_reason"]),
        new_topic=bool(data.get("new_topic", False)),
    )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _citation_from_json(data: dict[str, Any]) -> Citation:
    return Citation(
        path=str(data["path"]),
        abs_path=str(data["file"]),
        title=str(data.get("title", "")),
        paragraph=int(data["paragraph"]),
        window=int(data.get("window", 0)),
        line_start=int(data["line_start"]),
        line_end=int(data["line_end"]),
        char_start=int(data["char_start"]),
        char_end=int(data["char_end"]),
        section=str(data.get("section") or ""),
    )


def _sentence_from_json(data: dict[str, Any]) -> Sentence:
    return Sentence(
        str(data["text"]), int(data["char_start"]), int(data["char_end"]), _optional_sentence(data.get("table_header"))
    )


def _optional_sentence(data: Any) -> Sentence | None:
    return None if data is None else _sentence_from_json(data)


def _evidence_from_json(data: dict[str, Any]) -> Evidence:
    return Evidence(
        rank=int(data["rank"]),
        id=str(data["id"]),
        citation=_citation_from_json(data),
        text=str(data["text"]),
        score=float(data["score"]),
        bm25_rank=_optional_int(data.get("bm25_rank")),
        bm25_score=_optional_float(data.get("bm25_score")),
        dense_rank=_optional_int(data.get("dense_rank")),
        dense_score=_optional_float(data.get("dense_score")),
        answer_sentence=_sentence_from_json(data["answer_sentence"]),
        matched_terms=tuple(str(t) for t in data.get("matched_terms", [])),
        term_spans=(),
        heading_terms=tuple(str(t) for t in data.get("heading_terms", [])),
        also_in=tuple(_citation_from_json(c) for c in data.get("also_in", [])),
        context_ranks=_context_ranks_from_json(data.get("context_ranks")),
    )


def _context_ranks_from_json(data: Any) -> tuple[int | None, int | None] | None:
    if not isinstance(data, dict):
        return None
    return _optional_int(data.get("bm25_rank")), _optional_int(data.get("dense_rank"))
