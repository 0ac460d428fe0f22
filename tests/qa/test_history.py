from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from conversation_helpers import COORDINATED, DEPOT, answer

from qa.conversation import Conversation
from qa.export import conversation_markdown
from qa.history import (
    HistoryError,
    answer_from_json,
    delete_conversation,
    find_conversation,
    history_path,
    list_conversations,
    load_conversation,
    recover_history,
    save_conversation,
)
from qa.types import Sentence


def _conversation() -> Conversation:
    conversation = Conversation()
    conversation.add(
        answer("Who struck the weapons depot in Idlib?", [("seeds/a.txt", 1, DEPOT), ("seeds/b.txt", 8, COORDINATED)])
    )
    conversation.add(answer("Was it coordinated with anyone?", [("seeds/a.txt", 8, COORDINATED)], follow_up=True))
    conversation.add(
        answer("How many people live in Idlib?", [("seeds/b.txt", 4, "Four million people live there.")]),
        starts_topic=True,
    )
    conversation.add(answer("Who controls it?", [("seeds/b.txt", 8, "HTS holds half of it.")], follow_up=True))
    return conversation


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QA_HOME", str(tmp_path / "qa-home"))
    return tmp_path / "qa-home"


def test_answer_json_round_trip() -> None:
    original = _conversation().turns[0]
    restored = answer_from_json(original.to_json())
    assert restored.to_json() == original.to_json()
    with_heading = replace(original, passages=(replace(original.passages[0], heading_terms=("dentist",)),))
    assert answer_from_json(with_heading.to_json()).passages[0].heading_terms == ("dentist",)
    follow_up = replace(original, passages=(replace(original.passages[0], context_ranks=(3, None)),))
    assert answer_from_json(follow_up.to_json()).passages[0].context_ranks == (3, None)
    assert "context_ranks" not in original.passages[0].to_json()  # a question searched alone keeps its shape
    inside = replace(
        original, context_reason="it names what the topic's document never mentions (putin)", new_topic=True
    )
    restored_inside = answer_from_json(inside.to_json())
    assert (restored_inside.context_reason, restored_inside.new_topic) == (inside.context_reason, True)
    assert restored_inside.context_line() == "new topic: it names what the topic's document never mentions (putin)"
    assert "*Context:* new topic: it names" in conversation_markdown([inside])
    assert "context_reason" not in original.to_json() and original.context_line() is None


def test_a_passage_s_section_and_copies_survive_the_round_trip_and_the_export() -> None:
    # Before: a reopened conversation lost each passage's section (its heading in the card and the export)
    original = _conversation().turns[0]
    first = original.passages[0]
    copy = replace(first.citation, path="seeds/copy.txt", abs_path="/corpus/seeds/copy.txt", line_start=40, line_end=41)
    shown = replace(first, citation=replace(first.citation, section="Strikes"), also_in=(copy,))
    turn = replace(original, passages=(shown, *original.passages[1:]))
    restored = answer_from_json(turn.to_json())
    assert restored.passages[0].citation.section == "Strikes"
    assert restored.passages[0].also_in == (copy,)
    assert restored.to_json() == turn.to_json()
    assert "*The same text is also in:* `seeds/copy.txt:40-41 (¶1)`" in conversation_markdown([turn])


def test_a_table_row_answer_keeps_its_header_row_in_the_round_trip_and_the_export() -> None:
    original = _conversation().turns[0]
    first = original.passages[0]
    start = first.citation.char_start
    header = Sentence("| Region | Revenue |", start, start + 20)
    row = Sentence("| East | 15.9 |", start + 34, start + 49, header)
    assert original.answer is not None
    turn = replace(
        original,
        passages=(replace(first, answer_sentence=row), *original.passages[1:]),
        answer=replace(original.answer, text=row.text, char_start=row.char_start, char_end=row.char_end, header=header),
    )
    data = turn.to_json()
    assert data["answer"]["table_header"] == {"text": header.text, "char_start": start, "char_end": start + 20}
    restored = answer_from_json(data)
    assert restored.answer == turn.answer and restored.passages[0].answer_sentence == row
    assert restored.to_json() == data
    assert "| Region | Revenue |\n|---|---|\n| East | 15.9 |\n" in conversation_markdown([turn])


def test_save_list_reopen_round_trip(home: Path) -> None:
    conversation = _conversation()
    saved = save_conversation(conversation)
    assert history_path() == home / "history.sqlite" and history_path().is_file()
    assert conversation.saved_id == saved
    listed = list_conversations()
    assert [(c.id, c.title, c.turns) for c in listed] == [(saved, "Who struck the weapons depot in Idlib?", 4)]

    reopened = load_conversation(saved)
    assert [t.to_json() for t in reopened.turns] == [t.to_json() for t in conversation.turns]
    assert reopened.topic_start == conversation.topic_start == 2
    assert reopened.context("And the rest?") == conversation.context("And the rest?")
    assert reopened.saved_id == saved


def test_saving_again_updates_the_same_conversation(home: Path) -> None:
    conversation = _conversation()
    first = save_conversation(conversation)
    conversation.add(answer("Since when?", [("seeds/b.txt", 9, "Since 2015.")], follow_up=True))
    assert save_conversation(conversation, title="Idlib") == first
    (only,) = list_conversations()
    assert (only.id, only.title, only.turns) == (first, "Idlib", 5)
    other = Conversation()
    other.add(answer("What did Lavrov say?", [("seeds/c.txt", 11, "Ready for contact.")]))
    second = save_conversation(other)
    assert second != first
    assert [c.id for c in list_conversations()] == [second, first]
    assert delete_conversation(first) and not delete_conversation(first)
    assert [c.id for c in list_conversations()] == [second]


def test_history_survives_a_new_process_view(home: Path) -> None:
    saved = save_conversation(_conversation())
    # another connection (as another process would open it) sees the committed conversation whole
    with sqlite3.connect(history_path()) as connection:
        assert connection.execute("SELECT count(*) FROM turns WHERE conversation = ?", (saved,)).fetchone() == (4,)


def test_refusals(home: Path) -> None:
    with pytest.raises(HistoryError, match="no turns"):
        save_conversation(Conversation())
    with pytest.raises(HistoryError, match="no saved conversation"):
        load_conversation(42)
    history_path().write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match="damaged"):
        list_conversations()


def test_a_damaged_history_is_moved_aside_whole_and_a_new_one_started(home: Path) -> None:
    # Before: a damaged file refused every save and listing ("damaged or locked?") until the user removed it
    assert recover_history() is None  # no history yet
    saved = save_conversation(_conversation())
    assert recover_history() is None and [c.id for c in list_conversations()] == [saved]  # a sound one stays
    damaged = b"this is not a database" * 100
    history_path().write_bytes(damaged)
    aside = recover_history()
    assert aside is not None and aside.parent == home and aside.name.startswith("history.damaged-")
    assert aside.read_bytes() == damaged and not history_path().exists()  # kept whole, under another name
    assert list_conversations() == [] and save_conversation(_conversation()) == 1  # a new history

    # a history cut short (a disk filled up, a copy interrupted) is damaged too, and kept beside the first
    whole = history_path().read_bytes()
    history_path().write_bytes(whole[: len(whole) // 2])
    second = recover_history()
    assert second is not None and second != aside and second.read_bytes() == whole[: len(whole) // 2]


def test_a_locked_history_is_not_taken_for_a_damaged_one(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.history

    save_conversation(_conversation())
    monkeypatch.setattr(qa.history, "RECOVER_CHECK_TIMEOUT", 0.1)
    other = sqlite3.connect(history_path(), isolation_level=None)  # another process, in the middle of a write
    try:
        other.execute("BEGIN EXCLUSIVE")
        assert recover_history() is None
    finally:
        other.close()
    assert history_path().is_file() and len(list_conversations()) == 1


def test_failed_save_leaves_the_previous_version(home: Path) -> None:
    conversation = _conversation()
    saved = save_conversation(conversation)
    conversation.add(answer("Since when?", [("seeds/b.txt", 9, "Since 2015.")], follow_up=True))
    # a value SQLite cannot bind fails the save half-way, after the old turns were deleted
    object.__setattr__(conversation.turns[-1], "question", ["not", "text"])
    with pytest.raises(HistoryError):
        save_conversation(conversation)
    reopened = load_conversation(saved)
    assert [t.question for t in reopened.turns] == [t.question for t in conversation.turns[:4]]


def test_a_conversation_remembers_the_corpus_it_was_asked_over(home: Path) -> None:
    conversation = _conversation()
    conversation.corpus = "/corpora/news"
    saved = save_conversation(conversation)
    (listed,) = list_conversations()
    assert listed.corpus == "/corpora/news"
    assert listed.asked_over_another("/corpora/notes") and not listed.asked_over_another("/corpora/news")
    assert not listed.asked_over_another(None)  # unknown: nothing to tell
    assert find_conversation(None) == listed == find_conversation(saved)
    with pytest.raises(HistoryError, match="no saved conversation with id 99"):
        find_conversation(99)

    reopened = load_conversation(saved)
    assert reopened.corpus == "/corpora/news" and reopened.context("Who controls it?") is not None
    reopened.asked_over("/corpora/notes")  # asked over another corpus: its topic lends nothing
    assert reopened.context("Who controls it?") is None and reopened.corpus == "/corpora/notes"
    reopened.add(answer("What is on Tuesday?", [("notes/week.txt", 1, "Dentist at 3pm.")]))
    save_conversation(reopened)  # saved again under the corpus of its latest turns
    assert [(c.id, c.corpus, c.turns) for c in list_conversations()] == [(saved, "/corpora/notes", 5)]


def test_a_history_of_schema_version_1_is_read_and_kept(home: Path) -> None:
    home.mkdir(parents=True)
    with sqlite3.connect(history_path()) as connection:  # as corpus-qa wrote it before the corpus column
        connection.executescript(
            "CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, "
            "created REAL NOT NULL, updated REAL NOT NULL);"
            "CREATE TABLE turns (conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE, "
            "position INTEGER NOT NULL, question TEXT NOT NULL, answer_json TEXT NOT NULL, "
            "PRIMARY KEY (conversation, position));"
            "PRAGMA user_version = 1;"
        )
        turn = _conversation().turns[0]
        connection.execute("INSERT INTO conversations (title, created, updated) VALUES ('Old', 1.0, 2.0)")
        connection.execute(
            "INSERT INTO turns VALUES (1, 0, ?, ?)", (turn.question, json.dumps(turn.to_json(), sort_keys=True))
        )
    (old,) = list_conversations()
    assert (old.id, old.title, old.turns, old.corpus) == (1, "Old", 1, None)
    reopened = load_conversation(1)
    assert reopened.corpus is None and [t.question for t in reopened.turns] == [turn.question]
    reopened.asked_over("/corpora/news")  # unknown before: the topic carries on
    assert reopened.context("Was it coordinated with anyone?") is not None
    save_conversation(reopened)
    assert list_conversations()[0].corpus == "/corpora/news"
    with sqlite3.connect(history_path()) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (2,)


def test_markdown_export_has_citations() -> None:
    conversation = _conversation()
    text = conversation_markdown(conversation.turns)
    assert text.startswith("# Who struck the weapons depot in Idlib?\n")
    assert "## 2. Was it coordinated with anyone?" in text
    assert "*Searched for:* Was it coordinated with anyone? [+ context: x]" in text
    assert "Source: `seeds/a.txt:1 (¶1)`" in text
    assert "1. `seeds/a.txt:8 (¶8)` · `seeds/a.txt#p8`" in text  # no title: the citation alone
    assert "> Russia said the Wednesday attack was coordinated with Turkey." in text


def test_markdown_export_escapes_corpus_text() -> None:
    conversation = Conversation()
    conversation.add(answer("What?", [("seeds/x.txt", 1, "# Heading\x1b[2J\nline two")]))
    text = conversation_markdown(conversation.turns, title="Export")
    assert "\x1b" not in text and "\\x1b[2J" in text
    assert "> # Heading" in text  # quoted: cannot become a heading of the export


def test_markdown_export_names_each_passage_by_its_title_as_plain_text() -> None:
    conversation = Conversation()
    turn = answer("What?", [("seeds/x.txt", 1, "Some text.")])
    evidence = turn.passages[0]
    titled = replace(evidence, citation=replace(evidence.citation, title="Strikes *in* [Idlib](http://x) #1"))
    conversation.add(replace(turn, passages=(titled,)))
    text = conversation_markdown(conversation.turns)
    assert "1. **Strikes \\*in\\* \\[Idlib\\]\\(http://x\\) #1** — `seeds/x.txt:1 (¶1)` · `seeds/x.txt#p1`" in text


def test_an_answer_sentence_over_several_lines_is_shown_on_one_line() -> None:
    from qa.render import render_answer
    from tui.emphasis import plain

    listed = answer("What do I need?", [("notes/todo.txt", 2, "- eggs\n- oat milk\n\t- basil \x1b[2J")])
    rendered = render_answer(listed, width=200)
    assert "A: - eggs - oat milk - basil \\x1b[2J" in rendered and "\\n" not in rendered
    assert "**Answer:** - eggs - oat milk - basil \\x1b[2J [1]" in conversation_markdown([listed])
    assert plain(listed.answer.text, one_line=True).plain == "- eggs - oat milk - basil \\x1b[2J"  # type: ignore[union-attr]


def test_a_code_passage_is_exported_as_a_code_block_nothing_inside_can_close() -> None:
    # quoted, "> ```sh ..." would open a code block and hide the passage
    code = "```sh\nls | grep x\n\n````\n# not a heading\n```"
    text = conversation_markdown([answer("How do I list files?", [("notes/shell.md", 3, code)])])
    assert "   `````\n   ```sh\n   ls | grep x\n\n   ````\n   # not a heading\n   ```\n   `````\n" in text


def test_a_word_typeset_across_lines_is_exported_whole() -> None:
    # a manual page hyphenates "maximum" across a line end with U+2010: quoted, the export joins it
    page = "47     Too many redirects. When following redirects, curl hit the maxi\u2010\n              mum amount."
    text = conversation_markdown([answer("What is exit code 47?", [("man/curl.txt", 5873, page)])])
    assert "> 47 Too many redirects. When following redirects, curl hit the maximum amount." in text
