"""Split text into sentences with exact character offsets (no model, deterministic)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from index.tables import TABLE_ROW

# An end mark, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_NEXT_START = re.compile(r"\s+[\"'“‘«(\[]*[\w\d]")
_WORD_BEFORE = re.compile(r"([\w.]+)$")
# Lines of notes and Markdown that hold one statement each, often without a full stop: a list item ("- ",
# "* ", "+ ", "• ", "1. ", "2) ") and a table row ("| ... |").
_ITEM = re.compile(r"[ \t]*(?:(?P<bullet>[-*+•])|(?P<number>\d{1,3}[.)]))[ \t]+(?=\S)")
_FENCE_LINE = re.compile(r"[ \t]*(```|~~~)")  # a Markdown code block opens or closes on such a line
_NEWLINE = re.compile(r"\n")
_NON_SPACE = re.compile(r"\S+")
_LINE_CLOSED = re.compile(r"[.!?…:;|][\"'”’»)\]*`]*$")  # a line ending so does not run on into the next
WRAPPED_ITEM_CHARS = 60  # an item's line this long, without a closing mark, was wrapped
_CUT_AFTER = frozenset(",;:)]")  # a word ending so ends a clause: a run-on sentence may be cut there
_WORD_CHAR = re.compile(r"[^\W_]")  # a letter or digit
_LINE_TEXT = re.compile(r"[^\n]+")  # a non-empty line
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st sr jr gen col lt sgt capt cmdr adm gov sen rep rev hon pres
    inc ltd co corp bros no nos vol vs etc al fig approx dept est jan feb mar apr jun jul aug sep sept
    oct nov dec mt ft e.g i.e u.s u.k u.n a.m p.m""".split()
)


def _word_before(text: str, end: int) -> str:
    """The word (dots included, trailing ones dropped, lowercased) right before the period at `end`."""
    match = _WORD_BEFORE.search(text, max(0, end - 12), end)
    return match.group(1).rstrip(".").lower() if match is not None else ""


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the period ending at `end` belongs to an abbreviation or an initial."""
    word = _word_before(text, end)
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Smith"
    return word in _ABBREVIATIONS


def ends_with_abbreviation(line: str) -> bool:
    """Whether `line` ends with an abbreviation's period ("... Development Support etc."), not an initial's."""
    line = line.rstrip()
    return line.endswith(".") and _word_before(line, len(line) - 1) in _ABBREVIATIONS


# bump when the spans a text splits into change: stored vectors follow them (2: list items and table rows;
# 3: a fenced code block is one sentence; 4: each of its lines is one; 5: its opening fence's language too;
# 6: a list item wrapped without a hanging indent goes on to its next line)
SENTENCES_VERSION = "sentences/6"


def sentences_of(text: str) -> list[tuple[int, int]]:
    """The sentences of a passage: its `sentence_spans`, or the whole text when it has none."""
    return sentence_spans(text) or [(0, len(text))]


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of `text[start:end]` as (char_start, char_end) pairs, trimmed of whitespace: split at
    end marks, and at the line breaks around list items and table rows; a fenced code block's sentences are
    its lines."""
    stop = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for piece_start, piece_end, code in _line_pieces(text, start, stop):
        spans.extend(_code_lines(text, piece_start, piece_end) if code else _punctuated(text, piece_start, piece_end))
    return spans


def _code_lines(text: str, start: int, stop: int) -> list[tuple[int, int]]:
    """The lines of a fenced code block (`text[start:stop]`), each a sentence of its own as a list item is:
    not its blank lines, nor a fence without words (an opening fence's language, "```mjs", is kept: every
    word of a passage is in one of its sentences)."""
    spans: list[tuple[int, int]] = []
    for line in _LINE_TEXT.finditer(text, start, stop):
        if not fence_at(text, *line.span()) or _WORD_CHAR.search(text, *line.span()):
            spans.extend(_trimmed(text, *line.span()))
    return spans


def is_bullet_or_row(line: str) -> bool:
    """Whether `line` is a bulleted list item ("- milk") or a table row ("| a | b |")."""
    item = _ITEM.match(line)
    return TABLE_ROW.match(line) is not None or (item is not None and item["bullet"] is not None)


def item_number(line: str) -> int | None:
    """The number of the numbered list item `line` starts with ("2. define a name" -> 2), else None."""
    item = _ITEM.match(line)
    return None if item is None or item["number"] is None else int(item["number"][:-1])


def first_item(paragraph: str) -> str | None:
    """The text of the list item `paragraph` starts with (its marker left out, up to the next item), or None
    when it starts with no list item: "- milk\n- eggs" -> "milk"."""
    item = _ITEM.match(paragraph)
    if item is None:
        return None
    lines = paragraph[item.end() :].split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        if _ITEM.match(line) or TABLE_ROW.match(line):
            break
        kept.append(line)
    return "\n".join(kept)


def fence_at(text: str, start: int, end: int) -> str:
    """The fence ("```" or "~~~") the line text[start:end] begins with after its indentation, or ""."""
    found = _FENCE_LINE.match(text, start, end)
    return found.group(1) if found else ""


def opened_fence(text: str, start: int, end: int) -> str:
    """The fence the line text[start:end] opens a code block with: `fence_at`, unless the line closes it too
    (```inline```)."""
    found = _FENCE_LINE.match(text, start, end)
    return found.group(1) if found and text.find(found.group(1), found.end(), end) < 0 else ""


def is_code_block(text: str) -> bool:
    """Whether `text` (a passage) opens with a fenced code block's fence."""
    return _FENCE_LINE.match(text) is not None


def line_breaks(text: str) -> list[int]:
    """Where a rendering of `text` should start a new line: at every line that starts a list item or a
    table row, and at the line after one (the line starts of `sentence_spans`' line pieces), and at every
    line of a fenced code block."""
    breaks: list[int] = []
    for number, (start, end, code) in enumerate(_line_pieces(text, 0, len(text))):
        if number:
            breaks.append(text.rfind("\n", 0, start) + 1)
        if code:
            breaks.extend(newline.end() for newline in _NEWLINE.finditer(text, start, end))
    return breaks


def _line_pieces(text: str, start: int, stop: int) -> list[tuple[int, int, bool]]:
    """`text[start:stop]` cut before every line that starts a list item or a table row, and after every
    table row and every list item whose next line is not indented (a wrapped item's next line is). A fenced
    code block (from a line starting with ```` ``` ```` or `~~~` to the same fence) is one piece, marked
    True: its sentences are its lines (`_code_lines`), not its full stops or its lines starting with "-"."""
    pieces: list[tuple[int, int, bool]] = []
    piece = line = start
    in_code = False  # the current piece is a fenced code block
    previous = ""  # kind of the previous line: "item", "row", "code" (a closing fence) or "" (text)
    previous_line = start  # where the previous line starts
    fence = ""  # the fence of the code block we are in
    while line < stop:
        line_end = text.find("\n", line, stop)
        line_end = stop if line_end < 0 else line_end
        if fence:  # a line of a code block stays in its piece
            if fence_at(text, line, line_end) == fence:
                fence, previous = "", "code"
            line = line_end + 1
            continue
        opening = opened_fence(text, line, line_end)
        kind = "code" if opening else _line_kind(text, line, line_end, previous)
        indented = text[line : line + 1] in (" ", "\t")
        wrapped = previous == "item" and not kind and _runs_on(text, previous_line, line, line_end)
        if line > start and (
            kind or previous in ("row", "code") or (previous == "item" and not indented and not wrapped)
        ):
            pieces.append((piece, line, in_code))
            piece, in_code = line, False
        if opening:
            fence, in_code = opening, True
            line = line_end + 1
            continue
        if kind == "item" and piece == line and (bullet := _ITEM.match(text, line, line_end)) and bullet["bullet"]:
            piece = bullet.end()  # the sentence is the item's words, without its bullet
        if kind or not (indented and previous == "item"):  # an indented line continues the item above it
            previous = kind
        previous_line, line = line, line_end + 1
    pieces.append((piece, stop, in_code))
    return pieces


def closes_line(line: str) -> bool:
    """Whether `line` (trailing whitespace stripped) ends a statement, a clause or a table row, closing
    quotes, brackets and Markdown emphasis aside: the next line does not continue it."""
    return _LINE_CLOSED.search(line) is not None


def _runs_on(text: str, item_start: int, line: int, line_end: int) -> bool:
    """Whether the line at `line` goes on with the sentence of the list item on the line before it, wrapped
    without a hanging indent, as numbered clauses of a license are ("  1. You may copy and distribute
    verbatim copies of the Program's\nsource code as you receive it, ..."): the item's line ends without a
    closing mark, and the line starts with a small letter, or the item's line is as long as a wrapped one."""
    item = text[item_start : line - 1].rstrip()
    if not item or closes_line(item) or not text[line:line_end].strip():
        return False
    first = text[line]
    return first.islower() or (first.isalpha() and len(item) >= WRAPPED_ITEM_CHARS)


def _line_kind(text: str, start: int, end: int, previous: str) -> str:
    """The line text[start:end]'s kind: "item", "row" or "" (text). A numbered item needs a complete line
    before it ("Steps:", a sentence, an item or an empty line): "dioxygen, O\n2. ..." is a wrapped subscript."""
    if TABLE_ROW.match(text, start, end):
        return "row"
    item = _ITEM.match(text, start, end)
    if item is None:
        return ""
    if item.group("number") and previous != "item":
        before = text[text.rfind("\n", 0, max(start - 1, 0)) + 1 : max(start - 1, 0)].rstrip()
        if before and before[-1] not in ".:!?;…":
            return ""
    return "item"


def _punctuated(text: str, start: int, stop: int) -> list[tuple[int, int]]:
    """Sentences of `text[start:stop]` split at end marks ("." not after an abbreviation or an initial,
    "!", "?", "…") followed by a sentence start."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, stop):
        boundary = match.end()
        mark = text[match.start()]
        if mark == "." and match.end() - match.start() == 1 and _is_abbreviation(text, match.start()):
            continue
        if (
            mark == "."
            and cursor == start
            and (item := _ITEM.match(text, start, stop))
            and item.end("number") == boundary
        ):
            continue  # the "1." that numbers the list item this piece is
        following = _NEXT_START.match(text, boundary, stop)
        if following is None:
            continue
        next_char = text[following.end() - 1]
        if next_char.islower():
            continue
        spans.extend(_trimmed(text, cursor, boundary))
        cursor = boundary
    spans.extend(_trimmed(text, cursor, stop))
    return spans


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield (start, end)


def word_chunks(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Cut `text[start:end]` into pieces of at most `max_words` whitespace-separated words, each (but the
    last) cut after the last clause end among its final third of words when it has one (a word ending in
    "," ";" ":" or a closing bracket), so that a run-on sentence's pieces start at a clause, not mid-phrase."""
    words = [m.span() for m in _NON_SPACE.finditer(text, start, end)]
    chunks: list[tuple[int, int]] = []
    first = 0
    while first < len(words):
        last = min(first + max_words, len(words)) - 1
        if last < len(words) - 1:
            floor = first + max_words - max(1, max_words // 3)
            last = next((j for j in range(last, floor - 1, -1) if text[words[j][1] - 1] in _CUT_AFTER), last)
        chunks.append((words[first][0], words[last][1]))
        first = last + 1
    return chunks
