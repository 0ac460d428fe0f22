"""End-to-end `qa` in a subprocess: text and JSON output, batches, errors, import boundaries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "data" / "golden"
QUESTION = "Who owned the weapons depot that Russian jets struck in Idlib?"


@pytest.fixture
def env(seeds_index_dir: Path, tmp_path: Path) -> dict[str, str]:
    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    return {
        **os.environ,
        "QA_HOME": str(tmp_path / "home"),
        "QA_INDEX_DIR": str(index_dir),
        "PYTHONPATH": str(REPO),
        "NO_COLOR": "1",
    }


def qa(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        cwd=REPO,
        timeout=300,
    )


def test_ask_prints_answer_and_numbered_citations(env: dict[str, str]) -> None:
    result = qa("--ask", QUESTION, env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"Q: {QUESTION}\nA: ")
    for rank in range(1, 6):
        assert f"\n[{rank}] " in out
    assert "seeds/00" in out and ".txt:" in out and "(¶" in out
    assert "**" in out  # the answer sentence is emphasised (Markdown when not a terminal)
    assert "Traceback" not in result.stderr
    again = qa("--ask", QUESTION, env=env)
    assert again.stdout == out  # byte-identical on the same index


def test_json_schema(env: dict[str, str]) -> None:
    result = qa("--ask", QUESTION, "--json", "--top-k", "3", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["question"] == QUESTION and data["mode"] == "hybrid" and data["top_k"] == 3
    assert set(data["answer"]) >= {"text", "passage"}
    assert len(data["passages"]) == 3
    required = {
        "rank",
        "id",
        "path",
        "title",
        "paragraph",
        "line_start",
        "line_end",
        "char_start",
        "char_end",
        "text",
        "score",
        "bm25_rank",
        "dense_rank",
        "answer_sentence",
        "matched_terms",
    }
    for passage in data["passages"]:
        assert required <= set(passage)
        assert set(passage["answer_sentence"]) == {"text", "char_start", "char_end"}
    assert set(data["timings_ms"]) >= {"embed", "bm25", "dense", "fuse", "answer", "total"}


def test_no_credible_answer_is_null_in_json(env: dict[str, str]) -> None:
    data = json.loads(qa("--ask", "What is the capital of France?", "--json", env=env).stdout)
    assert data["answer"] is None and data["verdict"] == "no_credible_evidence" and data["passages"]
    text = qa("--ask", "What is the capital of France?", env=env).stdout
    assert "No good evidence" in text


def test_questions_file_and_stdin(env: dict[str, str], tmp_path: Path) -> None:
    questions = tmp_path / "q.txt"
    questions.write_text("How many people live in Idlib?\n\nWho is Dmitry Peskov?\n")
    result = qa("--questions", str(questions), "--json", env=env)
    assert [json.loads(line)["question"] for line in result.stdout.splitlines()] == [
        "How many people live in Idlib?",
        "Who is Dmitry Peskov?",
    ]
    piped = qa("--questions", "-", "--json", "--mode", "bm25", env=env, stdin="Hmeimim airbase\n")
    assert json.loads(piped.stdout)["mode"] == "bm25"


def test_repeated_ask_is_one_conversation(env: dict[str, str]) -> None:
    result = qa(
        "--ask", "Who struck the weapons depot in Idlib?", "--ask", "Was it coordinated with anyone?", "--json", env=env
    )
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["retrieval_query"] == first["question"]
    assert second["retrieval_query"] != second["question"]


def test_a_saved_conversation_goes_on_in_a_later_run(env: dict[str, str], tmp_path: Path) -> None:
    # Before: each `qa --ask` run began a new conversation; a follow-up asked later had nothing to follow.
    listed = qa("--history", env=env)
    assert listed.returncode == 0 and listed.stdout == "" and "no saved conversation yet" in listed.stderr
    first = qa("--ask", "Who struck the weapons depot in Idlib?", "--save", "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert "qa: saved as conversation #1 (go on with --continue 1)" in first.stderr
    later = qa("--continue", "last", "--ask", "Was it coordinated with anyone?", "--json", env=env)
    assert later.returncode == 0, later.stderr
    answer = json.loads(later.stdout)
    assert answer["follow_up"] and "[+ context: struck weapons depot Idlib]" in answer["retrieval_query"]
    assert "coordination with Turkey" in answer["answer"]["text"]
    (saved,) = (json.loads(line) for line in qa("--history", "--json", env=env).stdout.splitlines())
    assert (saved["id"], saved["turns"], saved["title"]) == (1, 2, "Who struck the weapons depot in Idlib?")
    assert saved["corpus"] == str((REPO / "seeds").resolve())
    text = qa("--history", env=env).stdout
    assert text.startswith("#1  ") and "  2 turns  Who struck the weapons depot in Idlib?  (" in text

    # over another corpus, before any index is built for it: one clear line
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "week.txt").write_text("Dentist on Tuesday at 3pm.\n", encoding="utf-8")
    elsewhere = qa("--corpus", str(notes), "--continue", "1", "--ask", "When is it?", env=env)
    assert elsewhere.returncode == 1 and "Traceback" not in elsewhere.stderr
    assert f"error: conversation #1 was asked over {saved['corpus']}; go on with it there: --corpus" in elsewhere.stderr
    missing = qa("--continue", "7", "--ask", "When?", env=env)
    assert missing.returncode == 1 and "error: no saved conversation with id 7" in missing.stderr
    assert json.loads(qa("--history", "--json", env=env).stdout)["turns"] == 2  # nothing changed


def test_a_damaged_history_is_kept_aside_and_the_conversation_is_saved_in_a_new_one(env: dict[str, str]) -> None:
    # Before: "error: cannot use the conversation history ... (damaged or locked?)" on every --save and
    # --history, until the user found and removed the file
    home = Path(env["QA_HOME"])
    home.mkdir()
    (home / "history.sqlite").write_bytes(b"not a database " * 100)
    listed = qa("--history", env=env)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr
    (aside,) = home.glob("history.damaged-*.sqlite")
    assert f"qa: the conversation history was damaged; it is kept as {aside} and a new one is started" in listed.stderr
    assert aside.read_bytes() == b"not a database " * 100
    saved = qa("--ask", "Who struck the weapons depot in Idlib?", "--save", "--quiet", env=env)
    assert saved.returncode == 0 and "damaged" not in saved.stderr
    assert json.loads(qa("--history", "--json", env=env).stdout)["turns"] == 1


def test_a_short_question_naming_someone_the_topic_never_mentions_starts_a_new_topic(env: dict[str, str]) -> None:
    # Before: "What did Putin say?" (too few words to stand alone) carried "Free Syrian Army Sergey Lavrov" and
    # answered "No good evidence" with Lavrov's paragraph; Putin is named in another article
    questions = ["Who is Sergey Lavrov?", "What did he say about the Free Syrian Army?", "What did Putin say?"]
    questions.append("Where is Clearwater Lake?")  # named by no document: the topic's words cannot help either
    result = qa(*(arg for question in questions for arg in ("--ask", question)), "--json", env=env)
    *_, putin, lake = (json.loads(line) for line in result.stdout.splitlines())
    assert putin["retrieval_query"] == putin["question"]
    assert putin["answer"] is not None and "Vladimir Putin" in putin["answer"]["text"]
    assert lake["retrieval_query"] == lake["question"]
    assert lake["reason"].startswith("nothing in the corpus mentions 'Clearwater'")


def test_a_follow_up_without_words_of_its_own_is_answered_by_the_kind_of_thing_it_asks_for(
    env: dict[str, str],
) -> None:
    # Before: "When did it happen?" searched "happen", showed the depot story's paragraph about drones (no
    # time in it) and said "No good evidence" (0% of its key terms, a question word's embedding)
    questions = ["Who struck the weapons depot in Idlib?", "When did it happen?", "When?"]
    result = qa(*(arg for question in questions for arg in ("--ask", question)), "--json", env=env)
    first, when, bare = (json.loads(line) for line in result.stdout.splitlines())
    for answer in (when, bare):
        assert answer["follow_up"], answer["retrieval_query"]
        assert answer["passages"][0]["path"] == first["passages"][0]["path"]  # the same story
        assert answer["answer"] is not None, answer["reason"]
        assert "Wednesday" in answer["answer"]["text"]
        assert answer["reason"].startswith("a follow-up without words of its own: its sentence holds a time")


def test_since_when_is_a_follow_up_that_asks_for_a_time_and_carries_no_since(env: dict[str, str]) -> None:
    # Before: "Since when?" searched "since" and showed "... killed more than 360,000 people since 2011"; the
    # next question then carried "Since" in its context
    questions = ["Who controls Idlib?", "Since when?", "Who fled there?"]
    result = qa(*(arg for question in questions for arg in ("--ask", question)), "--json", env=env)
    first, since, fled = (json.loads(line) for line in result.stdout.splitlines())
    assert since["follow_up"] and since["context_reason"] == "too vague to stand alone (no words of its own)"
    assert since["passages"][0]["path"] == first["passages"][0]["path"]
    assert "2011" in since["passages"][0]["text"] and "360,000" not in since["passages"][0]["text"]
    assert "since" not in fled["retrieval_query"].lower()


def test_where_exactly_is_answered_by_the_place_in_the_passage_just_read(env: dict[str, str]) -> None:
    # Before: "Where exactly?" searched "exact" and said "No good evidence" over "The incident comes amid a
    # spike in tensions between Damascus and Ankara"; "exactly" was also carried into the next question
    questions = ["What happened on February 20?", "Who reported it?", "Where exactly?", "How many were there?"]
    result = qa(*(arg for question in questions for arg in ("--ask", question)), "--json", env=env)
    first, _, where, many = (json.loads(line) for line in result.stdout.splitlines())
    assert where["follow_up"] and where["context_reason"] == "too vague to stand alone (no words of its own)"
    assert where["answer"] is not None, where["reason"]
    assert "in the Idlib de-escalation zone" in where["answer"]["text"]
    assert where["passages"][0]["path"] == first["passages"][0]["path"]
    assert "exactly" not in many["retrieval_query"]


def test_a_short_follow_up_without_a_referring_word_goes_where_the_contextual_search_goes(
    env: dict[str, str],
) -> None:
    # Session 23: "Who backed the militants?" (no referring word, two content words) was said to "refer back";
    # then "too short to stand alone" and kept in the latest answer's document. Over Node.js's docs (session 24)
    # "What is an EventEmitter?" after questions on streams was kept so in stream.md ("All streams are
    # instances of EventEmitter"), though the contextual search and its own found events.md, and so was "How do
    # I remove a listener?" after it. Only a follow-up that refers back is kept in the latest answer's document.
    questions = ["What did Zakharova say?", "Who backed the militants?"]
    result = qa(*(arg for question in questions for arg in ("--ask", question)), "--json", env=env)
    first, backed = (json.loads(line) for line in result.stdout.splitlines())
    assert backed["follow_up"] and backed["passages"][0]["path"] == first["passages"][0]["path"]
    assert backed["context_reason"] == "the topic's document holds 100% of the question's words"


def test_each_answer_in_a_conversation_says_how_the_context_shaped_its_search(env: dict[str, str]) -> None:
    # before: a question answered alone, or one that began a new topic, looked like any first question
    questions = [
        "Who struck the weapons depot in Idlib?",
        "Was it coordinated with anyone?",
        "How many people live in Idlib?",
        "What did Putin say?",
    ]
    result = qa(*(arg for question in questions for arg in ("--ask", question)), "--json", env=env)
    first, follow, alone, other = (json.loads(line) for line in result.stdout.splitlines())
    assert "context_reason" not in first and "new_topic" not in first  # nothing before it
    assert follow["follow_up"] and follow["context_reason"].startswith("too vague to stand alone")
    assert not alone["follow_up"] and not alone["new_topic"]
    assert alone["context_reason"] == "a complete question that finds the topic's document by itself"
    assert not other["follow_up"] and other["new_topic"]
    assert other["context_reason"] == "it names what the topic's document never mentions (Putin)"
    text = qa(*(arg for question in questions for arg in ("--ask", question)), env=env).stdout
    assert "(follow-up: too vague to stand alone" in text
    assert "(searched alone: a complete question that finds the topic's document by itself)" in text
    assert "(new topic: it names what the topic's document never mentions (Putin))" in text


def test_a_complete_question_finding_another_document_than_the_latest_answer_s_says_it_begins_a_topic(
    env: dict[str, str],
) -> None:
    # Before: "new topic: a complete question that finds the topic's document by itself", which read as if the
    # topic went on
    result = qa(
        "--ask", "Who struck the weapons depot in Idlib?", "--ask", "Was it coordinated with anyone?",
        "--ask", "How did Erdogan feel about a joint attack?", "--json", env=env,
    )  # fmt: skip
    _, latest, answer = (json.loads(line) for line in result.stdout.splitlines())
    assert not answer["follow_up"] and answer["new_topic"]
    assert answer["passages"][0]["path"] != latest["passages"][0]["path"]
    assert answer["context_reason"] == "a complete question that finds its document by itself, not the latest answer's"


def test_a_follow_up_finds_the_story_that_answers_the_whole_conversation(env: dict[str, str]) -> None:
    # Before: "At whose request?" stayed with the first answer's article, which says when Russia intervened but
    # not at whose request; the story holding a sentence for both questions is another article
    questions = ["When did Russia intervene militarily in Syria?", "At whose request?"]
    result = qa(*(arg for question in questions for arg in ("--ask", question)), "--json", env=env)
    first, request = (json.loads(line) for line in result.stdout.splitlines())
    assert request["follow_up"], request["reason"]
    assert request["answer"] is not None, request["reason"]
    assert "at the official request of the Syrian government" in request["answer"]["text"]
    # what found each passage: its ranks with the topic's context; the first question's passages have none
    assert all("context_ranks" in passage for passage in request["passages"])
    assert all("context_ranks" not in passage for passage in first["passages"])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--corpus", "/no/such/folder", "--ask", "x"], 1, "corpus folder not found"),
        (["--ask", "   "], 1, "the question is empty"),
        (["--top-k", "0", "--ask", "x"], 2, "must be between 1 and 1000"),
        (["--mode", "magic", "--ask", "x"], 2, "invalid choice"),
        (["--questions", "/no/such/file", "--ask", "x"], 1, "cannot read questions file"),
        (["--index-dir", "/proc/no-such-dir/idx", "--ask", "x"], 1, "cannot write the index"),
        (["--model", "no-such-org/no-such-model", "--ask", "x"], 1, "not in the local Hugging Face cache"),
        (["--save"], 2, "--save and --continue go with --ask"),
        (["--continue", "soon", "--ask", "x"], 2, "not a conversation id: 'soon' (a number, or 'last')"),
        (["--history", "--ask", "x"], 2, "--history lists the saved conversations"),
    ],
)
def test_user_mistakes_give_one_clear_line(env: dict[str, str], args: list[str], code: int, message: str) -> None:
    result = qa(*args, env=env)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "updating the index" not in result.stderr  # nothing is announced before the mistake is caught


def test_empty_corpus_folder_is_an_error(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    env = {**env, "QA_INDEX_DIR": str(tmp_path / "other-index")}
    result = qa("--corpus", str(tmp_path / "empty"), "--ask", "anything", env=env)
    assert result.returncode == 1 and "no text files to read" in result.stderr
    assert "Traceback" not in result.stderr


def _normalised(data: dict[str, object]) -> dict[str, object]:
    data = dict(data)
    data.pop("timings_ms")
    for passage in data["passages"]:  # type: ignore[attr-defined]
        passage.pop("file")
    return data


def _assert_same(actual: object, expected: object, path: str = "") -> None:
    """Equal, except floats (scores, cosines) which may differ in the 4th decimal across CPUs."""
    if isinstance(expected, float) or isinstance(actual, float):
        assert isinstance(actual, int | float) and isinstance(expected, int | float), path
        assert abs(actual - expected) <= 2e-3, f"{path}: {actual} != {expected}"
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), path
        for key in expected:
            _assert_same(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _assert_same(a, e, f"{path}[{i}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


GOLDEN_QUESTIONS = {
    "depot_owner": QUESTION,
    "idlib_population": "How many people live in Idlib?",
    "capital_of_france": "What is the capital of France?",
}


@pytest.mark.parametrize("name", sorted(GOLDEN_QUESTIONS))
def test_golden_json(env: dict[str, str], name: str) -> None:
    """Regenerate after an intended ranking change with: QA_UPDATE_GOLDEN=1 pytest tests/qa/test_cli.py"""
    result = qa("--ask", GOLDEN_QUESTIONS[name], "--json", env=env)
    actual = _normalised(json.loads(result.stdout))
    golden = GOLDEN / f"{name}.json"
    if os.environ.get("QA_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    _assert_same(actual, json.loads(golden.read_text(encoding="utf-8")))


def test_one_shot_path_imports_neither_torch_nor_textual(env: dict[str, str]) -> None:
    code = (
        "import sys, io, contextlib\n"
        "import qa.cli, qa.engine, index.builder\n"
        "assert 'torch' not in sys.modules and 'textual' not in sys.modules\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert qa.cli.main(['--ask', {QUESTION!r}, '--quiet']) == 0\n"
        "bad = [m for m in ('torch', 'sentence_transformers', 'textual', 'transformers') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_packages_do_not_import_upwards() -> None:
    for package, forbidden in (("index", ("qa", "tui")), ("qa", ("tui",))):
        for path in (REPO / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            for name in forbidden:
                assert f"\nfrom {name}." not in source and f"\nimport {name}" not in source, path


TRIP_NOTE = (
    "---\ntitle: Trip to Lisbon\ntags: [travel]\n---\n\n"
    "We arrived on a Thursday and took tram 28 up to the castle.\n\n"
    "On Saturday we ate grilled sardines in Alfama and walked down to the river.\n"
)
MEETING_NOTE = (
    "# Meeting 2024-03-04\n\nAttendees: Ana, Bruno, Chen.\n\n"
    "Decided to move the release to April 15 because the payment provider API changes.\n\n"
    "Bruno will update the migration scripts.\n"
)
GROCERIES_NOTE = "Groceries\n\n- eggs\n- oat milk\n- basil\n"
CODE_NOTE = (  # a code example with a blank line inside it, under the heading that says what it does
    "# File handling\n\n## Reading a file line by line\n\n```js\nconst file = await open('./notes.txt');\n\n"
    "for await (const line of file.readLines()) {\n  console.log(line);\n}\n```\n\n## Writing a file\n\n"
    "Use writeFile to replace the whole content of a file at once; it creates the file when it does not exist.\n"
)
API_REFERENCE = (  # two sections of a reference manual with the same option under each
    "# Cache reference\n\n## `cache.flush()`\n\n"
    "Writes every pending entry to disk and empties the memory buffer. Call it before the program exits.\n\n"
    "* `timeout` {number} Milliseconds to wait for the disk. **Default:** `5000`.\n* Returns: {Promise}\n\n"
    "## `cache.load()`\n\n"
    "Reads the saved entries back into memory when the program starts, in the order they were written.\n\n"
    "* `timeout` {number} Milliseconds to wait for the disk. **Default:** `1000`.\n* Returns: {Promise}\n"
)
SERVER_REFERENCE = (  # an API reference whose heading names a camelCase function
    "# Server reference\n\n## `http.createServer([options])`\n\n"
    "Returns a new instance of the server class; the listener given is added to its request event.\n\n"
    "## Event: `upgrade`\n\nEmitted each time a client asks for an upgrade of the protocol.\n"
)
SECTIONED_NOTE = (
    "# Personal notes\n\n## Dentist\n\nTuesday at 3pm with Dr. Lee, bring the insurance card.\n\n"
    "## Car\n\nThe tyres need replacing before winter, about 400 euros.\n"
)
PLAIN_MANUAL = (  # a plain-text manual laid out as vim's are: the heading names what its section is about
    "Editing guide\n\n==============================\n*10.8*\tChanging case\n\n"
    "You have text with section headers in lowercase and want one word in capitals. Do this with the "
    '"gU" operator followed by a motion, or "gu" for the opposite.\n\n'
    "==============================\n*11.1*\tBasic recovery\n\n"
    'If Vim stopped unexpectedly, start it again with the "-r" argument and the file name: the swap file '
    "gives back the edits you made.\n\n"
    "==============================\n*12.4*\tPlugins\n\n"
    'In case a plugin changes a setting you rely on, start Vim with "--clean" to skip every plugin and your '
    "vimrc.\n"
)
CHECKLIST_NOTE = (
    "# Launch checklist\n\nBefore the launch we must:\n- renew the TLS certificate of the public API\n"
    "- move the database backups to the new storage bucket\n- tell support about the pricing change\n"
)


def _notes_folder(tmp_path: Path, env: dict[str, str], files: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """A small folder of notes and the environment whose index lives beside it."""
    notes = tmp_path / "notes"
    notes.mkdir()
    for name, text in files.items():
        (notes / name).write_text(text, encoding="utf-8")
    return notes, {**env, "QA_INDEX_DIR": str(tmp_path / "notes-index")}


def _conversation(notes: Path, env: dict[str, str], *questions: str) -> list[dict[str, Any]]:
    """The --json answers to `questions` asked in one conversation over the folder `notes`."""
    asks = [arg for question in questions for arg in ("--ask", question)]
    out = qa("--corpus", str(notes), *asks, "--json", env=env).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_a_two_paragraph_note_with_front_matter_answers(env: dict[str, str], tmp_path: Path) -> None:
    # In a corpus of two passages BM25's idf of a word in one of them is 0: the question's words must still
    # count in the verdict's coverage. YAML front matter is the title, not a passage.
    notes, env = _notes_folder(tmp_path, env, {"trip.md": TRIP_NOTE})
    result = qa("--corpus", str(notes), "--ask", "Which tram did we take?", "--json", env=env)
    answer = json.loads(result.stdout)
    assert answer["verdict"] == "answered", answer["reason"]
    assert answer["answer"]["text"] == "We arrived on a Thursday and took tram 28 up to the castle."
    assert {p["title"] for p in answer["passages"]} == {"Trip to Lisbon"}
    assert all("---" not in p["text"] for p in answer["passages"])


def test_a_follow_up_that_names_nothing_is_judged_on_its_context(env: dict[str, str], tmp_path: Path) -> None:
    # "Why?" has no word of its own: the passage must hold what it follows up (before: always 0% coverage).
    notes, env = _notes_folder(tmp_path, env, {"meeting.md": MEETING_NOTE, "todo.txt": GROCERIES_NOTE})
    result = qa(
        "--corpus", str(notes), "--ask", "What was decided about the release?", "--ask", "Why?", "--json", env=env
    )
    first, why = (json.loads(line) for line in result.stdout.splitlines())
    assert first["verdict"] == "answered" and why["follow_up"]
    assert why["verdict"] == "answered", why["reason"]
    assert "because the payment provider API changes" in why["answer"]["text"]
    attendees = json.loads(qa("--corpus", str(notes), "--ask", "Who attended the meeting?", "--json", env=env).stdout)
    assert attendees["answer"]["text"] == "Attendees: Ana, Bruno, Chen."  # a short statement is searched


OFFSITE_NOTE = """# Porto offsite

The offsite is in Porto from 14 to 16 April. We stay at the Hotel Infante, near the river.

The train leaves Lisbon Santa Apolonia at 8:09 and arrives at Porto Campanha at 11:06.

Dinner on the first night is at a restaurant in Ribeira; vegetarian options were requested by Chen.
"""


def test_a_follow_up_whose_only_words_are_fillers_is_judged_on_its_context(env: dict[str, str], tmp_path: Path) -> None:
    # "How do we get there?": "get" is a filler, not a word the answer must hold (before: 0% of the question's
    # key terms, "No good evidence" over the train passage shown first)
    notes, env = _notes_folder(tmp_path, env, {"offsite.md": OFFSITE_NOTE, "todo.txt": GROCERIES_NOTE})
    asked = ("--ask", "Where is the offsite?", "--ask", "How do we get there?")
    result = qa("--corpus", str(notes), *asked, "--json", env=env)
    _, there = (json.loads(line) for line in result.stdout.splitlines())
    assert there["follow_up"] and there["verdict"] == "answered", there["reason"]
    assert there["answer"]["text"].startswith("The train leaves Lisbon")


def _answered_over_notes(
    env: dict[str, str], tmp_path: Path, note: tuple[str, str], question: str
) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """`question` asked with --json over a folder holding `note` (name, text) and the grocery list: the
    answer, which must be "answered", and the arguments and environment that ask over that folder."""
    notes, env = _notes_folder(tmp_path, env, {note[0]: note[1], "todo.txt": GROCERIES_NOTE})
    answer: dict[str, Any] = json.loads(qa("--corpus", str(notes), "--ask", question, "--json", env=env).stdout)
    assert answer["verdict"] == "answered", answer["reason"]
    return answer, ["--corpus", str(notes)], env


def test_a_plain_text_heading_is_context_for_the_passages_under_it(env: dict[str, str], tmp_path: Path) -> None:
    # The paragraph that answers never says "recover": its heading line ("*11.1* Basic recovery") does.
    # Before: the right passage first, but "no good evidence" (the question's key word was nowhere in it).
    question = "How do I recover my file?"
    answer, corpus, env = _answered_over_notes(env, tmp_path, ("manual.txt", PLAIN_MANUAL), question)
    first = answer["passages"][0]
    assert (first["title"], first["section"]) == ("Editing guide", "*11.1* Basic recovery")
    assert first["text"].startswith("If Vim stopped unexpectedly")
    text = qa(*corpus, "--ask", question, env=env).stdout
    assert "[1] Editing guide › *11.1* Basic recovery — notes/manual.txt:11 (¶5)" in text


def test_a_section_heading_counts_in_the_second_stage(env: dict[str, str], tmp_path: Path) -> None:
    # "In case a plugin changes a setting ..." holds both key words in one sentence; the "gU" paragraph holds
    # neither, but its heading says "Changing case". Before: the plugin paragraph first ("no good evidence").
    question = "How do I change case?"
    answer, _, _ = _answered_over_notes(env, tmp_path, ("manual.txt", PLAIN_MANUAL), question)
    assert answer["passages"][0]["section"] == "*10.8* Changing case"
    assert answer["answer"]["text"].startswith("You have text with section headers in lowercase")


def test_a_list_item_is_the_answer_not_the_whole_list(env: dict[str, str], tmp_path: Path) -> None:
    # Before: a list without full stops was one "sentence", so the answer was the whole checklist.
    question = "Where do the database backups go?"
    answer, corpus, env = _answered_over_notes(env, tmp_path, ("launch.md", CHECKLIST_NOTE), question)
    assert answer["answer"]["text"] == "move the database backups to the new storage bucket"
    start, end = answer["answer"]["char_start"], answer["answer"]["char_end"]
    assert CHECKLIST_NOTE[start:end] == answer["answer"]["text"]
    # the printed passage keeps one item per line
    printed = qa(*corpus, "--ask", question, "--color", "never", env=env).stdout
    assert (
        "    Before the launch we must:\n    - renew the TLS certificate of the public API\n"
        "    - **move the *database* *backups* to the new storage bucket**\n"
    ) in printed


def test_a_section_heading_is_context_for_the_passages_under_it(env: dict[str, str], tmp_path: Path) -> None:
    # "Tuesday at 3pm ..." names no dentist: its section heading does. Before: the right passage first, but
    # "no good evidence" (0% of the key terms found). The citation names the section.
    question = "When is the dentist appointment?"
    answer, corpus, env = _answered_over_notes(env, tmp_path, ("notes.md", SECTIONED_NOTE), question)
    assert answer["answer"]["text"] == "Tuesday at 3pm with Dr. Lee, bring the insurance card."
    first = answer["passages"][0]
    assert (first["title"], first["section"]) == ("Personal notes", "Dentist")
    assert [p["section"] for p in answer["passages"]] == ["Dentist", "Car"]  # the grocery list is not searched
    assert first["heading_terms"] == ["dentist"] and "heading_terms" not in answer["passages"][1]
    text = qa(*corpus, "--ask", question, env=env).stdout
    assert "[1] Personal notes › Dentist — notes/notes.md:5 (¶3)" in text
    assert "· in its heading: dentist\n" in text  # what the heading added, said


def test_a_code_example_is_one_passage_and_keeps_its_lines(env: dict[str, str], tmp_path: Path) -> None:
    # Before: the blank line cut the example in two passages, and its full stops cut its lines into
    # "sentences" that were printed on one line. Now: one passage, one line of it the answer, every line kept.
    question = "How do I read a file line by line?"
    answer, corpus, env = _answered_over_notes(env, tmp_path, ("files.md", CODE_NOTE), question)
    block = CODE_NOTE[CODE_NOTE.index("```js") : CODE_NOTE.rindex("```") + 3]
    assert answer["passages"][0]["text"] == block
    assert answer["passages"][0]["section"] == "Reading a file line by line"
    assert answer["answer"]["text"] == "for await (const line of file.readLines()) {"
    printed = qa(*corpus, "--ask", question, "--color", "never", env=env).stdout
    assert "A: for await (const line of file.readLines()) {\n" in printed
    assert (
        "    ```js\n    const *file* = await open('./notes.txt');\n"
        "    **for await (const *line* of *file*.readLines()) {**\n      console.log(*line*);\n    }\n    ```\n"
    ) in printed


def test_a_follow_up_stays_in_the_section_of_the_answer_it_follows(env: dict[str, str], tmp_path: Path) -> None:
    # Both sections have a `timeout` option; "its" is the function of the first answer's section heading.
    # Before: the heading was not carried and the passage was chosen in the whole file: `cache.load()`'s.
    notes, env = _notes_folder(tmp_path, env, {"cache.md": API_REFERENCE})
    first, follow_up = _conversation(
        notes, env, "How do I write pending entries to disk?", "What is its default timeout?"
    )
    assert first["passages"][0]["section"] == "`cache.flush()`"
    assert follow_up["follow_up"]
    assert follow_up["retrieval_query"].endswith("[+ context: write pending entries disk cache flush]")
    assert follow_up["passages"][0]["section"] == "`cache.flush()`"
    assert follow_up["answer"]["text"].startswith(
        "`timeout` {number} Milliseconds to wait for the disk. **Default:** `5000`"
    )


RELEASE_NOTES = {  # three plain-text release notes, each with the same two sections (headings over bullet lists)
    "2.22.0.txt": (
        "Backward compatibility notes\n\n * This release removes the backward compatibility shim for the "
        '"rebase.useBuiltin" setting, as the release notes of Git 2.20 announced.\n\n'
        'UI, Workflows & Features\n\n * "git branch" learned the --show-current option to print the name of '
        "the branch that is checked out.\n"
    ),
    "2.23.0.txt": (
        'Backward compatibility note\n\n * The "--base" option of "format-patch" computed the patch-ids of '
        "prerequisite patches in an unstable way, which has been corrected.\n\n"
        'UI, Workflows & Features\n\n * Two new commands "git switch" and "git restore" are introduced to '
        'split the many jobs of "git checkout" in two.\n\n * "git merge" learned the "--quit" option that '
        "cleans up the in-progress merge while leaving the working tree as it is.\n"
    ),
    "2.24.0.txt": (
        'Backward compatibility notes\n\n * The "filter-branch" command now warns that it is slow; this '
        "release keeps it only for backward compatibility with old scripts.\n\n"
        'UI, Workflows & Features\n\n * "git fetch" learned the --set-upstream option to help those who '
        "first clone from their private fork.\n"
    ),
}


def test_a_follow_up_about_that_release_stays_in_it_and_finds_the_section_it_names(
    env: dict[str, str], tmp_path: Path
) -> None:
    # "that release" is the document of the answer just read, and "backward compatibility notes" names one of
    # its sections (a short line over a list: a heading). Before: 2.22's bullet, whose text says "release" and
    # "backward compatibility", ranked first.
    files = {
        name: f"Git {name[:4]} Release Notes\n======================\n\n{text}" for name, text in RELEASE_NOTES.items()
    }
    notes, env = _notes_folder(tmp_path, env, files)
    first, follow_up = _conversation(
        notes,
        env,
        "When were git switch and git restore introduced?",
        "Were there any backward compatibility notes in that release?",
    )
    assert (first["passages"][0]["path"], first["passages"][0]["section"]) == (
        "notes/2.23.0.txt",
        "UI, Workflows & Features",
    )
    assert follow_up["follow_up"]
    # the heading every release note has ("UI, Workflows & Features") tells nothing about this one: not carried
    assert follow_up["retrieval_query"].endswith("[+ context: git switch restore introduced]")
    assert follow_up["passages"][0]["path"] == "notes/2.23.0.txt"
    assert follow_up["passages"][0]["section"] == "Backward compatibility note"
    assert follow_up["answer"]["text"].startswith('The "--base" option of "format-patch"')


MANUAL_PAGE = (  # a manual page as `man` prints it: headings over indented text, words hyphenated at line ends
    "CURL(1)                          curl Manual                         CURL(1)\n\n"
    "NAME\n       curl - transfer a URL\n\n"
    "DESCRIPTION\n       curl is a tool for transferring data from or to a server. It supports many\n"
    "       protocols: DICT, FILE, FTP, FTPS, GOPHER, HTTP, HTTPS and more.\n\n"
    "EXIT CODES\n       There are a bunch of different error codes and their corresponding er\u2010\n"
    "       ror messages that may appear under error conditions.\n\n"
    "       47     Too many redirects. When following redirects, curl hit the maxi\u2010\n"
    "              mum amount.\n\n"
    "       48     An unknown option was passed in to libcurl.\n"
)


def test_a_manual_page_has_sections_and_whole_words(env: dict[str, str], tmp_path: Path) -> None:
    # Before: "NAME", "EXIT CODES" were no headings (no blank line under them) and "maxi\u2010\n   mum" was two
    # words, "maxi" and "mum", in the index and on screen.
    answer, corpus, env = _answered_over_notes(
        env, tmp_path, ("curl.txt", MANUAL_PAGE), "What happens when curl reaches the maximum of redirects?"
    )
    first = answer["passages"][0]
    assert first["title"] == "curl - transfer a URL"  # its NAME line, not the running header "CURL(1) ..."
    assert first["section"] == "EXIT CODES"
    assert "maximum" in first["matched_terms"]
    assert answer["answer"]["text"] == "When following redirects, curl hit the maxi\u2010\n              mum amount."
    shown = qa(*corpus, "--ask", "What happens when curl reaches the maximum of redirects?", env=env).stdout
    assert "A: When following redirects, curl hit the maximum amount." in shown
    assert "maxi\u2010" not in shown


def test_a_camel_case_heading_is_read_as_its_words(env: dict[str, str], tmp_path: Path) -> None:
    # "createServer" is one term; the question says "create" and "server". Before: only "http" of the heading
    # counted for the passage under it (over Node.js's docs, an example elsewhere then ranked first).
    answer, corpus, env = _answered_over_notes(
        env, tmp_path, ("server.md", SERVER_REFERENCE), "How do I create an HTTP server?"
    )
    first = answer["passages"][0]
    assert first["section"] == "`http.createServer([options])`"
    assert first["heading_terms"] == ["http", "create"]


REFERENCE_TOPIC = (  # a reference split into topic pages that repeat the overview's text (Python's pydoc topics)
    "Function definitions\n********************\n\n"
    "Default parameter values are evaluated from left to right when the function\n"
    "definition is executed. This means that the expression is evaluated once, and\n"
    "that the same \u201cpre-\ncomputed\u201d value is used for each call.\n\n"
    "A function definition does not execute the function body; this gets executed\n"
    "only when the function is called.\n"
)
REFERENCE_OVERVIEW = (  # the same paragraph, wrapped and indented differently, under another heading
    "Compound statements\n*******************\n\n"
    "Compound statements contain groups of other statements.\n\n"
    "Function definitions\n====================\n\n"
    "   Default parameter values are evaluated from left to right when the\n"
    "   function definition is executed. This means that the expression is\n"
    "   evaluated once, and that the same \u201cpre-computed\u201d value is used for each call.\n\n"
    "Default argument values can be any expression that is valid at the point of definition.\n"
)


def test_copies_of_a_passage_take_one_slot_and_are_cited_with_it(env: dict[str, str], tmp_path: Path) -> None:
    # Before: [1] function.txt's paragraph and [2] the same words in compound.txt, two of three slots.
    question = "When are default parameter values evaluated?"
    notes, env = _notes_folder(tmp_path, env, {"function.txt": REFERENCE_TOPIC, "compound.txt": REFERENCE_OVERVIEW})
    out = qa("--corpus", str(notes), "--ask", question, "--json", "-k", "3", env=env).stdout
    answer = json.loads(out)
    first, *others = answer["passages"]
    assert first["text"].startswith("Default parameter values are evaluated")
    [copy] = first["also_in"]
    other_file = "compound.txt" if first["path"].endswith("function.txt") else "function.txt"
    assert copy["path"] == f"notes/{other_file}" and copy["section"] in (None, "Function definitions")
    assert len(others) == 2 and all("also_in" not in p for p in others)
    texts = [" ".join(p["text"].split()) for p in answer["passages"]]
    assert len(set(texts)) == 3  # three different passages in three slots
    shown = qa("--corpus", str(notes), "--ask", question, "-k", "3", env=env).stdout
    assert f"    also in: notes/{other_file}:" in shown
    assert "\u201cpre-computed\u201d" in shown and "pre- computed" not in shown  # a compound wrapped at its hyphen


KEYWORD_REFERENCE = {  # a language reference quotes its keywords; other pages say "statement" and "work"
    "with.txt": 'The "with" statement\n********************\n\n'
    'The "with" statement is used to wrap the execution of a block with methods defined by a context\n'
    "manager. This allows common try, except and finally usage patterns to be encapsulated for reuse.\n",
    "patterns.txt": "Class patterns\n**************\n\n"
    "For a number of built-in types, a single positional subpattern is accepted which will match the\n"
    "entire subject; for these types keyword patterns also work as for other types.\n",
    "debugger.txt": "The debugger\n************\n\n"
    "You can do some tricks with the copy mechanism to make the display command work.\n",
    "while.txt": 'The "while" statement\n*********************\n\n'
    'The "while" statement is used for repeated execution as long as an expression is true.\n\n'
    'When the expression is false, the suite of the "else" clause, if present, is executed and the loop\n'
    "terminates.\n",
    "for.txt": 'The "for" statement\n*******************\n\n'
    'The "for" statement is used to iterate over the elements of a sequence or other iterable object.\n\n'
    'When the items are exhausted, the suite in the "else" clause, if present, is executed, and the loop\n'
    "terminates.\n",
    "simple.txt": "Simple statements\n*****************\n\n"
    "A simple statement is comprised within a single logical line. Several simple statements may occur\n"
    "on a single line separated by semicolons. The pass statement is a null operation; nothing happens\n"
    "when it executes.\n",
}


def test_a_keyword_the_question_names_is_searched_for(env: dict[str, str], tmp_path: Path) -> None:
    # "with" is a stopword; here it is the name of a statement. Before: searched "statement work" and
    # answered from the page about patterns that "also work".
    notes, env = _notes_folder(tmp_path, env, KEYWORD_REFERENCE)
    answer = json.loads(
        qa("--corpus", str(notes), "--ask", "How does the with statement work?", "--json", env=env).stdout
    )
    assert answer["passages"][0]["path"] == "notes/with.txt"
    assert "with" in answer["passages"][0]["matched_terms"]


def test_an_acronym_spelled_as_a_stopword_is_searched_for_and_how_many_is_not(env: dict[str, str]) -> None:
    # Before: "How many IS sites were hit?" searched "many site hit" ("IS" read as the verb) and answered
    # "No good evidence", first passage "However, many of the targets Russian warplanes have hit ...".
    answer = json.loads(qa("--ask", "How many IS sites were hit?", "--json", env=env).stdout)
    assert answer["answer"] is not None
    assert "nine Islamic State (IS) sites" in answer["answer"]["text"]
    assert answer["passages"][0]["path"] == "seeds/003_5955d54851c696b3.txt"
    assert {"is", "sites"} <= set(answer["passages"][0]["matched_terms"])
    assert "many" not in answer["passages"][0]["matched_terms"]
    # "happened" names nothing either: was "No good evidence" (65% of the key terms) over the right passage
    answer = json.loads(qa("--ask", "What happened on February 20?", "--json", env=env).stdout)
    assert answer["answer"] is not None and "On February 20" in answer["answer"]["text"]


OFFICE_NOTES = {
    "warsaw.txt": "Warsaw office\n\nThe team has 74 engineers and 12 managers, in two floors of a tower near the"
    " central station.\n\nThe lease runs until 2028 and costs 40,000 euros a month.\n",
    "lisbon.txt": "Lisbon office\n\nThe team has 31 engineers and 5 managers, in a converted warehouse by the"
    " river.\n\nThe lease ends in 2026; a move to a larger building is planned.\n",
}


def test_a_question_about_a_place_the_notes_never_mention_is_not_answered(env: dict[str, str], tmp_path: Path) -> None:
    # Before: "the Paris office" answered with Lisbon's team (similarity 0.59, 19% of the key terms), and
    # "the Warsaw office" was judged on 20% of its key terms: the note's title, which names the office, was
    # not read by the verdict.
    notes, env = _notes_folder(tmp_path, env, OFFICE_NOTES)
    paris, warsaw = _conversation(
        notes, env, "How many engineers are at the Paris office?", "How many engineers are at the Warsaw office?"
    )
    assert paris["answer"] is None
    assert paris["reason"].startswith("nothing in the corpus mentions 'Paris'")
    assert warsaw["answer"] is not None and "74 engineers" in warsaw["answer"]["text"]
    assert "100% of the question's key terms" in warsaw["reason"]


def test_a_follow_up_keeps_the_keyword_it_is_about(env: dict[str, str], tmp_path: Path) -> None:
    # Before: "What about the while statement?" searched "statement" (its context "work"), and "Can it have an
    # else clause?" could not tell the "while" loop's else clause from the "for" loop's.
    notes, env = _notes_folder(tmp_path, env, KEYWORD_REFERENCE)
    first, second, third = _conversation(
        notes,
        env,
        "How does the with statement work?",
        "What about the while statement?",
        "Can it have an else clause?",
    )
    assert second["passages"][0]["path"] == third["passages"][0]["path"] == "notes/while.txt"
    assert third["follow_up"] and "while" in third["retrieval_query"]
    assert third["answer"]["text"].startswith('When the expression is false, the suite of the "else" clause')


SPECIAL_METHODS = {  # a reference whose other pages say more about exceptions than the section asked about
    "datamodel.md": "# Special method names\n\n## `object.__init__(self)`\n\n"
    "Called after the instance has been created by `__new__()`, but before it is returned to the caller.\n\n"
    "## `object.__del__(self)`\n\n"
    "Called when the instance is about to be destroyed. This is also called a finalizer or a destructor.\n\n"
    "It is not guaranteed that `__del__()` methods are called for objects that still exist when the\n"
    "interpreter exits.\n\n"
    "Due to the precarious circumstances under which `__del__()` methods are invoked, exceptions that\n"
    "occur during their execution are ignored, and a warning is printed to `sys.stderr` instead.\n",
    "raise.md": "# The raise statement\n\n"
    "The raise statement raises an exception. Exceptions raised in a function propagate to its caller\n"
    "until a handler catches them; an exception raised in a handler is chained to the one being handled.\n",
    "try.md": "# The try statement\n\n"
    "The try statement specifies exception handlers for a group of statements. When an exception is\n"
    "raised in the try clause, the except clauses are searched for one that matches the exception.\n",
    "class.md": "# Class definitions\n\nA class definition is an executable statement. The class body is\n"
    "executed in a new execution frame, and its local namespace becomes the class's attribute dictionary.\n",
    "import.md": "# The import statement\n\nThe basic import statement finds a module, loading and initializing\n"
    "it if necessary, then defines a name in the local namespace for the scope where it occurs.\n",
    "lambda.md": "# Lambdas\n\nLambda expressions create anonymous functions. Functions created with lambda\n"
    "expressions cannot contain statements or annotations.\n",
    "global.md": "# The global statement\n\nThe global statement is a declaration which holds for the entire\n"
    "current code block: the listed identifiers are interpreted as globals.\n",
}


def test_a_question_that_says_it_asks_about_the_topic_whatever_its_words_find(
    env: dict[str, str], tmp_path: Path
) -> None:
    # "raises an exception" points to the raise and try pages; "it" is the finalizer the user was reading
    # about. Before: answered alone, from the raise statement's page.
    notes, env = _notes_folder(tmp_path, env, SPECIAL_METHODS)
    *_, last = _conversation(
        notes,
        env,
        "When is __del__ called?",
        "Is it guaranteed to be called when the interpreter exits?",
        "What if it raises an exception?",
    )
    assert last["follow_up"]
    assert last["passages"][0]["section"] == "`object.__del__(self)`"
    assert last["answer"]["text"].startswith("Due to the precarious circumstances")


QUARTERLY_REPORT = (
    "# Quarterly report\n\n"
    "Sales grew in every region this quarter. The table lists revenue and headcount per region.\n\n"
    "| Region | Revenue (million EUR) | Headcount | Growth |\n"
    "|---|---:|---:|---:|\n"
    "| North | 12.4 | 310 | 4% |\n"
    "| South | 8.1 | 205 | 7% |\n"
    "| East | 15.9 | 402 | 2% |\n"
    "| West | 6.3 | 150 | 11% |\n\n"
    "Hiring will slow down next quarter, and the new warehouse opens in March.\n"
)


def test_a_table_row_answers_under_the_header_that_names_its_columns(env: dict[str, str], tmp_path: Path) -> None:
    # Before: the answer was the header row ("| Region | Revenue (million EUR) | ... | Growth |": it holds
    # three of the question's four words), which says nothing about the West region.
    notes, env = _notes_folder(
        tmp_path, env, {"report.md": QUARTERLY_REPORT, "meeting.md": "# Meeting\n\nWe discussed the warehouse.\n"}
    )
    question = "What was the revenue growth of the West region?"
    answer = json.loads(qa("--corpus", str(notes), "--ask", question, "--json", "-k", "2", env=env).stdout)
    text = (notes / "report.md").read_text(encoding="utf-8")
    row, header = "| West | 6.3 | 150 | 11% |", "| Region | Revenue (million EUR) | Headcount | Growth |"
    first = answer["passages"][0]
    assert answer["answer"]["text"] == row == first["answer_sentence"]["text"]
    assert answer["answer"]["table_header"] == first["answer_sentence"]["table_header"]
    cited = answer["answer"]["table_header"]
    assert text[cited["char_start"] : cited["char_end"]] == cited["text"] == header  # exact offsets, as the row's
    assert text[answer["answer"]["char_start"] : answer["answer"]["char_end"]] == row
    assert "table_header" not in answer["passages"][1]["answer_sentence"]  # prose keeps its shape
    shown = qa("--corpus", str(notes), "--ask", question, env=env).stdout.splitlines()
    at = shown.index(f"A: {header}")
    assert shown[at + 1] == f"   {row}"


def _office_table() -> str:
    cities = """Amsterdam Berlin Copenhagen Dublin Edinburgh Florence Geneva Hamburg Istanbul Jakarta Kyoto
    Lisbon Madrid Nairobi Oslo Prague Quito Reykjavik Santiago Toronto Utrecht Valencia Warsaw Xiamen Yokohama
    Zurich""".split()
    rows = [
        f"| {city} | {40 + 3 * i} | {200 + 17 * i} | {('open', 'closed', 'planned')[i % 3]} |"
        for i, city in enumerate(cities)
    ]
    return (
        "# Branch offices\n\nThe company runs branch offices in many cities. The table gives each office's staff, "
        "its annual revenue in thousand EUR and its status.\n\n"
        "| City | Staff | Revenue (kEUR) | Status |\n|---|---:|---:|---|\n"
        + "\n".join(rows)
        + "\n\nNew offices open every spring.\n"
    )


def test_a_row_in_a_later_part_of_a_long_table_answers_under_the_header_of_its_first_part(
    env: dict[str, str], tmp_path: Path
) -> None:
    # A table too long for one passage is cut into overlapping parts; only the first holds the header row.
    # Before: "| Oslo | 82 | 438 | planned |" alone, and the words the header holds (staff) did not count.
    notes, env = _notes_folder(tmp_path, env, {"offices.md": _office_table(), "notes.md": "# Notes\n\nMeet in May.\n"})
    answer = json.loads(
        qa(
            "--corpus", str(notes), "--ask", "How many staff does the Oslo office have?", "--json", "-k", "1", env=env
        ).stdout
    )
    text = (notes / "offices.md").read_text(encoding="utf-8")
    [first] = answer["passages"]
    assert first["window"] > 1 and not first["text"].startswith("| City")  # a later part of the table
    assert first["answer_sentence"]["text"] == "| Oslo | 82 | 438 | planned |"
    header = first["answer_sentence"]["table_header"]
    assert header["text"] == "| City | Staff | Revenue (kEUR) | Status |"
    assert text[header["char_start"] : header["char_end"]] == header["text"]  # cited where the file holds it
    assert header["char_end"] <= first["char_start"]  # in an earlier part


def test_a_later_part_of_a_long_table_is_found_by_the_words_of_its_header(env: dict[str, str], tmp_path: Path) -> None:
    # Before: "staff" was only in the first part's header row, so the part holding Quito's row was found by
    # "Quito" alone and the answer was the table's introduction ("The table gives each office's staff, ...").
    travel = "# Travel notes\n\nQuito is a lovely city. Our trip to Quito was in May, and the party in Quito was fun.\n"
    files = {"offices.md": _office_table(), "travel.md": travel}
    files |= {path.name: path.read_text(encoding="utf-8") for path in sorted((REPO / "seeds").glob("*.txt"))}
    notes, env = _notes_folder(tmp_path, env, files)
    answer = json.loads(qa("--corpus", str(notes), "--ask", "How many staff are in Quito?", "--json", env=env).stdout)
    assert answer["verdict"] == "answered", answer["reason"]
    assert answer["answer"]["text"] == "| Quito | 88 | 472 | closed |"
    assert answer["answer"]["table_header"]["text"] == "| City | Staff | Revenue (kEUR) | Status |"
    assert answer["passages"][0]["window"] > 1


def test_a_follow_up_about_the_row_just_read_answers_from_that_row(env: dict[str, str], tmp_path: Path) -> None:
    # Before: "And what is its status?" answered from the table's introduction ("... and its status."), which
    # holds "status" as much as the part of the table the user had just read; then, with that part first,
    # the status of another row than Oslo's (every row shares the header's "Status").
    travel = "# Travel notes\n\nQuito is a lovely city. Our trip to Quito was in May, and the party in Quito was fun.\n"
    files = {"offices.md": _office_table(), "travel.md": travel}
    files |= {path.name: path.read_text(encoding="utf-8") for path in sorted((REPO / "seeds").glob("*.txt"))}
    notes, env = _notes_folder(tmp_path, env, files)
    first, second = _conversation(notes, env, "How many staff does the Oslo office have?", "And what is its status?")
    assert first["answer"]["text"] == second["answer"]["text"] == "| Oslo | 82 | 438 | planned |"
    assert second["follow_up"] and second["passages"][0]["id"] == first["passages"][0]["id"]
