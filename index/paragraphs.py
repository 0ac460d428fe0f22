"""Split a document into paragraphs that keep exact offsets into the original text.

Paragraphs are separated by blank lines; inside a block of consecutive lines, each line is its own
paragraph when the lines are long (news files with one paragraph per line) and the block is kept whole
when the lines look hard-wrapped. Every span satisfies `text[char_start:char_end] == passage text`.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from index.sentences import (
    closes_line,
    ends_with_abbreviation,
    fence_at,
    first_item,
    is_bullet_or_row,
    item_number,
    opened_fence,
    sentence_spans,
    word_chunks,
)
from index.tables import is_table_row
from index.tokenize import join_broken_words

PassageKind = Literal["title", "heading", "fragment", "text"]

LINE_PER_PARAGRAPH_MAX = 200  # a block with a line this long holds one paragraph per line
LINE_PER_PARAGRAPH_MEAN = 110
FRAGMENT_MAX_WORDS = 4  # "847/940", "You might also like"
HEADING_MAX_WORDS = 10  # a plain-text heading: one short line without closing punctuation, over prose
HEADING_MAX_CHARS = 100
HEADING_SPAN_MAX_CHARS = 400  # with the ruled lines around it
CONTENTS_EXTRA_WORDS = 3  # a line of a table of contents: a heading's words and a number, page or link
PROSE_MIN_WORDS = 12  # the paragraph under a plain-text heading: this many words and a sentence end
LIST_ITEMS_READ = 5  # or one of the first items of the list under it (an item per paragraph) reads as prose
WINDOW_MAX_WORDS = 160  # longer paragraphs become overlapping sentence windows
WINDOW_TARGET_WORDS = 120
TITLE_MAX_WORDS = 20
TITLE_MAX_CHARS = 160
OPENING_MAX_CHARS = 60  # an untitled document is shown by its opening words, cut at a word within this

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
_RUNNING_HEADER = re.compile(r"(\S+)[ \t]{2,}\S.*?[ \t]{2,}\1")  # "TAR(1)    GNU TAR Manual    TAR(1)"
_MD_HEADING = re.compile(r"#{1,6}\s+")
HANGING_HEADING_MAX_WIDTH = 0.75  # a heading over indented lines ends before this share of their width
MD_HEADING_MAX_INDENT = 3  # CommonMark: "    # comment" (4 columns or more) is code, as in an indented example
_MD_CLOSING_HASHES = re.compile(r"(?:^|\s+)#+\s*$")  # "## Title ##": the optional closing sequence
# YAML front matter (Jekyll, Hugo, Obsidian notes): "---" on the first line, closed by "---" or "..."
_FRONT_MATTER_OPEN = re.compile(r"---[ \t]*(?:\r\n|\n)")
_FRONT_MATTER_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t\r]*$", re.MULTILINE)
_YAML_KEY = re.compile(r"[ \t]*[\w-]+[ \t]*:(?:[ \t]|$)", re.MULTILINE)  # "title: ...", "tags:"
_FRONT_MATTER_TITLE = re.compile(r"^title[ \t]*:[ \t]*(.*?)[ \t\r]*$", re.MULTILINE | re.IGNORECASE)
FRONT_MATTER_MAX_CHARS = 16_384
_SENTENCE_STATEMENT = re.compile(r"\w[\w\"'”’)\]]*[.!]$")  # ends a word with "." or "!" (not "..." alone)
_LABELLED_VALUE = re.compile(r"[^\W\d_][\w ]{0,30}:\s+\w")  # "Attendees: Ana", "Owner: Bruno"
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")
_CLAUSE_MARKS = ".!…,;:"  # a line or paragraph ending with one goes on, or is a sentence: no heading
_CLAUSE_END = re.compile(f"[{_CLAUSE_MARKS}][\"'”’»)\\]*`]*$")  # "... from a server.**": bold closes after it
_OUTLINE_NUMBER = r"(?:\d{1,3}(?:\.\d{1,3})*|[IVX]{1,5})[.)][ \t]+"  # a section's number: "4. ", "2.1. ", "IV. "
_LEADING_OUTLINE_NUMBER = re.compile(rf"^[ \t]*{_OUTLINE_NUMBER}")
# A numbered section title closed by a period, as legal texts write theirs: "4. Conveying Verbatim Copies."
_NUMBERED_TITLE = re.compile(rf"{_OUTLINE_NUMBER}(?P<title>[A-Z][^.!?;:]*)\.")
CENTRED_MIN_INDENT = 8  # a centred title is indented at least this much (an example or a quotation less)
CENTRED_WIDTH_MAX = 120  # the width a centred title is measured against: the document's longest line, at most this
_CODE_LIKE = re.compile(r"[=/$(){}<>\[\]_|\\@#%&*~^`;]")  # what no title holds: code, paths, markup
# A numbered title run in at a paragraph's start, the paragraph going on on the same line with a sentence
_RUN_IN_TITLE = re.compile(rf"(?P<title>{_OUTLINE_NUMBER}[A-Z][^.!?;:\n]*\.)[ \t]+(?P<rest>[A-Z])")
NUMBERED_TITLE_MAX_INDENT = 3  # such a title may be indented as the document's paragraphs are ("  0. Definitions.")
_SENTENCE_INSIDE = re.compile(r"\w[\"'”’)\]]*[.!?:](?:\s|$)")  # "... Moscow said. The", "a statusline:"
_PROSE_START = re.compile(r"[\"'“‘«(\[]*[A-Z]")  # a sentence's first letter, after opening quotes
_DIALOGUE_START = re.compile(r"[\"'“‘«—–(\[-]")  # dialogue, a dash or an aside: not a heading
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")  # "createServer": where a camelCase word's next part starts
_RULE_LINE = re.compile(r"([=\-_*~+#])\1{2,}")  # "=====", "-----": a ruled line (trimmed)
_RUBRIC = re.compile(r"-\[ (\S.*?) \]-")  # Sphinx's text output marks a rubric so: "-[ Footnotes ]-" (trimmed)


@dataclass(frozen=True)
class PassageSpan:
    """One passage of a document: a whole paragraph, or one window of a long paragraph."""

    paragraph: int  # 1-based ordinal of the paragraph in the document
    window: int  # 0 for a whole paragraph, 1.. for the windows of a long one
    char_start: int
    char_end: int
    line_start: int  # 1-based, inclusive
    line_end: int
    kind: PassageKind

    @property
    def searchable(self) -> bool:
        return self.kind == "text"

    def local_id(self) -> str:
        return f"p{self.paragraph}" if self.window == 0 else f"p{self.paragraph}w{self.window}"


@dataclass(frozen=True)
class SplitDocument:
    title: str
    title_from_text: bool  # False when the title is only the file name
    passages: tuple[PassageSpan, ...]


class LineIndex:
    """Maps character offsets to 1-based line numbers (\\n, \\r\\n and lone \\r all end a line)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset)


def _lines(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of each line of text[start:end] (from `start`, a line start), without its terminator."""
    stop = len(text) if end is None else end
    while True:
        found = _LINE_BREAK.search(text, start, stop)
        if found is None:
            yield start, stop
            return
        yield start, found.start()
        start = found.end()


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _blocks(text: str, first: int = 0) -> list[list[tuple[int, int]]]:
    """Runs of non-blank lines from offset `first` (a line start) on, each line trimmed."""
    blocks: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for start, end in _lines(text, first):
        s, e = _trim(text, start, end)
        if s == e:
            if current:
                blocks.append(current)
                current = []
            continue
        current.append((s, e))
    if current:
        blocks.append(current)
    return blocks


def _one_paragraph_per_line(text: str, lines: list[tuple[int, int]]) -> bool:
    """Whether a block's lines are a paragraph each: long lines, unless most of them run on into the next
    (a hard-wrapped paragraph with one line left long, a URL or an edit not re-wrapped)."""
    lengths = [e - s for s, e in lines]
    if max(lengths) < LINE_PER_PARAGRAPH_MAX and sum(lengths) / len(lengths) < LINE_PER_PARAGRAPH_MEAN:
        return False
    run_on = sum(1 for s, e in lines[:-1] if not closes_line(text[s:e]))
    return 2 * run_on <= len(lines) - 1


def _looks_like_title(line: str) -> bool:
    words = _WORD.findall(line)
    return (
        2 <= len(words) <= TITLE_MAX_WORDS
        and len(line) <= TITLE_MAX_CHARS
        and not line.rstrip().endswith((".", ",", ";"))
    )


def _flush(
    text: str,
    pending: list[tuple[int, int]],
    paragraphs: list[tuple[int, int, bool]],
    fenced: bool,
    code: set[int],
) -> None:
    """Turn a run of plain lines into one paragraph, or one per line when the lines are long, but for the
    rows of a table, which stay together: its header row names the other rows' columns (`fenced`: the run
    holds a line of a fenced code block; its paragraphs' indices go into `code`)."""
    if not pending:
        return
    first = len(paragraphs)
    if len(pending) > 1 and _one_paragraph_per_line(text, pending):
        previous_row = False
        for s, e in pending:
            table_row = is_table_row(text[s:e])
            if table_row and previous_row:
                paragraphs[-1] = (paragraphs[-1][0], e, False)
            else:
                paragraphs.append((s, e, False))
            previous_row = table_row
    else:
        paragraphs.append((pending[0][0], pending[-1][1], False))
    if fenced:
        code.update(range(first, len(paragraphs)))
    pending.clear()


def front_matter(text: str) -> tuple[int, str | None]:
    """Where a YAML front matter block at the very start of `text` ends (0 when there is none), and the
    value of its `title:` line, if any."""
    opening = _FRONT_MATTER_OPEN.match(text)
    if opening is None:
        return 0, None
    closing = _FRONT_MATTER_CLOSE.search(text, opening.end(), FRONT_MATTER_MAX_CHARS)
    first_line = text[opening.end() : closing.start()].lstrip("\r\n") if closing else ""
    if closing is None or not _YAML_KEY.match(first_line):  # a thematic break, not metadata
        return 0, None
    found = _FRONT_MATTER_TITLE.search(text, opening.end(), closing.start())
    title = " ".join(found.group(1).strip().strip("'\"").split()) if found else ""
    return closing.end(), title or None


def _paragraph_spans(text: str, start: int = 0) -> list[tuple[int, int, bool]]:
    """(start, end, is_heading) of every paragraph from offset `start` on, in document order: a heading is
    a Markdown heading line or a plain-text one (`_plain_headings`)."""
    paragraphs: list[tuple[int, int, bool]] = []
    code: set[int] = set()  # paragraphs holding a line of a fenced code block
    fence = ""  # the fence of the Markdown code block we are in ("```" or "~~~"): no headings there
    closes = False  # the block we are in has its closing fence: blank lines inside it do not end it
    pending: list[tuple[int, int]] = []
    fenced = False
    for block in _blocks(text, start):
        while not fence and _hanging_heading(text, block):  # "SYNOPSIS\n   Traditional usage\n       tar ..."
            paragraphs.append((*block[0], True))
            block = block[1:]
        for s, e in block:
            if fence or fence_at(text, s, e):
                if not fence:  # a fence opens, unless the line closes it too (```inline```)
                    fence = opened_fence(text, s, e)
                    closes = bool(fence) and _closing_fence(fence).search(text, e) is not None
                elif fence_at(text, s, e) == fence:
                    fence = ""  # the closing fence
                pending.append((s, e))
                fenced = True
            elif _MD_HEADING.match(text, s) and _indentation(text, s) <= MD_HEADING_MAX_INDENT:
                _flush(text, pending, paragraphs, fenced, code)
                fenced = False
                paragraphs.append((s, e, True))
            else:
                pending.append((s, e))
        if not (fence and closes):  # a code block is one paragraph, blank lines and all
            _flush(text, pending, paragraphs, fenced, code)
            fenced = False
    _flush(text, pending, paragraphs, fenced, code)
    return _run_in_headings(text, _plain_headings(text, paragraphs, code), code)


def _hanging_heading(text: str, block: list[tuple[int, int]]) -> bool:
    """Whether the block's first line is a heading over the lines indented under it, as a manual page lays
    out its sections ("NAME\n       tar - an archiving utility", "   Traditional usage\n       tar -A ..."):
    a heading's line (`_looks_like_heading`, starting with a letter, no digit, no "=", no list item) indented at most
    3 columns, every other line indented further, and ending well before the lines under it do (a
    paragraph with a hanging indent wraps its first line at the full width: no heading)."""
    if len(block) < 2:
        return False
    (start, end), rest = block[0], block[1:]
    line = text[start:end]
    if not line[0].isalpha() or _DIGIT.search(line) or "=" in line:
        return False  # "** gdb.SYMBOL_..."; "Version 1.4.0 [May 12, 2000]"; a grammar's "literal_pattern ::= ..."
    if not _looks_like_heading(line) or first_item(line) is not None:
        return False
    indent = _indentation(text, start)
    if indent > MD_HEADING_MAX_INDENT or min(_indentation(text, s) for s, _ in rest) <= indent:
        return False
    return indent + end - start <= HANGING_HEADING_MAX_WIDTH * max(_indentation(text, s) + e - s for s, e in rest)


def _indentation(text: str, start: int) -> int:
    """Columns of white space before `start` on its line (a tab to the next multiple of 4)."""
    return len(text[text.rfind("\n", 0, start) + 1 : start].expandtabs(4))


@functools.cache
def _closing_fence(fence: str) -> re.Pattern[str]:
    """A line that closes a code block opened with `fence` (an unclosed fence keeps the paragraphs after it
    as they are)."""
    return re.compile(rf"^[ \t]*{re.escape(fence)}", re.MULTILINE)


def _plain_headings(text: str, paragraphs: list[tuple[int, int, bool]], code: set[int]) -> list[tuple[int, int, bool]]:
    """`paragraphs` with the plain-text headings marked: a block of one short line (ruled lines above or
    below it aside: "Methods\n-------", "=====\n*10.8* Changing case") at the line's first column, ending
    without a full stop, comma, colon or semicolon (a headline may ask: "Who is Jeremy Lin?"), not a
    labelled value ("Deadline: March 3"), a list item, a table row or a line of dialogue, right above a
    paragraph of prose (a sentence's capital, twelve words or more, a sentence end or a colon) or a list
    one of whose first five items is prose ("UI, Workflows & Features" over release notes), or above
    anything when a ruled line marks it ("Features\n--------" over a list). A numbered line right above
    the next number's item is a list's first item ("1. find a module" over "2. define a name"). A short line over
    another short line ("Call Bob", "Buy milk"), an indented example or a wrapped line is no heading:
    notes keep every line searchable."""
    marked = list(paragraphs)
    width = min(max((len(line) for line in text.splitlines()), default=0), CENTRED_WIDTH_MAX)
    for i, ((s, e, is_heading), (ns, ne, next_heading)) in enumerate(zip(paragraphs, paragraphs[1:], strict=False)):
        if is_heading or next_heading or i in code or i + 1 in code:
            continue
        ends_clause = text[e - 1] in _CLAUSE_MARKS and not ends_with_abbreviation(text[s:e])  # "... etc." does not
        numbered = _numbered_title(text, s, e)
        if e - s > HEADING_SPAN_MAX_CHARS or (ends_clause and not numbered) or text.count("\n", e, ns) < 2:
            continue  # too long, ends as a sentence or a clause does, or no blank line follows it
        found = (text[s:e], False) if numbered else _heading_line(text, s, e, width)
        if found is None or not (numbered or _looks_like_heading(found[0])):
            continue
        if (number := item_number(found[0])) is not None and item_number(text[ns:ne]) == number + 1:
            continue  # "1. find a module" over "2. define a name": a numbered list with blank lines between items
        if found[1] or _is_prose(text[ns:ne]) or _heads_prose_list(text, paragraphs[i + 1 : i + 1 + LIST_ITEMS_READ]):
            marked[i] = (s, e, True)
    return marked


def _run_in_headings(text: str, paragraphs: list[tuple[int, int, bool]], code: set[int]) -> list[tuple[int, int, bool]]:
    """`paragraphs` with a numbered title run in at the start of a paragraph split off as its heading, as
    contracts and licenses write sections: "2. Grant of Copyright License. Subject to the terms ..." is the
    heading "2. Grant of Copyright License." over the paragraph "Subject to the terms ..." (`_numbered_title`
    judges the title; the rest must start a sentence on the same line)."""
    split: list[tuple[int, int, bool]] = []
    for i, (s, e, is_heading) in enumerate(paragraphs):
        found = None if is_heading or i in code else _RUN_IN_TITLE.match(text, s, e)
        if found is None or not _numbered_title(text, s, found.end("title")):
            split.append((s, e, is_heading))
            continue
        split += [(s, found.end("title"), True), (found.start("rest"), e, False)]
    return split


def without_outline_number(heading: str) -> str:
    """`heading` without the number that places it in an outline: "Conveying Verbatim Copies." of
    "4. Conveying Verbatim Copies." (its place, not its subject)."""
    return _LEADING_OUTLINE_NUMBER.sub("", heading, count=1)


def _mostly_capitalised(text: str) -> bool:
    """Two thirds or more of the words of four letters or more of `text` start with a capital, as a title's
    do ("Acceptance Not Required for Having Copies"; not "Preheat the oven")."""
    long_words = [w for w in _WORD.findall(text) if len(w) >= 4]
    return bool(long_words) and 3 * sum(w[0].isupper() for w in long_words) >= 2 * len(long_words)


def _numbered_title(text: str, start: int, end: int) -> bool:
    """Whether paragraph `text[start:end]` is one line holding a numbered section title closed by a period
    ("4. Conveying Verbatim Copies.", "12. No Surrender of Others' Freedom."): at most `HEADING_MAX_WORDS`
    words after the number, two thirds of those of four letters or more capitalised ("1. Preheat the oven."
    is a step), indented at most `NUMBERED_TITLE_MAX_INDENT` columns."""
    line = text[start:end]
    found = _NUMBERED_TITLE.fullmatch(line)
    if found is None or "\n" in line or start - (text.rfind("\n", 0, start) + 1) > NUMBERED_TITLE_MAX_INDENT:
        return False
    return len(_WORD.findall(found["title"])) <= HEADING_MAX_WORDS and _mostly_capitalised(found["title"])


def _heading_line(text: str, start: int, end: int, width: int = 0) -> tuple[str, bool] | None:
    """The paragraph's only line that is not a ruled line, if it has exactly one and it starts at the
    line's first column (an indented line is an example, a quotation or code) or is centred in the
    document's `width` (`_centred_title`), and whether a ruled line is above or below it; for a rubric
    ("-[ Footnotes ]-"), its title, marked as ruled."""
    worded: list[str] = []
    ruled = False
    first = text.rfind("\n", 0, start) + 1  # where the paragraph's first line begins, indentation included
    for line, stop in _lines(text, first, end):
        if _RULE_LINE.fullmatch(stripped := text[line:stop].strip()):
            ruled = True
        elif stripped:
            if worded or (text[line].isspace() and not _centred_title(text[line:stop], width)):
                return None
            worded.append(stripped)
    if len(worded) == 1 and (rubric := _RUBRIC.fullmatch(worded[0])):
        return rubric.group(1), True  # its marks make it a heading as a ruled line does, whatever follows
    return (worded[0], ruled) if worded else None


def _centred_title(line: str, width: int) -> bool:
    """Whether `line` (indentation included) is a title centred in a plain-text document `width` columns
    wide, as licenses and old text files set theirs ("                       TERMS AND CONDITIONS"):
    indented `CENTRED_MIN_INDENT` columns or more, its middle within the middle fifth of the width, in
    capitals or with most of its words of four letters or more capitalised, and nothing code-like in it
    (an indented example, "tar -cf archive.tar foo", is none of these)."""
    stripped = line.strip()
    indent = len(line) - len(line.lstrip())
    if width <= 0 or indent < CENTRED_MIN_INDENT or _CODE_LIKE.search(stripped) or not _WORD.search(stripped):
        return False
    if not 0.4 * width <= indent + len(stripped) / 2 <= 0.6 * width:
        return False
    return all(c.isupper() for c in stripped if c.isalpha()) or _mostly_capitalised(stripped)


def _looks_like_heading(line: str) -> bool:
    words = len(_WORD.findall(line))
    return (
        1 <= words <= HEADING_MAX_WORDS
        and len(line) <= HEADING_MAX_CHARS
        and any(c.isalpha() for c in line)
        and (_CLAUSE_END.search(line) is None or ends_with_abbreviation(line))
        and _DIALOGUE_START.match(line) is None
        and not line.startswith(("<", ">"))  # markup ("<!-- source_link=lib/fs.js -->"), a quotation
        and _LABELLED_VALUE.match(line) is None
        and not is_bullet_or_row(line)
    )


def _is_prose(paragraph: str, starts_sentence: bool = True) -> bool:
    """Twelve words or more with a sentence end (or a colon before a list), starting a sentence ("2 will
    ..." continues a line) unless `starts_sentence` is False (a list item may start anyhow)."""
    return (
        (not starts_sentence or _PROSE_START.match(paragraph) is not None)
        and len(_WORD.findall(paragraph)) >= PROSE_MIN_WORDS
        and _SENTENCE_INSIDE.search(paragraph) is not None
    )


def _heads_prose_list(text: str, paragraphs: list[tuple[int, int, bool]]) -> bool:
    """Whether `paragraphs` begin a list one of whose first items reads as prose: twelve words or more with
    a sentence end, whatever its first letter (release notes' ` * "git fetch" learned ...`): the short line
    over it names the list ("UI, Workflows & Features"). A shopping list's "- milk" is no prose."""
    for start, end, _ in paragraphs:
        item = first_item(text[start:end])
        if item is None:
            return False
        if _is_prose(item, starts_sentence=False):
            return True
    return False


def heading_text(text: str) -> str:
    """A heading's words: "## Dentist ##" -> "Dentist" ("## C#" keeps its "#"); a plain-text heading's
    ruled lines are left out ("Methods\n-------" -> "Methods"), a rubric's marks too ("-[ Footnotes ]-")."""
    lines = [line for line in text.splitlines() if line.strip() and not _RULE_LINE.fullmatch(line.strip())]
    kept = " ".join(lines) if lines else text
    if rubric := _RUBRIC.fullmatch(kept.strip()):
        return " ".join(rubric.group(1).split())
    return " ".join(_MD_CLOSING_HASHES.sub("", _MD_HEADING.sub("", kept.lstrip(), count=1)).split())


def heading_context(section: str) -> str:
    """A section heading as the passages under it read it: its text, and when it names camelCase identifiers
    (`` `http.createServer()` ``), their words apart after it ("http.create Server()"): a question asks to
    "create an HTTP server"."""
    split = _CAMEL_HUMP.sub(" ", section)
    return section if split == section else f"{section}\n{split}"


def _kind(text: str, is_heading: bool) -> PassageKind:
    if is_heading:
        return "heading"
    words = len(_WORD.findall(text))
    if words <= FRAGMENT_MAX_WORDS and not _states_something(text):
        return "fragment"
    return "text"


def _states_something(short: str) -> bool:
    """A short paragraph that is a statement, not page furniture: a sentence of three words or more
    ending in "." or "!" ("The basil failed.") or a labelled value ("Attendees: Ana, Bruno, Chen"), as
    notes are written. Not: "847/940", "You might also like", a question used as a subheading ("Talking to
    the FSA?"), a heading in capitals ("CHAPTER XXIV.", "THE BLACK BEAR.") or "Chapter VIII."."""
    line = " ".join(short.split())
    if not any(c.islower() for c in line):
        return False
    sentence = len(_WORD.findall(line)) >= 3 and _SENTENCE_STATEMENT.search(line) is not None
    return sentence or _LABELLED_VALUE.match(line) is not None


def _windows(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Overlapping windows of whole sentences (one sentence of overlap) covering text[start:end]."""
    units: list[tuple[int, int]] = []
    for s, e in sentence_spans(text, start, end):
        if len(text[s:e].split()) > WINDOW_TARGET_WORDS:
            units.extend(word_chunks(text, s, e, WINDOW_TARGET_WORDS))
        else:
            units.append((s, e))
    counts = [len(text[s:e].split()) for s, e in units]
    windows: list[tuple[int, int]] = []
    first = 0
    while first < len(units):
        last = first
        words = counts[first]
        while last + 1 < len(units) and words + counts[last + 1] <= WINDOW_TARGET_WORDS:
            last += 1
            words += counts[last]
        windows.append((units[first][0], units[last][1]))
        if last + 1 >= len(units):
            break
        # Overlap: start the next window at this window's last sentence, unless that makes no progress.
        first = last if last > first and counts[last] <= WINDOW_TARGET_WORDS // 2 else last + 1
    return windows


def cut_after_word(line: str, limit: int) -> str:
    """`line` (words separated by single spaces) cut to at most `limit` characters after a whole word; a
    first word longer than `limit` is cut at `limit`."""
    if len(line) <= limit:
        return line
    head = line[: limit + 1]
    return head.rsplit(" ", 1)[0] if " " in head else line[:limit]


def opening_words(text: str, limit: int = OPENING_MAX_CHARS) -> str:
    """The first words of `text` on one line, cut after a whole word within `limit` characters and marked
    with an ellipsis when cut: how a document without a title line is named to the user."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    return cut_after_word(line, limit).rstrip(",;:-–— ") + "…"


def split_document(text: str, file_name: str, known_title: str | None = None) -> SplitDocument:
    """Paragraphs (and windows of long paragraphs) of `text`, with the document title: `known_title`
    when the source has one, else the `title:` of a YAML front matter block, else a headline-like first
    line, else the file name. A front matter block is metadata: none of its lines becomes a passage."""
    lines = LineIndex(text)
    body, front_title = front_matter(text)
    raw = _paragraph_spans(text, body)
    title = PurePosixPath(file_name).stem
    title_from_text = False
    if known_title and known_title.strip():
        return _split(text, lines, raw, " ".join(known_title.split()), True, title_line=False)
    if front_title:
        return _split(text, lines, raw, front_title, True, title_line=False)
    if len(raw) > 1:
        s, e, is_heading = raw[0]
        first = text[s:e]
        if not is_heading and (named := _manual_page_name(text, raw)):
            title, title_from_text = named, True  # not its running header, "TAR(1)   GNU TAR Manual   TAR(1)"
        elif is_heading or _looks_like_title(first):
            title = heading_text(first) if is_heading else first
            title_from_text = True
    return _split(text, lines, raw, title, title_from_text, title_line=title_from_text)


def _manual_page_name(text: str, raw: list[tuple[int, int, bool]]) -> str | None:
    """A manual page's NAME line ("tar - an archiving utility") when the document opens as `man` prints one:
    a running header (the page's name at both ends of the first line) and, among the next headings, NAME
    (its text on one line, a word hyphenated across lines joined)."""
    s, e, _ = raw[0]
    if not _RUNNING_HEADER.fullmatch(text, s, e):
        return None
    for (hs, he, is_heading), (ns, ne, _) in zip(raw[1:4], raw[2:5], strict=False):
        if is_heading and heading_text(text[hs:he]) == "NAME":
            return cut_after_word(" ".join(join_broken_words(text[ns:ne]).split()), TITLE_MAX_CHARS) or None
    return None


def _tables_of_contents(text: str, raw: list[tuple[int, int, bool]]) -> set[int]:
    """Indices of the paragraphs that list the document's own headings: two lines or more, at least half
    of them naming a heading of the document ("|10.8| Changing case" for "*10.8* Changing case", "-
    [Installation](#installation)" for "## Installation"). A line names a heading when it holds all of the
    heading's words and at most `CONTENTS_EXTRA_WORDS` more (a number, a page, a link)."""
    by_word: dict[str, list[frozenset[str]]] = {}  # each heading's words, under its first word in order
    for s, e, is_heading in raw:
        if is_heading and (words := frozenset(_WORD.findall(heading_text(text[s:e]).lower()))):
            by_word.setdefault(min(words), []).append(words)
    if sum(len(headings) for headings in by_word.values()) < 2:
        return set()
    longest = max(len(words) for headings in by_word.values() for words in headings) + CONTENTS_EXTRA_WORDS
    found = set()
    for index, (s, e, is_heading) in enumerate(raw):
        if is_heading or text[e - 1] in _CLAUSE_MARKS or text.find("\n", s, e) < 0:
            continue  # a heading, prose (a table of contents ends with a title, a page or a link) or one line
        total = text.count("\n", s, e) + 1
        naming = misses = 0
        for a, b in _lines(text, s, e):
            if not (words := frozenset(_WORD.findall(text[a:b].lower()))):
                continue
            if len(words) <= longest and _names_a_heading(words, by_word):
                naming += 1
            elif 2 * (misses := misses + 1) > total:
                break  # at least half the lines name no heading
        else:
            if naming >= 2 and naming >= misses:
                found.add(index)
    return found


def _names_a_heading(words: frozenset[str], by_word: dict[str, list[frozenset[str]]]) -> bool:
    return any(
        heading <= words and len(words) <= len(heading) + CONTENTS_EXTRA_WORDS
        for word in words
        for heading in by_word.get(word, ())
    )


def _split(
    text: str,
    lines: LineIndex,
    raw: list[tuple[int, int, bool]],
    title: str,
    title_from_text: bool,
    title_line: bool,
) -> SplitDocument:
    passages: list[PassageSpan] = []
    contents = _tables_of_contents(text, raw)
    for ordinal, (s, e, is_heading) in enumerate(raw, start=1):
        if ordinal == 1 and title_line:
            kind: PassageKind = "title"
        elif ordinal - 1 in contents:
            kind = "fragment"  # kept for display, not searched: the sections it lists answer for themselves
        else:
            kind = _kind(text[s:e], is_heading)
        if kind == "text" and len(text[s:e].split()) > WINDOW_MAX_WORDS:
            for number, (ws, we) in enumerate(_windows(text, s, e), start=1):
                passages.append(PassageSpan(ordinal, number, ws, we, lines.line_of(ws), lines.line_of(we - 1), kind))
        else:
            passages.append(PassageSpan(ordinal, 0, s, e, lines.line_of(s), lines.line_of(e - 1), kind))
    return SplitDocument(title=title, title_from_text=title_from_text, passages=tuple(passages))
