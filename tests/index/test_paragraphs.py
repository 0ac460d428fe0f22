from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.paragraphs import LineIndex, heading_context, heading_text, opening_words, split_document
from index.sentences import is_code_block, line_breaks, sentence_spans, sentences_of, word_chunks

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_every_seed_paragraph_round_trips(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    split = split_document(text, path.name)
    lines = text.splitlines()
    for span in split.passages:
        passage = text[span.char_start : span.char_end]
        assert passage == passage.strip() and passage
        # A one-line paragraph is exactly its line; line numbers are 1-based.
        assert lines[span.line_start - 1].strip().startswith(passage.splitlines()[0][:40])
    # Every non-blank line of a seed is covered by exactly one paragraph.
    covered = {n for s in split.passages for n in range(s.line_start, s.line_end + 1)}
    assert covered == {i for i, line in enumerate(lines, start=1) if line.strip()}


def test_single_newline_seed_splits_per_line_and_detects_headline() -> None:
    text = (SEEDS / "003_5955d54851c696b3.txt").read_text(encoding="utf-8")
    split = split_document(text, "003_5955d54851c696b3.txt")
    assert split.title == "Russian warplanes strike more targets in Syria"
    assert split.title_from_text
    assert split.passages[0].kind == "title"
    assert [p.paragraph for p in split.passages] == list(range(1, len(text.splitlines()) + 1))


def test_blank_line_seed_and_fragments() -> None:
    text = (SEEDS / "001_1b964a6f03f87240.txt").read_text(encoding="utf-8")
    split = split_document(text, "001_1b964a6f03f87240.txt")
    assert split.title.startswith("Russian air strike, in coordination with Turkey")
    last = split.passages[-1]
    assert text[last.char_start : last.char_end] == "You might also like"
    assert last.kind == "fragment" and not last.searchable
    assert split.passages[1].line_start == 3  # blank lines between paragraphs


def test_title_falls_back_to_file_name() -> None:
    text = (SEEDS / "000_a6242c36691dad2e.txt").read_text(encoding="utf-8")
    split = split_document(text, "000_a6242c36691dad2e.txt")
    assert split.title == "000_a6242c36691dad2e" and not split.title_from_text
    assert all(p.kind == "text" for p in split.passages)


def test_opening_words_name_an_untitled_document() -> None:
    text = (SEEDS / "000_a6242c36691dad2e.txt").read_text(encoding="utf-8")
    assert opening_words(text) == "Russian fighter jets have targeted a weapons depot in\u2026"
    assert opening_words("Short  first\nline.") == "Short first line."  # whole: no ellipsis
    assert opening_words("word, " * 20, limit=12) == "word, word\u2026"  # no dangling comma
    assert opening_words("x" * 100, limit=10) == "x" * 10 + "\u2026"  # one long word is cut inside
    assert len(opening_words("lorem ipsum " * 50)) <= 61


def test_known_title_wins_and_first_line_stays_a_passage() -> None:
    split = split_document("Normans were a people.\n\nThey lived in Normandy.", "x.txt", known_title="Normans")
    assert split.title == "Normans"
    assert len(split.passages) == 2


def test_hard_wrapped_paragraphs_stay_whole() -> None:
    text = (
        "# Notes\n\nThis paragraph is wrapped\nat forty characters so\nit spans three lines.\n\n"
        "Second one here, also long enough.\n"
    )
    split = split_document(text, "notes.md")
    assert split.title == "Notes"
    body = split.passages[1]
    assert (body.line_start, body.line_end) == (3, 5)
    assert text[body.char_start : body.char_end].endswith("three lines.")


def test_long_paragraph_becomes_overlapping_windows_with_exact_offsets() -> None:
    sentences = [f"Sentence number {i} talks about topic {i} in some detail here." for i in range(60)]
    text = "Intro line that is long enough to count as text.\n\n" + " ".join(sentences) + "\n"
    split = split_document(text, "long.txt")
    windows = [p for p in split.passages if p.window > 0]
    assert len(windows) >= 3
    for w in windows:
        piece = text[w.char_start : w.char_end]
        assert piece.startswith("Sentence number") and piece.endswith(".")
        assert len(piece.split()) <= 160
    for a, b in zip(windows, windows[1:], strict=False):
        assert b.char_start < a.char_end  # one sentence of overlap
    assert windows[0].char_start == text.index("Sentence number 0")
    assert windows[-1].char_end == text.rindex(".") + 1


def test_crlf_and_lone_cr_line_numbers() -> None:
    text = "First paragraph is here and it is long enough.\r\n\r\nSecond paragraph on line three, long enough.\rThird"
    lines = LineIndex(text)
    assert lines.line_of(text.index("Second")) == 3
    assert lines.line_of(text.index("Third")) == 4
    split = split_document(text, "crlf.txt")
    first, second = split.passages
    assert text[first.char_start : first.char_end] == "First paragraph is here and it is long enough."
    assert (second.line_start, second.line_end) == (3, 4)  # a hard-wrapped paragraph spanning a lone CR


def test_sentence_spans_respect_abbreviations() -> None:
    text = 'Mr. Smith went to Washington. He met the U.S. envoy at 3 p.m. Then he left! "Why?" she asked.'
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans[0] == "Mr. Smith went to Washington."
    assert spans[-1] == '"Why?" she asked.'


def test_list_items_and_table_rows_are_sentences_of_their_own() -> None:
    """Notes and Markdown write one statement per line in lists and tables, often without a full stop:
    each item (without its bullet; a numbered one keeps its number) and each row is a sentence, a wrapped
    item's indented lines stay with it; a number wrapped onto its own line ("O\n2.") is not a list."""
    text = (
        "Before the launch we must:\n- renew the TLS certificate\n* move the backups to the\n  new bucket\n"
        "Then the usual.\n1. Mix the flour\n2) Bake it\n| step | owner |\n| deploy | Ana |\nDone here.\r\n"
        "• tell support\r\nThe common allotrope is dioxygen, O\n2. It is blue."
    )
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Before the launch we must:",
        "renew the TLS certificate",
        "move the backups to the\n  new bucket",
        "Then the usual.",
        "1. Mix the flour",
        "2) Bake it",
        "| step | owner |",
        "| deploy | Ana |",
        "Done here.",
        "tell support",
        "The common allotrope is dioxygen, O\n2.",
        "It is blue.",
    ]
    prose = "A hard-wrapped paragraph of plain prose\nkeeps its lines together - even with a dash\nor 3 numbers."
    assert [prose[s:e] for s, e in sentence_spans(prose)] == [prose]


def test_a_heading_keeps_its_words_and_drops_its_marks() -> None:
    assert [heading_text(t) for t in ["## Dentist ##", "## C#", "#   Trip  to Lisbon", "### ###"]] == [
        "Dentist",
        "C#",
        "Trip to Lisbon",
        "",
    ]


def test_a_comment_in_a_fenced_code_block_is_not_a_heading() -> None:
    text = (
        "# Setup guide\n\nInstall it like this:\n\n```bash\n# create the environment\n\npython3 -m venv .venv\n"
        "```\n\n~~~\n## not a heading either\n~~~\n\n## Usage\n\nAsk it about your notes.\n"
    )
    split = split_document(text, "guide.md")
    assert [p.kind for p in split.passages].count("heading") == 1
    assert [text[p.char_start : p.char_end] for p in split.passages if p.kind == "heading"] == ["## Usage"]


PROSE = "The command changes every selected word, and it works in Visual mode with any motion you give it."


def _headings(text: str) -> list[str]:
    split = split_document(text, "guide.txt", "Guide")
    return [heading_text(text[p.char_start : p.char_end]) for p in split.passages if p.kind == "heading"]


def test_a_short_line_over_prose_is_a_plain_text_heading() -> None:
    text = (
        "=====================\n*10.8*\tChanging case\n\n" + PROSE + "\n\n"  # ruled above (vim's manuals)
        "Methods\n-------\n\n" + PROSE + "\n\n"  # ruled below (Setext)
        "USING REGISTERS\n\n" + PROSE + "\n\n"
        "Who is Jeremy Lin?\n\n" + PROSE + "\n"  # a headline may ask
    )
    assert _headings(text) == ["*10.8* Changing case", "Methods", "USING REGISTERS", "Who is Jeremy Lin?"]
    split = split_document(text, "guide.txt", "Guide")
    assert [p.kind for p in split.passages] == ["heading", "text"] * 4  # a heading is not searched itself
    notes = 'UI, Workflows & Features\n------------------------\n\n * "git grep" learned to expand lazily.\n'
    assert _headings(notes) == ["UI, Workflows & Features"]  # ruled: a heading over a list too
    assert _headings("Shopping\n\n- milk\n- eggs\n\nCall the garage about the tyres.\n") == []


def test_a_short_line_over_a_list_of_prose_items_is_a_heading() -> None:
    item = ' * "git fetch" learned the --no-write-fetch-head option to avoid writing the FETCH_HEAD file.\n'
    notes = (
        "Git 2.29 Release Notes\n======================\n\nUI, Workflows & Features\n\n" + item + "\n"
        "Performance, Internal Implementation, Development Support etc.\n\n" + item.replace("fetch", "push")
    )
    expected = ["Git 2.29 Release Notes", "UI, Workflows & Features"]
    expected.append("Performance, Internal Implementation, Development Support etc.")
    assert _headings(notes) == expected
    split = split_document(notes, "2.29.0.txt")
    assert [p.kind for p in split.passages] == ["title", "heading", "text", "heading", "text"]
    short_first = "UI, Workflows & Features\n\n" + "".join(
        f" * Userdiff for {lang} update.\n\n" for lang in ("PHP", "Rust", "CSS")
    )
    short_first += item
    assert _headings(short_first) == ["UI, Workflows & Features"]  # its fourth item reads as prose (Git 2.30)
    assert _headings("Shopping\n\n- milk\n- eggs\n") == []  # short items: a note, not a section
    assert _headings("Call Bob\n\n- about the insurance\n\nBuy milk\n") == []


def test_a_quotation_or_an_emphasised_sentence_is_not_a_heading() -> None:
    item = "* The watcher restarts the process whenever an imported file changes on disk.\n"
    text = "## `--watch`\n\n> Stability: 1 - Experimental\n\n" + item + "\n**Only valid for a request.**\n\n" + PROSE
    assert _headings(text) == ["`--watch`"]  # the Markdown heading stays the section of what follows


def test_a_line_over_lines_indented_under_it_is_a_heading_as_in_a_manual_page() -> None:
    page = (
        "TAR(1)                     GNU TAR Manual                     TAR(1)\n\n"
        "NAME\n       tar - an archiving utility\n\n"
        "SYNOPSIS\n   Traditional usage\n       tar {A|c|d|r|t|u|x}[GnSkUWOmpsMBiajJzZhPlRvwo] [ARG...]\n\n"
        "DESCRIPTION\n       GNU tar saves many files together into a single tape or disk archive, and\n"
        "       can restore individual files from the archive.\n"
    )
    assert _headings(page) == ["NAME", "SYNOPSIS", "Traditional usage", "DESCRIPTION"]
    split = split_document(page, "tar.txt")  # its title: the NAME line, not the running header
    assert split.title == "tar - an archiving utility" and split.passages[0].kind == "title"
    wrapped = page.replace("tar - an archiving utility", "python - an interpreted, interactive lan\u2010\n       guage")
    assert split_document(wrapped, "python.txt").title == "python - an interpreted, interactive language"
    others = (
        "Smith, J. and Jones, K. (2020) The archiving of many small files onto\n    tape. Journal of Storage.\n\n"
        "Version 1.4.0 [November 24, 2008]\n  Eliminated the old checks.\n\n"  # a changelog entry: searchable
        "1. Install the package with pip\n   and run it once.\n\n"  # a numbered item, wrapped
        "       # the comment of an indented example\n       tar -xf archive.tar\n\n"  # no Markdown heading
        "** gdb.SYMBOL_LOC_COMMON_BLOCK\n   was added.\n\n"
        '   literal_pattern ::= signed_number\n                     | signed_number "+" NUMBER\n'  # a grammar
    )
    assert _headings(others) == []


def test_a_numbered_list_with_blank_lines_between_items_is_no_heading() -> None:
    # Python's reference: "1. find a module, ..." was the section of "2. define a name ..." and what followed
    steps = (
        "The basic import statement is executed in two steps:\n\n"
        "1. find a module, loading and initializing it if necessary\n\n"
        "2. define a name or names in the local namespace for the scope where\n   the statement occurs.\n"
    )
    assert _headings(steps) == []
    chapters = "1. Introduction\n\n" + PROSE + "\n\n2. Installation\n\n" + PROSE + "\n"
    assert _headings(chapters) == ["1. Introduction", "2. Installation"]


def test_a_sphinx_rubric_is_a_heading_whatever_follows_it() -> None:
    # Python's pydoc topics end with "-[ Footnotes ]-" over "[1] ..." notes: they were cited under the
    # topic's last section ("The "async with" statement" for a footnote about docstrings)
    topic = (
        'The "with" statement\n********************\n\n' + PROSE + "\n\n-[ Footnotes ]-\n\n"
        "[1] The exception is propagated to the invocation stack unless there\n    is a finally clause.\n"
    )
    assert _headings(topic) == ['The "with" statement', "Footnotes"]
    assert heading_text("-[ Footnotes ]-") == "Footnotes"
    assert heading_text("A dash - [ not a rubric ]-") == "A dash - [ not a rubric ]-"  # the marks frame a rubric


def test_notes_examples_dialogue_and_wrapped_lines_are_not_headings() -> None:
    notes = "Call Bob about the car insurance\n\nBuy milk and eggs\n\nDentist Tuesday 3pm\n"
    assert _headings(notes) == []  # no prose under them: every note stays as it was
    others = (
        "\tqa/word<Enter>q\n\n" + PROSE + "\n\n"  # an indented example
        "\u201cBut you are alone\u2014\u201d\n\n" + PROSE + "\n\n"  # dialogue
        "Deadline: March 3\n\n" + PROSE + "\n\n"  # a labelled value is a statement
        "- renew the certificate\n\n" + PROSE + "\n\n"  # a list item
        "Results were mixed,\n\n" + PROSE + "\n\n"  # the sentence goes on
        "The reactor runs on enriched O\n\n2 will allow it to burn, as the operators found out the hard way.\n"
    )
    assert _headings(others) == []
    split = split_document(others, "guide.txt", "Guide")
    assert "Deadline: March 3" in [others[p.char_start : p.char_end] for p in split.passages if p.searchable]
    no_gap = "Changing case\n" + PROSE + "\n"  # a heading is a block of its own
    assert _headings(no_gap) == []


def test_a_table_of_the_documents_own_headings_is_not_searched() -> None:
    readme = (
        "# Tool\n\n- [Installation](#installation)\n- [Usage](#usage)\n- [Licence](#licence)\n\n"
        "## Installation\n\nInstall it with pip into a fresh virtual environment.\n\n"
        "## Usage\n\nRun it with a question.\n\n## Licence\n\nMIT.\n"
    )
    manual = "Editing guide\n\n|10.1|\tRecord and playback\n|10.2|\tSubstitution\n\n" + "".join(
        f"==========\n*10.{n}*\t{name}\n\n{PROSE}\n\n" for n, name in [(1, "Record and playback"), (2, "Substitution")]
    )
    for text in (readme, manual):
        split = split_document(text, "guide.md")
        contents = [p for p in split.passages if text[p.char_start : p.char_end].startswith(("- [", "|10"))]
        assert [p.kind for p in contents] == ["fragment"]  # kept for display, not searched
    shopping = (
        "## Milk\n\nWhole milk only, from the farm shop.\n\n## Eggs\n\nFree range, a dozen.\n\n"
        "For the party:\n- fresh bread from the bakery\n- milk and cheese\n"
    )
    split = split_document(shopping, "n.md")
    assert [p.kind for p in split.passages if shopping[p.char_start :].startswith("For")] == ["text"]


def test_a_plain_heading_drops_its_ruled_lines() -> None:
    assert heading_text("=====\n*10.8*\tChanging case") == "*10.8* Changing case"
    assert heading_text("Methods\n-------") == "Methods"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .\n\r\t#?!\"'é\u2028-*|`~1)"), max_size=400))
def test_offsets_always_round_trip(text: str) -> None:
    split = split_document(text, "f.txt")
    line_count = len(LineIndex(text).starts)
    previous_end = -1
    for p in split.passages:
        piece = text[p.char_start : p.char_end]
        assert piece and piece == piece.strip()
        assert 1 <= p.line_start <= p.line_end <= line_count
        if p.window <= 1:
            assert p.char_start >= previous_end
        previous_end = max(previous_end, p.char_end) if p.window else p.char_end


def test_yaml_front_matter_gives_the_title_and_no_passage() -> None:
    text = (
        "---\ntitle: 'Trip to Lisbon'\ndate: 2024-05-02\ntags: [travel]\n---\n\n# Lisbon, spring 2024\n\n"
        "We arrived on a Thursday and took tram 28 up to the castle.\n"
    )
    split = split_document(text, "trip.md")
    assert split.title == "Trip to Lisbon" and split.title_from_text
    assert [text[p.char_start : p.char_end] for p in split.passages] == [
        "# Lisbon, spring 2024",
        "We arrived on a Thursday and took tram 28 up to the castle.",
    ]
    assert [(p.paragraph, p.line_start, p.kind) for p in split.passages] == [(1, 7, "heading"), (2, 9, "text")]


def test_front_matter_without_title_keeps_the_headline_and_a_thematic_break_is_text() -> None:
    with_crlf = "---\r\ntags: [a]\r\n---\r\nLisbon notes\r\n\r\nWe took the tram up to the castle and back.\r\n"
    split = split_document(with_crlf, "n.md")
    assert split.title == "Lisbon notes" and split.passages[0].line_start == 4
    ruled = "---\nAn opening paragraph between two rules, which is prose.\n---\n\nMore prose follows here.\n"
    split = split_document(ruled, "r.md")  # a rule, not metadata: the paragraph is kept
    assert any("opening paragraph" in ruled[p.char_start : p.char_end] for p in split.passages)


def test_short_statements_are_searchable_and_page_furniture_is_not() -> None:
    text = (
        "# Meeting 2024-03-04\n\nAttendees: Ana, Bruno, Chen.\n\nThe basil failed.\n\n847/940\n\n"
        "You might also like\n\nTalking to the FSA?\n\nDecided to move the release to April 15.\n\n"
        "CHAPTER XXIV.\n\nChapter VIII.\n"
    )
    kinds = {text[p.char_start : p.char_end]: p.kind for p in split_document(text, "m.md").passages}
    assert kinds == {
        "# Meeting 2024-03-04": "title",
        "Attendees: Ana, Bruno, Chen.": "text",
        "The basil failed.": "text",
        "847/940": "fragment",
        "You might also like": "fragment",
        "Talking to the FSA?": "fragment",
        "Decided to move the release to April 15.": "text",
        "CHAPTER XXIV.": "fragment",
        "Chapter VIII.": "fragment",
    }


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aB .\n\r\t?!-*+•|`~12)"), max_size=300))
def test_sentence_spans_are_ordered_trimmed_pieces(text: str) -> None:
    """Whatever the lists, tables and end marks: sentences lie in order inside the text, never overlap,
    are trimmed and non-empty, and cover every word outside the bullets."""
    spans = sentence_spans(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        previous_end = end
    covered = "".join(text[start:end] for start, end in spans)
    assert sum(c.isalnum() for c in covered) == sum(c.isalnum() for c in text)


CODE_NOTE = (
    "# Reading files\n\nOpen the file and read it:\n\n```js\nconst file = await open('notes.txt');\n\n"
    "for await (const line of file.readLines()) {\n  console.log(line); // one line. Then the next\n}\n"
    "- not a list item\n```\n\nThat is all.\n"
)


def test_a_fenced_code_block_is_one_paragraph_whose_lines_are_its_sentences() -> None:
    """Blank lines inside a fenced code block do not cut it into paragraphs; its sentences are its lines (as
    a list's are its items), not cut at full stops, and its blank lines and bare fences are none; a rendering
    starts a line at each of its lines."""
    split = split_document(CODE_NOTE, "reading.md")
    texts = [CODE_NOTE[p.char_start : p.char_end] for p in split.passages]
    block = CODE_NOTE[CODE_NOTE.index("```js") : CODE_NOTE.rindex("```") + 3]
    assert texts == ["# Reading files", "Open the file and read it:", block, "That is all."]
    assert [block[s:e] for s, e in sentence_spans(block)] == [
        "```js",  # its language is a word of the passage: every word is in a sentence
        "const file = await open('notes.txt');",
        "for await (const line of file.readLines()) {",
        "console.log(line); // one line. Then the next",
        "}",
        "- not a list item",
    ]
    assert is_code_block(block) and not is_code_block(texts[1])
    assert [block[b:].split("\n", 1)[0] for b in line_breaks(block)] == [
        "const file = await open('notes.txt');",
        "",
        "for await (const line of file.readLines()) {",
        "  console.log(line); // one line. Then the next",
        "}",
        "- not a list item",
        "```",
    ]
    prose_and_code = "Read it:\n```js\nrun(). Then()\n```\nDone. Really."
    assert [prose_and_code[s:e] for s, e in sentence_spans(prose_and_code)] == [
        "Read it:",
        "```js",
        "run(). Then()",
        "Done.",
        "Really.",
    ]


def test_an_unclosed_fence_keeps_the_paragraphs_after_it() -> None:
    text = "Intro line of the note here.\n\n```\nstray()\n\nFirst paragraph after it.\n\nSecond paragraph after it.\n"
    split = split_document(text, "note.md", "Note")
    assert [text[p.char_start : p.char_end] for p in split.passages] == [
        "Intro line of the note here.",
        "```\nstray()",
        "First paragraph after it.",
        "Second paragraph after it.",
    ]


def test_an_html_comment_is_no_heading() -> None:
    # Node.js's docs: "<!-- source_link=lib/child_process.js -->" over prose was a plain-text heading, so
    # the passages under it were cited as "Child process › <!-- source_link=lib/child_process.js -->".
    text = (
        "# Child process\n\n<!-- source_link=lib/child_process.js -->\n\n"
        "The child_process module provides the ability to spawn subprocesses in a manner that is similar.\n"
    )
    assert _headings(text) == ["Child process"]


def test_a_heading_is_read_with_its_camel_case_words_apart() -> None:
    assert heading_context("`http.createServer([options])`") == (
        "`http.createServer([options])`\n`http.create Server([options])`"
    )
    assert heading_context("Dentist") == "Dentist"  # nothing to split: the heading alone


def test_a_table_with_long_rows_stays_one_paragraph() -> None:
    # Lines this long are one paragraph each (a text file with a paragraph per line); a table's rows are
    # not: before, the header row was a passage of its own and no row could be read under it.
    long_cell = "measured on two shared cores at load one, median of five runs, " * 3
    table = "\n".join(
        [
            "| size | build | serve RSS |",
            "|---|---|---|",
            f"| 10k | 5 s | 103 MiB ({long_cell}) |",
            f"| 100k | 45 s | 400 MiB ({long_cell}) |",
        ]
    )
    prose = f"The first line of prose is long, {long_cell}.\nThe second line is long as well, {long_cell}."
    text = f"{prose}\n{table}\n\nAfter the table."
    split = split_document(text, "report.md")
    passages = [text[p.char_start : p.char_end] for p in split.passages]
    assert [p for p in passages if p.startswith("|")] == [table]
    assert passages[0].startswith("The first line") and passages[0].endswith("five runs, .")  # prose: a line each
    assert passages[1].startswith("The second line")


def test_a_run_on_sentence_is_cut_after_a_clause_not_mid_phrase() -> None:
    # Before: cut after exactly 120 words, so the next part began "conversation), `Ctrl+S` export ...".
    keys = ", ".join(f"`Ctrl+{chr(65 + i % 26)}` does thing number {i}" for i in range(40))
    text = f"Keys: {keys}, and `Ctrl+Q` quits."
    pieces = [text[s:e] for s, e in word_chunks(text, 0, len(text), 120)]
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())  # every word, once, in order
    assert all(len(p.split()) <= 120 for p in pieces)
    assert all(p.endswith(",") for p in pieces[:-1])  # each cut follows a clause
    assert all(p.startswith("`Ctrl+") for p in pieces[1:])
    unbroken = " ".join(["word"] * 300)  # nowhere to cut but at the limit
    assert [len(text.split()) for text in (unbroken[s:e] for s, e in word_chunks(unbroken, 0, 1499, 120))] == [
        120,
        120,
        60,
    ]


def test_a_wrapped_paragraph_with_one_long_line_stays_one_paragraph() -> None:
    # Before: one line of 200 characters or more made every line of the block a paragraph of its own, so a
    # paragraph whose middle line was left unwrapped after an edit was cut at each line end, mid-sentence.
    long_line = "`Ctrl+N` new topic (clears the conversation), " + "`Ctrl+S` export the conversation to Markdown, " * 4
    text = (
        "The terminal shows each answer with its evidence passages and\n"
        "citations, the answer sentence highlighted. Keys: `Enter` asks,\n"
        f"{long_line}\n"
        "and `Ctrl+Q` quits.\n"
    )
    split = split_document(text, "notes.md")
    assert [(p.char_start, p.char_end) for p in split.passages] == [(0, len(text.rstrip()))]
    per_line = ("A first paragraph on its own line, long enough to be one. " * 4).strip() + "\n"
    per_line += ("A second one, just as long as the first one is. " * 4).strip() + "\n"
    assert len(split_document(per_line, "news.txt").passages) == 2  # lines that end sentences: one each, as before


def test_a_numbered_title_closed_by_a_period_is_a_heading() -> None:
    # Before: GPL-3's "  4. Conveying Verbatim Copies." ended as a sentence does, so its clauses were cited
    # under the license's title alone; a numbered step over its explanation stays a paragraph.
    text = (
        "GNU GENERAL PUBLIC LICENSE\n\n"
        "  4. Conveying Verbatim Copies.\n\n"
        "  You may convey verbatim copies of the Program's source code as you\n"
        "receive it, in any medium, provided that you conspicuously publish a notice.\n\n"
        "  12. No Surrender of Others' Freedom.\n\n"
        "  If conditions are imposed on you that contradict the conditions of this\n"
        "License, they do not excuse you from the conditions of this License.\n\n"
        "1. Preheat the oven.\n\n"
        "Heat it to two hundred degrees for twenty minutes before the dough goes in, or it will not rise.\n\n"
        "2. Basic Permissions.\n\n"
        "3. Conveying Modified Versions.\n"
    )
    assert _headings(text) == ["4. Conveying Verbatim Copies.", "12. No Surrender of Others' Freedom."]


def test_a_numbered_clause_wrapped_without_a_hanging_indent_is_one_sentence() -> None:
    # Before: a list item's sentence ended at its line, so GPL-2's clauses were cut after their first line
    # ("11. BECAUSE THE PROGRAM IS LICENSED FREE OF CHARGE, THERE IS NO WARRANTY").
    def sentences(text: str) -> list[str]:
        return [text[s:e] for s, e in sentences_of(text)]

    clause = (
        "1. You may copy and distribute verbatim copies of the Program's\n"
        "source code as you receive it, in any medium. Keep the notices intact."
    )
    assert sentences(clause) == [clause[: clause.index(" Keep")], "Keep the notices intact."]
    shouting = (
        "11. BECAUSE THE PROGRAM IS LICENSED FREE OF CHARGE, THERE IS NO WARRANTY\n"
        "FOR THE PROGRAM, TO THE EXTENT PERMITTED BY APPLICABLE LAW."
    )
    assert sentences(shouting) == [shouting]
    notes = "Before the launch we must:\n- renew the domain\nCall Bob about it.\n- move the backups"
    assert sentences(notes) == [
        "Before the launch we must:",
        "renew the domain",
        "Call Bob about it.",
        "move the backups",
    ]


def test_a_centred_title_is_a_heading() -> None:
    # Before: an indented line was an example, so GPL-2's centred "NO WARRANTY" and "Preamble" were text and
    # the warranty clauses were cited under the license's title alone.
    text = (
        "                    GNU GENERAL PUBLIC LICENSE, Version 2\n\n"
        "                            Preamble\n\n"
        "  The licenses for most software are designed to take away your\n"
        "freedom to share and change it, whatever the program is meant to do.\n\n"
        "                            NO WARRANTY\n\n"
        "  11. BECAUSE THE PROGRAM IS LICENSED FREE OF CHARGE, THERE IS NO WARRANTY\n"
        "FOR THE PROGRAM, TO THE EXTENT PERMITTED BY APPLICABLE LAW.\n\n"
        "              tar -cf archive.tar foo bar\n\n"
        "       Create archive.tar from the files foo and bar, in this folder.\n\n"
        "        Indented Example Line\n\n"
        "The line above is indented, but sits at the left, not in the middle of the text.\n"
    )
    assert _headings(text) == ["Preamble", "NO WARRANTY"]


def test_a_numbered_title_run_in_at_a_paragraph_s_start_is_its_heading() -> None:
    # Before: Apache-2.0's "2. Grant of Copyright License. Subject to ..." was one paragraph of text, so the
    # grant was cited under the license's title alone.
    text = (
        "Apache License\n\n"
        "   2. Grant of Copyright License. Subject to the terms and conditions of\n"
        "      this License, each Contributor hereby grants to You a copyright license.\n\n"
        "   3. Install the package. Then run the tests, and read the report they write.\n"
    )
    assert _headings(text) == ["Apache License", "2. Grant of Copyright License."]  # "3. Install ..." is a step
    passages = split_document(text, "LICENSE.txt").passages
    body = next(p for p in passages if text[p.char_start : p.char_end].startswith("Subject to"))
    assert text[body.char_start : body.char_end].endswith("a copyright license.")
